"""Property: whatever bytes a file holds, a reader gives a clear error or a full accounting."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rehab.io as rio
from rehab.io import ReadError, read_diary, read_sessions

SESSIONS_OK = (
    b"date,exercise,set,reps,hold_s,pain,notes\n"
    b'2026-03-01,Back extension,1,10,,2,"felt ok, ""pump"""\n'
    b"2026-03-01,Back extension,2,10,,3,\n"
    b"2026-03-03,plank,1,,45,1,\n"
)
DIARY_OK = b"date,moment,pain,flare\n2026-03-01,morning,3,no\n2026-03-01,evening,2,yes\n"


@st.composite
def mutated(draw, base: bytes):
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "dup_line"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=4) | st.sampled_from(
                [b",", b";", b'"', b"\n", b"\r\n", b"\xef\xbb\xbf", b"11", b"-1", b"yes"]))
        elif op == "delete":
            del data[i : i + draw(st.integers(1, 5))]
        else:
            lines = bytes(data).split(b"\n")
            k = draw(st.integers(0, len(lines) - 1))
            lines.insert(k, lines[k])
            data = bytearray(b"\n".join(lines))
    return bytes(data)


def _check(tmp_path, name, data, reader):
    p = tmp_path / name
    p.write_bytes(data)
    try:
        r = reader(p)
    except ReadError as e:
        assert str(p) in str(e)  # the error names the file
        return
    assert r.records == r.accepted + r.quarantined + r.duplicates
    assert r.records >= 0 and r.data.height == r.accepted
    assert r.quarantine["reason"].null_count() == 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated(SESSIONS_OK))
def test_mutated_sessions_never_crash(tmp_path, data):
    _check(tmp_path, "sessions.csv", data, read_sessions)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated(DIARY_OK))
def test_mutated_diary_never_crash(tmp_path, data):
    _check(tmp_path, "diary.csv", data, read_diary)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated(SESSIONS_OK * 1))
def test_mutated_fast_path_never_crash(tmp_path, data):
    with pytest.MonkeyPatch.context() as m:
        m.setattr(rio, "FAST_PATH_BYTES", 0)
        _check(tmp_path, "sessions.csv", data, read_sessions)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.integers(0, 12), st.integers(-2, 12)), min_size=1, max_size=30))
def test_counts_match_the_rule(tmp_path, rows):
    """Pain outside 0-10 is quarantined, the rest accepted, duplicates counted once."""
    text = "date,pain,stiffness\n" + "".join(f"2026-03-01,{a},{b}\n" for a, b in rows)
    p = tmp_path / "diary.csv"
    p.write_text(text)
    r = read_diary(p)
    bad = [x for x in rows if not (0 <= x[0] <= 10 and 0 <= x[1] <= 10)]
    good = [x for x in rows if x not in bad]
    assert r.quarantined == len(bad)
    assert r.accepted == len(set(good)) and r.duplicates == len(good) - len(set(good))


SESSIONS_TYPED = (
    b"participant,date,time,exercise,set,reps,hold_s,load_kg,pain,notes\n"
    b'p1,2026-03-01,07:30,Back extension,1,10,,2.5,2,"felt ok, ""pump"""\n'
    b'p1,2026-03-01,07:30,back_extension,2,10,,2.5,3,""\n'
    b"p2,2026-03-03,18:05,plank,1,,45,0,1,\n"
)


def _same_result(tmp_path, data: bytes, *, expect_fast: bool = False):
    """The large-file path (typed polars read) gives exactly what the careful path gives."""
    p = tmp_path / "sessions.csv"
    p.write_bytes(data)
    try:
        slow = read_sessions(p)
    except ReadError:
        return
    parsed = []
    real = rio._parse_polars

    def spy(*args, **kw):
        parsed.append(real(*args, **kw))
        return parsed[-1]

    with pytest.MonkeyPatch.context() as m:
        m.setattr(rio, "FAST_PATH_BYTES", 0)
        m.setattr(rio, "_parse_polars", spy)
        fast = read_sessions(p)
    if expect_fast:  # the file was read by polars, not handed back to the careful path
        assert any(x is not None for x in parsed)
    assert fast.data.equals(slow.data)
    assert (fast.records, fast.duplicates) == (slow.records, slow.duplicates)
    cols = ["record", "column", "value", "reason", "raw"]
    assert fast.quarantine.select(cols).equals(slow.quarantine.select(cols))
    known = fast.quarantine["line"].is_not_null()  # lines are unknown when a record spans lines
    assert fast.quarantine.filter(known)["line"].equals(slow.quarantine.filter(known)["line"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated(SESSIONS_TYPED))
def test_fast_path_gives_the_careful_paths_result(tmp_path, data):
    _same_result(tmp_path, data)


@pytest.mark.parametrize("row", [
    b"p1,2026-03-04,07:30,plank,1,3.0,,,2,",         # a whole number written as 3.0: Float64 read
    b"p1,2026-03-04,07:30,plank,1,3.5,,,2,",         # not whole: quarantined, written value kept
    b"p1,2026-03-04,07:30,plank,1,x,,,2,",           # not a number: all-text read
    b"p1,2026-03-04,07:30,plank,1, 4 ,,,2,",         # spaces around a number
    b"p1,2026-03-04,07:30,plank,1,4,,,11,",          # out of range
    b"p1,2026-03-04,07:30,plank,1,4,,,1e400,",       # infinite
    b"p1,2026-03-04,07:30,plank,1,4,,,nan,",         # not a number that parses as one
    b"p1,2026-03-04,07:30,plank,1,99999999999999999999,,,2,",  # beyond Int64
    b" p1 ,2026-03-04,07:30, plank ,1,4,,,2, note ",  # text to trim
    b"p 1,2026-03-04,07:30,plank,1,4,,,2,",          # a bad participant id
    b"p1,2026-3-4,7:30,plank,1,4,,,2,",              # unpadded date and time
    b'p1,2026-03-04,07:30,plank,1,4,,,2,"two\nlines"',  # a record over two lines
    b'p1,2026-03-04,07:30,plank,1,4,,,2,"two\r\nlines"',  # ... with a CRLF, read as LF (found by the
])                                                          # property test)
def test_fast_path_agrees_on_each_quirk(tmp_path, row):
    _same_result(tmp_path, SESSIONS_TYPED + row + b"\n" + SESSIONS_TYPED.split(b"\n", 1)[1],
                 expect_fast=True)


@pytest.mark.parametrize("row", [
    b'p1,2026-03-04,07:30,plank,1,4,,,2,"felt ok, "x"pump"""',  # text after a closing quote
    b'p1,2026-03-04,07:30,plank,1,4,,,2, "spaced"',   # a quote that opens nothing
    b'p1,2026-03-04,07:30,plank,1,4,,,2,5" tall',     # a quote inside an unquoted field
])
def test_malformed_quotes_take_the_careful_path(tmp_path, row):
    """polars and Python's csv module read a malformed quoted field differently (found by the
    property test above): such a file is read by the careful path."""
    _same_result(tmp_path, SESSIONS_TYPED + row + b"\n")


def _quotes_fit_run_by_run(data: bytes, delim: str = ",") -> bool:
    """The quote check's rule applied to every run of quotes at once, no pairing, no blocks:
    the reference the block-by-block check is held to."""
    import numpy as np

    a = np.frombuffer(data, dtype=np.uint8)
    at = np.flatnonzero(a == 34)
    if not len(at):
        return True
    n = len(a)
    runs = np.split(at, np.flatnonzero(np.diff(at) != 1) + 1)
    before = 0
    for run in runs:
        s, e, odd, inside = run[0], run[-1], len(run) % 2 == 1, before % 2 == 1
        opens = s == 0 or chr(a[s - 1]) in (delim, "\n")
        closes = e == n - 1 or chr(a[e + 1]) in (delim, "\n", "\r")
        if (not inside and odd and not opens) or (not inside and not odd and opens and not closes) \
                or (inside and odd and not closes):
            return False
        before += len(run)
    return before % 2 == 0


@settings(max_examples=3000, deadline=None)
@given(text=st.lists(st.sampled_from(['"', '""', '"a"', "a", ",", ",,", " ", "\n", "\r\n", '",', ',"']),
                     max_size=40).map("".join),
       block=st.integers(1, 16))
def test_quote_check_block_by_block_is_the_run_by_run_rule(text, block):
    """Pairing plain quotes, cutting the body into blocks (of any size, so a pair or a run of
    quotes may straddle an edge) and checking the rest in bounded batches give exactly the rule
    applied to every run at once."""
    data = text.encode()
    body = rio._Body(None, data, 0, ",")
    body.BLOCK = block
    assert body._check_quotes() == _quotes_fit_run_by_run(data)


@settings(max_examples=1500, deadline=None)
@given(fields=st.lists(st.lists(st.sampled_from(['"', '""', "a", ",", " ", "\n"]), max_size=6).map("".join),
                      min_size=2, max_size=2),
       block=st.integers(1, 12))
def test_quote_check_holds_where_it_says_the_parsers_agree(fields, block):
    """Where the fast path's quote check passes a file, polars reads it as Python's csv module
    does; and the check's answer does not depend on where its blocks end."""
    import csv
    import io

    import polars as pl

    text = "x,y,z\n1," + fields[0] + ",3\n4," + fields[1] + ",6\n"
    body = rio._Body(None, text.encode(), 0, ",")
    agree = body._check_quotes()
    body.BLOCK = block
    assert body._check_quotes() == agree
    if not agree:
        return
    rows = list(csv.reader(io.StringIO(text[6:]), strict=False))
    try:
        seen = pl.read_csv(text.encode(), infer_schema=False).rows()
    except pl.exceptions.PolarsError:
        return  # the fast path then hands the file to the careful one
    if len(seen) == len(rows) and all(len(r) == 3 for r in rows):  # short records: checked apart
        assert [[v or "" for v in r] for r in seen] == rows


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.tuples(
        st.sampled_from(["07:30", "07:30", "7:30", None]),           # time, mostly one value
        st.sampled_from([45.0, 45.0, 0.0, -0.0, None, float("nan")]),  # bench angle
        st.sampled_from([3, 3, 3, 4, None]),                          # set
        st.sampled_from(["Back extension", "plank"]),
    ), min_size=1, max_size=12),
    typed=st.booleans(),
)
def test_constant_columns_give_what_the_rows_give(rows, typed):
    """A column holding one value on every row is given as that value, and left out of the
    duplicate hash: the table, quarantine and duplicates are what the per-row way gives."""
    import polars as pl

    frame = pl.DataFrame(
        {"date": ["2026-03-01"] * len(rows), "time": [r[0] for r in rows],
         "bench_angle_deg": [r[1] for r in rows], "set": [r[2] for r in rows],
         "exercise": [r[3] for r in rows]},
        schema={"date": pl.String, "time": pl.String, "bench_angle_deg": pl.Float64,
                "set": pl.Int64, "exercise": pl.String})
    if not typed:  # as the careful path hands it over: text
        frame = frame.with_columns(pl.col("bench_angle_deg", "set").cast(pl.String))
    got = rio.validate_frame(frame, rio.SESSIONS, file="f.csv")
    with pytest.MonkeyPatch.context() as m:
        m.setattr(rio, "_constants", lambda *a: {})
        want = rio.validate_frame(frame, rio.SESSIONS, file="f.csv")
    # written out, so that -0.0 and 0.0 differ
    assert got[0].write_csv() == want[0].write_csv() and got[1].equals(want[1]) and got[2:] == want[2:]


@pytest.mark.parametrize("rows", [
    b"p2,2026-03-03,18:05,plank,1,,45,0,1\n,\n",  # a short record, then one of empty fields (found
    b",,,,,,,,,\n\n",                             # by the property test): not blank lines
])
def test_records_of_empty_fields_are_records(tmp_path, rows):
    """polars reads a record of empty fields as an all-null row, like a blank line; the careful path
    counts it as a record (and quarantines it): so must the fast path, which hands it back."""
    _same_result(tmp_path, SESSIONS_TYPED + rows)


@pytest.mark.parametrize("transform", [
    lambda b: b"\xef\xbb\xbf\r\n\r\n" + b.replace(b"\n", b"\r\n"),       # BOM, blank lines, CRLF
    lambda b: b.replace(b",", b";").replace(b"2.5", b"2,5"),               # ; and decimal commas
    lambda b: b.replace(b'""', b""),                                       # empty, not quoted
    lambda b: b.replace(b",10,", b",10.0,"),                               # whole numbers as floats
    lambda b: b.replace(b"07:30", b"7:30"),                                # unpadded times
])
def test_fast_path_agrees_on_whole_file_variants(tmp_path, transform):
    bad = b"p3,2026-03-05,08:00,plank,1,4,,,12,too much\n"  # one record to quarantine
    _same_result(tmp_path, transform(SESSIONS_TYPED + bad + SESSIONS_TYPED.split(b"\n", 1)[1] * 20),
                 expect_fast=True)
