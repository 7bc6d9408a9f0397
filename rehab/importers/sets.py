"""Workout-app sets → canonical sessions and tests (shared by Strong, Hevy, FitNotes and JEFIT).

An app module builds a *set frame*, one row per record of the export, typed:

``_rec, _source, _order`` (file order), ``_pcol, _pval, _problem`` (an app-level problem or
null), ``_skip`` (why the row is not a set: rest timer, note row; or null), ``wkey`` (the
workout), ``wstart`` (sortable start, ``YYYY-MM-DD HH:MM``), ``date`` (ISO), ``time`` (HH:MM),
``exercise`` (as written), ``set_type`` (normal, warmup, failure, drop), ``reps``, ``seconds``,
``load_kg``, ``distance``, ``distance_unit``, ``rpe``, ``duration_min``, ``wnote`` (workout note),
``xnote`` (exercise note), ``snote`` (set note).

:func:`finish` then applies the rules every app shares:

- a row with no reps, time or distance carries no set: skipped;
- the set number is the row's order within the exercise that day (warm-ups included), after
  sorting workouts by start: the apps' own set columns are not unique (Strong's ``F``/``D``
  markers replace numbers, warm-ups do not consume one);
- a timed hold (no reps, seconds > 0, any weight) becomes ``hold_s``; time on a set with reps, and
  distance, go to ``notes`` (the sessions table has no column for them);
- the workout note goes on the workout's first set, the exercise note on the exercise's first set
  in that workout (apps repeat them on every row or put them on a separate row);
- a set becomes a *test* (``set_type = test`` in sessions plus a row in tests) when the exercise
  is mapped under ``[tests]`` in rehab.toml, or is the Sorensen test, or its name, exercise note or
  set note holds the word "test"; warm-ups never are. The test id: the mapped one, else from the
  exercise (a back-extension hold → ``back_extension_hold``, reps → ``back_extension_reps``, a side
  plank hold on one side → ``side_bridge_left``/``_right``, a split-squat hold on one side →
  ``split_squat_hold_left``/``_right``), else ``<exercise>_hold`` or ``<exercise>_reps``. The
  test's notes start with ``<exercise>, set <n>``: they say which set it was, and keep two equal
  attempts on one day two records.
"""

from __future__ import annotations

import re

import polars as pl

from rehab.exercises import alias_table, normalise
from rehab.importers.common import (
    PROBLEM_SCHEMA,
    SKIP_SCHEMA,
    Options,
    fmt_number,
    fold,
    slug,
)

SESSION_OUT = (
    "participant", "date", "time", "exercise", "set", "side", "set_type", "reps", "hold_s",
    "load_kg", "rpe", "duration_min", "notes",
)  # fmt: skip
TEST_OUT = ("participant", "date", "test", "value", "notes")
_TEST_WORD = r"(?i)\btests?\b"
_SIDE = re.compile(r"\b(left|right|links|rechts|gauche|droite|izquierda|derecha)\b|\(([lr])\)")
_SIDES = {"links": "left", "gauche": "left", "izquierda": "left", "l": "left",
          "rechts": "right", "droite": "right", "derecha": "right", "r": "right"}  # fmt: skip


def side_of(name: str) -> str | None:
    """left/right when an exercise name says so (``Side plank (left)``, ``Split squat hold R``)."""
    m = _SIDE.search(fold(name))
    if not m:
        return None
    word = m[1] or m[2]
    return _SIDES.get(word, word)


def problems_of(frame: pl.DataFrame) -> pl.DataFrame:
    bad = frame.filter(pl.col("_problem").is_not_null())
    return bad.select(
        "_rec", "_source", pl.col("_pcol").alias("column"), pl.col("_pval").alias("value"),
        pl.col("_problem").alias("reason"),
    ).cast(PROBLEM_SCHEMA)  # fmt: skip


def _notes(frame: pl.DataFrame, col: str, keys: list[str]) -> pl.DataFrame:
    """Per group, its distinct non-empty texts joined (apps repeat notes on every row)."""
    return (
        frame.filter(pl.col(col).is_not_null())
        .group_by(keys, maintain_order=True)
        .agg(pl.col(col).unique(maintain_order=True).str.join(" | ").alias(f"_{col}"))
    )


def _names(names: list[str], opts: Options) -> pl.DataFrame:
    """One row per distinct exercise name: canonical id, user test id, side, slug, assisted."""
    table = alias_table(opts.aliases)
    tests_map = {normalise(k): v for k, v in opts.test_exercises.items()}
    rows = [
        (n, table.get(normalise(n)), tests_map.get(normalise(n)), side_of(n), slug(n),
         "assisted" in fold(n), bool(re.search(_TEST_WORD, n)))
        for n in names
    ]  # fmt: skip
    return pl.DataFrame(
        rows,
        schema={"exercise": pl.String, "_canon": pl.String, "_user_test": pl.String,
                "side": pl.String, "_slug": pl.String, "_assist_name": pl.Boolean,
                "_test_name": pl.Boolean},
        orient="row",
    )  # fmt: skip


def finish(
    frame: pl.DataFrame, opts: Options
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame, pl.DataFrame]:
    """(tables, problems, skipped) from a set frame; see the module docstring."""
    problems = problems_of(frame)
    ok = frame.filter(pl.col("_problem").is_null())
    # notes per workout and per exercise block, gathered before note and rest rows are dropped
    wnotes = _notes(ok, "wnote", ["wkey"])
    xnotes = _notes(ok, "xnote", ["wkey", "exercise"])
    zero = lambda c: pl.col(c).is_null() | (pl.col(c) == 0)  # noqa: E731
    no_value = zero("reps") & zero("seconds") & zero("distance")
    skip_reason = (
        pl.when(pl.col("_skip").is_not_null())
        .then(pl.col("_skip"))
        .when(no_value)
        .then(pl.lit("no reps, time or distance: not a set"))
    )
    ok = ok.with_columns(skip_reason.alias("_skip"))
    skipped = (
        ok.filter(pl.col("_skip").is_not_null())
        .select("_rec", pl.col("_skip").alias("reason"))
        .cast(SKIP_SCHEMA)
    )
    sets = ok.filter(pl.col("_skip").is_null()).sort(["wstart", "_order"], nulls_last=True)
    names = _names(sets["exercise"].unique().drop_nulls().to_list(), opts)
    sets = sets.join(names, on="exercise", how="left", maintain_order="left")
    first_w = pl.col("wkey").is_first_distinct()
    first_x = pl.struct("wkey", "exercise").is_first_distinct()
    for notes, keys in ((wnotes, ["wkey"]), (xnotes, ["wkey", "exercise"])):
        if notes.height:
            sets = sets.join(notes, on=keys, how="left", maintain_order="left")
        else:
            sets = sets.with_columns(pl.lit(None, dtype=pl.String).alias(notes.columns[-1]))
    sets = sets.with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(["date", "exercise"]).alias("set"),
        (zero("reps") & (pl.col("seconds") > 0) & zero("distance")).alias("_hold"),
        (pl.col("_assist_name") & (pl.col("load_kg") > 0)).alias("_assisted"),
        pl.col("_xnote").str.contains(_TEST_WORD).fill_null(False).alias("_xtest"),
        pl.when(first_w).then(pl.col("_wnote")).alias("_wnote"),
        pl.when(first_x).then(pl.col("_xnote")).alias("_xnote"),
    )
    extras = [
        pl.col("_wnote"),
        pl.col("_xnote"),
        pl.col("snote"),
        pl.when(~pl.col("_hold") & (pl.col("seconds") > 0)).then(
            pl.lit("time ") + fmt_number(pl.col("seconds")) + pl.lit(" s")
        ),
        pl.when(pl.col("distance") > 0).then(
            pl.lit("distance ")
            + fmt_number(pl.col("distance"))
            + pl.when(pl.col("distance_unit").is_not_null())
            .then(pl.lit(" ") + pl.col("distance_unit"))
            .otherwise(pl.lit(""))
        ),
        pl.when(pl.col("_assisted")).then(
            pl.lit("assistance ") + fmt_number(pl.col("load_kg")) + pl.lit(" kg")
        ),
    ]
    marked = (
        pl.col("_user_test").is_not_null()
        | (pl.col("_canon") == "sorensen_hold")
        | pl.col("_test_name")
        | pl.col("_xtest")  # an exercise note marks every set of its block
        | pl.col("snote").str.contains(_TEST_WORD).fill_null(False)
    )
    value = pl.when(pl.col("_hold")).then(pl.col("seconds")).otherwise(pl.col("reps"))
    sets = sets.with_columns(
        pl.concat_str(extras, separator=" | ", ignore_nulls=True).alias("notes"),
        (marked & (pl.col("set_type") != "warmup") & value.is_not_null()).alias("_test"),
        value.alias("_value"),
    )
    sets = sets.with_columns(
        pl.when(pl.col("notes") == "").then(None).otherwise(pl.col("notes")).alias("notes"),
        pl.when(pl.col("_test"))
        .then(pl.lit("test"))
        .otherwise(pl.col("set_type"))
        .alias("set_type"),
        pl.when(pl.col("_hold") | (pl.col("reps") == 0))
        .then(None)
        .otherwise(pl.col("reps"))
        .alias("reps"),
        pl.when(pl.col("_hold")).then(pl.col("seconds")).alias("hold_s"),
        pl.when(pl.col("_assisted")).then(None).otherwise(pl.col("load_kg")).alias("load_kg"),
    )
    text = pl.String
    sessions = sets.select(
        pl.lit(opts.participant).alias("participant"),
        "date", "time", "exercise",
        pl.col("set").cast(text), "side", "set_type",
        fmt_number(pl.col("reps")).alias("reps"),
        fmt_number(pl.col("hold_s")).alias("hold_s"),
        fmt_number(pl.col("load_kg")).alias("load_kg"),
        fmt_number(pl.col("rpe")).alias("rpe"),
        fmt_number(pl.col("duration_min"), 2).alias("duration_min"),
        "notes", "_rec", "_source",
    )  # fmt: skip
    t = sets.filter(pl.col("_test"))
    tests = t.select(
        pl.lit(opts.participant).alias("participant"),
        "date",
        pl.coalesce(pl.col("_user_test"), _test_id()).alias("test"),
        fmt_number(pl.col("_value")).alias("value"),
        # which set it was: two equal attempts on a day stay two records
        pl.concat_str(
            [pl.col("exercise") + pl.lit(", set ") + pl.col("set").cast(pl.String), "notes"],
            separator=" | ", ignore_nulls=True,
        ).alias("notes"),
        "_rec", "_source",
    )  # fmt: skip
    return {"sessions": sessions, "tests": tests}, problems, skipped


def _test_id() -> pl.Expr:
    base = pl.coalesce(pl.col("_canon"), pl.col("_slug"))
    hold = pl.col("_hold")
    side = pl.col("side")
    kind = pl.when(hold).then(pl.lit("hold")).otherwise(pl.lit("reps"))
    generic = (
        pl.when(base.str.ends_with("_hold") & hold)
        .then(base)
        .otherwise(base.str.replace(r"_hold$", "") + pl.lit("_") + kind)
    )
    return (
        pl.when(base.is_in(["back_extension", "back_extension_hold"]))
        .then(pl.lit("back_extension_") + kind)
        .when((base == "side_plank") & hold & side.is_not_null())
        .then(pl.lit("side_bridge_") + side)
        .when(base.is_in(["split_squat", "split_squat_hold"]) & hold & side.is_not_null())
        .then(pl.lit("split_squat_hold_") + side)
        .otherwise(generic)
    )
