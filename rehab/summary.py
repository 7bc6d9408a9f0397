"""One participant's month in one minute: a frozen :class:`MonthSummary` computed from the data.

The monthly page's "This month in one minute" and the machine-readable summary beside it
(``reports/<participant>/<YYYY-MM>.json``, :meth:`MonthSummary.to_dict`) both come from one
:func:`month_summary` call, so their figures cannot disagree. No HTML here: the report package
turns :meth:`MonthSummary.lines` into the page's text.

Definitions:

- **Training day**: a day of the month with at least one work set (normal, failure, drop or no
  set type; warm-up and test sets alone do not make a session), as in :mod:`rehab.adherence`.
- **Weeks**: the month's ISO weeks (Monday to Sunday, those whose Thursday falls in the month, so
  each week belongs to one month), each counted whole: a week that ends in the next month
  counts its sessions there. ``target``: the protocol's sessions a week (or rehab.toml's
  ``[protocol] sessions_per_week``) times the week's days under a protocol ÷ 7 (a week the
  person started mid-way asks for its share). ``status``: ``before_start`` (the week ended
  before the person's first record or phase), ``no_target`` (no protocol that week), ``met``
  (sessions ≥ target), ``not_over`` (the logs do not cover the whole week yet: the last record
  of any kind is earlier than its Sunday) or ``below``.
- **Pain**: the mean of each diary day's mean NRS (days with pain only), this month, last
  month (the change judged against the minimal important change of 2 points, Ostelo 2008) and
  against the first 14 days of the diary (:func:`rehab.models.pain.important_change`: 2 points or 30%).
- **Tests**: each test's best this month against its best of the calendar month before, judged
  against the smallest real change where one is published (:func:`rehab.features.monthly_best`).
- **Next steps**: what the protocol's rules suggest at the month's end for each exercise logged
  (:func:`rehab.adherence.next_step`). They follow the protocol file; they are not medical advice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import polars as pl

from rehab import adherence as A
from rehab import features as F
from rehab import norms
from rehab.adherence import short_name

SUMMARY_VERSION = 1
WEEK_STATUSES = ("met", "below", "not_over", "before_start", "no_target")
BASELINE_DAYS = norms.PAIN_BASELINE_DAYS
TEST_ORDER = ("sorensen_hold", "back_extension_hold", "back_extension_reps", "side_bridge_left",
              "side_bridge_right", "flexor_hold", "split_squat_hold_left",
              "split_squat_hold_right")
_ACTION_ORDER = {"step back": 0, "progress": 1, "goal reached": 2, "hold": 3, "stay": 4}


@dataclass(frozen=True)
class WeekSummary:
    week_start: dt.date
    week: str  # ISO label, 2026-W12
    sessions: int
    target: float | None
    status: str
    protocols: tuple[str, ...] = ()


@dataclass(frozen=True)
class TestSummary:
    test: str
    label: str
    unit: str
    best: float
    best_previous: float | None
    previous_month: str | None
    change: float | None
    src: float | None  # smallest real change, when one is published
    verdict: str  # improved | declined | noise | no previous month | not judged


@dataclass(frozen=True)
class PainSummary:
    days: int
    mean: float | None
    previous_days: int
    previous_mean: float | None
    change_vs_previous: float | None
    reading_vs_previous: str | None  # better | worse | below MIC (2 points)
    start_mean: float | None  # the first 14 days of the diary
    change_vs_start: float | None
    change_pct_vs_start: float | None
    reading_vs_start: str | None  # important improvement | important worsening | no important change
    start_note: str | None  # why the change from the start is not judged


@dataclass(frozen=True)
class FlareSummary:
    days: int
    episodes: tuple[tuple[dt.date, dt.date], ...]


@dataclass(frozen=True)
class NextStep:
    exercise: str
    name: str
    action: str
    text: str


@dataclass(frozen=True)
class MonthSummary:
    """The month's headline figures: see the module docstring for each definition."""

    participant: str
    month: str
    demo: bool
    protocol: str | None  # the main protocol of the month's weeks (most days), None when unset
    protocol_name: str | None
    protocols: tuple[str, ...]
    target_per_week: float | None
    start: dt.date | None  # first record or phase start, whichever is earlier
    # last record of any kind on or before the month's horizon (the end of its last week:
    # rehab.adherence.month_horizon); a record after that changes nothing here
    last_record: dt.date | None
    # how far the logs reach as seen from the month: the last record, or the horizon when the
    # logs go on past it (a day after this is not logged yet, not missed)
    logged_to: dt.date | None
    training_days: int
    weeks: tuple[WeekSummary, ...]
    pain: PainSummary
    tests: tuple[TestSummary, ...]
    flares: FlareSummary
    next_steps: tuple[NextStep, ...]
    protocol_note: str | None  # what is missing when no protocol is set
    protocol_set: bool = False  # a protocol is set (phases, rehab.toml), in force or not

    # --- the machine-readable twin ---------------------------------------------------------------

    def to_dict(self) -> dict:
        """The JSON summary (dates as ``YYYY-MM-DD``, numbers rounded to 3 decimals)."""
        def r(x):
            return None if x is None else round(float(x), 3)

        def day(d):
            return None if d is None else d.isoformat()

        p = self.pain
        return {
            "version": SUMMARY_VERSION,
            "participant": self.participant,
            "month": self.month,
            "demo": self.demo,
            "protocol": self.protocol,
            "protocol_name": self.protocol_name,
            "protocols": list(self.protocols),
            "target_per_week": r(self.target_per_week),
            "start": day(self.start),
            "last_record": day(self.last_record),
            "training_days": self.training_days,
            "weeks": [{"week_start": day(w.week_start), "week": w.week, "sessions": w.sessions,
                       "target": r(w.target), "status": w.status,
                       "protocols": list(w.protocols)} for w in self.weeks],
            "weeks_met": sum(w.status == "met" for w in self.weeks),
            "weeks_judged": sum(w.status in ("met", "below") for w in self.weeks),
            "pain": {"days": p.days, "mean": r(p.mean), "previous_days": p.previous_days,
                     "previous_mean": r(p.previous_mean),
                     "change_vs_previous": r(p.change_vs_previous),
                     "reading_vs_previous": p.reading_vs_previous,
                     "start_mean": r(p.start_mean), "change_vs_start": r(p.change_vs_start),
                     "change_pct_vs_start": r(p.change_pct_vs_start),
                     "reading_vs_start": p.reading_vs_start, "start_note": p.start_note,
                     "mic_points": norms.MIC_NRS_POINTS, "mic_relative": norms.MIC_RELATIVE},
            "tests": [{"test": t.test, "label": t.label, "unit": t.unit, "best": r(t.best),
                       "best_previous": r(t.best_previous), "previous_month": t.previous_month,
                       "change": r(t.change), "smallest_real_change": r(t.src),
                       "reading": t.verdict} for t in self.tests],
            "flares": {"days": self.flares.days,
                       "episodes": [{"start": day(a), "end": day(b)}
                                    for a, b in self.flares.episodes]},
            "next_steps": [asdict(n) for n in self.next_steps],
            "protocol_note": self.protocol_note,
            "one_minute": [{"section": a, "label": b, "text": c} for a, b, c in self.lines()],
        }

    # --- the one-minute text ---------------------------------------------------------------------

    def lines(self) -> list[tuple[str, str, str]]:
        """Five or six plain sentences as (anchor, label, text): the anchor is the page section
        the line summarises (sessions, the headline test, pain, pain since the start, flares,
        the next step)."""
        name = F.month_range(self.month)[0].strftime("%B")
        out = [("sessions", "Sessions", self._sessions_line(name)),
               ("endurance", "Best test", self._test_line(name)),
               ("pain", "Pain", self._pain_line(name))]
        if self.pain.mean is not None:
            out.append(("pain-model", "Since the start", self._start_line()))
        out.append(("flares", "Flares", self._flare_line(name)))
        out.append(("adherence", "Next step", self._next_line()))
        return out

    def _sessions_line(self, name: str) -> str:
        n = self.training_days
        line = f"{n} training day{'s' if n != 1 else ''} in {name}"
        if self.target_per_week is None:
            return line + ("; no protocol is in force in this month's weeks (see Adherence), "
                           "so there is no weekly target to compare with." if self.protocol_set
                           else "; no protocol is set, so there is no weekly target to compare "
                           "with.")
        judged = [w for w in self.weeks if w.status in ("met", "below")]
        met = sum(w.status == "met" for w in judged)
        plan = f"{self.protocol_name or self.protocol}: {self.target_per_week:g} a week"
        if judged:
            line += (f"; the target ({plan}) was reached in {met} of {len(judged)} "
                     f"week{'s' if len(judged) != 1 else ''}")
        else:
            line += f" (target {plan}); no whole week to judge yet"
        open_ = sum(w.status == "not_over" for w in self.weeks)
        if open_:
            line += (f" ({open_} week{'s' if open_ != 1 else ''} not judged: the logs stop "
                     f"before {'its' if open_ == 1 else 'their'} Sunday)")
        return line + "."

    def headline_test(self) -> TestSummary | None:
        """The test the one-minute text reports: one with a previous month first, in the order
        Sorensen hold, back-extension hold, ... (then custom tests by id)."""
        order = {t: i for i, t in enumerate(TEST_ORDER)}
        ranked = sorted(self.tests, key=lambda t: (t.best_previous is None,
                                                   order.get(t.test, len(order)), t.test))
        return ranked[0] if ranked else None

    def _test_line(self, name: str) -> str:
        t = self.headline_test()
        if t is None:
            return f"no endurance test was logged in {name}."
        unit = " s" if t.unit == "s" else f" {t.unit}"
        line = f"{t.label} {t.best:g}{unit}"
        if t.best_previous is None:
            return line + " (no test of it last month to compare with)."
        diff = t.change or 0.0
        how = ("the same as" if diff == 0 else
               f"{abs(diff):g}{unit} {'more than' if diff > 0 else 'less than'}")
        line += f", {how} last month's {t.best_previous:g}{unit}"
        if t.verdict == "noise":
            return line + (f": within what a single test varies (a real change is at least "
                           f"{t.src:g}{unit}), so not a real change yet.")
        if t.verdict in ("improved", "declined"):
            return line + (f": a real {'improvement' if t.verdict == 'improved' else 'decline'} "
                           f"(more than the {t.src:g}{unit} a single test can vary).")
        return line + (": no published figure says how much this test varies from day to day, "
                       "so the change is not judged.")

    def _pain_line(self, name: str) -> str:
        p = self.pain
        if p.mean is None:
            return f"no pain was logged in the diary in {name}."
        line = (f"{p.mean:.1f} out of 10 on average over {p.days} diary "
                f"day{'s' if p.days != 1 else ''}")
        if p.previous_mean is None:
            return line + " (no diary last month to compare with)."
        reading = {"better": "an important improvement (2 points or 30%)",
                   "worse": "an important worsening (2 points or more)",
                   "below MIC": f"not an important change ({_takes(p.change_vs_previous)})"}[
                       p.reading_vs_previous]
        return line + (f", against {p.previous_mean:.1f} last month: "
                       f"{_signed(p.change_vs_previous or 0.0)} points, {reading}.")

    def _start_line(self) -> str:
        p = self.pain
        if p.start_mean is None or p.reading_vs_start is None:
            return f"not judged yet against the first {BASELINE_DAYS} days of your diary ({p.start_note})."
        pct = "" if p.change_pct_vs_start is None else f" ({_signed(p.change_pct_vs_start, 0)}%)"
        reading = {"important improvement": "an important improvement (2 points or 30%)",
                   "important worsening": "an important worsening (2 points or more)",
                   "no important change": f"no important change ({_takes(p.change_vs_start)})"
                   }.get(p.reading_vs_start, p.reading_vs_start)
        return (f"{_signed(p.change_vs_start or 0.0)} points{pct} against the first "
                f"{BASELINE_DAYS} days of your diary ({p.start_mean:.1f}): {reading}.")

    def _flare_line(self, name: str) -> str:
        f = self.flares
        if f.days == 0:
            return f"none reported in {name}."
        eps = "; ".join(_span(a, b) for a, b in f.episodes)
        return (f"{f.days} day{'s' if f.days != 1 else ''} in {len(f.episodes)} "
                f"episode{'s' if len(f.episodes) != 1 else ''} ({eps}).")

    def _next_line(self) -> str:
        if self.protocol is None and self.protocol_set:
            return ("none this month: no protocol is in force in its weeks (see Adherence and "
                    "progression).")
        if self.protocol is None:
            return ("the kit suggests one once it knows your protocol: name it in rehab.toml "
                    '([protocol] id = "shit") or add a phases file.')
        if not self.next_steps:
            return (f"start the exercises of {self.protocol_name or self.protocol} "
                    "(none is logged yet).")
        n = self.next_steps[0]
        return f"{n.name}: {n.text} (the {self.protocol_name or self.protocol} rules)."


def _signed(x: float, nd: int = 1) -> str:
    x = round(x, nd) or 0.0  # -0.04 is "+0.0", not "−0.0"
    return f"{x:+.{nd}f}".replace("-", "−")


def _takes(change: float | None) -> str:
    """What an important change of pain takes in the direction it went (Ostelo 2008: the 30%
    rule is for improvement only)."""
    if change is not None and change > 0:
        return "an important worsening takes 2 points"
    return "an important improvement takes 2 points or 30%"


def _span(a: dt.date, b: dt.date) -> str:
    return f"{a.day} {a:%b}" if a == b else f"{a.day}–{b.day} {b:%b}" if a.month == b.month \
        else f"{a.day} {a:%b}–{b.day} {b:%b}"


# --- the computation ----------------------------------------------------------------------------


def _mine(df: pl.DataFrame | None, participant: str) -> pl.DataFrame | None:
    if df is None:
        return None
    return df.filter(pl.col("participant") == participant)


def _episodes(days: list[dt.date]) -> tuple[tuple[dt.date, dt.date], ...]:
    out: list[list[dt.date]] = []
    for d in sorted(days):
        if out and (d - out[-1][1]).days == 1:
            out[-1][1] = d
        else:
            out.append([d, d])
    return tuple((a, b) for a, b in out)


def judge_weeks(weeks, days: set[dt.date], table: pl.DataFrame, *, start: dt.date | None,
                logged_to: dt.date | None) -> list[WeekSummary]:
    """Each ISO week (its Monday in ``weeks``): training ``days`` in it against the targets of
    the protocols in force that week (``table``: adherence rows, week_start, protocol, target;
    a week split between two protocols sums their shares), with
    :func:`rehab.adherence.week_status`. The month pages and the whole-course page judge weeks
    here, alike."""
    parts: dict[dt.date, list[dict]] = {}
    for r in table.select("week_start", "protocol", "target").iter_rows(named=True):
        parts.setdefault(r["week_start"], []).append(r)
    out = []
    for ws in weeks:
        we = ws + dt.timedelta(days=6)
        n = sum(ws <= d <= we for d in days)
        part = parts.get(ws, [])
        target = float(sum(r["target"] for r in part)) if part else None
        status = A.week_status(n, target, ws, start=start, logged_to=logged_to)
        out.append(WeekSummary(ws, ws.strftime("%G-W%V"), int(n),
                               None if status in ("before_start", "no_target") else target,
                               status, tuple(dict.fromkeys(r["protocol"] for r in part))))
    return out


def month_summary(
    data,
    participant: str,
    month: str,
    *,
    protocols=None,
    config=None,
    root=None,
    demo: bool = False,
    src_group: str | None = None,
    last_record: dt.date | None = None,
    last_seen: dt.date | None = None,
    section: A.AdherenceSection | None = None,
) -> MonthSummary:
    """The month's summary of one participant (see the module docstring).

    ``data``: anything with polars ``sessions``, ``diary``, ``tests`` and ``phases`` (a
    :class:`rehab.io.Dataset`); its tables may run past the month (the month's last week is
    counted whole). ``protocols`` and ``config`` default to the project's (``root``).
    ``last_record``: the participant's last record of any kind (default: the latest date in
    ``data``); ``last_seen``: their last record on or before :func:`rehab.adherence.month_horizon`
    (default: from ``data``, which then holds the records up to it). ``section``: the month's :func:`rehab.adherence.adherence_section` of the same
    data, protocols and config when the caller has it already (the report page shows it too)."""
    from rehab.paths import check_month, check_participant

    check_participant(participant)
    check_month(month)
    if protocols is None or config is None:
        from pathlib import Path

        from rehab.config import load_config
        from rehab.paths import ProjectPaths
        from rehab.protocol import load_protocols

        paths = ProjectPaths.discover() if root is None else ProjectPaths(Path(root))
        protocols = load_protocols(paths.root) if protocols is None else protocols
        config = load_config(paths.config_file) if config is None else config
    first, last, weeks = A.month_weeks(month)
    sessions = _mine(data.sessions, participant)
    diary = _mine(data.diary, participant)
    tests = _mine(data.tests, participant)
    phases = _mine(data.phases, participant)
    dated = [df for df in (sessions, diary, tests) if df is not None and df.height]
    horizon = A.month_horizon(month)
    if last_record is None:
        last_record = max((df["date"].max() for df in dated), default=None)
    # a record after the horizon changes nothing of the month: the logs reach it, no further
    logged_to = None if last_record is None else min(last_record, horizon)
    if last_seen is None:
        seen = [df.filter(pl.col("date") <= horizon)["date"].max() for df in dated]
        last_seen = max((d for d in seen if d is not None), default=None)
    starts = [df["date"].min() for df in dated]
    if phases is not None and phases.height:
        starts.append(phases["start"].min())
    start = min(starts, default=None)

    sec = section if section is not None else A.adherence_section(
        data, participant, month, protocols=protocols, config=config)
    protos = A._protocol_map(protocols)
    table = sec.table  # its targets follow rehab.toml's sessions_per_week when set
    main = None
    if table.height:
        by = (table.group_by("protocol").agg(pl.col("days").sum(), pl.col("week_start").max())
              .sort("days", "week_start"))
        main = by["protocol"][-1]
    days = set() if sessions is None else set(A._session_days(sessions)["date"].drop_nulls())
    week_rows = judge_weeks(weeks, days, table, start=start, logged_to=logged_to)
    training_days = sum(first <= d <= last for d in days)

    pain = _pain(diary, month, last)
    tests_out = _tests(tests, month, last, src_group)
    fl = (F.flare_days(diary.filter(pl.col("date") <= last)) if diary is not None
          else pl.DataFrame(schema={"date": pl.Date}))
    fl_days = F.in_month(fl, month)["date"].to_list()
    nxt = []
    if main is not None and sec.next_steps.height:
        # the most urgent action first, then the protocol's own order of exercises
        order = {e: i for i, e in enumerate(protos[main].exercises)}
        rows = (sec.next_steps.filter(pl.col("action") != "start")
                .with_columns(pl.col("action").replace_strict(_ACTION_ORDER, default=9)
                              .alias("_o"),
                              pl.col("exercise").replace_strict(order, default=len(order))
                              .alias("_e")).sort("_o", "_e"))
        nxt = [NextStep(r["exercise"], A.exercise_name(protos, r), r["action"], r["suggestion"])
               for r in rows.iter_rows(named=True)]
    target_pw = None
    if main is not None:
        override = A.target_override(config)
        target_pw = override if override is not None else protos[main].sessions_per_week
    note = None if sec.protocol_set and main is not None else sec.text
    return MonthSummary(
        participant=participant, month=month, demo=bool(demo), protocol=main,
        protocol_name=short_name(protos[main].name or main) if main is not None else None,
        protocols=tuple(table["protocol"].unique(maintain_order=True)),
        target_per_week=target_pw, start=start, last_record=last_seen, logged_to=logged_to,
        training_days=training_days, weeks=tuple(week_rows), pain=pain, tests=tests_out,
        flares=FlareSummary(len(fl_days), _episodes(fl_days)), next_steps=tuple(nxt),
        protocol_note=note, protocol_set=sec.protocol_set)


def _pain(diary: pl.DataFrame | None, month: str, last: dt.date) -> PainSummary:
    empty = PainSummary(0, None, 0, None, None, None, None, None, None, None,
                        "no diary days with pain")
    if diary is None or diary.height == 0:
        return empty
    diary = diary.filter(pl.col("date") <= last)
    daily = F.daily_pain(diary)
    if F.in_month(daily, month).height == 0:
        return empty
    mp = F.monthly_pain(daily, month)
    now = mp.filter(pl.col("month") == month).row(0, named=True)
    prev = mp.filter(pl.col("month") != month).to_dicts()
    from rehab.models import pain as PM

    ch = PM.important_change(diary, baseline_days=BASELINE_DAYS, window=month).table
    ch = (ch.filter(pl.col("measure") == "pain_nrs").to_dicts() or [None])[0]
    judged = (ch is not None and ch["verdict"] != "not assessed"
              and not (ch["note"] and "overlaps" in ch["note"]))
    note = None
    if not judged:
        note = (ch["note"] if ch is not None and ch["note"] else "no diary days to compare")
        if "overlaps" in note:
            note = f"this month overlaps the first {BASELINE_DAYS} days of the diary"
    return PainSummary(
        days=int(now["n_days"]), mean=now["mean"],
        previous_days=int(prev[0]["n_days"]) if prev else 0,
        previous_mean=prev[0]["mean"] if prev else None,
        change_vs_previous=now["change"], reading_vs_previous=now["verdict"],
        start_mean=ch["baseline"] if judged else None,
        change_vs_start=ch["change"] if judged else None,
        change_pct_vs_start=ch["change_pct"] if judged else None,
        reading_vs_start=ch["verdict"] if judged else None, start_note=note)


def _tests(tests: pl.DataFrame | None, month: str, last: dt.date,
           src_group: str | None) -> tuple[TestSummary, ...]:
    if tests is None or tests.height == 0:
        return ()
    from rehab.plots import test_label

    kw = {"src_group": src_group} if src_group else {}
    best = F.monthly_best(tests.filter(pl.col("date") <= last), month, **kw)
    angles = dict(F.test_series(tests).group_by("test").agg(
        pl.col("bench_angle_deg").drop_nulls().first()).iter_rows())
    order = {t: i for i, t in enumerate(TEST_ORDER)}
    out = []
    for r in sorted(best.iter_rows(named=True),
                    key=lambda r: (order.get(r["test"], len(order)), r["test"])):
        unit = r["unit"] or ("reps" if r["test"].endswith("_reps") else "s")
        out.append(TestSummary(r["test"], test_label(r["test"], angles.get(r["test"])), unit,
                               float(r["best"]), r["previous_best"], r["previous_month"],
                               r["change"], r["src"], r["verdict"]))
    return tuple(out)


__all__ = [
    "WEEK_STATUSES",
    "FlareSummary",
    "MonthSummary",
    "NextStep",
    "PainSummary",
    "TestSummary",
    "WeekSummary",
    "month_summary",
    "short_name",
]
