"""Storage of imported records: the original's copy, the canonical files, provenance, multiset keys.

Identity is content: a record's *key* is its canonical row (every column, as text) plus its
occurrence number among identical rows of the same export (a multiset). A canonical file that
received exports E1..En then holds each row content exactly max(count in Ei) times, so keys can be
recomputed from the file itself: no hash is stored and nothing depends on row numbers.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import polars as pl

from rehab.paths import ProjectPaths, atomic_write_bytes, inside
from rehab.schema import TABLES

IMPORTS = "imports"
ORIGINALS = "originals"
PROVENANCE_COLUMNS = ("table", "row", "app", "layout", "file_sha256", "source_record")
# One imported record per slot: a set in sessions; in tests, the set it came from (its notes start
# with "<exercise>, set <n>"); in the diary, a part of a day (Bearable) or a moment (Daylio)
SLOTS = {
    "sessions": ("participant", "date", "time", "exercise", "set"),
    "tests": ("participant", "date", "notes"),
    "diary": ("participant", "date", "time", "moment"),
}
_OCC = "_occ"


def imports_dir(paths: ProjectPaths) -> Path:
    return inside(paths.root, paths.raw / IMPORTS)


def table_file(paths: ProjectPaths, kind: str, app: str) -> Path:
    """``data/raw/imports/<kind>-<app>.csv``: found by load_project like any ``<kind>*.csv``."""
    return imports_dir(paths) / f"{kind}-{app}.csv"


def provenance_file(paths: ProjectPaths, app: str) -> Path:
    return imports_dir(paths) / f"provenance-{app}.csv"


def keep_original(paths: ProjectPaths, data: bytes, sha256: str, suffix: str) -> Path:
    """Copy the export to ``imports/originals/<sha256 first 16>.<ext>`` once, read-only.

    The name starts with a hex digit and is not ``sessions*``/``diary*``/``tests*``/``phases*``,
    so the log readers never take it for a log."""
    ext = suffix.lower() if suffix and len(suffix) <= 6 and suffix[1:].isalnum() else ".csv"
    target = imports_dir(paths) / ORIGINALS / f"{sha256[:16]}{ext}"
    if not target.exists():
        atomic_write_bytes(target, data)
        os.chmod(target, 0o444)
    return target


def read_text_table(path: Path) -> pl.DataFrame:
    """A CSV as text columns ('' for empty); an empty frame when the file does not exist."""
    if not path.exists():
        return pl.DataFrame()
    df = pl.read_csv(path, infer_schema=False, empty_string_is_null=False)
    return df.with_columns(pl.all().fill_null(""))


def columns_for(kind: str, *frames: pl.DataFrame) -> list[str]:
    """Canonical columns (in schema order) present in any of the frames."""
    present = set().union(*(f.columns for f in frames))
    return [c for c in TABLES[kind].names if c in present]


def align(df: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
    """Text columns ``cols`` (missing ones empty, nulls empty), plus any private ``_`` columns."""
    if df.width == 0:
        return pl.DataFrame(schema=dict.fromkeys(cols, pl.String))
    extra = [c for c in df.columns if c.startswith("_")]
    return df.select(
        *[(pl.col(c).cast(pl.String).fill_null("") if c in df.columns else pl.lit("")).alias(c)
          for c in cols],
        *extra,
    )  # fmt: skip


def with_occurrence(df: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
    """Add the occurrence number of each row among identical rows (the multiset key's count)."""
    if df.height == 0:
        return df.with_columns(pl.lit(0, dtype=pl.Int64).alias(_OCC))
    return df.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).over(cols).alias(_OCC))


def split_new(
    candidates: pl.DataFrame, existing: pl.DataFrame, kind: str
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, list[str]]:
    """(new rows, rows already present, rows in conflict, columns) of an export's table.

    ``candidates`` carries private columns (``_rec`` ...); ``existing`` is the canonical file as
    text. A row is in conflict when another row already fills its slot (:data:`SLOTS`) with other
    values: the set was edited in the app after an earlier import, or a changed ``[aliases]`` or
    ``[tests]`` mapping derives other values from it; taking both would double it."""
    cols = columns_for(kind, candidates, existing)
    cand = align(candidates, cols)
    if existing.height == 0:  # a first import: all new, no keys to compare
        return cand, cand.clear(), cand.clear(), cols
    cand = with_occurrence(cand, cols)
    old = with_occurrence(align(existing, cols), cols).select([*cols, _OCC])
    keys = [*cols, _OCC]
    flagged = cand.join(old.with_columns(pl.lit(True).alias("_present")), on=keys, how="left",
                        maintain_order="left")  # fmt: skip
    is_present = pl.col("_present").fill_null(False)
    present = flagged.filter(is_present).drop("_present")
    new = flagged.filter(~is_present).drop("_present")
    conflict = new.clear()
    slot = [c for c in SLOTS.get(kind, ()) if c in cols]
    if "date" in slot and new.height:
        conflict = new.join(old.select(slot).unique(), on=slot, how="semi")
        new = new.join(conflict.select("_rec").unique(), on="_rec", how="anti")
    return new.drop(_OCC), present.drop(_OCC), conflict.drop(_OCC), cols


def write_rows(path: Path, existing: pl.DataFrame, new: pl.DataFrame, cols: list[str]) -> int:
    """Append ``new`` to the canonical file (atomically); returns the first new row number."""
    old = align(existing, cols).select(cols)
    both = pl.concat([old, new.select(cols)], how="vertical")
    both = both.with_columns(pl.when(pl.all() == "").then(None).otherwise(pl.all()).name.keep())
    buf = io.BytesIO()
    both.write_csv(buf, quote_style="necessary", line_terminator="\n")
    atomic_write_bytes(path, buf.getvalue())
    return old.height + 1


def append_provenance(path: Path, rows: pl.DataFrame) -> None:
    """Append provenance rows (``PROVENANCE_COLUMNS``) to the app's provenance file."""
    old = read_text_table(path)
    new = rows.select([pl.col(c).cast(pl.String) for c in PROVENANCE_COLUMNS])
    both = (
        pl.concat([align(old, list(PROVENANCE_COLUMNS)).select(PROVENANCE_COLUMNS), new])
        if old.height
        else new
    )
    buf = io.BytesIO()
    both.write_csv(buf, quote_style="necessary", line_terminator="\n")
    atomic_write_bytes(path, buf.getvalue())
