"""Single-case (n-of-1) statistics: effect sizes, piecewise regression, randomization tests.

Three families, each checked against published values (``tests/data/sced_cases.json``, every case
with its source):

* :func:`effect_sizes` / :func:`effect_sizes_batch` — the non-overlap and parametric effect sizes of
  the R package SingleCaseES 0.7.4 (Pustejovsky et al.; definitions in its vignette
  "Effect size definitions and mathematical details" and in ``R/non-overlap-measures.R`` and
  ``R/parametric-measures.R``), plus :func:`log_ratio_of_medians`, :func:`phase_statistics` and
  :func:`baseline_trend` for the numbers those measures are built from.
* :func:`piecewise_regression` — Huitema & McKean (2000) segmented regression with level and slope
  changes at each phase start, optionally with AR(1) errors or as a Poisson GLM for counts.
* :func:`randomization_test` — Edgington (1980) / Onghena (1992) phase-start randomization test for
  AB, ABA, ABAB... designs, exhaustive or Monte Carlo, over the minimum-phase-length placements or
  over a plan's own admissible set (``admissible=``); :func:`randomization_test_mb` — the same for
  a multiple baseline across people (Marascuilo & Busk 1988 or Koehler & Levin 1998 models).
* :func:`cdc` — the conservative dual criterion of Fisher, Kelley & Lomas (2003), a structured aid
  to visual analysis (the shifted A mean and trend lines, and the binomial count they need).
* :func:`bayes_effect` — the level difference of B over A with AR(1) errors, Bayesian (a grid
  over the autocorrelation, conjugate regression given it), in the outcome's units and as
  probabilities of improvement; :func:`bayes_effect_by_week` follows it week by week.

Orientation: ``improvement="increase"`` means larger values are better (hold time, reps);
``"decrease"`` means smaller is better (pain, flare-ups). Measures are then oriented so that a
positive Tau / SMD / LRRi means improvement, exactly as SingleCaseES does.

Nothing runs on import.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from scipy import optimize, special, stats

__all__ = [
    "BAYES_EFFECT_PRIOR_SD",
    "BAYES_RHO_GRID",
    "MEASURES",
    "AR1Posterior",
    "BayesEffectResult",
    "CDCResult",
    "MultipleBaselineResult",
    "PiecewiseResult",
    "RandomizationResult",
    "ar1_regression_posterior",
    "baseline_trend",
    "bayes_effect",
    "bayes_effect_by_week",
    "cdc",
    "cdc_required",
    "effect_sizes",
    "effect_sizes_batch",
    "log_ratio_of_medians",
    "phase_statistics",
    "piecewise_regression",
    "randomization_test",
    "randomization_test_mb",
]

#: Rows of :func:`effect_sizes`, in output order.
MEASURES: tuple[str, ...] = (
    "NAP",
    "Tau",
    "Tau_BC",
    "Tau_U",
    "Tau_U_original",
    "PND",
    "PEM",
    "PAND",
    "IRD",
    "SMD_baseline",
    "SMD_pooled",
    "LRRi",
    "LRRd",
)
_COLUMNS = ("measure", "estimate", "std_error", "ci_low", "ci_high", "note")
_IMPROVEMENTS = ("increase", "decrease")
_SCALES = ("count", "rate", "percentage", "proportion")
_NAP_SE = ("unbiased", "hanley", "null")
_MIN_PHASE_POINTS = 2
# Rows of the pairwise comparison array processed at once: bounds memory (about 8e6 cells).
_CHUNK_CELLS = 8_000_000
# Up to this many rows the NAP interval is solved row by row with Brent's method.
_SCALAR_ROWS = 8

# Notes explain a null or a value that needs care. Index 0 = no note.
_NOTES: tuple[str | None, ...] = (
    None,
    "NAP is 0 or 1 (no overlap): the score equation is 0 at the bracket end, so SingleCaseES 0.7.4"
    " (uniroot) reports the interval collapsed onto the estimate; read it as 'no overlap', not as"
    " certainty",
    "the variance estimate is negative for these data, so no standard error or interval",
    "SMD_baseline needs at least 3 baseline points (Hedges' J is 0 with 1 degree of freedom;"
    " bias_correct=False gives the uncorrected d)",
    "no variation in the baseline phase (SD = 0): SMD_baseline is undefined",
    "no variation within phases (pooled SD = 0): SMD_pooled is undefined",
    "LRR needs non-negative ratio-scale data (counts or rates); the data hold negative values",
    "LRR on scale='percentage' needs values in 0-100",
    "LRR on scale='proportion' needs values in 0-1",
    "a phase mean is 0 and no truncation constant applies (pass intervals= or"
    " observation_length=): the log ratio is undefined",
    "a phase mean (or variance) was below the truncation floor 1/(2Dn) (1/(D^2 n^3)) and was"
    " truncated as in Pustejovsky (2018); the estimate depends on that choice",
)
_N_DEGENERATE, _N_NEGVAR, _N_SMD_SHORT, _N_SMD_SD0_B, _N_SMD_SD0_P = 1, 2, 3, 4, 5
_N_LRR_NEG, _N_LRR_PCT, _N_LRR_PROP, _N_LRR_ZERO, _N_LRR_TRUNC = 6, 7, 8, 9, 10


# ------------------------------------------------------------------------------------------------
# input helpers
# ------------------------------------------------------------------------------------------------


def _as_vector(x: Any, name: str) -> np.ndarray:
    """A 1-D float array from a list, tuple, numpy array or polars Series; ValueError otherwise."""
    if isinstance(x, pl.DataFrame):
        raise ValueError(f"{name} must be a sequence of numbers, not a DataFrame; pass one column")
    if isinstance(x, pl.Series):
        if not (x.dtype.is_numeric() or x.dtype == pl.Boolean):
            raise ValueError(f"{name} must hold numbers; got a Series of {x.dtype}")
        x = x.cast(pl.Float64).to_numpy()
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must hold numbers only: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(
            f"{name} has missing or non-finite values at positions {bad[:10].tolist()}; "
            "drop or fill them before computing effect sizes"
        )
    return arr


def _as_matrix(x: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 2-D numeric array: {exc}") from None
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (one series a row), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        rows = np.flatnonzero(~np.isfinite(arr).all(axis=1))
        raise ValueError(f"{name} has missing or non-finite values in rows {rows[:10].tolist()}")
    return arr


def _check_choice(value: Any, name: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def _z_value(confidence: float) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        raise ValueError(f"confidence must be a number between 0 and 1; got {confidence!r}")
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(
            f"confidence must lie strictly between 0 and 1 (e.g. 0.95); got {confidence}"
        )
    return float(special.ndtri(1.0 - (1.0 - float(confidence)) / 2.0))


# ------------------------------------------------------------------------------------------------
# vectorised kernels (one series a row)
# ------------------------------------------------------------------------------------------------


def _nap_ci(nap: np.ndarray, m: int, n: int, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe (2006) method 5 bounds for NAP, solved by vectorised bisection.

    The bounds are the roots of the score equation (SingleCaseES ``calc_NAP``)
    ``f(x) = m n (NAP - x)^2 (2 - x)(1 + x) - z^2 x (1 - x) (2 + h + (1 + 2h) x (1 - x))``,
    ``h = (m + n)/2 - 1``, in ``[0, NAP]`` (lower) and ``[NAP, 1]`` (upper). ``f(0) > 0``,
    ``f(NAP) < 0`` and ``f(1) > 0`` for ``0 < NAP < 1``, and each bracket holds a single root
    (checked over m, n in 2..40, NAP on a grid and confidence 0.8-0.999). 64 bisection steps
    (Brent's method for a few rows) reach machine precision, so the bounds are the exact roots
    (SingleCaseES's ``uniroot`` stops about 2e-5 away). When NAP is 0 or 1 the score function is 0 at the bracket end and
    ``uniroot`` returns that end, so the interval collapses to [0, 0] or [1, 1]; we do the same.
    """
    h = (m + n) / 2.0 - 1.0
    z2 = z * z

    def f(x: np.ndarray) -> np.ndarray:
        return m * n * (nap - x) ** 2 * (2.0 - x) * (1.0 + x) - z2 * x * (1.0 - x) * (
            2.0 + h + (1.0 + 2.0 * h) * x * (1.0 - x)
        )

    if nap.size <= _SCALAR_ROWS:
        # few rows: Brent's method per bound is faster than array bisection and as exact
        lower, upper = np.empty_like(nap), np.empty_like(nap)
        for r, p in enumerate(nap.tolist()):

            def g(x: float, p: float = p) -> float:
                return m * n * (p - x) ** 2 * (2.0 - x) * (1.0 + x) - z2 * x * (1.0 - x) * (
                    2.0 + h + (1.0 + 2.0 * h) * x * (1.0 - x)
                )

            lower[r] = optimize.brentq(g, 0.0, p, xtol=1e-15) if 0.0 < p < 1.0 else p
            upper[r] = optimize.brentq(g, p, 1.0, xtol=1e-15) if 0.0 < p < 1.0 else p
        return lower, upper
    lo_a, lo_b = np.zeros_like(nap), nap.copy()  # f(lo_a) > 0 > f(lo_b)
    up_a, up_b = nap.copy(), np.ones_like(nap)  # f(up_a) < 0 < f(up_b)
    for _ in range(64):
        mid = 0.5 * (lo_a + lo_b)
        pos = f(mid) > 0
        lo_a = np.where(pos, mid, lo_a)
        lo_b = np.where(pos, lo_b, mid)
        mid = 0.5 * (up_a + up_b)
        neg = f(mid) < 0
        up_a = np.where(neg, mid, up_a)
        up_b = np.where(neg, up_b, mid)
    lower = 0.5 * (lo_a + lo_b)
    upper = 0.5 * (up_a + up_b)
    # uniroot's endpoint rule: with NAP = 1 (0) the lower (upper) search returns the bracket end.
    lower = np.where(nap >= 1.0, 1.0, np.where(nap <= 0.0, 0.0, lower))
    upper = np.where(nap <= 0.0, 0.0, np.where(nap >= 1.0, 1.0, upper))
    return lower, upper


def _nap_block(
    a: np.ndarray, b: np.ndarray, z: float, se_kind: str, tol: float = 0.0
) -> dict[str, np.ndarray]:
    """NAP with its SE and Newcombe interval for rows of already-oriented data.

    NAP = [#(B > A) + 0.5 #(B = A)] / (m n) over all A-B pairs (Parker & Vannest 2009); pairs
    within ``tol`` of each other count as ties (0 for raw data, as SingleCaseES).
    With Q_ij the pair score, Q1 = sum_i (sum_j (Q_ij - NAP))^2 / (m n^2),
    Q2 = sum_j (sum_i (Q_ij - NAP))^2 / (m^2 n), X = sum (Q_ij - NAP)^2 / (m n), and
    NAP* = NAP truncated to [1/(2mn), 1 - 1/(2mn)] (SingleCaseES 0.7.4):

    * unbiased (Sen 1967; Mee 1990): V = [NAP*(1-NAP*) + n Q1 + m Q2 - 2X] / ((m-1)(n-1))
    * Hanley & McNeil (1982):        V = [NAP*(1-NAP*) + (n-1) Q1 + (m-1) Q2] / (m n)
    * null:                           V = (m + n + 1) / (12 m n)
    """
    m, n = a.shape[1], b.shape[1]
    diff = b[:, None, :] - a[:, :, None]
    q = (diff > tol) + 0.5 * (np.abs(diff) <= tol)
    nap = q.mean(axis=(1, 2))
    centred = q - nap[:, None, None]
    q1 = (centred.sum(axis=2) ** 2).sum(axis=1) / (m * n * n)
    q2 = (centred.sum(axis=1) ** 2).sum(axis=1) / (m * m * n)
    trunc = 0.5 / (m * n)
    nap_t = np.clip(nap, trunc, 1.0 - trunc)
    if se_kind == "unbiased":
        x = (centred**2).sum(axis=(1, 2)) / (m * n)
        var = (nap_t * (1.0 - nap_t) + n * q1 + m * q2 - 2.0 * x) / ((m - 1) * (n - 1))
    elif se_kind == "hanley":
        var = (nap_t * (1.0 - nap_t) + (n - 1) * q1 + (m - 1) * q2) / (m * n)
    else:
        var = np.full_like(nap, (m + n + 1) / (12.0 * m * n))
    negative = var < 0
    se = np.sqrt(np.where(negative, np.nan, var))
    lower, upper = _nap_ci(nap, m, n, z)
    note = np.where(negative, _N_NEGVAR, np.where((nap <= 0) | (nap >= 1), _N_DEGENERATE, 0))
    return {"est": nap, "se": se, "lo": lower, "hi": upper, "note": note}


def _theil_sen(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Theil-Sen line of each row against session 1..m, as SingleCaseES ``calc_Tau_BC``.

    slope = median over pairs i < j of (a_j - a_i) / (j - i); intercept = median(a - session*slope).
    """
    m = a.shape[1]
    i, j = np.triu_indices(m, k=1)
    slopes = (a[:, j] - a[:, i]) / (j - i).astype(float)
    slope = np.median(slopes, axis=1)
    session = np.arange(1, m + 1, dtype=float)
    intercept = np.median(a - session[None, :] * slope[:, None], axis=1)
    return slope, intercept


def _pand(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """PAND by Pustejovsky's formula (SingleCaseES ``calc_PAND``), rows already oriented.

    The most points that can be kept is max over k = 0..m of k + #(B > a_(k)), keeping the k
    lowest A points and every B point above the largest kept A point (a_(0) = -inf).
    PAND = that maximum / (m + n).
    """
    m, n = a.shape[1], b.shape[1]
    a_sorted = np.sort(a, axis=1)
    above = (b[:, None, :] > a_sorted[:, :, None]).sum(axis=2)  # rows x m
    kept = np.concatenate(
        [np.full((a.shape[0], 1), n), above + np.arange(1, m + 1)[None, :]], axis=1
    ).max(axis=1)
    return kept / (m + n)


def _lrr(
    a: np.ndarray,
    b: np.ndarray,
    *,
    improvement: str,
    scale: str,
    d_const: float,
    z: float,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Bias-corrected log response ratios LRRi and LRRd (Pustejovsky 2015, 2018).

    Per phase: truncated mean M = max(mean, 1/(2Dn)), truncated variance V = max(s^2, 1/(D^2 n^3))
    (D = 1 for counts, the session length for rates, intervals/100 for percentages, intervals for
    proportions; no truncation when D is not known), bias-corrected log mean
    ln M + V/(2 n M^2); LRR = (B) - (A); SE = sqrt(V_A/(n_A M_A^2) + V_B/(n_B M_B^2));
    CI = LRR +/- z SE. LRRi is oriented so positive = improvement, LRRd so negative =
    improvement; for counts and rates LRRd = -LRRi, for percentages and proportions the
    reflected scale (100 - M or 1 - M) is used for the version that needs it (SingleCaseES
    ``calc_LRRi`` / ``calc_LRRd``).
    """
    rows = a.shape[0]
    m, n = a.shape[1], b.shape[1]
    ns = np.array([m, n], dtype=float)
    means = np.stack([a.mean(axis=1), b.mean(axis=1)], axis=1)
    variances = np.stack([a.var(axis=1, ddof=1), b.var(axis=1, ddof=1)], axis=1)
    lowest = np.minimum(a.min(axis=1), b.min(axis=1))
    highest = np.maximum(a.max(axis=1), b.max(axis=1))
    invalid = np.zeros(rows, dtype=np.int8)
    if scale == "percentage":
        invalid[(lowest < 0) | (highest > 100)] = _N_LRR_PCT
        top = 100.0
    elif scale == "proportion":
        invalid[(lowest < 0) | (highest > 1)] = _N_LRR_PROP
        top = 1.0
    else:
        invalid[lowest < 0] = _N_LRR_NEG
        top = None

    def one(version: str) -> dict[str, np.ndarray]:
        mm = means.copy()
        reflect = top is not None and (
            (version == "i" and improvement == "decrease")
            or (version == "d" and improvement == "increase")
        )
        if reflect:
            mm = top - mm
        vv = variances.copy()
        truncated = np.zeros(rows, dtype=bool)
        if math.isfinite(d_const):
            floor_m = 1.0 / (2.0 * d_const * ns)
            floor_v = 1.0 / (d_const**2 * ns**3)
            truncated = ((mm < floor_m) | (vv < floor_v)).any(axis=1)
            mm = np.maximum(mm, floor_m)
            vv = np.maximum(vv, floor_v)
        zero_mean = (mm <= 0).any(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            bc = np.log(mm) + vv / (2.0 * ns * mm**2)
            est = bc[:, 1] - bc[:, 0]
            se = np.sqrt((vv / (ns * mm**2)).sum(axis=1))
        flip = top is None and (
            (version == "i" and improvement == "decrease")
            or (version == "d" and improvement == "increase")
        )
        if flip:
            est = -est
        note = np.where(
            invalid > 0,
            invalid,
            np.where(zero_mean, _N_LRR_ZERO, np.where(truncated, _N_LRR_TRUNC, 0)),
        )
        bad = (invalid > 0) | zero_mean
        est = np.where(bad, np.nan, est)
        se = np.where(bad, np.nan, se)
        return {"est": est, "se": se, "lo": est - z * se, "hi": est + z * se, "note": note}

    return one("i"), one("d")


def _smd(
    a: np.ndarray, b: np.ndarray, *, sign: float, z: float, pooled: bool, bias_correct: bool
) -> dict[str, np.ndarray]:
    """Within-case standardized mean difference (Hedges' g), SingleCaseES ``calc_SMD``.

    Baseline SD: df = m - 1, s^2 = s_A^2, S = 1/m + s_B^2/(n s_A^2).
    Pooled SD:   df = m + n - 2, s^2 = ((m-1)s_A^2 + (n-1)s_B^2)/df, S = 1/m + 1/n.
    J = 1 - 3/(4 df - 1) (Hedges 1981); g = J (mean_B - mean_A)/s (negated when decrease is the
    improvement); SE = J sqrt(S + g^2/(2 df)); CI = g +/- z SE.
    """
    m, n = a.shape[1], b.shape[1]
    va, vb = a.var(axis=1, ddof=1), b.var(axis=1, ddof=1)
    diff = b.mean(axis=1) - a.mean(axis=1)
    if pooled:
        df = m + n - 2
        s2 = ((m - 1) * va + (n - 1) * vb) / df
        with np.errstate(divide="ignore", invalid="ignore"):
            sv1 = np.full_like(va, 1.0 / m + 1.0 / n)
        note = np.where(s2 <= 0, _N_SMD_SD0_P, 0)
    else:
        df = m - 1
        s2 = va
        # a baseline SD of zero (noted below) or a hair above it (an infinite variance term:
        # an unbounded interval, as the formula says) is no reason for a warning
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            sv1 = 1.0 / m + vb / (n * va)
        note = np.where(s2 <= 0, _N_SMD_SD0_B, 0)
        if m < 3 and bias_correct:  # J = 1 - 3/(4·1 - 1) = 0; uncorrected d is still defined
            note = np.full(a.shape[0], _N_SMD_SHORT)
    j = 1.0 - 3.0 / (4.0 * df - 1.0) if bias_correct else 1.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        g = sign * j * diff / np.sqrt(s2)
        se = j * np.sqrt(sv1 + g**2 / (2.0 * df))
    bad = note > 0
    g = np.where(bad, np.nan, g)
    se = np.where(bad, np.nan, se)
    return {"est": g, "se": se, "lo": g - z * se, "hi": g + z * se, "note": note}


def _effect_block(
    a: np.ndarray,
    b: np.ndarray,
    *,
    improvement: str,
    z: float,
    scale: str,
    d_const: float,
    nap_se: str,
    bias_correct: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """All measures for a block of rows: (values rows x measures x 4, notes rows x measures)."""
    rows, m = a.shape
    n = b.shape[1]
    sign = 1.0 if improvement == "increase" else -1.0
    ao, bo = sign * a, sign * b  # SingleCaseES multiplies by -1 when decrease is the improvement
    nan = np.full(rows, np.nan)
    zero = np.zeros(rows, dtype=np.int8)

    nap = _nap_block(ao, bo, z, nap_se)
    tau = {
        "est": 2 * nap["est"] - 1,
        "se": 2 * nap["se"],
        "lo": 2 * nap["lo"] - 1,
        "hi": 2 * nap["hi"] - 1,
        "note": nap["note"],
    }
    # Tau-BC: detrend with the Theil-Sen baseline line (raw data, sessions 1..m+n), then Tau.
    slope, intercept = _theil_sen(a)
    sess_a = np.arange(1, m + 1, dtype=float)
    sess_b = np.arange(m + 1, m + n + 1, dtype=float)
    ra = a - intercept[:, None] - slope[:, None] * sess_a[None, :]
    rb = b - intercept[:, None] - slope[:, None] * sess_b[None, :]
    # Residuals equal in exact arithmetic can differ by rounding: pairs closer than 1e-9 x the
    # data's magnitude count as ties (SingleCaseES compares the raw doubles).
    tol = 1e-9 * max(1.0, float(np.abs(a).max(initial=0.0)), float(np.abs(b).max(initial=0.0)))
    nap_bc = _nap_block(sign * ra, sign * rb, z, nap_se, tol)
    tau_bc = {
        "est": 2 * nap_bc["est"] - 1,
        "se": 2 * nap_bc["se"],
        "lo": 2 * nap_bc["lo"] - 1,
        "hi": 2 * nap_bc["hi"] - 1,
        "note": nap_bc["note"],
    }
    # Tau-U: Kendall S between phases minus Kendall S of the baseline against time.
    s_ab = (2 * nap["est"] - 1) * m * n
    i, j = np.triu_indices(m, k=1)
    s_a = np.sign(ao[:, j] - ao[:, i]).sum(axis=1)
    tau_u = (s_ab - s_a) / (m * n)
    tau_u_orig = (s_ab - s_a) / (m * n + m * (m - 1) / 2)
    pnd = (bo > ao.max(axis=1)[:, None]).mean(axis=1)
    med = np.median(ao, axis=1)[:, None]
    pem = ((bo > med) + 0.5 * (bo == med)).mean(axis=1)
    pand = _pand(ao, bo)
    ird = ((m + n) ** 2 * pand - m**2 - n**2) / (2 * m * n)
    smd_b = _smd(a, b, sign=sign, z=z, pooled=False, bias_correct=bias_correct)
    smd_p = _smd(a, b, sign=sign, z=z, pooled=True, bias_correct=bias_correct)
    lrri, lrrd = _lrr(a, b, improvement=improvement, scale=scale, d_const=d_const, z=z)

    def point(est: np.ndarray) -> dict[str, np.ndarray]:
        return {"est": est, "se": nan, "lo": nan, "hi": nan, "note": zero}

    blocks = [
        nap,
        tau,
        tau_bc,
        point(tau_u),
        point(tau_u_orig),
        point(pnd),
        point(pem),
        point(pand),
        point(ird),
        smd_b,
        smd_p,
        lrri,
        lrrd,
    ]
    values = np.stack(
        [np.stack([blk["est"], blk["se"], blk["lo"], blk["hi"]], axis=1) for blk in blocks], axis=1
    )
    notes = np.stack([np.asarray(blk["note"], dtype=np.int8) for blk in blocks], axis=1)
    # An undefined SE leaves the interval undefined too.
    values[:, :, 2:] = np.where(np.isnan(values[:, :, 1:2]), np.nan, values[:, :, 2:])
    return values, notes


def _truncation_constant(
    scale: str, observation_length: float | None, intervals: float | None
) -> float:
    """D of Pustejovsky (2018) as in SingleCaseES ``trunc_constant``; inf = no truncation."""
    for name, val in (("observation_length", observation_length), ("intervals", intervals)):
        if val is not None and not (
            isinstance(val, int | float) and not isinstance(val, bool) and val > 0
        ):
            raise ValueError(f"{name} must be a positive number or None; got {val!r}")
    if scale == "count":
        return 1.0
    if scale == "rate":
        return float(observation_length) if observation_length is not None else math.inf
    if intervals is None:
        return math.inf
    return float(intervals) / 100.0 if scale == "percentage" else float(intervals)


def effect_sizes_batch(
    a_matrix: Any,
    b_matrix: Any,
    *,
    improvement: str = "increase",
    confidence: float = 0.95,
    scale: str = "count",
    observation_length: float | None = None,
    intervals: float | None = None,
    nap_se: str = "unbiased",
    bias_correct: bool = True,
) -> pl.DataFrame:
    """Effect sizes of many A/B series at once (one series a row, equal phase lengths).

    Same measures and options as :func:`effect_sizes`; every computation is vectorised over the
    rows with numpy (the NAP interval by vectorised bisection). Returns a long DataFrame with
    columns ``series`` (row index, from 0), ``measure``, ``estimate``, ``std_error``, ``ci_low``,
    ``ci_high``, ``note``; rows are ordered by series, then by :data:`MEASURES`.
    """
    a = _as_matrix(a_matrix, "a_matrix")
    b = _as_matrix(b_matrix, "b_matrix")
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"a_matrix and b_matrix need the same number of rows (series); got {a.shape[0]} and "
            f"{b.shape[0]}"
        )
    if a.shape[1] < _MIN_PHASE_POINTS or b.shape[1] < _MIN_PHASE_POINTS:
        raise ValueError(
            f"each phase needs at least {_MIN_PHASE_POINTS} observations (NAP's SE, Tau_BC's trend "
            f"and the SMD need them); got A = {a.shape[1]}, B = {b.shape[1]}"
        )
    _check_choice(improvement, "improvement", _IMPROVEMENTS)
    _check_choice(scale, "scale", _SCALES)
    _check_choice(nap_se, "nap_se", _NAP_SE)
    if not isinstance(bias_correct, bool):
        raise ValueError(f"bias_correct must be True or False; got {bias_correct!r}")
    z = _z_value(confidence)
    d_const = _truncation_constant(scale, observation_length, intervals)
    rows, m = a.shape
    n = b.shape[1]
    step = max(1, _CHUNK_CELLS // (m * max(m, n)))
    parts_v, parts_n = [], []
    for start in range(0, rows, step):
        v, nt = _effect_block(
            a[start : start + step],
            b[start : start + step],
            improvement=improvement,
            z=z,
            scale=scale,
            d_const=d_const,
            nap_se=nap_se,
            bias_correct=bias_correct,
        )
        parts_v.append(v)
        parts_n.append(nt)
    values = np.concatenate(parts_v) if rows else np.empty((0, len(MEASURES), 4))
    notes = np.concatenate(parts_n) if rows else np.empty((0, len(MEASURES)), dtype=np.int8)
    k = len(MEASURES)
    flat = values.reshape(rows * k, 4)
    note_text = np.array(_NOTES, dtype=object)[notes.reshape(-1)]
    return pl.DataFrame(
        {
            "series": np.repeat(np.arange(rows, dtype=np.int64), k),
            "measure": np.tile(np.array(MEASURES), rows),
            "estimate": flat[:, 0],
            "std_error": flat[:, 1],
            "ci_low": flat[:, 2],
            "ci_high": flat[:, 3],
            "note": pl.Series("note", note_text.tolist(), dtype=pl.String),
        },
        nan_to_null=True,
    )


def effect_sizes(
    a: Any,
    b: Any,
    *,
    improvement: str = "increase",
    confidence: float = 0.95,
    scale: str = "count",
    observation_length: float | None = None,
    intervals: float | None = None,
    nap_se: str = "unbiased",
    bias_correct: bool = True,
) -> pl.DataFrame:
    """Single-case A/B effect sizes, as defined by SingleCaseES 0.7.4 (Pustejovsky et al.).

    Parameters
    ----------
    a, b
        Phase A (baseline) and phase B (intervention) values in session order (list, tuple,
        numpy array or polars Series). At least 2 points each; missing values are an error.
    improvement
        ``"increase"`` if larger values are better, ``"decrease"`` if smaller are (pain).
        With ``"decrease"`` SingleCaseES negates the data, so NAP becomes 1 - NAP and Tau, Tau_BC,
        Tau_U and SMD change sign, while PND, PEM, PAND and IRD are recomputed against the A
        minimum / median (they are not mirror images).
    confidence
        Level of the intervals (default 0.95).
    scale
        Scale of the outcome for the log response ratios and their truncation constant D:
        ``"count"`` (D = 1, default), ``"rate"`` (D = ``observation_length`` in minutes),
        ``"percentage"`` (0-100, D = ``intervals``/100) or ``"proportion"`` (0-1,
        D = ``intervals``). Without ``observation_length`` / ``intervals`` no truncation is done.
        Percentage/proportion LRRi with a decrease target (and LRRd with an increase target) use
        the reflected scale 100 - M (1 - M), so LRRd != -LRRi there (Pustejovsky 2018).
    nap_se
        NAP standard error: ``"unbiased"`` (Sen 1967 / Mee 1990, default), ``"hanley"``
        (Hanley & McNeil 1982) or ``"null"`` (sqrt((m+n+1)/(12mn))). Also used for Tau and Tau_BC.
    bias_correct
        Hedges' small-sample correction J for the SMDs (default True).

    Returns
    -------
    polars.DataFrame with columns ``measure, estimate, std_error, ci_low, ci_high, note`` and one
    row per measure in :data:`MEASURES`. ``std_error``/``ci_*`` are null where the literature
    defines none; ``note`` is null unless a value is missing or needs care, and then says why.

    Measures (m = #A, n = #B; formulas from SingleCaseES ``R/non-overlap-measures.R`` and
    ``R/parametric-measures.R``)
    ---------------------------------------------------------------------------------------
    NAP
        Non-overlap of all pairs (Parker & Vannest 2009): share of A-B pairs where B improves on
        A, ties 0.5. SE as chosen by ``nap_se``, with the NAP(1-NAP) term evaluated at NAP
        truncated to [1/(2mn), 1-1/(2mn)]. CI: Newcombe (2006) method 5 score inversion, solved
        exactly (SingleCaseES's ``uniroot`` bounds differ by about 2e-5).
    Tau
        2 NAP - 1 (Parker, Vannest, Davis & Sauber 2011); SE = 2 SE(NAP); CI = 2 CI(NAP) - 1.
    Tau_BC
        Baseline-corrected Tau (Tarlow 2017) as SingleCaseES's default: Theil-Sen line fitted to A
        against session 1..m, subtracted from all points (sessions 1..m+n), no pretest for trend,
        then Tau (non-overlap, ties 0.5) of the residuals with Tau's SE and CI. Residual pairs
        within 1e-9 x max|value| count as ties, so rounding cannot split a tie that is exact in
        real arithmetic (SingleCaseES compares the raw doubles).
    Tau_U
        SingleCaseES's Tau-U: (S_AB - S_A) / (m n), S_AB = sum of sign(B_j - A_i) over pairs,
        S_A = Kendall S of A against time. Can exceed 1.
    Tau_U_original
        Parker et al. (2011) "Tau-U A vs. B - Trend A": (S_AB - S_A) / (m n + m(m-1)/2).
    PND
        Share of B points beyond the most extreme A point (Scruggs, Mastropieri & Casto 1987).
    PEM
        Share of B points beyond the A median, ties 0.5 (Ma 2006).
    PAND
        Percentage of all non-overlapping data (Parker, Hagan-Burke & Vannest 2007), as a
        proportion, by Pustejovsky's formula: (most points kept after removing the fewest A and B
        points so that the phases no longer overlap) / (m + n).
    IRD
        Robust improvement rate difference (Parker, Vannest & Brown 2009):
        ((m+n)^2 PAND - m^2 - n^2) / (2 m n) = 1 - (m+n)^2/(2mn) (1 - PAND).
    SMD_baseline, SMD_pooled
        Hedges' g with the baseline SD (df = m-1) or the pooled SD (df = m+n-2):
        g = J (mean_B - mean_A)/s, J = 1 - 3/(4df - 1); SE = J sqrt(1/m + s_B^2/(n s_A^2) +
        g^2/(2df)) (baseline) or J sqrt(1/m + 1/n + g^2/(2df)) (pooled); CI = g +/- z SE.
    LRRi, LRRd
        Bias-corrected log response ratio (Pustejovsky 2015, 2018): ln M + V/(2nM^2) per phase
        (truncated M and V, see ``scale``), B minus A; SE = sqrt(sum V/(n M^2)); CI = +/- z SE.
        LRRi: positive = improvement; LRRd: negative = improvement.
    """
    av = _as_vector(a, "a")
    bv = _as_vector(b, "b")
    for name, v in (("A", av), ("B", bv)):
        if v.size < _MIN_PHASE_POINTS:
            raise ValueError(
                f"phase {name} has {v.size} observation(s); each phase needs at least "
                f"{_MIN_PHASE_POINTS} (NAP's SE, Tau_BC's trend and the SMD need them)"
            )
    out = effect_sizes_batch(
        av[None, :],
        bv[None, :],
        improvement=improvement,
        confidence=confidence,
        scale=scale,
        observation_length=observation_length,
        intervals=intervals,
        nap_se=nap_se,
        bias_correct=bias_correct,
    )
    return out.drop("series")


def phase_statistics(a: Any, b: Any) -> pl.DataFrame:
    """Sizes, means, medians and SDs of each phase, and the pooled within-phase SD.

    Columns ``phase`` ("A", "B", "pooled"), ``n``, ``mean``, ``median``, ``sd``. The A row's SD
    is the SMD_baseline denominator; the pooled SD sqrt(((m-1)s_A^2 + (n-1)s_B^2)/(m+n-2)) is the
    SMD_pooled one (SingleCaseES reports them as ``baseline_SD`` and ``pooled_SD``).
    """
    av, bv = _as_vector(a, "a"), _as_vector(b, "b")
    if av.size < 2 or bv.size < 2:
        raise ValueError("each phase needs at least 2 observations for a standard deviation")
    m, n = av.size, bv.size
    va, vb = av.var(ddof=1), bv.var(ddof=1)
    pooled = math.sqrt(((m - 1) * va + (n - 1) * vb) / (m + n - 2))
    return pl.DataFrame(
        {
            "phase": ["A", "B", "pooled"],
            "n": [m, n, m + n],
            "mean": [float(av.mean()), float(bv.mean()), None],
            "median": [float(np.median(av)), float(np.median(bv)), None],
            "sd": [math.sqrt(va), math.sqrt(vb), pooled],
        }
    )


def baseline_trend(a: Any) -> tuple[float, float]:
    """Theil-Sen (slope, intercept) of the baseline against session 1..m, as Tau_BC uses.

    slope = median of pairwise slopes (a_j - a_i)/(j - i); intercept = median(a - slope * session)
    (Theil 1950; Sen 1968; SingleCaseES ``calc_Tau_BC``).
    """
    av = _as_vector(a, "a")
    if av.size < 2:
        raise ValueError("the baseline needs at least 2 observations for a trend")
    slope, intercept = _theil_sen(av[None, :])
    return float(slope[0]), float(intercept[0])


def log_ratio_of_medians(
    a: Any,
    b: Any,
    *,
    improvement: str = "increase",
    confidence: float = 0.95,
    delta_method: bool = False,
) -> pl.DataFrame:
    """Log ratio of medians (LRM) with its SE and interval (Bonett & Price 2020; SingleCaseES).

    LRM = ln(median_B) - ln(median_A), negated when decrease is the improvement. Per phase, with
    the data sorted y_(1..k): o1 = max(round(k/2 - sqrt(k)), 1), o2 = k - o1 + 1,
    z0 = Phi^-1(1 - P(Bin(k, 1/2) <= o1 - 1)), var(ln median) = ((ln y_(o2) - ln y_(o1))/(2 z0))^2
    (or ((y_(o2) - y_(o1))/(2 z0))^2 / median^2 with ``delta_method``). SE = sqrt(var_A + var_B);
    CI = LRM +/- z SE. Needs positive data. Returns the columns of :func:`effect_sizes`.
    """
    _check_choice(improvement, "improvement", _IMPROVEMENTS)
    z = _z_value(confidence)
    parts = []
    for name, v in (("a", _as_vector(a, "a")), ("b", _as_vector(b, "b"))):
        if v.size < 2:
            raise ValueError(f"{name} needs at least 2 observations for the LRM's SE")
        if (v <= 0).any():
            raise ValueError(
                f"{name} has values <= 0; the log ratio of medians needs positive data"
            )
        k = v.size
        y = np.sort(v)
        o1 = max(int(np.round(k / 2 - math.sqrt(k))), 1)  # R's round: half to even, as numpy's
        o2 = k - o1 + 1
        z0 = float(stats.norm.ppf(1.0 - stats.binom.cdf(o1 - 1, k, 0.5)))
        med = float(np.median(v))
        lo, hi = y[o1 - 1], y[o2 - 1]
        if delta_method:
            var = ((hi - lo) / (2 * z0)) ** 2 / med**2
        else:
            var = ((math.log(hi) - math.log(lo)) / (2 * z0)) ** 2
        parts.append((math.log(med), var))
    est = parts[1][0] - parts[0][0]
    if improvement == "decrease":
        est = -est
    se = math.sqrt(parts[0][1] + parts[1][1])
    return pl.DataFrame(
        {
            "measure": ["LRM"],
            "estimate": [est],
            "std_error": [se],
            "ci_low": [est - z * se],
            "ci_high": [est + z * se],
            "note": pl.Series([None], dtype=pl.String),
        }
    )


# ------------------------------------------------------------------------------------------------
# phase labels
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Design:
    starts: tuple[int, ...]  # index of the first point of each phase (starts[0] == 0)
    n: int
    names: tuple[str, ...]  # "A", "B" for AB; "A1", "B1", "A2", ... otherwise

    @property
    def n_changes(self) -> int:
        return len(self.starts) - 1

    @property
    def lengths(self) -> tuple[int, ...]:
        ends = (*self.starts[1:], self.n)
        return tuple(e - s for s, e in zip(self.starts, ends, strict=True))

    @property
    def code(self) -> str:
        return "".join(name[0] for name in self.names)


def _parse_phases(phases: Any, n_values: int) -> _Design:
    """Read the design from the ordered phase labels ("A"/"B"), e.g. AAABBB or AABBAABB."""
    if isinstance(phases, str):
        raise ValueError(
            'phases must be a sequence of labels such as ["A", "A", "B", ...], not a str'
        )
    labels = phases.to_list() if isinstance(phases, pl.Series) else list(phases)
    if len(labels) != n_values:
        raise ValueError(
            f"phases has {len(labels)} labels but there are {n_values} values; give one label a value"
        )
    if n_values == 0:
        raise ValueError("no values given")
    bad = sorted({repr(lab) for lab in labels if lab not in ("A", "B")})
    if bad:
        raise ValueError(f'phase labels must be "A" or "B"; found {", ".join(bad[:5])}')
    if labels[0] != "A":
        raise ValueError('the series must start with a baseline phase "A" (values in time order)')
    starts = [0] + [i for i in range(1, n_values) if labels[i] != labels[i - 1]]
    if len(starts) < 2:
        raise ValueError('phases holds only "A": a design needs at least one change to "B"')
    if len(starts) == 2:
        names = ("A", "B")
    else:
        names = tuple(f"{'AB'[k % 2]}{k // 2 + 1}" for k in range(len(starts)))
    return _Design(starts=tuple(starts), n=n_values, names=names)


# ------------------------------------------------------------------------------------------------
# piecewise regression (Huitema & McKean 2000)
# ------------------------------------------------------------------------------------------------


def _as_time(time: Any, n: int) -> np.ndarray:
    if time is None:
        return np.arange(1, n + 1, dtype=float)
    if isinstance(time, pl.Series) and time.dtype in (pl.Date, pl.Datetime):
        time = time.to_numpy()
    arr = np.asarray(time)
    if arr.dtype == object:
        with contextlib.suppress(TypeError, ValueError):  # datetime.date / datetime objects
            arr = np.asarray(time, dtype="datetime64[s]")
    if np.issubdtype(arr.dtype, np.datetime64):
        # dates become days since the earliest time
        arr = (arr - arr.min()).astype("timedelta64[s]").astype(float) / 86400.0
    return _as_vector(arr, "time")


def _design_matrix(t: np.ndarray, change_times: Sequence[float]) -> np.ndarray:
    """Huitema-McKean columns: 1, T, then D_k and SC_k = (T - T_k) D_k for each change k."""
    cols = [np.ones_like(t), t]
    for tk in change_times:
        d = (t >= tk).astype(float)
        cols += [d, (t - tk) * d]
    return np.column_stack(cols)


def _terms(k: int) -> list[str]:
    out = ["intercept", "time"]
    for i in range(1, k + 1):
        out += [f"level_change_{i}", f"slope_change_{i}"]
    return out


@dataclass(frozen=True, eq=False)
class PiecewiseResult:
    """Fit of :func:`piecewise_regression`.

    Attributes: ``tidy`` (term, estimate, std_error, ci_low, ci_high, p_value), ``family``,
    ``ar1``, ``rho`` (AR(1) coefficient or None), ``change_times`` (time of the first point of
    each new phase), ``phase_names``, ``data`` (time, value, phase), ``n_obs``, ``df_resid``,
    ``converged``, ``dispersion`` (Pearson chi2/df for Poisson, else None), ``notes``.
    Estimates of a Poisson fit are on the log scale (exp gives rate ratios).
    """

    tidy: pl.DataFrame
    family: str
    ar1: bool
    rho: float | None
    change_times: tuple[float, ...]
    phase_names: tuple[str, ...]
    data: pl.DataFrame
    n_obs: int
    df_resid: float
    confidence: float
    converged: bool
    dispersion: float | None
    notes: tuple[str, ...] = ()
    params: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    def predict(self, time: Any = None) -> pl.DataFrame:
        """Fitted values at the observed times (default) or at ``time``.

        Columns ``time``, ``phase`` (phase whose segment the time falls in), ``fitted`` (mean of
        the outcome; counts for Poisson) and ``baseline_projection`` (the first baseline line
        extended: what the model expects without any change).
        """
        t = self.data["time"].to_numpy() if time is None else _as_vector(time, "time")
        x = _design_matrix(t, self.change_times)
        eta = x @ self.params
        base = x[:, :2] @ self.params[:2]
        if self.family == "poisson":
            eta, base = np.exp(eta), np.exp(base)
        seg = np.searchsorted(np.asarray(self.change_times), t, side="right")
        return pl.DataFrame(
            {
                "time": t,
                "phase": [self.phase_names[i] for i in seg],
                "fitted": eta,
                "baseline_projection": base,
            }
        )

    def summary(self) -> str:
        """Plain-text summary (no dates)."""
        k = len(self.change_times)
        how = {
            ("gaussian", False): "ordinary least squares",
            ("gaussian", True): "feasible GLS with AR(1) errors (statsmodels GLSAR, iterated"
            " Cochrane-Orcutt, rho by Yule-Walker)",
            ("poisson", False): "Poisson GLM, log link (estimates are log rate ratios)",
        }[(self.family, self.ar1)]
        lines = [
            "Piecewise regression (Huitema & McKean 2000)",
            f"design: {'-'.join(self.phase_names)}; {self.n_obs} observations; {k} phase change(s)"
            f" at time {', '.join(f'{c:g}' for c in self.change_times)}",
            f"fit: {how}",
            f"level_change_k = jump at the first point of the new phase; slope_change_k = change"
            f" in slope per time unit; {int(round(self.confidence * 100))}% intervals",
        ]
        if self.rho is not None:
            lines.append(f"AR(1) rho = {self.rho:.3f}")
        if self.dispersion is not None:
            lines.append(
                f"Pearson dispersion = {self.dispersion:.2f} (near 1 fits a Poisson model; well"
                " above 1 means overdispersion)"
            )
        lines.append("")
        cols = ("estimate", "std_error", "ci_low", "ci_high", "p_value")
        lines.append(f"{'term':<16}" + "".join(f" {c:>11}" for c in cols))

        def fmt(v: float | None) -> str:
            return f" {'-':>11}" if v is None else f" {v:>11.4g}"

        for row in self.tidy.iter_rows(named=True):
            lines.append(f"{row['term']:<16}" + "".join(fmt(row[c]) for c in cols))
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def chart(
        self, *, value_label: str = "value", time_label: str = "session", title: str | None = None
    ):
        """Altair chart: observations by phase, fitted segments, projected baseline (dashed)."""
        import altair as alt

        pred = self.predict()
        points = self.data.with_columns(pred["fitted"], pred["baseline_projection"])
        x = alt.X("time:Q", title=time_label)
        base = alt.Chart(points)
        dots = base.mark_circle(size=45).encode(
            x=x,
            y=alt.Y("value:Q", title=value_label),
            color=alt.Color("phase:N", title="phase", sort=list(self.phase_names)),
        )
        fitted = base.mark_line().encode(
            x=x, y="fitted:Q", color=alt.Color("phase:N", sort=list(self.phase_names))
        )
        projection = base.mark_line(strokeDash=[4, 3], color="gray").encode(
            x=x, y="baseline_projection:Q"
        )
        times = self.data["time"].to_numpy()
        mids = []
        for tk in self.change_times:
            before = times[times < tk]
            mids.append(float((before.max() + tk) / 2) if before.size else float(tk))
        rules = (
            alt.Chart(pl.DataFrame({"change": mids}))
            .mark_rule(color="black", strokeDash=[2, 2])
            .encode(x="change:Q")
        )
        label = "Poisson GLM" if self.family == "poisson" else ("AR(1) GLS" if self.ar1 else "OLS")
        return (dots + fitted + projection + rules).properties(
            title=title or f"Piecewise regression ({label}): {value_label} by {time_label}",
            width=480,
            height=280,
        )


def piecewise_regression(
    values: Any,
    phases: Any,
    *,
    time: Any = None,
    ar1: bool = False,
    family: str = "gaussian",
    confidence: float = 0.95,
) -> PiecewiseResult:
    """Huitema & McKean (2000) segmented regression for AB, ABA, ABAB... series.

    Model (Huitema & McKean 2000, eq. 1, extended to k phase changes):
    ``Y_t = b0 + b1 T_t + sum_k [ L_k D_kt + S_k (T_t - T_k) D_kt ] + e_t`` with T_t the time
    (default 1..N), T_k the time of the first point of the k-th new phase and D_kt = 1 from
    that point on. Because the slope-change regressor is centred at T_k, L_k is the jump at the
    first point of the new phase (relative to the previous phase's line) and S_k the change of
    slope per time unit; b0 + b1 T is the baseline line.

    ``ar1=True`` fits AR(1) errors by feasible GLS: statsmodels ``GLSAR(rho=1).iterative_fit``
    (iterated Cochrane-Orcutt: OLS, rho from the residuals by Yule-Walker, whitening that drops
    the first observation, repeated to convergence). It assumes equally spaced times.
    ``family="poisson"`` fits the same design as a Poisson GLM with log link (counts such as
    flare-ups; estimates are log rate ratios). Intervals and p-values are t-based for Gaussian
    fits and z-based (Wald) for Poisson.

    ``phases`` are the labels "A"/"B" of the values in time order; each phase needs at least 2
    points and there must be residual degrees of freedom. Times must increase across phases.
    """
    y = _as_vector(values, "values")
    design = _parse_phases(phases, y.size)
    _check_choice(family, "family", ("gaussian", "poisson"))
    if not isinstance(ar1, bool):
        raise ValueError(f"ar1 must be True or False; got {ar1!r}")
    if ar1 and family == "poisson":
        raise ValueError("ar1=True is available for family='gaussian' only")
    _z_value(confidence)
    t = _as_time(time, y.size)
    if t.size != y.size:
        raise ValueError(f"time has {t.size} entries but there are {y.size} values")
    if np.any(np.diff(t) < 0):
        raise ValueError("time must be in increasing order (sort values, phases and time together)")
    short = [nm for nm, ln in zip(design.names, design.lengths, strict=True) if ln < 2]
    if short:
        raise ValueError(
            f"phase(s) {', '.join(short)} have fewer than 2 points; a level and a slope need 2"
        )
    for s in design.starts[1:]:
        if t[s] <= t[s - 1]:
            raise ValueError(
                f"phases overlap in time: the phase starting at position {s} begins at time "
                f"{t[s]:g}, not after the previous phase's last time {t[s - 1]:g}"
            )
    change_times = tuple(float(t[s]) for s in design.starts[1:])
    x = _design_matrix(t, change_times)
    p = x.shape[1]
    min_n = p + 1 + (1 if ar1 else 0)
    if y.size < min_n:
        raise ValueError(
            f"{y.size} observations are too few for {p} coefficients"
            f"{' and an AR(1) term' if ar1 else ''}; need at least {min_n}"
        )
    if np.linalg.matrix_rank(x) < p:
        raise ValueError(
            "the design is singular (check the times): the changes cannot be separated"
        )
    notes: list[str] = []
    rho = None
    dispersion = None
    converged = True
    alpha = 1.0 - confidence
    from statsmodels.genmod.families import Poisson
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.regression.linear_model import GLSAR, OLS

    if family == "poisson":
        if (y < 0).any() or not np.allclose(y, np.round(y)):
            raise ValueError("family='poisson' needs non-negative whole counts")
        zero_phases = [
            nm
            for nm, s, ln in zip(design.names, design.starts, design.lengths, strict=True)
            if not y[s : s + ln].any()
        ]
        if zero_phases:
            raise ValueError(
                f"phase(s) {', '.join(zero_phases)} hold only zero counts: the Poisson level and "
                "slope there are infinite; use effect_sizes (truncated LRR) instead"
            )
        res = GLM(y, x, family=Poisson()).fit()
        converged = bool(res.converged)
        dispersion = float(res.pearson_chi2 / res.df_resid)
        df_resid = float(res.df_resid)
        crit = stats.norm.ppf(1 - alpha / 2)
        params, bse = np.asarray(res.params), np.asarray(res.bse)
        pvals = 2 * stats.norm.sf(np.abs(params / np.where(bse > 0, bse, np.nan)))
    else:
        if ar1:
            ols_resid = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
            if np.abs(ols_resid).max() <= 1e-10 * max(1.0, float(np.abs(y).max())):
                raise ValueError(
                    "the AR(1) coefficient cannot be estimated: the lines fit the data exactly "
                    "(all residuals are 0); fit with ar1=False"
                )
            gaps = np.diff(t)
            if not np.allclose(gaps, gaps[0]):
                notes.append(
                    "the times are not equally spaced, but the AR(1) fit treats consecutive "
                    "observations as one step apart"
                )
            res = GLSAR(y, x, rho=1).iterative_fit(maxiter=100)
            converged = bool(getattr(res, "converged", True))
            rho = float(np.asarray(res.model.rho).ravel()[0])
            if not np.isfinite(rho):
                raise ValueError("the AR(1) coefficient cannot be estimated from these residuals")
            if abs(rho) >= 1:
                raise ValueError(
                    f"the AR(1) estimate rho = {rho:.3f} is not stationary (|rho| >= 1)"
                )
        else:
            res = OLS(y, x).fit()
        params, bse = np.asarray(res.params), np.asarray(res.bse)
        df_resid = float(res.df_resid)
        crit = stats.t.ppf(1 - alpha / 2, df_resid)
        with np.errstate(divide="ignore", invalid="ignore"):
            pvals = 2 * stats.t.sf(np.abs(params / np.where(bse > 0, bse, np.nan)), df_resid)
    if not converged:
        notes.append("the iterative fit did not converge; treat the estimates with caution")
    scale = max(1.0, float(np.abs(y).max()))
    exact = bse <= 1e-12 * scale
    if exact.any():
        bse = np.where(exact, 0.0, bse)
        notes.append("the line fits the data exactly: standard errors are 0 and p-values undefined")
    if dispersion is not None and dispersion > 1.5:
        notes.append(
            f"Pearson dispersion {dispersion:.2f} > 1.5: counts are overdispersed, so the Poisson "
            "standard errors are too small"
        )
    tidy = pl.DataFrame(
        {
            "term": _terms(design.n_changes),
            "estimate": params,
            "std_error": bse,
            "ci_low": params - crit * bse,
            "ci_high": params + crit * bse,
            "p_value": np.where(exact, np.nan, pvals),
        },
        nan_to_null=True,
    )
    seg = np.searchsorted(np.asarray(change_times), t, side="right")
    data = pl.DataFrame({"time": t, "value": y, "phase": [design.names[i] for i in seg]})
    return PiecewiseResult(
        tidy=tidy,
        family=family,
        ar1=ar1,
        rho=rho,
        change_times=change_times,
        phase_names=design.names,
        data=data,
        n_obs=int(y.size),
        df_resid=df_resid,
        confidence=float(confidence),
        converged=converged,
        dispersion=dispersion,
        notes=tuple(notes),
        params=params,
    )


# ------------------------------------------------------------------------------------------------
# randomization test (Edgington 1980; Onghena 1992)
# ------------------------------------------------------------------------------------------------

_STATISTICS = ("mean_difference", "phase_mean_difference", "median_difference")
_DEFAULT_MAX_EXHAUSTIVE = 100_000
_DEFAULT_DRAWS = 10_000
_STAT_CHUNK = 20_000


@dataclass(frozen=True, eq=False)
class RandomizationResult:
    """Result of :func:`randomization_test`.

    ``p_value``; ``n_assignments`` (admissible assignments in total); ``observed`` (statistic of
    the actual assignment); ``distribution`` (statistic of every enumerated or drawn assignment;
    the observed one is included when exhaustive); ``exhaustive``; ``n_draws`` (Monte Carlo
    draws, None when exhaustive); ``statistic``; ``improvement``; ``design`` (e.g. "AB",
    "ABAB"); ``min_phase_length``; ``observed_starts`` (index of the first point of each phase
    after the first).
    """

    p_value: float
    n_assignments: int
    observed: float
    distribution: np.ndarray = field(repr=False)
    exhaustive: bool
    n_draws: int | None
    statistic: str
    improvement: str
    design: str
    min_phase_length: int
    observed_starts: tuple[int, ...]
    seed: int | None = None
    from_design: bool = False

    def summary(self) -> str:
        """Plain-text summary."""
        which = "the design's own" if self.from_design else "all"
        how = (
            f"exhaustive over {which} {self.n_assignments} admissible assignments: p = #(T >="
            " observed) / N"
            if self.exhaustive
            else f"Monte Carlo, {self.n_draws} draws (seed {self.seed}) from {which}"
            f" {self.n_assignments} admissible assignments:"
            " p = (1 + #(T >= observed)) / (1 + draws)"
        )
        orient = "B - A" if self.improvement == "increase" else "A - B"
        return "\n".join(
            [
                "Randomization test for a single-case phase design (Edgington 1980; Onghena 1992)",
                f"design: {self.design}; phase starts at positions "
                f"{', '.join(map(str, self.observed_starts))}; at least {self.min_phase_length}"
                " points a phase",
                f"statistic: {self.statistic} ({orient}, improvement = {self.improvement}); "
                f"observed = {self.observed:.4g}",
                how,
                f"p = {self.p_value:.4g}",
            ]
        )


def _starts_from_bars(bars: np.ndarray, min_len: int) -> np.ndarray:
    """Map sorted bar positions s_1 < ... < s_k in 0..E+k-1 to phase starts c_j = s_j + jL - (j-1).

    Stars and bars: the k+1 phase lengths are L + e_j with e_j >= 0 summing to E = N - (k+1)L.
    """
    k = bars.shape[1]
    j = np.arange(1, k + 1)
    return bars + j * min_len - (j - 1)


def _statistics(y: np.ndarray, starts: np.ndarray, statistic: str, sign: float) -> np.ndarray:
    """Statistic for each row of phase starts (rows x k), phases alternating A, B, A, ..."""
    n = y.size
    rows, k = starts.shape
    bounds = np.concatenate(
        [np.zeros((rows, 1), dtype=np.int64), starts, np.full((rows, 1), n, dtype=np.int64)], axis=1
    )
    is_b = (np.arange(k + 1) % 2 == 1)[None, :]
    if statistic == "median_difference":
        out = np.empty(rows)
        pos = np.arange(n)
        for lo in range(0, rows, _STAT_CHUNK):
            st = starts[lo : lo + _STAT_CHUNK]
            phase = (pos[None, None, :] >= st[:, :, None]).sum(axis=1)
            b_mask = phase % 2 == 1
            yy = np.broadcast_to(y, b_mask.shape)
            med_b = np.nanmedian(np.where(b_mask, yy, np.nan), axis=1)
            med_a = np.nanmedian(np.where(b_mask, np.nan, yy), axis=1)
            out[lo : lo + _STAT_CHUNK] = med_b - med_a
        return sign * out
    cs = np.concatenate([[0.0], np.cumsum(y)])
    seg_sum = cs[bounds[:, 1:]] - cs[bounds[:, :-1]]
    seg_len = (bounds[:, 1:] - bounds[:, :-1]).astype(float)
    if statistic == "mean_difference":
        mean_b = (seg_sum * is_b).sum(axis=1) / (seg_len * is_b).sum(axis=1)
        mean_a = (seg_sum * ~is_b).sum(axis=1) / (seg_len * ~is_b).sum(axis=1)
    else:  # phase_mean_difference
        seg_mean = seg_sum / seg_len
        mean_b = (seg_mean * is_b).sum(axis=1) / is_b.sum()
        mean_a = (seg_mean * ~is_b).sum(axis=1) / (~is_b).sum()
    return sign * (mean_b - mean_a)


def _admissible_starts(admissible: Any, k: int, n: int, code: str) -> np.ndarray:
    """The design's admissible set as an (N, k) integer array; ValueError naming the bad entry."""
    if isinstance(admissible, str | bytes | Mapping) or not isinstance(admissible, Iterable):
        raise ValueError(
            "admissible must be a sequence of tuples of phase-start indices, e.g. "
            f"[(5, 10, 15), (5, 10, 16), ...]; got {type(admissible).__name__}"
        )
    if isinstance(admissible, Set):
        admissible = sorted(admissible)  # a set's order is not the plan's: make draws repeatable
    rows = []
    for i, entry in enumerate(admissible):
        if isinstance(entry, int | np.integer) and k == 1:
            entry = (entry,)  # an AB design's set may be given as plain start indices
        try:
            row = [int(v) for v in entry if float(v) == int(v)]
            ok = len(row) == len(entry)
        except (TypeError, ValueError):
            ok = False
        if not ok or len(row) != k:
            raise ValueError(
                f"admissible[{i}] = {entry!r}: each entry must hold {k} whole-number phase-start"
                f" indices for this {code} design (the index of the first point of each phase"
                " after the first)"
            )
        if row[0] < 1 or row[-1] > n - 1 or any(b <= a for a, b in itertools.pairwise(row)):
            raise ValueError(
                f"admissible[{i}] = {tuple(row)}: phase starts must increase strictly and lie in"
                f" 1..{n - 1} for {n} points (every phase needs at least one point)"
            )
        rows.append(row)
    if not rows:
        raise ValueError("admissible is empty: give the design's admissible assignments")
    return np.asarray(rows, dtype=np.int64).reshape(len(rows), k)


def randomization_test(
    values: Any,
    phases: Any,
    *,
    min_phase_length: int = 3,
    statistic: str = "mean_difference",
    improvement: str = "increase",
    n_draws: int | None = None,
    seed: int | None = None,
    max_exhaustive: int = _DEFAULT_MAX_EXHAUSTIVE,
    admissible: Sequence[Sequence[int]] | None = None,
) -> RandomizationResult:
    """Phase-start randomization test (Edgington 1980; Onghena 1992; Bulte & Onghena's SCRT).

    The design is read from ``phases``, the "A"/"B" labels of the values in time order: AB,
    ABA, ABAB (A1B1A2B2), ... The admissible assignments are every placement of the same number
    of phase changes, in the same A-first order, that leaves at least ``min_phase_length``
    points in each phase; there are C(N - (k+1)L + k, k) of them for N points, k changes and
    minimum length L. The observed assignment must itself be admissible.

    ``admissible``: the design's own admissible set, when the phase changes were drawn from a
    plan (e.g. a plan drawn in weeks, each week mapped to the index of its first point): a
    sequence of tuples, each holding the index of the first point of every phase after the
    first (one index per change; for an AB design plain integers also do), e.g.
    ``[(7, 14, 21), (7, 14, 28), ...]``. The test then enumerates exactly that set instead of
    the min-phase-length placements (``min_phase_length`` is not used), each entry counting as
    one equally likely assignment (two planned schedules that map to the same points count
    twice, as the plan drew them). The observed phase starts (from ``phases``) must be in the
    set, else ValueError.

    Statistics (oriented by ``improvement``: B - A for "increase", A - B for "decrease"):
    ``mean_difference`` (mean of all B points minus mean of all A points),
    ``phase_mean_difference`` (average of the B phase means minus average of the A phase means),
    ``median_difference`` (median of B points minus median of A points).

    p-value: with ``n_draws=None`` the test is exhaustive when there are at most
    ``max_exhaustive`` (100,000) assignments, p = #(T >= T_obs)/N (the observed assignment is
    one of the N, so p >= 1/N; if it ranks k-th from the top without ties, p = k/N). Otherwise,
    or when ``n_draws`` is given, it is Monte Carlo with ``n_draws`` (default 10,000) draws with
    replacement from the admissible assignments using ``seed``, p = (1 + #(T >= T_obs)) /
    (1 + draws) (Edgington & Onghena 2007). Statistics within 1e-10 x max|value| of the observed
    count as ties (>=), so rounding never breaks a tie.
    """
    y = _as_vector(values, "values")
    design = _parse_phases(phases, y.size)
    _check_choice(statistic, "statistic", _STATISTICS)
    _check_choice(improvement, "improvement", _IMPROVEMENTS)
    if isinstance(min_phase_length, bool) or not isinstance(min_phase_length, int | np.integer):
        raise ValueError(f"min_phase_length must be a whole number >= 1; got {min_phase_length!r}")
    if min_phase_length < 1:
        raise ValueError(f"min_phase_length must be >= 1; got {min_phase_length}")
    _check_draws(n_draws, max_exhaustive)
    k = design.n_changes
    n = y.size
    sign = 1.0 if improvement == "increase" else -1.0
    observed_starts = np.asarray(design.starts[1:], dtype=np.int64)[None, :]
    observed = float(_statistics(y, observed_starts, statistic, sign)[0])
    tol = 1e-10 * max(1.0, float(np.abs(y).max()))
    if admissible is not None:
        table = _admissible_starts(admissible, k, n, design.code)
        if not (table == observed_starts).all(axis=1).any():
            raise ValueError(
                f"the observed phase starts {tuple(design.starts[1:])} are not in the design's"
                f" admissible set ({table.shape[0]} assignments): the phases logged deviate from"
                " the plan, so this test does not apply as planned; check the phase labels, or"
                " analyse with the plan's deviation stated"
            )
        total = table.shape[0]
        exhaustive = n_draws is None and total <= max_exhaustive
        draws = None if exhaustive else int(n_draws or _DEFAULT_DRAWS)
        if exhaustive:
            dist = _statistics_chunked(y, table, statistic, sign)
        else:
            picks = np.random.default_rng(seed).integers(0, total, size=draws)
            dist = _statistics_chunked(y, table[picks], statistic, sign)
        bounds = np.concatenate(
            [np.zeros((total, 1), np.int64), table, np.full((total, 1), n, np.int64)], axis=1
        )
        shortest = int(np.diff(bounds, axis=1).min())
    else:
        need = (k + 1) * min_phase_length
        if n < need:
            raise ValueError(
                f"{n} points are too few for the {design.code} design with at least "
                f"{min_phase_length} points a phase (need {need})"
            )
        short = [
            f"{nm} ({ln})"
            for nm, ln in zip(design.names, design.lengths, strict=True)
            if ln < min_phase_length
        ]
        if short:
            raise ValueError(
                f"observed phase(s) {', '.join(short)} are shorter than min_phase_length = "
                f"{min_phase_length}; the observed assignment must be admissible"
            )
        spare = n - need
        total = math.comb(spare + k, k)
        exhaustive = n_draws is None and total <= max_exhaustive
        draws = None if exhaustive else int(n_draws or _DEFAULT_DRAWS)
        if exhaustive:
            bars = np.fromiter(
                itertools.chain.from_iterable(itertools.combinations(range(spare + k), k)),
                dtype=np.int64,
                count=total * k,
            ).reshape(total, k)
            dist = _statistics(y, _starts_from_bars(bars, min_phase_length), statistic, sign)
        else:
            rng = np.random.default_rng(seed)
            slots = spare + k
            dist = np.empty(draws)
            for lo in range(0, draws, _STAT_CHUNK):
                size = min(_STAT_CHUNK, draws - lo)
                # a uniform k-subset of the slots: the k smallest of iid uniforms' ranks
                keys = rng.random((size, slots))
                bars = np.sort(np.argpartition(keys, k - 1, axis=1)[:, :k], axis=1)
                dist[lo : lo + size] = _statistics(
                    y, _starts_from_bars(bars, min_phase_length), statistic, sign
                )
        shortest = int(min_phase_length)
    hits = np.count_nonzero(dist >= observed - tol)
    p = hits / total if exhaustive else (1.0 + hits) / (1.0 + draws)
    return RandomizationResult(
        p_value=float(p),
        n_assignments=int(total),
        observed=observed,
        distribution=dist,
        exhaustive=exhaustive,
        n_draws=draws,
        statistic=statistic,
        improvement=improvement,
        design=design.code,
        min_phase_length=shortest,
        observed_starts=tuple(int(s) for s in design.starts[1:]),
        seed=seed,
        from_design=admissible is not None,
    )


def _check_draws(n_draws: Any, max_exhaustive: Any) -> None:
    if n_draws is not None and (
        isinstance(n_draws, bool) or not isinstance(n_draws, int | np.integer) or n_draws < 1
    ):
        raise ValueError(f"n_draws must be a positive whole number or None; got {n_draws!r}")
    if (
        isinstance(max_exhaustive, bool)
        or not isinstance(max_exhaustive, int)
        or max_exhaustive < 1
    ):
        raise ValueError(f"max_exhaustive must be a positive whole number; got {max_exhaustive!r}")


def _statistics_chunked(
    y: np.ndarray, starts: np.ndarray, statistic: str, sign: float
) -> np.ndarray:
    out = np.empty(starts.shape[0])
    for lo in range(0, starts.shape[0], _STAT_CHUNK):
        out[lo : lo + _STAT_CHUNK] = _statistics(y, starts[lo : lo + _STAT_CHUNK], statistic, sign)
    return out


# ------------------------------------------------------------------------------------------------
# randomization test for a multiple baseline across people
# ------------------------------------------------------------------------------------------------

_MB_MODELS = ("marascuilo_busk", "koehler_levin")
_MB_STATISTICS = ("mean_difference", "median_difference")


@dataclass(frozen=True, eq=False)
class MultipleBaselineResult:
    """Result of :func:`randomization_test_mb`.

    ``p_value``; ``n_assignments`` (assignments in the randomization distribution: the product
    of the admissible sets' sizes, times P! under Koehler-Levin); ``observed`` (the statistic of
    the actual starts); ``distribution`` (statistic of every enumerated or drawn assignment);
    ``exhaustive``; ``n_draws`` (None when exhaustive); ``model``; ``statistic``;
    ``improvement``; ``participants`` (in the order given); ``observed_starts`` ((participant,
    start) pairs); ``per_participant`` ((participant, oriented B - A difference) pairs); ``seed``.
    """

    p_value: float
    n_assignments: int
    observed: float
    distribution: np.ndarray = field(repr=False)
    exhaustive: bool
    n_draws: int | None
    model: str
    statistic: str
    improvement: str
    participants: tuple[str, ...]
    observed_starts: tuple[tuple[str, int], ...]
    per_participant: tuple[tuple[str, float], ...]
    seed: int | None = None

    def summary(self) -> str:
        """Plain-text summary."""
        model = {
            "marascuilo_busk": "Marascuilo & Busk (1988): each person's start drawn from their own"
            " admissible set",
            "koehler_levin": "Koehler & Levin (1998): people assigned to the staggered start sets"
            " at random, and a start drawn within each set",
        }[self.model]
        how = (
            f"exhaustive over all {self.n_assignments:,} assignments: p = #(T >= observed) / N"
            if self.exhaustive
            else f"Monte Carlo, {self.n_draws} draws (seed {self.seed}) from {self.n_assignments:,}"
            " assignments: p = (1 + #(T >= observed)) / (1 + draws)"
        )
        orient = "B - A" if self.improvement == "increase" else "A - B"
        starts = ", ".join(f"{p}: {s}" for p, s in self.observed_starts)
        return "\n".join(
            [
                "Randomization test for a multiple-baseline design across people",
                f"model: {model}",
                f"{len(self.participants)} people; B starts at index {starts}",
                f"statistic: mean over people of the {self.statistic.split('_')[0]} difference"
                f" ({orient}, improvement = {self.improvement}); observed = {self.observed:.4g}",
                how,
                f"p = {self.p_value:.4g}",
            ]
        )


def _whole(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{what} must be a whole-number index; got {value!r}")
    return int(value)


def randomization_test_mb(
    series: Any,
    starts: Any,
    admissible: Any,
    *,
    statistic: str = "mean_difference",
    improvement: str,
    model: str = "marascuilo_busk",
    n_draws: int | None = None,
    seed: int | None = 0,
    max_exhaustive: int = _DEFAULT_MAX_EXHAUSTIVE,
) -> MultipleBaselineResult:
    """Randomization test for an AB multiple-baseline design across people.

    ``series``, ``starts`` and ``admissible`` are mappings keyed by participant (the same keys):
    ``series[p]`` the values in time order, ``starts[p]`` the index of p's first B point, and
    ``admissible[p]`` the start indices p's start could have been drawn from (the design's own
    set, e.g. a plan's start weeks mapped to points). Each start must leave at least one A and
    one B point. The observed start of each person must be in their admissible set.

    Statistic: the mean over people of each person's (mean of B - mean of A)
    (``"mean_difference"``, as scan's ``rand_test`` "Mean B-A" for several cases) or of the
    median difference (``"median_difference"``; scan takes the median over cases instead),
    oriented so that improvement is positive (B - A for ``improvement="increase"``, A - B for
    "decrease").

    Models (the randomization the design used; Levin, Ferron & Gafurov 2018 compare them):

    * ``"marascuilo_busk"`` (Marascuilo & Busk 1988): each person's start drawn independently
      from their own admissible set; N = the product of the sets' sizes (scan's ``rand_test``
      with a start-point list per case).
    * ``"koehler_levin"`` (Koehler & Levin 1998; SCRT's MBD, whose count of assignments
      assumes non-overlapping staggered start sets): the admissible sets are the
      staggered start windows (the set given for p is the window p was assigned); people were
      assigned to the windows at random (all P! orders), then a start drawn within each window;
      N = P! x the product of the windows' sizes. Every window must fit every series.

    Each entry of an admissible set counts as one equally likely start (repeats count twice).
    p-value: exhaustive when N <= ``max_exhaustive`` and ``n_draws`` is None, p = #(T >=
    T_obs)/N; otherwise ``n_draws`` (default 10,000) Monte Carlo draws with ``seed``, p = (1 +
    #(T >= T_obs)) / (1 + draws). Ties within 1e-10 x max|value| count as >=.
    """
    _check_choice(statistic, "statistic", _MB_STATISTICS)
    _check_choice(improvement, "improvement", _IMPROVEMENTS)
    _check_choice(model, "model", _MB_MODELS)
    _check_draws(n_draws, max_exhaustive)
    for name, obj in (("series", series), ("starts", starts), ("admissible", admissible)):
        if not isinstance(obj, Mapping):
            raise ValueError(
                f"{name} must be a mapping keyed by participant (e.g. {{'ann': ..., 'bob': ...}});"
                f" got {type(obj).__name__}"
            )
    people = tuple(series)
    if len(people) < 2:
        raise ValueError(
            f"a multiple baseline needs at least 2 people; series has {len(people)}"
        )
    for name, obj in (("starts", starts), ("admissible", admissible)):
        missing = [p for p in people if p not in obj]
        extra = [p for p in obj if p not in series]
        if missing or extra:
            raise ValueError(
                f"{name} must have the same participants as series: missing {missing}, extra"
                f" {extra}"
            )
    ys = {p: _as_vector(series[p], f"series[{p!r}]") for p in people}
    sets: dict[str, np.ndarray] = {}
    for p in people:
        n = ys[p].size
        if n < 2:
            raise ValueError(f"series[{p!r}] has {n} value(s); at least 2 (one A, one B) needed")
        s = _whole(starts[p], f"starts[{p!r}]")
        if not 1 <= s <= n - 1:
            raise ValueError(
                f"starts[{p!r}] = {s}: the first B point must lie in 1..{n - 1} for {n} values"
            )
        entries = admissible[p]
        if isinstance(entries, str | bytes | Mapping) or not isinstance(entries, Iterable):
            raise ValueError(
                f"admissible[{p!r}] must be a sequence of start indices; got {entries!r}"
            )
        if isinstance(entries, Set):
            entries = sorted(entries)
        arr = np.asarray([_whole(v, f"admissible[{p!r}] entries") for v in entries], np.int64)
        if arr.size == 0:
            raise ValueError(f"admissible[{p!r}] is empty")
        sets[p] = arr
    # the windows each person may be given: their own (M-B), or any person's (K-L)
    for p in people:
        n = ys[p].size
        windows = [sets[p]] if model == "marascuilo_busk" else list(sets.values())
        for w in windows:
            bad = w[(w < 1) | (w > n - 1)]
            if bad.size:
                raise ValueError(
                    f"admissible start {int(bad[0])} does not fit series[{p!r}] ({n} values; a"
                    f" start must lie in 1..{n - 1})"
                    + ("" if model == "marascuilo_busk" else ": under koehler_levin every"
                       " window must fit every person's series")
                )
        if starts[p] not in set(sets[p].tolist()):
            raise ValueError(
                f"the observed start of {p!r} ({starts[p]}) is not in admissible[{p!r}]"
                f" {sorted(set(sets[p].tolist()))}: the logged phases deviate from the design"
            )
    sign = 1.0 if improvement == "increase" else -1.0
    # d[p][s]: person p's oriented difference if B started at index s (every s in 1..n-1)
    diff = {}
    for p in people:
        y = ys[p]
        cand = np.arange(1, y.size, dtype=np.int64)[:, None]
        diff[p] = np.concatenate([[np.nan], _statistics(y, cand, statistic, sign)])
    n_people = len(people)
    observed_each = [float(diff[p][starts[p]]) for p in people]
    observed = float(np.mean(observed_each))
    tol = 1e-10 * max(1.0, max(float(np.abs(ys[p]).max()) for p in people))
    windows = [sets[p] for p in people]
    per_order = math.prod(w.size for w in windows)
    orders = (
        [tuple(range(n_people))]
        if model == "marascuilo_busk"
        else list(itertools.permutations(range(n_people)))
    )
    total = per_order * len(orders)
    exhaustive = n_draws is None and total <= max_exhaustive
    if exhaustive:
        parts = []
        for order in orders:  # person i takes window order[i]
            acc = np.zeros(1)
            for i, p in enumerate(people):
                acc = (acc[:, None] + diff[p][windows[order[i]]][None, :]).ravel()
            parts.append(acc / n_people)
        dist = np.concatenate(parts)
        p_value = float(np.count_nonzero(dist >= observed - tol)) / total
        draws = None
    else:
        draws = int(n_draws) if n_draws is not None else _DEFAULT_DRAWS
        rng = np.random.default_rng(seed)
        if model == "marascuilo_busk":
            which = np.tile(np.arange(n_people), (draws, 1))
        else:
            which = np.argsort(rng.random((draws, n_people)), axis=1)
        acc = np.zeros(draws)
        sizes = np.array([w.size for w in windows])
        for i, p in enumerate(people):
            pick = (rng.random(draws) * sizes[which[:, i]]).astype(np.int64)
            chosen = np.empty(draws, np.int64)
            for j, w in enumerate(windows):
                rows = which[:, i] == j
                chosen[rows] = w[pick[rows]]
            acc += diff[p][chosen]
        dist = acc / n_people
        p_value = (1.0 + np.count_nonzero(dist >= observed - tol)) / (1.0 + draws)
    return MultipleBaselineResult(
        p_value=float(p_value),
        n_assignments=int(total),
        observed=observed,
        distribution=dist,
        exhaustive=exhaustive,
        n_draws=draws,
        model=model,
        statistic=statistic,
        improvement=improvement,
        participants=people,
        observed_starts=tuple((p, int(starts[p])) for p in people),
        per_participant=tuple(zip(people, observed_each, strict=True)),
        seed=seed,
    )


# ------------------------------------------------------------------------------------------------
# conservative dual criterion (Fisher, Kelley & Lomas 2003)
# ------------------------------------------------------------------------------------------------

_CDC_ALPHA = 0.05
_CDC_SHIFT_SD = 0.25


@dataclass(frozen=True, eq=False)
class CDCResult:
    """Result of :func:`cdc`.

    ``beyond`` (B points beyond both shifted lines, in the direction of improvement); ``n_b``;
    ``required`` (the smallest count the one-sided binomial test at p = .5 calls significant at
    alpha = .05 for ``n_b`` points; None when even all ``n_b`` points would not be, n_b <= 4);
    ``systematic`` (``beyond >= required``); ``p_value`` (P(X >= beyond), X ~ Binomial(n_b,
    .5)); ``mean_line`` and ``trend_line`` (the two shifted lines at the B points, for charts);
    ``a_mean``, ``a_sd``, ``a_intercept``, ``a_slope`` (the baseline's mean, SD and OLS line
    on time 1..n_a, B continuing n_a+1...); ``shift`` (signed 0.25 x SD of A);
    ``improvement``.
    """

    beyond: int
    n_b: int
    required: int | None
    systematic: bool
    p_value: float
    mean_line: np.ndarray = field(repr=False)
    trend_line: np.ndarray = field(repr=False)
    a_mean: float
    a_sd: float
    a_intercept: float
    a_slope: float
    shift: float
    improvement: str

    def summary(self) -> str:
        """Plain-text summary."""
        way = "above" if self.improvement == "increase" else "below"
        need = (
            f"{self.required} of {self.n_b} needed"
            if self.required is not None
            else f"with {self.n_b} B points no count reaches p < .05 (5 or more are needed)"
        )
        verdict = "systematic change" if self.systematic else "no systematic change"
        return (
            "Conservative dual criterion (Fisher, Kelley & Lomas 2003): baseline mean and OLS"
            f" trend lines, each moved 0.25 SD of A ({abs(self.shift):.3g}) toward improvement;"
            f" {self.beyond} of {self.n_b} B points lie {way} both ({need}; binomial p ="
            f" {self.p_value:.3g}): {verdict}"
        )


def cdc_required(n_b: int, *, alpha: float = _CDC_ALPHA) -> int | None:
    """Smallest k with P(X >= k) < ``alpha`` for X ~ Binomial(``n_b``, 0.5) (one-sided), or None.

    The count of B points beyond both lines that the conservative dual criterion needs
    (Fisher, Kelley & Lomas 2003; scan's ``cdc()`` calls p < .05 systematic). Exact integer
    arithmetic. For n_b <= 4 even n_b of n_b has p = 2^-n_b >= .0625: None.
    """
    n_b = _whole(n_b, "n_b")
    if n_b < 1:
        raise ValueError(f"n_b must be >= 1; got {n_b}")
    tail = 0
    for k in range(n_b, -1, -1):
        tail += math.comb(n_b, k)
        if tail / 2**n_b >= alpha:
            return None if k == n_b else k + 1
    return 0


def cdc(a: Any, b: Any, *, improvement: str) -> CDCResult:
    """Conservative dual criterion for an A-B comparison (Fisher, Kelley & Lomas 2003).

    Two lines are fitted to the baseline ``a`` (values in time order, at times 1..n_a) and
    extended into ``b`` (times n_a+1 ... n_a+n_b): the A mean line and the A ordinary
    least-squares trend line. Each is moved by 0.25 x the SD of A (n - 1 denominator) in the
    direction of improvement (up for ``improvement="increase"``, down for "decrease"). A B point
    counts when it lies strictly beyond both moved lines. The change is called systematic when
    the count reaches the smallest number a one-sided binomial test at p = .5 calls significant
    at alpha = .05 (:func:`cdc_required`; e.g. 5 of 5, 7 of 8, 9 of 10, 12 of 15, 15 of 20).
    Needs at least 2 A points (for the trend) and 1 B point.
    """
    a_ = _as_vector(a, "a")
    b_ = _as_vector(b, "b")
    _check_choice(improvement, "improvement", _IMPROVEMENTS)
    if a_.size < 2 or b_.size < 1:
        raise ValueError(
            f"cdc needs at least 2 baseline (A) points and 1 B point; got {a_.size} and {b_.size}"
        )
    m = a_.size
    t_a = np.arange(1, m + 1, dtype=float)
    t_b = np.arange(m + 1, m + b_.size + 1, dtype=float)
    mean = float(a_.mean())
    sd = float(a_.std(ddof=1))
    slope = float(np.sum((t_a - t_a.mean()) * (a_ - mean)) / np.sum((t_a - t_a.mean()) ** 2))
    intercept = mean - slope * float(t_a.mean())
    sign = 1.0 if improvement == "increase" else -1.0
    shift = sign * _CDC_SHIFT_SD * sd
    mean_line = np.full(b_.size, mean + shift)
    trend_line = intercept + slope * t_b + shift
    if improvement == "increase":
        hit = (b_ > mean_line) & (b_ > trend_line)
    else:
        hit = (b_ < mean_line) & (b_ < trend_line)
    beyond = int(hit.sum())
    n_b = int(b_.size)
    required = cdc_required(n_b)
    p = sum(math.comb(n_b, k) for k in range(beyond, n_b + 1)) / 2**n_b
    return CDCResult(
        beyond=beyond,
        n_b=n_b,
        required=required,
        systematic=required is not None and beyond >= required,
        p_value=float(p),
        mean_line=mean_line,
        trend_line=trend_line,
        a_mean=mean,
        a_sd=sd,
        a_intercept=intercept,
        a_slope=slope,
        shift=shift,
        improvement=improvement,
    )


# ------------------------------------------------------------------------------------------------
# Bayesian regression with AR(1) errors: a grid over rho, conjugate given rho
# ------------------------------------------------------------------------------------------------

#: rho grid of :func:`bayes_effect` (uniform prior): 191 points from -0.95 to 0.95.
BAYES_RHO_GRID = np.round(np.linspace(-0.95, 0.95, 191), 10)
#: prior SD of the B - A level difference, in units of the series' (marginal) error SD
BAYES_EFFECT_PRIOR_SD = 10.0
_T_BRACKET = 60.0


@dataclass(frozen=True, eq=False)
class AR1Posterior:
    """Posterior of the coefficients of y = X b + e, e AR(1), mixed over a grid of rho.

    Given rho (on ``rho``, with posterior weights ``weight``) the coefficients are multivariate
    t with ``df`` degrees of freedom, location ``loc[g]`` and scale matrix ``scale[g]``. Linear
    combinations c'b are then a mixture of Student t's: :meth:`cdf`, :meth:`quantile`,
    :meth:`mean_sd` and :meth:`draw` work on them exactly (no sampler).
    """

    rho: np.ndarray
    weight: np.ndarray
    loc: np.ndarray  # (G, k)
    scale: np.ndarray  # (G, k, k)
    df: float

    def _ms(self, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Location (G, r) and scale (G, r) of c'b for each row of c (r, k)."""
        c = np.atleast_2d(np.asarray(c, dtype=float))
        m = self.loc @ c.T
        s = np.sqrt(np.clip(np.einsum("rk,gkl,rl->gr", c, self.scale, c), 1e-300, None))
        return m, s

    def cdf(self, c: Any, x: Any) -> np.ndarray:
        """P(c'b <= x) for each row of c, x broadcast over rows."""
        m, s = self._ms(c)
        z = (np.asarray(x, dtype=float)[None, ...] - m) / s
        return self.weight @ special.stdtr(self.df, z)

    def quantile(self, c: Any, q: Any) -> np.ndarray:
        """Quantiles ``q`` (a number or a sequence) of c'b for each row of c: shape (rows,) or
        (rows, len(q)); vectorised bisection on the mixture cdf to 2^-36 of the bracket."""
        m, s = self._ms(c)
        qs = np.atleast_1d(np.asarray(q, dtype=float))
        tq = stats.t.ppf(np.clip(qs, 1e-12, 1 - 1e-12), self.df)
        # every component's own quantile lies inside the bracket, so the mixture's does too
        lo = (m[..., None] + np.minimum(tq, 0.0) * s[..., None] - s[..., None]).min(axis=0)
        hi = (m[..., None] + np.maximum(tq, 0.0) * s[..., None] + s[..., None]).max(axis=0)
        for _ in range(36):
            mid = 0.5 * (lo + hi)
            z = (mid[None] - m[..., None]) / s[..., None]
            below = np.einsum("g,grq->rq", self.weight, special.stdtr(self.df, z)) < qs
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        out = 0.5 * (lo + hi)
        return out[:, 0] if np.ndim(q) == 0 else out

    def mean_sd(self, c: Any) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and SD of c'b (the t variance needs df > 2)."""
        m, s = self._ms(c)
        var_t = s**2 * self.df / (self.df - 2.0)
        mean = self.weight @ m
        second = self.weight @ (var_t + m**2)
        return mean, np.sqrt(np.clip(second - mean**2, 0.0, None))

    def draw(self, c: Any, size: int, seed: int | None) -> np.ndarray:
        """``size`` draws of c'b (shape (size, r)), reproducible from ``seed``."""
        rng = np.random.default_rng(seed)
        m, s = self._ms(c)
        g = rng.choice(self.weight.size, size=size, p=self.weight)
        return m[g] + s[g] * rng.standard_t(self.df, size=(size, m.shape[1]))

    @property
    def rho_mean(self) -> float:
        return float(self.weight @ self.rho)


def ar1_regression_posterior(
    y: Any,
    X: Any,
    *,
    time: Any = None,
    rho_grid: Any = None,
    rho_prior: str = "jeffreys",
    prior_sd: Any = None,
) -> AR1Posterior:
    """Posterior of regression coefficients with AR(1) errors, integrated over rho on a grid.

    Model: y = X b + e with e stationary AR(1), corr(e_i, e_j) = rho^|t_i - t_j| for times
    ``time`` in whole steps (default 0, 1, 2, ...; gaps allowed, then rho must be >= 0), the
    exact likelihood (Prais-Winsten with the first point kept, as rehab.models.pain). Priors:
    ``rho`` on the points of ``rho_grid`` (default :data:`BAYES_RHO_GRID`) with weights
    proportional to (1 - rho^2)^(-1/2) (``rho_prior="jeffreys"``: the Jeffreys prior of a
    stationary AR(1) coefficient, from its Fisher information n / (1 - rho^2)) or equal
    (``"uniform"``); p(sigma) proportional to 1/sigma (sigma: the marginal error
    SD); each coefficient flat, or, where ``prior_sd[j]`` is a number, b_j | sigma ~ N(0,
    (prior_sd[j] x sigma)^2) (a scale-free, weakly informative prior). Given rho the posterior
    is conjugate: b is multivariate t with n - (number of flat coefficients) degrees of freedom;
    the weight of each rho is its marginal likelihood. Exact (no sampling).
    """
    yv = _as_vector(y, "y")
    Xm = np.asarray(X, dtype=float)
    if Xm.ndim != 2 or Xm.shape[0] != yv.size:
        raise ValueError(f"X must have one row a value ({yv.size}); got shape {Xm.shape}")
    n, k = Xm.shape
    t = np.arange(n, dtype=float) if time is None else _as_vector(time, "time")
    gaps = np.diff(t)
    if t.size != n or (gaps <= 0).any() or (gaps != np.round(gaps)).any():
        raise ValueError("time must hold one increasing whole number a value")
    _check_choice(rho_prior, "rho_prior", ("jeffreys", "uniform"))
    grid = BAYES_RHO_GRID if rho_grid is None else np.atleast_1d(np.asarray(rho_grid, float))
    if grid.size == 0 or (np.abs(grid) >= 1).any():
        raise ValueError("rho_grid values must lie strictly between -1 and 1")
    if (gaps > 1).any() and (grid < 0).any():
        raise ValueError("with gaps between times, rho_grid must be >= 0")
    sd = [None] * k if prior_sd is None else list(prior_sd)
    prec = np.diag([0.0 if v is None else 1.0 / float(v) ** 2 for v in sd])
    n_flat = sum(v is None for v in sd)
    df = float(n - n_flat)
    if df < 1:
        raise ValueError(f"{n} values are too few for {n_flat} freely estimated coefficients")
    a = grid[:, None] ** gaps[None, :]  # (G, n-1)
    s = np.sqrt(1.0 - a * a)
    yw = np.concatenate([np.broadcast_to(yv[0], (grid.size, 1)),
                         (yv[None, 1:] - a * yv[None, :-1]) / s], axis=1)  # fmt: skip
    Xw = np.concatenate([np.broadcast_to(Xm[0], (grid.size, 1, k)),
                         (Xm[None, 1:, :] - a[..., None] * Xm[None, :-1, :]) / s[..., None]],
                        axis=1)  # fmt: skip
    A = np.einsum("gik,gil->gkl", Xw, Xw) + prec
    xty = np.einsum("gik,gi->gk", Xw, yw)
    A_inv = np.linalg.inv(A)
    loc = np.einsum("gkl,gl->gk", A_inv, xty)
    S = np.einsum("gi,gi->g", yw, yw) - np.einsum("gk,gk->g", loc, xty)
    S = np.clip(S, 1e-300, None)
    _, logdet = np.linalg.slogdet(A)
    loglik = -np.log(s).sum(axis=1) - 0.5 * logdet - 0.5 * df * np.log(S)
    if rho_prior == "jeffreys":
        loglik = loglik - 0.5 * np.log1p(-grid * grid)
    w = np.exp(loglik - loglik.max())
    w /= w.sum()
    # rho values with negligible weight (< 1e-12 of the whole, together < 1e-9) are dropped:
    # long series concentrate on a few grid points, and every quantile is then cheaper
    keep = w >= 1e-12
    w = w[keep] / w[keep].sum()
    scale = A_inv[keep] * (S[keep] / df)[:, None, None]
    return AR1Posterior(rho=grid[keep], weight=w, loc=loc[keep], scale=scale, df=df)


@dataclass(frozen=True, eq=False)
class BayesEffectResult:
    """Result of :func:`bayes_effect`.

    ``estimate``: posterior median of the level difference mean(B) - mean(A) in the outcome's
    units, raw sign (for ``improvement="decrease"`` an improvement is negative: "lowered by
    -estimate"); ``ci_low``, ``ci_high``: its 95% equal-tailed credible interval;
    ``p_improved``: P(difference > 0) for "increase", P(difference < 0) for "decrease";
    ``p_mcid``: P(improvement of at least ``mcid``) (None without ``mcid``); ``mcid``;
    ``improvement``; ``ar1``; ``rho``: posterior mean of the lag-1 autocorrelation (0 without
    AR(1)); ``n_a``, ``n_b``; ``draws``: 4,000 posterior draws of the difference (``seed``).
    """

    estimate: float
    ci_low: float
    ci_high: float
    p_improved: float
    p_mcid: float | None
    mcid: float | None
    improvement: str
    ar1: bool
    rho: float
    n_a: int
    n_b: int
    draws: np.ndarray = field(repr=False)

    def summary(self) -> str:
        """Plain-text summary in the patient's terms."""
        verb = "raised" if self.estimate >= 0 else "lowered"
        lo, hi = sorted((abs(self.ci_low), abs(self.ci_high)))
        if self.ci_low < 0 < self.ci_high:
            band = f"95% CrI {self.ci_low:.3g} to {self.ci_high:.3g}"
        else:
            band = f"95% CrI {lo:.3g}-{hi:.3g}"
        lines = [
            f"B {verb} the outcome by {abs(self.estimate):.3g} ({band}) against A"
            f" ({self.n_a} A and {self.n_b} B points; "
            + (f"AR(1) errors, rho about {self.rho:.2f})" if self.ar1 else "independent errors)"),
            f"probability that B is better ({self.improvement} is better):"
            f" {self.p_improved:.0%}",
        ]
        if self.p_mcid is not None:
            lines.append(
                f"probability of at least the important change ({self.mcid:g}): {self.p_mcid:.0%}"
            )
        return "\n".join(lines)


def _ab_design(values: Any, phases: Any) -> tuple[np.ndarray, np.ndarray]:
    y = _as_vector(values, "values")
    _parse_phases(phases, y.size)
    labels = phases.to_list() if isinstance(phases, pl.Series) else list(phases)
    is_b = np.array([lab == "B" for lab in labels], dtype=float)
    return y, is_b


def _check_mcid(mcid: Any) -> float | None:
    if mcid is None:
        return None
    if isinstance(mcid, bool) or not isinstance(mcid, int | float | np.number):
        raise ValueError(f"mcid must be a positive number (a size of change) or None; got {mcid!r}")
    if not (math.isfinite(float(mcid)) and float(mcid) > 0):
        raise ValueError(
            f"mcid must be a positive number: the size of the important change, whatever the"
            f" direction (improvement= gives the direction); got {mcid!r}"
        )
    return float(mcid)


def _bayes_fit(y: np.ndarray, is_b: np.ndarray, ar1: bool) -> AR1Posterior:
    X = np.column_stack([np.ones_like(y), is_b])
    grid = BAYES_RHO_GRID if ar1 else np.zeros(1)
    return ar1_regression_posterior(y, X, rho_grid=grid, prior_sd=[None, BAYES_EFFECT_PRIOR_SD])


def bayes_effect(
    values: Any,
    phases: Any,
    *,
    improvement: str,
    mcid: float | None = None,
    ar1: bool = True,
    seed: int | None = 0,
) -> BayesEffectResult:
    """Bayesian level difference of B over A for a series labelled A/B (AB, ABAB, ...).

    Model: y_t = mu + delta * [t in a B phase] + e_t, one A level and one B level (phases of the
    same label pooled, no trend), e_t stationary AR(1) with lag-1 correlation rho (``ar1=True``)
    or independent (``ar1=False``), points equally spaced. delta is the level difference mean(B)
    - mean(A) in the outcome's units.

    Priors (weakly informative, and scale-free so the units do not matter):

    * rho on [-0.95, 0.95] (a grid of 191 points, :data:`BAYES_RHO_GRID`) with density
      proportional to (1 - rho^2)^(-1/2), the Jeffreys prior of an AR(1) coefficient (it leans
      toward strong autocorrelation, which short series cannot rule out, so intervals are not
      too narrow);
    * p(sigma) proportional to 1/sigma for the marginal error SD sigma; mu flat;
    * delta | sigma ~ N(0, (10 sigma)^2) (:data:`BAYES_EFFECT_PRIOR_SD`): a standardized
      difference within about +-20; it rules out nothing plausible, pulls a real effect toward 0
      by well under 1% and, tied to sigma, adds one degree of freedom.

    Given rho the posterior of (mu, delta) is exact (conjugate, multivariate t); mixing over the
    rho grid by its marginal likelihood accounts for the uncertainty of rho
    (:func:`ar1_regression_posterior`). Quantiles and probabilities come
    from that mixture exactly; ``seed`` only makes ``draws`` reproducible.

    Returns a :class:`BayesEffectResult`: ``estimate`` (posterior median of delta, raw sign:
    negative means B lowered the outcome), ``ci_low``/``ci_high`` (95% credible interval),
    ``p_improved`` (P(delta > 0) for "increase", P(delta < 0) for "decrease"), ``p_mcid``
    (P(delta >= mcid) or P(delta <= -mcid); ``mcid`` is a positive size; None without it).
    Needs at least 2 A and 2 B points.
    """
    _check_choice(improvement, "improvement", _IMPROVEMENTS)
    mcid_ = _check_mcid(mcid)
    if not isinstance(ar1, bool):
        raise ValueError(f"ar1 must be True or False; got {ar1!r}")
    y, is_b = _ab_design(values, phases)
    n_b = int(is_b.sum())
    n_a = y.size - n_b
    if n_a < 2 or n_b < 2:
        raise ValueError(f"bayes_effect needs at least 2 A and 2 B points; got {n_a} and {n_b}")
    post = _bayes_fit(y, is_b, ar1)
    c = np.array([[0.0, 1.0]])
    lo, med, hi = (float(v) for v in post.quantile(c, [0.025, 0.5, 0.975])[0])
    below0 = float(post.cdf(c, 0.0)[0])
    p_improved = 1.0 - below0 if improvement == "increase" else below0
    p_mcid = None
    if mcid_ is not None:
        p_mcid = (
            1.0 - float(post.cdf(c, mcid_)[0])
            if improvement == "increase"
            else float(post.cdf(c, -mcid_)[0])
        )
    return BayesEffectResult(
        estimate=med,
        ci_low=lo,
        ci_high=hi,
        p_improved=p_improved,
        p_mcid=p_mcid,
        mcid=mcid_,
        improvement=improvement,
        ar1=ar1,
        rho=post.rho_mean,
        n_a=n_a,
        n_b=n_b,
        draws=post.draw(c, 4000, seed)[:, 0],
    )


def bayes_effect_by_week(
    values: Any,
    phases: Any,
    week: Any,
    *,
    improvement: str,
    mcid: float | None = None,
    ar1: bool = True,
) -> pl.DataFrame:
    """:func:`bayes_effect` on the data up to the end of each week, for a chart of how it moved.

    ``week`` gives each value's week (whole numbers, not decreasing, e.g. weeks since the
    start). One row per week from the first with at least 2 A and 2 B points: ``week``,
    ``n_a``, ``n_b``, ``estimate``, ``ci_low``, ``ci_high``, ``p_improved``, ``p_mcid`` (null
    without ``mcid``).
    """
    _check_choice(improvement, "improvement", _IMPROVEMENTS)
    mcid_ = _check_mcid(mcid)
    y, is_b = _ab_design(values, phases)
    wk = _as_vector(week, "week")
    if wk.size != y.size or (np.diff(wk) < 0).any() or (wk != np.round(wk)).any():
        raise ValueError("week must hold one whole number a value, in time order (not decreasing)")
    rows = []
    for w in np.unique(wk):
        upto = int(np.searchsorted(wk, w, side="right"))
        n_b = int(is_b[:upto].sum())
        if upto - n_b < 2 or n_b < 2:
            continue
        r = bayes_effect(y[:upto], ["B" if b else "A" for b in is_b[:upto]],
                         improvement=improvement, mcid=mcid_, ar1=ar1)  # fmt: skip
        rows.append((int(w), r.n_a, r.n_b, r.estimate, r.ci_low, r.ci_high, r.p_improved,
                     r.p_mcid))  # fmt: skip
    schema = {"week": pl.Int64, "n_a": pl.Int64, "n_b": pl.Int64, "estimate": pl.Float64,
              "ci_low": pl.Float64, "ci_high": pl.Float64, "p_improved": pl.Float64,
              "p_mcid": pl.Float64}  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")
