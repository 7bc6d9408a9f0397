"""Import the CSV exports of workout and symptom apps into the kit's canonical tables.

``import_file(path)`` (the ``rehab import`` command) detects the app and layout from the header
(or takes ``app=``), converts every record, validates the canonical rows with
:func:`rehab.io.validate_frame` (the same rules as the kit's own CSV files) and stores what is new.
Apps: Strong, Hevy, FitNotes, JEFIT (workouts → sessions, tests), Bearable and Daylio (→ diary).
Manage My Pain is left out: no export format has been seen.

Storage (everything below ``data/raw/imports/``; ``load_project`` reads it like any log):

- ``originals/<sha256 first 16 hex>.<ext>``: a read-only copy of each export, written once and
  never modified. Its name matches none of the log globs, so it is never read as a log.
- ``sessions-<app>.csv``, ``tests-<app>.csv``, ``diary-<app>.csv``: canonical columns only (so
  the canonical readers take them without warnings); exercise names as the app wrote them (the
  alias table maps them when the logs are read, so an alias added later applies to old imports).
  Rows are only ever appended.
- ``provenance-<app>.csv``: one row per canonical row: ``table, row`` (its 1-based row in that
  file), ``app, layout, file_sha256`` (the export that brought it) and ``source_record`` (its
  record number in the export, counted from 1 after the header; JEFIT: the line of the log row;
  a Bearable diary row merged from several readings lists them, space-separated). A sidecar
  rather than extra columns: the canonical tables stay the kit's own format.
- Rejected records go to ``data/quarantine/import-<app>-<sha256 first 12>.quarantine.csv``.

Counting (``--json``): ``records`` are import records: a set (a JEFIT log row packs several), or
a diary reading (Bearable: one row per reading; readings of one part of a day are merged into one
diary row and share its fate; Daylio: one entry). Each is ``new``, ``already_present``,
``skipped`` (it carries no set or diary value: rest timers, note rows, food-diary entries) or
``quarantined``; the four add up to ``records``. Identity is content (see :mod:`.store`):
importing an export twice, or a newer export holding an older one, adds each record once.
A record whose slot is already filled by an imported record with other values is quarantined
rather than added twice (see ``store.SLOTS``): a set (date, time, exercise, set number) edited in
the app since, or given other values by a changed ``[aliases]``/``[tests]`` mapping; a test
attempt whose set already gave one; a part of a day that gained a reading in a newer Bearable
export. The quarantine reason says to delete the old row to take the new values. Derived values
(the test id, ``set_type = test``) are fixed when a record is first imported.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from rehab.exercises import alias_table, normalise
from rehab.importers import bearable, daylio, fitnotes, hevy, jefit, store, strong
from rehab.importers.common import (
    ImportFormatError,
    Options,
    Parsed,
    decode,
    header_cells,
    header_line,
)
from rehab.io import QUARANTINE_SCHEMA, read_bytes, sniff_delimiter, validate_frame
from rehab.paths import ProjectPaths, atomic_write_bytes, check_participant
from rehab.schema import DEFAULT_PARTICIPANT, TABLES

APPS = {m.APP: m for m in (strong, hevy, fitnotes, jefit, bearable, daylio)}
APP_CHOICES = ("auto", *APPS)


@dataclass(frozen=True)
class Detected:
    app: str
    layout: str
    delimiter: str
    cells: list[str]


def known_layouts() -> str:
    """Every known layout with its header, one a line (for error messages)."""
    lines = []
    for app, mod in APPS.items():
        for layout, header in mod.LAYOUTS.items():
            lines.append(f"  {app} {layout}: {header}")
    return "\n".join(lines)


def detect(text: str, *, app: str = "auto", name: str = "export") -> Detected:
    """The app and layout of an export's text, from its header; ImportFormatError when unknown."""
    if app not in APP_CHOICES:
        raise ImportFormatError(f"unknown app {app!r}: use one of {', '.join(APP_CHOICES)}")
    line = header_line(text)
    if not line.strip():
        raise ImportFormatError(
            f"{name}: the file is empty: an app export starts with a header line"
        )
    if jefit.is_jefit(text):
        got = Detected("jefit", "sectioned", ",", [])
    else:
        delim = sniff_delimiter(line)
        cells = header_cells(line, delim)
        got = None
        for a, mod in APPS.items():
            if a == "jefit":
                continue
            layout = mod.detect(cells, delim)
            if layout is not None:
                got = Detected(a, layout, delim, cells)
                break
        if got is None:
            seen = line if len(line) <= 300 else line[:300] + "…"
            extra = ""
            if strong.is_body_measurements(cells):
                extra = " It looks like Strong's body-measurement export, which holds no workouts."
            raise ImportFormatError(
                f"{name}: not a known app export.{extra} Header seen:\n  {seen}\n"
                f"Known layouts:\n{known_layouts()}"
            )
    if app != "auto" and got.app != app:
        raise ImportFormatError(
            f"{name}: --app {app} was given, but the header is {got.app}'s layout {got.layout}. "
            f"Known {app} layouts:\n"
            + "\n".join(f"  {k}: {v}" for k, v in APPS[app].LAYOUTS.items())
        )
    return got


@dataclass
class Converted:
    """An export converted and validated, before storage."""

    parsed: Parsed
    tables: dict[str, pl.DataFrame]  # accepted rows, text columns + _rec, _source
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA plus _rec
    quarantined: set[int]
    skipped: set[int]
    warnings: list[str]
    unmapped_exercises: list[str]


def convert(
    data: bytes,
    *,
    app: str = "auto",
    options: Options | None = None,
    name: str = "export",
) -> Converted:
    """Parse and validate an export held in memory (nothing is written)."""
    opts = options or Options()
    text, warnings = decode(data, name)
    got = detect(text, app=app, name=name)
    mod = APPS[got.app]
    parsed = mod.parse(text, got.layout, got.delimiter, got.cells, opts, name)
    warnings = [*warnings, *parsed.warnings]

    owner = _owner_map(parsed.links)
    quarantined = set(parsed.problems["_rec"].to_list())
    q_frames = [
        parsed.problems.select(
            pl.lit(name).alias("file"), pl.col("_source").alias("record"),
            pl.lit(None, dtype=pl.Int64).alias("line"), "column", "value", "reason",
            pl.lit(None, dtype=pl.String).alias("raw"), "_rec",
        )
    ]  # fmt: skip
    validated: dict[str, pl.DataFrame] = {}
    for kind, frame in parsed.tables.items():
        if frame.height == 0:
            continue
        spec = TABLES[kind]
        cols = [c for c in spec.names if c in frame.columns]
        frame = frame.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("_row"))
        _, q, _, more = validate_frame(
            frame.select(*cols, pl.col("_row").alias("_record")), spec, file=name,
            aliases=dict(opts.aliases),
        )  # fmt: skip
        warnings.extend(more)
        if q.height:
            ids = frame.select("_row", "_rec", "_source")
            q = q.join(ids, left_on="record", right_on="_row", how="left").with_columns(
                pl.col("_source").alias("record")
            )
            for column, hint in parsed.hints.items():
                q = q.with_columns(
                    pl.when(pl.col("column") == column)
                    .then(pl.col("reason") + pl.lit(f" ({hint})"))
                    .otherwise(pl.col("reason"))
                    .alias("reason")
                )
            q_frames.append(q.select(*QUARANTINE_SCHEMA, "_rec"))
            quarantined.update(q["_rec"].to_list())
        validated[kind] = frame.drop("_row")
    quarantined = {owner.get(r, r) for r in quarantined}
    quarantined |= {m for m, o in owner.items() if o in quarantined}
    tables = {k: f.filter(~pl.col("_rec").is_in(list(quarantined))) for k, f in validated.items()}
    skipped = set(parsed.skipped["_rec"].to_list())
    _check_accounting(parsed, tables, quarantined, skipped, owner)
    quarantine = pl.concat(q_frames, how="vertical").sort("record") if q_frames else None

    table = alias_table(dict(opts.aliases))
    unmapped: list[str] = []
    if "sessions" in tables:
        names = tables["sessions"]["exercise"].unique().drop_nulls().to_list()
        unmapped = sorted(n for n in names if normalise(n) not in table)
    return Converted(parsed, tables, quarantine, quarantined, skipped, warnings, unmapped)


def _owner_map(links: pl.DataFrame) -> dict[int, int]:
    return dict(zip(links["_rec"].to_list(), links["_owner"].to_list(), strict=True))


def _check_accounting(parsed, tables, quarantined, skipped, owner) -> None:
    """Every record is in exactly one place; else an importer bug (never a silent drop)."""
    in_rows: set[int] = set()
    for f in tables.values():
        in_rows.update(f["_rec"].to_list())
    in_rows |= {m for m, o in owner.items() if o in in_rows}
    every = set(range(1, parsed.records + 1))
    places = (in_rows, quarantined, skipped)
    lost = every - set().union(*places)
    twice = (in_rows & quarantined) | (in_rows & skipped) | (quarantined & skipped)
    stray = set().union(*places) - every
    if lost or twice or stray:
        raise RuntimeError(
            f"importer bug ({parsed.app} {parsed.layout}): records not accounted for "
            f"{sorted(lost)[:10]}, counted twice {sorted(twice)[:10]}, unknown {sorted(stray)[:10]}"
        )


@dataclass
class ImportResult:
    """What an import did. ``new + already_present + skipped + quarantined == records``."""

    app: str
    layout: str
    file: str
    sha256: str
    participant: str
    records: int
    new: int
    already_present: int
    skipped: int
    quarantined: int
    unmapped_exercises: list[str]
    unmapped: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    repaired: list[int] = field(default_factory=list)
    quarantine: pl.DataFrame | None = None
    quarantine_file: str | None = None
    original: str | None = None
    written: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        d = {
            "app": self.app,
            "layout": self.layout,
            "records": self.records,
            "new": self.new,
            "already_present": self.already_present,
            "skipped": self.skipped,
            "quarantined": self.quarantined,
            "unmapped_exercises": self.unmapped_exercises,
        }
        d.update(
            file=self.file, sha256=self.sha256, participant=self.participant,
            repaired_records=self.repaired, warnings=self.warnings,
            original=self.original, written=self.written, quarantine_file=self.quarantine_file,
        )  # fmt: skip
        d.update({f"unmapped_{k}": v for k, v in self.unmapped.items()})
        return d


def options_from_config(config, *, participant: str, units: str | None) -> Options:
    return Options(
        participant=participant,
        units=units or config.weight_unit,
        aliases=config.aliases,
        test_exercises=config.test_exercises,
        moods=config.moods,
        bearable_severity=config.bearable_severity,
        bearable_symptoms=config.bearable_symptoms,
    )


def import_file(
    path: str | Path,
    *,
    app: str = "auto",
    participant: str = DEFAULT_PARTICIPANT,
    units: str | None = None,
    root: str | Path | None = None,
) -> ImportResult:
    """Import one export into the project at ``root`` (default: discovered). See the module doc.

    Raises :class:`ImportFormatError` (a :class:`rehab.io.ReadError`) when the file cannot be used;
    nothing is written then."""
    from rehab.config import load_config

    check_participant(participant)
    if units is not None and units not in ("kg", "lb"):
        raise ImportFormatError(f"--units {units!r} is not allowed: use kg or lb")
    path = Path(path)
    name = str(path)
    data = read_bytes(path, error=ImportFormatError, what="an export file")
    paths = ProjectPaths(Path(root).resolve()) if root is not None else ProjectPaths.discover()
    config = load_config(paths.config_file)
    opts = options_from_config(config, participant=participant, units=units)
    conv = convert(data, app=app, options=opts, name=name)
    sha = hashlib.sha256(data).hexdigest()
    return _store(conv, paths, data, sha, path.suffix, name, participant)


def _store(conv: Converted, paths, data, sha, suffix, name, participant) -> ImportResult:
    p = conv.parsed
    owner = _owner_map(p.links)
    quarantined = set(conv.quarantined)
    q_frames = [conv.quarantine] if conv.quarantine is not None else []
    plans = {}
    for kind, frame in conv.tables.items():
        target = store.table_file(paths, kind, p.app)
        existing = store.read_text_table(target)
        new, present, conflict, cols = store.split_new(frame, existing, kind)
        if conflict.height:
            q_frames.append(_conflicts(conflict, name, target, kind))
            quarantined |= set(conflict["_rec"].to_list())
        plans[kind] = (target, existing, new, present, cols)
    quarantined |= {m for m, o in owner.items() if o in quarantined}
    new_recs: set[int] = set()
    present_recs: set[int] = set()
    original = store.keep_original(paths, data, sha, suffix)
    written = []
    for kind, (target, existing, new, present, cols) in plans.items():
        new = new.filter(~pl.col("_rec").is_in(list(quarantined)))
        present_recs.update(present["_rec"].to_list())
        new_recs.update(new["_rec"].to_list())
        if new.height == 0:
            continue
        first = store.write_rows(target, existing, new, cols)
        srcs = new["_sources"] if "_sources" in new.columns else new["_source"].cast(pl.String)
        prov = pl.DataFrame({
            "table": [kind] * new.height,
            "row": list(range(first, first + new.height)),
            "app": [p.app] * new.height,
            "layout": [p.layout] * new.height,
            "file_sha256": [sha] * new.height,
            "source_record": srcs,
        })  # fmt: skip
        store.append_provenance(store.provenance_file(paths, p.app), prov)
        written.append(str(target))
    new_recs -= quarantined
    new_recs |= {m for m, o in owner.items() if o in new_recs}
    present_recs = present_recs - new_recs - quarantined
    present_recs |= {m for m, o in owner.items() if o in present_recs}
    quarantine = pl.concat(q_frames, how="vertical").sort("record") if q_frames else None
    q_file = _write_quarantine(paths, p.app, sha, quarantine)
    n_q = len(quarantined)
    n_s = len(conv.skipped)
    result = ImportResult(
        app=p.app, layout=p.layout, file=name, sha256=sha, participant=participant,
        records=p.records, new=len(new_recs), already_present=len(present_recs), skipped=n_s,
        quarantined=n_q, unmapped_exercises=conv.unmapped_exercises, unmapped=p.unmapped,
        warnings=conv.warnings, repaired=p.repaired, quarantine=quarantine,
        quarantine_file=str(q_file) if q_file else None, original=str(original), written=written,
    )  # fmt: skip
    total = result.new + result.already_present + result.skipped + result.quarantined
    if total != result.records:
        raise RuntimeError(f"importer bug: {total} records counted, {result.records} read")
    return result


def _conflicts(conflict: pl.DataFrame, name: str, target: Path, kind: str) -> pl.DataFrame:
    slot = ", ".join(store.SLOTS[kind])
    column = "set" if kind == "sessions" else "notes"
    return conflict.select(
        pl.lit(name).alias("file"),
        pl.col("_source").alias("record"),
        pl.lit(None, dtype=pl.Int64).alias("line"),
        pl.lit(column).alias("column"),
        pl.col(column).alias("value"),
        pl.lit(
            f"an imported record with other values already fills this slot ({slot}) in "
            f"{target.name}: edited in the app since the earlier import, or a changed [aliases] "
            "or [tests] mapping? Delete the old row there to take the new values"
        ).alias("reason"),
        pl.lit(None, dtype=pl.String).alias("raw"),
        "_rec",
    ).cast({**QUARANTINE_SCHEMA, "_rec": pl.Int64})


def _write_quarantine(paths: ProjectPaths, app: str, sha: str, q: pl.DataFrame | None):
    target = paths.quarantine / f"import-{app}-{sha[:12]}.quarantine.csv"
    if q is None or q.height == 0:
        if target.exists():
            target.unlink()
        return None
    import io

    buf = io.BytesIO()
    q.select(*QUARANTINE_SCHEMA).write_csv(buf)
    atomic_write_bytes(target, buf.getvalue())
    return target


__all__ = [
    "APPS",
    "APP_CHOICES",
    "Converted",
    "ImportFormatError",
    "ImportResult",
    "Options",
    "convert",
    "detect",
    "import_file",
    "known_layouts",
]
