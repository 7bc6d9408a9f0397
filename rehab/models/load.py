"""Training load: session load, daily load, EWMA fitness/fatigue/form and the Banister model.

Formulas and sources (see ``docs/SCIENCE.md``):

- **Session load** (Foster 2001): session RPE (CR-10, rated 15-30 min after) × duration in minutes,
  in arbitrary units (AU).
- **EWMA fitness/fatigue** (GoldenCheetah ``PMCData.cpp``): each day
  ``CTL = load·(1 − e^(−1/42)) + CTL_prev·e^(−1/42)``; ATL likewise with 7 days;
  ``form = CTL − ATL`` shown the next day (today's form is yesterday's CTL − ATL);
  ``ramp = CTL − CTL seven days earlier``. The day constants come from :mod:`rehab.norms`.
- **Banister impulse-response** (Banister 1975; Clarke & Skiba 2013, Adv Physiol Educ 37:134):
  ``p(t) = p0 + k1·Σ w(s)·e^(−(t−s)/τ1) − k2·Σ w(s)·e^(−(t−s)/τ2)`` with ``k2 > k1 ≥ 0`` and
  ``τ1 > τ2 > 0``; the sums run over ``s ≤ t`` (test-day load included) or ``s < t``.

The exponential sums are computed as first-order recursive filters (``scipy.signal.lfilter``), so a
year of daily loads costs microseconds, not a double loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import altair as alt
import numpy as np
import polars as pl
from scipy import optimize, signal
from scipy import stats as sps

from rehab import norms
from rehab.schema import DEFAULT_PARTICIPANT, require_columns, tidy_schema


def _ewma(load: np.ndarray, days: float, start: float = 0.0) -> np.ndarray:
    """x_t = load_t·(1 − a) + x_{t−1}·a with a = e^(−1/days), x_{−1} = start (recursive filter)."""
    a = math.exp(-1.0 / days)
    zi = signal.lfiltic([1.0 - a], [1.0, -a], y=[start])
    return signal.lfilter([1.0 - a], [1.0, -a], load, zi=zi)[0]


def fitness_fatigue(
    daily: pl.DataFrame,
    *,
    ctl_days: float = norms.CTL_DAYS,
    atl_days: float = norms.ATL_DAYS,
    ctl_start: float = 0.0,
    atl_start: float = 0.0,
) -> pl.DataFrame:
    """EWMA fitness (CTL), fatigue (ATL), form and ramp, exactly as GoldenCheetah's PMC.

    ``CTL_t = load_t·(1 − e^(−1/ctl_days)) + CTL_{t−1}·e^(−1/ctl_days)`` (42 days by default);
    ATL likewise with ``atl_days`` (7); ``form_t = CTL_{t−1} − ATL_{t−1}`` (form is shown the next
    day; on the first day it is ``ctl_start − atl_start``); ``ramp_t = CTL_t − CTL_{t−7}`` (null for
    the first seven days). Missing days are filled with load 0 and null loads count 0.

    ``daily`` has ``day`` (date) and ``load`` columns, e.g. from :func:`rehab.features.daily_load`; with a
    ``participant`` column each person gets their own series. Returns participant, day, load, ctl,
    atl, form, ramp.
    """
    require_columns(daily, ["day", "load"], "daily")
    for name, v in (("ctl_days", ctl_days), ("atl_days", atl_days)):
        if not (isinstance(v, (int, float)) and v > 0):
            raise ValueError(f"fitness_fatigue: {name}={v!r} is not allowed: give a number of days > 0")
    if "participant" not in daily.columns:
        daily = daily.with_columns(pl.lit(DEFAULT_PARTICIPANT).alias("participant"))
    schema = {"participant": pl.String(), "day": pl.Date(), "load": pl.Float64(),
              "ctl": pl.Float64(), "atl": pl.Float64(), "form": pl.Float64(), "ramp": pl.Float64()}
    frames = []
    for pid in sorted(daily["participant"].unique().to_list()):
        mine = (
            daily.filter(pl.col("participant") == pid)
            .select(pl.col("day").cast(pl.Date()), pl.col("load").cast(pl.Float64()))
            .group_by("day").agg(pl.col("load").fill_null(0.0).sum())
        )
        if mine.height == 0:
            continue
        days = pl.DataFrame({"day": pl.date_range(mine["day"].min(), mine["day"].max(), "1d",
                                                   eager=True)})
        mine = days.join(mine, on="day", how="left").with_columns(pl.col("load").fill_null(0.0))
        w = mine["load"].to_numpy()
        ctl = _ewma(w, ctl_days, ctl_start)
        atl = _ewma(w, atl_days, atl_start)
        form = np.concatenate([[ctl_start - atl_start], (ctl - atl)[:-1]])
        ramp = np.full(len(w), np.nan)
        ramp[7:] = ctl[7:] - ctl[:-7]
        frames.append(mine.with_columns(
            pl.lit(pid).alias("participant"),
            pl.Series("ctl", ctl), pl.Series("atl", atl), pl.Series("form", form),
            pl.Series("ramp", ramp).fill_nan(None),
        ))
    if not frames:
        return pl.DataFrame(schema=schema)
    return pl.concat(frames).select(list(schema)).cast(schema)


def fitness_fatigue_chart(
    ff: pl.DataFrame,
    *,
    title: str | None = None,
    ctl_days: float = norms.CTL_DAYS,
    atl_days: float = norms.ATL_DAYS,
) -> alt.Chart:
    """Fitness (CTL), fatigue (ATL) and form over time, from :func:`fitness_fatigue` output.

    ``ctl_days``/``atl_days`` label the series: pass the values given to :func:`fitness_fatigue`."""
    require_columns(ff, ["day", "ctl", "atl", "form"], "fitness_fatigue output")
    long = ff.select(
        pl.col("day").cast(pl.String()),
        pl.col("ctl").alias(f"fitness (CTL, {ctl_days:g} d)"),
        pl.col("atl").alias(f"fatigue (ATL, {atl_days:g} d)"),
        pl.col("form").alias("form (CTL − ATL, previous day)"),
    ).unpivot(index="day", variable_name="series", value_name="value_au")
    return (
        alt.Chart(long)
        .mark_line()
        .encode(
            x=alt.X("day:T", title="date"),
            y=alt.Y("value_au:Q", title="training load (AU: session RPE × min)"),
            color=alt.Color("series:N", title=None),
            strokeDash=alt.StrokeDash("series:N", legend=None),
        )
        .properties(title=title or "Fitness, fatigue and form (EWMA of daily load)", width=560,
                    height=240)
    )


# ------------------------------------------------------------------------------------------------
# Banister impulse-response model
# ------------------------------------------------------------------------------------------------

BANISTER_PARAMS = ("p0", "k1", "k2", "tau1", "tau2")
DEFAULT_TAU_BOUNDS = (1.0, 100.0)  # days; published fits range about 4-74 d


def _day_numbers(loads: pl.DataFrame, tests: pl.DataFrame | None):
    """Integer day numbers for loads (and tests) from a common origin; kind 'date' or 'int'."""
    kinds = set()
    for df in (loads, tests):
        if df is None:
            continue
        dtype = df.schema["day"]
        if dtype == pl.Date() or dtype == pl.Datetime:
            kinds.add("date")
        elif dtype.is_integer():
            kinds.add("int")
        else:
            raise ValueError(f"column 'day' has type {dtype}: give integer day numbers or dates")
    if len(kinds) > 1:
        raise ValueError("loads and tests mix dates and integer day numbers in 'day': use one kind")
    kind = kinds.pop() if kinds else "int"

    def to_int(df):
        if kind == "date":
            return df["day"].cast(pl.Date()).cast(pl.Int64()).to_numpy()
        return df["day"].cast(pl.Int64()).to_numpy()

    ld = to_int(loads)
    td = to_int(tests) if tests is not None else np.array([], dtype=np.int64)
    both = np.concatenate([ld, td])
    origin = int(both.min()) if both.size else 0
    return kind, origin, ld - origin, td - origin


def _daily_array(ld: np.ndarray, w: np.ndarray, n_days: int) -> np.ndarray:
    daily = np.zeros(n_days)
    np.add.at(daily, ld, np.nan_to_num(w, nan=0.0))
    return daily


def _impulse(daily: np.ndarray, tau: float, include_today: bool) -> np.ndarray:
    """g(t) = Σ_{s ≤ t} w(s)·e^(−(t−s)/τ) (or s < t) for every day, as a recursive filter."""
    a = math.exp(-1.0 / tau)
    g = signal.lfilter([1.0], [1.0, -a], daily)
    return g if include_today else g - daily


def _impulse_dtau(daily: np.ndarray, tau: float) -> np.ndarray:
    """∂g/∂τ = Σ w(s)·(t−s)·e^(−(t−s)/τ) / τ² (the k = 0 term is zero, so s ≤ t and s < t agree)."""
    a = math.exp(-1.0 / tau)
    h = signal.lfilter([0.0, a], [1.0, -2.0 * a, a * a], daily)
    return h / (tau * tau)


def _as_day_frame(days: np.ndarray, kind: str, origin: int, values: dict) -> pl.DataFrame:
    d = pl.Series("day", days + origin, dtype=pl.Int64())
    if kind == "date":
        d = d.cast(pl.Int32()).cast(pl.Date())
    return pl.DataFrame([d, *[pl.Series(k, v) for k, v in values.items()]])


def _check_params(params: dict) -> dict:
    missing = [k for k in BANISTER_PARAMS if k not in params]
    if missing:
        raise ValueError(f"Banister params lack {', '.join(missing)}: give {', '.join(BANISTER_PARAMS)}")
    p = {k: float(params[k]) for k in BANISTER_PARAMS}
    if not (p["tau1"] > 0 and p["tau2"] > 0):
        raise ValueError(f"tau1={p['tau1']} and tau2={p['tau2']} must both be > 0 days")
    return p


def banister_curve(
    loads: pl.DataFrame,
    params: dict,
    *,
    include_test_day_load: bool = True,
    days=None,
) -> pl.DataFrame:
    """Banister performance for every day of ``loads`` (``day``, ``load``), or for ``days``.

    ``p(t) = p0 + k1·Σ w(s)·e^(−(t−s)/τ1) − k2·Σ w(s)·e^(−(t−s)/τ2)`` over ``s ≤ t`` when
    ``include_test_day_load`` (Clarke & Skiba 2013 need this to reproduce their fit), else ``s < t``.
    Days without a row have load 0. Returns columns day (same kind as the input), performance.
    """
    require_columns(loads, ["day", "load"], "loads")
    p = _check_params(params)
    tests = None
    if days is not None:
        ser = pl.Series("day", list(days) if not isinstance(days, pl.Series) else days)
        tests = pl.DataFrame([ser])
    kind, origin, ld, td = _day_numbers(loads, tests)
    last = int(max(ld.max(initial=0), td.max(initial=0)))
    daily = _daily_array(ld, loads["load"].cast(pl.Float64()).fill_null(0.0).to_numpy(), last + 1)
    g1 = _impulse(daily, p["tau1"], include_test_day_load)
    g2 = _impulse(daily, p["tau2"], include_test_day_load)
    perf = p["p0"] + p["k1"] * g1 - p["k2"] * g2
    idx = np.arange(last + 1) if days is None else td
    if days is not None and (idx < 0).any():
        # days before the first load: no training yet, performance = p0
        out = np.where(idx < 0, p["p0"], perf[np.clip(idx, 0, None)])
    else:
        out = perf[idx]
    return _as_day_frame(idx, kind, origin, {"performance": out})


def _inner_ls(gram: np.ndarray, rhs: np.ndarray, yy: float):
    """Box-constrained least squares for (p0, k1, d) with k1 ≥ 0, d = k2 − k1 ≥ 0, vectorised.

    gram: (..., 3, 3) normal matrix of the columns [1, g1 − g2, −g2]; rhs: (..., 3) = Xᵀy.
    The optimum of a convex QP with box constraints is the best feasible solution among the
    unconstrained solutions on each face (active sets {}, {k1}, {d}, {k1, d}).
    """
    best_rss = np.full(gram.shape[:-2], np.inf)
    best_beta = np.zeros(gram.shape[:-1])
    for free in ((0, 1, 2), (0, 2), (0, 1), (0,)):
        f = np.array(free)
        g = gram[..., f[:, None], f[None, :]]
        r = rhs[..., f]
        beta_f = np.einsum("...ij,...j->...i", np.linalg.pinv(g, rcond=1e-12), r)
        rss = yy - np.einsum("...i,...i->...", beta_f, r)
        beta = np.zeros(gram.shape[:-1])
        beta[..., f] = beta_f
        ok = (beta[..., 1] >= -1e-12) & (beta[..., 2] >= -1e-12)
        better = ok & (rss < best_rss - 1e-12)
        best_rss = np.where(better, rss, best_rss)
        best_beta = np.where(better[..., None], beta, best_beta)
    return np.maximum(best_rss, 0.0), np.clip(best_beta, [-np.inf, 0.0, 0.0], np.inf)


@dataclass(frozen=True)
class BanisterResult:
    """A Banister fit. ``params`` holds p0, k1, k2, tau1, tau2 (None when not fitted).

    ``tidy``: term, estimate, std_error, ci_low, ci_high; standard errors are asymptotic, from the
    Jacobian at the optimum (``s²·(JᵀJ)⁻¹``); intervals are Wald with a t quantile (on the log scale
    for τ; cut at 0 for k1 and k2, which the constraints keep ≥ 0). Fixed taus have no standard
    error. ``warnings`` holds data notes (e.g. missing loads counted as 0). ``identifiability`` lists every reason the data
    cannot pin the parameters down (empty when none was found).
    """

    status: str
    message: str
    params: dict
    tidy: pl.DataFrame
    r_squared: float | None
    rmse: float | None
    n_tests: int
    identifiability: tuple[str, ...]
    include_test_day_load: bool
    fixed_tau: tuple[float, float] | None
    uncertainty_method: str
    warnings: tuple[str, ...] = ()
    correlation: pl.DataFrame | None = field(repr=False, default=None)
    _daily: np.ndarray = field(repr=False, default=None)
    _kind: str = field(repr=False, default="int")
    _origin: int = field(repr=False, default=0)
    _test_days: np.ndarray = field(repr=False, default=None)
    _test_values: np.ndarray = field(repr=False, default=None)

    @property
    def is_identified(self) -> bool:
        return self.status == "ok" and not self.identifiability

    def curve(self) -> pl.DataFrame:
        """Modelled performance for every day of the loads: day, performance."""
        if self.status != "ok":
            raise ValueError(f"no Banister curve: {self.message}")
        loads = _as_day_frame(np.arange(len(self._daily)), self._kind, self._origin,
                              {"load": self._daily})
        return banister_curve(loads, self.params, include_test_day_load=self.include_test_day_load)

    def predict(self, days) -> pl.DataFrame:
        """Modelled performance on ``days`` (integer day numbers or dates, as in the fit)."""
        if self.status != "ok":
            raise ValueError(f"no Banister prediction: {self.message}")
        loads = _as_day_frame(np.arange(len(self._daily)), self._kind, self._origin,
                              {"load": self._daily})
        return banister_curve(loads, self.params, include_test_day_load=self.include_test_day_load,
                              days=days)

    def summary(self) -> str:
        lines = ["Banister impulse-response fit (fitness − fatigue)"]
        lines.append(f"status: {self.status}" + (f" — {self.message}" if self.message else ""))
        lines.append(f"tests: {self.n_tests}; test-day load "
                     + ("included (s ≤ t)" if self.include_test_day_load else "excluded (s < t)"))
        lines.extend(f"note: {w}" for w in self.warnings)
        if self.status == "ok":
            if self.fixed_tau:
                lines.append(f"time constants fixed at τ1 = {self.fixed_tau[0]:g} d, "
                             f"τ2 = {self.fixed_tau[1]:g} d")
            for row in self.tidy.iter_rows(named=True):
                se = row["std_error"]
                ci = (f"[{row['ci_low']:.4g}, {row['ci_high']:.4g}]"
                      if row["ci_low"] is not None else "(fixed)")
                lines.append(f"  {row['term']:>5} = {row['estimate']:.4g}"
                             + (f" ± {se:.3g} (SE)" if se is not None else "") + f"  {ci}")
            lines.append(f"R² = {self.r_squared:.3f}, RMSE = {self.rmse:.3g}")
            lines.append(f"uncertainty: {self.uncertainty_method}")
            if self.identifiability:
                lines.append("identifiability warning — the data cannot pin the parameters down:")
                lines.extend(f"  - {m}" for m in self.identifiability)
                lines.append("  Fix τ (e.g. 42/7 d), narrow the τ bounds, or add tests before "
                             "trusting the parameters.")
        return "\n".join(lines)

    def chart(self, *, title: str | None = None) -> alt.Chart:
        """Test results (points) and the modelled performance (line)."""
        pts = _as_day_frame(self._test_days, self._kind, self._origin,
                            {"value": self._test_values}) if self._test_days is not None else None
        xtype = "T" if self._kind == "date" else "Q"
        xtitle = "date" if self._kind == "date" else "day"
        layers = []
        if pts is not None:
            p = pts.with_columns(pl.col("day").cast(pl.String())) if xtype == "T" else pts
            layers.append(alt.Chart(p).mark_point(filled=True, size=50, color="black").encode(
                x=alt.X(f"day:{xtype}", title=xtitle), y=alt.Y("value:Q", title="performance")))
        if self.status == "ok":
            c = self.curve()
            c = c.with_columns(pl.col("day").cast(pl.String())) if xtype == "T" else c
            layers.append(alt.Chart(c).mark_line().encode(
                x=alt.X(f"day:{xtype}", title=xtitle), y=alt.Y("performance:Q", title="performance")))
        head = title or "Banister model: tests and modelled performance"
        if self.identifiability:
            head = [head, "warning: parameters poorly identified (see summary)"]
        return alt.layer(*layers).properties(title=head, width=560, height=260)


def _empty_tidy() -> pl.DataFrame:
    return pl.DataFrame(schema=tidy_schema(p_value=False))


def fit_banister(
    loads: pl.DataFrame,
    tests: pl.DataFrame,
    *,
    include_test_day_load: bool = True,
    fixed_tau: tuple[float, float] | bool | None = None,
    bounds: dict | None = None,
    grid_size: int = 48,
    confidence: float = 0.95,
) -> BanisterResult:
    """Fit the Banister fitness-fatigue model to test results.

    ``loads``: ``day`` and ``load`` (days without a row have load 0; null loads count 0).
    ``tests``: ``day`` and ``value``. ``day`` is an integer day number or a date, the same kind in
    both frames.

    Constraints ``k2 > k1 ≥ 0`` and ``τ1 > τ2 > 0`` hold by construction: for fixed (τ1, τ2) the
    model is linear in (p0, k1, d = k2 − k1), solved as a box-constrained least-squares problem
    (variable projection); (τ1, τ2) are searched on a log grid inside ``bounds`` (default
    ``tau1``/``tau2`` in 1-100 d) and refined with Nelder-Mead. ``fixed_tau=(τ1, τ2)`` fixes them;
    ``fixed_tau=True`` uses the platforms' 42/7 d (:data:`rehab.norms.CTL_DAYS`/``ATL_DAYS``).
    ``bounds`` may hold ``tau1`` and ``tau2`` ranges in days (p0, k1, k2 are not bounded other than
    by the constraints).

    A free fit is poorly identified on typical data (Marchal 2025; Hellard 2006): the result's
    ``identifiability`` lists huge standard errors, correlations above 0.95, k1 ≈ k2, τ1 ≈ τ2 or
    parameters on a bound. Too few tests give ``status="too_few_tests"``, never an exception.
    """
    require_columns(loads, ["day", "load"], "loads")
    require_columns(tests, ["day", "value"], "tests")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence!r} is not allowed: give a number between 0 and 1")
    if fixed_tau is True:
        fixed_tau = (norms.CTL_DAYS, norms.ATL_DAYS)
    elif fixed_tau is False:
        fixed_tau = None
    if fixed_tau is not None:
        if len(fixed_tau) != 2 or not fixed_tau[0] > fixed_tau[1] > 0:
            raise ValueError(f"fixed_tau={fixed_tau!r} is not allowed: give (tau1, tau2) days with "
                             "tau1 > tau2 > 0, or True for 42/7 d")
        fixed_tau = (float(fixed_tau[0]), float(fixed_tau[1]))
    tb = {"tau1": DEFAULT_TAU_BOUNDS, "tau2": DEFAULT_TAU_BOUNDS}
    for k, v in (bounds or {}).items():
        if k not in tb:
            raise ValueError(f"bounds[{k!r}] is not supported: give bounds for tau1 and/or tau2 "
                             "(k2 > k1 ≥ 0 is always enforced)")
        if len(v) != 2 or not 0 < v[0] < v[1]:
            raise ValueError(f"bounds[{k!r}]={v!r} is not allowed: give (low, high) days, 0 < low < high")
        tb[k] = (float(v[0]), float(v[1]))
    if tb["tau1"][1] <= tb["tau2"][0]:
        raise ValueError(f"bounds leave no room for tau1 > tau2: tau1 {tb['tau1']}, tau2 {tb['tau2']}")

    tests = tests.filter(pl.col("value").is_not_null() & pl.col("day").is_not_null())
    loads = loads.filter(pl.col("day").is_not_null())
    kind, origin, ld, td = _day_numbers(loads, tests)
    y = tests["value"].cast(pl.Float64()).to_numpy()
    n_days = int(max(ld.max(initial=0), td.max(initial=0))) + 1
    daily = _daily_array(ld, loads["load"].cast(pl.Float64()).to_numpy(), n_days)
    n_null = int(loads["load"].is_null().sum())
    n = len(y)
    n_free = 3 if fixed_tau else 5
    common = dict(include_test_day_load=include_test_day_load, fixed_tau=fixed_tau,
                  _daily=daily, _kind=kind, _origin=origin, _test_days=td, _test_values=y)
    method = ("asymptotic standard errors from the Jacobian at the optimum, s²·(JᵀJ)⁻¹; Wald "
              f"intervals at {confidence:.0%} with a t quantile (log scale for τ)")

    data_warnings = ((f"{n_null} load value(s) were missing and counted as 0",) if n_null else ())

    def fail(status, message):
        return BanisterResult(status=status, message=message, params={}, tidy=_empty_tidy(),
                              r_squared=None, rmse=None, n_tests=n, identifiability=(),
                              uncertainty_method=method, warnings=data_warnings, **common)

    if n <= n_free:
        return fail("too_few_tests", f"{n} test(s) for {n_free} parameters: need at least "
                    f"{n_free + 1} (more than {2 * n_free} to say much)")
    if not np.any(daily > 0):
        return fail("no_load", "every load is zero or missing: nothing to relate the tests to")
    if np.ptp(y) == 0:
        return fail("no_variation", "every test has the same value: nothing to fit")

    yy = float(y @ y)

    def design(g1, g2):
        ones = np.ones_like(g1)
        return np.stack([ones, g1 - g2, -g2], axis=-1)

    def solve(t1, t2):
        g1 = _impulse(daily, t1, include_test_day_load)[td]
        g2 = _impulse(daily, t2, include_test_day_load)[td]
        x = design(g1, g2)
        rss, beta = _inner_ls(x.T @ x, x.T @ y, yy)
        return float(rss), beta

    if fixed_tau:
        t1, t2 = fixed_tau
        rss, beta = solve(t1, t2)
    else:
        # Grid search over (τ1, τ2) with τ1 > τ2, all inner problems solved at once.
        lo = min(tb["tau1"][0], tb["tau2"][0])
        hi = max(tb["tau1"][1], tb["tau2"][1])
        taus = np.exp(np.linspace(math.log(lo), math.log(hi), grid_size))
        gs = np.stack([_impulse(daily, t, include_test_day_load)[td] for t in taus])  # (G, n)
        i1, i2 = np.meshgrid(np.arange(grid_size), np.arange(grid_size), indexing="ij")
        ok = ((taus[i1] > taus[i2]) & (taus[i1] >= tb["tau1"][0]) & (taus[i1] <= tb["tau1"][1])
              & (taus[i2] >= tb["tau2"][0]) & (taus[i2] <= tb["tau2"][1]))
        i1, i2 = i1[ok], i2[ok]
        if i1.size == 0:
            return fail("bad_bounds", "the tau bounds leave no grid point with tau1 > tau2")
        x = design(gs[i1], gs[i2])  # (P, n, 3)
        gram = np.einsum("pni,pnj->pij", x, x)
        rhs = np.einsum("pni,n->pi", x, y)
        rss_grid, _ = _inner_ls(gram, rhs, yy)
        b = int(np.argmin(rss_grid))
        start = np.log([taus[i1[b]], taus[i2[b]]])
        lb = np.log([tb["tau1"][0], tb["tau2"][0]])
        ub = np.log([tb["tau1"][1], tb["tau2"][1]])

        def obj(z):
            if np.any(z < lb) or np.any(z > ub) or z[0] <= z[1]:
                return 1e300
            return solve(math.exp(z[0]), math.exp(z[1]))[0]

        res = optimize.minimize(obj, start, method="Nelder-Mead",
                                options={"xatol": 1e-6, "fatol": 1e-10 * max(yy, 1.0),
                                         "maxiter": 800})
        z = res.x if res.fun <= rss_grid[b] else start
        t1, t2 = float(math.exp(z[0])), float(math.exp(z[1]))
        rss, beta = solve(t1, t2)

    p0, k1, d = (float(v) for v in beta)
    k2 = k1 + d
    params = {"p0": p0, "k1": k1, "k2": k2, "tau1": t1, "tau2": t2}

    # --- Uncertainty from the Jacobian in the natural parameters -------------------------------
    g1 = _impulse(daily, t1, include_test_day_load)[td]
    g2 = _impulse(daily, t2, include_test_day_load)[td]
    cols = [np.ones(n), g1, -g2]
    names = ["p0", "k1", "k2"]
    if not fixed_tau:
        cols += [k1 * _impulse_dtau(daily, t1)[td], -k2 * _impulse_dtau(daily, t2)[td]]
        names += ["tau1", "tau2"]
    jac = np.stack(cols, axis=1)
    dof = n - len(names)
    s2 = rss / dof if dof > 0 else float("nan")
    issues: list[str] = []
    with np.errstate(all="ignore"):
        jtj = jac.T @ jac
        cond = np.linalg.cond(jtj)
        cov = s2 * np.linalg.pinv(jtj, rcond=1e-14)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    if not np.isfinite(cond) or cond > 1e12:
        issues.append(f"the Jacobian is nearly singular (condition number {cond:.2g})")
    q = float(sps.t.ppf(0.5 + confidence / 2, dof)) if dof > 0 else float("nan")
    rows = []
    for i, nm in enumerate(names):
        est = params[nm]
        if nm.startswith("tau") and est > 0 and np.isfinite(se[i]):
            half = q * se[i] / est
            lo_, hi_ = est * math.exp(-half), est * math.exp(half)
        else:
            lo_, hi_ = est - q * se[i], est + q * se[i]
            if nm in ("k1", "k2"):
                lo_ = max(lo_, 0.0)  # the constraint k ≥ 0 bounds the Wald interval
        rows.append((nm, est, float(se[i]), float(lo_), float(hi_)))
    if fixed_tau:
        rows += [("tau1", t1, None, None, None), ("tau2", t2, None, None, None)]
    tidy = pl.DataFrame(rows, schema=_empty_tidy().schema, orient="row")
    with np.errstate(all="ignore"):
        sd = np.sqrt(np.diag(cov))
        corr = cov / np.outer(sd, sd)
    corr_df = pl.DataFrame({"term": names, **{nm: corr[:, i] for i, nm in enumerate(names)}})

    # --- Identifiability checks ----------------------------------------------------------------
    if n < 2 * len(names):
        issues.append(f"only {n} tests for {len(names)} free parameters")
    for i, nm in enumerate(names):
        est = params[nm]
        if not np.isfinite(se[i]):
            issues.append(f"{nm} has no finite standard error")
        elif est != 0 and se[i] > 0.5 * abs(est):
            issues.append(f"{nm} is not pinned down (SE {se[i]:.3g} is {se[i] / abs(est):.0%} of "
                          f"the estimate {est:.4g})")
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if np.isfinite(corr[i, j]) and abs(corr[i, j]) > 0.95:
                issues.append(f"{names[i]} and {names[j]} are confounded (correlation "
                              f"{corr[i, j]:+.2f})")
    if k2 > 0 and k1 / k2 > 0.9:
        issues.append(f"k1 ≈ k2 ({k1:.3g} vs {k2:.3g}): fitness and fatigue nearly cancel")
    if not fixed_tau and t1 / t2 < 1.25:
        issues.append(f"τ1 ≈ τ2 ({t1:.3g} vs {t2:.3g} d)")
    if k1 <= 1e-12:
        issues.append("k1 is on its bound 0 (no fitness effect)")
    if d <= 1e-12:
        issues.append("k2 = k1 on the constraint boundary")
    if not fixed_tau:
        for nm, t in (("tau1", t1), ("tau2", t2)):
            lo_, hi_ = tb[nm]
            if t <= lo_ * 1.001 or t >= hi_ * 0.999:
                issues.append(f"{nm} = {t:.3g} d sits on its bound ({lo_:g}-{hi_:g} d)")

    tss = float(((y - y.mean()) ** 2).sum())
    return BanisterResult(
        status="ok",
        message="",
        params=params,
        tidy=tidy,
        r_squared=1.0 - rss / tss,
        rmse=math.sqrt(rss / n),
        n_tests=n,
        identifiability=tuple(issues),
        uncertainty_method=method,
        warnings=data_warnings,
        correlation=corr_df,
        **common,
    )
