"""Protocol comparison across people: a linear mixed-effects growth model.

Model (statsmodels ``MixedLM``, REML by default):

    value_ij = β0 + β1·[protocol_i] + (β2 + β3·[protocol_i])·t_ij + u0_i + u1_i·t_ij + ε_ij

with a random intercept ``u0_i`` and random slope ``u1_i`` per participant (correlated, unstructured
2×2 covariance), protocol as a fixed effect and a protocol × time interaction. ``β3`` is the
**slope difference**: how much faster the measure changes per time unit under a protocol than under
the reference. Fixed-effect intervals are Wald intervals with a normal quantile, as statsmodels
reports them.

Time is standardised for fitting, τ = (t − m)/s with m the mean and s the SD of the times analysed:
with raw weeks the intercept and the random-slope variance sit on very different scales and the
optimiser can stop where the Hessian is not positive definite yet report convergence (standard
errors many times too large). A model linear in τ is the same model linear in t, so the estimates
are mapped back exactly: θ (per τ) → β = Aθ (per time unit, levels at t = 0), Cov(β) = A Cov(θ) Aᵀ,
and the random-effect covariance Σ_t = L Σ_τ Lᵀ with L = [[1, −m/s], [0, 1/s]] (a linear map, so
the delta method is exact). A fit whose covariance of the estimates (the inverse of minus the
Hessian) is not finite and positive definite counts as not converged.

When no optimiser converges for the random-slope model, the random-intercept model is fitted
instead (status "random_intercept_only"): the fixed effects keep their meaning, but if slopes
really vary between people the slope differences' standard errors are then too small (Barr et
al. 2013, "Random effects structure for confirmatory hypothesis testing: keep it maximal").
When that does not converge either, the status is "not_converged" and no estimates or intervals
are reported: an unconverged fit's standard errors are not to be trusted.

Assumptions worth saying (docs/SCIENCE.md): ``MixedLM`` supports random intercepts and slopes but only
independent, constant-variance residuals ε; serially correlated measurements (daily pain) or
saturating curves make the intervals too narrow. Growth is linear in t: a saturating response is
summarised by its average slope over the window analysed.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import altair as alt
import numpy as np
import polars as pl
from scipy import stats as sps

from rehab.schema import DEFAULT_PARTICIPANT, TIDY_SCHEMA, require_columns

DEFAULT_REFERENCE = "traditional-core"  # traditional physiotherapy: the natural comparison
# statuses whose estimates and intervals may be shown
FITTED_STATUSES = ("ok", "random_intercept_only")
ASSUMPTION_NOTE = ("MixedLM assumes independent, constant-variance residuals within a person "
                   "(no serial correlation); correlated or saturating series make the intervals "
                   "too narrow")


def attach_protocol(tests: pl.DataFrame, phases: pl.DataFrame) -> pl.DataFrame:
    """Add ``protocol`` and ``phase`` columns to ``tests`` from the phases table by date.

    A test belongs to the phase whose ``start ≤ date ≤ end`` (an empty end runs on); tests outside
    every phase get nulls. Both tables need ``participant`` (defaulted to "me" when absent).
    """
    require_columns(tests, ["date"], "tests")
    require_columns(phases, ["start", "protocol"], "phases")

    def with_pid(df):
        if "participant" in df.columns:
            return df
        return df.with_columns(pl.lit(DEFAULT_PARTICIPANT).alias("participant"))

    t = with_pid(tests).drop([c for c in ("protocol", "phase") if c in tests.columns])
    ph = with_pid(phases).select(
        "participant", "start",
        pl.col("end") if "end" in phases.columns else pl.lit(None, dtype=pl.Date()).alias("end"),
        "protocol",
        pl.col("phase") if "phase" in phases.columns else pl.lit(None, dtype=pl.String()).alias(
            "phase"),
    )
    t = t.with_row_index("_row")
    joined = t.join(ph, on="participant", how="left").filter(
        (pl.col("date") >= pl.col("start"))
        & (pl.col("end").is_null() | (pl.col("date") <= pl.col("end")))
    ).sort("_row", "start").unique("_row", keep="last").select("_row", "protocol", "phase")
    return t.join(joined, on="_row", how="left").sort("_row").drop("_row")


def _empty_fe_cov() -> pl.DataFrame:
    return pl.DataFrame(schema={"term": pl.String()})


def _num(x: float | None, spec: str) -> str:
    """``x`` formatted with ``spec``, or an en dash when there is no number (None)."""
    return "–" if x is None else format(x, spec)


@dataclass(frozen=True)
class GrowthResult:
    """A mixed-effects growth fit. ``status`` is "ok", "random_intercept_only" (the random-slope
    model failed or did not converge and a random-intercept model was fitted instead; ``message``
    says what that means for the intervals), "not_converged" (no optimiser converged for either
    model: no estimates or intervals, ``raw`` holds the best unconverged fit for inspection only)
    or "fit_failed"/"too_little_data" (no estimates; ``message`` says why). :attr:`usable` is True
    for the first two.

    ``tidy``: term, estimate, std_error, ci_low, ci_high, p_value (fixed effects; then the random
    effect SDs, their correlation and the residual SD, without intervals). Where a number cannot
    be computed (a zero standard error: no interval or p-value; a zero random-effect variance: no
    correlation) it is None, never NaN.
    ``slope_difference``: protocol, reference, estimate, std_error, ci_low, ci_high, p_value per
    non-reference protocol (time units of ``time``). ``warnings`` holds every warning raised while
    fitting (e.g. statsmodels ConvergenceWarning) instead of letting it escape.
    ``fe_cov``: the covariance of the fixed effects in time units of ``time`` (column ``term``, then
    one column per fixed-effect term), for contrasts such as b[a] − b[b]. ``raw`` is the statsmodels
    fit on the standardised time (t − ``time_centre``) / ``time_scale`` (see the module docstring).
    """

    status: str
    message: str
    tidy: pl.DataFrame
    slope_difference: pl.DataFrame
    reference: str | None
    protocols: tuple[str, ...]
    time_unit: str
    n_participants: int
    n_obs: int
    random_effects: str
    warnings: tuple[str, ...]
    confidence: float
    data: pl.DataFrame = field(repr=False)
    raw: object = field(repr=False, default=None)
    fe_cov: pl.DataFrame = field(repr=False, default_factory=_empty_fe_cov)
    time_centre: float = 0.0
    time_scale: float = 1.0

    @property
    def usable(self) -> bool:
        """True when the estimates and intervals may be shown (status in FITTED_STATUSES)."""
        return self.status in FITTED_STATUSES

    def summary(self) -> str:
        lines = [f"Mixed-effects growth model: {self.n_obs} tests from {self.n_participants} "
                 f"participants; protocols {', '.join(self.protocols) or '-'} (reference "
                 f"{self.reference}); time in {self.time_unit}"]
        lines.append(f"status: {self.status}" + (f" — {self.message}" if self.message else ""))
        if self.usable:
            lines.append(f"random effects per participant: {self.random_effects}")
            for row in self.slope_difference.iter_rows(named=True):
                lines.append(
                    f"slope difference {row['protocol']} − {row['reference']}: "
                    f"{_num(row['estimate'], '+.3g')} per {self.time_unit.rstrip('s')} "
                    f"({self.confidence:.0%} CI {_num(row['ci_low'], '+.3g')} to "
                    f"{_num(row['ci_high'], '+.3g')}, p = {_num(row['p_value'], '.3g')})")
            for row in self.tidy.iter_rows(named=True):
                ci = (f" [{row['ci_low']:.3g}, {row['ci_high']:.3g}]"
                      if row["ci_low"] is not None and row["ci_high"] is not None else "")
                lines.append(f"  {row['term']:<40} {_num(row['estimate'], '10.4g')}{ci}")
        lines.append(f"note: {ASSUMPTION_NOTE}.")
        lines.append("note: growth is linear in time; a saturating response is summarised by its "
                     "average slope over the window analysed.")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def chart(self, *, title: str | None = None) -> alt.LayerChart:
        """Each participant's tests (thin lines) and the fixed-effect line per protocol."""
        pts = self.data.select("participant", "protocol", "time", "value")
        layers = [alt.Chart(pts).mark_line(opacity=0.25, strokeWidth=1).encode(
            x=alt.X("time:Q", title=f"time ({self.time_unit})"),
            y=alt.Y("value:Q", title="test value"),
            detail="participant:N", color=alt.Color("protocol:N", title="protocol"))]
        if self.usable:
            est = {r["term"]: r["estimate"] for r in self.tidy.iter_rows(named=True)}
            tmax = float(pts["time"].max())
            rows = []
            for p in self.protocols:
                b0 = est["intercept"] + (est.get(f"protocol[{p}]", 0.0) if p != self.reference
                                         else 0.0)
                b1 = est["time"] + (est.get(f"protocol[{p}]:time", 0.0) if p != self.reference
                                    else 0.0)
                rows += [{"protocol": p, "time": 0.0, "fit": b0},
                         {"protocol": p, "time": tmax, "fit": b0 + b1 * tmax}]
            fe = pl.DataFrame(rows)
            layers.append(alt.Chart(fe).mark_line(strokeWidth=3).encode(
                x="time:Q", y=alt.Y("fit:Q", title="test value"), color="protocol:N"))
        return alt.layer(*layers).properties(
            title=title or "Growth by protocol (thin: people; thick: mixed-model mean)",
            width=560, height=280)


# Optimisers tried in turn until one reports convergence: L-BFGS (fast), then Powell (the gradient
# methods can stall on a random-slope variance near its boundary), then Nelder-Mead.
OPTIMISERS = ("lbfgs", "powell", "nm")


def _covariance_ok(res) -> bool:
    """True when the covariance of all estimates (fixed effects and variance parameters: the
    inverse of minus the Hessian of the log-likelihood) is finite and positive definite.

    statsmodels only warns when a diagonal entry of the Hessian is non-negative and still reports
    convergence; an indefinite Hessian means the optimiser stopped at a saddle or a ridge, not at
    the maximum, even where the fixed-effect block alone looks fine."""
    cov = np.asarray(res.cov_params(), dtype=float)
    if not np.all(np.isfinite(cov)):
        return False
    try:
        np.linalg.cholesky((cov + cov.T) / 2)
    except np.linalg.LinAlgError:
        return False
    return True


def _fit_best(mixedlm, endog, exog, groups, exog_re, reml, kind, notes):
    """``(fit, converged)``: the first converged fit in :data:`OPTIMISERS` order and True, else
    the unconverged one with the highest log-likelihood and False (with a note), else
    ``(None, False)``; every warning is recorded in ``notes``, none escapes.

    Converged means statsmodels says so *and* :func:`_covariance_ok`; a fit whose fixed-effect
    standard errors are not finite is not used at all. An unconverged fit is for inspection only:
    its standard errors are not to be trusted."""
    fits, good = [], []
    for method in OPTIMISERS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                res = mixedlm(endog, exog, groups=groups, exog_re=exog_re).fit(reml=reml,
                                                                              method=method)
            except (np.linalg.LinAlgError, ValueError, ZeroDivisionError) as e:
                notes.append(f"random {kind} ({method}): failed: {e}")
                res = None
        for w in dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught):
            notes.append(f"random {kind} ({method}): {w}")
        if res is None or not (np.all(np.isfinite(res.fe_params)) and np.isfinite(res.llf)):
            continue
        if not np.all(np.isfinite(res.bse_fe)):
            notes.append(f"random {kind} ({method}): the fixed-effect standard errors are not "
                         "finite; fit discarded")
            continue
        fits.append(res)
        if res.converged and not _covariance_ok(res):
            notes.append(f"random {kind} ({method}): the covariance of the estimates (inverse "
                         "Hessian) is not positive definite; treated as not converged")
        elif res.converged:
            good.append(res)
            break
    if not fits:
        return None, False
    if good:
        return good[0], True
    notes.append(f"random {kind}: no optimiser converged to a positive definite Hessian "
                 f"({len(fits)} unconverged attempt(s)); not used for estimates")
    return max(fits, key=lambda f: f.llf), False


def _to_time_units(fitted, names, others, centre, scale):
    """Fixed effects, their covariance and the random-effect covariance of a fit on standardised
    time τ = (t − m)/s mapped back to time t (m = ``centre``, s = ``scale``).

    Level terms (intercept, protocol[p]) become levels at t = 0: b_t = b_τ − (m/s)·slope_τ; slope
    terms (time, protocol[p]:time) become per unit of t: slope_t = slope_τ / s. With β = Aθ,
    Cov(β) = A Cov(θ) Aᵀ; random effects u0 + u1·τ = (u0 − (m/s)·u1) + (u1/s)·t give
    Σ_t = L Σ_τ Lᵀ, L = [[1, −m/s], [0, 1/s]]. Linear maps, so these are exact."""
    k = len(names)
    idx = {n: i for i, n in enumerate(names)}
    a = np.eye(k)
    for level, slope in [("intercept", "time")] + [(f"protocol[{p}]", f"protocol[{p}]:time")
                                                   for p in others]:
        a[idx[level], idx[slope]] = -centre / scale
        a[idx[slope], idx[slope]] = 1.0 / scale
    theta = np.asarray(fitted.fe_params, dtype=float)
    cov_theta = np.asarray(fitted.cov_params(), dtype=float)[:k, :k]
    cov_re = np.asarray(fitted.cov_re, dtype=float)
    if cov_re.shape[0] > 1:
        lin = np.array([[1.0, -centre / scale], [0.0, 1.0 / scale]])
        cov_re = lin @ cov_re @ lin.T
    return a @ theta, a @ cov_theta @ a.T, cov_re



_DIFF_SCHEMA = {"protocol": pl.String(), "reference": pl.String(), "estimate": pl.Float64(),
                "std_error": pl.Float64(), "ci_low": pl.Float64(), "ci_high": pl.Float64(),
                "p_value": pl.Float64()}


def fit_growth(
    tests: pl.DataFrame,
    *,
    protocol_col: str = "protocol",
    time: str = "weeks",
    participant_col: str = "participant",
    value_col: str = "value",
    reference: str | None = None,
    test: str | None = None,
    confidence: float = 0.95,
    reml: bool = True,
) -> GrowthResult:
    """Fit a linear growth model with random intercept and slope per participant.

    ``tests``: one row per test with participant, protocol (see :func:`attach_protocol`) and either
    ``date`` (``time="weeks"``: weeks since the participant's first test in the frame, or
    ``time="days"``) or a numeric column named by ``time``. ``test`` picks one test id when a
    ``test`` column holds several. ``reference``: the protocol the others are compared with
    (default: "traditional-core" when present, else the first in alphabetical order). Returns
    :class:`GrowthResult`; convergence warnings are recorded in ``.warnings``, and a random-slope
    model that fails or does not converge falls back to a random intercept (status
    "random_intercept_only"); if that does not converge either the status is "not_converged"
    with no estimates — never an exception for data. Time is standardised
    for the optimiser and every estimate is reported back per unit of ``time``, levels at time 0
    (module docstring).
    """
    import pandas as pd
    from statsmodels.regression.mixed_linear_model import MixedLM

    if not isinstance(tests, pl.DataFrame):
        raise ValueError(f"tests must be a polars DataFrame, got {type(tests).__name__}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence!r} is not allowed: give a number between 0 and 1")
    df = tests
    if participant_col not in df.columns:
        df = df.with_columns(pl.lit(DEFAULT_PARTICIPANT).alias(participant_col))
    need = [protocol_col, value_col] + (["date"] if time in ("weeks", "days") else [time])
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValueError(f"tests lacks column(s) {', '.join(missing)}: fit_growth needs "
                         f"{', '.join(need)} (protocol from phases: see attach_protocol)")
    if "test" in df.columns:
        ids = sorted(v for v in df["test"].unique().to_list() if v is not None)
        if test is not None:
            df = df.filter(pl.col("test") == test)
        elif len(ids) > 1:
            raise ValueError(f"tests hold {len(ids)} tests ({', '.join(ids)}): pass test=...")
    df = df.filter(pl.col(value_col).is_not_null() & pl.col(protocol_col).is_not_null())
    if time in ("weeks", "days"):
        div = 7.0 if time == "weeks" else 1.0
        df = df.filter(pl.col("date").is_not_null()).with_columns(
            ((pl.col("date") - pl.col("date").min().over(participant_col)).dt.total_days()
             / div).alias("_time"))
        time_unit = time
    else:
        if not df.schema[time].is_numeric():
            raise ValueError(f"time column {time!r} has type {df.schema[time]}: give a numeric "
                             "column, or time='weeks'/'days' to count from each person's first test")
        df = df.filter(pl.col(time).is_not_null()).with_columns(
            pl.col(time).cast(pl.Float64()).alias("_time"))
        time_unit = time
    data = df.select(
        pl.col(participant_col).cast(pl.String()).alias("participant"),
        pl.col(protocol_col).cast(pl.String()).alias("protocol"),
        pl.col("_time").alias("time"),
        pl.col(value_col).cast(pl.Float64()).alias("value"),
    ).sort("participant", "time")
    protocols = tuple(sorted(data["protocol"].unique().to_list()))
    if reference is None:
        # the comparison protocol of the design when present, else the first alphabetically
        reference = (DEFAULT_REFERENCE if DEFAULT_REFERENCE in protocols
                     else (protocols[0] if protocols else None))
    elif reference not in protocols:
        raise ValueError(f"reference={reference!r} is not among the protocols "
                         f"({', '.join(protocols)})")
    n_part = data["participant"].n_unique()
    notes: list[str] = []
    multi = data.group_by("participant").agg(pl.col("protocol").n_unique().alias("k")).filter(
        pl.col("k") > 1)
    if multi.height:
        notes.append(f"{multi.height} participant(s) followed several protocols in these data; "
                     "the protocol effect then mixes within- and between-person contrasts")

    def result(status, message, tidy=None, diff=None, re="", raw=None, fe_cov=None, centre=0.0,
               scale=1.0):
        return GrowthResult(
            status=status, message=message,
            tidy=tidy if tidy is not None else pl.DataFrame(schema=TIDY_SCHEMA),
            slope_difference=diff if diff is not None else pl.DataFrame(schema=_DIFF_SCHEMA),
            reference=reference, protocols=protocols, time_unit=time_unit,
            n_participants=n_part, n_obs=data.height, random_effects=re,
            warnings=tuple(notes), confidence=confidence, data=data, raw=raw,
            fe_cov=fe_cov if fe_cov is not None else _empty_fe_cov(),
            time_centre=centre, time_scale=scale)

    if len(protocols) < 2:
        return result("too_little_data", f"{len(protocols)} protocol(s) in the data: a comparison "
                      "needs at least 2")
    per = data.group_by("protocol").agg(pl.col("participant").n_unique().alias("n"))
    if per["n"].min() < 2 or data.height < 2 * n_part or n_part < 4:
        return result("too_little_data", "each protocol needs at least 2 participants and the "
                      "cohort at least 4 with repeated tests")

    others = [p for p in protocols if p != reference]
    t = data["time"].to_numpy()
    # the optimiser sees standardised time (module docstring); estimates are mapped back below
    centre = float(t.mean())
    spread = float(t.std(ddof=1)) if t.size > 1 else 0.0
    scale = spread if math.isfinite(spread) and spread > 0 else 1.0
    tau = (t - centre) / scale
    exog = {"intercept": np.ones(data.height)}
    for p in others:
        exog[f"protocol[{p}]"] = (data["protocol"] == p).to_numpy().astype(float)
    exog["time"] = tau
    for p in others:
        exog[f"protocol[{p}]:time"] = exog[f"protocol[{p}]"] * tau
    exog_pd = pd.DataFrame(exog)
    endog = pd.Series(data["value"].to_numpy(), name="value")
    groups = data["participant"].to_numpy()

    fitted, re_kind, unconverged = None, "", None
    for kind, exog_re in (("intercept and slope", exog_pd[["intercept", "time"]]),
                          ("intercept only", exog_pd[["intercept"]])):
        fit, converged = _fit_best(MixedLM, endog, exog_pd, groups, exog_re, reml, kind, notes)
        if converged:
            fitted, re_kind = fit, kind
            break
        if unconverged is None:  # the slope model's, when it has one
            unconverged = fit
    if fitted is None and unconverged is not None:
        # an unconverged fit's standard errors are not to be trusted: no estimates reported
        return result("not_converged", "no optimiser converged, neither for the random intercept "
                      "and slope model nor for the random-intercept-only model; no estimates or "
                      "intervals are reported (see warnings)", raw=unconverged, centre=centre,
                      scale=scale)
    if fitted is None:
        return result("fit_failed", "the mixed model could not be fitted (see warnings)")

    names = list(exog_pd.columns)
    beta, cov_fe, cov_re = _to_time_units(fitted, names, others, centre, scale)
    z = float(sps.norm.ppf(0.5 + confidence / 2))
    rows = []
    for i, name in enumerate(names):
        est, se = float(beta[i]), math.sqrt(max(float(cov_fe[i, i]), 0.0))
        if se > 0:
            # Wald z, as statsmodels reports MixedLM p-values
            rows.append((name, est, se, est - z * se, est + z * se,
                         2 * float(sps.norm.sf(abs(est / se)))))
        else:
            # a zero standard error is a degenerate covariance, not certainty: no interval, no p
            rows.append((name, est, se, None, None, None))
    rows.append(("sd(participant intercept)", math.sqrt(max(cov_re[0, 0], 0.0)), None, None, None,
                 None))
    if cov_re.shape[0] > 1:
        rows.append(("sd(participant slope)", math.sqrt(max(cov_re[1, 1], 0.0)), None, None, None,
                     None))
        denom = math.sqrt(max(cov_re[0, 0] * cov_re[1, 1], 0.0))
        corr = float(cov_re[0, 1] / denom) if denom > 0 else None  # undefined for a zero variance
        rows.append(("corr(intercept, slope)", corr, None, None, None, None))
        # judged on the standardised scale, where the fit is well conditioned (an intercept far
        # from the data's mean time is strongly correlated with the slope for no fault of the fit)
        fit_re = np.asarray(fitted.cov_re, dtype=float)
        fit_denom = math.sqrt(max(fit_re[0, 0] * fit_re[1, 1], 0.0))
        if not (fit_denom > 0 and abs(fit_re[0, 1] / fit_denom) < 0.99):
            notes.append("the random intercept and slope are perfectly correlated (or the slope "
                         "variance is zero): the random-effect covariance sits on its boundary; "
                         "the fixed effects are usable, the variance components are not")
    rows.append(("residual sd", math.sqrt(float(fitted.scale)), None, None, None, None))
    tidy = pl.DataFrame(rows, schema=TIDY_SCHEMA, orient="row")
    diff = pl.DataFrame(
        [(p, reference, *[r for r in rows if r[0] == f"protocol[{p}]:time"][0][1:]) for p in others],
        schema=_DIFF_SCHEMA, orient="row")
    fe_cov = pl.DataFrame({"term": names, **{n: cov_fe[:, i] for i, n in enumerate(names)}})
    status = "ok" if re_kind == "intercept and slope" else "random_intercept_only"
    msg = "" if status == "ok" else (
        "the random intercept and slope model did not converge (or failed), so a random intercept "
        "only model was fitted: if slopes vary between participants, the slope differences' "
        "intervals are too narrow and their p-values too small")
    return result(status, msg, tidy, diff, re_kind, fitted, fe_cov, centre, scale)
