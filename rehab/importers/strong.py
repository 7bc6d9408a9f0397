"""Strong (strong.app) workout exports: every layout listed in docs/FORMATS.md.

Layouts (header verbatim; detected from the header):

- ``S0`` (2015-17): ``Date,Workout Name,Exercise Name,Set Order,kg,Reps,km,Seconds,Notes``; the
  weight and distance units are the header's names; Set Order is 0-based.
- ``S1`` (2018-19): ``;``-separated with a per-row ``Weight Unit`` (kg/lbs) and ``Distance Unit``;
  ``S1b`` adds ``Workout Duration``.
- ``S2a`` (2019): ``Date,Workout Name,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,Notes,
  Workout Notes,RPE``.
- ``S2`` (2020-, iOS): ``S2a`` plus a free-text ``Duration`` (``1h 6m``, ``38min``, ``55s``);
  ``S2-short`` lacks the notes columns; ``S2-de`` and ``S2-fr`` are its German and French headers,
  ``S2-de-short`` and ``S2-fr-short`` those without the notes columns.
  **No weight unit**: it is the user's display unit, from ``--units`` or ``[units] weight`` in
  rehab.toml (an error says so when a weight needs it).
- ``S3`` (2021-, Android): ``;``-separated, every field quoted, ``Workout #``, ``Duration (sec)``,
  ``Weight (kg)`` (always kg, with float noise), ``Distance (meters)``.

Set Order holds a number or a marker: ``W``/``WARM_UP`` (warm-up), ``F``/``FAILURE`` (failure),
``D`` (drop set), ``Rest Timer``/``Ruhezeit`` (a rest, skipped) and ``Note`` (an exercise note
row: skipped, its text joins the exercise's note). The set number itself comes from row order.
"""

from __future__ import annotations

import polars as pl

from rehab.importers.common import (
    MAX_WORKOUT_MIN,
    Checks,
    ImportFormatError,
    Options,
    Parsed,
    Source,
    add_numbers,
    bad_rows_problems,
    codes,
    in_background,
    iso_stamp,
    map_unique,
    norm_header,
    number,
    parse_duration_min,
    parse_stamp,
    per_value,
    read_rows,
    text,
    to_kg,
)
from rehab.importers.sets import finish

APP = "strong"

LAYOUTS: dict[str, str] = {
    "S0": "Date,Workout Name,Exercise Name,Set Order,kg,Reps,km,Seconds,Notes",
    "S1": "Date;Workout Name;Exercise Name;Set Order;Weight;Weight Unit;Reps;RPE;Distance;"
    "Distance Unit;Seconds;Notes;Workout Notes",
    "S1b": "Date;Workout Name;Exercise Name;Set Order;Weight;Weight Unit;Reps;RPE;Distance;"
    "Distance Unit;Seconds;Notes;Workout Notes;Workout Duration",
    "S2a": "Date,Workout Name,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,Notes,"
    "Workout Notes,RPE",
    "S2": "Date,Workout Name,Duration,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,Notes,"
    "Workout Notes,RPE",
    "S2-short": "Date,Workout Name,Duration,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,RPE",
    "S2-de": "Datum,Workout-Name,Dauer,Name der Übung,Reihenfolge festlegen,Gewicht,Wiederh.,"
    "Entfernung,Sekunden,Notizen,Workout-Notizen,RPE",
    "S2-fr": "Date,Nom de l'entraînement,Durée,Nom de l'exercice,Ordre de la série,Poids,Réps,"
    "Distance,Secondes,Notes,Notes d'entraînement,RPE",
    # the localised exports lost their notes columns too (a French one seen, 2026-04); the German
    # short header is the English/French pattern applied to S2-de, not yet seen in a real file
    "S2-fr-short": "Date,Nom de l'entraînement,Durée,Nom de l'exercice,Ordre de la série,Poids,"
    "Réps,Distance,Secondes,RPE",
    "S2-de-short": "Datum,Workout-Name,Dauer,Name der Übung,Reihenfolge festlegen,Gewicht,Wiederh.,"
    "Entfernung,Sekunden,RPE",
    "S3": '"Workout #";"Date";"Workout Name";"Duration (sec)";"Exercise Name";"Set Order";'
    '"Weight (kg)";"Reps";"RPE";"Distance (meters)";"Seconds";"Notes";"Workout Notes"',
}

# header name (normalised) → field
FIELDS = {
    "date": "date", "datum": "date",
    "workout #": "workout_no",
    "workout name": "workout", "workout-name": "workout", "nom de l'entraînement": "workout",
    "duration": "duration", "dauer": "duration", "durée": "duration", "workout duration": "duration",
    "duration (sec)": "duration_s",
    "exercise name": "exercise", "name der übung": "exercise", "nom de l'exercice": "exercise",
    "set order": "set_order", "reihenfolge festlegen": "set_order", "ordre de la série": "set_order",
    "weight": "weight", "gewicht": "weight", "poids": "weight", "weight (kg)": "weight",
    "kg": "weight", "lbs": "weight", "lb": "weight",
    "weight unit": "weight_unit",
    "reps": "reps", "wiederh.": "reps", "réps": "reps",
    "rpe": "rpe",
    "distance": "distance", "entfernung": "distance", "km": "distance", "mi": "distance",
    "distance (meters)": "distance",
    "distance unit": "distance_unit",
    "seconds": "seconds", "sekunden": "seconds", "secondes": "seconds",
    "notes": "notes", "notizen": "notes",
    "workout notes": "workout_notes", "workout-notizen": "workout_notes",
    "notes d'entraînement": "workout_notes",
}  # fmt: skip

MARKERS = {
    "w": "warmup", "warm_up": "warmup", "warmup": "warmup", "warm up": "warmup",
    "f": "failure", "failure": "failure",
    "d": "drop", "drop": "drop", "dropset": "drop", "drop_set": "drop",
}  # fmt: skip
REST_MARKERS = ("rest timer", "rest_timer", "ruhezeit", "minuteur de repos")
NOTE_MARKERS = ("note", "notiz")
MARKER_HELP = "a set number or W, F, D, WARM_UP, FAILURE, Rest Timer, Note"


def _signature(layout: str) -> list[str]:
    sep = ";" if layout.startswith(("S1", "S3")) else ","
    return norm_header(LAYOUTS[layout].split(sep))


def detect(cells: list[str], delim: str) -> str | None:
    """The layout whose header this is, or None."""
    names = norm_header(cells)
    for layout in LAYOUTS:
        if names == _signature(layout):
            return layout
    return None


def is_body_measurements(cells: list[str]) -> bool:
    """Strong's separate body-measurement export (``"Date";"Weight (kg)"``)."""
    names = norm_header(cells)
    return len(names) == 2 and names[0] == "date" and names[1] != "workout name"


def parse(
    text_: str,
    layout: str,
    delim: str,
    cells: list[str],
    opts: Options,
    name: str,
    raw: Source | None = None,
) -> Parsed:
    fields = [FIELDS[c] for c in norm_header(cells)]
    rows = read_rows(text_, delim, fields, raw=raw)
    frame = rows.frame
    warnings: list[str] = []
    header_unit = norm_header(cells)[fields.index("weight")]
    unit = _weight_unit(layout, header_unit, frame, opts, name)
    sets = _set_frame(frame, layout, unit, norm_header(cells), warnings)
    tables, problems, skipped = finish(sets, opts)
    problems = pl.concat([bad_rows_problems(rows), problems])
    return Parsed(APP, layout, rows.records, tables, problems, skipped, warnings=warnings)


def _weight_unit(layout, header_unit, frame, opts, name) -> str | None:
    """The weight unit of the whole file, or None when each row names its own (S1)."""
    if layout == "S0":
        unit = header_unit if header_unit in ("kg", "lbs", "lb") else "kg"
    elif layout.startswith("S1"):
        unit = None  # per row
    elif layout == "S3":
        unit = "kg"
    else:
        unit = opts.units
        if unit is None:
            w, _ = number("weight")
            if frame.select((w.fill_null(0) != 0).any()).item():
                raise ImportFormatError(
                    f"{name}: this Strong export (layout {layout}, comma-separated) carries no weight "
                    "unit: it is the unit the app displayed. Pass --units kg or --units lb, or set it "
                    'once in rehab.toml:\n\n[units]\nweight = "kg"   # or "lb"'
                )
            unit = "kg"  # every weight is 0 or empty: the unit does not matter
    return unit


def _set_frame(frame: pl.DataFrame, layout: str, unit, names: list[str], warnings) -> pl.DataFrame:
    cols = set(frame.columns)
    nums = [f for f in ("weight", "reps", "seconds", "distance", "rpe", "duration_s") if f in cols]
    # stage 1: every parsed value once, as a column (expressions below refer to these columns);
    # dates, markers and durations once per distinct value (they repeat on every row of a
    # workout): their codes in threads while the numbers are parsed (polars work releases the
    # GIL); the values themselves after that, with nothing else running (Python parsers)
    repeated = [c for c in ("date", "set_order", "duration") if c in cols]
    coded = {c: in_background(codes, frame.get_column(c)) for c in repeated}
    frame = add_numbers(frame.with_columns(text("exercise").alias("exercise")), nums)
    coded = {c: job.result() for c, job in coded.items()}
    marker = text("set_order").str.to_lowercase()
    kind = (
        pl.when(marker.str.contains(r"^\d+(\.0)?$"))
        .then(pl.lit("normal"))
        .otherwise(marker.replace_strict(MARKERS, default=None, return_dtype=pl.String))
    )
    is_rest = marker.is_in(REST_MARKERS)
    is_note = marker.is_in(NOTE_MARKERS)
    dur = map_unique(text("duration"), parse_duration_min, pl.Float64)
    per = {
        "date": {"_dt": map_unique(text("date"), parse_stamp, pl.String, fast=iso_stamp)},
        "set_order": {
            "_set_type": kind.fill_null("normal"),
            "_bad_marker": kind.is_null() & ~is_rest & ~is_note,
            "_skip": pl.when(is_rest).then(pl.lit("rest timer: not a set"))
            .when(is_note).then(pl.lit("note row: its text joins the exercise note")),
        },
        "duration": {"_dur": dur, "_dur_bad": text("duration").is_not_null() & dur.is_null()},
    }  # fmt: skip
    frame = frame.with_columns(
        column
        for c in repeated
        for column in per_value(frame.get_column(c), per[c], coded[c]).values()
    )

    num = {f: pl.col(f"_n_{f}") if f in nums else pl.lit(None, dtype=pl.Float64)
           for f in ("weight", "reps", "seconds", "distance", "rpe")}  # fmt: skip
    chk = Checks()
    chk.add(
        "Date",
        pl.col("_dt").is_null(),
        pl.col("date"),
        "not a date and time as Strong writes it (YYYY-MM-DD HH:MM:SS)",
    )
    chk.add("Exercise Name", pl.col("exercise").is_null(), pl.lit(""), "no exercise name")
    chk.add("Set Order", pl.col("_bad_marker"), pl.col("set_order"), f"not {MARKER_HELP}")
    labels = {"weight": "Weight", "reps": "Reps", "seconds": "Seconds", "distance": "Distance",
              "rpe": "RPE", "duration_s": "Duration (sec)"}  # fmt: skip
    for f in nums:
        chk.add(labels[f], pl.col(f"_b_{f}"), pl.col(f), "not a number")
    if unit is None:  # S1: unit per row
        load = to_kg(num["weight"], text("weight_unit").fill_null(""))
        chk.add(
            "Weight Unit",
            (num["weight"].fill_null(0) != 0) & load.is_null(),
            pl.col("weight_unit"),
            "not a weight unit (kg or lbs)",
        )
    else:
        load = to_kg(num["weight"], unit)
    if layout == "S0":
        du = next((n for n in names if n in ("km", "mi")), None)
        dist_unit = pl.lit(du, dtype=pl.String)
    elif "distance_unit" in cols:
        dist_unit = text("distance_unit")
    else:
        dist_unit = pl.lit("m" if layout == "S3" else None, dtype=pl.String)

    n_bad = pl.lit(0)
    if "duration_s" in cols:
        duration = pl.col("_n_duration_s") / 60
    elif "duration" in cols:
        duration = pl.col("_dur")
        n_bad = pl.col("_dur_bad").sum()
    else:
        duration = pl.lit(None, dtype=pl.Float64)
    too_long = duration > MAX_WORKOUT_MIN
    n_bad, n_long = frame.select(n_bad.alias("b"), too_long.fill_null(False).sum().alias("l")).row(
        0
    )
    if n_bad:
        warnings.append(
            f"{n_bad} row(s) with a workout duration that is not understood "
            "(expected e.g. 1h 6m, 38min, 55s): left empty"
        )
    if n_long:
        warnings.append(
            f"{n_long} row(s) of workouts lasting over {MAX_WORKOUT_MIN // 60} h "
            "(a timer left running?): duration left empty"
        )

    wkey = pl.col("workout_no") if "workout_no" in cols else pl.col("date")
    none = pl.lit(None, dtype=pl.String)
    frame = chk.apply(frame)
    return frame.select(
        pl.col("_source").alias("_rec"),
        "_source",
        pl.col("_source").alias("_order"),
        "_pcol",
        "_pval",
        "_problem",
        "_skip",
        wkey.alias("wkey"),
        pl.col("_dt").alias("wstart"),
        pl.col("_dt").str.slice(0, 10).alias("date"),
        pl.col("_dt").str.slice(11, 5).alias("time"),
        "exercise",
        pl.col("_set_type").alias("set_type"),
        num["reps"].alias("reps"),
        num["seconds"].alias("seconds"),
        load.alias("load_kg"),
        num["distance"].alias("distance"),
        dist_unit.alias("distance_unit"),
        num["rpe"].alias("rpe"),
        pl.when(too_long).then(None).otherwise(duration).alias("duration_min"),
        (text("workout_notes") if "workout_notes" in cols else none).alias("wnote"),
        (text("notes") if "notes" in cols else none).alias("xnote"),
        none.alias("snote"),
    )  # fmt: skip


__all__ = ["APP", "LAYOUTS", "detect", "is_body_measurements", "parse"]
