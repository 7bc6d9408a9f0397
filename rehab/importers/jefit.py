"""JEFIT exports: a multi-section text file, not a single CSV.

The file starts with a blank line; each section is a banner ``### NAME ###…``, a blank line, one
or more blank-line-separated tables (a header row, then data) and a closing line of ``#``.

Sets come from two sections, each set from exactly one:

- EXERCISE LOGS, one row per exercise on a day: ``mydate`` is the date, ``ename`` the exercise,
  ``logs`` packs the sets as ``weightxreps`` joined by commas (``"50.0x15,50.0x15"``; ``0x0`` =
  not done: skipped). Timed holds are not in this form.
- EXERCISE SET LOGS (newer exports), one row per set, linked to its exercise log by
  ``exercise_log_id`` (= that row's ``_id``): ``set_index``, ``weight_lbs``, ``reps``,
  ``duration`` (seconds), ``distance_mi``.

An exercise log with set rows takes its sets from them, in ``set_index`` order (then file order),
and its packed ``logs`` are not read (they repeat the same sets, holds left out); a log without set
rows is unpacked as above. Set numbers are then the kit's (:mod:`.sets`): the order of the sets
of an exercise on a day, not-done sets left out; so a set read from either form of one log gets
the same number, and an older export holding only packed logs and a newer one holding set rows
give the same canonical rows for the sets both hold (identity is content: :mod:`.store`). A set
row with no reps and ``duration`` > 0 is a timed hold (``hold_s``; a weight stays as its load);
all zero is a set not done (skipped, as ``0x0``); ``duration`` on a set with reps is not kept
(the packed form has no time: keeping it would make that set differ between exports);
``distance_mi`` > 0 goes to the notes (miles). ``set_type`` (only ``default`` seen) is not read.

Each set is one import record; its source record is the line of its set row (EXERCISE SET LOGS)
or of its log row (packed). Set rows whose ``exercise_log_id`` names no EXERCISE LOGS row are
quarantined (their date and exercise are unknown); so is a second log row with the ``_id`` of
a log with set rows (they belong to the first).

Units: packed weights are in SETTING's ``mass`` (`` lbs`` / `` kg``); without one, ``--units`` /
``[units] weight`` is used and, when neither is set and a weight needs it, the file is refused
with a message saying so. ``weight_lbs`` is read as pounds, as named, when the export is in
pounds (both readings agree). When it is in kg, the sets logged in both sections (same number of
sets, same reps) decide whether ``weight_lbs`` holds pounds or the kg the user entered; with no
such set, pounds, with a warning. The other sections (profile, routines, cardio, notes) are not
read; JEFIT's unix times carry no time zone.
"""

from __future__ import annotations

import csv
import io
import math
import re

import polars as pl

from rehab.importers.common import (
    LB_KG,
    PROBLEM_SCHEMA,
    SKIP_SCHEMA,
    WEIGHT_UNITS,
    ImportFormatError,
    Options,
    Parsed,
    Source,
    header_line,
    parse_datetime,
)
from rehab.importers.sets import finish

APP = "jefit"
LAYOUTS = {
    "sectioned": "### SETTING ####…, ### EXERCISE LOGS ####… with "
    "USERID,TIMESTAMP,belongSys,logs,_id,record,mydate,eid,ename,…"
}
_BANNER = re.compile(r"^###\s+(.+?)\s+#+\s*$")
_CLOSE = re.compile(r"^#{20,}\s*$")
_SET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[xX]\s*(\d+(?:\.\d+)?)\s*$")


def is_jefit(text: str) -> bool:
    return bool(_BANNER.match(header_line(text).strip()))


def detect(cells: list[str], delim: str) -> str | None:  # detection is by banner: is_jefit
    return None


def sections(text: str) -> dict[str, list[tuple[list[str], list[tuple[int, list[str]]]]]]:
    """Section name → tables; a table = (header, [(line number, fields), ...])."""
    out: dict[str, list] = {}
    lines = text.replace("\r\n", "\n").split("\n")
    current: list | None = None
    block: list[tuple[int, str]] = []
    in_quote = False

    def flush():
        nonlocal block
        if current is not None and block:
            current.append(_table(block))
        block = []

    for no, line in enumerate(lines, start=1):
        if not in_quote:
            m = _BANNER.match(line.strip())
            if m:
                flush()
                current = out.setdefault(m[1].strip().upper(), [])
                continue
            if _CLOSE.match(line.strip()):
                flush()
                current = None
                continue
            if not line.strip():
                flush()
                continue
        if current is not None:
            block.append((no, line))
        if line.count('"') % 2:
            in_quote = not in_quote
    flush()
    return out


def _table(block: list[tuple[int, str]]):
    starts: list[int] = []
    body = []
    quote = False
    for no, line in block:
        if not quote:
            starts.append(no)
        body.append(line)
        if line.count('"') % 2:
            quote = not quote
    rows = list(csv.reader(io.StringIO("\n".join(body), newline="")))
    header = [h.strip() for h in rows[0]] if rows else []
    return header, list(zip(starts[1:], rows[1:], strict=False))


def parse(
    text_: str,
    layout: str,
    delim: str,
    cells: list[str],
    opts: Options,
    name: str,
    raw: Source | None = None,  # not needed: the sections are split from the text
) -> Parsed:
    secs = sections(text_)
    logs = secs.get("EXERCISE LOGS")
    if not logs:
        raise ImportFormatError(
            f"{name}: a JEFIT export without an EXERCISE LOGS section: it holds no sets "
            f"(sections found: {', '.join(secs) or 'none'})"
        )
    unit = _mass_unit(secs) or opts.units
    header, rows = logs[0]
    low = [h.lower() for h in header]
    need = ("logs", "mydate", "ename")
    missing = [c for c in need if c not in low]
    if missing:
        raise ImportFormatError(
            f"{name}: EXERCISE LOGS lacks column(s) {', '.join(missing)}; "
            f"header seen: {','.join(header)}"
        )
    ix = {c: low.index(c) for c in (*need, "belongsession", "_id") if c in low}
    set_rows, loose = _set_rows(secs, name)
    recs: list[dict] = []
    problems: list[dict] = []
    skipped: list[dict] = []
    pairs: list[tuple[float, float]] = []  # (packed weight, set-log weight) of the same set
    seen_ids: dict[str, int] = {}
    unread: list[int] = []  # lines of EXERCISE LOGS rows that could not be read
    linked = set(set_rows)  # the _ids of the exercise logs that have set rows

    def next_rec() -> int:
        return len(recs) + len(problems) + len(skipped) + 1

    def problem(line, column, value, reason):
        problems.append(
            dict(_rec=next_rec(), _source=line, column=column, value=value, reason=reason)
        )

    for line, fields in rows:

        def get(c, fields=fields):
            return _field(fields, ix, c)

        if len(fields) != len(header):
            problem(line, None, ",".join(fields)[:200],
                    f"the record has {len(fields)} fields, the header {len(header)}")  # fmt: skip
            unread.append(line)
            continue
        log_id = get("_id")
        if log_id in seen_ids and log_id in linked:
            # its set rows are the first row's: read again here they would count twice
            problem(line, "_id", log_id,
                    f"a second EXERCISE LOGS row with _id {log_id} (the first is on line "
                    f"{seen_ids[log_id]})")  # fmt: skip
            continue
        if log_id:
            seen_ids[log_id] = line
        date = parse_datetime(get("mydate"))
        where = dict(exercise=get("ename"), wkey=get("belongsession") or (date or ("",))[0])
        items = [s for s in get("logs").split(",")] if get("logs") else [""]
        mine = set_rows.pop(log_id, None) if log_id else None
        if mine is not None:  # this log's sets are its EXERCISE SET LOGS rows
            pairs.extend(_pairs(items, mine))
            for s in mine:
                if date is None:
                    problem(s["line"], "mydate", get("mydate"), "not a date YYYY-MM-DD "
                            f"(in the EXERCISE LOGS row on line {line})")  # fmt: skip
                elif s["problem"] is not None:
                    problem(s["line"], *s["problem"])
                elif not (s["weight"] or s["reps"] or s["duration"] or s["distance"]):
                    skipped.append(dict(_rec=next_rec(), reason="0x0: a set not done"))
                else:
                    recs.append(dict(
                        _rec=next_rec(), _source=s["line"], date=date[0], **where,
                        weight=s["weight"], reps=s["reps"],
                        seconds=s["duration"] if not s["reps"] and s["duration"] else None,
                        distance=s["distance"] or None, from_sets=True,
                    ))  # fmt: skip
            continue
        for k, item in enumerate(items, start=1):
            m = _SET.match(item)
            if date is None:
                problem(line, "mydate", get("mydate"), "not a date YYYY-MM-DD")
            elif not item.strip():
                skipped.append(dict(_rec=next_rec(), reason="no sets logged"))
            elif m is None:
                problem(line, "logs", item, f"set {k} is not weightxreps (e.g. 50.0x15)")
            elif float(m[1]) == 0 and float(m[2]) == 0:
                skipped.append(dict(_rec=next_rec(), reason="0x0: a set not done"))
            else:
                recs.append(dict(
                    _rec=next_rec(), _source=line, date=date[0], **where, weight=float(m[1]),
                    reps=float(m[2]), seconds=None, distance=None, from_sets=False,
                ))  # fmt: skip
    # set rows of no exercise log: without its date and exercise a set cannot be placed
    why = ("matches no EXERCISE LOGS row" if "_id" in ix
           else "cannot be linked: EXERCISE LOGS has no _id column")  # fmt: skip
    if unread and "_id" in ix:  # its log may be one of them
        why += (f" that could be read (the EXERCISE LOGS row(s) on line(s) "
                f"{', '.join(map(str, unread))} could not be; see their own problems)")
    orphans = [s for sets in set_rows.values() for s in sets] + loose
    for s in sorted(orphans, key=lambda s: s["line"]):
        problem(s["line"], "exercise_log_id", s["log_id"],
                f"a set whose exercise_log_id {s['log_id'] or '(empty)'} {why}: "
                "its date and exercise are unknown")  # fmt: skip
    weighted = any(r["weight"] for r in recs)
    if unit is None and weighted:
        raise ImportFormatError(
            f"{name}: this JEFIT export has no SETTING mass unit; pass --units kg or --units lb, "
            'or set it in rehab.toml:\n\n[units]\nweight = "kg"   # or "lb"'
        )
    factor = WEIGHT_UNITS.get((unit or "kg").strip().lower(), 1.0)
    set_factor, warning = _set_log_factor(
        pairs, factor, any(r["weight"] for r in recs if r["from_sets"])
    )
    n = len(recs) + len(problems) + len(skipped)
    frame = pl.DataFrame(
        recs,
        schema={"_rec": pl.Int64, "_source": pl.Int64, "date": pl.String, "exercise": pl.String,
                "wkey": pl.String, "weight": pl.Float64, "reps": pl.Float64,
                "seconds": pl.Float64, "distance": pl.Float64, "from_sets": pl.Boolean},
    )  # fmt: skip
    none_s = pl.lit(None, dtype=pl.String)
    none_f = pl.lit(None, dtype=pl.Float64)
    sets = frame.with_columns(
        pl.col("_rec").alias("_order"),
        none_s.alias("_pcol"), none_s.alias("_pval"), none_s.alias("_problem"), none_s.alias("_skip"),
        pl.col("date").alias("wstart"), none_s.alias("time"),
        pl.col("exercise").str.strip_chars(),
        pl.lit("normal").alias("set_type"),
        (pl.col("weight") * pl.when("from_sets").then(set_factor).otherwise(factor))
        .alias("load_kg"),
        pl.when(pl.col("distance").is_not_null()).then(pl.lit("mi")).alias("distance_unit"),
        none_f.alias("rpe"), none_f.alias("duration_min"), none_s.alias("wnote"),
        none_s.alias("xnote"), none_s.alias("snote"),
    ).drop("weight", "from_sets")  # fmt: skip
    tables, more_problems, more_skipped = finish(sets, opts)
    prob = pl.concat([pl.DataFrame(problems, schema=PROBLEM_SCHEMA), more_problems])
    skip = pl.concat([pl.DataFrame(skipped, schema=SKIP_SCHEMA), more_skipped])
    return Parsed(APP, layout, n, tables, prob, skip, warnings=[warning] if warning else [])


_SET_COLUMNS = ("exercise_log_id", "set_index", "weight_lbs", "reps", "duration")


def _set_rows(secs, name: str) -> tuple[dict[str, list[dict]], list[dict]]:
    """EXERCISE SET LOGS: exercise_log_id → its set rows in set order, and the rows whose
    exercise_log_id cannot be read (fields missing). A row is a dict: line, log_id, weight, reps,
    duration, distance (numbers; empty = 0) and problem ((column, value, reason) or None)."""
    by_log: dict[str, list[dict]] = {}
    loose: list[dict] = []
    for header, rows in secs.get("EXERCISE SET LOGS", []):
        low = [h.lower() for h in header]
        missing = [c for c in _SET_COLUMNS if c not in low]
        if missing:
            raise ImportFormatError(
                f"{name}: EXERCISE SET LOGS lacks column(s) {', '.join(missing)}; "
                f"header seen: {','.join(header)}"
            )
        ix = {c: low.index(c) for c in (*_SET_COLUMNS, "distance_mi") if c in low}
        for line, fields in rows:
            s = dict(line=line, log_id=_field(fields, ix, "exercise_log_id"), problem=None)
            if len(fields) != len(header):
                s["problem"] = (None, ",".join(fields)[:200],
                                f"the record has {len(fields)} fields, the header {len(header)}")
            values = {}
            for col, key in (("weight_lbs", "weight"), ("reps", "reps"),
                             ("duration", "duration"), ("distance_mi", "distance"),
                             ("set_index", "index")):  # fmt: skip
                v = _number(_field(fields, ix, col))
                if v is None and s["problem"] is None:
                    s["problem"] = (col, _field(fields, ix, col), "not a number >= 0")
                values[key] = v or 0.0
            s.update(values)
            if s["log_id"]:
                by_log.setdefault(s["log_id"], []).append(s)
            else:
                loose.append(s)
    for sets in by_log.values():  # set order: set_index, then file order
        sets.sort(key=lambda s: (s["index"], s["line"]))
    return by_log, loose


def _field(fields: list[str], ix: dict[str, int], col: str) -> str:
    i = ix.get(col)
    return fields[i].strip() if i is not None and i < len(fields) else ""


def _number(value: str) -> float | None:
    """A finite number >= 0 (empty: 0; ``8,5`` is 8.5), else None."""
    if not value:
        return 0.0
    try:
        v = float(value.replace(",", ".", 1) if value.count(",") == 1 else value)
    except ValueError:
        return None
    return v if math.isfinite(v) and v >= 0 else None


def _pairs(items: list[str], sets: list[dict]) -> list[tuple[float, float]]:
    """(packed weight, set-log weight) of the sets a log holds in both forms: when both list the
    same number of sets with the same reps, the k-th packed set is the k-th set row."""
    packed = [_SET.match(i) for i in items]
    if len(packed) != len(sets) or None in packed or any(s["problem"] for s in sets):
        return []
    if any(float(m[2]) != s["reps"] for m, s in zip(packed, sets, strict=True)):
        return []
    return [(float(m[1]), s["weight"]) for m, s in zip(packed, sets, strict=True)
            if float(m[1]) > 0 and s["weight"] > 0]  # fmt: skip


def _set_log_factor(
    pairs: list[tuple[float, float]], factor: float, weighted: bool
) -> tuple[float, str | None]:
    """(kg per unit of ``weight_lbs``, a warning or None); see the module docstring."""
    if factor == LB_KG:  # the export is in pounds: both readings agree
        return LB_KG, None
    close = lambda a, b: abs(a - b) <= 0.02 * max(a, b) + 0.01  # noqa: E731
    same = sum(close(p * factor, s * factor) for p, s in pairs)
    pounds = sum(close(p * factor, s * LB_KG) for p, s in pairs)
    if same > pounds:
        return factor, None
    if pounds > same or not weighted:
        return LB_KG, None
    return LB_KG, (
        "EXERCISE SET LOGS weights (weight_lbs) were read as pounds, as the column's name says, "
        "though SETTING's mass unit is kg: no set logged in both sections confirmed it; check the "
        "loads of the sets taken from EXERCISE SET LOGS"
    )


def _mass_unit(secs) -> str | None:
    for header, rows in secs.get("SETTING", []):
        low = [h.lower() for h in header]
        if "mass" in low and rows:
            value = (
                rows[0][1][low.index("mass")].strip().lower()
                if len(rows[0][1]) > low.index("mass")
                else ""
            )
            if value in WEIGHT_UNITS:
                return value
    return None


__all__ = ["APP", "LAYOUTS", "is_jefit", "parse", "sections"]
