"""Daylio mood-diary exports → diary rows with ``mood`` (newest entry first in the file).

Layouts: ``year`` (≤2018: ``year,date,weekday,time,mood,activities,note``, the date localised
without a year: ``June 22``, ``7 września``, ``16 de octubre``), ``full_date`` (2019-20:
``full_date,...``, ISO date) and ``note_title`` (2021+: adds ``note_title``). With or without a
BOM. ``time`` follows the phone: ``20:39``, ``5:01 PM``, ``9:23\\u202fPM``.

``mood`` is the user's label, not a number. The five default labels map to levels rad 5, good 4,
meh 3, bad 2, awful 1; ``[moods]`` in rehab.toml maps custom labels (and overrides the defaults).
A label without a mapping is kept as text in ``notes`` (``mood: <label>``), the level left empty,
and listed after the import. Activities and the note (title) go to ``notes``.

Daylio records no pain: each entry becomes a diary entry with its mood and notes and the pain
left empty (no pain logged is not pain 0).
"""

from __future__ import annotations

import polars as pl

from rehab.importers.common import (
    PROBLEM_SCHEMA,
    SKIP_SCHEMA,
    Options,
    Parsed,
    Source,
    bad_rows_problems,
    match_layout,
    norm_header,
    parse_clock,
    parse_datetime,
    read_rows,
)

APP = "daylio"
LAYOUTS = {
    "year": "year,date,weekday,time,mood,activities,note",
    "full_date": "full_date,date,weekday,time,mood,activities,note",
    "note_title": "full_date,date,weekday,time,mood,activities,note_title,note",
}
DEFAULT_MOODS = {"rad": 5.0, "good": 4.0, "meh": 3.0, "bad": 2.0, "awful": 1.0}


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
    data = rows.frame.to_dicts()
    moods = {**DEFAULT_MOODS, **{k.strip().casefold(): v for k, v in opts.moods.items()}}
    out, problems, unmapped = [], [], set()
    for r in data:
        rec = r["_source"]
        if layout == "year":
            try:
                year = int(r["year"].strip())
            except ValueError:
                year = None
            got = parse_datetime(r["date"], year) if year else None
            where, value = "date", f"{r['year']} {r['date']}"
        else:
            got = parse_datetime(r["full_date"])
            where, value = "full_date", r["full_date"]
        if got is None:
            problems.append(
                dict(
                    _rec=rec,
                    _source=rec,
                    column=where,
                    value=value,
                    reason="not a date Daylio writes",
                )
            )
            continue
        clock = parse_clock(r["time"]) if r["time"].strip() else None
        if r["time"].strip() and clock is None:
            problems.append(
                dict(
                    _rec=rec,
                    _source=rec,
                    column="time",
                    value=r["time"],
                    reason="not a time (20:39 or 5:01 PM)",
                )
            )
            continue
        label = r["mood"].strip()
        level = moods.get(label.casefold())
        if level is None and label:
            unmapped.add(label)
        acts = r["activities"].strip()
        parts = [
            r.get("note_title", "").strip(),
            r["note"].strip(),
            f"activities: {acts}" if acts else "",
            f"mood: {label}" if level is None and label else "",
        ]
        out.append({
            "participant": opts.participant, "date": got[0], "time": clock,
            "mood": None if level is None else f"{level:g}",
            "notes": " | ".join(p for p in parts if p) or None,
            "_rec": rec, "_source": rec,
        })  # fmt: skip
    schema = {c: pl.String for c in ("participant", "date", "time", "mood", "notes")}
    diary = pl.DataFrame(out, schema={**schema, "_rec": pl.Int64, "_source": pl.Int64})
    diary = diary.with_columns(pl.lit(None, dtype=pl.String).alias("pain"))
    warnings = []
    if unmapped:
        warnings.append(
            f"{name}: mood label(s) without a level, kept as text: "
            f"{', '.join(sorted(unmapped))}; map them under [moods] in rehab.toml"
        )
    return Parsed(
        APP, layout, rows.records, {"diary": diary},
        pl.concat([bad_rows_problems(rows), pl.DataFrame(problems, schema=PROBLEM_SCHEMA)]),
        pl.DataFrame(schema=SKIP_SCHEMA), warnings=warnings,
        unmapped={"moods": sorted(unmapped)} if unmapped else {},
    )  # fmt: skip
