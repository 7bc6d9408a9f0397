"""Import a generated 100,000-set Strong export (layouts S2 and S3) into a fresh project.

Prints the import time against ``polars.read_csv`` of the same file (targets: at most 3 s, and at
most 3x that baseline), measured in this same run, best of 3: the conversion alone (parse,
validate) and the whole ``import_file`` into a fresh project (plus the original's copy, the
canonical files and provenance), then a second import of the same file (every record already
present).
Usage: python benchmarks/bench_import.py [N_SETS]
"""

from __future__ import annotations

import gc
import hashlib
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import polars as pl

from rehab.importers import Options, convert, import_file, store
from rehab.paths import ProjectPaths

EXERCISES = ["Back Extension (Machine)", "Plank", "Trap 3 Raise (Dumbbell)", "Side Plank",
             "Dead Bug", "Bird Dog", "Split Squat (Dumbbell)", "Cable Crunch, Kneeling"]  # fmt: skip


def make_strong(path: Path, n: int, *, layout: str = "S2", seed: int = 1) -> None:
    """A Strong export of ``n`` rows: workouts of 4 exercises x 5 rows (warm-up, sets, rest timer)."""
    rng = np.random.default_rng(seed)
    per_workout = 20
    n_w = n // per_workout + 1
    start = np.datetime64("2015-01-01T07:00") + np.arange(n_w) * np.timedelta64(26, "h")
    starts = np.repeat(start, per_workout)[:n]
    date = pl.Series(starts.astype("datetime64[ms]")).dt.strftime("%Y-%m-%d %H:%M:%S")
    ex = np.array(EXERCISES)[rng.integers(0, len(EXERCISES), n_w * 4)]
    exercise = np.repeat(ex, 5)[:n]
    pos = np.tile(np.arange(5), n_w * 4)[:n]
    order = np.where(pos == 0, "W", np.where(pos == 4, "Rest Timer", (pos).astype(str)))
    hold = np.isin(exercise, ["Plank", "Side Plank"])
    reps = np.where(hold | (pos == 4), 0, rng.integers(5, 20, n)).astype(float)
    secs = np.where(hold, rng.integers(20, 120, n), np.where(pos == 4, 90, 0)).astype(float)
    weight = np.where(hold | (pos == 4), 0, np.round(rng.uniform(0, 40, n), 1))
    notes = np.where((pos == 0) & (rng.random(n) < 0.05), 'felt "ok", no pain', "")
    if layout == "S2":
        df = pl.DataFrame({
            "Date": date, "Workout Name": "Back day", "Duration": "1h 6m",
            "Exercise Name": exercise, "Set Order": order, "Weight": weight, "Reps": reps,
            "Distance": 0, "Seconds": secs, "Notes": notes, "Workout Notes": "", "RPE": "",
        })  # fmt: skip
        df.write_csv(path, quote_style="non_numeric")
    else:
        wno = np.repeat(np.arange(1, n_w + 1), per_workout)[:n]
        df = pl.DataFrame({
            "Workout #": wno, "Date": date, "Workout Name": "Back day", "Duration (sec)": 3960,
            "Exercise Name": exercise, "Set Order": order, "Weight (kg)": weight, "Reps": reps,
            "RPE": "", "Distance (meters)": 0.0, "Seconds": secs, "Notes": notes,
            "Workout Notes": "",
        })  # fmt: skip
        df.write_csv(path, separator=";", quote_style="always")


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def floor(path: Path, sep: str, canonical: pl.DataFrame, out: Path) -> None:
    """Read, hash and copy the export, write ``canonical`` and a minimal provenance (see above)."""
    data = path.read_bytes()
    rows = pl.DataFrame({"row": np.arange(1, canonical.height + 1)}).with_columns(
        pl.col("row").alias("source_record")
    )
    jobs = [
        threading.Thread(target=lambda: hashlib.sha256(data).hexdigest()),
        threading.Thread(target=lambda: (out / "original.csv").write_bytes(data)),
        threading.Thread(target=lambda: rows.write_csv(out / "provenance.csv")),
        threading.Thread(target=lambda: canonical.write_csv(out / "sessions.csv")),
    ]
    for job in jobs:
        job.start()
    pl.read_csv(path, separator=sep)
    for job in jobs:
        job.join()


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for layout in ("S2", "S3"):
            path = tmp / f"strong-{layout}.csv"
            make_strong(path, n, layout=layout)
            data = path.read_bytes()
            sep = ";" if layout == "S3" else ","
            t_pl = best_of(lambda path=path, sep=sep: pl.read_csv(path, separator=sep))
            t_conv = best_of(
                lambda data=data: convert(data, options=Options(units="kg"), name="bench")
            )
            counter = iter(range(100))

            def fresh(layout=layout, counter=counter):
                root = tmp / f"proj-{layout}-{next(counter)}"
                (root / "data" / "raw").mkdir(parents=True)
                (root / "rehab.toml").write_text('[units]\nweight = "kg"\n')
                return root

            roots = []

            def first_import(path=path, roots=roots, fresh=fresh):
                roots.append(fresh())
                return import_file(path, root=roots[-1])

            t_first = best_of(first_import)
            root = roots[-1]
            first = import_file(path, root=fresh())
            t_again = best_of(lambda path=path, root=root: import_file(path, root=root))
            again = import_file(path, root=root)
            stored = pl.read_csv(
                store.table_file(ProjectPaths(root), "sessions", "strong"), infer_schema=False
            )
            floor_dir = tmp / f"floor-{layout}"
            floor_dir.mkdir()
            t_floor = best_of(lambda path=path, sep=sep, stored=stored, out=floor_dir: floor(
                path, sep, stored, out))  # fmt: skip
            mb = len(data) / 1e6
            print(f"Strong {layout}: {n:,} rows, {mb:.1f} MB; {first.new:,} new sets, "
                  f"{first.skipped:,} skipped (rest timers); again: {again.already_present:,} "
                  f"already present, {again.new} new")  # fmt: skip
            print(f"  polars.read_csv            {t_pl:7.3f} s   (baseline)")
            print(f"  convert (parse + validate) {t_conv:7.3f} s   {t_conv / t_pl:5.1f}x")
            print(f"  import_file, first         {t_first:7.3f} s   {t_first / t_pl:5.1f}x   "
                  f"target <= 3 s: {'ok' if t_first <= 3 else 'MISSED'}; "
                  f"target <= 3x: {'ok' if t_first <= 3 * t_pl else 'MISSED'}")  # fmt: skip
            print(f"  import_file, again         {t_again:7.3f} s   {t_again / t_pl:5.1f}x")
            print(
                f"  floor (no conversion)      {t_floor:7.3f} s   {t_floor / t_pl:5.1f}x   "
                "(read, hash, copy, write the rows: what any importer storing them must do)"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
