"""Bearable symptom-tracker exports (long format: one row per reading) → the pain diary.

Layouts: ``2020`` (``date,weekday,time of day,category,rating/amount,detail,notes``) and ``dated``
(with ``date formatted`` after ``date``; known from third-party code only). Dates like
``22nd Sep 2020``; ``time of day`` is a part of the day (``pre``, ``am``, ``mid``, ``pm``,
``all day``) or a clock time (``3:04``).

What goes where:

- **Symptom** rows: ``rating/amount`` 1-4 is the severity, also written in the detail's last
  parenthesis (``Back (lower) pain (Mild)``: the name keeps its own parentheses). Severity → 0-10
  with the default ``Mild 2, Moderate 5, Severe 7.5, Unbearable 9.5``: the midpoints of the usual
  NRS bands mild 1-3, moderate 4-6, severe 7-10 with "unbearable" as its top (9-10). Override with
  ``[bearable] severity = [...]`` in rehab.toml. A symptom whose name mentions the back
  (back, lumbar, sciatica, spine, SI joint) counts: ``spasm`` in its name → ``spasm = yes``,
  ``stiff`` → ``stiffness``, ``tight`` → ``tightness``, else → ``pain`` (the name goes to
  ``location``). ``[bearable.symptoms]`` maps any name to pain, stiffness, tightness, spasm or
  ignore. Other symptoms are skipped and listed.
- **Mood** (1-10) → ``mood`` on the kit's 1-5 scale (1 + (x-1)·4/9); **Energy** (1-5) →
  ``energy``; **Sleep** (``H:MM``) → ``sleep_h``.
- Other categories (food, factors, medication, water, gratitude, ...) carry no diary value: skipped.

Readings of one part of a day (same date and time of day) become one diary row (the worst pain,
stiffness and tightness; the mean mood and energy); sleep and ``all day`` readings join the day's
first row that has pain. No symptom logged is **not** pain 0: a diary row without a back-pain
reading keeps its mood, energy or sleep with the pain left empty. Parts of the day → ``moment``: am → morning,
pm → evening, mid → other, pre → night (Bearable's ``pre`` is read as before the morning [?]).
"""

from __future__ import annotations

import re

import polars as pl

from rehab.exercises import normalise
from rehab.importers.common import (
    LINK_SCHEMA,
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

APP = "bearable"
LAYOUTS = {
    "2020": "date,weekday,time of day,category,rating/amount,detail,notes",
    "dated": "date,date formatted,weekday,time of day,category,rating/amount,detail,notes",
}
DEFAULT_SEVERITY = (2.0, 5.0, 7.5, 9.5)  # Mild, Moderate, Severe, Unbearable → NRS 0-10
SEVERITY_LABELS = {"mild": 1, "moderate": 2, "severe": 3, "unbearable": 4}
MOMENTS = {"am": "morning", "pm": "evening", "mid": "other", "pre": "night"}
SEGMENT_ORDER = {"pre": 0, "am": 1, "mid": 2, "pm": 3}
_BACK = re.compile(r"\b(back|lumbar|sciatica|sciatic|spine|spinal|si joint|sacroiliac)\b")
_SYMPTOM = re.compile(r"^(.*?)\s*\(([^()]*)\)\s*$")
_SLEEP = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
HINT = (
    "no back-pain symptom was logged for this part of the day, and no symptom logged is not "
    "pain 0; map a symptom with [bearable.symptoms] in rehab.toml if one should count"
)


def detect(cells: list[str], delim: str) -> str | None:
    return match_layout(cells, LAYOUTS)


def symptom_target(name: str, user: dict[str, str]) -> str:
    """pain | stiffness | tightness | spasm | ignore for a symptom name."""
    key = normalise(name)
    if key in user:
        return user[key]
    low = name.lower()
    if not _BACK.search(low.replace("(", " ").replace(")", " ")):
        return "ignore"
    if "spasm" in low:
        return "spasm"
    if "stiff" in low:
        return "stiffness"
    if "tight" in low:
        return "tightness"
    return "pain"


def _clean_note(s: str) -> str | None:
    s = s.strip()
    return None if not s.strip(" .") else s


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
    severity = opts.bearable_severity or DEFAULT_SEVERITY
    user = {normalise(k): v for k, v in opts.bearable_symptoms.items()}
    problems: list[dict] = []
    skipped: list[dict] = []
    ignored: set[str] = set()
    readings: list[dict] = []
    for r in data:
        rec = r["_source"]
        got = parse_datetime(r.get("date formatted") or "") if layout == "dated" else None
        got = got or parse_datetime(r["date"])
        cat = r["category"].strip().lower()
        rating = r["rating/amount"].strip()
        detail = r["detail"].strip()
        note = _clean_note(r["notes"])
        seg = r["time of day"].strip().lower()

        def bad(column, value, reason, rec=rec):
            problems.append(dict(_rec=rec, _source=rec, column=column, value=value, reason=reason))

        if got is None:
            bad("date", r["date"], "not a date as Bearable writes it (e.g. 22nd Sep 2020)")
            continue
        clock = parse_clock(seg) if seg else None
        if seg and seg not in MOMENTS and seg != "all day" and clock is None:
            bad("time of day", seg, "not pre, am, mid, pm, all day or a clock time")
            continue
        base = dict(_rec=rec, date=got[0], seg=seg, clock=clock, note=note)
        if cat == "symptom":
            m = _SYMPTOM.match(detail)
            sname, label = (m[1].strip(), m[2].strip().lower()) if m else (detail, "")
            level = int(rating) if rating in ("1", "2", "3", "4") else SEVERITY_LABELS.get(label)
            if level is None:
                bad(
                    "rating/amount",
                    rating or detail,
                    "symptom severity not 1-4 (Mild, Moderate, Severe, Unbearable)",
                )
                continue
            target = symptom_target(sname, user)
            if target == "ignore":
                ignored.add(sname)
                skipped.append(dict(_rec=rec, reason=f"symptom not mapped to the diary: {sname}"))
                continue
            value = severity[level - 1]
            readings.append(
                {
                    **base,
                    target: True if target == "spasm" else value,
                    "location": sname if target == "pain" else None,
                }
            )
        elif cat in ("mood", "energy"):
            top = 10 if cat == "mood" else 5
            try:
                x = float(rating)
            except ValueError:
                x = -1.0
            if not 1 <= x <= top:
                bad("rating/amount", rating, f"{cat} rating not 1-{top}")
                continue
            level = round(1 + (x - 1) * 4 / 9, 2) if cat == "mood" else x
            extra = f"mood: {detail}" if cat == "mood" and detail else None
            readings.append({**base, cat: level, "note": _join([extra, note])})
        elif cat == "sleep":
            m = _SLEEP.match(rating)
            if not m:
                bad("rating/amount", rating, "sleep not H:MM")
                continue
            readings.append(
                {**base, "sleep_h": round(int(m[1]) + int(m[2]) / 60, 2), "seg": "sleep"}
            )
        else:
            skipped.append(
                dict(_rec=rec, reason=f"Bearable category {r['category']!r} has no diary column")
            )
    diary, links = _group(readings, opts)
    unmapped = {"symptoms": sorted(ignored)} if ignored else {}
    return Parsed(
        APP, layout, rows.records, {"diary": diary},
        pl.concat([bad_rows_problems(rows), pl.DataFrame(problems, schema=PROBLEM_SCHEMA)]),
        pl.DataFrame(skipped, schema=SKIP_SCHEMA),
        links=links, unmapped=unmapped, hints={"pain": HINT},
        warnings=[f"{name}: symptoms not counted as back pain (skipped): {', '.join(sorted(ignored))}"
                  ] if ignored else [],
    )  # fmt: skip


def _join(parts) -> str | None:
    got = [p for p in parts if p]
    return " | ".join(got) if got else None


def _key(r) -> tuple:
    seg = r["seg"]
    if r["clock"]:
        return (r["date"], 10, r["clock"])
    return (r["date"], SEGMENT_ORDER.get(seg, 20), seg)


def _group(readings: list[dict], opts: Options) -> tuple[pl.DataFrame, pl.DataFrame]:
    groups: dict[tuple, list[dict]] = {}
    floating = []
    for r in readings:
        if r["seg"] in ("sleep", "all day", ""):
            floating.append(r)
        else:
            groups.setdefault(_key(r), []).append(r)
    by_date: dict[str, tuple] = {}
    for k in sorted(groups):
        if k[0] not in by_date and any(r.get("pain") is not None for r in groups[k]):
            by_date[k[0]] = k
    for r in floating:
        k = by_date.get(r["date"], (r["date"], 30, "all day"))
        groups.setdefault(k, []).append(r)
    rows, links = [], []
    for k in sorted(groups):
        g = groups[k]
        owner = min(r["_rec"] for r in g)
        links.extend({"_rec": r["_rec"], "_owner": owner} for r in g if r["_rec"] != owner)

        def worst(c, g=g):
            v = [r[c] for r in g if r.get(c) is not None]
            return max(v) if v else None

        def mean(c, g=g):
            v = [r[c] for r in g if r.get(c) is not None]
            return round(sum(v) / len(v), 2) if v else None

        seg = k[2]
        locs = sorted({r["location"] for r in g if r.get("location")})
        rows.append({
            "participant": opts.participant,
            "date": k[0],
            "time": seg if k[1] == 10 else None,
            "moment": MOMENTS.get(seg),
            "pain": worst("pain"),
            "stiffness": worst("stiffness"),
            "tightness": worst("tightness"),
            "spasm": "yes" if any(r.get("spasm") for r in g) else None,
            "sleep_h": next((r["sleep_h"] for r in g if r.get("sleep_h") is not None), None),
            "mood": mean("mood"),
            "energy": mean("energy"),
            "location": "; ".join(locs) or None,
            "notes": _join(dict.fromkeys(r["note"] for r in g if r.get("note"))),
            "_rec": owner,
            "_source": owner,
            "_sources": " ".join(str(s) for s in sorted(r["_rec"] for r in g)),
        })  # fmt: skip
    schema = {
        c: pl.String
        for c in (
            "participant",
            "date",
            "time",
            "moment",
            "pain",
            "stiffness",
            "tightness",
            "spasm",
            "sleep_h",
            "mood",
            "energy",
            "location",
            "notes",
        )
    }
    schema.update(_rec=pl.Int64, _source=pl.Int64, _sources=pl.String)
    text_rows = [
        {c: (v if c.startswith("_") or v is None else _fmt(v)) for c, v in r.items()} for r in rows
    ]
    return pl.DataFrame(text_rows, schema=schema), pl.DataFrame(links, schema=LINK_SCHEMA)


def _fmt(v) -> str:
    if isinstance(v, float):
        return str(int(v)) if v == int(v) else f"{v:g}"
    return str(v)
