"""Tests for rehab.sced against published SingleCaseES values and hand-computable cases."""

from __future__ import annotations

import datetime
import json
import math
import statistics
from fractions import Fraction
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rehab import sced

# Published reference values with their sources (SingleCaseES 0.7.4, Parker et al. 2011, Tarlow
# 2017, McKissick et al. 2010), each case carrying its citation in "source"; kept in the repo.
CASES_PATH = Path(__file__).resolve().parent / "data" / "sced_cases.json"
REQUIRED_COLUMNS = ["measure", "estimate", "std_error", "ci_low", "ci_high"]
CASES = json.loads(CASES_PATH.read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------------
# JSON key -> computed value, stated explicitly for every key in sced_cases.json
# ------------------------------------------------------------------------------------------------


class Calc:
    """Computes (and caches) what one reference case needs."""

    def __init__(self, case: dict) -> None:
        self.a = tuple(case["phase_A"])
        self.b = tuple(case["phase_B"])
        self.improvement = case["improvement"]

    def es(self, measure: str, column: str = "estimate", **options) -> float | None:
        options.setdefault("improvement", self.improvement)
        frame = _effect_sizes_cached(self.a, self.b, tuple(sorted(options.items())))
        return frame.filter(pl.col("measure") == measure)[column].item()

    def ci(self, measure: str, **options) -> tuple[float, float]:
        return (self.es(measure, "ci_low", **options), self.es(measure, "ci_high", **options))

    def sd(self, phase: str) -> float:
        stats_ = sced.phase_statistics(list(self.a), list(self.b))
        return stats_.filter(pl.col("phase") == phase)["sd"].item()

    def lrm(self, column: str) -> float:
        out = sced.log_ratio_of_medians(list(self.a), list(self.b), improvement=self.improvement)
        return out[column].item()


@cache
def _effect_sizes_cached(a: tuple, b: tuple, options: tuple) -> pl.DataFrame:
    return sced.effect_sizes(list(a), list(b), **dict(options))


POINT, CI, EXACT_ROOT, FRACTION, FOUR_DP = "point", "ci", "exact_root", "fraction", "four_dp"
PERCENT = "percent"


def es(measure, column="estimate", **options):
    return lambda c: c.es(measure, column, **options)


def se(measure, **options):
    return es(measure, "std_error", **options)


def lo(measure, **options):
    return es(measure, "ci_low", **options)


def hi(measure, **options):
    return es(measure, "ci_high", **options)


PCT_DECREASE = {"scale": "percentage", "improvement": "decrease"}

# key -> (getter, kind). kind sets the tolerance: POINT 1e-6, CI 1e-4 (SingleCaseES's uniroot),
# EXACT_ROOT 1e-7 (we solve exactly), FRACTION exact, FOUR_DP 5e-5 (published to 4 decimals),
# PERCENT: a percentage, compared as a proportion at 1e-6.
KEY_MAP = {
    # NAP and its SEs / intervals
    "NAP": (es("NAP"), POINT),
    "NAP_exact_fraction": (es("NAP"), FRACTION),
    "NAP_SE": (se("NAP"), POINT),
    "NAP_SE_unbiased": (se("NAP"), POINT),
    "NAP_SE_unbiased_truncated": (se("NAP"), POINT),
    "NAP_SE_Hanley": (se("NAP", nap_se="hanley"), POINT),
    "NAP_SE_Hanley_truncated": (se("NAP", nap_se="hanley"), POINT),
    "NAP_SE_null": (se("NAP", nap_se="null"), POINT),
    "NAP_CI95": (lambda c: c.ci("NAP"), CI),
    "NAP_CI95_lower": (lo("NAP"), CI),
    "NAP_CI95_upper": (hi("NAP"), CI),
    "NAP_CI95_lower_uniroot": (lo("NAP"), CI),
    "NAP_CI95_upper_uniroot": (hi("NAP"), CI),
    "NAP_CI95_lower_exact_root": (lo("NAP"), EXACT_ROOT),
    "NAP_CI95_upper_exact_root": (hi("NAP"), EXACT_ROOT),
    "NAP_CI99_lower": (lo("NAP", confidence=0.99), CI),
    "NAP_CI99_upper": (hi("NAP", confidence=0.99), CI),
    "NAP_CI90_lower": (lo("NAP", confidence=0.90), CI),
    "NAP_CI90_upper": (hi("NAP", confidence=0.90), CI),
    # Tau
    "Tau": (es("Tau"), POINT),
    "Tau_exact_fraction": (es("Tau"), FRACTION),
    "Tau_SE": (se("Tau"), POINT),
    "Tau_CI95_lower": (lo("Tau"), CI),
    "Tau_CI95_upper": (hi("Tau"), CI),
    # Tau-BC (SingleCaseES default: Theil-Sen, no pretest, non-overlap Tau)
    "Tau_BC": (es("Tau_BC"), POINT),
    "Tau_BC_SCES_default": (es("Tau_BC"), POINT),
    "Tau_BC_SE": (se("Tau_BC"), POINT),
    "Tau_BC_CI95_lower": (lo("Tau_BC"), CI),
    "Tau_BC_CI95_upper": (hi("Tau_BC"), CI),
    "Tau_BC_theil_sen_slope": (lambda c: sced.baseline_trend(list(c.a))[0], POINT),
    "Tau_BC_theil_sen_intercept": (lambda c: sced.baseline_trend(list(c.a))[1], POINT),
    # Tau-U: SingleCaseES ("revised") and Parker 2011 ("original")
    "TauU_revised": (es("Tau_U"), POINT),
    "TauU_revised_SCES": (es("Tau_U"), POINT),
    "TauU_revised_exact_fraction": (es("Tau_U"), FRACTION),
    "TauU_original": (es("Tau_U_original"), POINT),
    "TauU_original_exact_fraction": (es("Tau_U_original"), FRACTION),
    # PND, PEM, PAND, IRD
    "PND": (es("PND"), POINT),
    "PND_exact_fraction": (es("PND"), FRACTION),
    "PEM": (es("PEM"), POINT),
    "PAND": (es("PAND"), POINT),
    "PAND_exact_fraction": (es("PAND"), FRACTION),
    "IRD": (es("IRD"), POINT),
    "IRD_robust": (es("IRD"), POINT),
    "IRD_exact": (es("IRD"), FRACTION),
    # scan's pand(): its "sort" PAND in percent; its phi for this 2x2 table is
    # (5*6 - 1*1)/sqrt(6*7*6*7) = 29/42, the robust IRD, published to 4 decimals.
    "scan_pand_sort_percent": (es("PAND"), PERCENT),
    "scan_pand_phi": (es("IRD"), FOUR_DP),
    # SMDs and their standardisers
    "SMD_baseline": (es("SMD_baseline"), POINT),
    "SMD_baseline_g": (es("SMD_baseline"), POINT),
    "SMD_baseline_SE": (se("SMD_baseline"), POINT),
    "SMD_baseline_CI95": (lambda c: c.ci("SMD_baseline"), CI),
    "SMD_baseline_CI95_lower": (lo("SMD_baseline"), CI),
    "SMD_baseline_CI95_upper": (hi("SMD_baseline"), CI),
    "SMD_baseline_no_bias_correction": (es("SMD_baseline", bias_correct=False), POINT),
    "SMD_baseline_no_bias_correction_SE": (se("SMD_baseline", bias_correct=False), POINT),
    "baseline_SD": (lambda c: c.sd("A"), POINT),
    "SMD_pooled": (es("SMD_pooled"), POINT),
    "SMD_pooled_g": (es("SMD_pooled"), POINT),
    "SMD_pooled_SE": (se("SMD_pooled"), POINT),
    "SMD_pooled_CI95": (lambda c: c.ci("SMD_pooled"), CI),
    "SMD_pooled_CI95_lower": (lo("SMD_pooled"), CI),
    "SMD_pooled_CI95_upper": (hi("SMD_pooled"), CI),
    "pooled_SD": (lambda c: c.sd("pooled"), POINT),
    # log response ratios (scale="count" unless named)
    "LRRi": (es("LRRi"), POINT),
    "LRRi_SE": (se("LRRi"), POINT),
    "LRR_SE": (se("LRRi"), POINT),
    "LRRi_CI95": (lambda c: c.ci("LRRi"), CI),
    "LRRi_count": (es("LRRi"), POINT),
    "LRRi_count_SE": (se("LRRi"), POINT),
    "LRRi_count_CI95_lower": (lo("LRRi"), CI),
    "LRRi_count_CI95_upper": (hi("LRRi"), CI),
    "LRRd": (es("LRRd"), POINT),
    "LRRd_count_when_improvement_increase": (es("LRRd", improvement="increase"), POINT),
    "LRRd_count (default improvement='decrease')": (es("LRRd", improvement="decrease"), POINT),
    "LRRi_percentage_improvement_increase": (
        es("LRRi", scale="percentage", improvement="increase"),
        POINT,
    ),
    "LRRi_percentage_improvement_decrease": (es("LRRi", **PCT_DECREASE), POINT),
    "LRRi_percentage_improvement_decrease_SE": (se("LRRi", **PCT_DECREASE), POINT),
    "LRRi_percentage_improvement_decrease_CI95_lower": (lo("LRRi", **PCT_DECREASE), CI),
    "LRRi_percentage_improvement_decrease_CI95_upper": (hi("LRRi", **PCT_DECREASE), CI),
    # log ratio of medians
    "LRM_log_ratio_of_medians": (lambda c: c.lrm("estimate"), POINT),
    "LRM_SE": (lambda c: c.lrm("std_error"), POINT),
}
NOT_VALUES = {"provenance"}
# McKissick values published to 3 significant digits: the JSON's own tolerance (relative 5e-3);
# the same quantities are also checked at full precision below.
THREE_SIG_DIGITS = {
    "SCES_McKissick_Period1": {
        "LRRi",
        "LRRi_SE",
        "LRRi_CI95",
        "SMD_baseline",
        "SMD_baseline_SE",
        "SMD_baseline_CI95",
        "baseline_SD",
        "SMD_pooled",
        "SMD_pooled_SE",
        "SMD_pooled_CI95",
        "pooled_SD",
    }
}


def _fraction(text: str) -> Fraction:
    """Parse '38.5/42', '11/13 (=1-2/13)' or '6/7 - 1/6'."""
    tokens = text.split(" (")[0].split()

    def term(tok: str) -> Fraction:
        num, _, den = tok.partition("/")
        return Fraction(num) / Fraction(den or "1")

    total = term(tokens[0])
    for op, tok in zip(tokens[1::2], tokens[2::2], strict=True):
        total = total + term(tok) if op == "+" else total - term(tok)
    return total


def _reference_items():
    for case in CASES:
        for block in ("expected", "expected_full_precision"):
            for key, value in case.get(block, {}).items():
                if key not in NOT_VALUES:
                    yield pytest.param(case, block, key, value, id=f"{case['name']}-{block}-{key}")


def test_reference_cases_are_present_and_cited():
    assert len(CASES) >= 4
    assert all(case["source"] and case["expected"] for case in CASES)


def test_every_reference_key_is_mapped():
    unmapped = sorted({p.values[2] for p in _reference_items()} - set(KEY_MAP))
    assert not unmapped, f"sced_cases.json keys without a mapping in KEY_MAP: {unmapped}"


@pytest.mark.parametrize(("case", "block", "key", "expected"), list(_reference_items()))
def test_reference_value(case, block, key, expected):
    getter, kind = KEY_MAP[key]
    got = getter(Calc(case))
    if kind == FRACTION:
        assert got == pytest.approx(float(_fraction(expected)), abs=1e-12)
        return
    if kind == PERCENT:
        assert got == pytest.approx(expected / 100, abs=1e-6)
        return
    if block == "expected" and key in THREE_SIG_DIGITS.get(case["name"], set()):
        tol = {"rel": 5e-3}
    else:
        tol = {"abs": {POINT: 1e-6, CI: 1e-4, EXACT_ROOT: 1e-7, FOUR_DP: 5e-5}[kind]}
    if isinstance(expected, list):
        assert got == pytest.approx(tuple(expected), **tol)
    else:
        assert got == pytest.approx(expected, **tol)


def test_mckissick_intervals_at_full_precision():
    """The 3-digit McKissick intervals, rebuilt from the full-precision estimate and SE."""
    case = next(c for c in CASES if c["name"] == "SCES_McKissick_Period1")
    full = case["expected_full_precision"]
    calc = Calc(case)
    z = 1.959963984540054
    for measure, est_key, se_key in (
        ("LRRi", "LRRi", "LRR_SE"),
        ("SMD_baseline", "SMD_baseline_g", "SMD_baseline_SE"),
        ("SMD_pooled", "SMD_pooled_g", "SMD_pooled_SE"),
    ):
        expected = (full[est_key] - z * full[se_key], full[est_key] + z * full[se_key])
        assert calc.ci(measure) == pytest.approx(expected, abs=1e-6)


# ------------------------------------------------------------------------------------------------
# effect sizes: shape, directions, hand-computable values, edge cases
# ------------------------------------------------------------------------------------------------

A_PVD = [20, 20, 26, 25, 22, 23]
B_PVD = [28, 25, 24, 27, 30, 30, 29]


def _row(df: pl.DataFrame, measure: str) -> dict:
    return df.filter(pl.col("measure") == measure).row(0, named=True)


def test_output_shape_and_types():
    out = sced.effect_sizes(A_PVD, B_PVD)
    assert out.columns == [*REQUIRED_COLUMNS, "note"]
    assert out["measure"].to_list() == list(sced.MEASURES)
    assert out.schema["estimate"] == pl.Float64
    assert out.schema["note"] == pl.String
    # measures without a published SE have null SE and interval, not NaN
    for measure in ("Tau_U", "Tau_U_original", "PND", "PEM", "PAND", "IRD"):
        row = _row(out, measure)
        assert row["std_error"] is None and row["ci_low"] is None and row["ci_high"] is None
    assert out["note"].null_count() == out.height  # nothing to flag for these data
    assert not out.select(pl.col(pl.Float64).is_nan().any()).row(0)[0]


@pytest.mark.parametrize(
    "make", [list, tuple, np.array, pl.Series], ids=["list", "tuple", "numpy", "polars"]
)
def test_accepts_sequences(make):
    expected = sced.effect_sizes(A_PVD, B_PVD)
    got = sced.effect_sizes(make(A_PVD), make(B_PVD))
    assert got.equals(expected)


def test_hand_counted_nonoverlap():
    # A = [1, 2, 3], B = [3, 4, 5]: pairs B > A: 3 from '4' + 3 from '5' + 2 from '3', one tie.
    out = sced.effect_sizes([1, 2, 3], [3, 4, 5])
    assert _row(out, "NAP")["estimate"] == pytest.approx(8.5 / 9)
    assert _row(out, "Tau")["estimate"] == pytest.approx(2 * 8.5 / 9 - 1)
    assert _row(out, "PND")["estimate"] == pytest.approx(2 / 3)  # 4 and 5 exceed max(A) = 3
    assert _row(out, "PEM")["estimate"] == pytest.approx(1.0)  # all above median(A) = 2
    # S_AB = 8 - 0 = 8 (the tie counts 0), S_A = +3 (increasing baseline)
    assert _row(out, "Tau_U")["estimate"] == pytest.approx((8 - 3) / 9)
    assert _row(out, "Tau_U_original")["estimate"] == pytest.approx((8 - 3) / (9 + 3))
    # PAND: dropping the A point 3 (or the B point 3) leaves 5 of 6 non-overlapping
    assert _row(out, "PAND")["estimate"] == pytest.approx(5 / 6)
    assert _row(out, "IRD")["estimate"] == pytest.approx((36 * 5 / 6 - 9 - 9) / 18)


def test_decrease_negates_some_and_recomputes_others():
    inc = sced.effect_sizes(A_PVD, B_PVD, improvement="increase")
    dec = sced.effect_sizes(A_PVD, B_PVD, improvement="decrease")
    assert _row(dec, "NAP")["estimate"] == pytest.approx(1 - _row(inc, "NAP")["estimate"])
    for measure in ("Tau", "Tau_BC", "Tau_U", "SMD_baseline", "SMD_pooled", "LRRi", "LRRd"):
        assert _row(dec, measure)["estimate"] == pytest.approx(-_row(inc, measure)["estimate"])
    # PND is recomputed against the A minimum: 0 here, not 1 - 5/7
    assert _row(dec, "PND")["estimate"] == 0.0
    assert _row(inc, "PND")["estimate"] == pytest.approx(5 / 7)


def test_percentage_scale_lrr_differs_by_direction_and_matches_proportion():
    pct = sced.effect_sizes(A_PVD, B_PVD, scale="percentage", improvement="decrease")
    prop = sced.effect_sizes(
        [v / 100 for v in A_PVD],
        [v / 100 for v in B_PVD],
        scale="proportion",
        improvement="decrease",
    )
    for measure in ("LRRi", "LRRd"):
        assert _row(pct, measure)["estimate"] == pytest.approx(_row(prop, measure)["estimate"])
        assert _row(pct, measure)["std_error"] == pytest.approx(_row(prop, measure)["std_error"])
    # on a percentage scale LRRd and LRRi differ in magnitude, not only in sign
    assert abs(_row(pct, "LRRi")["estimate"]) != pytest.approx(abs(_row(pct, "LRRd")["estimate"]))


def test_percentage_truncation_by_hand():
    # A has mean 0 %; with 10 intervals D = 10/100 = 0.1: M_A = 1/(2*0.1*3), V_A = 1/(0.01*27)
    a, b = [0, 0, 0], [10, 20, 30]
    out = sced.effect_sizes(a, b, scale="percentage", intervals=10)
    m_a, v_a = 1 / (2 * 0.1 * 3), 1 / (0.1**2 * 27)
    m_b, v_b = 20.0, 100.0
    lrr = (math.log(m_b) + v_b / (2 * 3 * m_b**2)) - (math.log(m_a) + v_a / (2 * 3 * m_a**2))
    row = _row(out, "LRRi")
    assert row["estimate"] == pytest.approx(lrr)
    assert row["std_error"] == pytest.approx(math.sqrt(v_a / (3 * m_a**2) + v_b / (3 * m_b**2)))
    assert "truncat" in row["note"]


def test_count_zero_baseline_is_truncated_and_flagged():
    out = sced.effect_sizes([0, 0, 0, 0], [2, 3, 1, 2], improvement="increase")
    row = _row(out, "LRRi")
    m_a, v_a = 1 / (2 * 4), 1 / 4**3  # D = 1 for counts
    m_b, v_b = 2.0, statistics.variance([2, 3, 1, 2])
    expected = (math.log(m_b) + v_b / (8 * m_b**2)) - (math.log(m_a) + v_a / (8 * m_a**2))
    assert row["estimate"] == pytest.approx(expected)
    assert "truncat" in row["note"]


def test_rate_without_length_and_zero_mean_is_null_with_reason():
    out = sced.effect_sizes([0, 0, 0], [1.5, 2.0, 1.0], scale="rate")
    row = _row(out, "LRRi")
    assert row["estimate"] is None and row["std_error"] is None
    assert "observation_length" in row["note"]
    ok = sced.effect_sizes([0, 0, 0], [1.5, 2.0, 1.0], scale="rate", observation_length=10)
    assert _row(ok, "LRRi")["estimate"] is not None


def test_negative_data_nulls_lrr_only():
    out = sced.effect_sizes([-1, 0, 1, -2], [2, 3, 1, 4])
    for measure in ("LRRi", "LRRd"):
        row = _row(out, measure)
        assert row["estimate"] is None and "non-negative" in row["note"]
    assert _row(out, "NAP")["estimate"] is not None


def test_all_tied_data():
    out = sced.effect_sizes([5, 5, 5], [5, 5, 5, 5])
    assert _row(out, "NAP")["estimate"] == 0.5
    assert _row(out, "Tau")["estimate"] == 0.0
    assert _row(out, "Tau_BC")["estimate"] == 0.0
    assert _row(out, "PEM")["estimate"] == 0.5
    for measure, reason in (("SMD_baseline", "baseline"), ("SMD_pooled", "pooled")):
        row = _row(out, measure)
        assert row["estimate"] is None and row["std_error"] is None
        assert reason in row["note"]
    # equal means; only the variance floors 1/(D^2 n^3) (D = 1) differ in the bias terms
    expected = (1 / 64) / (2 * 4 * 25) - (1 / 27) / (2 * 3 * 25)
    assert _row(out, "LRRi")["estimate"] == pytest.approx(expected)


def test_two_point_baseline_smd_is_null_with_reason():
    out = sced.effect_sizes([1, 2], [3, 4, 5])
    row = _row(out, "SMD_baseline")
    assert row["estimate"] is None and "3 baseline points" in row["note"]
    assert _row(out, "SMD_pooled")["estimate"] is not None
    # without Hedges' correction (J = 1) the baseline d is defined: (4 - 1.5) / sd([1, 2])
    raw = _row(sced.effect_sizes([1, 2], [3, 4, 5], bias_correct=False), "SMD_baseline")
    d = 2.5 / math.sqrt(0.5)
    assert raw["estimate"] == pytest.approx(d) and raw["note"] is None
    assert raw["std_error"] == pytest.approx(math.sqrt(1 / 2 + 1 / (3 * 0.5) + d**2 / 2))


def test_complete_nonoverlap_is_flagged():
    out = sced.effect_sizes([1, 2, 3], [4, 5, 6])
    row = _row(out, "NAP")
    assert (row["estimate"], row["ci_low"], row["ci_high"]) == (1.0, 1.0, 1.0)
    assert row["std_error"] > 0  # SingleCaseES's truncation keeps it positive
    assert "no overlap" in row["note"]


def test_residual_ties_survive_rounding():
    # Exactly linear with a step: residuals of A are all 0 in exact arithmetic; B residuals equal.
    a = [0.1 * k for k in range(1, 7)]
    b = [0.1 * k + 0.3 for k in range(7, 11)]
    out = sced.effect_sizes(a, b)
    # every B residual is 0.3 above every A residual, so Tau_BC = 1
    assert _row(out, "Tau_BC")["estimate"] == pytest.approx(1.0)
    flat = sced.effect_sizes(a, [0.1 * k for k in range(7, 11)])
    assert _row(flat, "Tau_BC")["estimate"] == pytest.approx(0.0)  # all residuals tie


@pytest.mark.parametrize(
    ("a", "b", "options", "message"),
    [
        ([1], [2, 3], {}, "at least 2"),
        ([], [2, 3], {}, "at least 2"),
        ([1, float("nan"), 3], [2, 3], {}, "missing"),
        ([1, None, 3], [2, 3], {}, "missing"),
        ([1, 2, float("inf")], [2, 3], {}, "non-finite"),
        (["x", "y"], [2, 3], {}, "numbers"),
        (pl.Series(["1", "2"]), [2, 3], {}, "numbers"),
        ([[1, 2], [3, 4]], [2, 3], {}, "one-dimensional"),
        ([1, 2], [2, 3], {"improvement": "up"}, "improvement"),
        ([1, 2], [2, 3], {"confidence": 95}, "between 0 and 1"),
        ([1, 2], [2, 3], {"confidence": 0}, "between 0 and 1"),
        ([1, 2], [2, 3], {"scale": "ratio"}, "scale"),
        ([1, 2], [2, 3], {"nap_se": "exact"}, "nap_se"),
        ([1, 2], [2, 3], {"intervals": -3, "scale": "percentage"}, "intervals"),
        ([1, 2], [2, 3], {"bias_correct": "yes"}, "bias_correct"),
    ],
)
def test_bad_input(a, b, options, message):
    with pytest.raises(ValueError, match=message):
        sced.effect_sizes(a, b, **options)


def test_bad_batch_input():
    with pytest.raises(ValueError, match="same number of rows"):
        sced.effect_sizes_batch(np.ones((3, 4)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="2-D"):
        sced.effect_sizes_batch(np.ones(4), np.ones(4))
    with pytest.raises(ValueError, match="rows \\[1\\]"):
        sced.effect_sizes_batch(np.array([[1, 2.0], [np.nan, 1]]), np.ones((2, 2)))


def test_lrm_needs_positive_data():
    with pytest.raises(ValueError, match="positive"):
        sced.log_ratio_of_medians([0, 1, 2], [3, 4, 5])


# ------------------------------------------------------------------------------------------------
# batch agrees with single
# ------------------------------------------------------------------------------------------------


def test_batch_matches_single():
    rng = np.random.default_rng(7)
    rows = 40  # more than the per-row Brent threshold, so the batch uses vectorised bisection
    a = rng.integers(0, 8, size=(rows, 6)).astype(float)  # integers: plenty of ties
    b = rng.integers(2, 10, size=(rows, 5)).astype(float)
    b[0] = a[0, :5]
    a[1] = 3.0  # a constant baseline: SMD_baseline null
    for improvement in ("increase", "decrease"):
        batch = sced.effect_sizes_batch(a, b, improvement=improvement)
        assert batch.columns == ["series", *REQUIRED_COLUMNS, "note"]
        assert batch.height == rows * len(sced.MEASURES)
        for r in range(rows):
            single = sced.effect_sizes(a[r], b[r], improvement=improvement)
            part = batch.filter(pl.col("series") == r).drop("series")
            assert part["measure"].to_list() == single["measure"].to_list()
            assert part["note"].to_list() == single["note"].to_list()
            for column in ("estimate", "std_error", "ci_low", "ci_high"):
                np.testing.assert_allclose(
                    part[column].to_numpy(), single[column].to_numpy(), rtol=0, atol=1e-12
                )


def test_a_baseline_sd_a_hair_above_zero_gives_an_unbounded_interval_without_warnings():
    """A baseline whose SD is a hair above zero (its variance subnormal) gives an enormous
    standardized difference with an unbounded interval, as the formula says, and no overflow
    warning on the user's screen (found by a long property run)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = sced.effect_sizes([0.0, 1e-155, 0.0], [1.0, 2.0, 3.0])
    smd = _row(out, "SMD_baseline")
    assert smd["estimate"] > 1e150
    assert math.isinf(smd["std_error"]) and math.isinf(smd["ci_high"])


# ------------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------------

values = st.lists(
    st.integers(min_value=0, max_value=20).map(float), min_size=2, max_size=12
) | st.lists(
    st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False),
    min_size=2,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(a=values, b=values)
def test_nap_properties(a, b):
    inc = sced.effect_sizes(a, b, improvement="increase")
    dec = sced.effect_sizes(a, b, improvement="decrease")
    nap = _row(inc, "NAP")
    assert 0.0 <= nap["estimate"] <= 1.0
    assert nap["ci_low"] <= nap["estimate"] + 1e-12 and nap["estimate"] <= nap["ci_high"] + 1e-12
    assert _row(inc, "Tau")["estimate"] == pytest.approx(2 * nap["estimate"] - 1, abs=1e-12)
    assert _row(dec, "NAP")["estimate"] == pytest.approx(1 - nap["estimate"], abs=1e-12)
    assert _row(dec, "NAP")["std_error"] == pytest.approx(nap["std_error"], abs=1e-12)
    assert _row(dec, "Tau_U")["estimate"] == pytest.approx(-_row(inc, "Tau_U")["estimate"])
    assert 0.0 <= _row(inc, "PAND")["estimate"] <= 1.0


@settings(max_examples=30, deadline=None)
@given(a=values, b=values, shift=st.floats(min_value=-50, max_value=50))
def test_nonoverlap_is_shift_invariant(a, b, shift):
    base = sced.effect_sizes(a, b)
    moved = sced.effect_sizes([x + shift for x in a], [x + shift for x in b])
    # a shift can merge nearly equal floats into ties, so compare only when no pair is that close
    everything = a + b
    gaps = [abs(x - y) for x in everything for y in everything]
    if all(g == 0 or g > 1e-6 for g in gaps):
        for measure in ("NAP", "Tau_U", "PND", "PAND"):
            assert _row(moved, measure)["estimate"] == pytest.approx(
                _row(base, measure)["estimate"]
            )


# ------------------------------------------------------------------------------------------------
# piecewise regression (Huitema & McKean 2000)
# ------------------------------------------------------------------------------------------------


def _terms(result) -> dict[str, dict]:
    return {row["term"]: row for row in result.tidy.iter_rows(named=True)}


def test_piecewise_exact_line_ab():
    t = np.arange(1, 11, dtype=float)
    # baseline 2 + 0.5 t; at t = 6 the level jumps by 3 and the slope rises by 1
    y = 2 + 0.5 * t + np.where(t >= 6, 3 + 1.0 * (t - 6), 0.0)
    fit = sced.piecewise_regression(y, ["A"] * 5 + ["B"] * 5)
    terms = _terms(fit)
    expected = {"intercept": 2, "time": 0.5, "level_change_1": 3, "slope_change_1": 1}
    for term, value in expected.items():
        assert terms[term]["estimate"] == pytest.approx(value, abs=1e-9)
        assert terms[term]["std_error"] == 0.0
        assert terms[term]["p_value"] is None
    assert fit.tidy.columns == ["term", "estimate", "std_error", "ci_low", "ci_high", "p_value"]
    assert any("exactly" in note for note in fit.notes)
    with pytest.raises(ValueError, match="exactly"):
        sced.piecewise_regression(y, ["A"] * 5 + ["B"] * 5, ar1=True)
    pred = fit.predict()
    np.testing.assert_allclose(pred["fitted"].to_numpy(), y, atol=1e-9)
    # the level change is the jump at the first B point over the projected baseline
    first_b = pred.filter(pl.col("time") == 6.0).row(0, named=True)
    assert first_b["fitted"] - first_b["baseline_projection"] == pytest.approx(3.0)
    assert pred["phase"].to_list() == ["A"] * 5 + ["B"] * 5
    future = fit.predict(time=[12.0])
    assert future["fitted"].item() == pytest.approx(2 + 0.5 * 12 + 3 + 1.0 * 6)


def test_piecewise_exact_line_abab_irregular_times():
    t = np.array([0, 1, 2, 4, 5, 7, 8, 9, 12, 13, 14, 16, 17, 18], dtype=float)
    labels = ["A"] * 4 + ["B"] * 4 + ["A"] * 3 + ["B"] * 3
    t1, t2, t3 = t[4], t[8], t[11]  # first times of B1, A2, B2
    params = [10.0, -0.2, 4.0, 0.3, -3.0, -0.1, 2.5, 0.05]
    y = (
        params[0]
        + params[1] * t
        + (t >= t1) * (params[2] + params[3] * (t - t1))
        + (t >= t2) * (params[4] + params[5] * (t - t2))
        + (t >= t3) * (params[6] + params[7] * (t - t3))
    )
    fit = sced.piecewise_regression(y, labels, time=t)
    assert fit.phase_names == ("A1", "B1", "A2", "B2")
    assert fit.change_times == (t1, t2, t3)
    np.testing.assert_allclose(fit.tidy["estimate"].to_numpy(), params, atol=1e-9)
    assert fit.tidy["term"].to_list() == [
        "intercept",
        "time",
        "level_change_1",
        "slope_change_1",
        "level_change_2",
        "slope_change_2",
        "level_change_3",
        "slope_change_3",
    ]


def test_piecewise_recovers_simulated_truth_ols():
    rng = np.random.default_rng(11)
    n = 1000
    t = np.arange(1, 2 * n + 1, dtype=float)
    truth = {"intercept": 5.0, "time": 0.01, "level_change_1": 2.0, "slope_change_1": -0.004}
    y = (
        truth["intercept"]
        + truth["time"] * t
        + (t >= n + 1) * (truth["level_change_1"] + truth["slope_change_1"] * (t - (n + 1)))
        + rng.normal(0, 1.0, t.size)
    )
    fit = sced.piecewise_regression(y, ["A"] * n + ["B"] * n)
    for term, row in _terms(fit).items():
        assert abs(row["estimate"] - truth[term]) < 4 * row["std_error"]
        assert row["ci_low"] < row["estimate"] < row["ci_high"]
    assert _terms(fit)["time"]["std_error"] < 2e-4  # large n: tight


def test_piecewise_ar1_recovers_rho_and_truth():
    rng = np.random.default_rng(5)
    n = 1000
    t = np.arange(1, 2 * n + 1, dtype=float)
    eps = rng.normal(0, 1.0, t.size)
    e = np.empty_like(eps)
    e[0] = eps[0]
    for i in range(1, t.size):
        e[i] = 0.6 * e[i - 1] + eps[i]
    truth = {"intercept": 3.0, "time": 0.002, "level_change_1": -1.5, "slope_change_1": 0.003}
    y = (
        truth["intercept"]
        + truth["time"] * t
        + (t >= n + 1) * (truth["level_change_1"] + truth["slope_change_1"] * (t - (n + 1)))
        + e
    )
    fit = sced.piecewise_regression(y, ["A"] * n + ["B"] * n, ar1=True)
    assert fit.rho == pytest.approx(0.6, abs=0.05)
    for term, row in _terms(fit).items():
        assert abs(row["estimate"] - truth[term]) < 4 * row["std_error"]
    ols = sced.piecewise_regression(y, ["A"] * n + ["B"] * n)
    # OLS ignores the autocorrelation, so its SE of the level change is too small
    assert _terms(ols)["level_change_1"]["std_error"] < _terms(fit)["level_change_1"]["std_error"]
    assert "AR(1)" in fit.summary()
    assert not any("equally spaced" in note for note in fit.notes)
    uneven = sced.piecewise_regression(y, ["A"] * n + ["B"] * n, ar1=True, time=t**1.1)
    assert any("not equally spaced" in note for note in uneven.notes)


def test_piecewise_poisson_recovers_truth():
    rng = np.random.default_rng(9)
    n = 1500
    t = np.arange(1, 2 * n + 1, dtype=float)
    truth = {"intercept": 1.0, "time": 0.0004, "level_change_1": -0.7, "slope_change_1": -0.0005}
    eta = (
        truth["intercept"]
        + truth["time"] * t
        + (t >= n + 1) * (truth["level_change_1"] + truth["slope_change_1"] * (t - (n + 1)))
    )
    y = rng.poisson(np.exp(eta))
    fit = sced.piecewise_regression(y, ["A"] * n + ["B"] * n, family="poisson")
    for term, row in _terms(fit).items():
        assert abs(row["estimate"] - truth[term]) < 4 * row["std_error"]
    assert fit.dispersion == pytest.approx(1.0, abs=0.15)
    pred = fit.predict()
    assert (pred["fitted"] > 0).all()  # mean counts, not log means


def test_piecewise_summary_and_chart():
    rng = np.random.default_rng(2)
    y = np.r_[rng.normal(5, 1, 8), rng.normal(8, 1, 8)]
    fit = sced.piecewise_regression(y, ["A"] * 8 + ["B"] * 8)
    text = fit.summary()
    assert "Huitema" in text and "level_change_1" in text
    assert datetime.date.today().isoformat() not in text  # no dates (statsmodels prints one)
    assert text == fit.summary()
    chart = fit.chart(value_label="hold time (s)", time_label="session")
    spec = chart.to_dict()
    assert "hold time (s)" in json.dumps(spec)
    assert "url" not in json.dumps(spec.get("data", {}))
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(chart.to_json())
    assert svg.lstrip().startswith("<svg")


@pytest.mark.parametrize(
    ("values", "phases", "options", "message"),
    [
        ([1, 2, 3, 4, 5, 6], ["A", "A", "A", "C", "C", "C"], {}, '"A" or "B"'),
        ([1, 2, 3, 4, 5, 6], ["B", "B", "B", "A", "A", "A"], {}, "start with"),
        ([1, 2, 3, 4, 5, 6], ["A"] * 6, {}, "at least one change"),
        ([1, 2, 3, 4, 5, 6], ["A"] * 5 + ["B"], {}, "fewer than 2"),
        ([1, 2, 3, 4, 5], ["A"] * 3 + ["B"] * 3, {}, "labels"),
        ([1, 2, 3, 4, 5], "AAABB", {}, "not a str"),
        ([1, 2, 3, 4], ["A"] * 2 + ["B"] * 2, {}, "too few"),
        ([1, 2, 3, 4, 5, 6], ["A"] * 3 + ["B"] * 3, {"time": [1, 2, 3, 3, 4, 5]}, "overlap"),
        ([1, 2, 3, 4, 5, 6], ["A"] * 3 + ["B"] * 3, {"time": [1, 3, 2, 4, 5, 6]}, "increasing"),
        ([1, 2, 3, 4, 5, 6], ["A"] * 3 + ["B"] * 3, {"family": "binomial"}, "family"),
        ([1, 2, 3, 4, 5, 6], ["A"] * 3 + ["B"] * 3, {"family": "poisson", "ar1": True}, "ar1"),
        ([1, 2, 3, 4, 5.5, 6], ["A"] * 3 + ["B"] * 3, {"family": "poisson"}, "counts"),
        ([1, 2, 3, 0, 0, 0], ["A"] * 3 + ["B"] * 3, {"family": "poisson"}, "only zero"),
        ([1, 2, float("nan"), 4, 5, 6], ["A"] * 3 + ["B"] * 3, {}, "missing"),
    ],
)
def test_piecewise_bad_input(values, phases, options, message):
    with pytest.raises(ValueError, match=message):
        sced.piecewise_regression(values, phases, **options)


# ------------------------------------------------------------------------------------------------
# randomization test
# ------------------------------------------------------------------------------------------------


def _mean_diff_by_hand(y: list[float], start: int) -> float:
    return statistics.mean(y[start:]) - statistics.mean(y[:start])


def test_randomization_ab_enumerated_by_hand():
    y = [3, 4, 2, 5, 4, 7, 8, 6, 9, 8]
    labels = ["A"] * 5 + ["B"] * 5
    # min 3 points a phase: B can start at positions 3, 4, 5, 6, 7 -> 5 assignments
    hand = [_mean_diff_by_hand(y, s) for s in (3, 4, 5, 6, 7)]
    observed = _mean_diff_by_hand(y, 5)
    res = sced.randomization_test(y, labels, min_phase_length=3)
    assert res.exhaustive and res.n_assignments == 5
    assert res.observed == pytest.approx(observed)
    np.testing.assert_allclose(np.sort(res.distribution), np.sort(hand))
    assert res.p_value == pytest.approx(sum(h >= observed - 1e-12 for h in hand) / 5)


def test_randomization_p_is_rank_over_n():
    rng = np.random.default_rng(4)
    y = np.r_[rng.normal(0, 1, 15), rng.normal(5, 1, 15)]
    res = sced.randomization_test(y, ["A"] * 15 + ["B"] * 15, min_phase_length=3)
    assert res.n_assignments == 30 - 6 + 1
    rank = 1 + int(np.sum(res.distribution > res.observed + 1e-12))
    assert res.p_value == pytest.approx(rank / res.n_assignments)
    assert res.p_value == pytest.approx(1 / 25)  # a clear step: the observed split is the best


@pytest.mark.parametrize(
    "statistic", ["mean_difference", "phase_mean_difference", "median_difference"]
)
def test_randomization_abab_matches_independent_enumeration(statistic):
    y = [2, 3, 2, 4, 6, 7, 6, 3, 2, 3, 3, 7, 8, 6, 7, 5]
    labels = ["A"] * 4 + ["B"] * 3 + ["A"] * 4 + ["B"] * 5
    n, lmin = len(y), 3

    def stat(starts: tuple[int, int, int]) -> float:
        bounds = [0, *starts, n]
        segs = [y[bounds[i] : bounds[i + 1]] for i in range(4)]
        a_pts, b_pts = segs[0] + segs[2], segs[1] + segs[3]
        if statistic == "mean_difference":
            return statistics.mean(b_pts) - statistics.mean(a_pts)
        if statistic == "median_difference":
            return statistics.median(b_pts) - statistics.median(a_pts)
        return (statistics.mean(segs[1]) + statistics.mean(segs[3])) / 2 - (
            statistics.mean(segs[0]) + statistics.mean(segs[2])
        ) / 2

    every = [
        (c1, c2, c3)
        for c1 in range(n)
        for c2 in range(n)
        for c3 in range(n)
        if lmin <= c1 and c1 + lmin <= c2 and c2 + lmin <= c3 and c3 + lmin <= n
    ]
    hand = [stat(s) for s in every]
    observed = stat((4, 7, 11))
    res = sced.randomization_test(y, labels, min_phase_length=lmin, statistic=statistic)
    assert res.n_assignments == len(every) == math.comb(n - 4 * lmin + 3, 3)
    assert res.observed == pytest.approx(observed)
    np.testing.assert_allclose(np.sort(res.distribution), np.sort(hand), atol=1e-12)
    assert res.p_value == pytest.approx(sum(h >= observed - 1e-9 for h in hand) / len(every))
    assert res.design == "ABAB"


def test_randomization_decrease_is_mirror():
    y = [7, 8, 6, 7, 8, 4, 3, 4, 2, 3, 3]
    labels = ["A"] * 5 + ["B"] * 6
    dec = sced.randomization_test(y, labels, improvement="decrease")
    inc = sced.randomization_test([-v for v in y], labels, improvement="increase")
    assert dec.p_value == pytest.approx(inc.p_value)
    assert dec.observed == pytest.approx(-_mean_diff_by_hand(y, 5))


def test_randomization_monte_carlo():
    rng = np.random.default_rng(8)
    y = np.r_[
        rng.normal(0, 1, 12), rng.normal(0.8, 1, 12), rng.normal(0, 1, 12), rng.normal(0.8, 1, 12)
    ]
    labels = ["A"] * 12 + ["B"] * 12 + ["A"] * 12 + ["B"] * 12
    exact = sced.randomization_test(y, labels)
    mc = sced.randomization_test(y, labels, n_draws=20_000, seed=3)
    again = sced.randomization_test(y, labels, n_draws=20_000, seed=3)
    assert not mc.exhaustive and mc.n_draws == 20_000 and mc.distribution.size == 20_000
    assert mc.p_value == again.p_value  # the seed makes it reproducible
    hits = round(mc.p_value * (1 + 20_000)) - 1  # p = (1 + #>=) / (1 + draws)
    assert mc.p_value == pytest.approx((1 + hits) / (1 + 20_000))
    assert mc.p_value == pytest.approx(exact.p_value, abs=0.02)
    assert "Monte Carlo" in mc.summary()
    # more assignments than the exhaustive limit switches to Monte Carlo by itself
    auto = sced.randomization_test(y, labels, max_exhaustive=100, seed=1)
    assert not auto.exhaustive and auto.n_assignments == exact.n_assignments


def test_randomization_summary_and_types():
    res = sced.randomization_test(
        [1, 2, 1, 2, 5, 6, 5, 6], ["A"] * 4 + ["B"] * 4, min_phase_length=2
    )
    assert isinstance(res.distribution, np.ndarray)
    text = res.summary()
    assert "exhaustive" in text and "p =" in text
    with pytest.raises(AttributeError):
        res.p_value = 0.5  # frozen


@pytest.mark.parametrize(
    ("values", "phases", "options", "message"),
    [
        ([1, 2, 3, 4, 5, 6], ["A", "A", "A", "X", "X", "X"], {}, '"A" or "B"'),
        ([1, 2, 3, 4, 5, 6], ["B"] * 3 + ["A"] * 3, {}, "start with"),
        ([1, 2, 3, 4, 5, 6], ["A"] * 6, {}, "at least one change"),
        ([1, 2, 3, 4, 5, 6, 7], ["A"] * 2 + ["B"] * 5, {}, "shorter than min_phase_length"),
        ([1, 2, 3, 4, 5], ["A"] * 2 + ["B"] * 3, {"min_phase_length": 3}, "too few"),
        ([1, 2, 3, 4, 5, 6], ["A"] * 3 + ["B"] * 2, {}, "labels"),
        ([1, 2, 3, 4, 5, 6], ["A"] * 3 + ["B"] * 3, {"min_phase_length": 0}, ">= 1"),
        ([1, 2, 3, 4, 5, 6], ["A"] * 3 + ["B"] * 3, {"statistic": "t"}, "statistic"),
        ([1, 2, 3, 4, 5, 6], ["A"] * 3 + ["B"] * 3, {"n_draws": 0}, "n_draws"),
        ([1, 2, 3, 4, 5, 6], ["A"] * 3 + ["B"] * 3, {"improvement": "more"}, "improvement"),
        ([1, 2, None, 4, 5, 6], ["A"] * 3 + ["B"] * 3, {}, "missing"),
    ],
)
def test_randomization_bad_input(values, phases, options, message):
    with pytest.raises(ValueError, match=message):
        sced.randomization_test(values, phases, **options)
