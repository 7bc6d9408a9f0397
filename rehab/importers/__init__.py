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
  record number in the export, counted from 1 after the header; JEFIT: the line of the set's row
  in EXERCISE SET LOGS, else of its packed log row in EXERCISE LOGS; a Bearable diary row merged
  from several readings lists them, space-separated). A sidecar rather than extra columns: the
  canonical tables stay the kit's own format.
- Rejected records go to ``data/quarantine/import-<app>-<sha256 first 12>.quarantine.csv``.

An import holds the project lock from reading the stored tables to writing them back, and
writes all these files in one transaction: a second import at the same time waits, and an
import killed at any moment leaves the store as it was or as it is after (see :mod:`.store`).

Counting (``--json``): ``records`` are import records: a set (a JEFIT log row packs several; a
JEFIT set row is one, and its log row's packed copy of it is then not read), or a diary reading
(Bearable: one row per reading; readings of one part of a day are merged into one diary row and
share its fate; Daylio: one entry). Each is ``new``, ``already_present``,
``skipped`` (it carries no set or diary value: rest timers, note rows, food-diary entries) or
``quarantined``; the four add up to ``records``. Identity is content (see :mod:`.store`):
importing an export twice, or a newer export holding an older one, adds each record once.
A record whose slot is already filled by an imported record with other values is quarantined
rather than added twice (see ``store.SLOTS``): a set (date, time, exercise, set number) edited in
the app since; a test attempt whose set already gave one; a part of a day that gained a reading
in a newer Bearable export. The quarantine reason says to delete the old row to take the new
values. The values derived from ``[tests]`` and ``[aliases]`` (``set_type = test``, the test id)
are not part of a record's identity: a later import under a changed mapping updates the stored
rows in place (``remapped_rows``; see :func:`.sets.remap_existing`).
"""

from __future__ import annotations

import hashlib
import io
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from rehab.importers import bearable, daylio, fitnotes, hevy, jefit, sets, store, strong
from rehab.importers.common import (
    ImportFormatError,
    Options,
    Parsed,
    decode,
    header_cells,
    header_line,
    in_background,
    source_bytes,
    start_read,
)
from rehab.io import QUARANTINE_SCHEMA, read_bytes, sniff_delimiter, validate_frame
from rehab.paths import ProjectPaths, Transaction, check_participant, project_lock
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
    suggestions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # unmapped → ids


def convert(
    data: bytes,
    *,
    app: str = "auto",
    options: Options | None = None,
    name: str = "export",
) -> Converted:
    """Parse and validate an export held in memory (nothing is written)."""
    opts = options or Options()
    started = start_read(data, app)  # polars reads the records while Python decodes the text
    text, warnings = decode(data, name)
    got = detect(text, app=app, name=name)
    mod = APPS[got.app]
    raw = source_bytes(data, text, warnings, started)
    parsed = mod.parse(text, got.layout, got.delimiter, got.cells, opts, name, raw)
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
        _, q, _, more = validate_frame(  # the rows are stored as the app wrote them: not kept here
            frame.select(*cols, pl.col("_row").alias("_record")), spec, file=name,
            aliases=dict(opts.aliases), keep=False,
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
    tables = {k: _without(f, quarantined) for k, f in validated.items()}
    skipped_recs = parsed.skipped.get_column("_rec").unique()
    skipped = set(skipped_recs.to_list())
    _check_accounting(parsed, tables, quarantined, skipped_recs)
    quarantine = pl.concat(q_frames, how="vertical").sort("record") if q_frames else None

    unmapped: dict[str, tuple[str, ...]] = {}
    if "sessions" in tables:  # names neither matched nor mapped under [tests], with suggestions
        names = tables["sessions"]["exercise"].unique().drop_nulls().to_list()
        unmapped = sets.unmapped_names(names, opts)
    return Converted(parsed, tables, quarantine, quarantined, skipped, warnings, sorted(unmapped),
                     unmapped)


def _owner_map(links: pl.DataFrame) -> dict[int, int]:
    return dict(zip(links["_rec"].to_list(), links["_owner"].to_list(), strict=True))


def _without(frame: pl.DataFrame, recs: set[int]) -> pl.DataFrame:
    """The rows of ``frame`` whose record is not in ``recs``."""
    if not recs:
        return frame
    return frame.filter(~pl.col("_rec").is_in(pl.Series(list(recs), dtype=pl.Int64).implode()))


def _with_members(recs: pl.Series, links: pl.DataFrame) -> pl.Series:
    """``recs`` (distinct) plus the records merged into them (``links``: member → owner)."""
    recs = recs.cast(pl.Int64).unique()
    if links.height == 0:
        return recs
    members = links.filter(pl.col("_owner").is_in(recs.implode())).get_column("_rec")
    return pl.concat([recs, members.cast(pl.Int64)]).unique()


def _check_accounting(parsed, tables, quarantined: set[int], skipped: pl.Series) -> None:
    """Every record is in exactly one place; else an importer bug (never a silent drop).

    Checked on integer columns: the records of the three places (each place without repeats)
    are ``records`` in number, none repeated and all within 1..records exactly when every record
    is in exactly one place. Sets name the records only when the check fails."""
    parts = [f.get_column("_rec").cast(pl.Int64) for f in tables.values()]
    in_rows = _with_members(
        pl.concat(parts) if parts else pl.Series([], dtype=pl.Int64), parsed.links
    )
    every = pl.concat([in_rows, pl.Series(list(quarantined), dtype=pl.Int64),
                       skipped.cast(pl.Int64).unique()])  # fmt: skip
    n = parsed.records
    if every.len() == n and every.n_unique() == n and (n == 0 or (every.min() >= 1
                                                             and every.max() <= n)):  # fmt: skip
        return
    places = (set(in_rows.to_list()), set(quarantined), set(skipped.to_list()))
    in_rows_, quarantined_, skipped_ = places
    all_ = set(range(1, n + 1))
    lost = all_ - set().union(*places)
    twice = (in_rows_ & quarantined_) | (in_rows_ & skipped_) | (quarantined_ & skipped_)
    stray = set().union(*places) - all_
    if not (lost or twice or stray):
        return
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
    suggestions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # unmapped → ids
    remapped: int = 0  # stored rows updated by a changed [tests]/[aliases] mapping
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
            "exercise_suggestions": {k: list(v) for k, v in self.suggestions.items()},
            "remapped_rows": self.remapped,
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
    # hashed, and the app's canonical files read, while the export is parsed (hashlib, file
    # reads and polars all release the GIL)
    digest = in_background(lambda: hashlib.sha256(data).hexdigest())
    # the stored tables are read, compared and written back under the project lock: another
    # command waits, so neither reads a table the other is about to replace (see store)
    with project_lock(paths):
        existing = _read_existing(paths, data, app)
        conv = convert(data, app=app, options=opts, name=name)
        return _store(conv, paths, data, digest.result(), path.suffix, name, participant, existing)


def _read_existing(paths: ProjectPaths, data: bytes, app: str) -> dict[tuple[str, str], Future]:
    """(kind, app) → the app's canonical file of that kind, being read in a thread; the app is
    detected from the export's first bytes (nothing when that fails: :func:`convert` then says
    why, or the files are read when needed)."""
    try:
        head, _ = decode(data[: 1 << 16], "export")
        got = detect(head, app=app)
    except Exception:  # noqa: BLE001 (convert reports it properly)
        return {}
    kinds = ("sessions", "tests", "diary")
    targets = {kind: store.table_file(paths, kind, got.app) for kind in kinds}
    return {(kind, got.app): in_background(store.read_text_table, target)
            for kind, target in targets.items() if target.exists()}  # fmt: skip


def _store(
    conv: Converted, paths, data, sha, suffix, name, participant, prefetched=None
) -> ImportResult:
    p = conv.parsed
    owner = _owner_map(p.links)
    quarantined = set(conv.quarantined)
    q_frames = [conv.quarantine] if conv.quarantine is not None else []
    plans, remapped = {}, 0
    for kind, frame in conv.tables.items():
        target = store.table_file(paths, kind, p.app)
        pre = (prefetched or {}).get((kind, p.app))
        existing = pre.result() if pre is not None else store.read_text_table(target)
        # a changed [tests]/[aliases] mapping updates the stored rows (not part of identity)
        existing, n_remapped = sets.remap_existing(frame, existing, kind)
        remapped += n_remapped
        new, present, conflict, cols = store.split_new(frame, existing, kind)
        if conflict.height:
            q_frames.append(_conflicts(conflict, name, target, kind))
            quarantined |= set(conflict["_rec"].to_list())
        plans[kind] = (target, existing, new, present, cols, n_remapped)
    quarantined |= {m for m, o in owner.items() if o in quarantined}
    # the canonical rows' provenance is known before they are written (they are appended after
    # the rows already there)
    writes, written, new_parts, present_parts, provenance = [], [], [], [], []
    for kind, (target, existing, new, present, cols, n_remapped) in plans.items():
        new = _without(new, quarantined)
        present_parts.append(present.get_column("_rec"))
        new_parts.append(new.get_column("_rec"))
        if new.height == 0 and not n_remapped:
            continue
        first = existing.height + 1
        srcs = pl.col("_sources") if "_sources" in new.columns else pl.col("_source")
        provenance.append(new.select(
            pl.lit(kind).alias("table"),
            pl.int_range(first, first + pl.len(), dtype=pl.Int64).alias("row"),
            pl.lit(p.app).alias("app"),
            pl.lit(p.layout).alias("layout"),
            pl.lit(sha).alias("file_sha256"),
            srcs.cast(pl.String).alias("source_record"),
        ))  # fmt: skip
        writes.append((target, existing, new, cols, first))
        written.append(str(target))
    quarantine = pl.concat(q_frames, how="vertical").sort("record") if q_frames else None
    q_file = _quarantine_file(paths, p.app, sha)
    q_file = q_file if quarantine is not None and quarantine.height else None
    # One transaction (see store): every file is written under a temporary name (the original's
    # copy and the provenance in threads while the canonical files are written: polars and file
    # writes release the GIL), then all are put in place together
    original = store.original_file(paths, sha, suffix)
    with Transaction(paths) as txn:
        tasks = []
        if not original.exists():
            tasks.append(in_background(store.write_original, txn.stage(original), data))
        if provenance:  # one rewrite of the provenance file for all tables
            prov_file = store.provenance_file(paths, p.app)
            tasks.append(in_background(store.write_provenance, txn.stage(prov_file), prov_file,
                                       pl.concat(provenance)))  # fmt: skip
        try:
            for target, existing, new, cols, first in writes:
                if store.write_rows(txn.stage(target), existing, new, cols) != first:
                    raise RuntimeError(f"importer bug: {target.name} rows numbered from {first}")
            if q_file is not None:
                buf = io.BytesIO()
                quarantine.select(*QUARANTINE_SCHEMA).write_csv(buf)
                txn.stage(q_file).write_bytes(buf.getvalue())
            elif _quarantine_file(paths, p.app, sha).exists():  # clean now: the old one goes
                txn.delete(_quarantine_file(paths, p.app, sha))
        finally:
            errors = [t.exception() for t in tasks]  # every write finishes before anything raises
        for e in errors:
            if e is not None:
                raise e
        txn.commit()
    every = pl.Series([], dtype=pl.Int64)
    q_recs = pl.Series(list(quarantined), dtype=pl.Int64).implode()
    new_recs = _without(pl.concat([every, *new_parts]).to_frame("_rec"), quarantined)
    new_recs = _with_members(new_recs.get_column("_rec"), p.links)
    present_recs = pl.concat([every, *present_parts]).cast(pl.Int64).unique()
    present_recs = present_recs.filter(
        ~present_recs.is_in(new_recs.implode()) & ~present_recs.is_in(q_recs)
    )
    present_recs = _with_members(present_recs, p.links)
    n_q = len(quarantined)
    n_s = len(conv.skipped)
    result = ImportResult(
        app=p.app, layout=p.layout, file=name, sha256=sha, participant=participant,
        records=p.records, new=new_recs.len(), already_present=present_recs.len(), skipped=n_s,
        quarantined=n_q, unmapped_exercises=conv.unmapped_exercises, unmapped=p.unmapped,
        suggestions=conv.suggestions, remapped=remapped,
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
            f"{target.name}: edited in the app since the earlier import, a different --units "
            "(or [units] weight) than then, or a changed [aliases] or [tests] mapping? Import "
            "with the earlier setting, or delete the old row there to take the new values"
        ).alias("reason"),
        pl.lit(None, dtype=pl.String).alias("raw"),
        "_rec",
    ).cast({**QUARANTINE_SCHEMA, "_rec": pl.Int64})


def _quarantine_file(paths: ProjectPaths, app: str, sha: str) -> Path:
    return paths.quarantine / f"import-{app}-{sha[:12]}.quarantine.csv"


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
