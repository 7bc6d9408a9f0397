"""Endurance over time: a saturating curve per test series, forecasts, and labelled change.

Model (asymptotic regression, R's ``SSasymp`` reparametrised; docs/SCIENCE.md):

    y(x) = plateau + (baseline − plateau)·exp(−x/τ)

with x = weeks since the first test, cumulative sessions before the test, or cumulative training
load before the test (session RPE × minutes, Foster 2001), so that missed weeks do not count as
training. Half-life = τ·ln 2.

Fitting is by variable projection: for a given τ the model is linear in (plateau, baseline), so the
residual sum of squares S(τ) has a closed form; τ is found on a log grid and refined (equivalent to
fitting on log τ, and stable where Gauss-Newton on the raw parameters is not).

Uncertainty:

- Parameter intervals (plateau, baseline, τ) are **profile-likelihood intervals** (the profile t
  statistic of Bates & Watts 1988, as in R's ``confint.nls``): every value whose profiled residual sum
  of squares stays below ``Ŝ + s²·t²(n − 3)``. For a fixed τ the residual sum of squares is quadratic
  in plateau and baseline, so the profiles are exact up to the τ grid. An interval can be open
  (``inf``) when the data are consistent with a plateau that is not yet in sight.
- ``std_error`` in ``tidy`` is the asymptotic (Jacobian) standard error, for reference only; it is
  poor for τ.
- The fitted curve's band and the forecast intervals come from a **parametric bootstrap**: new series
  ``y* = ŷ + N(0, σ*²)`` refitted on the τ grid, with ``σ* = s·√(df/χ²_df)`` so the uncertainty of
  the residual SD is carried as a t interval would.

Norms (never silently converted): the Biering-Sørensen thresholds (176 s / 198 s, men only, horizontal
hold) and the protocol goal (2-minute holds) come from :mod:`rehab.norms`. A 45° bench hold carries
about cos 45° ≈ 71% of the horizontal torque; that fraction is shown to explain why such holds are not
compared with the Sorensen norms, and never used to convert them.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from functools import cached_property

import altair as alt
import numpy as np
import polars as pl
from scipy import optimize
from scipy import stats as sps

from rehab import norms
from rehab.features import label_change as label_change  # re-exported: the one change rule
from rehab.features import monthly_best, previous_month, session_loads
from rehab.paths import check_month
from rehab.schema import tidy_schema, unit_for_test

X_KINDS = ("weeks", "sessions", "load")
SEXES = ("male", "female", "unknown")
SAME_DAY = ("best", "mean")
MIN_TESTS = 4
GRID_SIZE = 400
RATE_WINDOW_DAYS = 56  # sessions/load per week over the last 8 weeks, to turn x into dates
HOLD_TESTS = ("sorensen_hold", "back_extension_hold")

STATUSES = {
    "ok": "fitted",
    "too_few_tests": "too few tests to fit a curve",
    "no_variation": "every test has the same value",
    "no_upward_trend": "the series is flat or declining",
    "no_plateau_yet": "still rising in a straight line: no plateau can be estimated yet",
    "mixed_bench_angles": "the tests were done at different bench angles",
}

# A plateau the data pin down: its interval closed, not below 0 s and at most this many times the
# best test logged (an interval reaching far past anything logged is extrapolation, not a plateau).
PLATEAU_MAX_OVER_BEST = 2.0
STILL_RISING = "still rising: too early to tell where it levels off"

_X_UNITS = {"weeks": "weeks", "sessions": "sessions", "load": "AU"}
_X_TITLES = {
    "weeks": "date",
    "sessions": "cumulative sessions before the test",
    "load": "cumulative training load before the test (AU: session RPE × min)",
}


# ------------------------------------------------------------------------------------------------
# Numerical core (vectorised over τ and over bootstrap replicates)
# ------------------------------------------------------------------------------------------------


def _tau_grid(x: np.ndarray, size: int = GRID_SIZE) -> np.ndarray:
    """Log-spaced τ from 1/20 of the smallest x spacing to 100 × the x span."""
    xs = np.unique(x)
    span = float(xs[-1] - xs[0])
    dmin = float(np.min(np.diff(xs)))
    return np.exp(np.linspace(math.log(dmin / 20.0), math.log(span * 100.0), size))


def _conditional(x: np.ndarray, y: np.ndarray, taus: np.ndarray):
    """For each τ: least-squares plateau P, baseline b, RSS, and the (XᵀX)⁻¹ diagonal.

    y may be (n,) or (B, n). Columns of the linear model: u = 1 − e^(−x/τ) (plateau),
    e = e^(−x/τ) (baseline).
    """
    z = -x[:, None] / taus[None, :]
    e = np.exp(z)
    u = -np.expm1(z)
    suu = (u * u).sum(0)
    sue = (u * e).sum(0)
    see = (e * e).sum(0)
    det = suu * see - sue * sue
    with np.errstate(divide="ignore", invalid="ignore"):
        bad = det <= 1e-12 * np.maximum(suu * see, 1e-300)
        det = np.where(bad, np.nan, det)
        uy = y @ u
        ey = y @ e
        p = (see * uy - sue * ey) / det
        b = (suu * ey - sue * uy) / det
        yy = (y * y).sum(-1)
        rss = (yy[..., None] if y.ndim == 2 else yy) - (p * uy + b * ey)
        rss = np.where(np.isnan(rss), np.inf, np.maximum(rss, 0.0))
        vp = see / det
        vb = suu / det
    return p, b, rss, vp, vb


def _curve(x, plateau, baseline, tau):
    return plateau + (baseline - plateau) * np.exp(-np.asarray(x, dtype=float) / tau)


def _fit_core(x: np.ndarray, y: np.ndarray, taus: np.ndarray):
    """Least squares over log τ: grid, then bounded Brent refinement between grid neighbours."""
    grid = _conditional(x, y, taus)
    rss = grid[2]
    i = int(np.argmin(rss))
    lg = np.log(taus)

    def obj(log_tau):
        return float(_conditional(x, y, np.array([math.exp(log_tau)]))[2][0])

    lo, hi = lg[max(i - 1, 0)], lg[min(i + 1, len(taus) - 1)]
    res = optimize.minimize_scalar(obj, bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-7})
    tau = math.exp(float(res.x)) if res.fun <= rss[i] else float(taus[i])
    pp, bb, ss, _, _ = _conditional(x, y, np.array([tau]))
    return float(pp[0]), float(bb[0]), tau, float(ss[0]), i, grid


def _profile_intervals(x, y, taus, fit, thr):
    """Profile-likelihood intervals for τ, plateau and baseline (hull of the profile set)."""
    plateau, baseline, tau, s_hat, _, grid = fit
    p, _, rss, _, _ = grid
    lg = np.log(taus)
    inside = rss <= thr
    g = len(taus)
    out = {}

    def f(log_tau):
        return float(_conditional(x, y, np.array([math.exp(log_tau)]))[2][0]) - thr

    idx = np.flatnonzero(inside)
    if idx.size == 0:  # grid too coarse around a very sharp optimum: fall back to the point
        return {"tau": (tau, tau), "plateau": (plateau, plateau), "baseline": (baseline, baseline)}
    i0, i1 = int(idx[0]), int(idx[-1])
    t_lo = 0.0 if i0 == 0 else math.exp(optimize.brentq(f, lg[i0 - 1], lg[i0], xtol=1e-8))
    t_hi = math.inf if i1 == g - 1 else math.exp(optimize.brentq(f, lg[i1], lg[i1 + 1], xtol=1e-8))
    out["tau"] = (min(t_lo, tau), max(t_hi, tau))

    # Envelopes: for fixed τ the RSS is quadratic in plateau (resp. baseline), so the profile set
    # is the union over τ of P(τ) ± sqrt((thr − RSS(τ))·v(τ)). Refine near the extremes.
    def envelope(lgs, est, sign):
        pp, bb, rr, vpp, vbb = grid if lgs is None else _conditional(x, y, np.exp(lgs))
        centre = pp if est == "p" else bb
        v = vpp if est == "p" else vbb
        room = np.where(rr <= thr, np.sqrt(np.clip(thr - rr, 0, None) * v), np.nan)
        return centre + sign * room

    for name, est, point in (("plateau", "p", plateau), ("baseline", "b", baseline)):
        bounds_ = []
        for sign in (-1.0, 1.0):
            vals = envelope(None, est, sign)
            vals = np.where(inside, vals, np.nan)
            if np.all(np.isnan(vals)):
                bounds_.append(point)
                continue
            j = int(np.nanargmin(vals) if sign < 0 else np.nanargmax(vals))
            fine = np.linspace(lg[max(j - 1, 0)], lg[min(j + 1, g - 1)], 41)
            fv = envelope(fine, est, sign)
            best = np.nanmin(fv) if sign < 0 else np.nanmax(fv)
            cand = vals[j] if np.isnan(best) else (min(best, vals[j]) if sign < 0 else
                                                     max(best, vals[j]))
            bounds_.append(float(cand))
        lo_, hi_ = min(bounds_[0], point), max(bounds_[1], point)
        if name == "plateau" and inside[-1]:
            # τ → ∞ stays inside the set: the plateau runs off to ±∞ (a straight line fits).
            if p[-1] > plateau:
                hi_ = math.inf
            else:
                lo_ = -math.inf
        out[name] = (lo_, hi_)
    return out


def _jacobian_se(x, plateau, baseline, tau, s2):
    """Asymptotic standard errors s²·(JᵀJ)⁻¹ for (plateau, baseline, τ)."""
    e = np.exp(-x / tau)
    jac = np.stack([1 - e, e, (baseline - plateau) * e * x / tau**2], axis=1)
    with np.errstate(all="ignore"):
        cov = s2 * np.linalg.pinv(jac.T @ jac, rcond=1e-14)
    return np.sqrt(np.clip(np.diag(cov), 0, None))


# ------------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forecast:
    """When a target is reached, with an interval; dates are None when they cannot be given.

    status: already_reached | forecast | not_reached_at_current_rate | not_available.
    ``x``, ``x_low``, ``x_high`` are in the fit's x units (weeks since the first test, sessions or
    AU); ``x_high``/``date_high`` are None when the upper end is open (may not be reached).
    """

    target: float
    label: str
    status: str
    message: str
    x: float | None = None
    x_low: float | None = None
    x_high: float | None = None
    date: dt.date | None = None
    date_low: dt.date | None = None
    date_high: dt.date | None = None
    method: str = ""

    def as_row(self) -> dict:
        return {k: getattr(self, k) for k in ("label", "target", "status", "x", "x_low", "x_high",
                                              "date", "date_low", "date_high", "message")}


@dataclass(frozen=True)
class EnduranceResult:
    """A saturating-curve fit to one test series (see the module docstring for the methods).

    ``status`` is "ok" when a curve was fitted, otherwise one of :data:`STATUSES` with ``message``
    saying why; then ``params`` is empty, ``tidy`` has no rows, and ``chart()`` draws the points only.
    ``params``: plateau, baseline, ``tau_<x>`` and ``half_life_<x>`` (x = weeks, sessions or load).
    """

    status: str
    message: str
    x_kind: str
    test: str | None
    unit: str
    sex: str
    bench_angle_deg: float | None
    params: dict
    tidy: pl.DataFrame
    data: pl.DataFrame  # date, x, value (same-day tests combined)
    n_tests: int
    residual_sd: float | None
    confidence: float
    targets: tuple[tuple[str, float], ...]
    notes: tuple[str, ...]
    seed: int | None = 0
    n_boot: int = 1000
    origin: dt.date | None = None  # x = 0: the first test, or ``start``
    _rate_per_week: float | None = field(repr=False, default=None)
    _cum: tuple | None = field(repr=False, default=None)  # (session-day ordinals, cumulative)

    # --- helpers ---------------------------------------------------------------------------------

    @property
    def tau_name(self) -> str:
        return f"tau_{self.x_kind}"

    @property
    def x_unit(self) -> str:
        return _X_UNITS[self.x_kind]

    @property
    def plateau_identified(self) -> bool:
        """Whether the data pin the plateau down: a fitted curve whose plateau interval is closed,
        not below 0 and at most :data:`PLATEAU_MAX_OVER_BEST` × the best test. When False, the
        curve's plateau, τ and forecasts are not numbers to read: say :data:`STILL_RISING` (or,
        with no curve, ``message``)."""
        if self.status != "ok":
            return False
        row = self.tidy.filter(pl.col("term") == "plateau").row(0, named=True)
        lo, hi = row["ci_low"], row["ci_high"]
        best = float(self.data["value"].max())
        return (math.isfinite(lo) and math.isfinite(hi) and lo >= 0.0
                and hi <= PLATEAU_MAX_OVER_BEST * best)

    def _p(self):
        return self.params["plateau"], self.params["baseline"], self.params[self.tau_name]

    def _x_to_date(self, x: float) -> dt.date | None:
        if x is None or not np.isfinite(x):
            return None
        if self.x_kind == "weeks":  # first: predict() asks this for every point of a curve
            return self.origin + dt.timedelta(days=round(x * 7))
        dates = self.data["date"].to_list()
        d0 = dates[0]
        xs = self.data["x"].to_numpy()
        if x <= xs[-1]:
            # the day after the session that brings the cumulative count (or load) to x
            sd, cs = self._cum
            j = int(np.searchsorted(cs, x - 1e-9, side="left"))
            if j == 0:
                return self.origin if self.origin <= d0 else d0
            return dt.date.fromordinal(int(sd[j - 1]) + 1)
        if not self._rate_per_week or self._rate_per_week <= 0:
            return None
        extra = (x - xs[-1]) / self._rate_per_week * 7.0
        if extra > 365 * 100:
            return None
        return dates[-1] + dt.timedelta(days=round(extra))

    def _date_to_x(self, d: dt.date) -> float:
        if self.x_kind == "weeks":
            return (d - self.origin).days / 7.0
        last = self.data["date"][-1]
        if d <= last:
            sd, cs = self._cum  # sessions (or load) on days strictly before d
            return float(cs[np.searchsorted(sd, d.toordinal(), side="left")])
        x_last = float(self.data["x"][-1])
        return x_last + (self._rate_per_week or 0.0) * (d - last).days / 7.0

    @cached_property
    def _boot(self):
        """Parametric bootstrap replicates (plateau*, baseline*, τ*), refitted on the τ grid."""
        x = self.data["x"].to_numpy()
        y = self.data["value"].to_numpy()
        plateau, baseline, tau = self._p()
        n = len(y)
        df = n - 3
        rng = np.random.default_rng(self.seed)
        sig = self.residual_sd * np.sqrt(df / rng.chisquare(df, self.n_boot))
        ystar = _curve(x, plateau, baseline, tau)[None, :] + sig[:, None] * rng.standard_normal(
            (self.n_boot, n))
        taus = _tau_grid(x)
        out_p, out_b, out_t = [], [], []
        for chunk in np.array_split(np.arange(self.n_boot), max(1, self.n_boot // 250)):
            p, b, rss, _, _ = _conditional(x, ystar[chunk], taus)
            j = np.argmin(rss, axis=1)
            r = np.arange(len(chunk))
            out_p.append(p[r, j])
            out_b.append(b[r, j])
            out_t.append(taus[j])
        return np.concatenate(out_p), np.concatenate(out_b), np.concatenate(out_t)

    # --- public API ------------------------------------------------------------------------------

    def predict(self, at) -> pl.DataFrame:
        """Fitted value and bootstrap band at ``at``: x values (numbers) or dates.

        Returns x, date, estimate, ci_low, ci_high (the band is pointwise, at ``confidence``).
        """
        if self.status != "ok":
            raise ValueError(f"no curve to predict from: {self.message}")
        items = at.to_list() if isinstance(at, pl.Series) else list(np.atleast_1d(at))
        if items and all(isinstance(v, dt.date) for v in items):
            xs = np.array([self._date_to_x(v) for v in items], dtype=float)
        elif all(isinstance(v, (int, float, np.integer, np.floating)) for v in items):
            xs = np.asarray(items, dtype=float)
        else:
            raise ValueError("predict(at): give x values (numbers) or dates, not a mix")
        plateau, baseline, tau = self._p()
        est = _curve(xs, plateau, baseline, tau)
        bp, bb, bt = self._boot
        curves = bp[:, None] + (bb - bp)[:, None] * np.exp(-xs[None, :] / bt[:, None])
        a = (1 - self.confidence) / 2
        lo, hi = np.quantile(curves, [a, 1 - a], axis=0)
        return pl.DataFrame({
            "x": xs,
            "date": [self._x_to_date(v) for v in xs],
            "estimate": est,
            "ci_low": lo,
            "ci_high": hi,
        }, schema={"x": pl.Float64(), "date": pl.Date(), "estimate": pl.Float64(),
                   "ci_low": pl.Float64(), "ci_high": pl.Float64()})

    def forecast(self, target: float, *, label: str | None = None) -> Forecast:
        """When the curve reaches ``target`` (in the test's unit), with a bootstrap interval.

        A target the fitted curve has passed by the last test is "already_reached", dated where the
        curve crossed it (a single test above a target is within noise of the curve, so it is
        mentioned, not taken as reaching it). A target at or above the upper end of the plateau's
        profile interval is "not reached at the current rate". Otherwise
        the point forecast solves the fitted curve for the target and the interval takes the
        bootstrap percentiles of the same solution, counting replicates that never reach the target
        as infinitely late (an open upper end: "may not be reached at the current rate").
        """
        if not isinstance(target, (int, float)) or not math.isfinite(target):
            raise ValueError(f"target={target!r} is not allowed: give a finite number")
        target = float(target)
        label = label or f"target {target:g} {self.unit}"
        method = ("parametric bootstrap of the fitted curve "
                  f"({self.n_boot} replicates, {self.confidence:.0%} percentile interval)")
        if self.status != "ok":
            return Forecast(target, label, "not_available", f"no forecast: {self.message}")
        plateau, baseline, tau = self._p()
        hit = self.data.filter(pl.col("value") >= target)
        first_hit = (f"; a test reached it on {hit['date'][0]}" if hit.height else "")
        x_last = float(self.data["x"][-1])
        if _curve(x_last, plateau, baseline, tau) >= target:
            xt = max(0.0, -tau * math.log((plateau - target) / (plateau - baseline)))
            d = self._x_to_date(xt)
            return Forecast(target, label, "already_reached",
                            f"{label}: the fitted curve passed it around {d}{first_hit}",
                            x=xt, date=d, method="fitted curve")
        p_hi = self.tidy.filter(pl.col("term") == "plateau")["ci_high"][0]
        if target >= p_hi:
            return Forecast(target, label, "not_reached_at_current_rate",
                            f"{label} is above the plateau's {self.confidence:.0%} interval (up to "
                            f"{p_hi:.0f} {self.unit}): not reached at the current rate"
                            + first_hit,
                            method="profile-likelihood interval of the plateau")

        def solve(p, b, t):
            with np.errstate(all="ignore"):
                frac = (p - target) / (p - b)
                xt = -t * np.log(frac)
            return np.where((p > target) & (frac > 0), np.maximum(xt, 0.0), np.inf)

        bp, bb, bt = self._boot
        xs = solve(bp, bb, bt)
        a = (1 - self.confidence) / 2
        # inverted-CDF quantiles: no interpolation between infinite (never-reached) replicates
        lo, hi = np.quantile(xs, [a, 1 - a], method="inverted_cdf")
        x_hat = float(solve(np.array(plateau), np.array(baseline), np.array(tau)))
        x_lo = float(lo) if np.isfinite(lo) else None
        x_hi = float(hi) if np.isfinite(hi) else None
        if not np.isfinite(x_hat):
            return Forecast(target, label, "not_reached_at_current_rate",
                            f"{label} is above the estimated plateau ({plateau:.0f} {self.unit}), "
                            f"though inside its interval: not reached at the current rate"
                            + first_hit,
                            x_low=x_lo, date_low=self._x_to_date(x_lo) if x_lo is not None else None,
                            method=method)
        d, d_lo, d_hi = (self._x_to_date(v) if v is not None else None
                         for v in (x_hat, x_lo, x_hi))
        if d is None:
            msg = (f"{label}: about {x_hat:.1f} {self.x_unit} of the x axis; no recent training "
                   "to turn that into a date")
        elif x_hi is None:
            msg = f"{label}: around {d}; may not be reached at the current rate (open upper end)"
        else:
            msg = f"{label}: around {d} ({self.confidence:.0%} interval {d_lo} to {d_hi})"
        msg += first_hit + (" (within noise of the curve)" if first_hit else "")
        return Forecast(target, label, "forecast", msg, x=x_hat, x_low=x_lo, x_high=x_hi,
                        date=d, date_low=d_lo, date_high=d_hi, method=method)

    def forecasts(self) -> pl.DataFrame:
        """Forecasts for every target of this series (protocol goal, personal, Sorensen norms)."""
        rows = [self.forecast(v, label=lab).as_row() for lab, v in self.targets]
        schema = {"label": pl.String(), "target": pl.Float64(), "status": pl.String(),
                  "x": pl.Float64(), "x_low": pl.Float64(), "x_high": pl.Float64(),
                  "date": pl.Date(), "date_low": pl.Date(), "date_high": pl.Date(),
                  "message": pl.String()}
        return pl.DataFrame(rows, schema=schema, orient="row")

    def summary(self) -> str:
        """Plain text: status, parameters with intervals, targets (in x units, no dates), notes."""
        name = self.test or "test"
        lines = [f"Endurance curve for {name} ({self.n_tests} tests, x = {self.x_kind})"]
        if self.status != "ok":
            lines.append(f"status: {self.status} — {self.message}")
            lines.extend(f"note: {n}" for n in self.notes)
            return "\n".join(lines)
        lines.append("model: y = plateau + (baseline − plateau)·exp(−x/τ)  (asymptotic regression)")
        for row in self.tidy.iter_rows(named=True):
            u = self.x_unit if row["term"].startswith(("tau", "half")) else self.unit
            lines.append(f"  {row['term']:>18} = {row['estimate']:8.2f} {u}  "
                         f"{self.confidence:.0%} interval [{_fmt(row['ci_low'])}, "
                         f"{_fmt(row['ci_high'])}]")
        lines.append(f"residual SD {self.residual_sd:.1f} {self.unit}")
        lines.append("intervals: profile likelihood (profile t, Bates & Watts) for the parameters; "
                     "parametric bootstrap for the curve band and forecasts")
        for lab, v in self.targets:
            f = self.forecast(v, label=lab)
            if f.status == "forecast" and f.x is not None:
                hi = f"{f.x_high:.1f}" if f.x_high is not None else "open"
                lo = f"{f.x_low:.1f}" if f.x_low is not None else "?"
                lines.append(f"  {lab}: at x ≈ {f.x:.1f} {self.x_unit} "
                             f"(interval {lo} to {hi})" + (" after the series start"
                                                           if self.x_kind == "weeks" else ""))
            elif f.status == "already_reached":
                lines.append(f"  {lab}: already reached")
            else:
                lines.append(f"  {lab}: not reached at the current rate")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)

    def chart(self, *, title: str | None = None) -> alt.LayerChart:
        """Tests (points), fitted curve with its band, and target lines; points only if no fit."""
        weeks = self.x_kind == "weeks"
        xenc = "date:T" if weeks else "x:Q"
        xt = _X_TITLES[self.x_kind]
        ytitle = f"{self.test or 'test'} ({'seconds' if self.unit == 's' else self.unit})"
        pts = self.data.with_columns(pl.col("date").cast(pl.String()))
        layers = [alt.Chart(pts).mark_point(filled=True, size=60, color="black").encode(
            x=alt.X(xenc, title=xt), y=alt.Y("value:Q", title=ytitle),
            tooltip=["date:N", "value:Q"])]
        head = title or f"{self.test or 'test'} over {'time' if weeks else self.x_kind}"
        if self.status != "ok":
            sub = f"no curve: {self.message}"
            return alt.layer(*layers).properties(title=alt.TitleParams(head, subtitle=[sub]),
                                                 width=560, height=280)
        x = self.data["x"].to_numpy()
        span = float(x.max() - x.min())
        grid = np.linspace(float(x.min()), float(x.max()) + 0.25 * span, 80)
        pred = self.predict(grid).with_columns(pl.col("date").cast(pl.String()))
        band = alt.Chart(pred).mark_area(opacity=0.2, color="steelblue").encode(
            x=alt.X(xenc, title=xt), y=alt.Y("ci_low:Q", title=ytitle), y2="ci_high:Q")
        line = alt.Chart(pred).mark_line(color="steelblue").encode(
            x=alt.X(xenc, title=xt), y=alt.Y("estimate:Q", title=ytitle))
        layers = [band, line, *layers]
        if self.targets:
            tg = pl.DataFrame({"label": [lab for lab, _ in self.targets],
                               "target": [v for _, v in self.targets]})
            layers.append(alt.Chart(tg).mark_rule(strokeDash=[4, 4], color="gray").encode(
                y="target:Q"))
            layers.append(alt.Chart(tg).mark_text(align="left", dx=4, dy=-6, color="gray").encode(
                y="target:Q", text="label:N", x=alt.value(0)))
        sub = [f"curve: plateau {self.params['plateau']:.0f} {self.unit}, half-life "
               f"{self.params['half_life_' + self.x_kind]:.1f} {self.x_unit}; band: "
               f"{self.confidence:.0%} parametric bootstrap"]
        return alt.layer(*layers).properties(title=alt.TitleParams(head, subtitle=sub),
                                             width=560, height=280)


def _fmt(v) -> str:
    if v is None:
        return "?"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    return f"{v:.2f}"


# ------------------------------------------------------------------------------------------------
# Data preparation
# ------------------------------------------------------------------------------------------------


def _one_value(df: pl.DataFrame, col: str, given, what: str):
    """Filter ``df`` to ``given`` in ``col``; with None, the column must hold one value."""
    if col not in df.columns:
        return df, given
    if given is not None:
        return df.filter(pl.col(col) == given), given
    vals = sorted(v for v in df[col].unique().to_list() if v is not None)
    if len(vals) > 1:
        raise ValueError(f"tests hold {len(vals)} {what}s ({', '.join(map(str, vals[:8]))}): "
                         f"pass {what}=... to choose one")
    return df, (vals[0] if vals else None)


def _prepare(tests: pl.DataFrame, test, participant):
    if not isinstance(tests, pl.DataFrame):
        raise ValueError(f"tests must be a polars DataFrame, got {type(tests).__name__}")
    missing = [c for c in ("date", "value") if c not in tests.columns]
    if missing:
        raise ValueError(f"tests lacks column(s) {', '.join(missing)}: it needs date and value")
    df, test = _one_value(tests, "test", test, "test")
    df, participant = _one_value(df, "participant", participant, "participant")
    return df, test, participant


def _combine_same_day(df: pl.DataFrame, same_day: str) -> pl.DataFrame:
    agg = pl.col("value").max() if same_day == "best" else pl.col("value").mean()
    return df.group_by("date").agg(agg).sort("date")


def _cumulative(sessions: pl.DataFrame, participant, x_kind: str, start=None):
    """Per-day cumulative sessions or load from a sessions table (or session_loads output)."""
    sl = sessions if "load" in sessions.columns and "n_sets" in sessions.columns else None
    if sl is None:
        sl = session_loads(sessions)
    if participant is not None and "participant" in sl.columns:
        sl = sl.filter(pl.col("participant") == participant)
    if start is not None:
        sl = sl.filter(pl.col("date") >= start)
    per_day = sl.group_by("date").agg(
        pl.len().alias("n"), pl.col("load").fill_null(0.0).sum().alias("load")).sort("date")
    val = "n" if x_kind == "sessions" else "load"
    return per_day["date"].to_list(), per_day[val].cast(pl.Float64()).to_numpy()


def _targets(test, unit, sex, horizontal, target) -> tuple[tuple[str, float], ...]:
    out = []
    if unit == "s" and (test is None or test in HOLD_TESTS):
        out.append((f"protocol goal {norms.PROTOCOL_HOLD_GOAL_S:g} s", norms.PROTOCOL_HOLD_GOAL_S))
    if sex == "male" and horizontal and unit == "s":
        out.append((f"Sorensen {norms.SORENSEN_RISK_BELOW_S:g} s (men: below predicts back pain)",
                    norms.SORENSEN_RISK_BELOW_S))
        out.append((f"Sorensen {norms.SORENSEN_PROTECTIVE_ABOVE_S:g} s (men: above predicts none)",
                    norms.SORENSEN_PROTECTIVE_ABOVE_S))
    if target is not None:
        out.append((f"personal target {target:g} {unit}", float(target)))
    return tuple(out)


def fit_endurance(
    tests: pl.DataFrame,
    *,
    x: str = "weeks",
    sessions: pl.DataFrame | None = None,
    target: float | None = None,
    sex: str = "unknown",
    bench_angle_deg: float | None = None,
    confidence: float = 0.95,
    test: str | None = None,
    participant: str | None = None,
    same_day: str = "best",
    start: dt.date | None = None,
    n_boot: int = 1000,
    seed: int | None = 0,
) -> EnduranceResult:
    """Fit ``y = plateau + (baseline − plateau)·exp(−x/τ)`` to one person's test series.

    ``tests``: columns ``date`` and ``value`` (optionally ``test``, ``participant``, ``unit``,
    ``bench_angle_deg``); several tests or people need ``test=`` / ``participant=``.
    ``x``: "weeks" since the first test, "sessions" (cumulative session days before the test day)
    or "load" (cumulative session load before the test day; both need ``sessions``, the per-set
    sessions table or :func:`rehab.features.session_loads` output).
    ``same_day``: two tests on one day count once, as the day's "best" (default: a test is a
    maximal effort, so the best attempt shows capacity) or their "mean".
    ``bench_angle_deg``: the angle of the series to horizontal; rows of another angle in a
    ``bench_angle_deg`` column are left out. A ``sorensen_hold`` with no angle is horizontal.
    ``start``: leave out tests before this date and count x from it (e.g. the start of a
    protocol phase, so that the baseline is the value when the training began).
    ``target``: a personal target in the test's unit. ``sex`` decides whether the men-only Sorensen
    thresholds (176 s, 198 s) are targets; they apply only to horizontal holds.

    Data that cannot carry a curve (fewer than 4 test days, fewer than 3 distinct x, identical
    values, a flat or declining series, straight-line growth, mixed bench angles) give a result
    whose ``status`` and ``message`` say so; no exception and no curve. Bad arguments raise
    ValueError.
    """
    if x not in X_KINDS:
        raise ValueError(f"x={x!r} is not allowed: use one of {', '.join(X_KINDS)}")
    if sex not in SEXES:
        raise ValueError(f"sex={sex!r} is not allowed: use one of {', '.join(SEXES)}")
    if same_day not in SAME_DAY:
        raise ValueError(f"same_day={same_day!r} is not allowed: use best or mean")
    if not (isinstance(confidence, float) and 0 < confidence < 1):
        raise ValueError(f"confidence={confidence!r} is not allowed: give a number between 0 and 1")
    if x != "weeks" and sessions is None:
        raise ValueError(f"x={x!r} needs the sessions table: pass sessions=...")
    if target is not None and not (isinstance(target, (int, float)) and target > 0):
        raise ValueError(f"target={target!r} is not allowed: give a positive number or None")
    if not isinstance(n_boot, int) or n_boot < 100:
        raise ValueError(f"n_boot={n_boot!r} is not allowed: give an integer ≥ 100")

    df, test, participant = _prepare(tests, test, participant)
    notes: list[str] = []
    unit = unit_for_test(test) if test else "s"
    if "unit" in df.columns:
        units = [u for u in df["unit"].unique().to_list() if u is not None]
        if len(units) == 1:
            unit = units[0]
    n_raw = df.height
    df = df.filter(pl.col("date").is_not_null() & pl.col("value").is_not_null())
    if df.height < n_raw:
        notes.append(f"{n_raw - df.height} test row(s) without a date or value were left out")
    if start is not None:
        if not isinstance(start, dt.date):
            raise ValueError(f"start={start!r} is not allowed: give a datetime.date or None")
        n_before = df.filter(pl.col("date") < start).height
        df = df.filter(pl.col("date") >= start)
        if n_before:
            notes.append(f"{n_before} test(s) before {start} were left out (x counts from it)")

    # Bench angle: never mix angles in one curve, never compare non-horizontal holds with norms.
    angle = bench_angle_deg
    status = None
    if "bench_angle_deg" in df.columns:
        if bench_angle_deg is not None:
            keep = df.filter(pl.col("bench_angle_deg").is_null()
                             | (pl.col("bench_angle_deg") == float(bench_angle_deg)))
            if keep.height < df.height:
                notes.append(f"{df.height - keep.height} test(s) at another bench angle than "
                             f"{bench_angle_deg:g}° were left out")
            df = keep
        else:
            angles = sorted(a for a in df["bench_angle_deg"].unique().to_list() if a is not None)
            if len(angles) > 1:
                status = ("mixed_bench_angles",
                          f"tests at {', '.join(f'{a:g}°' for a in angles)} cannot share one "
                          "curve: pass bench_angle_deg=... to fit one angle")
            elif angles:
                angle = angles[0]
    if angle is None and test == "sorensen_hold":
        angle = 0.0
    horizontal = angle is not None and float(angle) == 0.0
    if angle is not None and not horizontal and unit == "s":
        frac = norms.gravity_torque_fraction(float(angle))
        notes.append(f"a {angle:g}° hold carries about {frac:.0%} of the horizontal trunk torque "
                     "(cos angle), so it is not compared with the horizontal Sorensen norms")
    if sex == "male" and not horizontal and unit == "s" and test in (None, *HOLD_TESTS):
        notes.append("the Sorensen thresholds (176 s, 198 s) apply to horizontal holds only")
    if sex in ("female", "unknown") and horizontal and unit == "s":
        notes.append("the Sorensen thresholds (176 s, 198 s) predict back pain in men only; "
                     f"not shown for sex={sex}")
    targets = _targets(test, unit, sex, horizontal, target)

    n_days = df["date"].n_unique() if df.height else 0
    if df.height > n_days:
        notes.append(f"{df.height - n_days} extra test(s) on days with several tests: the day's "
                     + ("best" if same_day == "best" else "mean") + " was used")
    data = _combine_same_day(df.select("date", pl.col("value").cast(pl.Float64())), same_day)
    dates = data["date"].to_list()
    origin = start if start is not None else (dates[0] if dates else None)
    rate, cum = None, None
    if x == "weeks":
        xs = np.array([(d - origin).days / 7.0 for d in dates]) if dates else np.array([])
    else:
        sdates, svals = _cumulative(sessions, participant, x, start)
        sd = np.array([d.toordinal() for d in sdates], dtype=float)
        cs = np.concatenate([[0.0], np.cumsum(svals)])
        # strictly before the test day: training on the test day has not acted yet
        xs = np.array([cs[np.searchsorted(sd, d.toordinal(), side="left")] for d in dates])
        if dates:
            last = dates[-1].toordinal()
            win_lo = max(last - RATE_WINDOW_DAYS, int(sd[0]) if sd.size else last)
            before = cs[np.searchsorted(sd, win_lo, side="left")]
            weeks_in = (last - win_lo) / 7.0
            rate = float((xs[-1] - before) / weeks_in) if weeks_in > 0 else 0.0
            cum = (sd, cs)  # session-day ordinals; cs[j] = total of the first j session days
            notes.append(f"x → date uses {rate:.3g} {_X_UNITS[x]} a week (the last "
                         f"{weeks_in:.0f} weeks' rate)")
    data = data.with_columns(pl.Series("x", xs, dtype=pl.Float64())).select("date", "x", "value")
    y = data["value"].to_numpy()
    n = len(y)

    tidy_empty = pl.DataFrame(schema=tidy_schema(p_value=False))
    common = dict(x_kind=x, test=test, unit=unit, sex=sex, bench_angle_deg=angle, data=data,
                  n_tests=n, confidence=confidence, targets=targets, seed=seed, n_boot=n_boot,
                  origin=origin, _rate_per_week=rate, _cum=cum)

    def stop(st, msg):
        return EnduranceResult(status=st, message=msg, params={}, tidy=tidy_empty,
                               residual_sd=None, notes=tuple(notes), **common)

    if status:
        return stop(*status)
    if n < MIN_TESTS:
        return stop("too_few_tests", f"{n} test day(s): a curve needs at least {MIN_TESTS}")
    if len(np.unique(xs)) < 3:
        return stop("too_few_tests", f"the {n} tests sit at only {len(np.unique(xs))} distinct "
                    f"{x} value(s): a curve needs at least 3")
    if np.ptp(y) == 0:
        return stop("no_variation", f"all {n} tests are {y[0]:g} {unit}: no change to model")
    slope = float(np.polyfit(xs, y, 1)[0])
    if slope <= 0:
        return stop("no_upward_trend", f"the series is flat or declining (linear trend "
                    f"{slope:+.3g} {unit} per {_X_UNITS[x].rstrip('s')}): no rising curve is fitted")

    taus = _tau_grid(xs)
    fit = _fit_core(xs, y, taus)
    plateau, baseline, tau, s_hat, i_grid, _ = fit
    if not all(np.isfinite([plateau, baseline, tau, s_hat])):
        return stop("no_upward_trend", "the curve could not be fitted to this series")
    if baseline >= plateau:
        return stop("no_upward_trend", "the best-fitting curve falls rather than rises")
    if i_grid >= len(taus) - 2:
        return stop("no_plateau_yet", f"{STATUSES['no_plateau_yet']} (linear trend "
                    f"{slope:+.3g} {unit} per {_X_UNITS[x].rstrip('s')})")
    df_res = n - 3
    s2 = s_hat / df_res if df_res > 0 else float("nan")
    q = float(sps.t.ppf(0.5 + confidence / 2, df_res))
    thr = s_hat + s2 * q * q
    prof = _profile_intervals(xs, y, taus, fit, thr)
    se = _jacobian_se(xs, plateau, baseline, tau, s2)
    tname = f"tau_{x}"
    hname = f"half_life_{x}"
    ln2 = math.log(2.0)
    rows = [
        ("plateau", plateau, se[0], *prof["plateau"]),
        ("baseline", baseline, se[1], *prof["baseline"]),
        (tname, tau, se[2], *prof["tau"]),
        (hname, tau * ln2, se[2] * ln2, prof["tau"][0] * ln2, prof["tau"][1] * ln2),
    ]
    tidy = pl.DataFrame(rows, schema=tidy_empty.schema, orient="row")
    if n < 6:
        notes.append(f"only {n} tests: intervals are wide and the curve is a rough guide")
    if math.isinf(prof["plateau"][1]):
        notes.append("the plateau's interval is open above: the data are consistent with "
                     "growth that has not levelled off yet")
    return EnduranceResult(
        status="ok", message="", params={"plateau": plateau, "baseline": baseline, tname: tau,
                                         hname: tau * ln2},
        tidy=tidy, residual_sd=math.sqrt(s2), notes=tuple(notes), **common)


# ------------------------------------------------------------------------------------------------
# Labelled change
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthlyChange:
    """This month's best test against the best of the most recent earlier month with tests.

    status: ok | no_tests_this_month | no_earlier_tests | no_src. ``verdict`` is the same judgement
    in the words of :data:`rehab.features.VERDICTS` (improved | declined | noise | no previous month
    | not judged; None without a test this month); ``label`` says it in words. ``previous_month``
    is the month compared with; it is not the calendar month before when that month had no tests
    (the message says so).
    """

    month: str
    test: str | None
    status: str
    label: str
    message: str
    current_best: float | None = None
    current_date: dt.date | None = None
    previous_month: str | None = None
    previous_best: float | None = None
    previous_date: dt.date | None = None
    change: float | None = None
    src: float | None = None
    unit: str = "s"
    verdict: str | None = None

    def to_frame(self) -> pl.DataFrame:
        names = ("month", "test", "status", "verdict", "label", "current_best", "current_date",
                 "previous_month", "previous_best", "previous_date", "change", "src", "unit",
                 "message")
        schema = {"month": pl.String(), "test": pl.String(), "status": pl.String(),
                  "verdict": pl.String(), "label": pl.String(), "current_best": pl.Float64(),
                  "current_date": pl.Date(),
                  "previous_month": pl.String(), "previous_best": pl.Float64(),
                  "previous_date": pl.Date(), "change": pl.Float64(), "src": pl.Float64(),
                  "unit": pl.String(), "message": pl.String()}
        return pl.DataFrame([{k: getattr(self, k) for k in names}], schema=schema)


def monthly_best_change(
    tests: pl.DataFrame,
    month: str,
    *,
    test: str | None = None,
    participant: str | None = None,
    src: float | None = None,
    bench_angle_deg: float | None = None,
) -> MonthlyChange:
    """This month's best against the latest earlier month's best, labelled with :func:`label_change`.

    One test series as a small result: :func:`rehab.features.monthly_best` with
    ``previous="latest"`` does the comparison and the judgement. ``month`` is "YYYY-MM". The best
    is the highest value of the month (a test is a maximal effort). If the calendar month before
    had no tests, the most recent earlier month with tests is used and the message names it.
    ``src`` defaults to the Sorensen SRC (32.1 s, Latimer 1999) for the Sorensen hold (or a series
    with no test id); any other test, including a 45° bench hold, needs its own ``src`` (else
    status "no_src", the change is still given), as in :func:`rehab.features.test_src`.
    ``bench_angle_deg`` keeps only tests at that angle (a 45° and a horizontal hold are not compared).
    """
    check_month(month)
    df, test, participant = _prepare(tests, test, participant)
    unit = unit_for_test(test) if test else "s"
    if bench_angle_deg is not None and "bench_angle_deg" in df.columns:
        df = df.filter(pl.col("bench_angle_deg").is_null()
                       | (pl.col("bench_angle_deg") == float(bench_angle_deg)))
    name = test or "test"
    if src is None and unit == "s" and test in (None, "sorensen_hold"):
        # Latimer's SRC was measured on the horizontal Sorensen test only
        src = norms.SORENSEN_SRC_S[norms.DEFAULT_SRC_GROUP]
    # a series without test ids is one test; "participant" is one person after _prepare
    df = df.with_columns(pl.lit(name).alias("test"))
    best = monthly_best(df, month, previous="latest", src=src)
    if best.height == 0:
        return MonthlyChange(month, test, "no_tests_this_month", "no test this month",
                             f"no {name} in {month}", unit=unit)
    r = best.row(0, named=True)
    cur, cur_d = r["best"], r["best_date"]
    if r["previous_best"] is None:
        return MonthlyChange(month, test, "no_earlier_tests", "first test month",
                             f"best {name} in {month}: {cur:g} {unit}; no earlier month to "
                             "compare with", current_best=cur, current_date=cur_d, unit=unit,
                             verdict=r["verdict"])
    prev_month, pv, change = r["previous_month"], r["previous_best"], r["change"]
    gap = ("" if prev_month == previous_month(month)
           else f" (no tests in between; compared with {prev_month})")
    common = dict(current_best=cur, current_date=cur_d, previous_month=prev_month,
                  previous_best=pv, previous_date=r["previous_date"], change=change, src=src,
                  unit=unit, verdict=r["verdict"])
    if src is None:
        return MonthlyChange(month, test, "no_src", f"changed by {change:+g} {unit}",
                             f"best {name} {cur:g} vs {pv:g} {unit} in {prev_month}{gap}; no "
                             "smallest real change is known for this test: pass src=...",
                             **common)
    label = label_change(pv, cur, src=src, unit=unit)
    return MonthlyChange(month, test, "ok", label,
                         f"best {name} {cur:g} {unit} vs {pv:g} {unit} in {prev_month}{gap}: "
                         f"{change:+g} {unit}, {label}", **common)
