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

import numpy as np
import polars as pl

from rehab.exercises import alias_table, normalise, words_key
from rehab.importers.common import (
    PROBLEM_SCHEMA,
    SKIP_SCHEMA,
    Options,
    codes,
    fmt_number,
    fold,
    in_background,
    slug,
)
from rehab.importers.store import align, columns_for

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


def test_mapping(name: str, opts: Options) -> str | None:
    """The test id ``[tests]`` gives an exercise name: written alike, or with the same words
    (order, case, plural and equipment aside: see :func:`rehab.exercises.words_key`)."""
    if not opts.test_exercises:
        return None
    exact = {normalise(k): v for k, v in opts.test_exercises.items()}
    hit = exact.get(normalise(name))
    if hit is not None:
        return hit
    by_words = {words_key(k): v for k, v in opts.test_exercises.items()}
    return by_words.get(words_key(name)) if words_key(name) else None


def _names(names: list[str], opts: Options) -> pl.DataFrame:
    """One row per distinct exercise name: canonical id, user test id, side, slug, assisted."""
    table = alias_table(opts.aliases)
    rows = [
        (n, table.get(normalise(n)), test_mapping(n, opts), side_of(n), slug(n),
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
    """(tables, problems, skipped) from a set frame; see the module docstring.

    A large export has tens of thousands of sets: sets are numbered by small integer codes of
    their date and exercise (see :func:`rehab.importers.common.codes`) rather than by grouping
    their text, and notes, which few rows carry, are matched on those rows only."""
    if frame.get_column("_problem").null_count() == frame.height:  # the common case: no problem
        problems = pl.DataFrame(schema=PROBLEM_SCHEMA)
        ok = frame
    else:
        problems = problems_of(frame)
        ok = frame.filter(pl.col("_problem").is_null())
    # notes per workout and per exercise block, gathered before note and rest rows are dropped
    # (polars work in threads, as below: independent steps run side by side)
    wnotes = in_background(_notes, ok, "wnote", ["wkey"])
    xnotes = in_background(_notes, ok, "xnote", ["wkey", "exercise"])
    zero = lambda c: pl.col(c).is_null() | (pl.col(c) == 0)  # noqa: E731
    no_value = zero("reps") & zero("seconds") & zero("distance")
    skip = ok.select(pl.col("_skip").is_not_null() | no_value).to_series()
    skipped = in_background(
        lambda: ok.filter(skip)
        .select("_rec", pl.coalesce("_skip", pl.lit("no reps, time or distance: not a set"))
                .alias("reason"))
        .cast(SKIP_SCHEMA)
    )  # fmt: skip
    keep = ["_rec", "_source", "_order", "wkey", "wstart", "date", "time", "exercise", "set_type",
            "reps", "seconds", "load_kg", "distance", "distance_unit", "rpe", "duration_min",
            "snote"]  # fmt: skip
    sets = ok.select(keep).filter(~skip)
    if not _in_order(sets):
        sets = sets.sort(["wstart", "_order"], nulls_last=True)
    by_name = in_background(codes, sets.get_column("exercise"))
    day = _date_code(sets.get_column("date")).cast(pl.UInt64)
    x, exercises = by_name.result()
    names = _names(exercises.to_list(), opts)
    names = pl.concat([names, names.clear(1)])  # the last code: a missing name
    names = names.with_columns(
        (
            pl.col("_user_test").is_not_null()
            | (pl.col("_canon") == "sorensen_hold")
            | pl.col("_test_name")
        ).alias("_marked_name")
    )
    side, assist, marked_name = (
        names.get_column(c) for c in ("side", "_assist_name", "_marked_name")
    )
    sets = sets.with_columns(
        # per exercise name, gathered by its code; a value no name has is a constant
        (side.gather(x) if side.null_count() < side.len() else pl.lit(None, dtype=pl.String)).alias(
            "side"
        ),
        (assist.gather(x).fill_null(False) if assist.any() else pl.lit(False)).alias(
            "_assist_name"
        ),
        (marked_name.gather(x).fill_null(False) if marked_name.any() else pl.lit(False)).alias(
            "_marked_name"
        ),
        _number_in_group(day * (exercises.len() + 1) + x).alias("set"),
        x.alias("_x"),
    )
    # the workout note goes on the workout's first set, the exercise note on the block's first
    wnote = in_background(_firsts, sets, wnotes.result(), ["wkey"])
    xnote, xtest = _firsts(sets, xnotes.result(), ["wkey", "exercise"])
    wnote, _ = wnote.result()
    sets = sets.with_columns(
        wnote.alias("_wnote"),
        xnote.alias("_xnote"),
        xtest.alias("_xtest"),  # an exercise note marks every set of its block
    )
    sets = sets.with_columns(
        (zero("reps") & (pl.col("seconds") > 0) & zero("distance")).alias("_hold"),
        (pl.col("_assist_name") & (pl.col("load_kg") > 0)).alias("_assisted"),
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
    # a piece no row needs is left out (each is computed for every row when present)
    needed = sets.select(
        pl.col("_wnote").is_not_null().any().alias("0"),
        pl.col("_xnote").is_not_null().any().alias("1"),
        pl.col("snote").is_not_null().any().alias("2"),
        (~pl.col("_hold") & (pl.col("seconds") > 0)).any().alias("3"),
        (pl.col("distance") > 0).any().alias("4"),
        pl.col("_assisted").any().alias("5"),
    ).row(0)
    extras = [e for e, n in zip(extras, needed, strict=True) if n]
    skipped = skipped.result()  # no polars work in threads from here on (see in_background)
    marked = (
        pl.col("_marked_name")
        | pl.col("_xtest")  # an exercise note marks every set of its block
        | pl.col("snote").str.contains(_TEST_WORD).fill_null(False)
    )
    value = pl.when(pl.col("_hold")).then(pl.col("seconds")).otherwise(pl.col("reps"))
    notes_expr = (
        pl.concat_str(extras, separator=" | ", ignore_nulls=True)
        if extras
        else pl.lit(None, dtype=pl.String)
    )
    sets = sets.with_columns(
        notes_expr.alias("notes"),
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
    t = t.with_columns(
        names.get_column(c).gather(t.get_column("_x")) for c in ("_canon", "_slug", "_user_test")
    )
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


def _notes(frame: pl.DataFrame, col: str, keys: list[str]) -> pl.DataFrame:
    """Per group, its distinct non-empty texts joined (apps repeat notes on every row)."""
    return (
        frame.filter(pl.col(col).is_not_null())
        .group_by(keys, maintain_order=True)
        .agg(pl.col(col).unique(maintain_order=True).str.join(" | ").alias("_note"))
    )


def _firsts(
    sets: pl.DataFrame, notes: pl.DataFrame, keys: list[str]
) -> tuple[pl.Series, pl.Series]:
    """(note, test): each group's note on its first row (else null), and whether the group's
    note holds the word "test", on every row. Groups are matched on the rows of groups with a
    note only (a missing key matches none)."""
    n = sets.height
    if notes.height == 0:
        return pl.repeat(None, n, dtype=pl.String, eager=True), pl.repeat(False, n, eager=True)
    near = pl.col(keys[0]).is_in(notes.get_column(keys[0]).implode())  # a cheap first cut
    hits = (
        sets.select(keys)
        .with_row_index("_i")
        .filter(near)
        .join(notes, on=keys, how="inner", maintain_order="left")
        .with_columns(pl.struct(keys).is_first_distinct().alias("_first"))
    )
    first = hits.filter("_first")
    note = pl.repeat(None, n, dtype=pl.String, eager=True)
    note = note.scatter(first.get_column("_i"), first.get_column("_note"))
    test = hits.filter(pl.col("_note").str.contains(_TEST_WORD)).get_column("_i")
    flag = np.zeros(n, dtype=bool)
    flag[test.to_numpy()] = True
    return note, pl.Series(flag)


def _date_code(date: pl.Series) -> pl.Series:
    """A code per date: sets in start order have their dates in order, so the rows of a date are
    together and their run is the code; else :func:`codes`."""
    d = pl.col("date")
    if (
        date.null_count() == 0
        and date.to_frame("date").select((d >= d.shift(1)).slice(1).all()).item()
    ):
        return date.rle_id()
    return codes(date)[0]


def _in_order(sets: pl.DataFrame) -> bool:
    """True when the rows are already sorted by workout start, then file order (no start missing):
    exports usually are, and a check is far cheaper than a sort."""
    w, o = pl.col("wstart"), pl.col("_order")
    step = (w > w.shift(1)) | ((w == w.shift(1)) & (o >= o.shift(1)))
    return sets.select((w.null_count() == 0) & (o.null_count() == 0) & step.slice(1).all()).item()


def _number_in_group(key: pl.Series) -> pl.Series:
    """1-based position of each row among the rows with the same key, in row order.

    A stable sort by key puts each group's rows together in row order; positions are counted
    from each group's first row, then put back (far cheaper than a window over many groups)."""
    k = key.to_numpy()
    n = len(k)
    order = np.argsort(k, kind="stable")
    ks = k[order]
    first = np.ones(n, dtype=bool)
    first[1:] = ks[1:] != ks[:-1]
    idx = np.arange(n, dtype=np.int64)
    start = np.maximum.accumulate(np.where(first, idx, 0)) if n else idx
    out = np.empty(n, dtype=np.int64)
    out[order] = idx - start + 1
    return pl.Series("set", out)


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


# Values an import derives from the user's mapping rather than reads from the export: a set's
# test marking (``[tests]``) and a test's id (``[tests]``, ``[aliases]``)
DERIVED = {"sessions": "set_type", "tests": "test"}


def remap_existing(candidates: pl.DataFrame, existing: pl.DataFrame, kind: str):
    """(existing rows with their derived value re-mapped, how many changed).

    A stored row whose every other column equals a row of this export takes that row's derived
    value (:data:`DERIVED`): a ``[tests]`` or ``[aliases]`` mapping added or changed since the
    first import updates the stored row in place (same row number, same provenance) instead of
    making the new row a conflicting duplicate. Sessions: only a change into or out of ``test``
    (a set made a warm-up in the app is an edit of the record, still a conflict)."""
    col = DERIVED.get(kind)
    if col is None or existing.height == 0 or candidates.height == 0:
        return existing, 0
    cols = columns_for(kind, candidates, existing)
    if col not in cols or col not in existing.columns:
        return existing, 0
    keys = [c for c in cols if c != col]
    new_col = f"_{col}_new"
    cand = align(candidates, cols).select(*keys, pl.col(col).alias(new_col)).unique()
    old = align(existing, cols).select(*keys, col).with_row_index("_i")
    pairs = old.join(cand, on=keys, how="inner").filter(pl.col(col) != pl.col(new_col))
    if kind == "sessions":
        pairs = pairs.filter((pl.col(col) == "test") | (pl.col(new_col) == "test"))
    # a stored row matched by two different values (never seen: an export with two equal sets
    # given two test ids) is left as it is: the conflict check then reports it
    pairs = pairs.filter(pl.len().over("_i") == 1)
    if pairs.height == 0:
        return existing, 0
    values = existing.get_column(col).cast(pl.String).scatter(
        pairs.get_column("_i"), pairs.get_column(new_col)
    )
    return existing.with_columns(values.alias(col)), pairs.height


def unmapped_names(names: list[str], opts: Options) -> dict[str, tuple[str, ...]]:
    """Exercise names that map to no id and are not under ``[tests]``, each with the closest
    ids (:func:`rehab.exercises.suggest`), for the user to map under ``[aliases]``."""
    table = alias_table(opts.aliases)
    out: dict[str, tuple[str, ...]] = {}
    for n in names:
        if test_mapping(n, opts) is not None:
            continue
        m = table.match(n)
        if m.id is None:
            out[n] = m.suggestions
    return out
