"""Benchmark rehab.sced: effect sizes for 10,000 A/B series, randomization tests, Bayesian fits.

Run: ``python benchmarks/bench_sced.py`` (``--quick`` for a smaller run). Prints wall-clock
figures, ratios against naive baselines measured in the same run, and the headroom against the
targets (10,000 series of 20+20 points in <= 5 s; a 40-point exhaustive AB randomization test in
<= 1 s; issue #14: for a 16-week ABAB series of daily points and a 4-person multiple baseline, a
design-matched randomization test and a Bayesian fit in <= 1 s each). Timings are the median of
several repeats.
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import time
from collections.abc import Callable

import numpy as np
from scipy import linalg, optimize, stats

from rehab import sced

TARGET_BATCH_S = 5.0
TARGET_RANDOMIZATION_S = 1.0
TARGET_DESIGN_S = 1.0  # issue #14: plan, design-matched test, Bayesian fit


def _median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def naive_nap(a: list[float], b: list[float], z: float = 1.959963984540054) -> tuple[float, ...]:
    """Baseline: NAP, its unbiased SE and Newcombe interval by pure-Python loops and brentq."""
    m, n = len(a), len(b)
    q = [[1.0 if y > x else 0.5 if y == x else 0.0 for y in b] for x in a]
    nap = sum(map(sum, q)) / (m * n)
    q1 = sum(sum(v - nap for v in row) ** 2 for row in q) / (m * n * n)
    q2 = sum(sum(q[i][j] - nap for i in range(m)) ** 2 for j in range(n)) / (m * m * n)
    x2 = sum((v - nap) ** 2 for row in q for v in row) / (m * n)
    t = min(max(nap, 0.5 / (m * n)), 1 - 0.5 / (m * n))
    se = math.sqrt((t * (1 - t) + n * q1 + m * q2 - 2 * x2) / ((m - 1) * (n - 1)))
    h = (m + n) / 2 - 1

    def f(x: float) -> float:
        return m * n * (nap - x) ** 2 * (2 - x) * (1 + x) - z * z * x * (1 - x) * (
            2 + h + (1 + 2 * h) * x * (1 - x)
        )

    lower = optimize.brentq(f, 0, nap, xtol=1e-15) if 0 < nap < 1 else nap
    upper = optimize.brentq(f, nap, 1, xtol=1e-15) if 0 < nap < 1 else nap
    return nap, se, lower, upper


def naive_randomization(y: list[float], n_a: int, min_len: int) -> float:
    """Baseline: exhaustive AB randomization test by list slicing and statistics.mean."""
    observed = statistics.mean(y[n_a:]) - statistics.mean(y[:n_a])
    stats_ = [
        statistics.mean(y[s:]) - statistics.mean(y[:s])
        for s in range(min_len, len(y) - min_len + 1)
    ]
    return sum(s >= observed - 1e-12 for s in stats_) / len(stats_)


def naive_admissible_test(y: list[float], starts: list[tuple[int, ...]], observed: tuple) -> float:
    """Baseline: a plan's admissible set enumerated with list slicing and statistics.mean."""

    def stat(cut: tuple[int, ...]) -> float:
        bounds = [0, *cut, len(y)]
        a = [v for i in range(0, len(bounds) - 1, 2) for v in y[bounds[i] : bounds[i + 1]]]
        b = [v for i in range(1, len(bounds) - 1, 2) for v in y[bounds[i] : bounds[i + 1]]]
        return statistics.mean(b) - statistics.mean(a)

    obs = stat(observed)
    return sum(stat(c) >= obs - 1e-9 for c in starts) / len(starts)


def naive_bayes(y: np.ndarray, is_b: np.ndarray) -> float:
    """Baseline: the same posterior with the full n x n AR(1) correlation matrix per rho
    (textbook GLS, no whitening); returns P(delta < 0)."""
    n = y.size
    X = np.column_stack([np.ones(n), is_b])
    p0 = np.diag([0.0, 1 / sced.BAYES_EFFECT_PRIOR_SD**2])
    logw, cdf0 = [], []
    for rho in sced.BAYES_RHO_GRID:
        ri = np.linalg.inv(linalg.toeplitz(rho ** np.arange(n)))
        a = X.T @ ri @ X + p0
        m = np.linalg.solve(a, X.T @ ri @ y)
        s = y @ ri @ y - m @ a @ m
        logw.append(
            -0.5 * np.linalg.slogdet(ri)[1] * -1 - 0.5 * np.linalg.slogdet(a)[1]
            - 0.5 * (n - 1) * math.log(s) - 0.5 * math.log(1 - rho**2)
        )  # fmt: skip
        cdf0.append(stats.t.cdf(-m[1] / math.sqrt(s / (n - 1) * np.linalg.inv(a)[1, 1]), n - 1))
    w = np.exp(np.array(logw) - max(logw))
    return float(np.sum(w * np.array(cdf0)) / w.sum())


def naive_mb(series: dict, starts: dict, sets: dict, koehler_levin: bool) -> float:
    """Baseline: every multiple-baseline assignment by itertools and statistics.mean."""
    people = list(series)

    def stat(assign: dict) -> float:
        return statistics.mean(
            statistics.mean(series[p][:s]) - statistics.mean(series[p][s:])
            for p, s in assign.items()
        )

    obs = stat(starts)
    orders = itertools.permutations(people) if koehler_levin else [tuple(people)]
    hits = total = 0
    for order in orders:  # person people[i] takes the window of order[i]
        for combo in itertools.product(*(sets[q] for q in order)):
            hits += stat(dict(zip(people, combo, strict=True))) >= obs - 1e-9
            total += 1
    return hits / total


def weekly_admissible(weeks: int, changes: int, min_weeks: int, days: int = 7) -> list[tuple]:
    """A plan drawn in weeks (every phase >= min_weeks), each start week mapped to its first day."""
    out = []
    for cut in itertools.combinations(range(min_weeks, weeks - min_weeks + 1), changes):
        bounds = [0, *cut, weeks]
        if all(b - a >= min_weeks for a, b in itertools.pairwise(bounds)):
            out.append(tuple(c * days for c in cut))
    return out


def bench_plan(reps: int) -> bool:
    """rehab.plan: drawing a plan, and the design-matched test from dated points (its admissible
    set mapped onto them), against the same sced test given the index set directly."""
    from functools import partial

    from rehab import plan

    kw = dict(protocol_a="traditional-core", protocol_b="shit", start="2026-03-02", weeks=16,
              min_phase_weeks=2, seed=7)
    worst = 0.0
    for label, design in (
        ("ABAB, 16 weeks", dict(design="abab")),
        ("multiple baseline, 4 people, 16 weeks",
         dict(design="multiple-baseline", participants=["p1", "p2", "p3"])),
    ):
        t_draw = _median_time(partial(plan.draw_plan, "p0", **kw, **design), reps)
        drawn = plan.draw_plan("p0", **kw, **design)
        points = plan.simulate_diary(drawn, effect=1.0, seed=1).rename({"pain": "value"})
        test = partial(plan.planned_test, drawn, points, improvement="decrease")
        res = test()  # warm-up
        t_test = _median_time(test, reps)
        # daily points from the start: week w's first point has index 7w
        if drawn.design == "abab":
            y = points["value"].to_numpy()
            bounds = (0, *res.observed_starts["p0"], y.size)
            labels = [("A", "B")[k % 2] for k in range(4) for _ in range(bounds[k + 1] - bounds[k])]
            index_set = [tuple(7 * w for w in s) for s in drawn.admissible()]
            base = partial(sced.randomization_test, y, labels, admissible=index_set,
                           improvement="decrease")
        else:
            people = drawn.participants
            ys = {p: points.filter(participant=p)["value"].to_numpy() for p in people}
            st = {p: res.observed_starts[p][0] for p in people}
            sets = {p: [7 * w for w in range(drawn.windows[drawn.assigned[p]][0],
                                             drawn.windows[drawn.assigned[p]][1] + 1)]
                    for p in people}
            base = partial(sced.randomization_test_mb, ys, st, sets, improvement="decrease",
                           model="koehler_levin")
        t_base = _median_time(base, reps)
        assert abs(base().p_value - res.p_value) < 1e-12  # the baseline doubles as a cross-check
        print(
            f"  plan, {label} (rehab.plan): drawn in {t_draw * 1e3:.3f} ms; design-matched test"
            f" from {res.n_points['p0']} daily points ({res.n_assignments:,} schedules):"
            f" {t_test * 1e3:.2f} ms (target {TARGET_DESIGN_S:.0f} s ->"
            f" {TARGET_DESIGN_S / max(t_draw, t_test):,.0f}x headroom; the sced test given the"
            f" index set {t_base * 1e3:.2f} ms, ratio {t_test / t_base:.1f}x)"
        )
        worst = max(worst, t_draw, t_test)
    return worst <= TARGET_DESIGN_S


def bench_design(rng: np.random.Generator, reps: int) -> bool:
    """Issue #14: design-matched tests and Bayesian fits, 16 weeks of daily points."""
    print("\nDesign-matched analysis (issue #14), 16 weeks of daily points")
    plan_ok = bench_plan(reps)
    weeks, days = 16, 7
    n = weeks * days
    admissible = weekly_admissible(weeks, 3, 2)
    observed = (28, 56, 84)  # phases of 4 weeks each: in the set
    labels = ["A"] * 28 + ["B"] * 28 + ["A"] * 28 + ["B"] * 28
    is_b = np.array([lab == "B" for lab in labels], dtype=float)
    e = np.empty(n)
    e[0] = rng.normal()
    for i in range(1, n):
        e[i] = 0.4 * e[i - 1] + rng.normal()
    y = 5 - 1.0 * is_b + e
    sced.randomization_test(y, labels, admissible=admissible)  # warm-up
    t_rt = _median_time(lambda: sced.randomization_test(y, labels, admissible=admissible), reps)
    res = sced.randomization_test(y, labels, admissible=admissible, improvement="decrease")
    y_list = [-v for v in y.tolist()]
    t_rt_naive = _median_time(lambda: naive_admissible_test(y_list, admissible, observed), reps)
    assert abs(naive_admissible_test(y_list, admissible, observed) - res.p_value) < 1e-12
    print(
        f"  ABAB randomization test over the plan's {len(admissible)} assignments: "
        f"{t_rt * 1e3:.2f} ms (target {TARGET_DESIGN_S:.0f} s -> {TARGET_DESIGN_S / t_rt:,.0f}x"
        f" headroom; pure-Python enumeration {t_rt_naive * 1e3:.2f} ms, ratio"
        f" {t_rt_naive / t_rt:.1f}x)"
    )
    sced.bayes_effect(y, labels, improvement="decrease", mcid=2.0)  # warm-up
    t_by = _median_time(
        lambda: sced.bayes_effect(y, labels, improvement="decrease", mcid=2.0), reps
    )
    fit = sced.bayes_effect(y, labels, improvement="decrease", mcid=2.0)
    start = time.perf_counter()
    naive_p = naive_bayes(y, is_b)  # slow: timed once
    t_by_naive = time.perf_counter() - start
    assert abs(naive_p - fit.p_improved) < 1e-6
    print(
        f"  ABAB Bayesian fit (AR(1), {sced.BAYES_RHO_GRID.size}-point rho grid): "
        f"{t_by * 1e3:.2f} ms (target {TARGET_DESIGN_S:.0f} s -> {TARGET_DESIGN_S / t_by:,.0f}x"
        f" headroom; full-covariance baseline {t_by_naive * 1e3:.1f} ms, ratio"
        f" {t_by_naive / t_by:.1f}x)"
    )
    week = np.arange(n) // days
    t_weekly = _median_time(
        lambda: sced.bayes_effect_by_week(y, labels, week, improvement="decrease", mcid=2.0),
        max(1, reps // 10),
    )
    print(f"  ... and week by week (one fit per week, {weeks - 4} weeks): {t_weekly * 1e3:.1f} ms")

    # 4 people, 16 weeks each; start windows of 3 weeks, staggered (weeks 3-5, 6-8, 9-11, 12-14)
    people = [f"p{i}" for i in range(4)]
    windows = {p: list(range((3 + 3 * i) * days, (6 + 3 * i) * days)) for i, p in enumerate(people)}
    starts = {p: windows[p][rng.integers(len(windows[p]))] for p in people}
    series = {}
    for p in people:
        e = np.empty(n)
        e[0] = rng.normal()
        for i in range(1, n):
            e[i] = 0.4 * e[i - 1] + rng.normal()
        series[p] = 5 - 1.0 * (np.arange(n) >= starts[p]) + e
    weekly = {p: windows[p][::days] for p in people}
    weekly_starts = {p: weekly[p][rng.integers(3)] for p in people}
    fastest = math.inf
    for label, sets, st, model in (
        ("weekly starts, Marascuilo-Busk", weekly, weekly_starts, "marascuilo_busk"),
        ("weekly starts, Koehler-Levin", weekly, weekly_starts, "koehler_levin"),
        ("daily starts, Koehler-Levin", windows, starts, "koehler_levin"),
    ):
        def run(sets=sets, st=st, model=model):
            return sced.randomization_test_mb(
                series, st, sets, improvement="decrease", model=model
            )

        run()
        t_mb = _median_time(run, max(3, reps // 4))
        r = run()
        how = "exhaustive" if r.exhaustive else f"{r.n_draws:,} Monte Carlo draws"
        print(
            f"  multiple baseline, 4 people, {label} ({r.n_assignments:,} assignments, {how}):"
            f" {t_mb * 1e3:.2f} ms (target {TARGET_DESIGN_S:.0f} s ->"
            f" {TARGET_DESIGN_S / t_mb:,.0f}x headroom)"
        )
        fastest = min(fastest, TARGET_DESIGN_S / t_mb)
        if r.exhaustive:
            lists = {p: v.tolist() for p, v in series.items()}
            start = time.perf_counter()
            naive_p = naive_mb(lists, st, sets, model == "koehler_levin")
            t_naive = time.perf_counter() - start
            assert abs(naive_p - r.p_value) < 1e-12
            print(f"    pure-Python enumeration {t_naive * 1e3:.1f} ms, ratio {t_naive / t_mb:.0f}x")

    def four_fits() -> None:
        for p in people:
            lab = ["A"] * starts[p] + ["B"] * (n - starts[p])
            sced.bayes_effect(series[p], lab, improvement="decrease", mcid=2.0)

    t_four = _median_time(four_fits, max(3, reps // 4))
    print(
        f"  multiple baseline, Bayesian fit of each of the 4 people: {t_four * 1e3:.1f} ms"
        f" (target {TARGET_DESIGN_S:.0f} s -> {TARGET_DESIGN_S / t_four:,.0f}x headroom)"
    )
    return plan_ok and max(t_rt, t_by, t_four) <= TARGET_DESIGN_S and fastest >= 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer series and repeats")
    args = parser.parse_args()
    n_series = 2_000 if args.quick else 10_000
    repeats = 1 if args.quick else 3
    rng = np.random.default_rng(2024)
    # integer-valued data, as in pain diaries and rep counts: plenty of ties
    a = rng.poisson(6.0, size=(n_series, 20)).astype(float)
    b = rng.poisson(4.5, size=(n_series, 20)).astype(float)

    print(f"rehab.sced benchmark: {n_series:,} series of 20 + 20 points, median of {repeats} runs")
    sced.effect_sizes_batch(a[:10], b[:10])  # warm-up (imports, first allocations)
    t_batch = _median_time(lambda: sced.effect_sizes_batch(a, b, improvement="decrease"), repeats)
    per_10k_batch = t_batch * 10_000 / n_series

    subset = 300 if args.quick else 1_000

    def loop_single() -> None:
        for r in range(subset):
            sced.effect_sizes(a[r], b[r], improvement="decrease")

    t_single = _median_time(loop_single, 1) / subset
    a_lists, b_lists = a.tolist(), b.tolist()
    naive_rows = 500 if args.quick else 2_000

    def loop_naive() -> None:
        for r in range(naive_rows):
            naive_nap(a_lists[r], b_lists[r])

    t_naive = _median_time(loop_naive, repeats) / naive_rows
    z = 1.959963984540054
    t_nap = _median_time(lambda: sced._nap_block(a, b, z, "unbiased"), repeats)
    check = sced._nap_block(a[:50], b[:50], z, "unbiased")
    for r in range(50):  # the baseline doubles as an independent cross-check
        ref = naive_nap(a_lists[r], b_lists[r])
        got = (check["est"][r], check["se"][r], check["lo"][r], check["hi"][r])
        assert all(abs(u - v) < 1e-12 for u, v in zip(ref, got, strict=True)), (r, ref, got)

    print("\nNAP with its SE and Newcombe interval")
    print(
        f"  vectorised kernel, {n_series:,} series: {t_nap:.3f} s; baseline pure-Python loop + "
        f"brentq: {t_naive * 1e3:.3f} ms a series ({t_naive * n_series:.2f} s) -> ratio "
        f"{t_naive * n_series / t_nap:.1f}x"
    )
    print("\nAll 13 effect sizes with SEs and intervals")
    print(
        f"  effect_sizes_batch, {n_series:,} series: {t_batch:.3f} s "
        f"({per_10k_batch:.3f} s per 10,000; target {TARGET_BATCH_S:.0f} s -> "
        f"{TARGET_BATCH_S / per_10k_batch:.1f}x headroom)"
    )
    print(
        f"  baseline, effect_sizes in a Python loop ({subset:,} series): {t_single * 1e3:.2f} ms a "
        f"series ({t_single * 10_000:.1f} s per 10,000) -> ratio "
        f"{t_single * n_series / t_batch:.0f}x"
    )

    y = np.r_[rng.normal(0, 1, 20), rng.normal(0.8, 1, 20)]
    labels = ["A"] * 20 + ["B"] * 20
    sced.randomization_test(y, labels)  # warm-up
    reps = 20 if args.quick else 200
    t_rand = _median_time(lambda: sced.randomization_test(y, labels), reps)
    res = sced.randomization_test(y, labels)
    y_list = y.tolist()
    t_rand_naive = _median_time(lambda: naive_randomization(y_list, 20, 3), reps)
    assert abs(naive_randomization(y_list, 20, 3) - res.p_value) < 1e-12
    labels_abab = ["A"] * 10 + ["B"] * 10 + ["A"] * 10 + ["B"] * 10
    t_abab = _median_time(lambda: sced.randomization_test(y, labels_abab), max(3, reps // 20))
    n_abab = sced.randomization_test(y, labels_abab).n_assignments

    print("\nRandomization test, 40 points, exhaustive, mean difference")
    print(
        f"  AB ({res.n_assignments} assignments): {t_rand * 1e3:.3f} ms "
        f"(target {TARGET_RANDOMIZATION_S:.0f} s -> {TARGET_RANDOMIZATION_S / t_rand:,.0f}x headroom;"
        f" naive pure-Python enumeration {t_rand_naive * 1e3:.3f} ms, ratio "
        f"{t_rand_naive / t_rand:.1f}x)"
    )
    print(
        f"  ABAB ({n_abab:,} assignments): {t_abab * 1e3:.2f} ms "
        f"(target {TARGET_RANDOMIZATION_S:.0f} s -> {TARGET_RANDOMIZATION_S / t_abab:,.0f}x headroom)"
    )
    design_ok = bench_design(rng, 5 if args.quick else 20)
    ok = per_10k_batch <= TARGET_BATCH_S and t_rand <= TARGET_RANDOMIZATION_S and design_ok
    print(f"\ntargets met: {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
