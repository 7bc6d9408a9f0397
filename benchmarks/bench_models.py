"""Endurance curves for 1,000 people and a Banister fit on a year of daily loads.

1. ``fit_endurance`` (fit + profile-likelihood intervals for plateau, baseline and τ; the bootstrap
   band is lazy and timed separately) for N simulated people with 30 weekly tests each, in one
   process (target: at most 10 s; WORKERS > 1 adds a run on spawned processes, whose start-up
   costs more than it saves at this size), against
   ``scipy.optimize.curve_fit`` per person without intervals (one process), measured in this run.
2. ``fit_banister`` on 365 daily loads and 26 tests, free τ (grid + Nelder-Mead) and fixed τ
   (target: at most 1 s), against a naive fit: ``scipy.optimize.least_squares`` on all five
   parameters with the exponential sums recomputed in a Python loop over the test days.

Usage: python benchmarks/bench_models.py [N_PEOPLE] [WORKERS]
"""

from __future__ import annotations

import datetime as dt
import math
import sys
import time
import warnings
from multiprocessing import get_context

import numpy as np
import polars as pl
from scipy import optimize

from rehab import norms
from rehab.models import banister_curve, fit_banister, fit_endurance

D0 = dt.date(2025, 1, 6)
N_TESTS = 30


def simulate_people(n: int, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    weeks = np.arange(N_TESTS, dtype=float)
    b = rng.uniform(40, 90, n)
    p = b + rng.uniform(50, 120, n)
    tau = rng.uniform(3, 8, n)
    y = p[:, None] + (b - p)[:, None] * np.exp(-weeks[None, :] / tau[:, None])
    y += rng.normal(0, norms.SORENSEN_SEM_S["current_lbp"], y.shape)
    dates = [D0 + dt.timedelta(weeks=int(w)) for w in weeks]
    return pl.DataFrame({
        "participant": np.repeat([f"p{i:04d}" for i in range(n)], N_TESTS),
        "date": dates * n,
        "test": "sorensen_hold",
        "value": y.ravel(),
    })


def fit_chunk(frame: pl.DataFrame) -> list[tuple[str, float]]:
    out = []
    for part in frame.partition_by("participant", maintain_order=True):
        r = fit_endurance(part)
        out.append((r.status, r.params.get("plateau", math.nan)))
    return out


def curve(x, plateau, baseline, tau):
    return plateau + (baseline - plateau) * np.exp(-x / tau)


def baseline_curve_fit(frame: pl.DataFrame) -> int:
    x = np.arange(N_TESTS, dtype=float)
    ok = 0
    for part in frame.partition_by("participant", maintain_order=True):
        y = part["value"].to_numpy()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                optimize.curve_fit(curve, x, y, p0=[y.max(), y[0], 5.0], maxfev=5000)
            ok += 1
        except RuntimeError:
            pass
    return ok


def naive_banister(w: np.ndarray, days: np.ndarray, y: np.ndarray) -> np.ndarray:
    def model(th):
        p0, k1, k2, t1, t2 = th
        out = np.empty(len(days))
        for i, t in enumerate(days):
            s = np.arange(t + 1)
            out[i] = p0 + k1 * np.sum(w[s] * np.exp(-(t - s) / t1)) - k2 * np.sum(
                w[s] * np.exp(-(t - s) / t2))
        return out

    res = optimize.least_squares(lambda th: model(th) - y, [250, 0.1, 0.2, 40, 10],
                                 bounds=([0, 0, 0, 1, 1], [1000, 5, 5, 100, 100]))
    return res.x


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    people = simulate_people(n)
    print(f"Endurance curves: {n} people × {N_TESTS} tests")

    fit_chunk(people.head(N_TESTS))  # warm imports in this process
    t = time.perf_counter()
    results = fit_chunk(people)
    single = time.perf_counter() - t
    n_ok = sum(s == "ok" for s, _ in results)
    print(f"  fit_endurance with profile intervals, one process: {single:6.2f} s "
          f"({n_ok} fitted, target ≤ 10 s) {'OK' if single <= 10 else 'SLOW'}")

    ours = None
    if workers > 1:
        t = time.perf_counter()
        chunks = people.partition_by("participant", maintain_order=True)
        groups = [pl.concat(chunks[i::workers * 4]) for i in range(workers * 4)]
        # spawn, not fork: forking a process that has started polars threads can deadlock
        with get_context("spawn").Pool(workers) as pool:
            results = [r for part in pool.map(fit_chunk, groups) for r in part]
        ours = time.perf_counter() - t
        print(f"  the same on {workers} processes, worker start-up included: {ours:6.2f} s")

    t = time.perf_counter()
    ok = baseline_curve_fit(people)
    base = time.perf_counter() - t
    print(f"  baseline curve_fit, no intervals, one process: {base:6.2f} s ({ok} converged)")
    print(f"  ratio ours (one process) / baseline: {single / base:5.2f}"
          + (f"; ours ({workers} processes) / baseline: {ours / base:5.2f}" if ours else ""))

    r = fit_endurance(people.head(N_TESTS), target=150.0)
    t = time.perf_counter()
    r.forecasts()
    r.predict(np.linspace(0, 30, 80))
    print(f"  bootstrap band + forecasts for one person (lazy, {r.n_boot} replicates): "
          f"{time.perf_counter() - t:6.3f} s")

    print("Banister fit: 365 daily loads, 26 tests")
    rng = np.random.default_rng(1)
    w = np.where(rng.random(365) < 0.5, rng.uniform(20, 120, 365), 0.0)
    loads = pl.DataFrame({"day": np.arange(365), "load": w})
    truth = {"p0": 262.0, "k1": 0.18, "k2": 0.23, "tau1": 36.0, "tau2": 21.0}
    days = np.arange(20, 365, 14)
    y = banister_curve(loads, truth)["performance"].to_numpy()[days] + rng.normal(0, 1, len(days))
    tests = pl.DataFrame({"day": days, "value": y})
    fit_banister(loads, tests)  # warm
    reps = 5
    t = time.perf_counter()
    for _ in range(reps):
        free = fit_banister(loads, tests)
    t_free = (time.perf_counter() - t) / reps
    t = time.perf_counter()
    for _ in range(reps):
        fit_banister(loads, tests, fixed_tau=(36, 21))
    t_fixed = (time.perf_counter() - t) / reps
    t = time.perf_counter()
    naive = naive_banister(w, days, y)
    t_naive = time.perf_counter() - t
    print(f"  fit_banister free τ:  {t_free * 1000:8.1f} ms (target ≤ 1000 ms) "
          f"{'OK' if t_free <= 1 else 'SLOW'}; τ1 = {free.params['tau1']:.1f}, "
          f"τ2 = {free.params['tau2']:.1f}, identifiability issues: {len(free.identifiability)}")
    print(f"  fit_banister fixed τ: {t_fixed * 1000:8.1f} ms")
    print(f"  naive least_squares with loop sums: {t_naive * 1000:8.1f} ms "
          f"(τ1 = {naive[3]:.1f}, τ2 = {naive[4]:.1f}; no k2 > k1 / τ1 > τ2 constraints)")
    print(f"  ratio free fit / naive: {t_free / t_naive:5.3f}")


if __name__ == "__main__":
    main()
