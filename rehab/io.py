"""Read the kit's CSV files into validated canonical tables, quarantining what is wrong.

Nothing is lost: for every file, records read = accepted + quarantined + exact duplicates (kept once).
A file that cannot be used at all (unreadable, empty, a required column missing) raises
:class:`ReadError` naming the file and what is wrong, and nothing is written.

Two parsing paths give the same table (a property test holds them to it): small files go through
Python's ``csv`` module, which knows each record's line; large files are memory-mapped and read by
``polars.read_csv`` with the numeric columns typed (whole numbers as Int64, others as Float64, all
text when a value does not parse), falling back to the first path when a record is short, a lone CR
ends a line, the fields do not add up, a record of empty fields stands where polars saw a blank
line, or a quote stands where the two parsers read it differently (a malformed quoted field).
Validation is the same polars expressions for both; checks a whole column cannot fail (from its
null counts, minimum and maximum) are not run row by row, columns of few distinct values
(participant, time, exercise) are tested on those values, and values as written are fetched for
rejected records only.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import io
import json
import mmap
import re
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import polars as pl

from rehab.exercises import alias_table, normalise
from rehab.instruments import items_problem, score_problem
from rehab.paths import ProjectPaths, atomic_write_bytes, project_lock, recover
from rehab.schema import (
    DEFAULT_PARTICIPANT,
    DIARY,
    PARTICIPANT_PATTERN,
    PARTICIPANT_RULE,
    PHASES,
    QUESTIONNAIRES,
    REPS_SUFFIX,
    SCORE_RANGES,
    SESSIONS,
    TABLES,
    TEST_IDS,
    TESTS,
    TableSpec,
    spec_for_file,
)

# Files above this size take the polars path (line numbers then known only without multi-line notes).
FAST_PATH_BYTES = 5_000_000
# Queries over a table already in memory: the in-memory engine runs them about 10% faster than
# the streaming one (the default since polars 2)
ENGINE = "in-memory"
TRUE_WORDS = ("yes", "y", "true", "t", "1")
FALSE_WORDS = ("no", "n", "false", "f", "0")

QUARANTINE_SCHEMA = {
    "file": pl.String,
    "record": pl.Int64,
    "line": pl.Int64,
    "column": pl.String,
    "value": pl.String,
    "reason": pl.String,
    "raw": pl.String,
}


class ReadError(ValueError):
    """A file that cannot be used at all. Its message names the file and what to do."""


@dataclass(frozen=True)
class ReadResult:
    """What reading one file gave.

    ``data``: accepted records in canonical columns and types; ``quarantine``: one row per rejected
    record (file, record, line, column, value, reason, raw); ``records`` = accepted + quarantined +
    duplicates."""

    path: str
    kind: str
    data: pl.DataFrame
    quarantine: pl.DataFrame
    records: int
    duplicates: int
    warnings: tuple[str, ...] = ()
    encoding: str = "utf-8"
    delimiter: str = ","

    @property
    def accepted(self) -> int:
        return self.data.height

    @property
    def quarantined(self) -> int:
        return self.quarantine.height

    @property
    def ok(self) -> bool:
        return self.quarantined == 0

    def as_dict(self, *, max_issues: int | None = None) -> dict:
        q = self.quarantine if max_issues is None else self.quarantine.head(max_issues)
        return {
            "path": self.path,
            "kind": self.kind,
            "records": self.records,
            "accepted": self.accepted,
            "quarantined": self.quarantined,
            "duplicates": self.duplicates,
            "warnings": list(self.warnings),
            "issues": q.select("record", "line", "column", "value", "reason").to_dicts(),
        }


# --- decoding and splitting ------------------------------------------------------------------------


def decode_bytes(raw: bytes, path: str) -> tuple[str, str, list[str]]:
    """Text, encoding name, warnings. UTF-8 (with or without BOM) first, then cp1252, then latin-1."""
    try:
        return raw.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError as e:
        where = f"byte {e.start}"
    for enc in ("cp1252", "latin-1"):
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        return text, enc, [
            f"{path}: not valid UTF-8 (first bad {where}); decoded as {enc}. "
            "Check accented letters, then save the file as UTF-8 to silence this warning."
        ]
    raise ReadError(f"{path}: cannot decode the text")  # latin-1 decodes any byte: unreachable


def sniff_delimiter(header: str) -> str:
    """``,``, ``;`` or tab: whichever occurs most outside quotes in the header line."""
    counts = {d: 0 for d in (",", ";", "\t")}
    in_q = False
    for ch in header:
        if ch == '"':
            in_q = not in_q
        elif not in_q and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _norm_col(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


@dataclass
class _Parsed:
    frame: pl.DataFrame  # string columns, normalised names, plus _record and _line
    bad: list[tuple[int, int | None, str, str]] = field(default_factory=list)  # record, line, why, raw
    records: int = 0


def _parse_python(text: str, delim: str, header: list[str]) -> _Parsed:
    # CRLF and old Mac CR line ends become LF (the csv module rejects a bare CR in a field)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, quotechar='"', strict=False)
    next(reader, None)
    ncol = len(header)
    cols: list[list[str | None]] = [[] for _ in range(ncol)]
    recs: list[int] = []
    lines: list[int] = []
    bad = []
    rec = 0
    start_line = reader.line_num + 1
    for row in reader:
        line = start_line
        start_line = reader.line_num + 1
        if not row or (len(row) == 1 and row[0].strip() == "" and ncol > 1):
            continue  # a blank line is not a record
        rec += 1
        if len(row) != ncol:
            kind = "more" if len(row) > ncol else "fewer"
            hint = ("its extra fields are empty: a trailing delimiter? remove it"
                    if len(row) > ncol and not "".join(row[ncol:]).strip()
                    else "an unquoted delimiter in a text field? quote the field")
            bad.append((rec, line, f"the record has {len(row)} fields, {kind} than the header's "
                        f"{ncol} ({hint})", delim.join(row)))
            continue
        for i, v in enumerate(row):
            cols[i].append(v or None)  # an empty field is a missing value, as in the fast path
        recs.append(rec)
        lines.append(line)
    data = {h: pl.Series(h, c, dtype=pl.String) for h, c in zip(header, cols, strict=True)}
    frame = pl.DataFrame(data).with_columns(
        pl.Series("_record", recs, dtype=pl.Int64), pl.Series("_line", lines, dtype=pl.Int64)
    )
    return _Parsed(frame, bad, rec)


def in_background(fn, *args):
    """Run ``fn(*args)`` in a thread; the returned future's ``result()`` waits for it (and raises
    what it raised). For work that releases the GIL (polars, numpy, hashing, file writes): on a
    machine with cores to spare, independent steps then run side by side. Not for work that calls
    back into Python from polars (``map_batches``), and such work only once the threads' polars
    work is done: a polars thread waiting for the GIL would wait on a thread holding it while it
    waits for polars."""
    from concurrent.futures import Future

    future: Future = Future()

    def run():
        try:
            future.set_result(fn(*args))
        except BaseException as e:  # noqa: BLE001 (handed to the caller by result())
            future.set_exception(e)

    threading.Thread(target=run, daemon=True).start()
    return future


def count_byte(data, char: str) -> int:
    """How many times the one-byte ``char`` occurs in ``data`` (bytes, a memory map or a uint8
    array): numpy compares a MiB at a time, far cheaper than ``bytes.count``, no big temporary."""
    import numpy as np

    a = data if isinstance(data, np.ndarray) else np.frombuffer(data, dtype=np.uint8)
    chunk, byte = 1 << 20, ord(char)
    return sum(int(np.count_nonzero(a[i:i + chunk] == byte)) for i in range(0, len(a), chunk))


def fields_add_up(frame: pl.DataFrame, columns: list[str], delimiters: int, delim: str, *,
                  quoted: bool) -> bool:
    """True when every record that polars read into ``frame`` has all its fields.

    polars fills a short record's missing fields with nulls, as if they were empty (and rejects a
    long one). A full record holds ``len(columns) - 1`` delimiters besides those inside quoted
    values, so the ``delimiters`` of the records' lines add up exactly when no record is short.
    ``quoted``: whether the bytes hold a quote at all; without one no value holds a delimiter, else
    each text column's values are joined and counted at once (cheaper than value by value)."""
    inside = 0
    text = [c for c in columns if frame.schema[c] == pl.String] if quoted else []
    if text:
        inside = frame.select(pl.sum_horizontal(
            pl.col(c).str.join("").str.count_matches(delim, literal=True) for c in text)).item()
    return delimiters == frame.height * (len(columns) - 1) + inside


class _Body:
    """A large file's text after any BOM and blank lines before the header, without copying it.

    The bytes are memory-mapped; polars reads the file itself when nothing precedes the header
    but a BOM (which polars skips). Line ends are counted per 2 KiB chunk, many chunks per numpy
    call; a line is then found by scanning its chunk alone, so fetching a few thousand scattered
    lines (the rejected records) costs little."""

    CHUNK = 2040  # 255 eight-byte words: summed as words, a byte's total cannot carry into the next
    BLOCK = CHUNK * 4112  # about 8 MiB compared per numpy call: a bounded temporary, few calls

    def __init__(self, path: Path, buf, offset: int, delim: str):
        import numpy as np

        self.path, self.buf, self.offset, self.delim = path, buf, offset, ord(delim)
        self.array = np.frombuffer(buf, dtype=np.uint8)[offset:]
        # which bytes can stand before a field (delimiter, LF) and after one (delimiter, LF, CR)
        self.field_start = np.zeros(256, dtype=bool)
        self.field_start[[self.delim, 10]] = True
        self.field_end = np.zeros(256, dtype=bool)
        self.field_end[[self.delim, 10, 13]] = True
        # counted in the background: numpy and polars both release the GIL, so the count costs
        # little while polars parses the same bytes
        self._counting = in_background(self._count)
        self._quoting = None

    def _count(self):
        import numpy as np

        a, ch = self.array, self.CHUNK
        per_chunk = []
        hit = np.empty(min(self.BLOCK, len(a)), dtype=bool)  # reused: fresh pages cost more than the test
        for i in range(0, len(a), self.BLOCK):
            block = a[i:i + self.BLOCK]
            found = hit[:len(block)]
            whole = len(block) // ch * ch
            np.equal(block, 10, out=found)
            # a chunk's 0/1 bytes summed eight at a time as words (each byte of the sum at most
            # 255), then the sum's eight bytes: a third of the time of summing byte by byte
            words = found[:whole].view(np.uint64).reshape(-1, ch // 8).sum(axis=1, dtype=np.uint64)
            per_chunk.append(words.view(np.uint8).reshape(-1, 8).sum(axis=1, dtype=np.int64))
            if whole < len(block):
                per_chunk.append(np.array([np.count_nonzero(found[whole:])]))
        cum = np.cumsum(np.concatenate(per_chunk), dtype=np.int64) if per_chunk else np.zeros(0, dtype=np.int64)
        # most files hold no CR (memchr finds that fastest); CRLF files are counted
        cr = count_byte(a, "\r") if self.buf.find(b"\r", self.offset) >= 0 else 0
        return cum, cr

    def check_quotes(self) -> None:
        """Start :meth:`_check_quotes` in the background (once): called when polars has read the
        file, so the check shares the cores with the validation rather than with the parse."""
        if self._quoting is None:
            self._quoting = in_background(self._check_quotes)

    def _check_quotes(self) -> bool:
        """Whether polars and Python's csv module read every quote in the body alike.

        Python's csv module treats a quote as special only at the start of a field; polars
        toggles "inside quotes" at every quote. They agree when each run of quotes fits the
        well-formed pattern for where it stands (see :meth:`_runs_fit`). Most quotes come in
        plain pairs, the first right after a delimiter or a line start and the second right
        before a delimiter or a line end (``"text"``, ``""``): such a pair always fits, so each
        quote is paired with the next (which is all the parity of the quotes before it needs)
        and only the pairs that are not plain are checked run by run. Block by block: small
        arrays, no loop over quotes."""
        import numpy as np

        a, n = self.array, len(self.array)
        hit = np.empty(min(self.BLOCK, n), dtype=bool)
        pending, waiting, carry, i = [], 0, None, 0  # pairs to check run by run; an unpaired quote
        while i < n:
            j = min(i + self.BLOCK, n)
            at = np.flatnonzero(np.equal(a[i:j], 34, out=hit[:j - i]))
            if len(at) and j < n and at[-1] == j - i - 1:  # a run of quotes is not split
                while j < n and a[j] == 34:
                    j += 1
                at = np.append(at, np.arange(at[-1] + 1, j - i))
            at += i
            if carry is not None and len(at):  # the pair across the blocks' edge
                pair = np.array([carry, at[0]])
                if not self._plain(pair[:1], pair[1:]).all():
                    pending.append(pair)
                    waiting += 2
                carry, at = None, at[1:]
            if len(at) & 1:
                carry, at = at[-1], at[:-1]
            if len(at):
                first, second = at[0::2], at[1::2]
                odd_ones = np.flatnonzero(~self._plain(first, second))
                pending.append(np.column_stack((first[odd_ones], second[odd_ones])).ravel())
                waiting += 2 * len(odd_ones)
            if waiting > self.BLOCK // 8:  # bounded memory: check all but the last runs
                fits, rest = self._runs_fit_but_last(np.concatenate(pending))
                if not fits:
                    return False
                pending, waiting = [rest], len(rest)
            i = j
        if carry is not None:
            return False  # an odd number of quotes: an unclosed one, read alike by neither
        return not pending or self._runs_fit(np.concatenate(pending))

    def _plain(self, first, second):
        """Which pairs of quotes (at ``first`` and ``second``, the next quote each) are plain: the
        first right after a delimiter, a line end or the body's start, the second right before
        a delimiter, a line end or the body's end. The quotes between them (none) and the bytes
        around them (no quote) make each such pair a field of its own, ``"text"`` or ``""``."""
        a, n = self.array, len(self.array)
        after = second + 1
        ends = after[-1] == n
        if ends:
            after[-1] = n - 1
        plain = self.field_end[a[after]]
        if ends:  # a quote ends the body: it ends a field
            plain[-1] = True
        opens = self.field_start[a[first - 1]]  # a quote at 0 reads the last byte: set here
        if first[0] == 0:
            opens[0] = True
        plain &= opens
        return plain

    def _runs_fit_but_last(self, pairs) -> tuple[bool, object]:
        """(whether the runs fit, pairs left): checks ``pairs`` (whole pairs, in order) up to the
        last cut between two pairs not in one run, where the quotes before are even in number;
        the pairs after it may continue in the next block."""
        import numpy as np

        cuts = np.flatnonzero(pairs[2::2] - pairs[1:-1:2] > 1)
        if not len(cuts):
            return True, pairs
        cut = 2 * int(cuts[-1]) + 2
        return self._runs_fit(pairs[:cut]), pairs[cut:]

    def _runs_fit(self, at) -> bool:
        """Whether each run of the quotes at the positions ``at`` (whole runs, an even number of
        quotes before the first) fits: outside a quoted field, an odd run opens one (at a field's
        start) and an even run is ``""`` standing alone or quotes inside an unquoted value;
        inside, an even run is escaped quotes and an odd run closes the field just before a
        delimiter or a line end. A run is inside a field when an odd number of quotes precede
        it."""
        import numpy as np

        if not len(at):
            return True
        a, n = self.array, len(self.array)
        first = np.empty(len(at), dtype=bool)
        first[0] = True
        np.not_equal(at[1:] - at[:-1], 1, out=first[1:])
        starts = np.flatnonzero(first)
        s, length = at[starts], np.diff(starts, append=len(at))
        e = s + (length - 1)
        opens = self.field_start[a[np.maximum(s - 1, 0)]]
        opens[s == 0] = True
        closes = self.field_end[a[np.minimum(e + 1, n - 1)]]
        closes[e == n - 1] = True
        odd = (length & 1).astype(bool)
        inside = (starts & 1).astype(bool)
        bad = (~inside & odd & ~opens) | (~inside & ~odd & opens & ~closes) | (inside & odd & ~closes)
        return not bad.any()

    def quotes_agree(self) -> bool:
        """See :meth:`_check_quotes` (waits for :meth:`check_quotes`)."""
        self.check_quotes()
        return self._quoting.result()

    @property
    def cum(self):
        """Line ends up to the end of each chunk (a numpy array)."""
        return self._counting.result()[0]

    def count(self, char: str) -> int:
        """How many times the one-byte ``char`` occurs in the body."""
        return self._counting.result()[1] if char == "\r" else count_byte(self.array, char)

    def lone_cr(self) -> bool:
        """True when a CR is not followed by LF (an old Mac line end, which polars does not see)."""
        import numpy as np

        n_cr = self.count("\r")
        if not n_cr:
            return False
        cr = np.flatnonzero(self.array == 13)
        a = self.array
        return bool(cr[-1] == len(a) - 1 or np.count_nonzero(a[cr[cr < len(a) - 1] + 1] != 10))

    def source(self):
        """What polars reads: the file itself, or the bytes after the blank lines."""
        start = 3 if self.buf[:3] == b"\xef\xbb\xbf" else 0
        return self.path if self.offset == start else self.bytes()

    def bytes(self) -> bytes:
        return bytes(self.array)

    @property
    def n_lines(self) -> int:
        """Lines in the body (a last line without a line end counts)."""
        cum = self.cum
        return (int(cum[-1]) if len(cum) else 0) + (len(self.array) > 0 and self.array[-1] != 10)

    def _newline(self, k: int) -> int:
        """Offset (in the body) of the k-th line end (0-based), or the body's length past the last."""
        import numpy as np

        cum = self.cum
        c = int(np.searchsorted(cum, k, side="right"))
        if c >= len(cum):
            return len(self.array)
        a = c * self.CHUNK
        ends = np.flatnonzero(self.array[a:a + self.CHUNK] == 10)
        return a + int(ends[k - (int(cum[c - 1]) if c else 0)])

    def line(self, i: int) -> bytes:
        """Line ``i`` (0-based; the header is line 0) without its line end."""
        start = self._newline(i - 1) + 1 if i else 0
        return bytes(self.array[start:self._newline(i)]).rstrip(b"\r")


def _parse_polars(
    body: _Body, delim: str, header: list[str], numeric: dict[str, pl.DataType] | None = None
) -> _Parsed | None:
    """The fast path, or None when the file needs the careful one.

    Columns named in ``numeric`` are parsed (as Int64 or Float64) by the CSV reader itself, which
    is much cheaper than text then cast; any value that does not parse makes polars raise, and the
    caller retries with other types or all text (values as written are then fetched only for
    rejected records).

    A file with a short record (see :func:`fields_add_up`) takes the careful path."""
    dtypes = [(numeric or {}).get(h, pl.String) for h in header]
    # the row index comes from the reader so that it is split into chunks like the other columns
    # (a column added afterwards makes every later select copy the whole table into one chunk)
    df = pl.read_csv(body.source(), separator=delim, has_header=True, new_columns=header,
                     schema_overrides=dtypes, quote_char='"', row_index_name="_line", row_index_offset=2)
    df = df.select(*header, "_line")
    body.check_quotes()  # polars and the careful path read a malformed quoted field differently
    if body.lone_cr():  # the careful path reads a lone CR as a line end, polars does not
        return None
    ncol, total = len(header), df.height
    # One text line per row only when no record spans lines: then each record's line is known.
    simple = body.n_lines == total + 1
    blank_rows = None
    if df[header[0]].null_count():  # a blank line is all nulls, so its first field is null too
        blank = df.select(pl.all_horizontal([pl.col(h).is_null() for h in header])).to_series()
        if blank.any():
            blank_rows = blank
    if blank_rows is not None:
        # so is a record of empty fields (",,,"), which the careful path counts as a record: each
        # such row must be an empty line (its delimiters could otherwise make up for a short
        # record's in the count below)
        if not simple or any(body.line(ln - 1) for ln in df.filter(blank_rows)["_line"].to_list()):
            return None
        df = df.filter(~blank_rows)
    if not simple and body.count("\r"):  # the careful path reads a CRLF inside a quoted value as LF
        df = df.with_columns(pl.col(h).str.replace_all("\r\n", "\n", literal=True)
                             for h in header if df.schema[h] == pl.String)
    # a short record leaves a null in the last column; a record over several lines (or a polars
    # misreading) breaks the line count: either way the fields must add up (fields_add_up)
    suspect = not simple or df[header[-1]].null_count()
    if ncol > 1 and suspect:
        quoted = body.count('"') > 0
        in_header = ncol - 1  # plus any inside quoted header names
        if quoted:
            first = body.line(0).decode("utf-8", errors="replace")
            in_header += sum(f.count(delim) for f in next(csv.reader([first], delimiter=delim), []))
        # blank lines were dropped from df: they hold no delimiter
        if not fields_add_up(df, header, body.count(delim) - in_header, delim, quoted=quoted):
            return None
    line = pl.col("_line").cast(pl.Int64)  # the header is line 1
    df = df.with_columns(
        (line - 1 if blank_rows is None else pl.int_range(1, pl.len() + 1, dtype=pl.Int64)).alias("_record"),
        (line if simple else pl.lit(None, dtype=pl.Int64)).alias("_line"),
    )
    return _Parsed(df, [], df.height)


def _written_fetcher(body: _Body, delim: str, header: list[str], lead: int):
    """For records read typed: a function giving their fields as written, for the quarantine.

    Where each record is one line (``_line`` known), only those lines are parsed again; otherwise
    the whole file is read again as text (rare: a big file with multi-line notes and bad records)."""

    def fetch(rows: pl.DataFrame) -> pl.DataFrame:
        if rows["_line"].null_count() == 0:
            texts = [body.line(ln - lead - 1).decode("utf-8") for ln in rows["_line"].to_list()]
            fields = list(csv.reader(texts, delimiter=delim, quotechar='"', strict=False))
            cols = {h: pl.Series(h, [(f[i] if i < len(f) else "") or None for f in fields], dtype=pl.String)
                    for i, h in enumerate(header)}
            return pl.DataFrame(cols)
        text = _parse_polars(body, delim, header)
        assert text is not None  # the typed read of the same bytes passed the same record checks
        return rows.select("_record").join(text.frame, on="_record", how="left",
                                           maintain_order="left").select(header)

    return fetch


# --- validation ------------------------------------------------------------------------------------


def _text(c: str) -> pl.Expr:
    v = pl.col(c).str.strip_chars()
    return pl.when(v == "").then(None).otherwise(v)


def _number(c: str) -> pl.Expr:
    # Decimal comma ("8,5") is read as 8.5; thousands separators are not guessed.
    v = _text(c).str.replace(r"^([+-]?\d+),(\d+)$", "$1.$2")
    return v.cast(pl.Float64, strict=False)


def _fast_expr(col) -> pl.Expr:
    """Stage 1, for well-formed files: a strict parse of the text as written (null where it fails).

    A column where this fails for any written value is parsed again with :func:`_parse_expr`,
    which forgives spaces, case, decimal commas and unpadded times."""
    c = pl.col(col.name)
    if col.kind == "date":
        return c.str.strptime(pl.Date, "%Y-%m-%d", strict=False, cache=False)
    if col.kind == "time":  # its distinct values are tested (see validate_frame): kept as written
        return c
    if col.kind in ("int", "float"):
        return c.cast(pl.Float64, strict=False)
    if col.kind == "choice":
        return pl.when(c.is_in(col.choices)).then(c)
    if col.kind == "text":
        return c.fill_null(pl.lit(DEFAULT_PARTICIPANT)) if col.name == "participant" else c
    return _parse_expr(col)


def _needs_forgiving(col) -> pl.Expr:
    """True when the strict parse of this column missed a written value (or text has spaces to trim).

    Empty text (a quoted ``""``) is tested apart, by :func:`_has_empty_text`: it needs no trimming."""
    o = pl.col(f"_o_{col.name}")
    if col.name == "participant":  # the id pattern admits no spaces: a mismatch needs a closer look
        return ~o.str.contains(PARTICIPANT_PATTERN.pattern).all()
    if col.kind == "time":  # HH:MM exactly, as :func:`_fast_expr` keeps it
        strict = (o.str.len_bytes() == 5) & o.str.strptime(pl.Time, "%H:%M", strict=False).is_not_null()
        return (o.is_not_null() & ~strict).any()
    if col.kind == "text":
        return (o.str.starts_with(" ") | o.str.ends_with(" ") | o.str.starts_with("\t")
                | o.str.ends_with("\t")).any()
    return (o.is_not_null() & pl.col(f"_v_{col.name}").is_null()).any()


def _has_empty_text(col) -> pl.Expr:
    return (pl.col(f"_o_{col.name}") == "").any()


def _parse_expr(col, src: str | None = None) -> pl.Expr:
    """Stage 1, forgiving: the value parsed from the stripped text (null where it does not parse)."""
    src = src or col.name
    raw = _text(src)
    if col.kind == "date":
        return raw.str.strptime(pl.Date, "%Y-%m-%d", strict=False, cache=False)
    if col.kind == "time":
        m = raw.str.extract_groups(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")
        h = m.struct.field("1").cast(pl.Int32, strict=False)
        mi = m.struct.field("2").cast(pl.Int32, strict=False)
        return pl.when((h < 24) & (mi < 60)).then(
            h.cast(pl.String).str.zfill(2) + pl.lit(":") + mi.cast(pl.String).str.zfill(2)
        )
    if col.kind in ("int", "float"):
        return _number(src)
    if col.kind == "bool":
        low = raw.str.to_lowercase()
        return pl.when(low.is_in(TRUE_WORDS)).then(True).when(low.is_in(FALSE_WORDS)).then(False)
    if col.kind == "choice":
        return raw.str.to_lowercase()
    if col.name == "participant":
        return raw.fill_null(pl.lit(DEFAULT_PARTICIPANT))
    return raw


def _checks(
    spec: TableSpec, present: set[str], matched: frozenset[str] = frozenset(), whole: set[str] = frozenset()
) -> list[tuple[str, pl.Expr, str, pl.Expr | None]]:
    """Stage 2: (column, is_bad, reason, screen) over the parsed ``_v_<c>`` and raw ``_r_<c>`` columns.

    ``reason`` is a text, or an expression giving each row's own (a questionnaire's items).

    ``screen`` is a cheap whole-column test that is false only when ``is_bad`` is false on every
    row (from null counts, minimum and maximum), so a clean column costs no per-row work; None
    means the check is always run. ``matched``: columns already known to match their pattern;
    ``whole``: columns read as whole numbers."""
    checks: list[tuple[str, pl.Expr, str, pl.Expr | None]] = []
    for col in spec.columns:
        c = col.name
        if c not in present:
            continue
        raw, v, rule = pl.col(f"_r_{c}"), pl.col(f"_v_{c}"), col.allowed()
        # v is null wherever raw is: equal null counts mean no written value failed to parse
        unparsed = raw.null_count() != v.null_count()
        if col.kind in ("int", "float"):
            if c in whole:  # read as Int64: every value a number, none NaN, none beyond Int64
                odd = bad_num = pl.lit(False)
            else:  # NaN or an infinity makes the sum non-finite (so may a huge finite sum: then
                # the rows are merely checked)
                odd = ~v.sum().is_finite()
                bad_num = raw.is_not_null() & (v.is_null() | v.is_nan() | v.is_infinite())
            checks.append((c, bad_num, f"not a number: use {rule}", unparsed | odd))
            rng, beyond = pl.lit(False), pl.lit(False)
            if col.min is not None:
                rng, beyond = rng | (v < col.min), beyond | (v.min() < col.min)
            if col.max is not None:
                rng, beyond = rng | (v > col.max), beyond | (v.max() > col.max)
            if col.kind == "int" and c not in whole:  # beyond Int64 the cast would give a silent null
                rng = rng | (v.abs() >= 2.0**63)
                beyond = beyond | (v.min() <= -(2.0**63)) | (v.max() >= 2.0**63)
            checks.append((c, ~bad_num & rng, f"out of range: use {rule}", unparsed | odd | beyond))
            if col.kind == "int" and c not in whole:
                fraction = v != v.round(0)
                checks.append((c, ~bad_num & fraction, f"not a whole number: use {rule}", fraction.any()))
            if spec is QUESTIONNAIRES and c == "score" and "instrument" in present:
                # a score's range is its instrument's
                inst = pl.col("_v_instrument")
                for name, (low, high) in SCORE_RANGES.items():
                    checks.append((c, ~bad_num & (inst == name) & ((v < low) | (v > high)),
                                   f"out of range for {name}: use a number from {low:g} to {high:g}", None))
        elif col.kind == "choice":
            checks.append((c, v.is_not_null() & ~v.is_in(col.choices), f"not allowed: use {rule}", None))
        elif c == "participant":
            checks.append((c, ~v.str.contains(PARTICIPANT_PATTERN.pattern),
                           f"not a valid participant id: use {PARTICIPANT_RULE}", pl.lit(c not in matched)))
        elif col.kind in ("date", "time", "bool"):
            what = {"date": "a valid date", "time": "a valid time", "bool": "a yes/no value"}[col.kind]
            checks.append((c, raw.is_not_null() & v.is_null(), f"not {what}: use {rule}", unparsed))
        if col.required:
            checks.append((c, raw.is_null(), "a required value is empty", raw.null_count() > 0))
        if spec is QUESTIONNAIRES and c == "items" and "instrument" in present:
            # item answers are scored (rehab.instruments) and must give the score: the reasons
            # name what is wrong row by row (questionnaire tables are small)
            items = pl.struct(i=pl.col("_v_instrument"), t=v)
            problem = items.map_elements(lambda r: items_problem(r["i"], r["t"]), return_dtype=pl.String)
            checks.append((c, problem.is_not_null(), problem, None))
            if "score" in present:
                scored = pl.struct(i=pl.col("_v_instrument"), t=v, s=pl.col("_v_score"))
                differ = scored.map_elements(lambda r: score_problem(r["i"], r["t"], r["s"]),
                                             return_dtype=pl.String)
                checks.append(("score", differ.is_not_null(), differ, None))
        if c == "unit" and "test" in present:
            # a standard test's unit is fixed by its id: a Sorensen hold is not logged in reps
            test = pl.col("_v_test")
            checks.append((c, test.is_in(TEST_IDS) & v.is_not_null() & (v != _inferred_unit(test)),
                           "does not match the test: *_reps tests are in reps, the other standard tests in s",
                           None))
    if spec.at_least_one:
        given = [pl.col(f"_r_{c}").is_not_null() for c in spec.at_least_one if c in present]
        none = ~pl.any_horizontal(given) if given else pl.lit(True)
        first = next((c for c in spec.at_least_one if c in present), spec.at_least_one[0])
        checks.append((first, none, f"the entry holds no measure: give at least one of "
                                    f"{', '.join(spec.at_least_one)}", None))
    return checks


def _final_expr(col, present: set[str], whole: set[str] = frozenset()) -> pl.Expr:
    """Stage 3: the canonical column, typed, with its default. ``whole``: int columns read as such."""
    if col.name not in present:
        return pl.lit(col.default, dtype=col.dtype).alias(col.name)
    v = pl.col(f"_v_{col.name}")
    if col.name in whole:
        v = pl.col(f"_o_{col.name}")  # as read: no round trip through Float64
    elif col.kind == "int":
        v = v.round(0)
    if col.default is not None:
        v = v.fill_null(pl.lit(col.default))
    return v.cast(col.dtype, strict=False).alias(col.name)


def _constants(cols, probe: dict, distinct: dict[str, pl.DataFrame], changed: set[str]) -> dict[str, object]:
    """Columns (as parsed, none parsed again) that hold one value and no gap on every row, from the
    probe's minimum, maximum and null count (numbers) or distinct values (times): name → value."""
    out: dict[str, object] = {}
    for c in cols:
        if c.name in changed:
            continue
        if c.kind in ("int", "float") and not probe[f"{c.name}:nulls"]:
            low, high = probe[f"{c.name}:min"], probe[f"{c.name}:max"]
            # equal, not zero (minimum and maximum do not tell 0.0 from -0.0), and a whole number
            # where one is due
            if (low is not None and low == high and low != 0
                    and (c.kind == "float" or float(low).is_integer())):
                out[c.name] = int(low) if c.kind == "int" else float(low)
        elif c.kind == "time" and c.name in distinct and distinct[c.name].height == 1:
            value = distinct[c.name].item()
            if value is not None:
                out[c.name] = value
    return out


def validate_frame(
    frame: pl.DataFrame,
    spec: TableSpec,
    *,
    file: str,
    aliases: dict[str, str] | None = None,
    today: dt.date | None = None,
    written=None,
    keep: bool = True,
) -> tuple[pl.DataFrame | None, pl.DataFrame, int | None, list[str]]:
    """Validate a frame of text columns named canonically.

    ``frame`` may carry ``_record`` and ``_line`` (1-based record number, line in the file); else the
    row order gives the record numbers. Numeric columns may come already parsed as Float64; then
    ``written(rejected_rows)`` gives the rejected records' fields as written, for the quarantine
    (without it, the parsed number is shown). Returns (accepted, quarantine, duplicates, warnings);
    with ``keep=False`` only the quarantine and the warnings (accepted and duplicates are None),
    for a caller that stores the rows itself. Importers use this too, so every table in the kit
    passes the same checks."""
    if "_record" not in frame.columns:
        frame = frame.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("_record"))
    if "_line" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Int64).alias("_line"))
    present = {c for c in frame.columns if c in spec.names}
    cols = [spec.column(c) for c in spec.names if c in present]
    typed = {c.name for c in cols if c.kind in ("int", "float") and frame.schema[c.name] in (pl.Float64, pl.Int64)}
    whole = {c.name for c in cols if c.kind == "int" and frame.schema[c.name] == pl.Int64}  # read as such
    frame = frame.with_columns(
        [pl.col(c).cast(pl.String) for c in frame.columns if c not in ("_record", "_line", *typed)]
    )
    work = frame.select(
        pl.col("_record"), pl.col("_line"),
        *[pl.col(c.name).alias(f"_o_{c.name}") for c in cols],  # as written, for the quarantine
        *[pl.col(c.name).alias(f"_r_{c.name}") for c in cols],
        *[(pl.col(c.name) if c.name in whole else _fast_expr(c)).alias(f"_v_{c.name}") for c in cols],
    )
    texts = [c for c in cols if c.kind == "text" and c.name != "participant"]
    # Columns of few distinct values are tested on those values instead of every row: participant
    # ids, times, and a sessions file's exercise names (needed one by one for the aliases).
    by_name = {"participant", "time", *(("exercise",) if spec is SESSIONS else ())} & present
    # One pass (its expressions run side by side) asks which columns need the forgiving parse and,
    # assuming none does (a well-formed file), which checks a row could fail at all (see _checks).
    hoped = _checks(spec, present, frozenset({"participant"} & present), whole)
    screens = {i: screen for i, (*_, screen) in enumerate(hoped) if screen is not None}
    probe = work.lazy().select(  # lazily, so a test shared by several screens runs once
        *[_needs_forgiving(c).alias(c.name) for c in cols if c.name not in typed | by_name],
        *[_has_empty_text(c).alias(f"{c.name}:empty") for c in texts if c.name not in by_name],
        *[s.fill_null(False).alias(f"{i}:screen") for i, s in screens.items()],
        *[pl.col(f"_o_{n}").unique().implode().alias(f"{n}:names") for n in by_name],
        *[agg for c in cols if c.kind in ("int", "float") for agg in (
            pl.col(f"_v_{c.name}").min().alias(f"{c.name}:min"), pl.col(f"_v_{c.name}").max().alias(f"{c.name}:max"),
            pl.col(f"_v_{c.name}").null_count().alias(f"{c.name}:nulls"))],
    ).collect(engine=ENGINE).row(0, named=True)
    distinct = {}
    for c in (spec.column(n) for n in by_name):
        distinct[c.name] = pl.DataFrame({f"_o_{c.name}": probe[f"{c.name}:names"]},
                                        schema={f"_o_{c.name}": pl.String})
        probe.update(distinct[c.name].select(_needs_forgiving(c).alias(c.name),
                                             _has_empty_text(c).alias(f"{c.name}:empty")).row(0, named=True))
    slow = [c for c in cols if probe.get(c.name)]
    empty = [c for c in texts if probe[f"{c.name}:empty"] and c not in slow]
    checks, passed = hoped, [probe[f"{i}:screen"] for i in screens]
    if slow or empty:
        work = work.with_columns(
            *[_text(f"_o_{c.name}").alias(f"_r_{c.name}") for c in slow],
            *[_parse_expr(c, f"_o_{c.name}").alias(f"_v_{c.name}") for c in slow],
            # text that only needs "" made missing: cheaper than trimming every value
            *[pl.col(f"_o_{c.name}").replace("", None).alias(f"_{k}_{c.name}") for c in empty for k in "rv"],
        )
        # participant ids that all matched their pattern as written need no check
        matched = frozenset({"participant"} & present - {c.name for c in slow})
        checks = _checks(spec, present, matched, whole)  # the same checks, in the same order
        changed = {c.name for c in slow + empty}
        again = {i: checks[i][3] for i in screens if checks[i][0] in changed}
        if again:  # the screens of the columns parsed again
            redone = work.lazy().select(s.fill_null(False).alias(str(i)) for i, s in again.items()).collect(engine=ENGINE)
            passed = [redone[str(i)][0] if i in again else p for i, p in zip(screens, passed, strict=True)]
    # Boolean flags for every row, for the checks a row could fail at all; the messages are built
    # only for the (few) rejected rows.
    ruled_out = {i for i, could_fail in zip(screens, passed, strict=True) if not could_fail}
    flags = [bad.fill_null(False) for i, (_, bad, _, _) in enumerate(checks) if i not in ruled_out]
    is_bad = pl.any_horizontal(flags) if flags else pl.lit(False)
    mask = work.select(pl.col("_record"), is_bad.alias("_bad"))["_bad"]  # a literal is broadcast
    n_bad = int(mask.sum())
    final = [_final_expr(col, present, whole) for col in spec.columns]
    # A column holding one value on every row (a bench angle, a session's time) is given as that
    # value: it need not be filtered, and it cannot tell two records apart (see keys)
    constant = _constants(cols, probe, distinct, {c.name for c in slow + empty})
    for name, value in constant.items():
        col = spec.column(name)
        final[spec.names.index(name)] = pl.lit(value, dtype=col.dtype).alias(name)
    mapped_keys: list[str] = []
    if keep and spec is SESSIONS and "exercise" in present:  # exercise names to canonical ids, in the same pass
        names = distinct.get("exercise")
        if names is None or "exercise" in {c.name for c in slow + empty}:  # trimmed: names changed
            names = work.select(pl.col("_v_exercise").unique().alias("_o_exercise"))
        table = alias_table(aliases)
        mapping = {n: table[normalise(n)] for n in names["_o_exercise"].to_list()
                   if n is not None and table.get(normalise(n), n) != n}
        if mapping:  # only the names that change: most files already use the canonical ids
            at = spec.names.index("exercise")
            if "variant" in spec.names:  # the name as written stays visible beside its id
                v = spec.names.index("variant")
                as_named = pl.when(final[at].is_in(list(mapping))).then(final[at])
                final[v] = pl.coalesce(final[v], as_named).alias("variant")
                mapped_keys = ["variant"]  # two variants' sets are two records (keys)
            final[at] = final[at].replace(mapping)
    keys = [c for c in spec.names if (c in present or c in mapped_keys) and c not in constant]  # the others are constant

    def canonical(rows: pl.LazyFrame) -> pl.DataFrame:
        """The accepted rows in canonical form, with their row hash for the duplicate check."""
        rows = rows.select(final)
        if spec is TESTS:
            rows = rows.with_columns(pl.col("unit").fill_null(_inferred_unit(pl.col("test"))))
        return rows.with_columns(row_hash(keys)).collect(engine=ENGINE)  # hashed in the same pass

    accepted = None
    if n_bad:
        rejected = work[mask.arg_true()]  # few rows: gather them rather than filter every column
        if typed:  # the quarantine shows each field as written: fetched while the rest goes on
            as_written = in_background(written, rejected) if written else None
        if keep:  # lazily, so only the columns the table needs are filtered
            accepted = canonical(work.with_columns(mask.alias("_bad")).lazy().filter(~pl.col("_bad")))
        messages = [pl.when(bad.fill_null(False)).then(pl.lit(f"{col}\x1f") + why if isinstance(why, pl.Expr)
                                                       else pl.lit(f"{col}\x1f{why}"))
                    for col, bad, why, _ in checks]
        rejected = rejected.with_columns(pl.concat_list(messages).list.drop_nulls().alias("_problems"))
    else:
        rejected = work.clear()
        if keep:
            accepted = canonical(work.lazy())
    warnings: list[str] = []
    today = today or dt.date.today()
    for c in (c.name for c in spec.columns if c.kind == "date" and c.name in present):
        dated = pl.col(f"_v_{c}").filter(~pl.lit(mask)) if n_bad else pl.col(f"_v_{c}")  # the accepted
        n_future = work.select((dated > today).sum()).item()
        if n_future:
            warnings.append(f"{file}: {n_future} record(s) dated after today ({today}) in column {c!r}")
    data = duplicates = None
    if keep:
        data, duplicates = drop_exact_duplicates(accepted.drop("_hash"), keys, hashes=accepted.get_column("_hash"))
    if n_bad and typed:
        texts = as_written.result() if as_written else rejected.select(
            pl.col(f"_o_{c}").cast(pl.String).alias(c) for c in typed)
        rejected = rejected.with_columns(texts.get_column(c).alias(f"_o_{c}") for c in typed)
    quarantine = _quarantine_rows(rejected, present, file)
    return data, quarantine, duplicates, warnings


def _inferred_unit(test: pl.Expr) -> pl.Expr:
    """:func:`rehab.schema.unit_for_test` as an expression over the test-id column ``test``."""
    return pl.when(test.str.ends_with(REPS_SUFFIX)).then(pl.lit("reps")).otherwise(pl.lit("s"))


def row_hash(columns: list[str]) -> pl.Expr:
    """A 64-bit hash of each row's values in ``columns``: the columns are hashed side by side and
    chunk by chunk (``DataFrame.hash_rows`` first copies the table into one chunk), then mixed in
    order (multiplication wraps), so equal rows hash alike and swapped values do not cancel."""
    mixed = pl.lit(0, dtype=pl.UInt64) if not columns else None
    for i, c in enumerate(columns):
        h = pl.col(c).hash(seed=i)
        mixed = h if mixed is None else mixed * 0x9E3779B97F4A7C15 ^ h
    return mixed.alias("_hash")


def drop_exact_duplicates(
    data: pl.DataFrame, columns: list[str] | None = None, *, hashes: pl.Series | None = None
) -> tuple[pl.DataFrame, int]:
    """Keep the first of each set of identical records; return the table and how many were dropped.

    ``columns``: the columns that can differ between records (default: all). Row hashes find
    candidates fast (``hashes``: :func:`row_hash` of ``columns``, when already computed);
    candidates are compared in full, so a hash collision can never drop a distinct record."""
    columns = columns or data.columns
    if data.height < 2:
        return data, 0
    if hashes is None:
        hashes = data.lazy().select(row_hash(columns)).collect(engine=ENGINE).to_series()
    if hashes.n_unique() == data.height:  # the common case, and much cheaper than is_duplicated
        return data, 0
    candidates = hashes.is_duplicated()
    sub = data.with_row_index("_i").filter(candidates)
    kept = sub.unique(subset=columns, keep="first")
    dropped = sub.filter(~pl.col("_i").is_in(kept["_i"].implode()))["_i"]
    if dropped.is_empty():
        return data, 0
    keep = ~pl.int_range(0, data.height, eager=True).is_in(dropped.implode())
    return data.filter(keep), dropped.len()


def _quarantine_rows(rejected: pl.DataFrame, present: set[str], file: str) -> pl.DataFrame:
    if rejected.height == 0:
        return pl.DataFrame(schema=QUARANTINE_SCHEMA)
    raw_cols = sorted(present)
    first = pl.col("_problems").list.first().str.split_exact("\x1f", 1)
    all_reasons = pl.col("_problems").list.eval(
        pl.element().str.replace("\x1f", ": ", literal=True)
    ).list.join("; ")
    q = rejected.with_columns(
        first.struct.field("field_0").alias("column"),
        pl.when(pl.col("_problems").list.len() > 1).then(all_reasons)
        .otherwise(first.struct.field("field_1")).alias("reason"),
    )
    # an empty field is a missing value, however it was written ("" or nothing)
    q = q.with_columns(pl.col(f"_o_{c}").cast(pl.String).replace("", None) for c in raw_cols)
    value = pl.lit(None, dtype=pl.String)
    for c in raw_cols:
        value = pl.when(pl.col("column") == c).then(pl.col(f"_o_{c}")).otherwise(value)
    raw_json = pl.struct([pl.col(f"_o_{c}").alias(c) for c in raw_cols]).struct.json_encode() \
        if raw_cols else pl.lit("{}")
    return q.select(
        pl.lit(file).alias("file"),
        pl.col("_record").alias("record"),
        pl.col("_line").alias("line"),
        pl.col("column"),
        value.alias("value"),
        pl.col("reason"),
        raw_json.alias("raw"),
    ).cast(QUARANTINE_SCHEMA)


def _header(first_line: str, delim: str, spec: TableSpec, name: str) -> tuple[list[str], list[str]]:
    header_raw = next(csv.reader([first_line], delimiter=delim, quotechar='"'))
    header = [_norm_col(h) or f"_unnamed_{i + 1}" for i, h in enumerate(header_raw)]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise ReadError(f"{name}: the header names column(s) {', '.join(dupes)} more than once; "
                        "rename or remove the extra column")
    missing = [c for c in spec.required if c not in header]
    if missing:
        raise ReadError(
            f"{name}: required column(s) missing: {', '.join(missing)}. "
            f"Columns found: {', '.join(h.strip() for h in header_raw) or '(none)'}. "
            f"Expected for a {spec.kind} file: {', '.join(spec.required)} (required), "
            f"{', '.join(c for c in spec.names if c not in spec.required)} (optional)."
        )
    return header_raw, header


def _header_warnings(header_raw: list[str], header: list[str], spec: TableSpec, name: str) -> list[str]:
    warnings = []
    unknown = [h for h in header if h not in spec.names and not h.startswith("_unnamed_")]
    if unknown:
        warnings.append(f"{name}: column(s) not in the {spec.kind} format are ignored: "
                        f"{', '.join(unknown)}")
    blanks = [i + 1 for i, h in enumerate(header) if h.startswith("_unnamed_")]
    if blanks:
        warnings.append(f"{name}: header column(s) {blanks} have no name and are ignored")
    return warnings


# --- reading a file ----------------------------------------------------------------------------------


def read_bytes(path: Path, *, error: type[ReadError] = ReadError, what: str = "a CSV file") -> bytes:
    """A file's bytes, or ``error`` saying plainly why the file cannot be read."""
    try:
        return Path(path).read_bytes()
    except IsADirectoryError as e:
        raise error(f"{path}: is a folder, not {what}") from e
    except FileNotFoundError as e:
        raise error(f"{path}: no such file") from e
    except OSError as e:
        raise error(f"{path}: cannot be read ({e.strerror})") from e


def _numeric_types(spec: TableSpec, header: list[str], head: str, delim: str) -> list[dict]:
    """The column types to try in turn: whole numbers as Int64 (when the file's first lines write
    them so), then every number as Float64, then all text."""
    ints = [c.name for c in spec.columns if c.kind == "int" and c.name in header]
    floats = {c.name: pl.Float64 for c in spec.columns if c.kind == "float" and c.name in header}
    tries = [{**floats, **dict.fromkeys(ints, pl.Float64)}, {}]
    try:
        text = head.replace("\r\n", "\n").replace("\r", "\n")
        rows = list(csv.reader(io.StringIO(text), delimiter=delim))[1:-1]  # the last may be cut short
    except csv.Error:
        return tries
    at = [header.index(c) for c in ints]
    if ints and all(_WHOLE.fullmatch(r[i]) for r in rows if len(r) == len(header) for i in at):
        tries.insert(0, {**floats, **dict.fromkeys(ints, pl.Int64)})
    return tries


_WHOLE = re.compile(r"\s*[+-]?\d{1,18}\s*|")
def _polars_reads_header_alike(first_line: str, delim: str, header_raw: list[str]) -> bool:
    """False when polars would split the header line otherwise (a stray quote): then the fast
    path would misread the whole file."""
    if '"' not in first_line:
        return True
    try:
        seen = pl.read_csv(first_line.encode(), has_header=False, infer_schema=False, separator=delim).row(0)
    except pl.exceptions.PolarsError:
        return False
    return [v or "" for v in seen] == header_raw


_NOT_LINE_END = re.compile(rb"[^\r\n]")
_NOT_SPACE = re.compile(rb"[^ \t\r\n]")


def _map_file(path: Path):
    """A large file memory-mapped (read-only, never copied whole), else its bytes."""
    try:
        if path.stat().st_size > FAST_PATH_BYTES:
            with open(path, "rb") as f:
                return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # read_bytes says plainly what is wrong, or reads it after all
        pass
    return read_bytes(path)


def read_table(
    path: str | Path,
    spec: TableSpec,
    *,
    aliases: dict[str, str] | None = None,
    today: dt.date | None = None,
) -> ReadResult:
    """Read one CSV file of the kind ``spec`` describes. See the module docstring."""
    path = Path(path)
    name = str(path)
    raw = _map_file(path)
    if b"\x00" in raw[:65536]:
        raise ReadError(f"{name}: this looks like a binary file (it holds NUL bytes), not a CSV text file")
    start = 3 if raw[:3] == b"\xef\xbb\xbf" else 0
    first = _NOT_LINE_END.search(raw, start)
    offset = first.start() if first else len(raw)
    # blank lines before the header, whatever the line ends (CRLF, LF or old Mac CR)
    lead = len(re.findall(rb"\r\n|\r|\n", raw[start:offset]))
    if _NOT_SPACE.search(raw, offset) is None:
        raise ReadError(f"{name}: the file is empty; a {spec.kind} file starts with a header line "
                        f"naming its columns, at least: {', '.join(spec.required)}")
    head = raw[offset:offset + 65536].decode("utf-8", errors="replace")
    first_line = re.split(r"\r\n|\r|\n", head, maxsplit=1)[0]
    delim = sniff_delimiter(first_line)
    header_raw, header = _header(first_line, delim, spec, name)
    warnings = _header_warnings(header_raw, header, spec, name)

    def validated(parsed: _Parsed, written):
        frame = parsed.frame.select([c for c in parsed.frame.columns if c in spec.names or c.startswith("_")])
        if lead:
            frame = frame.with_columns(pl.col("_line") + lead)
            parsed.bad = [(r, ln + lead if ln else ln, why, rec) for r, ln, why, rec in parsed.bad]
        frame = frame.drop([c for c in frame.columns if c.startswith("_unnamed_")])
        return validate_frame(frame, spec, file=name, aliases=aliases, today=today, written=written)

    parsed, encoding, result = None, "utf-8", None
    if (len(raw) - offset > FAST_PATH_BYTES and _polars_reads_header_alike(first_line, delim, header_raw)
            and "\ufffd" not in first_line):  # a header not in UTF-8: the careful path decodes the file
        body = _Body(path, raw, offset, delim)
        for numeric in _numeric_types(spec, header, head, delim):
            try:  # polars also checks that the bytes are UTF-8
                parsed = _parse_polars(body, delim, header, numeric)
                written = _written_fetcher(body, delim, header, lead) if numeric else None
                break
            except pl.exceptions.PolarsError:  # a value that is not a plain number: try the next
                parsed = None
        if parsed is not None:
            result = validated(parsed, written)
            if not body.quotes_agree():  # checked while the validation ran
                parsed = None
    if parsed is None:
        text, encoding, more = decode_bytes(bytes(raw[offset:]), name)
        warnings.extend(more)
        parsed = _parse_python(text, delim, header)
        result = validated(parsed, None)
    accepted, quarantine, duplicates, more = result
    warnings.extend(more)
    if parsed.bad:
        extra = pl.DataFrame(
            {
                "file": [name] * len(parsed.bad),
                "record": [b[0] for b in parsed.bad],
                "line": [b[1] for b in parsed.bad],
                "column": [None] * len(parsed.bad),
                "value": [b[3] or None for b in parsed.bad],
                "reason": [b[2] for b in parsed.bad],
                "raw": [json.dumps({"record": b[3]}) for b in parsed.bad],
            },
            schema=QUARANTINE_SCHEMA,
        )
        quarantine = pl.concat([quarantine, extra]).sort("record")
    if duplicates:
        warnings.append(f"{name}: {duplicates} exact duplicate record(s) kept once")
    return ReadResult(
        path=name,
        kind=spec.kind,
        data=accepted,
        quarantine=quarantine,
        records=parsed.records,
        duplicates=duplicates,
        warnings=tuple(warnings),
        encoding=encoding,
        delimiter=delim,
    )


def read_sessions(path: str | Path, **kw) -> ReadResult:
    """Read a sessions file (one row per set). See :data:`rehab.schema.SESSIONS`."""
    return read_table(path, SESSIONS, **kw)


def read_diary(path: str | Path, **kw) -> ReadResult:
    """Read a pain diary file. See :data:`rehab.schema.DIARY`."""
    return read_table(path, DIARY, **kw)


def read_tests(path: str | Path, **kw) -> ReadResult:
    """Read a tests file (one row per test attempt). See :data:`rehab.schema.TESTS`."""
    return read_table(path, TESTS, **kw)


def read_phases(path: str | Path, **kw) -> ReadResult:
    """Read a phases file (which protocol a person followed when). See :data:`rehab.schema.PHASES`."""
    return read_table(path, PHASES, **kw)


def read_questionnaires(path: str | Path, **kw) -> ReadResult:
    """Read a questionnaires file (one row per completed questionnaire, scores per instrument;
    item answers, when given, must give the score). See :data:`rehab.schema.QUESTIONNAIRES`."""
    return read_table(path, QUESTIONNAIRES, **kw)


def read_any(path: str | Path, *, kind: str | None = None, **kw) -> ReadResult:
    """Read a file whose kind comes from ``kind`` or its name (sessions*.csv, diary*.csv, ...)."""
    path = Path(path)
    spec = TABLES.get(kind) if kind else spec_for_file(path.name)
    if spec is None:
        known = ", ".join(f"{t.file_glob}" for t in TABLES.values())
        raise ReadError(
            f"{path}: cannot tell what this file holds from its name; name it like one of {known}"
            + (f" or pass a kind ({', '.join(TABLES)})" if kind is None else f" (unknown kind {kind!r})")
        )
    return read_table(path, spec, **kw)


# --- a whole project ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """Every log of a project's input folder, concatenated per kind (``questionnaires``: the
    ``questionnaires*.csv`` files; empty when there are none)."""

    sessions: pl.DataFrame
    diary: pl.DataFrame
    tests: pl.DataFrame
    phases: pl.DataFrame
    quarantine: pl.DataFrame
    results: tuple[ReadResult, ...]
    source_dir: Path
    is_demo: bool
    # what the per-file results do not say, e.g. records found in more than one file (kept once)
    warnings: tuple[str, ...] = ()
    # questionnaire scores (participant, date, instrument, score, items, notes)
    questionnaires: pl.DataFrame = field(default_factory=QUESTIONNAIRES.empty)

    @property
    def participants(self) -> list[str]:
        ids: set[str] = set()
        for t in (self.sessions, self.diary, self.tests, self.phases, self.questionnaires):
            ids.update(t["participant"].unique().to_list())
        return sorted(ids)

    def for_participant(self, pid: str) -> Dataset:
        f = pl.col("participant") == pid
        return Dataset(
            sessions=self.sessions.filter(f),
            diary=self.diary.filter(f),
            tests=self.tests.filter(f),
            phases=self.phases.filter(f),
            questionnaires=self.questionnaires.filter(f),
            quarantine=self.quarantine,
            results=self.results,
            source_dir=self.source_dir,
            is_demo=self.is_demo,
            warnings=self.warnings,
        )

    def summary(self) -> pl.DataFrame:
        return pl.DataFrame(
            [{k: v for k, v in r.as_dict().items() if k not in ("issues", "warnings")} for r in self.results],
            schema={"path": pl.String, "kind": pl.String, "records": pl.Int64, "accepted": pl.Int64,
                    "quarantined": pl.Int64, "duplicates": pl.Int64},
        )

    def last_logs(self) -> dict[str, dt.date]:
        """Each participant's last day with a session, diary or test row."""
        return {p: d[-1] for p, d in self._record_days.items()}

    def last_record(self, participant: str, upto: dt.date | None = None) -> dt.date | None:
        """``participant``'s last day with a session, diary or test row (on or before ``upto``
        when given), or None."""
        days = self._record_days.get(participant, [])
        i = len(days) if upto is None else bisect.bisect_right(days, upto)
        return days[i - 1] if i else None

    @cached_property
    def _record_days(self) -> dict[str, list[dt.date]]:
        # each participant's days with a session, diary or test row, in order: once a dataset
        parts = [t.select("participant", "date") for t in (self.sessions, self.diary, self.tests)
                 if t.height]
        if not parts:
            return {}
        days = pl.concat(parts).unique().sort("participant", "date")
        return {p: d for p, d in days.group_by("participant", maintain_order=True)
                .agg("date").iter_rows()}

    def data_quality(self, participant: str | None = None) -> pl.DataFrame:
        """Each person's share of each file: participant, path, records (their accepted
        records), quarantined (their rejected records: the participant field as written, empty
        meaning the default participant, as when accepted), unattributed (rejected records whose
        fields could not be split, so whose they are is unknown: counted for every person of
        that file, and given to its only person when it has one) and duplicates (when the file
        holds no one else's records: duplicates are not told apart by person). Rows with none of
        these are left out; ``participant``: that person's rows only. A person's page shows
        this, not the caseload's problems (which changed every person's page when one file had a
        typo)."""
        every = self._data_quality
        return every if participant is None else every.filter(
            pl.col("participant") == participant)

    @cached_property
    def _data_quality(self) -> pl.DataFrame:
        # once a dataset (a kernel keeps the project read: each of its pages asks)
        rows = []
        for r in self.results:
            counts = (dict(r.data.group_by("participant").len().iter_rows()) if r.data.height
                      else {})
            theirs: dict[str, int] = {}
            unsplit = 0
            for raw in r.quarantine["raw"].to_list():
                rec = json.loads(raw) if raw else {}
                if set(rec) == {"record"}:  # the wrong number of fields: not split
                    unsplit += 1
                else:
                    who = rec.get("participant") or DEFAULT_PARTICIPANT
                    theirs[who] = theirs.get(who, 0) + 1
            people = set(counts) | set(theirs)
            if len(counts) == 1 and unsplit:  # the file holds one person's records only
                (only,) = counts
                theirs[only], unsplit = theirs.get(only, 0) + unsplit, 0
            for who in sorted(people):
                row = {"participant": who, "path": r.path, "records": counts.get(who, 0),
                       "quarantined": theirs.get(who, 0),
                       "unattributed": unsplit if who in counts else 0,
                       "duplicates": r.duplicates if set(counts) == {who} else 0}
                if any(row[k] for k in ("records", "quarantined", "unattributed", "duplicates")):
                    rows.append(row)
        return pl.DataFrame(rows, schema={"participant": pl.String, "path": pl.String,
                                          "records": pl.Int64, "quarantined": pl.Int64,
                                          "unattributed": pl.Int64, "duplicates": pl.Int64})


def log_files(folder: Path) -> list[tuple[Path, TableSpec]]:
    """The log files below ``folder`` (recursively), sorted, with their kind."""
    found = []
    for p in sorted(folder.rglob("*.csv")):
        spec = spec_for_file(p.name)
        if spec is not None and not any(part.startswith(".") for part in p.relative_to(folder).parts):
            found.append((p, spec))
    return found


def load_project(
    root: str | Path | None = None,
    *,
    source: str | Path | None = None,
    aliases: dict[str, str] | None = None,
    write_quarantine: bool = False,
) -> Dataset:
    """Read every log file of a project: ``data/raw`` if it holds any, else the demo ``data/sample``.

    ``source`` overrides the folder. Files that cannot be used raise :class:`ReadError`."""
    paths = ProjectPaths(Path(root).resolve()) if root else ProjectPaths.discover()
    recover(paths)  # an import cut short is finished (or undone) before its tables are read
    if aliases is None:
        from rehab.config import load_config

        aliases = load_config(paths.config_file).aliases
    if source is not None:
        src, demo = Path(source), Path(source).resolve() == paths.sample.resolve()
    else:
        src, demo = paths.input_dir()
    files = log_files(src)
    key = None
    if not write_quarantine:
        key = _files_key(src, files, aliases, demo)
        with _loaded_lock:
            if _loaded and _loaded[0] == key:
                return _loaded[1]
    dataset = _load(src, files, aliases, demo, paths, write_quarantine)
    if key is not None:
        with _loaded_lock:
            _loaded[:] = [key, dataset]
    return dataset


# The last project read, keyed by its files' bytes: a kernel kept for a batch of monthly pages
# reads the same files for every page (0.1 s a page saved). The key is the content, not the
# files' times (a rewrite within the clock's tick keeps its mtime), so no change goes unseen;
# hashing costs about 1 ms a megabyte. A Dataset is frozen and polars tables are not changed in
# place by the kit, so sharing it between pages cannot carry one page's state into another.
_loaded: list = []
_loaded_lock = threading.Lock()


def _files_key(src: Path, files, aliases: dict[str, str], demo: bool) -> tuple:
    import hashlib

    digests = tuple((str(p), spec.kind, hashlib.blake2b(p.read_bytes(), digest_size=16).digest())
                    for p, spec in files)
    return (str(src), str(Path(src).resolve()), demo, json.dumps(aliases, sort_keys=True), digests)


def _load(src: Path, files, aliases, demo: bool, paths: ProjectPaths,
          write_quarantine: bool) -> Dataset:
    results = [read_table(p, spec, aliases=aliases) for p, spec in files]
    tables, warnings = {}, []
    for kind, spec in TABLES.items():
        frames = [r.data for r in results if r.kind == kind]
        if not frames:
            tables[kind] = spec.empty()
            continue
        both = pl.concat(frames)
        tables[kind], n_dup = drop_exact_duplicates(both)
        if n_dup:  # overlapping files (two exports of the same weeks): say so, never silently
            warnings.append(f"{src}: {n_dup} {kind} record(s) appear in more than one file; "
                            "kept once")
    quarantine = (
        pl.concat([r.quarantine for r in results])
        if results else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    )
    if write_quarantine:
        for r in results:
            save_quarantine(r, paths, source=src)
    return Dataset(
        sessions=tables["sessions"],
        diary=tables["diary"],
        tests=tables["tests"],
        phases=tables["phases"],
        questionnaires=tables["questionnaires"],
        quarantine=quarantine,
        results=tuple(results),
        source_dir=src,
        is_demo=demo,
        warnings=tuple(warnings),
    )


def save_quarantine(
    result: ReadResult, paths: ProjectPaths, *, source: Path | None = None
) -> Path | None:
    """Write a file's rejected records to ``data/quarantine/<name>.quarantine.csv`` (atomically).

    ``<name>`` is the file's path below ``source`` without ``.csv``, folders joined by ``__``
    (``2025/sessions.csv`` → ``2025__sessions``), so files of the same name in different folders
    do not overwrite (or delete) each other's quarantine; without ``source``, the file's stem.
    An earlier quarantine file of the same input is replaced: it describes the input as it is now."""
    path = Path(result.path)
    name = path.stem
    if source is not None:
        rel = path.resolve().relative_to(Path(source).resolve())
        name = "__".join((*rel.parent.parts, rel.stem))
    target = paths.quarantine / (name + ".quarantine.csv")
    with project_lock(paths):  # another command may be writing the project's stored files
        if result.quarantined == 0:
            if target.exists():
                target.unlink()
            return None
        buf = io.BytesIO()
        result.quarantine.write_csv(buf)
        atomic_write_bytes(target, buf.getvalue())
    return target


__all__ = [
    "DIARY",
    "PHASES",
    "QUESTIONNAIRES",
    "SESSIONS",
    "TESTS",
    "Dataset",
    "ReadError",
    "ReadResult",
    "load_project",
    "log_files",
    "read_any",
    "read_bytes",
    "read_diary",
    "read_phases",
    "read_questionnaires",
    "read_sessions",
    "read_table",
    "read_tests",
    "save_quarantine",
    "validate_frame",
]
