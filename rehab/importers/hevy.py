"""Hevy workout exports (one row per set, newest workout first).

Layouts: ``metric`` (``weight_kg``, ``distance_km``) and ``imperial`` (``weight_lbs``,
``distance_miles``). Times (``start_time``, ``end_time``) come as ``15 Sep 2025, 07:48``,
``24 Jul 2024, 7:07``, ``Jun 11, 2026, 1:01 PM``, localised month names (``25 Juli 2026, 14:21``,
``18 sept. 2026, 17:31``) or ISO ``2024-07-29 17:01:32``; all are read (see
:func:`rehab.importers.common.parse_datetime`). ``set_type``: normal, warmup, failure, dropset.
The session duration is end − start. The workout description and the exercise notes (repeated on
every row) become notes of the first set of the workout and of the exercise.
"""

from __future__ import annotations

import polars as pl

from rehab.importers.common import (
    MAX_WORKOUT_MIN,
    Checks,
    Options,
    Parsed,
    Source,
    add_numbers,
    bad_rows_problems,
    map_unique,
    match_layout,
    norm_header,
    parse_stamp,
    read_rows,
    text,
    to_kg,
)
from rehab.importers.sets import finish

APP = "hevy"
_BASE = (
    '"title","start_time","end_time","description","exercise_title","superset_id",'
    '"exercise_notes","set_index","set_type","{w}","reps","{d}","duration_seconds","rpe"'
)
LAYOUTS = {
    "metric": _BASE.format(w="weight_kg", d="distance_km"),
    "imperial": _BASE.format(w="weight_lbs", d="distance_miles"),
}
SET_TYPES = {"normal": "normal", "warmup": "warmup", "failure": "failure", "dropset": "drop"}


def detect(cells: list[str], delim: str) -> str | None:
    return match_layout(cells, LAYOUTS)


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
    rows = read_rows(text_, delim, names, raw=raw)
    frame = rows.frame
    unit, dunit = ("kg", "km") if layout == "metric" else ("lb", "mi")
    wcol, dcol = (
        ("weight_kg", "distance_km") if layout == "metric" else ("weight_lbs", "distance_miles")
    )
    nums = [wcol, "reps", dcol, "duration_seconds", "rpe"]
    frame = add_numbers(
        frame.with_columns(
            map_unique(text("start_time"), parse_stamp, pl.String).alias("_start"),
            map_unique(text("end_time"), parse_stamp, pl.String).alias("_end"),
            text("set_type").str.to_lowercase().alias("_st"),
        ),
        nums,
    )
    chk = Checks()
    chk.add(
        "start_time",
        pl.col("_start").is_null(),
        pl.col("start_time"),
        "not a date and time Hevy writes (e.g. 15 Sep 2025, 07:48)",
    )
    chk.add("exercise_title", text("exercise_title").is_null(), pl.lit(""), "no exercise name")
    st = pl.col("_st")
    chk.add(
        "set_type",
        st.is_not_null() & ~st.is_in(list(SET_TYPES)),
        pl.col("set_type"),
        "not a Hevy set type (normal, warmup, failure, dropset)",
    )
    vals = {}
    for col in nums:
        chk.add(col, pl.col(f"_b_{col}"), pl.col(col), "not a number")
        vals[col] = pl.col(f"_n_{col}")
    t0 = pl.col("_start").str.to_datetime("%Y-%m-%d %H:%M", strict=False)
    t1 = pl.col("_end").str.to_datetime("%Y-%m-%d %H:%M", strict=False)
    minutes = (t1 - t0).dt.total_minutes().cast(pl.Float64)
    out = chk.apply(frame).with_columns(
        pl.col("_source").alias("_rec"),
        pl.col("_source").alias("_order"),
        pl.lit(None, dtype=pl.String).alias("_skip"),
        text("exercise_title").alias("exercise"),
        st.replace_strict(SET_TYPES, default="normal").alias("set_type"),
        vals["reps"].alias("reps"),
        vals["duration_seconds"].alias("seconds"),
        to_kg(vals[wcol], unit).alias("load_kg"),
        vals[dcol].alias("distance"),
        pl.lit(dunit).alias("distance_unit"),
        vals["rpe"].alias("rpe"),
        text("description").alias("wnote"),
        text("exercise_notes").alias("xnote"),
        pl.lit(None, dtype=pl.String).alias("snote"),
    )
    out = out.with_columns(
        (pl.col("_start") + pl.lit(" ") + text("title").fill_null("")).alias("wkey"),
        pl.col("_start").alias("wstart"),
        pl.col("_start").str.slice(0, 10).alias("date"),
        pl.col("_start").str.slice(11, 5).alias("time"),
        pl.when((minutes >= 0) & (minutes <= MAX_WORKOUT_MIN)).then(minutes).alias("duration_min"),
    )
    # as for Strong: say so when a workout's length is dropped (end before start, or a timer
    # left running), rather than leaving it empty silently
    n_odd = out.select(
        ((minutes < 0) | (minutes > MAX_WORKOUT_MIN)).fill_null(False).sum()
    ).item()
    warnings = []
    if n_odd:
        warnings.append(
            f"{name}: {n_odd} row(s) of workouts ending before they start or lasting over "
            f"{MAX_WORKOUT_MIN // 60} h: duration left empty"
        )
    tables, problems, skipped = finish(out, opts)
    problems = pl.concat([bad_rows_problems(rows), problems])
    return Parsed(APP, layout, rows.records, tables, problems, skipped, warnings=warnings)
