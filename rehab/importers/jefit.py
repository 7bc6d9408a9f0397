"""JEFIT exports: a multi-section text file, not a single CSV.

The file starts with a blank line; each section is a banner ``### NAME ###…``, a blank line, one
or more blank-line-separated tables (a header row, then data) and a closing line of ``#``. Sets
come from EXERCISE LOGS: ``logs`` packs them as ``weightxreps`` joined by commas
(``"50.0x15,50.0x15"``; ``0x0`` = not done: skipped); ``mydate`` is the date. Each packed set is
one import record; its source record is the line of its log row. The weight unit is SETTING's
``mass`` (`` lbs`` / `` kg``); without one, ``--units`` / ``[units] weight`` is used and, when
neither is set and a weight needs it, the file is refused with a message saying so. The other
sections (profile, routines, per-set logs, cardio, notes) are not read: EXERCISE SET LOGS repeats
the sets of EXERCISE LOGS, and JEFIT's unix times carry no time zone.
"""

from __future__ import annotations

import csv
import io
import re

import polars as pl

from rehab.importers.common import (
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
    ix = {c: low.index(c) for c in (*need, "belongsession")}
    recs: list[dict] = []
    problems: list[dict] = []
    skipped: list[dict] = []
    for line, fields in rows:

        def get(c, fields=fields):
            i = ix.get(c)
            return fields[i].strip() if i is not None and i < len(fields) else ""

        if len(fields) != len(header):
            rec = len(recs) + len(problems) + len(skipped) + 1
            problems.append(
                dict(
                    _rec=rec,
                    _source=line,
                    column=None,
                    value=",".join(fields)[:200],
                    reason=f"the record has {len(fields)} fields, the header {len(header)}",
                )
            )
            continue
        date = parse_datetime(get("mydate"))
        items = [s for s in get("logs").split(",")] if get("logs") else [""]
        for k, item in enumerate(items, start=1):
            rec = len(recs) + len(problems) + len(skipped) + 1
            m = _SET.match(item)
            if date is None:
                problems.append(
                    dict(
                        _rec=rec,
                        _source=line,
                        column="mydate",
                        value=get("mydate"),
                        reason="not a date YYYY-MM-DD",
                    )
                )
            elif not item.strip():
                skipped.append(dict(_rec=rec, reason="no sets logged"))
            elif m is None:
                problems.append(
                    dict(
                        _rec=rec,
                        _source=line,
                        column="logs",
                        value=item,
                        reason=f"set {k} is not weightxreps (e.g. 50.0x15)",
                    )
                )
            elif float(m[1]) == 0 and float(m[2]) == 0:
                skipped.append(dict(_rec=rec, reason="0x0: a set not done"))
            else:
                recs.append(
                    dict(
                        _rec=rec,
                        _source=line,
                        date=date[0],
                        exercise=get("ename"),
                        weight=float(m[1]),
                        reps=float(m[2]),
                        wkey=get("belongsession") or date[0],
                    )
                )
    if unit is None and any(r["weight"] for r in recs):
        raise ImportFormatError(
            f"{name}: this JEFIT export has no SETTING mass unit; pass --units kg or --units lb, "
            'or set it in rehab.toml:\n\n[units]\nweight = "kg"   # or "lb"'
        )
    factor = WEIGHT_UNITS.get((unit or "kg").strip().lower(), 1.0)
    n = len(recs) + len(problems) + len(skipped)
    frame = pl.DataFrame(
        recs,
        schema={"_rec": pl.Int64, "_source": pl.Int64, "date": pl.String, "exercise": pl.String,
                "weight": pl.Float64, "reps": pl.Float64, "wkey": pl.String},
    )  # fmt: skip
    none_s = pl.lit(None, dtype=pl.String)
    none_f = pl.lit(None, dtype=pl.Float64)
    sets = frame.with_columns(
        pl.col("_rec").alias("_order"),
        none_s.alias("_pcol"), none_s.alias("_pval"), none_s.alias("_problem"), none_s.alias("_skip"),
        pl.col("date").alias("wstart"), none_s.alias("time"),
        pl.col("exercise").str.strip_chars(),
        pl.lit("normal").alias("set_type"),
        none_f.alias("seconds"),
        (pl.col("weight") * factor).alias("load_kg"),
        none_f.alias("distance"), none_s.alias("distance_unit"), none_f.alias("rpe"),
        none_f.alias("duration_min"), none_s.alias("wnote"), none_s.alias("xnote"),
        none_s.alias("snote"),
    )  # fmt: skip
    tables, more_problems, more_skipped = finish(sets, opts)
    prob = pl.concat([pl.DataFrame(problems, schema=PROBLEM_SCHEMA), more_problems])
    skip = pl.concat([pl.DataFrame(skipped, schema=SKIP_SCHEMA), more_skipped])
    return Parsed(APP, layout, n, tables, prob, skip)


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
