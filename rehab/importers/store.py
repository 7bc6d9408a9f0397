"""Storage of imported records: the original's copy, the canonical files, provenance, multiset keys.

Identity is content: a record's *key* is its canonical row (every column, as text) plus its
occurrence number among identical rows of the same export (a multiset). A canonical file that
received exports E1..En then holds each row content exactly max(count in Ei) times, so keys can be
recomputed from the file itself: no hash is stored and nothing depends on row numbers.

Writing (:func:`rehab.importers.import_file`): an import reads the stored tables, compares and
writes them back while holding the project lock (:func:`rehab.paths.project_lock`), so two
imports at once take turns and neither drops the other's rows. Everything it writes (the
original's copy, each canonical file it grows, the provenance file, its quarantine file) goes
into one :class:`rehab.paths.Transaction`: every file is written whole under a temporary name,
then a journal naming them all is committed, then they are renamed into place in a fixed order
(original, tables, provenance, quarantine). Killed before the commit, the store is as it was
(the next command deletes the temporary files); killed after it, the next command that takes
the lock (or reads the project) finishes the renames. Tables and provenance thus always agree.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import polars as pl

from rehab.importers.common import in_background
from rehab.paths import ProjectPaths, inside
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


PROVENANCE_PREFIX = "provenance-"


def provenance_file(paths: ProjectPaths, app: str) -> Path:
    return imports_dir(paths) / f"{PROVENANCE_PREFIX}{app}.csv"


def is_provenance_file(path: Path) -> bool:
    """Whether ``path`` is an imports folder's provenance sidecar (not a log)."""
    return path.name.lower().startswith(PROVENANCE_PREFIX) and path.parent.name == IMPORTS


def original_file(paths: ProjectPaths, sha256: str, suffix: str) -> Path:
    """``imports/originals/<sha256 first 16>.<ext>``: where an export's copy is kept.

    The name starts with a hex digit and is not ``sessions*``/``diary*``/``tests*``/``phases*``,
    so the log readers never take it for a log."""
    ext = suffix.lower() if suffix and len(suffix) <= 6 and suffix[1:].isalnum() else ".csv"
    return imports_dir(paths) / ORIGINALS / f"{sha256[:16]}{ext}"


def write_original(tmp: Path, data: bytes) -> None:
    """Write an export's copy to ``tmp``, read-only (it is never modified once in place)."""
    tmp.unlink(missing_ok=True)  # a read-only leftover could not be written over
    tmp.write_bytes(data)
    os.chmod(tmp, 0o444)


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


def _hashed(df: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
    """``_h`` (a row hash of ``cols``), ``_OCC`` and ``_i`` (the row index) of each row.

    Rows are nearly always all distinct: their hashes then are too, and every occurrence is 0.
    Otherwise occurrences are counted exactly, among the rows that share a hash."""
    h = df.select(cols).hash_rows()
    out = pl.DataFrame({"_h": h}).with_columns(
        pl.lit(0, dtype=pl.Int64).alias(_OCC), pl.int_range(pl.len(), dtype=pl.Int64).alias("_i")
    )
    if h.n_unique() == h.len():
        return out
    shared = h.is_duplicated()
    occ = np.zeros(df.height, dtype=np.int64)
    sub = with_occurrence(df.filter(shared).select(cols), cols)
    occ[shared.arg_true().to_numpy()] = sub.get_column(_OCC).to_numpy()
    return out.with_columns(pl.Series(_OCC, occ))


def _present(cand: pl.DataFrame, old: pl.DataFrame, cols: list[str]) -> pl.Series | None:
    """For each candidate row, whether ``old`` holds it (same content and occurrence number).

    Rows are paired by hash and occurrence, then every pair is compared in full: a hash collision
    can never pass a new record as present. None when some pair differs (a collision: rare beyond
    measure), for the exact comparison."""
    theirs = in_background(_hashed, old, cols)
    pairs = _hashed(cand, cols).join(theirs.result(), on=["_h", _OCC], suffix="_old")
    ci, oi = pairs.get_column("_i").to_numpy(), pairs.get_column("_i_old").to_numpy()
    if len(ci) == cand.height == old.height and np.array_equal(ci, oi):
        # the same rows in the same order (an export imported again): compared as they stand
        same = cand.select(cols).equals(old.select(cols))
    elif len(ci):
        right = old.select(cols)[oi]
        same = (
            cand.select(cols)[ci]
            .select(pl.all_horizontal(pl.col(c) == right.get_column(c) for c in cols))
            .to_series()
            .all()
        )
    else:
        same = True
    if not same:
        return None
    mask = np.zeros(cand.height, dtype=bool)
    mask[ci] = True
    return pl.Series("_present", mask)


def split_new(
    candidates: pl.DataFrame, existing: pl.DataFrame, kind: str
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, list[str]]:
    """(new rows, rows already present, rows in conflict, columns) of an export's table.

    ``candidates`` carries private columns (``_rec`` ...); ``existing`` is the canonical file as
    text. A row is in conflict when another row already fills its slot (:data:`SLOTS`) with other
    values: the set was edited in the app after an earlier import, or a changed ``[aliases]`` or
    ``[tests]`` mapping derives other values from it; taking both would double it."""
    cols = columns_for(kind, candidates, existing)
    if existing.width == 0 and all(candidates.schema.get(c) == pl.String for c in cols):
        # a first import: all new, no keys to compare (the rows are written as they are)
        return candidates, candidates.clear(), candidates.clear(), cols
    cand = align(candidates, cols)
    if existing.height == 0:  # no rows to compare with
        return cand, cand.clear(), cand.clear(), cols
    old = align(existing, cols)
    is_present = _present(cand, old, cols)
    if is_present is None:
        keys = [*cols, _OCC]
        flagged = with_occurrence(cand, cols).join(
            with_occurrence(old, cols).select(keys).with_columns(pl.lit(True).alias("_present")),
            on=keys, how="left", maintain_order="left",
        ).drop(_OCC)  # fmt: skip
        is_present = flagged.get_column("_present").fill_null(False)
    present = cand.filter(is_present)
    new = cand.filter(~is_present)
    conflict = new.clear()
    slot = [c for c in SLOTS.get(kind, ()) if c in cols]
    if "date" in slot and new.height:
        conflict = new.join(old.select(slot).unique(), on=slot, how="semi")
        new = new.join(conflict.select("_rec").unique(), on="_rec", how="anti")
    return new, present, conflict, cols


def write_csv(tmp: Path, frame: pl.DataFrame) -> None:
    """Write a CSV the way the canonical files are written, to ``tmp`` (a transaction's
    temporary file, put in place at its commit)."""
    frame.write_csv(tmp, quote_style="necessary", line_terminator="\n")


def _no_empty_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Empty text as missing (written alike: an empty field rather than ``""``)."""
    has_empty = frame.select((pl.col(c) == "").any() for c in frame.columns).row(0)
    empty = [c for c, e in zip(frame.columns, has_empty, strict=True) if e]
    return frame.with_columns(pl.col(c).replace("", None) for c in empty) if empty else frame


def write_rows(tmp: Path, existing: pl.DataFrame, new: pl.DataFrame, cols: list[str]) -> int:
    """Write the canonical file's rows and ``new`` after them to ``tmp``; returns the first new
    row number."""
    if existing.width == 0:  # no file yet
        write_csv(tmp, _no_empty_text(new.select(cols)))
        return 1
    old = align(existing, cols).select(cols)
    both = pl.concat([old, new.select(cols)], how="vertical")
    write_csv(tmp, _no_empty_text(both))
    return old.height + 1


def write_provenance(tmp: Path, path: Path, rows: pl.DataFrame) -> None:
    """Write the app's provenance file ``path`` with ``rows`` (``PROVENANCE_COLUMNS``) appended,
    to ``tmp``."""
    old = read_text_table(path)
    new = rows.select([pl.col(c).cast(pl.String) for c in PROVENANCE_COLUMNS])
    both = (
        pl.concat([align(old, list(PROVENANCE_COLUMNS)).select(PROVENANCE_COLUMNS), new])
        if old.height
        else new
    )
    write_csv(tmp, both)
