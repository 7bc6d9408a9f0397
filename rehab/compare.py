"""Comparing protocol variants: across people (mixed-effects growth) and within one person (A/B).

Both comparisons start from the **phases** table (participant, start, end, protocol, phase), which
says who followed which protocol when, and from one **outcome** turned into points in time
(:func:`outcome_points`):

* ``outcome="pain"``: weekly means of the diary's morning pain (NRS 0-10; lower is better). Weeks
  are counted from each phase's start, so a week never straddles a phase change; a week needs at
  least ``min_days`` diary days (default 3). Morning pain is the entry least touched by the day's
  session (docs/SCIENCE.md, "next-morning response").
* ``outcome=<test id>`` (e.g. ``sorensen_hold``): one point per test day, the day's best attempt
  (:func:`rehab.features.test_series`; higher is better).

Phase labels come from the ``phase`` column when it holds A/B labels (``A``, ``B``, ``A1``,
``B2``...); otherwise the first protocol is A and the other one B.

**Across people** (:func:`cohort_comparison`): each participant's comparison window is their first
B phase (their assigned variant; the A phases before it are the lead-in). Two models, both
:func:`rehab.models.cohort.fit_growth` (MixedLM, random intercept and slope per person):

* *slope*: value ~ protocol × weeks in the window. The protocol × time coefficient is the
  difference in average slope per week between a variant and the reference. Weeks are counted
  from the window's mean week, so the intercept and protocol terms are levels there (fit_growth
  standardises time for its optimiser itself and reports slopes per week).
* *gain*: value ~ protocol × period, with period 0 = the lead-in and 1 = the last
  ``plateau_weeks`` (default 8) weeks of the window; the protocol × period coefficient is the
  difference in gain from the lead-in to the end, the quantity a saturating training response
  (Verna et al.) is best summarised by.

Differences between two non-reference variants are contrasts of the fixed effects with their
covariance (Wald, normal quantile, as statsmodels reports the fixed effects). Per person, the
lead-in (A) against the window (B) gives the single-case effect sizes of
:func:`rehab.sced.effect_sizes_batch` (SingleCaseES definitions); their distribution by variant is
tabulated. MixedLM assumes independent, constant-variance residuals: weekly pain means are
serially correlated and a saturating curve is not a line, so the intervals are optimistic
(docs/SCIENCE.md, "Mixed models").

**Within one person** (:func:`phase_comparison`): the A/B (or ABAB...) series of one participant:
effect sizes (:func:`rehab.sced.effect_sizes`), Huitema & McKean (2000) piecewise regression
(:func:`rehab.sced.piecewise_regression`) and the Edgington/Onghena phase-start randomization test
(:func:`rehab.sced.randomization_test`), with the caveats that apply (autocorrelation, short
phases, carry-over, an AB design's lack of replication). Beside them: the conservative dual
criterion of each A-B pair (:func:`rehab.sced.cdc`, Fisher, Kelley & Lomas 2003), the Bayesian
level difference of B over A in the outcome's units with the probability of at least the
minimal important change (:func:`rehab.sced.bayes_effect`; pain: 2 NRS points, Ostelo 2008) and
how it moved week by week, and, when the phase changes were drawn by ``rehab plan``
(``plan=``), the randomization test over the plan's own admissible set with the deviations of
the logged phases from the plan (:func:`rehab.plan.planned_test`). :func:`month_phase_change_summary` is
what the monthly report shows for a month in which a phase starts.

Phase-length standard: Kratochwill et al. (2010), What Works Clearinghouse "Single-case designs
technical documentation": at least 5 points a phase meets the standard, 3-4 with reservations,
and three demonstrations of an effect (e.g. ABAB) are needed for experimental control.

Nothing runs on import.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import altair as alt
import numpy as np
import polars as pl
from scipy import stats

from rehab import sced
from rehab.features import daily_pain, month_range, test_series
from rehab.models.cohort import DEFAULT_REFERENCE, GrowthResult, fit_growth
from rehab.norms import MIC_NRS_POINTS
from rehab.paths import check_month, check_participant
from rehab.plan import Plan, PlanAnalysis, PlanError, planned_test
from rehab.plots import test_label
from rehab.schema import DEFAULT_PARTICIPANT, TIDY_SCHEMA, unit_for_test

__all__ = [
    "KEY_MEASURES",
    "PAIN",
    "CohortComparison",
    "ComparisonError",
    "MonthPhaseChange",
    "PhaseComparison",
    "cohort_comparison",
    "delay_text",
    "comparison_problems",
    "demo_recovery",
    "month_phase_change_summary",
    "outcome_points",
    "phase_comparison",
    "phase_segments",
]

PAIN = "pain"
MIN_WEEK_DAYS = 3  # a weekly pain point needs this many diary days
PLATEAU_WEEKS = 8.0  # the gain model's late window: the last 8 weeks of the comparison phase
WWC_MIN_POINTS = 5  # Kratochwill et al. 2010: 5 points a phase meet the standard
WWC_RESERVED_POINTS = 3  # ... and 3-4 points meet it with reservations
AR1_MIN_POINTS = 20  # ar1=None: AR(1) errors in the piecewise model from this many points on
KEY_MEASURES = ("NAP", "Tau_BC", "SMD_pooled")  # the effect sizes shown first (all are computed)
MEASURE_TEXT = {
    "NAP": "non-overlap of all pairs: share of A-B pairs in which B is better (0.5 = no effect)",
    "Tau": "2 NAP - 1 (0 = no effect, 1 = every B point better than every A point)",
    "Tau_BC": "Tau after removing the Theil-Sen trend of phase A (Tarlow 2017)",
    "SMD_pooled": "Hedges' g with the pooled within-phase SD",
    "SMD_baseline": "Hedges' g with the SD of phase A",
    "PND": "share of B points better than the best A point (Scruggs et al. 1987)",
    "LRRi": "log response ratio, positive = improvement",
}
_PHASE_LABEL = re.compile(r"^([AaBb])\d*$")
_DIFF_SCHEMA = {
    "protocol": pl.String(),
    "reference": pl.String(),
    "estimate": pl.Float64(),
    "std_error": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "p_value": pl.Float64(),
}

_POINT_SCHEMA = {
    "participant": pl.String(),
    "segment": pl.Int64(),
    "phase": pl.String(),
    "protocol": pl.String(),
    "date": pl.Date(),
    "weeks": pl.Float64(),
    "weeks_in_phase": pl.Float64(),
    "value": pl.Float64(),
    "n": pl.Int64(),
}
_ES_SCHEMA = {
    "participant": pl.String(),
    "protocol": pl.String(),
    "n_a": pl.Int64(),
    "n_b": pl.Int64(),
    "measure": pl.String(),
    "estimate": pl.Float64(),
    "std_error": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "note": pl.String(),
}

CAVEAT_AUTOCORRELATION = (
    "Autocorrelation: neighbouring points resemble each other (weekly pain especially). The effect "
    "sizes' intervals and the randomization test treat points as exchangeable, so they are too "
    "optimistic when the lag-1 autocorrelation is clearly positive; the AR(1) piecewise fit allows "
    "for it."
)
CAVEAT_CARRY_OVER = (
    "Carry-over: what phase A trained does not vanish when B starts (there is no wash-out), and "
    "endurance gained in B does not reverse when A returns, so a return to A need not bring the "
    "values back; the comparison then understates, or mixes, the protocols' effects."
)
CAVEAT_AB = (
    "An AB design has one phase change: time itself (natural recovery, regression to the mean "
    "after a bad spell, the novelty of a new plan) changes with the protocol and cannot be told "
    "apart from it. Experimental control needs at least three demonstrations, e.g. ABAB "
    "(Kratochwill et al. 2010)."
)
CAVEAT_RANDOM_START = (
    "The randomization test's p-value is a test only if the phase-change dates were drawn at random "
    "in advance among the admissible ones; when they were chosen by hand it is a descriptive "
    "reference."
)
CAVEAT_COHORT = (
    "MixedLM assumes independent, constant-variance residuals within a person; weekly pain is "
    "serially correlated and endurance saturates rather than growing in a line, so the intervals "
    "are optimistic. A slope is the average change per week over the window analysed. Variants "
    "compared across people are only as comparable as the way people came to follow them "
    "(random assignment in the demo cohort; rarely so in real logs)."
)


class ComparisonError(ValueError):
    """A comparison that cannot be made with these data or arguments (the message says why)."""


# --- inputs ----------------------------------------------------------------------------------------


def _frame(data: Any, name: str) -> pl.DataFrame:
    """A table (``diary``, ``tests``, ``phases``) of a Dataset-like object (Dataset, DemoData,
    MonthReport): anything with those attributes."""
    df = getattr(data, name, None)
    if not isinstance(df, pl.DataFrame):
        raise ComparisonError(
            f"expected a dataset with a {name!r} table (rehab.io.load_project(), "
            f"rehab.demo.simulate(...)); got {type(data).__name__}"
        )
    if "participant" not in df.columns:
        df = df.with_columns(pl.lit(DEFAULT_PARTICIPANT).alias("participant"))
    return df


def _check_confidence(confidence: float) -> None:
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not (0 < confidence < 1)
    ):
        raise ComparisonError(
            f"confidence={confidence!r} is not allowed: give a number between 0 and 1, e.g. 0.95"
        )


def _check_outcome(outcome: str) -> tuple[str, str]:
    """(unit, improvement) of an outcome: pain (NRS points, lower is better) or a test id."""
    if not isinstance(outcome, str) or not outcome:
        raise ComparisonError(
            f"outcome={outcome!r} is not allowed: use 'pain' or a test id such as 'sorensen_hold'"
        )
    if outcome == PAIN:
        return "NRS points", "decrease"
    return unit_for_test(outcome), "increase"


def pain_label(moment: str) -> str:
    """How weekly pain points of diary ``moment`` entries are named in text."""
    return "weekly pain" if moment == "all" else f"weekly {moment} pain"


def _outcome_label(outcome: str, moment: str) -> str:
    return pain_label(moment) if outcome == PAIN else test_label(outcome)


def _points_or_all(
    data: Any,
    notes: list[str],
    *,
    outcome: str,
    participant: str | None,
    moment: str,
    min_days: int,
) -> tuple[pl.DataFrame, str]:
    """Outcome points; when a diary marks no entry ``morning``, every entry is used instead
    (with a note), so that diaries without moments still compare."""
    pts = outcome_points(
        data, outcome=outcome, participant=participant, moment=moment, min_days=min_days
    )
    if outcome == PAIN and moment == "morning" and pts.height == 0:
        every = outcome_points(
            data, outcome=outcome, participant=participant, moment="all", min_days=min_days
        )
        if every.height:
            notes.append(
                "no diary entry is marked 'morning': weekly means of all entries are used instead"
            )
            return every, "all"
    return pts, moment


def phase_segments(phases: pl.DataFrame, participant: str | None = None) -> pl.DataFrame:
    """The phases table as ordered, labelled segments per participant.

    Columns: participant, segment (0, 1, ... in time order), phase ("A" or "B"), protocol, start,
    end (inclusive; an empty end runs to the day before the next phase, the last one stays open).
    Labels come from the ``phase`` column when every row of the participant holds an A/B label
    (``A``, ``B``, ``A1``, ``B2``...); otherwise the first protocol is A and the other B (a third
    protocol is an error: set the phase column to say which are A and which B). Consecutive rows
    with the same label and protocol are merged; overlapping phases are an error."""
    if not isinstance(phases, pl.DataFrame):
        raise ComparisonError(f"phases must be a polars DataFrame, got {type(phases).__name__}")
    missing = [c for c in ("start", "protocol") if c not in phases.columns]
    if missing:
        raise ComparisonError(f"the phases table lacks column(s) {', '.join(missing)}")
    ph = phases
    if "participant" not in ph.columns:
        ph = ph.with_columns(pl.lit(DEFAULT_PARTICIPANT).alias("participant"))
    for col, dtype in (("end", pl.Date()), ("phase", pl.String())):
        if col not in ph.columns:
            ph = ph.with_columns(pl.lit(None, dtype=dtype).alias(col))
    if participant is not None:
        ph = ph.filter(pl.col("participant") == participant)
    ph = ph.filter(pl.col("start").is_not_null() & pl.col("protocol").is_not_null())
    rows: list[dict] = []
    for (pid,), g in ph.sort("participant", "start").group_by(["participant"], maintain_order=True):
        recs = g.select("start", "end", "protocol", "phase").to_dicts()
        given = [_PHASE_LABEL.match(str(r["phase"] or "")) for r in recs]
        if all(given):
            labels = [m.group(1).upper() for m in given]
        else:
            order = list(dict.fromkeys(r["protocol"] for r in recs))
            if len(order) > 2:
                raise ComparisonError(
                    f"participant {pid!r} followed {len(order)} protocols ({', '.join(order)}) and "
                    "the phases table's phase column does not say which are A and which B: set it "
                    "to A/B (or A1, B1, A2, B2...)"
                )
            labels = ["A" if r["protocol"] == order[0] else "B" for r in recs]
        merged: list[dict] = []
        for r, lab in zip(recs, labels, strict=True):
            if merged and merged[-1]["phase"] == lab and merged[-1]["protocol"] == r["protocol"]:
                merged[-1]["end"] = r["end"]
                continue
            merged.append(
                {
                    "participant": pid,
                    "phase": lab,
                    "protocol": r["protocol"],
                    "start": r["start"],
                    "end": r["end"],
                }
            )
        for i, seg in enumerate(merged):
            nxt = merged[i + 1]["start"] if i + 1 < len(merged) else None
            if nxt is not None and (seg["end"] is None or seg["end"] >= nxt):
                if seg["end"] is not None and seg["end"] >= nxt:
                    raise ComparisonError(
                        f"participant {pid!r}: the phase starting {seg['start']} ends {seg['end']}, "
                        f"after the next phase starts ({nxt}); phases must not overlap"
                    )
                seg["end"] = nxt - timedelta(days=1)
            seg["segment"] = i
            rows.append(seg)
    schema = {
        "participant": pl.String(),
        "segment": pl.Int64(),
        "phase": pl.String(),
        "protocol": pl.String(),
        "start": pl.Date(),
        "end": pl.Date(),
    }
    return pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)


def _attach_segments(df: pl.DataFrame, segments: pl.DataFrame) -> pl.DataFrame:
    """Each dated row with its participant's segment (rows outside every phase are dropped)."""
    return df.join(segments, on="participant", how="inner").filter(
        (pl.col("date") >= pl.col("start"))
        & (pl.col("end").is_null() | (pl.col("date") <= pl.col("end")))
    )


def _before_the_phases(data: Any, participant: str, outcome: str) -> str | None:
    """A note on the outcome's days logged before the participant's first phase (a baseline
    test the day before the plan starts): only points inside a phase are compared, and those
    are left out, which is said rather than done silently."""
    phases = data.phases.filter(pl.col("participant") == participant)
    if phases.height == 0:
        return None
    first = phases["start"].min()
    if outcome == PAIN:
        table, kind = data.diary, "diary day"
        rows = table.filter(pl.col("pain").is_not_null()) if "pain" in table.columns else table
    else:
        table, kind = data.tests, f"{outcome} test day"
        rows = table.filter(pl.col("test") == outcome)
    n = rows.filter((pl.col("participant") == participant)
                    & (pl.col("date") < first))["date"].n_unique()
    if not n:
        return None
    return (f"{n} {kind}{'s' if n != 1 else ''} before the first phase (which starts "
            f"{first:%d %b %Y}) {'are' if n != 1 else 'is'} not in the comparison: only points "
            "inside a phase are compared")


def outcome_points(
    data: Any,
    *,
    outcome: str = PAIN,
    participant: str | None = None,
    moment: str = "morning",
    min_days: int = MIN_WEEK_DAYS,
) -> pl.DataFrame:
    """The outcome as points in time, each inside one phase (see the module docstring).

    ``data``: a Dataset-like object with ``phases`` and ``diary`` (pain) or ``tests`` tables.
    Pain points are weekly means of the daily mean pain of ``moment`` entries (``"all"`` for every
    entry) in weeks counted from the phase start, kept when they hold ``min_days`` diary days or
    more; test points are each test day's best attempt.

    Columns: participant, segment, phase (A/B), protocol, date (the point's first day), weeks
    (the mean time of the point in weeks since the participant's first phase start),
    weeks_in_phase (the same since its own phase's start), value, n (diary days or attempts).
    """
    _check_outcome(outcome)
    if isinstance(min_days, bool) or not isinstance(min_days, int) or not 1 <= min_days <= 7:
        raise ComparisonError(f"min_days={min_days!r} is not allowed: give a whole number 1-7")
    segments = phase_segments(_frame(data, "phases"), participant)
    first = segments.group_by("participant").agg(pl.col("start").min().alias("first_start"))
    if outcome == PAIN:
        diary = _frame(data, "diary")
        if participant is not None:
            diary = diary.filter(pl.col("participant") == participant)
        try:
            daily = daily_pain(diary, moment=moment)
        except ValueError as e:
            raise ComparisonError(str(e)) from None
        days = _attach_segments(
            daily.select("participant", "date", pl.col("pain").alias("v")), segments
        )
        days = days.with_columns((pl.col("date") - pl.col("start")).dt.total_days().alias("_d"))
        pts = (
            days.group_by(
                "participant",
                "segment",
                "phase",
                "protocol",
                "start",
                (pl.col("_d") // 7).alias("_week"),
            )
            .agg(
                pl.col("v").mean().alias("value"),
                pl.len().cast(pl.Int64).alias("n"),
                (pl.col("_d").mean() / 7.0).alias("weeks_in_phase"),
            )
            .filter(pl.col("n") >= min_days)
            .with_columns((pl.col("start") + pl.duration(days=pl.col("_week") * 7)).alias("date"))
        )
    else:
        tests = _frame(data, "tests")
        if participant is not None:
            tests = tests.filter(pl.col("participant") == participant)
        series = (
            test_series(tests, test_ids=[outcome])
            if tests.height
            else pl.DataFrame(
                schema={
                    "participant": pl.String(),
                    "date": pl.Date(),
                    "value": pl.Float64(),
                    "attempts": pl.Int64(),
                }
            )
        )
        pts = _attach_segments(
            series.select("participant", "date", "value", "attempts"), segments
        ).with_columns(
            ((pl.col("date") - pl.col("start")).dt.total_days() / 7.0).alias("weeks_in_phase"),
            pl.col("attempts").cast(pl.Int64).alias("n"),
        )
    out = pts.join(first, on="participant", how="left").with_columns(
        (
            (pl.col("start") - pl.col("first_start")).dt.total_days() / 7.0
            + pl.col("weeks_in_phase")
        ).alias("weeks")
    )
    return out.select([pl.col(c).cast(t) for c, t in _POINT_SCHEMA.items()]).sort(
        "participant", "weeks"
    )


# --- across people ---------------------------------------------------------------------------------


def _tests_as_data(tests: pl.DataFrame) -> Any:
    """A tests frame that carries ``protocol`` (and optionally an A/B ``phase``) as a dataset."""
    need = [c for c in ("date", "test", "value", "protocol") if c not in tests.columns]
    if need:
        raise ComparisonError(
            f"a tests frame needs column(s) {', '.join(need)} (protocol per row; "
            "or pass a dataset with a phases table)"
        )
    t = (
        tests
        if "participant" in tests.columns
        else tests.with_columns(pl.lit(DEFAULT_PARTICIPANT).alias("participant"))
    )
    phase = pl.col("phase") if "phase" in t.columns else pl.lit("B")
    phases = (
        t.with_columns(phase.fill_null("B").alias("phase"))
        .group_by("participant", "phase", "protocol")
        .agg(pl.col("date").min().alias("start"), pl.col("date").max().alias("end"))
    )
    return _Frames(
        tests=t,
        diary=pl.DataFrame(
            schema={"participant": pl.String(), "date": pl.Date(), "pain": pl.Float64()}
        ),
        phases=phases,
    )


@dataclass(frozen=True)
class _Frames:
    """The tables a comparison reads (a Dataset restricted, e.g., up to a month's end)."""

    tests: pl.DataFrame
    diary: pl.DataFrame
    phases: pl.DataFrame


def _windows(points: pl.DataFrame) -> pl.DataFrame:
    """Per participant: the comparison window (first B segment, else the last segment)."""
    first_b = (
        points.filter(pl.col("phase") == "B")
        .group_by("participant")
        .agg(pl.col("segment").min().alias("window"))
    )
    last = points.group_by("participant").agg(pl.col("segment").max().alias("_last"))
    return last.join(first_b, on="participant", how="left").select(
        "participant", pl.coalesce("window", "_last").alias("window")
    )


def _contrasts(fit: GrowthResult, suffix: str, z: float) -> pl.DataFrame:
    """Every pair of protocols: b[a] - b[b] of the protocol × time terms (per unit of the fit's
    time).

    The fit's own rows give each variant against the reference; pairs of two non-reference
    variants use the fixed-effect covariance: Var(b1 - b2) = V11 + V22 - 2 V12 (Wald)."""
    if not fit.usable or fit.fe_cov.height == 0:
        return pl.DataFrame(schema=_DIFF_SCHEMA)
    fe = dict(fit.tidy.select("term", "estimate").iter_rows())
    cov = {r.pop("term"): r for r in fit.fe_cov.iter_rows(named=True)}
    others = [p for p in fit.protocols if p != fit.reference]
    rows = []
    for a in others:
        name = f"protocol[{a}]:{suffix}"
        rows.append((a, fit.reference, float(fe[name]), math.sqrt(float(cov[name][name]))))
    for a, b in itertools.combinations(others, 2):
        na, nb = f"protocol[{a}]:{suffix}", f"protocol[{b}]:{suffix}"
        var = float(cov[na][na] + cov[nb][nb] - 2 * cov[na][nb])
        # the later variant in sorted order first, so that the pair reads like the generator's
        # "shit-3x - shit"
        rows.append((b, a, float(fe[nb] - fe[na]), math.sqrt(max(var, 0.0))))
    out = []
    for a, b, est, se in rows:
        if se > 0:
            out.append(
                (a, b, est, se, est - z * se, est + z * se, 2 * stats.norm.sf(abs(est / se)))
            )
        else:  # a degenerate covariance: no interval, no p-value (None, never NaN)
            out.append((a, b, est, se, None, None, None))
    return pl.DataFrame(out, schema=_DIFF_SCHEMA, orient="row")


def _interaction_tidy(fit: GrowthResult, centre: float) -> pl.DataFrame:
    """The slope model's tidy table with its terms named in weeks: slopes and slope differences
    per week; intercept and protocol terms are levels at the window's mean week ``centre`` (the
    fit's time origin)."""
    if not fit.usable:
        return pl.DataFrame(schema=TIDY_SCHEMA)
    rows = []
    for r in fit.tidy.iter_rows(named=True):
        term = r["term"]
        if term == "time" or term.endswith(":time") or term == "sd(participant slope)":
            term = term.replace("time", "weeks").replace(
                "participant slope", "participant slope per week"
            )
        elif term == "intercept" or term.startswith("protocol["):
            term = f"{term} at week {centre:.1f}"
        rows.append(
            (term, *[r[c] for c in ("estimate", "std_error", "ci_low", "ci_high")], r["p_value"])
        )
    return pl.DataFrame(rows, schema=TIDY_SCHEMA, orient="row")


@dataclass(frozen=True)
class CohortComparison:
    """Result of :func:`cohort_comparison`.

    ``status`` is the slope model's ("ok", "random_intercept_only", "not_converged",
    "too_little_data", "fit_failed") and ``message`` says why when it is not ok; only with
    :attr:`usable` (the first two) are there estimates to show.

    Tables (polars): ``slope_difference`` and ``gain_difference`` (protocol, reference, estimate,
    std_error, ci_low, ci_high, p_value; every pair of variants; slopes per week), ``interaction``
    (the slope model's fixed and random effects with time in weeks: term, estimate, std_error,
    ci_low, ci_high, p_value), ``per_person`` (one row per participant and effect-size measure:
    participant, protocol, n_a, n_b, measure, estimate, std_error, ci_low, ci_high, note),
    ``distribution`` (per protocol and measure: n, mean, sd, ci_low, ci_high of the mean
    (t-interval), median, q25, q75, min, max), ``participants`` (participant, protocol, n_lead_in,
    n_window), ``points`` (the data, see :func:`outcome_points`, with ``window``: True inside the
    comparison window). ``slope_fit`` and ``gain_fit`` are the :class:`GrowthResult` fits (the slope
    fit's time is weeks since the window's mean week ``time_centre``; use the tables above).
    """

    outcome: str
    unit: str
    moment: str
    improvement: str
    status: str
    message: str
    reference: str | None
    protocols: tuple[str, ...]
    slope_difference: pl.DataFrame
    gain_difference: pl.DataFrame
    interaction: pl.DataFrame
    per_person: pl.DataFrame
    distribution: pl.DataFrame
    participants: pl.DataFrame
    points: pl.DataFrame = field(repr=False)
    slope_fit: GrowthResult = field(repr=False)
    gain_fit: GrowthResult | None = field(repr=False)
    time_centre: float
    plateau_weeks: float
    confidence: float
    notes: tuple[str, ...]

    @property
    def usable(self) -> bool:
        """True when the slope model gave estimates and intervals to show (status "ok" or
        "random_intercept_only"); otherwise ``message`` says why there are none."""
        return self.slope_fit.usable

    @property
    def slope_unit(self) -> str:
        return f"{self.unit}/week"

    def summary(self) -> str:
        """Plain-text summary (no dates)."""
        what = _outcome_label(self.outcome, self.moment)
        counts = self.participants.group_by("protocol").len().sort("protocol")
        lines = [
            f"Protocol comparison across participants: {what} ({self.unit}); "
            + ", ".join(f"{r['protocol']} n={r['len']}" for r in counts.iter_rows(named=True)),
            f"status: {self.status}" + (f" - {self.message}" if self.message else ""),
        ]
        pct = f"{self.confidence:.0%}"
        for title, tab, unit in (
            ("slope difference", self.slope_difference, self.slope_unit),
            (
                f"gain difference (lead-in to the last {self.plateau_weeks:g} weeks)",
                self.gain_difference,
                self.unit,
            ),
        ):
            for r in tab.iter_rows(named=True):
                # a degenerate covariance leaves no interval or p-value (None): a dash
                lo, hi, p = (
                    "–" if r[k] is None else format(r[k], f)
                    for k, f in (("ci_low", "+.3g"), ("ci_high", "+.3g"), ("p_value", ".2g"))
                )
                lines.append(
                    f"{title} {r['protocol']} - {r['reference']}: {r['estimate']:+.3g} "
                    f"{unit} ({pct} CI {lo} to {hi}, p = {p})"
                )
        for r in self.distribution.filter(pl.col("measure") == "NAP").iter_rows(named=True):
            lines.append(
                f"per-person NAP (lead-in vs window), {r['protocol']}: median "
                f"{r['median']:.2f} (IQR {r['q25']:.2f}-{r['q75']:.2f}), n={r['n']}"
            )
        lines.append(f"note: {CAVEAT_COHORT}")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)

    def chart(self, *, title: str | None = None) -> alt.LayerChart:
        """Each participant's points in the window (thin lines) and each variant's fitted mean
        line (thick), time in weeks since the window started."""
        pts = self.points.filter(pl.col("window")).select(
            "participant", pl.col("protocol"), pl.col("weeks_in_phase"), "value"
        )
        y_title = (
            f"{pain_label(self.moment)} (NRS 0-10)"
            if self.outcome == PAIN
            else f"{test_label(self.outcome)} ({self.unit})"
        )
        x = alt.X("weeks_in_phase:Q", title="weeks since the comparison phase started")
        layers = [
            alt.Chart(pts)
            .mark_line(opacity=0.22, strokeWidth=1)
            .encode(
                x=x,
                y=alt.Y("value:Q", title=y_title),
                detail="participant:N",
                color=alt.Color("protocol:N", title="protocol"),
            )
        ]
        est = {r["term"]: r["estimate"] for r in self.interaction.iter_rows(named=True)}
        if est:
            lo, hi = float(pts["weeks_in_phase"].min()), float(pts["weeks_in_phase"].max())
            c = self.time_centre
            rows = []
            for p in self.protocols:
                lvl = est[f"intercept at week {c:.1f}"] + (
                    0.0 if p == self.reference else est[f"protocol[{p}] at week {c:.1f}"]
                )
                slope = est["weeks"] + (0.0 if p == self.reference else est[f"protocol[{p}]:weeks"])
                rows += [
                    {"protocol": p, "weeks_in_phase": w, "fit": lvl + slope * (w - c)}
                    for w in (lo, hi)
                ]
            layers.append(
                alt.Chart(pl.DataFrame(rows))
                .mark_line(strokeWidth=3)
                .encode(x=x, y=alt.Y("fit:Q", title=y_title), color="protocol:N")
            )
        return alt.layer(*layers).properties(
            title=title or "Growth by protocol (thin: participants; thick: mixed-model mean line)",
            width=560,
            height=280,
        )

    def effect_size_chart(
        self, *, measure: str = "NAP", title: str | None = None
    ) -> alt.LayerChart:
        """Per-person effect sizes (lead-in vs window) by variant: one dot per person, the
        median as a black tick."""
        if measure not in sced.MEASURES:
            raise ComparisonError(
                f"measure={measure!r} is not allowed: use one of {', '.join(sced.MEASURES)}"
            )
        df = self.per_person.filter(
            (pl.col("measure") == measure) & pl.col("estimate").is_not_null()
        )
        med = df.group_by("protocol").agg(pl.col("estimate").median())
        y = alt.Y("protocol:N", title="protocol")
        dots = (
            alt.Chart(df.select("participant", "protocol", "estimate"))
            .mark_circle(size=50, opacity=0.6)
            .encode(
                x=alt.X(
                    "estimate:Q",
                    title=f"{measure} (lead-in vs comparison phase; positive side = improvement)",
                ),
                y=y,
                color=alt.Color("protocol:N", legend=None),
            )
        )
        ticks = (
            alt.Chart(med)
            .mark_tick(color="black", thickness=3, size=26)
            .encode(x="estimate:Q", y=y)
        )
        return alt.layer(dots, ticks).properties(
            title=title or f"Per-person {measure} by protocol (black: median)",
            width=520,
            height=40 * max(1, med.height) + 40,
        )


def _per_person_effects(
    points: pl.DataFrame, improvement: str, confidence: float
) -> tuple[pl.DataFrame, list[str]]:
    """Lead-in (A before the window) vs window (B) effect sizes, one batch per (m, n) shape."""
    notes: list[str] = []
    a = points.filter(
        ~pl.col("window")
        & (pl.col("segment") < pl.col("window_segment"))
        & (pl.col("phase") == "A")
    )
    b = points.filter(pl.col("window"))
    av = a.sort("weeks").group_by("participant").agg(pl.col("value"))
    bv = b.sort("weeks").group_by("participant").agg(pl.col("value"), pl.col("protocol").first())
    both = bv.join(av.rename({"value": "a"}), on="participant", how="left").with_columns(
        pl.col("a").list.len().fill_null(0).alias("n_a"), pl.col("value").list.len().alias("n_b")
    )
    short = both.filter((pl.col("n_a") < 2) | (pl.col("n_b") < 2))
    if short.height:
        notes.append(
            f"{short.height} participant(s) without 2 points in both the lead-in and the "
            "window have no per-person effect sizes"
        )
    frames = []
    for (m, n), g in both.filter((pl.col("n_a") >= 2) & (pl.col("n_b") >= 2)).group_by(
        ["n_a", "n_b"], maintain_order=True
    ):
        es = sced.effect_sizes_batch(
            np.array(g["a"].to_list()),
            np.array(g["value"].to_list()),
            improvement=improvement,
            confidence=confidence,
        )
        ids = (
            g.select("participant", "protocol")
            .with_row_index("series")
            .with_columns(
                pl.col("series").cast(pl.Int64), pl.lit(m).alias("n_a"), pl.lit(n).alias("n_b")
            )
        )
        frames.append(es.join(ids, on="series", how="left"))
    if not frames:
        return pl.DataFrame(schema=_ES_SCHEMA), notes
    order = {m: i for i, m in enumerate(sced.MEASURES)}
    out = pl.concat(frames).select([pl.col(c).cast(t) for c, t in _ES_SCHEMA.items()])
    return out.sort("participant", pl.col("measure").replace_strict(order)), notes


def _distribution(per_person: pl.DataFrame, confidence: float) -> pl.DataFrame:
    """Per protocol and measure: n, mean, sd, t-interval of the mean, quartiles, range."""
    schema = {
        "protocol": pl.String(),
        "measure": pl.String(),
        "n": pl.Int64(),
        "mean": pl.Float64(),
        "sd": pl.Float64(),
        "ci_low": pl.Float64(),
        "ci_high": pl.Float64(),
        "median": pl.Float64(),
        "q25": pl.Float64(),
        "q75": pl.Float64(),
        "min": pl.Float64(),
        "max": pl.Float64(),
    }
    if per_person.height == 0:
        return pl.DataFrame(schema=schema)
    e = pl.col("estimate").drop_nulls()
    d = per_person.group_by("protocol", "measure").agg(
        e.len().cast(pl.Int64).alias("n"),
        e.mean().alias("mean"),
        e.std().alias("sd"),
        e.median().alias("median"),
        e.quantile(0.25, "linear").alias("q25"),
        e.quantile(0.75, "linear").alias("q75"),
        e.min().alias("min"),
        e.max().alias("max"),
    )
    n = d["n"].to_numpy()
    q = np.where(n > 1, stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)), np.nan)
    half = q * d["sd"].fill_null(np.nan).to_numpy() / np.sqrt(np.maximum(n, 1))
    d = d.with_columns(
        pl.Series("ci_low", d["mean"].fill_null(np.nan).to_numpy() - half).fill_nan(None),
        pl.Series("ci_high", d["mean"].fill_null(np.nan).to_numpy() + half).fill_nan(None),
    )
    order = {m: i for i, m in enumerate(sced.MEASURES)}
    return d.select(list(schema)).sort("protocol", pl.col("measure").replace_strict(order))


def cohort_comparison(
    data: Any,
    *,
    outcome: str = "sorensen_hold",
    reference: str | None = None,
    weeks: float | None = None,
    plateau_weeks: float = PLATEAU_WEEKS,
    moment: str = "morning",
    min_days: int = MIN_WEEK_DAYS,
    confidence: float = 0.95,
) -> CohortComparison:
    """Compare protocol variants across participants (see the module docstring).

    ``data``: a Dataset-like object (phases plus diary or tests), or a polars tests frame with a
    ``protocol`` column (and optionally ``phase`` A/B; without it every row is in the window and
    there is no lead-in). ``outcome``: a test id (default ``sorensen_hold``) or ``"pain"``.
    ``reference``: the variant the others are compared with (default ``traditional-core`` when
    present). ``weeks``: analyse only the first ``weeks`` weeks of the window in the slope model
    (default: all of it). ``plateau_weeks``: the gain model's late window.

    Too little data is a status (``"too_little_data"``) with a message, not an exception; bad
    arguments raise :class:`ComparisonError`.
    """
    unit, improvement = _check_outcome(outcome)
    _check_confidence(confidence)
    for name, v in (("weeks", weeks), ("plateau_weeks", plateau_weeks)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float) or v <= 0):
            raise ComparisonError(f"{name}={v!r} is not allowed: give a positive number of weeks")
    if isinstance(data, pl.DataFrame):
        if outcome == PAIN:
            raise ComparisonError(
                "a tests frame holds no pain: pass a dataset (with a diary) for outcome='pain'"
            )
        data = _tests_as_data(data)
    notes: list[str] = []
    points, moment = _points_or_all(
        data, notes, outcome=outcome, participant=None, moment=moment, min_days=min_days
    )
    win = _windows(points)
    points = points.join(
        win.rename({"window": "window_segment"}), on="participant", how="left"
    ).with_columns((pl.col("segment") == pl.col("window_segment")).alias("window"))
    in_win = points.filter(pl.col("window"))
    if weeks is not None:
        in_win = in_win.filter(pl.col("weeks_in_phase") <= weeks)
        points = points.with_columns(
            (pl.col("window") & (pl.col("weeks_in_phase") <= weeks)).alias("window")
        )
    participants = (
        in_win.group_by("participant")
        .agg(pl.col("protocol").first(), pl.len().cast(pl.Int64).alias("n_window"))
        .join(
            points.filter(pl.col("segment") < pl.col("window_segment"))
            .group_by("participant")
            .agg(pl.len().cast(pl.Int64).alias("n_lead_in")),
            on="participant",
            how="left",
        )
        .with_columns(pl.col("n_lead_in").fill_null(0))
        .select("participant", "protocol", "n_lead_in", "n_window")
        .sort("participant")
    )
    protocols = tuple(sorted(participants["protocol"].unique().to_list()))
    if reference is not None and reference not in protocols:
        raise ComparisonError(
            f"reference={reference!r} is not among the protocols compared "
            f"({', '.join(protocols) or 'none'})"
        )
    if reference is None and protocols:
        reference = DEFAULT_REFERENCE if DEFAULT_REFERENCE in protocols else protocols[0]
    z = float(stats.norm.ppf(0.5 + confidence / 2))

    # slope model: weeks from the window's mean week, so that levels are reported there
    # (fit_growth conditions the time variable for its optimiser itself)
    t = in_win["weeks_in_phase"]
    centre = float(t.mean()) if t.len() else 0.0
    slope_data = in_win.with_columns((pl.col("weeks_in_phase") - centre).alias("_t"))
    slope_fit = fit_growth(
        slope_data,
        protocol_col="protocol",
        time="_t",
        value_col="value",
        reference=reference,
        confidence=confidence,
    )
    notes += [f"slope model: {w}" for w in slope_fit.warnings]
    slope_diff = _contrasts(slope_fit, "time", z)
    interaction = _interaction_tidy(slope_fit, centre)

    # gain model: lead-in (period 0) against the last plateau_weeks of the window (period 1)
    lead = points.filter((pl.col("segment") < pl.col("window_segment")) & (pl.col("phase") == "A"))
    late = in_win.filter(
        pl.col("weeks_in_phase")
        >= pl.col("weeks_in_phase").max().over("participant") - plateau_weeks
    )
    gain_fit = None
    gain_diff = pl.DataFrame(schema=_DIFF_SCHEMA)
    if lead.height:
        gain_data = pl.concat(
            [
                lead.with_columns(pl.lit(0.0).alias("_period")),
                late.with_columns(pl.lit(1.0).alias("_period")),
            ]
        )
        # a person's protocol is their window's variant, in the lead-in rows too
        gain_data = gain_data.drop("protocol").join(
            participants.select("participant", "protocol"), on="participant", how="inner"
        )
        gain_fit = fit_growth(
            gain_data,
            protocol_col="protocol",
            time="_period",
            value_col="value",
            reference=reference,
            confidence=confidence,
        )
        notes += [f"gain model: {w}" for w in gain_fit.warnings]
        if gain_fit.usable:
            gain_diff = _contrasts(gain_fit, "time", z)
        else:
            notes.append(f"gain model: {gain_fit.message}")
    else:
        notes.append(
            "no lead-in (phase A before the comparison phase): no gain model and no "
            "per-person effect sizes"
        )
    per_person, es_notes = _per_person_effects(points, improvement, confidence)
    notes += es_notes
    return CohortComparison(
        outcome=outcome,
        unit=unit,
        moment=moment,
        improvement=improvement,
        status=slope_fit.status,
        message=slope_fit.message,
        reference=reference,
        protocols=protocols,
        slope_difference=slope_diff,
        gain_difference=gain_diff,
        interaction=interaction,
        per_person=per_person,
        distribution=_distribution(per_person, confidence),
        participants=participants,
        points=points.drop("window_segment"),
        slope_fit=slope_fit,
        gain_fit=gain_fit,
        time_centre=centre,
        plateau_weeks=float(plateau_weeks),
        confidence=float(confidence),
        notes=tuple(notes),
    )


def demo_recovery(comparison: CohortComparison, truth: Mapping) -> pl.DataFrame:
    """Estimated differences of a demo cohort against the generator's truth (``truth.json``).

    Two truths per row: ``truth_recorded`` is the difference of the drawn (sample) means that
    ``truth.json`` records (``true_differences[...]["sample"]``: ``sorensen_gain_s``,
    ``side_bridge_gain_s``, ``flexor_gain_s``, ``pain_slope_change_per_week``), where one exists;
    ``truth_estimand`` is what the model estimates, computed from each person's true curve
    (:mod:`rehab.demo`): for a test's slope, the least-squares slope of the person's noise-free
    curve at their window's test days; for a test's gain, plateau - baseline; for the pain slope,
    slope_before + slope_change (the slope of the true mean in phase B). Each is averaged over the
    participants of a variant, then differenced. The pain slope estimand leaves out the small
    next-morning share of the session response (it falls as sensitivity falls; about -0.002/week
    between shit and traditional-core) and flares.

    Columns: quantity, protocol, reference, estimate, ci_low, ci_high, truth_recorded,
    truth_estimand, error (estimate - truth_estimand, else - truth_recorded), error_in_se,
    covers_estimand, covers_recorded.
    """
    from rehab.demo import true_test_value

    people = truth.get("participants") or {}
    diffs = ((truth.get("cohort") or {}).get("true_differences")) or {}
    rec_keys = {
        ("gain", "sorensen_hold"): "sorensen_gain_s",
        ("gain", "side_bridge_left"): "side_bridge_gain_s",
        ("gain", "side_bridge_right"): "side_bridge_gain_s",
        ("gain", "flexor_hold"): "flexor_gain_s",
        ("slope", PAIN): "pain_slope_change_per_week",
    }
    window = comparison.points.filter(pl.col("window"))
    per: dict[str, dict[str, float]] = {"slope": {}, "gain": {}}  # kind -> participant -> truth
    variant = dict(comparison.participants.select("participant", "protocol").iter_rows())
    for pid, p in people.items():
        if pid not in variant:
            continue
        if comparison.outcome == PAIN:
            per["slope"][pid] = (
                p["pain"]["slope_before_per_week"] + p["pain"]["slope_change_per_week"]
            )
            continue
        curve = p.get("endurance", {}).get(comparison.outcome)
        if curve is None:
            continue
        per["gain"][pid] = curve["plateau"] - curve["baseline"]
        mine = window.filter(pl.col("participant") == pid)
        if mine.height >= 2:
            y = true_test_value(curve, mine["date"].to_list())
            per["slope"][pid] = float(np.polyfit(mine["weeks_in_phase"].to_numpy(), y, 1)[0])

    def mean_by(kind: str, prot: str) -> float | None:
        vals = [v for pid, v in per[kind].items() if variant.get(pid) == prot]
        return float(np.mean(vals)) if vals else None

    def recorded(kind: str, a: str, b: str) -> float | None:
        key = rec_keys.get((kind, comparison.outcome))
        if key is None:
            return None
        if f"{a} - {b}" in diffs:
            return diffs[f"{a} - {b}"]["sample"].get(key)
        if f"{b} - {a}" in diffs and diffs[f"{b} - {a}"]["sample"].get(key) is not None:
            return -diffs[f"{b} - {a}"]["sample"][key]
        return None

    rows = []
    for kind, tab, unit in (
        ("slope", comparison.slope_difference, comparison.slope_unit),
        ("gain", comparison.gain_difference, comparison.unit),
    ):
        for r in tab.iter_rows(named=True):
            ma, mb = mean_by(kind, r["protocol"]), mean_by(kind, r["reference"])
            est_truth = ma - mb if ma is not None and mb is not None else None
            rec = recorded(kind, r["protocol"], r["reference"])
            target = est_truth if est_truth is not None else rec
            err = None if target is None else r["estimate"] - target
            rows.append(
                {
                    "quantity": f"{kind} difference ({unit})",
                    "protocol": r["protocol"],
                    "reference": r["reference"],
                    "estimate": r["estimate"],
                    "ci_low": r["ci_low"],
                    "ci_high": r["ci_high"],
                    "truth_recorded": rec,
                    "truth_estimand": est_truth,
                    "error": err,
                    "error_in_se": None
                    if err is None or not r["std_error"]
                    else err / r["std_error"],
                    "covers_estimand": None
                    if est_truth is None
                    else r["ci_low"] <= est_truth <= r["ci_high"],
                    "covers_recorded": None if rec is None else r["ci_low"] <= rec <= r["ci_high"],
                }
            )
    schema = {
        "quantity": pl.String(),
        "protocol": pl.String(),
        "reference": pl.String(),
        "estimate": pl.Float64(),
        "ci_low": pl.Float64(),
        "ci_high": pl.Float64(),
        "truth_recorded": pl.Float64(),
        "truth_estimand": pl.Float64(),
        "error": pl.Float64(),
        "error_in_se": pl.Float64(),
        "covers_estimand": pl.Boolean(),
        "covers_recorded": pl.Boolean(),
    }
    return pl.DataFrame(rows, schema=schema)


# --- within one person -----------------------------------------------------------------------------


def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def delay_text(days: int) -> str:
    """7 -> "a week", 14 -> "2 weeks", 3 -> "3 days"."""
    days = abs(int(days))
    if days % 7 == 0:
        return "a week" if days == 7 else f"{days // 7} weeks"
    return "1 day" if days == 1 else f"{days} days"


def _percent(p: float) -> str:
    if p < 0.01:
        return "under 1%"
    if p > 0.99:
        return "over 99%"
    return f"{p:.0%}"


def _p(p: float) -> str:
    """'p = 0.147' or 'p < 0.001'."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _design_names(labels: Sequence[str]) -> list[str]:
    """Phase names of each point as sced uses them: A, B for AB; A1, B1, A2... otherwise."""
    runs = [0]
    for i in range(1, len(labels)):
        runs.append(runs[-1] + (labels[i] != labels[i - 1]))
    if runs[-1] <= 1:
        return list(labels)
    return [f"{lab}{k // 2 + 1}" for lab, k in zip(labels, runs, strict=True)]


def _lag1(x: np.ndarray) -> float | None:
    """Lag-1 autocorrelation r1 = sum (x_t - m)(x_t+1 - m) / sum (x_t - m)^2 (Box & Jenkins)."""
    if x.size < 4:
        return None
    d = x - x.mean()
    den = float((d**2).sum())
    return float((d[1:] * d[:-1]).sum() / den) if den > 0 else None


@dataclass(frozen=True)
class PhaseComparison:
    """Result of :func:`phase_comparison` for one participant.

    ``points`` (date, weeks, phase label A/B, name A/B or A1/B1..., protocol, value, n);
    ``phases`` (per phase: name, phase, protocol, start, end, n, mean, sd, median);
    ``effect_sizes`` (comparison, measure, estimate, std_error, ci_low, ci_high, note: "A vs B",
    or "A1 vs B1", ..., and "all A vs all B" in longer designs); ``piecewise``
    (:class:`rehab.sced.PiecewiseResult` or None) and ``randomization``
    (:class:`rehab.sced.RandomizationResult` or None), with ``notes`` saying why one is missing;
    ``caveats`` (sentences); ``lag1`` (lag-1 autocorrelation of the piecewise residuals).

    ``cdc``: comparison ("A vs B", or "A1 vs B1", "A2 vs B2") -> :class:`rehab.sced.CDCResult`
    (the conservative dual criterion of each adjacent A-B pair with at least 2 A and 1 B
    points); ``bayes``: :class:`rehab.sced.BayesEffectResult` (all A against all B; ``mcid``
    2 NRS points for pain, none for a test) or None; ``bayes_by_week``: the same fitted on the
    data up to the end of each week (:func:`rehab.sced.bayes_effect_by_week`; ``week`` counts
    whole weeks since the first phase started, 0 = the first) or None; ``plan``:
    :class:`rehab.plan.PlanAnalysis` (the design-matched test and the deviations from the plan)
    when a plan was given. The ``*_text`` methods put them in plain sentences.
    """

    participant: str
    outcome: str
    unit: str
    moment: str
    improvement: str
    design: str
    points: pl.DataFrame
    phases: pl.DataFrame
    effect_sizes: pl.DataFrame
    piecewise: sced.PiecewiseResult | None = field(repr=False)
    randomization: sced.RandomizationResult | None = field(repr=False)
    lag1: float | None
    baseline_slope: float | None
    caveats: tuple[str, ...]
    notes: tuple[str, ...]
    confidence: float
    cdc: dict[str, sced.CDCResult] = field(default_factory=dict, repr=False)
    bayes: sced.BayesEffectResult | None = field(default=None, repr=False)
    bayes_by_week: pl.DataFrame | None = field(default=None, repr=False)
    plan: PlanAnalysis | None = field(default=None, repr=False)
    first_start: date | None = None  # the first phase's start: week 0 of ``points["weeks"]``

    @property
    def label(self) -> str:
        return _outcome_label(self.outcome, self.moment)

    def protocol_of(self, phase: str, names: Mapping[str, str] | None = None) -> str:
        """The display name of the protocol of phase ``phase`` ("A", "B", "A1"...): ``names``
        maps protocol ids to names (an id without one is shown as it is)."""
        ph = self.phases.filter((pl.col("name") == phase) | (pl.col("phase") == phase))["protocol"]
        pid = ph[0] if ph.len() else phase
        return (names or {}).get(pid, pid)

    def cdc_text(self, names: Mapping[str, str] | None = None) -> list[str]:
        """The conservative dual criterion of each A-B pair, in words."""
        way = "above" if self.improvement == "increase" else "below"
        out = []
        for comp, r in self.cdc.items():
            b_name = comp.split(" vs ")[1]
            pts = "point" if r.n_b == 1 else "points"
            head = (
                f"{comp}: {r.beyond} of the {r.n_b} {pts} of {b_name} "
                f"({self.protocol_of(b_name, names)}) {'lies' if r.n_b == 1 else 'lie'} {way} "
                "both lines"
            )
            if r.required is None:
                out.append(
                    f"{head}. With {r.n_b} {pts} in {b_name} no count can show a systematic "
                    f"change by this criterion (5 points or more are needed)."
                )
            elif r.systematic:
                out.append(
                    f"{head}; {r.required} were needed: a systematic change by the conservative "
                    f"dual criterion (binomial {_p(r.p_value)})."
                )
            else:
                out.append(
                    f"{head}; {r.required} were needed: no systematic change by the "
                    f"conservative dual criterion (binomial {_p(r.p_value)})."
                )
        return out

    def bayes_text(self, names: Mapping[str, str] | None = None) -> list[str]:
        """The Bayesian answer in the patient's terms: how much B changed the outcome against A
        (95% credible interval), the probability that B is better and, for pain, of at least the
        important change."""
        b = self.bayes
        if b is None:
            return []
        noun = (
            ("pain" if self.moment == "all" else f"{self.moment} pain")
            if self.outcome == PAIN
            else f"the {test_label(self.outcome)}"
        )
        a_name, b_name = self.protocol_of("A", names), self.protocol_of("B", names)
        est = b.estimate
        verb = "raised" if est > 0 else "lowered"
        lo, hi = b.ci_low, b.ci_high
        if lo > 0 or hi < 0:
            m_lo, m_hi = sorted((abs(lo), abs(hi)))
            band = f"95% CrI {self._amount(m_lo, unit=False)}–{self._amount(m_hi)}"
        else:
            band = (
                f"95% CrI from {self._amount(-lo)} lower to {self._amount(hi)} higher: "
                "the data allow no change or a change either way"
            )
        first = (
            f"{b_name} (B) {verb} {noun} by {self._amount(abs(est))} compared with {a_name} (A) "
            f"({band}); probability that B is better: {_percent(b.p_improved)}"
        )
        if b.p_mcid is not None:
            first += (
                f"; probability of at least the {b.mcid:g}-point important change: "
                f"{_percent(b.p_mcid)}"
            )
        how = (
            f"AR(1) errors, lag-1 correlation about {b.rho:.2f}" if b.ar1 else "independent errors"
        )
        second = (
            f"Bayesian model: one level for A and one for B ({b.n_a} A and {b.n_b} B points), "
            f"{how}; weakly informative priors (flat for the A level, normal with 10 error SDs "
            "for the difference, Jeffreys for the correlation), so the data decide."
        )
        if b.mcid is not None:
            second += (
                f" The important change of pain is {b.mcid:g} NRS points (Ostelo et al. 2008)."
            )
        return [first + ".", second]

    def _amount(self, x: float, *, unit: bool = True) -> str:
        if self.outcome == PAIN:
            return f"{x:.1f}" + (" points" if unit else "")
        nd = 0 if self.unit == "s" and x >= 10 else 1
        return f"{x:.{nd}f}" + (f" {self.unit}" if unit else "")

    def plan_text(self, names: Mapping[str, str] | None = None) -> list[str]:
        """How the logged phases followed the plan, and what that does to the p-value."""
        pa = self.plan
        if pa is None:
            return []
        many = len(pa.plan.participants) > 1
        out = []
        for r in pa.deviations.iter_rows(named=True):
            if r["kind"] == "as planned":
                continue
            who = f"{r['participant']}: " if many else ""
            pname = (names or {}).get(r["planned_protocol"], r["planned_protocol"])
            lname = (names or {}).get(r["logged_protocol"], r["logged_protocol"])
            first = r["planned_start"] == pa.plan.start and r["phase"] in ("A", "A1")
            what = "the start" if first else f"the change to {r['phase']} ({pname})"
            if r["kind"] in ("late", "early"):
                out.append(
                    f"{who}{what} came {delay_text(r['days'])} {r['kind']}: "
                    f"{_day(r['logged_start'])} (planned {_day(r['planned_start'])})."
                )
            elif r["kind"] == "missing":
                out.append(
                    f"{who}phase {r['phase']} ({pname}), planned from "
                    f"{_day(r['planned_start'])}, is not in the phases logged."
                )
            elif r["kind"] == "extra":
                out.append(
                    f"{who}an extra phase of {lname} from {_day(r['logged_start'])} is not in "
                    "the plan."
                )
            elif r["kind"] == "other protocol":
                out.append(
                    f"{who}phase {r['phase']} was planned as {pname}, but {lname} was logged "
                    f"from {_day(r['logged_start'])}."
                )
            elif r["kind"] == "stopped early":
                out.append(
                    f"{who}the last phase stopped {delay_text(-r['days'])} before the plan's end "
                    f"({_day(pa.plan.end)})."
                )
        if not out:
            out.append("The phases were followed as planned.")
        out[0] = out[0][0].upper() + out[0][1:]
        test = pa.test
        if test is None:
            out.append(pa.lines[-1])
            return out
        late = pa.deviations.filter(pl.col("kind").is_in(["late", "early"])).height > 0
        if pa.added_observed:
            added = (
                "the logged B start added to the window it fell outside"
                if len(pa.plan.participants) > 1
                else f"the logged schedule added to the plan's {pa.n_assignments - 1:,} schedules"
            )
            out.append(
                "The logged schedule is not one the plan could have drawn, so the p-value is no "
                f"longer exact for the design: it is computed with {added}, and reads as "
                "approximate."
            )
        elif late:
            out.append(
                "The logged schedule is still one the plan could have drawn: the test keeps the "
                "plan's schedules, and its p-value is exact only if the change of dates had "
                "nothing to do with how you were doing (a switch put off because of a flare "
                "would bias it)."
            )
        else:
            out.append("The p-value is exact for the plan's design.")
        return out

    def test_text(self) -> list[str]:
        """The randomization test in words: the plan's design-matched test when there is one,
        else the retrospective one with its caveat."""
        pa, rt = self.plan, self.randomization
        orient = "B − A" if self.improvement == "increase" else "A − B"
        if pa is not None and pa.test is not None:
            t = pa.test
            if hasattr(t, "per_participant"):  # multiple baseline
                what = (
                    f"the mean over the {len(t.per_participant)} people of their difference in "
                    f"means ({orient}, positive = improvement) is {t.observed:.3g} {self.unit}"
                )
                unit = "schedules and assignments of people to them"
            else:
                what = (
                    f"the difference in means ({orient}, positive = improvement) is "
                    f"{t.observed:.3g} {self.unit}"
                )
                unit = "schedules"
            drawn = f"{t.n_assignments:,} {unit} the plan could have drawn"
            if pa.added_observed:  # the logged schedule is one of them, not one the plan drew
                drawn = (f"{t.n_assignments:,} {unit}: the {t.n_assignments - 1:,} the plan "
                         "could have drawn and the logged one"
                         if not hasattr(t, "per_participant")
                         else f"{t.n_assignments:,} {unit}, the logged B starts added")
            how = (f"all {drawn}" if t.exhaustive
                   else f"{t.n_draws:,} random draws from the {drawn}")
            out = [
                f"Randomization test matched to the plan (Edgington 1980; Onghena 1992): {what}; "
                f"compared with {how}, {_p(t.p_value)}. The p-value is the share of "
                "schedules that give a difference at least as large as the one observed."
            ]
            if rt is not None:
                out.append(
                    f"For reference, the retrospective test over every placement of the phase "
                    f"changes with at least {rt.min_phase_length} points a phase gives "
                    f"{_p(rt.p_value)} ({rt.n_assignments:,} placements); it is not the "
                    "plan's test."
                )
            else:
                why = "; ".join(n.removeprefix("no randomization test: ")
                                for n in self.notes if n.startswith("no randomization test"))
                if why:
                    out.append(f"For reference, the retrospective test (not the plan's) cannot "
                               f"be run: {why}.")
            return out
        if rt is None:
            return [
                "No randomization test: "
                + "; ".join(n.removeprefix("no randomization test: ")
                            for n in self.notes if "randomization" in n)
                + "."
            ]
        how = "all" if rt.exhaustive else f"{rt.n_draws:,} random draws from the"
        out = [
            f"Phase-start randomization test (Edgington 1980; Onghena 1992): the difference in "
            f"means ({orient}, positive = improvement) is {rt.observed:.3g} {self.unit}; "
            f"compared with {how} {rt.n_assignments:,} admissible placements of the phase "
            f"change (at least {rt.min_phase_length} points a phase), {_p(rt.p_value)}."
        ]
        if pa is None:
            out.append(
                "No plan: the phase changes were not drawn at random in advance (rehab plan), so "
                "this p-value is a descriptive reference, not a test."
            )
        else:
            out.append(
                "The plan's design-matched test could not be made (see above), so this "
                "retrospective p-value is a descriptive reference, not a test."
            )
        return out

    def key_effects(self) -> pl.DataFrame:
        """The effect sizes of :data:`KEY_MEASURES` only."""
        return self.effect_sizes.filter(pl.col("measure").is_in(list(KEY_MEASURES)))

    def summary(self) -> str:
        """Plain-text summary (no dates)."""
        lines = [
            f"{self.participant}: {self.design} comparison of {self.label} ({self.unit}; "
            f"{'lower' if self.improvement == 'decrease' else 'higher'} is better)"
        ]
        for r in self.phases.iter_rows(named=True):
            lines.append(
                f"  phase {r['name']} ({r['protocol']}): {r['n']} points, mean {r['mean']:.3g}"
            )
        for r in self.key_effects().iter_rows(named=True):
            ci = "" if r["ci_low"] is None else f" [{r['ci_low']:.2f}, {r['ci_high']:.2f}]"
            lines.append(
                f"  {r['comparison']}: {r['measure']} = "
                f"{'-' if r['estimate'] is None else format(r['estimate'], '.2f')}{ci}"
            )
        if self.piecewise is not None:
            for r in self.piecewise.tidy.filter(pl.col("term").str.contains("change")).iter_rows(
                named=True
            ):
                lines.append(
                    f"  piecewise {r['term']}: {r['estimate']:+.3g} [{r['ci_low']:+.3g},"
                    f" {r['ci_high']:+.3g}]"
                )
        if self.randomization is not None:
            lines.append(
                f"  randomization test: p = {self.randomization.p_value:.3g} "
                f"({self.randomization.n_assignments} admissible assignments)"
            )
        lines += [f"note: {n}" for n in self.notes]
        lines += [f"caveat: {c}" for c in self.caveats]
        return "\n".join(lines)

    def _value_axis(self) -> tuple[str, alt.Scale]:
        value_label = (
            f"{pain_label(self.moment)} (NRS 0-10)"
            if self.outcome == PAIN
            else f"{test_label(self.outcome)} ({self.unit})"
        )
        top = 10.0 if self.outcome == PAIN else float(self.points["value"].max()) * 1.1
        return value_label, alt.Scale(domain=[0.0, max(top, 1.0)], nice=False)

    def _change_weeks(self) -> list[float]:
        """Where the logged phases change: midway between the last point of one phase and the
        first of the next."""
        times = self.points["weeks"].to_numpy()
        names = self.points["name"].to_list()
        return [
            float((times[i - 1] + times[i]) / 2)
            for i in range(1, len(names))
            if names[i] != names[i - 1]
        ]

    def cdc_chart(self, *, title: str | None = None) -> alt.TopLevelMixin:
        """The points by phase with the conservative dual criterion's two lines for each A-B
        pair (phase A's mean and OLS trend, each moved 0.25 SD of A toward improvement, drawn
        through A and the B phase after it; Fisher, Kelley & Lomas 2003), a ring around each B
        point beyond both, the logged phase changes (dotted) and, where the logged phases
        deviate from a plan, the planned changes (orange dashes)."""
        value_label, y_scale = self._value_axis()
        title = title or f"{self.label} by phase, with the dual-criterion lines"
        x = alt.X("weeks:Q", title="weeks since the first phase started")
        order = list(dict.fromkeys(self.points["name"].to_list()))
        names = self.points["name"].to_list()
        weeks = self.points["weeks"].to_numpy()
        values = self.points["value"].to_numpy()
        lines, rings = [], []
        for comp, r in self.cdc.items():
            a_name, b_name = comp.split(" vs ")
            ia = [i for i, n in enumerate(names) if n == a_name]
            ib = [i for i, n in enumerate(names) if n == b_name]
            t = np.arange(1, len(ia) + len(ib) + 1, dtype=float)
            for i, k in zip(ia + ib, t, strict=True):
                lines.append({"weeks": float(weeks[i]), "y": r.a_mean + r.shift,
                              "line": "A mean, moved 0.25 SD", "pair": comp})  # fmt: skip
                lines.append({"weeks": float(weeks[i]),
                              "y": r.a_intercept + r.a_slope * k + r.shift,
                              "line": "A trend, moved 0.25 SD", "pair": comp})  # fmt: skip
            for j, i in enumerate(ib):
                v = values[i]
                better = (
                    v > r.mean_line[j] and v > r.trend_line[j]
                    if self.improvement == "increase"
                    else v < r.mean_line[j] and v < r.trend_line[j]
                )
                if better:
                    rings.append({"weeks": float(weeks[i]), "value": float(v)})
        layers: list[alt.Chart] = [
            alt.Chart(self.points.select("weeks", "value", "name"))
            .mark_circle(size=45)
            .encode(
                x=x,
                y=alt.Y("value:Q", title=value_label, scale=y_scale),
                color=alt.Color(
                    "name:N", title="phase", sort=order, legend=alt.Legend(orient="bottom")
                ),
            )
        ]
        if lines:
            layers.append(
                alt.Chart(pl.DataFrame(lines))
                .mark_line(color="#555555", strokeWidth=1.5, clip=True)
                .encode(
                    x=x,
                    y=alt.Y("y:Q", scale=y_scale),
                    detail=alt.Detail(["pair:N", "line:N"]),
                    strokeDash=alt.StrokeDash(
                        "line:N",
                        title="criterion line",
                        legend=alt.Legend(orient="bottom", direction="vertical"),
                        scale=alt.Scale(
                            domain=["A mean, moved 0.25 SD", "A trend, moved 0.25 SD"],
                            range=[[1, 0], [6, 3]],
                        ),
                    ),
                )
            )
        if rings:
            layers.append(
                alt.Chart(pl.DataFrame(rings))
                .mark_point(shape="circle", filled=False, size=160, color="black")
                .encode(x=x, y=alt.Y("value:Q", scale=y_scale))
            )
        layers.append(
            alt.Chart(pl.DataFrame({"change": self._change_weeks()}))
            .mark_rule(color="black", strokeDash=[2, 2])
            .encode(x="change:Q")
        )
        planned = self._planned_change_weeks()
        if planned:
            layers.append(
                alt.Chart(pl.DataFrame({"change": planned}))
                .mark_rule(color="#E69F00", strokeDash=[6, 3], strokeWidth=2)
                .encode(x="change:Q")
            )
        return alt.layer(*layers).properties(title=title, width=480, height=280)

    def _planned_change_weeks(self) -> list[float]:
        """Planned phase starts (in chart weeks) where the logged ones deviate from them."""
        pa = self.plan
        if pa is None or self.first_start is None:
            return []
        dev = pa.deviations.filter(
            (pl.col("participant") == self.participant)
            & pl.col("kind").is_in(["late", "early", "missing", "other protocol"])
            & pl.col("planned_start").is_not_null()
            & (pl.col("planned_start") > pa.plan.start)
        )
        return [(d - self.first_start).days / 7.0 for d in dev["planned_start"].to_list()]

    def bayes_chart(self, *, title: str | None = None) -> alt.TopLevelMixin | None:
        """How the probability that B is better (and, for pain, of at least the important
        change) moved as the weeks came in: the Bayesian fit on the data up to each week's end.
        None when there is nothing to draw."""
        bw = self.bayes_by_week
        if bw is None or bw.height == 0:
            return None
        rows = [("B better than A", "p_improved")]
        if self.bayes is not None and self.bayes.mcid is not None:
            rows.append((f"at least the {self.bayes.mcid:g}-point important change", "p_mcid"))
        long = pl.concat(
            [
                bw.select(
                    (pl.col("week") + 1).alias("week"),
                    (pl.col(col) * 100).alias("percent"),
                    pl.lit(name).alias("probability of"),
                )
                for name, col in rows
            ]
        )
        title = title or "How the probability moved, week by week"
        return (
            alt.Chart(long)
            .mark_line(point=True)
            .encode(
                x=alt.X("week:Q", title="data up to the end of week",
                        axis=alt.Axis(tickMinStep=1, format="d")),  # whole weeks: no 9.5
                y=alt.Y("percent:Q", title="probability (%)", scale=alt.Scale(domain=[0, 100])),
                color=alt.Color(
                    "probability of:N",
                    sort=[r[0] for r in rows],
                    legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=400),
                ),
            )
            .properties(title=title, width=480, height=220)
        )

    def chart(self, *, title: str | None = None) -> alt.TopLevelMixin:
        """The points by phase with the piecewise fit and the projected baseline (dashed), or
        the points alone when no piecewise fit could be made."""
        value_label = (
            f"{pain_label(self.moment)} (NRS 0-10)"
            if self.outcome == PAIN
            else f"{test_label(self.outcome)} ({self.unit})"
        )
        time_label = "weeks since the first phase started"
        title = title or f"{self.participant}: {self.label} by phase ({self.design})"
        # the value axis stays on the outcome's own range (NRS 0-10; a hold is >= 0) so that a
        # projected baseline running out of range is cut at the edge instead of stretching it
        top = 10.0 if self.outcome == PAIN else float(self.points["value"].max()) * 1.1
        y_scale = alt.Scale(domain=[0.0, max(top, 1.0)], nice=False)
        x = alt.X("weeks:Q", title=time_label)
        order = list(dict.fromkeys(self.points["name"].to_list()))
        color = alt.Color("name:N", title="phase", sort=order)
        dots = (
            alt.Chart(self.points.select("weeks", "value", "name"))
            .mark_circle(size=45)
            .encode(x=x, y=alt.Y("value:Q", title=value_label, scale=y_scale), color=color)
        )
        layers: list[alt.Chart] = [dots]
        if self.piecewise is not None:
            pred = (
                self.piecewise.predict().rename({"time": "weeks"}).with_columns(self.points["name"])
            )
            layers.append(
                alt.Chart(pred)
                .mark_line(clip=True)
                .encode(x=x, y=alt.Y("fitted:Q", scale=y_scale), color=color)
            )
            layers.append(
                alt.Chart(pred.filter(pl.col("phase") != order[0]))
                .mark_line(strokeDash=[4, 3], color="gray", clip=True)
                .encode(x=x, y=alt.Y("baseline_projection:Q", scale=y_scale))
            )
        times = self.points["weeks"].to_numpy()
        names = self.points["name"].to_list()
        mids = [
            float((times[i - 1] + times[i]) / 2)
            for i in range(1, len(names))
            if names[i] != names[i - 1]
        ]
        layers.append(
            alt.Chart(pl.DataFrame({"change": mids}))
            .mark_rule(color="black", strokeDash=[2, 2])
            .encode(x="change:Q")
        )
        return alt.layer(*layers).properties(title=title, width=480, height=280)


def _check_known(data: Any, participant: str) -> None:
    """ComparisonError unless the participant has records and rows in the phases table."""
    phases = _frame(data, "phases")
    known: set[str] = set(phases["participant"].unique().to_list())
    for name in ("diary", "tests"):
        known.update(_frame(data, name)["participant"].unique().to_list())
    if participant not in known:
        raise ComparisonError(
            f"participant {participant!r} has no records (participants found: "
            f"{', '.join(sorted(known)) or 'none'})"
        )
    if participant not in set(phases["participant"].to_list()):
        raise ComparisonError(
            f"participant {participant!r} has no rows in the phases table: add phases.csv rows "
            "(participant,start,end,protocol,phase) saying which protocol was followed when"
        )


def _phase_effects(
    values: np.ndarray,
    names: list[str],
    labels: list[str],
    improvement: str,
    confidence: float,
    notes: list[str],
) -> pl.DataFrame:
    order = list(dict.fromkeys(names))
    pairs: list[tuple[str, list[int], list[int]]] = []
    if order == ["A", "B"]:
        pairs.append(
            (
                "A vs B",
                [i for i, n in enumerate(names) if n == "A"],
                [i for i, n in enumerate(names) if n == "B"],
            )
        )
    else:
        for k in range(0, len(order) - 1, 2):
            a_name, b_name = order[k], order[k + 1]
            pairs.append(
                (
                    f"{a_name} vs {b_name}",
                    [i for i, n in enumerate(names) if n == a_name],
                    [i for i, n in enumerate(names) if n == b_name],
                )
            )
        pairs.append(
            (
                "all A vs all B",
                [i for i, x in enumerate(labels) if x == "A"],
                [i for i, x in enumerate(labels) if x == "B"],
            )
        )
    frames = []
    for name, ia, ib in pairs:
        if len(ia) < 2 or len(ib) < 2:
            notes.append(
                f"{name}: effect sizes need at least 2 points in each phase "
                f"(have {len(ia)} and {len(ib)})"
            )
            continue
        es = sced.effect_sizes(
            values[ia], values[ib], improvement=improvement, confidence=confidence
        )
        frames.append(es.with_columns(pl.lit(name).alias("comparison")))
    schema = {
        "comparison": pl.String(),
        "measure": pl.String(),
        "estimate": pl.Float64(),
        "std_error": pl.Float64(),
        "ci_low": pl.Float64(),
        "ci_high": pl.Float64(),
        "note": pl.String(),
    }
    if not frames:
        return pl.DataFrame(schema=schema)
    return pl.concat(frames).select(list(schema))


def phase_comparison(
    data: Any,
    participant: str,
    *,
    outcome: str = PAIN,
    moment: str = "morning",
    min_days: int = MIN_WEEK_DAYS,
    ar1: bool | None = None,
    min_phase_length: int = 3,
    statistic: str = "mean_difference",
    n_draws: int | None = None,
    seed: int = 0,
    confidence: float = 0.95,
    plan: Plan | None = None,
    bayes: bool = True,
) -> PhaseComparison:
    """One participant's A/B (or ABAB...) comparison: effect sizes, piecewise regression and a
    randomization test, the conservative dual criterion and the Bayesian level difference, with
    the caveats that apply (see the module docstring).

    ``data``: a Dataset-like object (phases plus diary or tests). ``outcome``: ``"pain"`` (weekly
    means of ``moment`` pain; ``moment="all"`` for every entry) or a test id. ``ar1``: AR(1)
    errors in the piecewise regression (None: when there are at least 20 points; a failing AR(1)
    fit falls back to OLS with a note). ``min_phase_length``, ``statistic``, ``n_draws`` and
    ``seed`` go to :func:`rehab.sced.randomization_test`. ``plan``: the person's
    :class:`rehab.plan.Plan` (``rehab.plan.load_plan``), for the randomization test over the
    plan's own admissible set (:func:`rehab.plan.planned_test`, on the same outcome points; a
    multiple baseline's uses every person of the plan) and the deviations of the logged phases.
    ``bayes=False`` skips the Bayesian fits (``bayes`` and ``bayes_by_week`` None). A model the
    data are too short for is None, with a note saying why; no points at all, or no A and B,
    raise :class:`ComparisonError`.
    """
    if plan is not None and not isinstance(plan, Plan):
        raise ComparisonError(
            f"plan must be a rehab.plan.Plan (rehab.plan.load_plan), got {type(plan).__name__}"
        )
    if plan is not None and participant not in plan.participants:
        raise ComparisonError(
            f"plan {plan.id!r} is for {', '.join(plan.participants)}, not {participant!r}"
        )
    check_participant(participant)
    unit, improvement = _check_outcome(outcome)
    _check_confidence(confidence)
    if ar1 is not None and not isinstance(ar1, bool):
        raise ComparisonError(f"ar1={ar1!r} is not allowed: use True, False or None (automatic)")
    _check_known(data, participant)
    notes: list[str] = []
    pts, moment = _points_or_all(
        data, notes, outcome=outcome, participant=participant, moment=moment, min_days=min_days
    )
    pts = pts.sort("weeks")
    what = f"{pain_label(moment)} points" if outcome == PAIN else f"{outcome} tests"
    early = _before_the_phases(data, participant, outcome)
    if early is not None:
        notes.append(early)
    if pts.height == 0:
        raise ComparisonError(
            f"participant {participant!r} has no {what} inside a phase of the phases table"
        )
    labels = pts["phase"].to_list()
    if labels[0] != "A":
        first_a = next((i for i, x in enumerate(labels) if x == "A"), None)
        if first_a is None:
            raise ComparisonError(
                f"participant {participant!r} has {what} in phase B only: an "
                "A/B comparison needs phase A points too"
            )
        pts = pts.slice(first_a)
        labels = labels[first_a:]
    if "B" not in labels:
        raise ComparisonError(
            f"participant {participant!r} has {what} in phase A only: an A/B "
            "comparison needs phase B points too"
        )
    names = _design_names(labels)
    pts = pts.with_columns(pl.Series("name", names, dtype=pl.String))
    values = pts["value"].to_numpy().astype(float)
    times = pts["weeks"].to_numpy().astype(float)
    design = "".join(n[0] for n in dict.fromkeys(names))
    phases = pts.group_by("name", maintain_order=True).agg(
        pl.col("phase").first(),
        pl.col("protocol").first(),
        pl.col("date").min().alias("start"),
        pl.col("date").max().alias("end"),
        pl.len().cast(pl.Int64).alias("n"),
        pl.col("value").mean().alias("mean"),
        pl.col("value").std().alias("sd"),
        pl.col("value").median().alias("median"),
    )
    if outcome == PAIN:  # a pain point is a week from its date: the phase runs to that week's end
        phases = phases.with_columns(pl.min_horizontal(
            pl.col("end") + pl.duration(days=6),
            pl.col("start").shift(-1) - pl.duration(days=1)).alias("end"))
    effects = _phase_effects(values, names, labels, improvement, confidence, notes)

    # piecewise regression, AR(1) errors when the series is long enough
    use_ar1 = (len(values) >= AR1_MIN_POINTS) if ar1 is None else ar1
    piecewise = None
    try:
        piecewise = sced.piecewise_regression(
            values, labels, time=times, ar1=use_ar1, confidence=confidence
        )
    except ValueError as e:
        if use_ar1:
            notes.append(f"the AR(1) piecewise fit failed ({e}); ordinary least squares instead")
            try:
                piecewise = sced.piecewise_regression(
                    values, labels, time=times, confidence=confidence
                )
            except ValueError as e2:
                notes.append(f"no piecewise regression: {e2}")
        else:
            notes.append(f"no piecewise regression: {e}")
    lag1 = None
    if piecewise is not None:
        resid = values - piecewise.predict()["fitted"].to_numpy()
        lag1 = _lag1(resid)
    randomization = None
    try:
        randomization = sced.randomization_test(
            values,
            labels,
            min_phase_length=min_phase_length,
            statistic=statistic,
            improvement=improvement,
            n_draws=n_draws,
            seed=seed,
        )
    except ValueError as e:
        notes.append(f"no randomization test: {e}")
    baseline_slope = None
    first_a = [v for v, n in zip(values, names, strict=True) if n in ("A", "A1")]
    if len(first_a) >= 2:
        # Theil-Sen slope per point of the first A phase, converted to per week
        slope, _ = sced.baseline_trend(first_a)
        a_times = times[: len(first_a)]
        step = (a_times[-1] - a_times[0]) / (len(first_a) - 1)
        baseline_slope = slope / step if step > 0 else None
    cdc = _cdc_pairs(values, names, improvement, notes)
    fit, by_week = None, None
    if bayes:
        mcid = MIC_NRS_POINTS if outcome == PAIN else None
        try:
            fit = sced.bayes_effect(values, labels, improvement=improvement, mcid=mcid, seed=seed)
            by_week = sced.bayes_effect_by_week(
                values, labels, np.floor(times).astype(int), improvement=improvement, mcid=mcid
            )
        except ValueError as e:
            notes.append(f"no Bayesian estimate: {e}")
    analysis = None
    if plan is not None:
        # the plan's test on the same points; a multiple baseline's needs every person's
        series = (
            pts
            if len(plan.participants) == 1
            else outcome_points(data, outcome=outcome, moment=moment, min_days=min_days).filter(
                pl.col("participant").is_in(list(plan.participants))
            )
        )
        try:
            analysis = planned_test(
                plan,
                series,
                improvement=improvement,
                phases=_frame(data, "phases"),
                statistic=statistic,
                n_draws=n_draws,
                seed=seed,
            )
        except (PlanError, ValueError) as e:
            notes.append(f"no design-matched randomization test: {e}")
    caveats = _caveats(phases, design, lag1, piecewise, baseline_slope, unit, randomization)
    if analysis is not None and analysis.test is not None:
        caveats = [c for c in caveats if c != CAVEAT_RANDOM_START]
    return PhaseComparison(
        participant=participant,
        outcome=outcome,
        unit=unit,
        moment=moment,
        improvement=improvement,
        design=design,
        points=pts.select("date", "weeks", "phase", "name", "protocol", "value", "n"),
        phases=phases.select(
            "name", "phase", "protocol", "start", "end", "n", "mean", "sd", "median"
        ),
        effect_sizes=effects,
        piecewise=piecewise,
        randomization=randomization,
        lag1=lag1,
        baseline_slope=baseline_slope,
        caveats=tuple(caveats),
        notes=tuple(notes),
        confidence=float(confidence),
        first_start=_frame(data, "phases")
        .filter(pl.col("participant") == participant)["start"]
        .min(),
        cdc=cdc,
        bayes=fit,
        bayes_by_week=by_week,
        plan=analysis,
    )


def _cdc_pairs(
    values: np.ndarray, names: list[str], improvement: str, notes: list[str]
) -> dict[str, sced.CDCResult]:
    """The conservative dual criterion of each phase A (A1, A2...) against the B phase after it."""
    order = list(dict.fromkeys(names))
    out: dict[str, sced.CDCResult] = {}
    for k in range(0, len(order) - 1, 2):
        a_name, b_name = order[k], order[k + 1]
        a = values[[i for i, n in enumerate(names) if n == a_name]]
        b = values[[i for i, n in enumerate(names) if n == b_name]]
        comp = f"{a_name} vs {b_name}"
        try:
            out[comp] = sced.cdc(a, b, improvement=improvement)
        except ValueError as e:
            notes.append(f"{comp}: no conservative dual criterion ({e})")
    return out


def _caveats(
    phases: pl.DataFrame,
    design: str,
    lag1: float | None,
    piecewise,
    baseline_slope,
    unit: str,
    randomization,
) -> list[str]:
    out = []
    auto = CAVEAT_AUTOCORRELATION
    if lag1 is not None:
        auto += f" Here the lag-1 autocorrelation of the piecewise residuals is {lag1:.2f}"
        if piecewise is not None and piecewise.rho is not None:
            auto += f" (AR(1) fit: rho = {piecewise.rho:.2f})"
        auto += "."
    out.append(auto)
    short = [
        f"{r['name']} ({r['n']})" for r in phases.iter_rows(named=True) if r["n"] < WWC_MIN_POINTS
    ]
    if short:
        out.append(
            f"Short phases: {', '.join(short)} point(s); a phase needs at least "
            f"{WWC_MIN_POINTS} points to meet the single-case design standard ({WWC_RESERVED_POINTS}"
            "-4 with reservations; Kratochwill et al. 2010). With few points one unusual week "
            "moves every number, and a trend within a phase cannot be judged."
        )
    else:
        out.append(
            f"Phase lengths: every phase has at least {WWC_MIN_POINTS} points (Kratochwill "
            "et al. 2010)."
        )
    if baseline_slope is not None and abs(baseline_slope) > 0:
        out.append(
            f"Phase A already trends ({baseline_slope:+.3g} {unit} per week, Theil-Sen): NAP, Tau "
            "and the SMDs credit phase B with any trend that simply continues; Tau_BC and the "
            "piecewise slope change allow for it."
        )
    out.append(CAVEAT_CARRY_OVER)
    if design == "AB":
        out.append(CAVEAT_AB)
    if randomization is not None:
        out.append(CAVEAT_RANDOM_START)
    return out


# --- the monthly report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthPhaseChange:
    """What the monthly report shows when a phase starts during the month.

    ``changes``: (date, protocol before, protocol after, phase before, phase after) per change in
    the month; ``comparisons``: outcome -> :class:`PhaseComparison` on the data up to the month's
    last day; ``unavailable``: outcome -> why no comparison could be made yet; ``caveats``."""

    participant: str
    month: str
    changes: tuple[tuple[date, str, str, str, str], ...]
    comparisons: dict[str, PhaseComparison]
    unavailable: dict[str, str]
    caveats: tuple[str, ...]

    @property
    def tidy(self) -> pl.DataFrame:
        """The key effect sizes of every outcome: outcome, comparison, measure, estimate, ..."""
        frames = [
            c.key_effects().with_columns(pl.lit(o).alias("outcome"))
            for o, c in self.comparisons.items()
        ]
        cols = [
            "outcome",
            "comparison",
            "measure",
            "estimate",
            "std_error",
            "ci_low",
            "ci_high",
            "note",
        ]
        if not frames:
            return pl.DataFrame(
                schema={
                    c: pl.String()
                    if c in ("outcome", "comparison", "measure", "note")
                    else pl.Float64()
                    for c in cols
                }
            )
        return pl.concat(frames).select(cols)

    def summary(self) -> str:
        lines = [
            f"Phase change in {self.month}: "
            + "; ".join(
                f"{d.isoformat()} {a} ({pa}) -> {b} ({pb})" for d, a, b, pa, pb in self.changes
            )
        ]
        lines += [c.summary() for c in self.comparisons.values()]
        for o, why in self.unavailable.items():
            lines.append(f"{o}: {why}")
        lines += [f"caveat: {c}" for c in self.caveats]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def month_phase_change_summary(
    data: Any,
    participant: str,
    month: str,
    *,
    outcomes: Sequence[str] = (PAIN, "sorensen_hold"),
    seed: int = 0,
) -> MonthPhaseChange | None:
    """The A/B summary for a month in which a phase starts, or None when none does.

    ``data``: a Dataset-like object (a :class:`rehab.io.Dataset`, or the monthly report's
    ``MonthReport``); only records up to the month's last day are used, so the report never looks
    ahead. A phase change is the start of a phase (after the first) whose label or protocol
    differs from the one before. Each outcome in ``outcomes`` is compared with
    :func:`phase_comparison` where the data allow; otherwise ``unavailable`` says why (a new
    phase B usually holds only a few points in its first month)."""
    check_participant(participant)
    check_month(month)
    first, last = month_range(month)
    segs = phase_segments(_frame(data, "phases"), participant).sort("segment")
    changes = []
    recs = segs.to_dicts()
    for prev, cur in itertools.pairwise(recs):
        if first <= cur["start"] <= last and (cur["phase"], cur["protocol"]) != (
            prev["phase"],
            prev["protocol"],
        ):
            changes.append(
                (cur["start"], prev["protocol"], cur["protocol"], prev["phase"], cur["phase"])
            )
    if not changes:
        return None
    upto = pl.col("date") <= last
    frames = _Frames(
        tests=_frame(data, "tests").filter(upto),
        diary=_frame(data, "diary").filter(upto),
        phases=_frame(data, "phases").filter(pl.col("start") <= last),
    )
    comparisons: dict[str, PhaseComparison] = {}
    unavailable: dict[str, str] = {}
    for o in outcomes:
        try:
            comparisons[o] = phase_comparison(
                frames, participant, outcome=o, seed=seed, bayes=False
            )
        except ComparisonError as e:
            unavailable[o] = str(e)
    caveats = [
        "The new phase began this month: it holds only a few points so far, and early weeks "
        "of a new protocol often differ from its later weeks (novelty, soreness, learning the "
        "exercises). Read these numbers as a first look, not a verdict."
    ]
    counts = [
        f"{c.label}: " + ", ".join(f"{r['name']} {r['n']}" for r in c.phases.iter_rows(named=True))
        for c in comparisons.values()
    ]
    if counts:
        caveats.append(
            f"Short phases: points per phase so far ({'; '.join(counts)}). A phase needs at least "
            f"{WWC_MIN_POINTS} points to meet the single-case design standard "
            f"({WWC_RESERVED_POINTS}-4 with reservations; Kratochwill et al. 2010)."
        )
    caveats += [CAVEAT_AUTOCORRELATION, CAVEAT_CARRY_OVER]
    if any(c.design == "AB" for c in comparisons.values()):
        caveats.append(CAVEAT_AB)
    if any(c.randomization is not None for c in comparisons.values()):
        caveats.append(CAVEAT_RANDOM_START)
    return MonthPhaseChange(
        participant=participant,
        month=month,
        changes=tuple(changes),
        comparisons=comparisons,
        unavailable=unavailable,
        caveats=tuple(caveats),
    )


def comparison_problems(
    data: Any,
    *,
    participant: str | None = None,
    outcome: str = PAIN,
    min_days: int = MIN_WEEK_DAYS,
) -> list[str]:
    """Why a comparison report would have nothing to compare (empty list: it can be made).

    With ``participant``: that person needs points in phase A and in phase B (2 or more each).
    Without: at least 2 variants with 2 participants each holding 2 or more points in their
    comparison window."""
    _check_outcome(outcome)
    pts, moment = _points_or_all(
        data, [], outcome=outcome, participant=participant, moment="morning", min_days=min_days
    )
    what = f"{pain_label(moment)} points" if outcome == PAIN else f"{outcome} tests"
    if participant is not None:
        n = {lab: pts.filter(pl.col("phase") == lab).height for lab in ("A", "B")}
        return [
            f"participant {participant!r} has {n[lab]} {what} in phase {lab} (2 needed)"
            for lab in ("A", "B")
            if n[lab] < 2
        ]
    win = _windows(pts)
    per = (
        pts.join(win, on="participant")
        .filter(pl.col("segment") == pl.col("window"))
        .group_by("participant")
        .agg(pl.col("protocol").first(), pl.len().alias("n"))
        .filter(pl.col("n") >= 2)
        .group_by("protocol")
        .len()
        .filter(pl.col("len") >= 2)
    )
    if per.height < 2:
        return [
            f"a cohort comparison needs at least 2 protocol variants with 2 participants "
            f"each holding 2 or more {what} in their comparison phase; found "
            f"{per.height} such variant(s)"
        ]
    return []
