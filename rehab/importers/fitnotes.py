"""FitNotes workout exports (Android; one row per set, dates without times).

Layouts: ``old`` (``Weight (lbs)`` or ``Weight (kgs)`` in the header), ``new`` (``Weight`` plus a
per-row ``Weight Unit``: kgs/lbs), ``new-comment`` (plus a quoted ``Comment``), and ``ios``
(FitNotes 2, ``Weight (kg)`` and ``Weight (lbs)``; known from third-party code only, unverified).
``Time`` is ``H:MM:SS``. FitNotes does not quote names: an exercise name holding a comma splits
its record into too many fields; such a record is repaired by the column count (the extra fields
are the name's) and listed as repaired. The set number is the file order within the exercise
that day (FitNotes has no workout id or time).
"""

from __future__ import annotations

import re

import polars as pl

from rehab.importers.common import (
    Checks,
    Options,
    Parsed,
    Source,
    add_numbers,
    bad_rows_problems,
    map_unique,
    match_layout,
    norm_header,
    parse_datetime,
    read_rows,
    text,
    to_kg,
)
from rehab.importers.sets import finish

APP = "fitnotes"
_TAIL = "Reps,Distance,Distance Unit,Time"
LAYOUTS = {
    "old-lbs": f"Date,Exercise,Category,Weight (lbs),{_TAIL}",
    "old-kgs": f"Date,Exercise,Category,Weight (kgs),{_TAIL}",
    "new": f"Date,Exercise,Category,Weight,Weight Unit,{_TAIL}",
    "new-comment": f"Date,Exercise,Category,Weight,Weight Unit,{_TAIL},Comment",
    "ios": "Date,Exercise,Category,Weight (kg),Weight (lbs),Reps,Distance,Distance Unit,Time,"
    "Notes,Kind",
}
_HMS = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})(?:\.\d+)?$")


def detect(cells: list[str], delim: str) -> str | None:
    return match_layout(cells, LAYOUTS)


def _repair(row: list[str], ncol: int) -> list[str] | None:
    """Join the extra fields back into the exercise name (FitNotes does not quote it)."""
    extra = len(row) - ncol
    if extra <= 0 or not row:
        return None
    return [row[0], ",".join(row[1 : 2 + extra]), *row[2 + extra :]]


def seconds_of(value: str) -> float | None:
    m = _HMS.match(value.strip())
    if not m:
        return None
    return int(m[1] or 0) * 3600 + int(m[2]) * 60 + int(m[3])


def parse(
    text_: str,
    layout: str,
    delim: str,
    cells: list[str],
    opts: Options,
    name: str,
    raw: Source | None = None,
) -> Parsed:
    names = norm_header(cells)
    n = len(names)
    rows = read_rows(text_, delim, names, repair=lambda r: _repair(r, n), raw=raw)
    frame = rows.frame
    wcols = (
        ["weight (kg)", "weight (lbs)"]
        if layout == "ios"
        else ["weight" if layout.startswith("new") else names[3]]
    )
    # every parsed value once, as a column (the expressions below refer to these columns)
    frame = add_numbers(frame, [*wcols, "reps", "distance"]).with_columns(
        map_unique(text("date"), lambda v: (parse_datetime(v) or (None,))[0], pl.String).alias(
            "_date"
        ),
        map_unique(text("time"), seconds_of, pl.Float64).alias("_secs"),
    )

    def number(c: str) -> tuple[pl.Expr, pl.Expr]:  # :func:`common.number`, parsed above
        return pl.col(f"_n_{c}"), pl.col(f"_b_{c}")

    chk = Checks()
    date = pl.col("_date")
    chk.add("Date", date.is_null(), pl.col("date"), "not a date (FitNotes writes YYYY-MM-DD)")
    chk.add("Exercise", text("exercise").is_null(), pl.lit(""), "no exercise name")
    if layout == "ios":
        kg, bad_kg = number("weight (kg)")
        lb, bad_lb = number("weight (lbs)")
        chk.add("Weight (kg)", bad_kg, pl.col("weight (kg)"), "not a number")
        chk.add("Weight (lbs)", bad_lb, pl.col("weight (lbs)"), "not a number")
        load = pl.coalesce(kg, to_kg(lb, "lb"))
    else:
        wcol = wcols[0]
        w, bad_w = number(wcol)
        chk.add(cells[3], bad_w, pl.col(wcol), "not a number")
        if layout.startswith("new"):
            load = to_kg(w, text("weight unit").fill_null(""))
            chk.add(
                "Weight Unit",
                (w.fill_null(0) != 0) & load.is_null(),
                pl.col("weight unit"),
                "not a weight unit (kgs or lbs)",
            )
        else:
            load = to_kg(w, "lbs" if layout == "old-lbs" else "kgs")
    reps, bad_r = number("reps")
    chk.add("Reps", bad_r, pl.col("reps"), "not a number")
    dist, bad_d = number("distance")
    chk.add("Distance", bad_d, pl.col("distance"), "not a number")
    secs = pl.col("_secs")
    chk.add(
        "Time", text("time").is_not_null() & secs.is_null(), pl.col("time"), "not a time H:MM:SS"
    )
    dunit = text("distance unit")
    snote = (
        text("comment")
        if "comment" in names
        else (text("notes") if "notes" in names else pl.lit(None, dtype=pl.String))
    )
    kind = text("kind").str.to_lowercase() if "kind" in names else pl.lit(None, dtype=pl.String)
    out = chk.apply(frame).with_columns(
        pl.col("_source").alias("_rec"),
        pl.col("_source").alias("_order"),
        pl.lit(None, dtype=pl.String).alias("_skip"),
        date.alias("date"),
        date.alias("wkey"),
        date.alias("wstart"),
        pl.lit(None, dtype=pl.String).alias("time"),
        text("exercise").alias("exercise"),
        pl.when(kind.str.contains("warm"))
        .then(pl.lit("warmup"))
        .otherwise(pl.lit("normal"))
        .alias("set_type"),
        reps.alias("reps"),
        secs.alias("seconds"),
        load.alias("load_kg"),
        dist.alias("distance"),
        # zero-distance side-plank rows carry a weight unit as distance unit: not a distance
        pl.when(dunit.is_in(["kg", "kgs", "lbs"]))
        .then(None)
        .otherwise(dunit)
        .alias("distance_unit"),
        pl.lit(None, dtype=pl.Float64).alias("rpe"),
        pl.lit(None, dtype=pl.Float64).alias("duration_min"),
        pl.lit(None, dtype=pl.String).alias("wnote"),
        pl.lit(None, dtype=pl.String).alias("xnote"),
        snote.alias("snote"),
    )
    tables, problems, skipped = finish(out, opts)
    problems = pl.concat([bad_rows_problems(rows), problems])
    warnings = []
    if rows.repaired:
        shown = ", ".join(map(str, rows.repaired[:10])) + (" …" if len(rows.repaired) > 10 else "")
        warnings.append(
            f"{name}: {len(rows.repaired)} record(s) repaired (an exercise name with an unquoted "
            f"comma split the record; the extra fields were joined back into the name): {shown}"
        )
    return Parsed(
        APP,
        layout,
        rows.records,
        tables,
        problems,
        skipped,
        warnings=warnings,
        repaired=rows.repaired,
    )
