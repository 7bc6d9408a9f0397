"""Pieces every importer shares: decoding, CSV records, app date formats, units, problems.

An importer turns an export into a :class:`Parsed`: canonical tables of text columns (named as in
:mod:`rehab.schema`) plus, for every *import record* (a set, or a diary reading), where it came
from. ``_rec`` numbers the import records 1..records; ``_source`` is the record number in the export
(data rows counted from 1 after the header; a JEFIT log row packing three sets gives three import
records with one ``_source``, its line). Every import record ends in exactly one of: a table row
(possibly shared with other records, see ``links``), ``problems`` (quarantined with a reason) or
``skipped`` (it carries no set or diary value: a rest timer, a note row, a food-diary entry).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
import unicodedata
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field

import polars as pl

from rehab.io import ReadError, count_byte, decode_bytes, fields_add_up, in_background
from rehab.schema import DEFAULT_PARTICIPANT

# The international avoirdupois pound (1959): exactly 0.45359237 kg.
LB_KG = 0.45359237
KG_DECIMALS = 3  # gram precision: 5 lb is 2.268 kg whether the app or the kit converted it

WEIGHT_UNITS = {"kg": 1.0, "kgs": 1.0, "lb": LB_KG, "lbs": LB_KG}

PROBLEM_SCHEMA = {
    "_rec": pl.Int64,
    "_source": pl.Int64,
    "column": pl.String,
    "value": pl.String,
    "reason": pl.String,
}
SKIP_SCHEMA = {"_rec": pl.Int64, "reason": pl.String}
LINK_SCHEMA = {"_rec": pl.Int64, "_owner": pl.Int64}


class ImportFormatError(ReadError):
    """An export that cannot be used at all; the message says why and what to do."""


@dataclass(frozen=True)
class Options:
    """Settings an importer needs (from the command line and ``rehab.toml``)."""

    participant: str = DEFAULT_PARTICIPANT
    units: str | None = None  # kg | lb: weight unit of exports that carry none
    aliases: Mapping[str, str] = field(default_factory=dict)
    test_exercises: Mapping[str, str] = field(default_factory=dict)
    moods: Mapping[str, float] = field(default_factory=dict)
    bearable_severity: tuple[float, ...] | None = None
    bearable_symptoms: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Parsed:
    """What an importer read; see the module docstring."""

    app: str
    layout: str
    records: int
    tables: dict[str, pl.DataFrame]
    problems: pl.DataFrame
    skipped: pl.DataFrame
    links: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=LINK_SCHEMA))
    warnings: list[str] = field(default_factory=list)
    repaired: list[int] = field(default_factory=list)
    unmapped: dict[str, list[str]] = field(default_factory=dict)
    hints: dict[str, str] = field(default_factory=dict)  # column → text added to its rejections


# --- text and records --------------------------------------------------------------------------


def decode(raw: bytes, name: str) -> tuple[str, list[str]]:
    """Text without BOM, line ends as LF; decoded as the kit's reader does (UTF-8, else cp1252 or
    latin-1 with a warning)."""
    if b"\x00" in raw[:65536]:
        raise ImportFormatError(f"{name}: a binary file (it holds NUL bytes), not an app export")
    text, _, warnings = decode_bytes(raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw, name)
    # CRLF and old-Mac CR line ends read as LF, as the kit's own reader does (most exports have
    # none: a search is far cheaper than two replacements of a large text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, warnings


def header_line(text: str) -> str:
    """The first non-blank line."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line = text[start:end].rstrip("\r")
        if line.strip():
            return line
        start = end + 1
    return ""


def header_cells(line: str, delim: str) -> list[str]:
    """Header names as written (quotes removed, spaces trimmed)."""
    try:
        return [c.strip() for c in next(csv.reader([line], delimiter=delim), [])]
    except csv.Error:  # a stray CR: not any app's header
        return [line]


def norm_header(cells: list[str]) -> list[str]:
    """Case-folded, accent-kept, curly apostrophes straightened: for matching known headers."""
    return [c.strip().strip('"').replace("\u2019", "'").casefold() for c in cells]


@dataclass
class Rows:
    """Records of a CSV body: string columns ('' for empty) and ``_source`` (1-based)."""

    frame: pl.DataFrame
    bad: list[tuple[int, str, str]]  # record, reason, raw text
    repaired: list[int]
    records: int


_LEADING_BLANKS = re.compile(r"\A(?:[ \t]*\n)+")


def match_layout(cells: list[str], layouts: Mapping[str, str]) -> str | None:
    """The layout (id → comma-separated header) whose header these cells are, or None."""
    names = norm_header(cells)
    for layout, header in layouts.items():
        if names == norm_header(header.split(",")):
            return layout
    return None


def _cols(n: int) -> list[str]:
    return [f"c{i}" for i in range(n)]


def read_rows(
    text: str,
    delim: str,
    names: list[str],
    *,
    skip_lines: int = 1,
    repair: Callable[[list[str]], list[str] | None] | None = None,
    raw: Source | bytes | None = None,
) -> Rows:
    """Parse the records after ``skip_lines`` header lines into string columns named ``names``.

    Fast path: ``polars.read_csv`` when every record has ``ncol`` fields (checked first, because
    polars pads a short record silently). Else Python's csv module, record by record: a record with
    the wrong number of fields is handed to ``repair`` (which returns the fixed fields or None) and
    otherwise reported in ``bad``. Blank lines are not records.

    ``raw``: the export's bytes when they are ``text`` in UTF-8 (after a BOM at most: see
    :func:`source_bytes`); polars then reads them as they are, without a copy of the text (and a
    :class:`Source` may have started that read already).
    """
    rows = _read_rows(text, delim, len(names), skip_lines, repair, raw)
    rows.frame = rows.frame.rename(dict(zip(_cols(len(names)), names, strict=True)))
    return rows


def _read_rows(text, delim, ncol, skip_lines, repair, raw) -> Rows:
    # blank lines before the header are not records (detection skips them too: header_line)
    blank = _LEADING_BLANKS.match(text)
    start = blank.end() if blank else 0
    for _ in range(skip_lines):
        end = text.find("\n", start)
        start = len(text) if end < 0 else end + 1
    if ncol > 1 and len(text) - start > 200_000:
        head = text[:start]  # the lines polars skips: blank ones, then the header
        if isinstance(raw, Source):
            rows = raw.rows(delim, ncol, head.count("\n"), head.count(delim))
        elif raw is not None:
            rows = _fast_rows(raw, delim, ncol, head.count("\n"), head.count(delim))
        else:
            rows = _fast_rows(text[start:].encode("utf-8"), delim, ncol, 0, 0)
        if rows is not None:
            return rows
    return _read_rows_python(text[start:], delim, ncol, repair)


def _fast_rows(raw: bytes, delim: str, ncol: int, skip: int, skipped: int) -> Rows | None:
    """polars' read of the records after the first ``skip`` lines (which hold ``skipped``
    delimiters), or None when the csv module must read them (see :func:`read_rows`)."""
    try:
        frame = pl.read_csv(
            raw,
            has_header=False,
            skip_lines=skip,
            separator=delim,
            infer_schema=False,
            new_columns=_cols(ncol),
            quote_char='"',
            empty_string_is_null=False,
        )
    except pl.exceptions.PolarsError:
        return None  # a record with too many fields (or bytes not UTF-8): the csv module reports it
    # the header lines' delimiters are not the records'; a blank line is padded (so it fails too)
    if not fields_add_up(frame, _cols(ncol), count_byte(raw, delim) - skipped, delim,
                         quoted=b'"' in raw):
        return None
    # one chunk: each column later added to a frame in chunks costs a copy of the frame
    frame = frame.rechunk().with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("_source")
    )
    return Rows(frame, [], [], frame.height)


class Source:
    """An export's bytes that are its text in UTF-8, after a BOM at most (see :func:`source_bytes`),
    for :func:`read_rows`. Its records can be read before the text is decoded: :meth:`start`
    reads them in a thread (polars releases the GIL while Python decodes), :meth:`rows` takes
    that read when it was started alike."""

    def __init__(self, data: bytes):
        self.data = data
        self._reads: dict[tuple, Future] = {}

    def start(self, delim: str, ncol: int, skip: int, skipped: int) -> Source:
        key = (delim, ncol, skip, skipped)
        if key not in self._reads:
            self._reads[key] = in_background(_fast_rows, self.data, *key)
        return self

    def rows(self, delim: str, ncol: int, skip: int, skipped: int) -> Rows | None:
        job = self._reads.pop((delim, ncol, skip, skipped), None)
        return (
            job.result() if job is not None else _fast_rows(self.data, delim, ncol, skip, skipped)
        )


def start_read(data: bytes, app: str = "auto") -> Source | None:
    """A :class:`Source` of a large export with the read of its records started, for the layout
    its first bytes show (None when they show none, or the read would not be used)."""
    from rehab.importers import detect  # the registry of apps lives there

    if len(data) <= 200_000 or b"\r" in data:  # small, or line ends the text will change
        return None
    try:
        head, _ = decode(data[: 1 << 16], "export")
        got = detect(head, app=app)
    except Exception:  # noqa: BLE001 (the full decode and detection report it)
        return None
    blank = _LEADING_BLANKS.match(head)
    end = head.find("\n", blank.end() if blank else 0)
    if got.app == "jefit" or end < 0:
        return None
    lines = head[: end + 1]
    return Source(data).start(
        got.delimiter, len(got.cells), lines.count("\n"), lines.count(got.delimiter)
    )


def export_app(path) -> tuple[str, str] | None:
    """(app, layout) when a file starts with a known app export's header, else None: how
    ``rehab validate`` tells an export dropped into data/raw from a log (it reads the first
    64 KiB only)."""
    from rehab.importers import detect  # the registry of apps lives there

    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
        text, _ = decode(head, str(path))
        got = detect(text)
    except (OSError, ReadError):
        return None
    return got.app, got.layout


def source_bytes(
    data: bytes, text: str, warnings: list[str], started: Source | None = None
) -> Source | None:
    """The export's bytes for :func:`read_rows` (``started``, if given) when they are ``text`` in
    UTF-8 after a BOM at most, else None.

    :func:`decode` changes nothing else when the bytes are UTF-8 (it warns otherwise) and hold
    no CR (line ends made LF)."""
    if warnings or b"\r" in data:
        return None
    return started if started is not None else Source(data)


def _read_rows_python(body, delim, ncol, repair) -> Rows:
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delim, quotechar='"', strict=False)
    cols: list[list[str]] = [[] for _ in range(ncol)]
    sources: list[int] = []
    bad: list[tuple[int, str, str]] = []
    repaired: list[int] = []
    rec = 0
    for row in reader:
        if not row or (len(row) == 1 and not row[0].strip() and ncol > 1):
            continue
        rec += 1
        if len(row) != ncol:
            fixed = repair(row) if repair is not None else None
            if fixed is None or len(fixed) != ncol:
                more = "more" if len(row) > ncol else "fewer"
                bad.append(
                    (
                        rec,
                        f"the record has {len(row)} fields, {more} than the header's {ncol}",
                        delim.join(row),
                    )
                )
                continue
            row = fixed
            repaired.append(rec)
        for i, v in enumerate(row):
            cols[i].append(v)
        sources.append(rec)
    frame = pl.DataFrame(
        {c: pl.Series(c, v, dtype=pl.String) for c, v in zip(_cols(ncol), cols, strict=True)}
    ).with_columns(pl.Series("_source", sources, dtype=pl.Int64))
    return Rows(frame, bad, repaired, rec)


def bad_rows_problems(rows: Rows) -> pl.DataFrame:
    """Problems for records that could not be split into the header's columns (``_rec`` = record)."""
    return pl.DataFrame(
        {
            "_rec": [b[0] for b in rows.bad],
            "_source": [b[0] for b in rows.bad],
            "column": [None] * len(rows.bad),
            "value": [b[2][:200] for b in rows.bad],
            "reason": [b[1] for b in rows.bad],
        },
        schema=PROBLEM_SCHEMA,
    )


# --- values ------------------------------------------------------------------------------------


def text(c: str | pl.Expr) -> pl.Expr:
    """Trimmed text, null when empty."""
    e = pl.col(c) if isinstance(c, str) else c
    e = e.str.strip_chars()
    return pl.when(e == "").then(None).otherwise(e)


def number(c: str | pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(value, is_bad): a finite number or null when empty; ``8,5`` is read as 8.5."""
    raw = text(c)
    v = raw.str.replace(r"^([+-]?\d+),(\d+)$", "$1.$2").cast(pl.Float64, strict=False)
    bad = raw.is_not_null() & (v.is_null() | v.is_nan() | v.is_infinite())
    return pl.when(bad).then(None).otherwise(v), bad


def add_numbers(frame: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
    """Add ``_n_<c>`` (the number, null when empty or bad) and ``_b_<c>`` (not a number) per column.

    :func:`number`, cheaply: these columns are the bulk of a large export. A plain cast of the
    value as written comes first; where it gives a number, :func:`number` gives the same one (the
    cast takes no surrounding space and no comma, so there was nothing to trim or replace), and
    where the value is null or empty both give null. Only a column holding some other value that
    the cast refused is parsed again by :func:`number`, in stages (polars does not share the
    repeated sub-expressions)."""
    if not cols:
        return frame
    frame = frame.with_columns(
        pl.col(c).cast(pl.Float64, strict=False).alias(f"_v_{c}") for c in cols
    )
    refused = frame.select(
        (pl.col(f"_v_{c}").is_null() & pl.col(c).is_not_null() & (pl.col(c) != "")).any().alias(c)
        for c in cols
    ).row(0, named=True)
    slow = [c for c in cols if refused[c]]
    fast = [c for c in cols if not refused[c]]
    exprs = []
    for c in fast:
        v = pl.col(f"_v_{c}")
        exprs += [
            (v.is_not_null() & ~v.is_finite()).alias(f"_b_{c}"),
            pl.when(v.is_finite()).then(v).alias(f"_n_{c}"),
        ]
    if slow:
        frame = frame.with_columns(text(c).alias(f"_t_{c}") for c in slow)
        frame = frame.with_columns(
            pl.col(f"_t_{c}").str.replace(r"^([+-]?\d+),(\d+)$", "$1.$2")
            .cast(pl.Float64, strict=False).alias(f"_v_{c}")
            for c in slow
        )  # fmt: skip
        frame = frame.with_columns(
            (pl.col(f"_t_{c}").is_not_null() & ~pl.col(f"_v_{c}").is_finite().fill_null(False))
            .alias(f"_b_{c}")
            for c in slow
        )  # fmt: skip
        exprs += [
            pl.when(pl.col(f"_b_{c}")).then(None).otherwise(pl.col(f"_v_{c}")).alias(f"_n_{c}")
            for c in slow
        ]
    return frame.with_columns(exprs).drop([f"_t_{c}" for c in slow] + [f"_v_{c}" for c in cols])


@dataclass
class Checks:
    """Collects (column label, is_bad, value, reason) checks; the first that fails is reported."""

    items: list[tuple[str, pl.Expr, pl.Expr, str]] = field(default_factory=list)

    def add(self, column: str, bad: pl.Expr, value: pl.Expr, reason: str) -> None:
        self.items.append((column, bad.fill_null(False), value.cast(pl.String), reason))

    def apply(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Add ``_pcol``, ``_pval``, ``_problem``: the first failing check's column, value, reason.

        Each check is first tested on the whole column (does any row fail it?); only those that
        some row fails are evaluated again, once (the index of the first failure), then looked
        up. A clean export (the common case) costs one pass."""
        none = pl.lit(None, dtype=pl.String)
        failing = (
            frame.select(
                bad.any().alias(str(i)) for i, (_, bad, _, _) in enumerate(self.items)
            ).row(0)
            if self.items and frame.height
            else [False] * len(self.items)
        )
        items = [item for item, fails in zip(self.items, failing, strict=True) if fails]
        if not items:
            return frame.with_columns(none.alias("_pcol"), none.alias("_pval"),
                                      none.alias("_problem"))  # fmt: skip
        idx = pl.lit(None, dtype=pl.Int32)
        for i, (_, bad, _, _) in reversed(list(enumerate(items))):
            idx = pl.when(bad).then(pl.lit(i, dtype=pl.Int32)).otherwise(idx)
        frame = frame.with_columns(idx.alias("_pidx"))
        i = pl.col("_pidx")
        val = none
        for k, (_, _, value, _) in enumerate(items):
            val = pl.when(i == k).then(value).otherwise(val)
        names = {k: item[0] for k, item in enumerate(items)}
        reasons = {k: item[3] for k, item in enumerate(items)}
        return frame.with_columns(
            i.replace_strict(names, default=None, return_dtype=pl.String).alias("_pcol"),
            pl.when(i.is_not_null()).then(val).alias("_pval"),
            i.replace_strict(reasons, default=None, return_dtype=pl.String).alias("_problem"),
        ).drop("_pidx")


def map_unique(
    e: pl.Expr | str,
    fn: Callable,
    dtype: pl.DataType,
    fast: Callable[[pl.Series], pl.Series] | None = None,
) -> pl.Expr:
    """Apply a Python function once per distinct value (dates repeat on every row of a workout).

    ``fast``, a vectorised parse, goes first; ``fn`` then sees only the values it left null."""
    e = pl.col(e) if isinstance(e, str) else e
    return e.map_batches(
        lambda s: _map_series(s, fn, dtype, fast), return_dtype=dtype, is_elementwise=True
    )


def _map_series(s: pl.Series, fn: Callable, dtype, fast=None) -> pl.Series:
    values = s.unique().drop_nulls()
    if values.len() == s.len() - s.null_count():  # all distinct: nothing to share
        got = fast(s) if fast is not None else None
        todo = s if got is None else s.filter(got.is_null() & s.is_not_null())
        if got is not None and todo.len() == 0:
            return got
        mapping = {u: fn(u) for u in todo.unique().to_list() if u is not None}
        slow = s.replace_strict(mapping, default=None, return_dtype=dtype)
        return slow if got is None else got.fill_null(slow)
    mapped = _map_series(values, fn, dtype, fast)
    return s.replace_strict(values, mapped, default=None, return_dtype=dtype)


def codes(s: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(code, values) of a text column: ``values`` its distinct values, ``code`` (UInt32) each row's
    index into them, ``len(values)`` for a null. Exact (an Enum of the values, no hashing), so
    rows can be grouped, sorted and mapped by small integers instead of their text."""
    values = s.unique().drop_nulls()
    code = s.cast(pl.Enum(values)).to_physical().cast(pl.UInt32)
    return code.fill_null(values.len()), values


def per_value(
    s: pl.Series,
    exprs: Mapping[str, pl.Expr],
    coded: tuple[pl.Series, pl.Series] | None = None,
) -> dict[str, pl.Series]:
    """Columns computed once per distinct value of ``s`` (expressions over ``pl.col(s.name)``),
    then gathered to its rows. ``coded``: ``codes(s)``, when already known.

    Dates, exercise names and set markers repeat on thousands of rows: parsing each distinct
    value once, then gathering, costs a fraction of a parse per row."""
    code, values = coded if coded is not None else codes(s)
    table = pl.concat(
        [values.to_frame(s.name), pl.Series(s.name, [None], dtype=pl.String).to_frame()]
    )
    table = table.select(expr.alias(name) for name, expr in exprs.items())
    return {name: table.get_column(name).gather(code) for name in exprs}


def iso_stamp(s: pl.Series) -> pl.Series:
    """``YYYY-MM-DD HH:MM[:SS]`` as ``YYYY-MM-DD HH:MM`` (null where it is not that)."""
    t = s.str.strptime(pl.Datetime, "%Y-%m-%d %H:%M:%S", strict=False)
    return t.dt.strftime("%Y-%m-%d %H:%M")


def fmt_number(e: pl.Expr, decimals: int = KG_DECIMALS) -> pl.Expr:
    """A number as canonical text: ``10`` for whole numbers, else rounded to ``decimals``.

    Formatted once per distinct value (a column of reps or loads holds few), then mapped."""
    return e.map_batches(
        lambda s: _fmt_series(s, decimals), return_dtype=pl.String, is_elementwise=True
    )


def _fmt_expr(e: pl.Expr, decimals: int) -> pl.Expr:
    r = e.round(decimals)
    whole = (r == r.round(0)) & (r.abs() < 1e15)
    return (
        pl.when(whole)
        .then(r.cast(pl.Int64, strict=False).cast(pl.String))
        .otherwise(r.cast(pl.String))
    )


def _fmt_series(s: pl.Series, decimals: int) -> pl.Series:
    if s.len() < 1000:
        return s.to_frame("v").select(_fmt_expr(pl.col("v"), decimals)).to_series()
    # unique() takes -0.0 and 0.0 as one value: both are written "0"
    values = s.drop_nulls().unique()
    if values.len() > s.len() // 2:
        return s.to_frame("v").select(_fmt_expr(pl.col("v"), decimals)).to_series()
    text = values.to_frame("v").select(_fmt_expr(pl.col("v"), decimals)).to_series()
    return s.replace_strict(values, text, default=None, return_dtype=pl.String)


def to_kg(value: pl.Expr, unit: pl.Expr | str) -> pl.Expr:
    """Weight in kg from a value and a unit (kg, kgs, lb, lbs)."""
    u = pl.lit(unit) if isinstance(unit, str) else unit
    factor = (
        u.str.strip_chars()
        .str.strip_chars(".")
        .str.to_lowercase()
        .replace_strict(WEIGHT_UNITS, default=None, return_dtype=pl.Float64)
    )
    return pl.when(value == 0).then(pl.lit(0.0)).otherwise(value * factor)


# --- dates and times in app formats ------------------------------------------------------------

_MONTHS = {
    1: "jan january januar janner janv janvier ene enero gen gennaio janeiro januari sty stycznia styczen",
    2: "feb february februar fevr fevrier febrero febbraio fev fevereiro februari lut lutego luty",
    3: "mar march marz maerz mrz mars marzo marco maart marca marzec",
    4: "apr april avr avril abr abril aprile kwi kwietnia kwiecien",
    5: "may mai mayo mag maggio maio mei maj maja",
    6: "jun june juni juin junio giu giugno junho cze czerwca czerwiec",
    7: "jul july juli juil juillet julio lug luglio julho lip lipca lipiec",
    8: "aug august aout ago agosto augustus sie sierpnia sierpien",
    9: "sep sept september septembre septiembre setiembre set settembre setembro wrz wrzesnia wrzesien",
    10: "oct october okt oktober octobre octubre ott ottobre out outubro paz pazdziernika pazdziernik",
    11: "nov november novembre noviembre novembro lis listopada listopad",
    12: "dec december dez dezember decembre dic diciembre dicembre dezembro gru grudnia grudzien",
}
MONTHS = {w: m for m, words in _MONTHS.items() for w in words.split()}

_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([ap])\.?\s?m\.?)?(?![\w])")
_TOKEN = re.compile(r"\d+|[^\W\d_]+", re.UNICODE)


def fold(s: str) -> str:
    """Lower case, accents removed, narrow/no-break spaces made spaces."""
    s = s.replace("\u202f", " ").replace("\u00a0", " ")
    s = unicodedata.normalize("NFKD", s)
    return "".join(ch for ch in s if not unicodedata.combining(ch)).lower()


@functools.lru_cache(maxsize=65536)
def parse_datetime(value: str, year: int | None = None) -> tuple[str, str | None] | None:
    """(ISO date, HH:MM or None) from the date formats apps write, or None when not understood.

    ISO ``2024-07-29 17:01:32``; day-month-year with a month name in English, German, French,
    Spanish, Italian, Portuguese, Dutch or Polish (``15 Sep 2025, 07:48``, ``25 Juli 2026, 14:21``,
    ``18 sept. 2026``, ``22nd Sep 2020``, ``16 de octubre``); month-day-year (``Jun 11, 2026,
    1:01 PM``); 12-hour clocks with or without U+202F before AM/PM. ``year`` fills a date
    written without one (Daylio's oldest layout). All-numeric dates other than ISO are ambiguous
    (03/04) and not guessed.
    """
    s = fold(value).strip()
    if not s:
        return None
    m = _ISO.match(s)
    if m:
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
        hh = mm = None
        if m[4] is not None:
            hh, mm = int(m[4]), int(m[5])
        return _make(y, mo, d, hh, mm)
    hh = mm = None
    c = _CLOCK.search(s)
    if c:
        hh, mm = int(c[1]), int(c[2])
        if c[4]:
            if not 1 <= hh <= 12:
                return None
            hh = hh % 12 + (12 if c[4] == "p" else 0)
        s = s[: c.start()] + " " + s[c.end() :]
    nums: list[int] = []
    month = None
    for tok in _TOKEN.findall(s):
        if tok.isdecimal():  # what int() reads: not isdigit(), which admits ² and ፩
            nums.append(int(tok))
        elif tok in MONTHS and month is None:
            month = MONTHS[tok]
        elif tok in ("st", "nd", "rd", "th", "de", "del", "of", "am", "pm") or tok in _WEEKDAYS:
            continue
        else:
            return None
    if month is None:
        return None
    years = [n for n in nums if n >= 1000]
    days = [n for n in nums if n < 100]
    if len(years) > 1 or len(days) != 1 or len(nums) != len(years) + len(days):
        return None
    y = years[0] if years else year
    if y is None:
        return None
    return _make(y, month, days[0], hh, mm)


_WEEKDAYS = set(
    [
        "mon",
        "tue",
        "tues",
        "wed",
        "thu",
        "thur",
        "thurs",
        "fri",
        "sat",
        "sun",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "montag",
        "dienstag",
        "mittwoch",
        "donnerstag",
        "freitag",
        "samstag",
        "sonntag",
        "lundi",
        "mardi",
        "mercredi",
        "jeudi",
        "vendredi",
        "samedi",
        "dimanche",
        "lunes",
        "martes",
        "miercoles",
        "jueves",
        "viernes",
        "sabado",
        "domingo",
    ]
)


def _make(y, mo, d, hh, mm) -> tuple[str, str | None] | None:
    try:
        date = dt.date(y, mo, d)
    except ValueError:
        return None
    if hh is None:
        return date.isoformat(), None
    if not (0 <= hh < 24 and 0 <= mm < 60):
        return None
    return date.isoformat(), f"{hh:02d}:{mm:02d}"


def parse_stamp(value: str) -> str | None:
    """``YYYY-MM-DD HH:MM`` (a sortable workout start) from an app's date and time, or None when
    the value is not understood or carries no time."""
    got = parse_datetime(value)
    if got is None or got[1] is None:
        return None
    return f"{got[0]} {got[1]}"


@functools.lru_cache(maxsize=4096)
def parse_clock(value: str) -> str | None:
    """``HH:MM`` from ``20:39``, ``5:01 PM``, ``9:23\u202fPM``, or None."""
    s = fold(value).strip()
    m = _CLOCK.fullmatch(s)
    if not m:
        return None
    hh, mm = int(m[1]), int(m[2])
    if m[4]:
        if not 1 <= hh <= 12:
            return None
        hh = hh % 12 + (12 if m[4] == "p" else 0)
    return f"{hh:02d}:{mm:02d}" if hh < 24 and mm < 60 else None


_DURATION = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(h|hr|hrs|hours?|std|stunden?|m|min|mins|minutes?|s|sec|secs|seconds?|sek)\b"
)
MAX_WORKOUT_MIN = 12 * 60  # longer "workouts" are timers left running (Strong: ``264h 1m``)


@functools.lru_cache(maxsize=4096)
def parse_duration_min(value: str) -> float | None:
    """Minutes from free-text durations (``1h 6m``, ``38min``, ``55s``), or None."""
    s = fold(value).strip()
    if not s:
        return None
    total = 0.0
    end = 0
    found = False
    for m in _DURATION.finditer(s):
        if s[end : m.start()].strip():
            return None
        end = m.end()
        found = True
        n = float(m[1].replace(",", "."))
        unit = m[2]
        if unit[0] == "h" or unit.startswith("st"):
            total += n * 60
        elif unit[0] == "m":
            total += n
        else:
            total += n / 60
    if not found or s[end:].strip():
        return None
    return round(total, 2)


def slug(name: str) -> str:
    """A name as an id: lower case words joined by ``_``."""
    return "_".join(re.findall(r"[a-z0-9]+", fold(name))) or "exercise"
