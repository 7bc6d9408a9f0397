"""Design-matched randomization tests (a plan's admissible set; multiple baseline across people)
and the conservative dual criterion, each checked against assignments listed by hand."""

from __future__ import annotations

import statistics
from fractions import Fraction

import numpy as np
import pytest

from rehab import sced


def mean_diff(y: list[float], start: int) -> float:
    return statistics.mean(y[start:]) - statistics.mean(y[:start])


def p_exact(hand: list[float], observed: float) -> float:
    return sum(h >= observed - 1e-12 for h in hand) / len(hand)


# --- randomization_test(admissible=...) -----------------------------------------------------------


def test_ab_with_the_designs_own_admissible_set():
    y = [3, 4, 2, 5, 4, 7, 8, 6, 9, 8]
    labels = ["A"] * 5 + ["B"] * 5
    # the plan allowed B to start at point 3, 5 or 6 only
    hand = [mean_diff(y, 3), mean_diff(y, 5), mean_diff(y, 6)]
    observed = mean_diff(y, 5)
    for admissible in ([(3,), (5,), (6,)], [3, 5, 6], {(6,), (3,), (5,)}, np.array([[3], [5], [6]])):
        res = sced.randomization_test(y, labels, admissible=admissible)
        assert res.exhaustive and res.from_design and res.n_assignments == 3
        assert res.observed == pytest.approx(observed)
        np.testing.assert_allclose(np.sort(res.distribution), np.sort(hand))
        assert res.p_value == pytest.approx(p_exact(hand, observed))
    assert res.min_phase_length == 3  # the shortest phase of the set: A of the start-3 plan
    assert "the design's own 3 admissible" in res.summary()


def test_abab_admissible_set_enumerated_by_hand():
    y = [2, 3, 2, 6, 7, 6, 3, 2, 3, 7, 8, 7]
    labels = ["A"] * 3 + ["B"] * 3 + ["A"] * 3 + ["B"] * 3

    def stat(c1: int, c2: int, c3: int) -> float:
        a = y[:c1] + y[c2:c3]
        b = y[c1:c2] + y[c3:]
        return statistics.mean(b) - statistics.mean(a)

    admissible = [(2, 5, 8), (3, 6, 9), (3, 7, 10), (4, 7, 9), (2, 6, 10)]
    hand = [stat(2, 5, 8), stat(3, 6, 9), stat(3, 7, 10), stat(4, 7, 9), stat(2, 6, 10)]
    observed = stat(3, 6, 9)
    res = sced.randomization_test(y, labels, admissible=admissible)
    assert res.n_assignments == 5 and res.design == "ABAB"
    np.testing.assert_allclose(np.sort(res.distribution), np.sort(hand), atol=1e-12)
    assert res.p_value == pytest.approx(p_exact(hand, observed))
    assert res.p_value == pytest.approx(1 / 5)  # the observed split is the clearest of the five
    # decrease: the same set with the statistic A - B
    dec = sced.randomization_test(y, labels, admissible=admissible, improvement="decrease")
    assert dec.p_value == pytest.approx(p_exact([-h for h in hand], -observed))


def test_admissible_monte_carlo_draws_from_the_set():
    y = [2, 3, 2, 6, 7, 6, 3, 2, 3, 7, 8, 7]
    labels = ["A"] * 3 + ["B"] * 3 + ["A"] * 3 + ["B"] * 3
    admissible = [(2, 5, 8), (3, 6, 9), (3, 7, 10), (4, 7, 9), (2, 6, 10)]
    exact = sced.randomization_test(y, labels, admissible=admissible)
    mc = sced.randomization_test(y, labels, admissible=admissible, max_exhaustive=4, seed=5)
    again = sced.randomization_test(y, labels, admissible=admissible, max_exhaustive=4, seed=5)
    assert not mc.exhaustive and mc.n_draws == 10_000 and mc.n_assignments == 5
    assert mc.p_value == again.p_value
    assert set(np.round(mc.distribution, 9)) <= set(np.round(exact.distribution, 9))
    hits = int(np.sum(mc.distribution >= exact.observed - 1e-9))
    assert mc.p_value == pytest.approx((1 + hits) / (1 + 10_000))
    assert mc.p_value == pytest.approx(exact.p_value, abs=0.02)


def test_admissible_set_of_every_placement_is_the_default_test():
    y = [2, 3, 2, 4, 6, 7, 6, 3, 2, 3, 3, 7, 8, 6, 7, 5]
    labels = ["A"] * 4 + ["B"] * 3 + ["A"] * 4 + ["B"] * 5
    every = [
        (c1, c2, c3)
        for c1 in range(3, 17)
        for c2 in range(c1 + 3, 17)
        for c3 in range(c2 + 3, 17)
        if c3 + 3 <= 16
    ]
    default = sced.randomization_test(y, labels, min_phase_length=3)
    planned = sced.randomization_test(y, labels, admissible=every)
    assert planned.n_assignments == default.n_assignments == len(every)
    assert planned.p_value == pytest.approx(default.p_value)
    assert planned.min_phase_length == 3


@pytest.mark.parametrize(
    ("admissible", "message"),
    [
        ([(4,), (6,)], "not in the design's admissible set"),
        ([(5, 7)], "must hold 1 whole-number"),
        ([(0,), (5,)], "must increase strictly and lie in 1..9"),
        ([(10,), (5,)], "lie in 1..9"),
        ([(5.5,), (5,)], "whole-number"),
        ([], "empty"),
        ("5", "sequence of tuples"),
        (5, "sequence of tuples"),
    ],
)
def test_admissible_bad_input(admissible, message):
    y = [3, 4, 2, 5, 4, 7, 8, 6, 9, 8]
    with pytest.raises(ValueError, match=message):
        sced.randomization_test(y, ["A"] * 5 + ["B"] * 5, admissible=admissible)


# --- randomization_test_mb -----------------------------------------------------------------------

ANN = [2, 3, 2, 6, 7, 6]
BOB = [4, 5, 4, 4, 8, 9]
SERIES = {"ann": ANN, "bob": BOB}
STARTS = {"ann": 3, "bob": 4}
ADMISSIBLE = {"ann": [2, 3], "bob": [3, 4]}


def mb_stat(ann_start: int, bob_start: int) -> float:
    return (mean_diff(ANN, ann_start) + mean_diff(BOB, bob_start)) / 2


def test_mb_marascuilo_busk_enumerated_by_hand():
    # each person's start from their own set: 2 x 2 assignments
    hand = [mb_stat(2, 3), mb_stat(2, 4), mb_stat(3, 3), mb_stat(3, 4)]
    observed = mb_stat(3, 4)
    res = sced.randomization_test_mb(SERIES, STARTS, ADMISSIBLE, improvement="increase")
    assert res.model == "marascuilo_busk" and res.exhaustive and res.n_assignments == 4
    assert res.observed == pytest.approx(observed)
    np.testing.assert_allclose(np.sort(res.distribution), np.sort(hand))
    assert res.p_value == pytest.approx(p_exact(hand, observed))
    assert dict(res.per_participant)["ann"] == pytest.approx(mean_diff(ANN, 3))
    as_sets = sced.randomization_test_mb(
        SERIES, STARTS, {"ann": {3, 2}, "bob": range(3, 5)}, improvement="increase"
    )
    assert as_sets.p_value == res.p_value and as_sets.n_assignments == 4
    assert "Marascuilo" in res.summary()


def test_mb_koehler_levin_enumerated_by_hand():
    # people assigned to the two windows at random (2 orders), a start within each window:
    # ann in {2, 3} and bob in {3, 4}, or ann in {3, 4} and bob in {2, 3}
    hand = [
        mb_stat(2, 3), mb_stat(2, 4), mb_stat(3, 3), mb_stat(3, 4),
        mb_stat(3, 2), mb_stat(3, 3), mb_stat(4, 2), mb_stat(4, 3),
    ]  # fmt: skip
    observed = mb_stat(3, 4)
    res = sced.randomization_test_mb(
        SERIES, STARTS, ADMISSIBLE, improvement="increase", model="koehler_levin"
    )
    assert res.n_assignments == 8
    np.testing.assert_allclose(np.sort(res.distribution), np.sort(hand))
    assert res.p_value == pytest.approx(p_exact(hand, observed))
    assert "Koehler" in res.summary()


def test_mb_three_people_fixed_windows_koehler_levin_is_a_permutation_test():
    # one start per window: only the order of people is random (3! = 6 assignments)
    y = {"a": [1, 1, 5, 5, 5, 5, 5, 5], "b": [2, 2, 2, 2, 6, 6, 6, 6], "c": [1, 2, 1, 2, 1, 2, 7, 8]}
    starts = {"a": 2, "b": 4, "c": 6}
    windows = {"a": [2], "b": [4], "c": [6]}

    def stat(sa: int, sb: int, sc: int) -> float:
        return (mean_diff(y["a"], sa) + mean_diff(y["b"], sb) + mean_diff(y["c"], sc)) / 3

    hand = [stat(2, 4, 6), stat(2, 6, 4), stat(4, 2, 6), stat(4, 6, 2), stat(6, 2, 4), stat(6, 4, 2)]
    res = sced.randomization_test_mb(y, starts, windows, improvement="increase", model="koehler_levin")
    assert res.n_assignments == 6
    np.testing.assert_allclose(np.sort(res.distribution), np.sort(hand))
    assert res.p_value == pytest.approx(p_exact(hand, stat(2, 4, 6)))
    # Marascuilo-Busk with one start each has a single assignment: p = 1
    mb = sced.randomization_test_mb(y, starts, windows, improvement="increase")
    assert mb.n_assignments == 1 and mb.p_value == 1.0


def test_mb_three_people_marascuilo_busk_listed():
    y = {"a": [3, 4, 3, 1, 1, 2, 1], "b": [5, 4, 5, 5, 2, 2, 1], "c": [4, 4, 5, 4, 4, 1, 2]}
    starts = {"a": 3, "b": 4, "c": 5}
    sets = {"a": [2, 3], "b": [4, 5], "c": [4, 5]}

    def stat(sa: int, sb: int, sc: int) -> float:  # decrease: A - B
        return -(mean_diff(y["a"], sa) + mean_diff(y["b"], sb) + mean_diff(y["c"], sc)) / 3

    listed = [(2, 4, 4), (2, 4, 5), (2, 5, 4), (2, 5, 5), (3, 4, 4), (3, 4, 5), (3, 5, 4), (3, 5, 5)]
    hand = [stat(*s) for s in listed]
    res = sced.randomization_test_mb(y, starts, sets, improvement="decrease")
    assert res.n_assignments == 8 and res.observed == pytest.approx(stat(3, 4, 5))
    np.testing.assert_allclose(np.sort(res.distribution), np.sort(hand))
    assert res.p_value == pytest.approx(p_exact(hand, stat(3, 4, 5)))


def test_mb_median_statistic_by_hand():
    hand = [
        (statistics.median(ANN[sa:]) - statistics.median(ANN[:sa])
         + statistics.median(BOB[sb:]) - statistics.median(BOB[:sb])) / 2
        for sa, sb in [(2, 3), (2, 4), (3, 3), (3, 4)]
    ]  # fmt: skip
    res = sced.randomization_test_mb(
        SERIES, STARTS, ADMISSIBLE, improvement="increase", statistic="median_difference"
    )
    np.testing.assert_allclose(np.sort(res.distribution), np.sort(hand))
    assert res.p_value == pytest.approx(p_exact(hand, hand[3]))


def test_mb_monte_carlo_agrees_with_exact():
    rng = np.random.default_rng(3)
    series = {f"p{i}": np.r_[rng.normal(0, 1, 8 + 3 * i), rng.normal(1, 1, 20 - 3 * i)]
              for i in range(4)}
    starts = {f"p{i}": 8 + 3 * i for i in range(4)}
    sets = {f"p{i}": list(range(6 + 3 * i, 11 + 3 * i)) for i in range(4)}
    for model in ("marascuilo_busk", "koehler_levin"):
        exact = sced.randomization_test_mb(series, starts, sets, improvement="increase", model=model)
        mc = sced.randomization_test_mb(
            series, starts, sets, improvement="increase", model=model, n_draws=20_000, seed=1
        )
        assert exact.exhaustive and not mc.exhaustive
        assert exact.n_assignments == 5**4 * (24 if model == "koehler_levin" else 1)
        hits = int(np.sum(mc.distribution >= mc.observed - 1e-9))
        assert mc.p_value == pytest.approx((1 + hits) / (1 + 20_000))
        assert mc.p_value == pytest.approx(exact.p_value, abs=0.01)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"starts": {"ann": 3}}, "missing \\['bob'\\]"),
        ({"admissible": {"ann": [2, 3], "bob": [3, 4], "cy": [2]}}, "extra \\['cy'\\]"),
        ({"starts": {"ann": 4, "bob": 4}}, "not in admissible\\['ann'\\]"),
        ({"starts": {"ann": 3, "bob": 6}}, "1..5"),
        ({"admissible": {"ann": [2, 3], "bob": [3, 9]}}, "does not fit"),
        ({"series": {"ann": ANN}, "starts": {"ann": 3}, "admissible": {"ann": [3]}}, "2 people"),
        ({"model": "wampold"}, "model"),
        ({"statistic": "t"}, "statistic"),
        ({"series": [ANN, BOB]}, "mapping"),
        ({"starts": {"ann": 3.0, "bob": 4}}, "whole-number"),
    ],
)
def test_mb_bad_input(kwargs, message):
    args = {"series": SERIES, "starts": STARTS, "admissible": ADMISSIBLE, "improvement": "increase"}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        sced.randomization_test_mb(**args)


def test_mb_koehler_levin_windows_must_fit_everyone():
    series = {"ann": ANN, "bob": BOB + [9, 9, 9]}
    with pytest.raises(ValueError, match="every window must fit"):
        sced.randomization_test_mb(
            series, {"ann": 3, "bob": 7}, {"ann": [2, 3], "bob": [7, 8]},
            improvement="increase", model="koehler_levin",
        )  # fmt: skip


# --- conservative dual criterion ------------------------------------------------------------------

# Smallest number of B points beyond both lines for p < .05, one-sided binomial at p = .5, by
# the number of B points: the rule Fisher, Kelley & Lomas (2003) state for their table (and the
# rule scan's cdc() applies: binom.test(..., alternative = "greater")$p.value < .05). The table
# itself (JABA 36:387-406, Table 1) could not be consulted here: these values are the rule's,
# each checked below with exact fractions. With 4 or fewer B points even all of them give
# p >= 1/16: no count suffices.
REQUIRED = {5: 5, 6: 6, 7: 7, 8: 7, 9: 8, 10: 9, 11: 9, 12: 10, 13: 10, 14: 11, 15: 12,
            16: 12, 17: 13, 18: 13, 19: 14, 20: 15, 25: 18, 30: 20}  # fmt: skip


@pytest.mark.parametrize("n", sorted(REQUIRED))
def test_cdc_required_table(n):
    assert sced.cdc_required(n) == REQUIRED[n]
    # independently: the tail at the required count is < .05, one fewer is >= .05
    def tail(k: int) -> Fraction:
        from math import comb

        return Fraction(sum(comb(n, j) for j in range(k, n + 1)), 2**n)

    assert tail(REQUIRED[n]) < Fraction(1, 20) <= tail(REQUIRED[n] - 1)


def test_cdc_required_small_n():
    assert [sced.cdc_required(n) for n in (1, 2, 3, 4)] == [None] * 4


def test_cdc_rule_applied_by_hand_increase():
    # A at t = 1..5: mean 3.6; SD sqrt(5.2/4) = 1.140175; OLS slope 5/10 = 0.5, intercept 2.1
    a, b = [2, 4, 3, 5, 4], [6, 5, 7, 6, 8]
    shift = 0.25 * (5.2 / 4) ** 0.5
    res = sced.cdc(a, b, improvement="increase")
    assert (res.a_mean, res.a_slope, res.a_intercept) == pytest.approx((3.6, 0.5, 2.1))
    np.testing.assert_allclose(res.mean_line, [3.6 + shift] * 5)
    np.testing.assert_allclose(res.trend_line, [5.1 + shift, 5.6 + shift, 6.1 + shift,
                                                6.6 + shift, 7.1 + shift])  # fmt: skip
    # mean line 3.885; trend 5.385, 5.885, 6.385, 6.885, 7.385:
    # 6 beyond both; 5 not; 7 beyond; 6 not; 8 beyond
    assert res.beyond == 3 and res.required == 5 and not res.systematic
    assert res.p_value == pytest.approx(16 / 32)  # P(X >= 3), X ~ Bin(5, .5)
    assert "3 of 5" in res.summary()


def test_cdc_rule_applied_by_hand_decrease():
    # pain falling: A = 6, 7, 6, 7, 6, 7 (mean 6.5, SD sqrt(1.5/5), slope 1.5/17.5 per point,
    # intercept 6.2)
    a = [6, 7, 6, 7, 6, 7]
    b = [5, 4, 4, 5, 3, 4, 4, 6.4]
    res = sced.cdc(a, b, improvement="decrease")
    sd = (1.5 / 5) ** 0.5
    slope = 1.5 / 17.5
    intercept = 6.5 - slope * 3.5
    assert res.a_slope == pytest.approx(slope) and res.shift == pytest.approx(-0.25 * sd)
    trend = [intercept + slope * t - 0.25 * sd for t in range(7, 15)]
    np.testing.assert_allclose(res.trend_line, trend)
    # mean line 6.5 - 0.137 = 6.363, trend line above it from t = 7 on (6.663 ...): every B
    # point but the last (6.4, above the mean line) is below both
    assert res.beyond == 7 and res.required == 7 and res.systematic


def test_cdc_bad_input():
    with pytest.raises(ValueError, match="at least 2 baseline"):
        sced.cdc([1], [2, 3], improvement="increase")
    with pytest.raises(ValueError, match="improvement"):
        sced.cdc([1, 2], [2, 3], improvement="up")
    with pytest.raises(TypeError):
        sced.cdc([1, 2], [2, 3])  # improvement is required: no silent default direction
