"""Read and validate a generated 2,000,000-record sessions file.

Prints the kit's reader time against plain ``polars.read_csv`` of the same file, called with its
defaults (its type inference makes it faster than an all-text read, which is printed too): the
ratio is the median over interleaved rounds of each round's kit time over its polars time
(target: at most 2x; the fastest-against-fastest ratio is printed too). Then naive pandas
``read_csv`` plus row-by-row validation, the same records with every field quoted, and the
reader's peak memory.
All baselines are measured in this same run. Usage: python benchmarks/bench_io.py [N_RECORDS]
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl

from rehab.io import read_sessions
from rehab.schema import SESSIONS

ROUNDS = 7  # interleaved: each reads the file once with polars, then with the kit


def make_file(path: Path, n: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    days = pl.date_range(pl.date(2024, 1, 1), pl.date(2026, 10, 31), eager=True)
    ex = np.array(["Back extension", "back_extension_hold", "plank", "side_plank", "trap3_raise"])
    df = pl.DataFrame({
        "participant": np.char.add("p", (rng.integers(0, 500, n)).astype(str)),
        "date": days.sample(n, with_replacement=True, seed=seed),
        "time": "07:30",
        "exercise": ex[rng.integers(0, len(ex), n)],
        "set": rng.integers(1, 5, n),
        "reps": rng.integers(0, 20, n),
        "hold_s": np.where(rng.random(n) < 0.5, np.round(rng.uniform(10, 120, n), 1), np.nan),
        "load_kg": np.round(rng.uniform(0, 20, n), 1),
        "rpe": rng.integers(0, 11, n).astype(float),
        "pain": rng.integers(0, 11, n).astype(float),
        "pump": rng.integers(0, 4, n),
        "bench_angle_deg": 45.0,
        "session_rpe": rng.integers(3, 9, n).astype(float),
        "duration_min": 40.0,
        "protocol": "shit",
        "notes": np.where(rng.random(n) < 0.01, 'felt "ok", good', ""),
    }).with_columns(pl.col("hold_s").fill_nan(None))
    # about 0.1% bad values, so the quarantine path is exercised too
    bad = rng.random(n) < 0.001
    df = df.with_columns(pl.when(pl.Series(bad)).then(pl.lit(11.0)).otherwise(pl.col("pain")).alias("pain"))
    df.write_csv(path)


def naive_pandas(path: Path) -> tuple[int, int]:
    """What a user might write: pandas read_csv, then a Python loop checking each row."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    ok = bad = 0
    for row in df.itertuples(index=False):
        try:
            pd.Timestamp(row.date)
            if row.pain != "" and not 0 <= float(row.pain) <= 10:
                raise ValueError
            if row.reps != "" and int(row.reps) < 0:
                raise ValueError
            if int(row.set) < 1:
                raise ValueError
            ok += 1
        except ValueError:
            bad += 1
    return ok, bad


def timed(fn, *a, repeat: int = 3):
    best, out = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        out = fn(*a)
        best = min(best, time.perf_counter() - t)
    return best, out


def cpu_timed(fn):
    """(wall seconds, CPU seconds of the whole process, result) of one call."""
    gc.collect()
    c, t = time.process_time(), time.perf_counter()
    out = fn()
    return time.perf_counter() - t, time.process_time() - c, out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sessions-bench.csv"
        make_file(path, n)
        size_mb = os.path.getsize(path) / 1e6
        # interleaved rounds, so both see the same machine
        polars_runs, kit_runs, polars_cpu, kit_cpu, text_runs = [], [], [], [], []
        for _ in range(ROUNDS):
            t, c, _ = cpu_timed(lambda: pl.read_csv(path))
            polars_runs.append(t)
            polars_cpu.append(c)
            text_runs.append(cpu_timed(lambda: pl.read_csv(path, infer_schema=False))[0])
            t, c, r = cpu_timed(lambda: read_sessions(path))
            kit_runs.append(t)
            kit_cpu.append(c)
        t_polars, t_kit = min(polars_runs), min(kit_runs)
        # each round's own ratio (both reads back to back), then their median: the machine's speed
        # drifts by 20-40% between rounds, which a ratio of two minimums from different rounds
        # takes in full
        paired = statistics.median(k / p for k, p in zip(kit_runs, polars_runs, strict=True))
        cpu_ratio = min(kit_cpu) / min(polars_cpu)
        assert r.records == r.accepted + r.quarantined + r.duplicates
        tracemalloc.start()
        read_sessions(path)
        _, peak = tracemalloc.get_traced_memory()  # Python-side allocations only
        tracemalloc.stop()
        import psutil

        rss = psutil.Process().memory_info().rss / 1e6
        # the same records with every field quoted (csv.QUOTE_ALL, some exporters): the check that
        # polars reads each quote as Python's csv module does looks at every quote
        quoted = Path(tmp) / "sessions-quoted.csv"
        pl.read_csv(path, infer_schema=False).write_csv(quoted, quote_style="always")
        q_polars, q_kit = [], []
        for _ in range(3):
            q_polars.append(cpu_timed(lambda: pl.read_csv(quoted))[0])
            q_kit.append(cpu_timed(lambda: read_sessions(quoted))[0])
        n_pandas = min(n, 200_000)  # the naive loop is slow: time a slice, scale linearly
        sub = Path(tmp) / "sessions-sub.csv"
        pl.read_csv(path, infer_schema=False, n_rows=n_pandas).write_csv(sub)
        t_pandas_sub, _ = timed(naive_pandas, sub, repeat=1)
        t_pandas = t_pandas_sub * n / n_pandas
    print(f"file: {n:,} records, {size_mb:.0f} MB, {len(SESSIONS.names)} canonical columns")
    print(f"accepted {r.accepted:,}, quarantined {r.quarantined:,}, duplicates {r.duplicates:,}")
    print(f"polars.read_csv (defaults)        {t_polars:7.2f} s   (all text: {min(text_runs):.2f} s)")
    print(f"rehab.io.read_sessions            {t_kit:7.2f} s   ratio to polars, median of {ROUNDS} rounds "
          f"{paired:.2f}x (target <= 2x: {'met' if paired <= 2 else 'NOT met'}); fastest against fastest "
          f"{t_kit / t_polars:.2f}x; against the all-text read {t_kit / min(text_runs):.2f}x")
    print(f"  (both use every core: CPU time, kit against polars, {cpu_ratio:.2f}x; wall times per round, "
          f"polars {', '.join(f'{x:.2f}' for x in polars_runs)}, kit {', '.join(f'{x:.2f}' for x in kit_runs)})")
    print(f"every field quoted: polars {min(q_polars):.2f} s, kit {min(q_kit):.2f} s, ratio "
          f"{min(q_kit) / min(q_polars):.2f}x (no target: each of its quotes is checked)")
    print(f"naive pandas + row loop (scaled)  {t_pandas:7.2f} s   kit is {t_pandas / t_kit:.1f}x faster")
    print(f"peak Python-heap allocations {peak / 1e6:.0f} MB; process RSS after {rss:.0f} MB")


if __name__ == "__main__":
    main()
