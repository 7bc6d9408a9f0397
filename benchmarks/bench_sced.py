"""Benchmark rehab.sced: effect sizes for 10,000 A/B series and an exhaustive randomization test.

Run: ``python benchmarks/bench_sced.py`` (``--quick`` for a smaller run). Prints wall-clock
figures, ratios against naive pure-Python baselines measured in the same run, and the headroom
against the targets (10,000 series of 20+20 points in <= 5 s; a 40-point exhaustive AB
randomization test in <= 1 s). Timings are the median of several repeats.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable

import numpy as np
from scipy import optimize

from rehab import sced

TARGET_BATCH_S = 5.0
TARGET_RANDOMIZATION_S = 1.0


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
    ok = per_10k_batch <= TARGET_BATCH_S and t_rand <= TARGET_RANDOMIZATION_S
    print(f"\ntargets met: {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
