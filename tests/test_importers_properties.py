"""Property tests: the detectors and parsers give a clear error or a full accounting, never a crash
and never a silently dropped record."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rehab.importers import APPS, ImportFormatError, Options, convert, detect, store
from rehab.importers.common import (
    add_numbers,
    fmt_number,
    number,
    parse_clock,
    parse_datetime,
    parse_duration_min,
)
from rehab.importers.sets import _number_in_group

FIX = Path(__file__).parent / "fixtures" / "apps"
SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip

junk = st.text(alphabet=st.sampled_from(list('ab ,;"\n\r\t.:-/1209xX()é\u202f')), max_size=12)


@given(st.text(max_size=40), st.one_of(st.none(), st.integers(1, 3000)))
@settings(max_examples=300, deadline=None)
@example("፩", None)  # an Ethiopic digit: str.isdigit() but not int()'s (found by a long run)
@example("15² Sep 2025", None)  # a superscript two, likewise
def test_date_and_time_parsers_never_crash(text, year):
    got = parse_datetime(text, year)
    if got is not None:
        dt.date.fromisoformat(got[0])
        assert got[1] is None or len(got[1]) == 5
    clock = parse_clock(text)
    assert clock is None or (0 <= int(clock[:2]) < 24 and 0 <= int(clock[3:]) < 60)
    minutes = parse_duration_min(text)
    assert minutes is None or minutes >= 0


@given(st.binary(max_size=400))
@settings(max_examples=100, deadline=None)
def test_any_bytes_give_an_error_or_an_accounting(data):
    try:
        c = convert(data, options=Options(units="kg"))
    except ImportFormatError:
        return
    total = len(c.skipped) + len(c.quarantined)
    for t in c.tables.values():
        total += t["_rec"].n_unique()
    links = c.parsed.links
    total += links.filter(~links["_rec"].is_in(list(c.quarantined | c.skipped))).height
    assert total == c.parsed.records


@given(st.text(max_size=300))
@settings(max_examples=150, deadline=None)
def test_detect_gives_a_layout_or_a_clear_error(text):
    try:
        got = detect(text)
    except ImportFormatError as e:
        assert "Known layouts" in str(e) or "empty" in str(e)
        return
    assert got.app in APPS


def _header(name: str) -> str:
    return (FIX / name).read_bytes().decode("utf-8-sig").split("\n", 1)[0]


def _cells(kind):
    """Values a column might hold: a valid-looking one or junk."""
    valid = {
        "date": st.sampled_from(
            ["2026-03-02 07:30:00", "2025-01-01 18:00:00", "2024-02-29 06:00:00"]
        ),
        "num": st.sampled_from(["0", "10", "12.5", "0.0", "", "8,5", "-1", "1e400", "nan"]),
        "marker": st.sampled_from(["1", "2", "W", "F", "D", "Rest Timer", "Note", "WARM_UP", "?"]),
        "name": st.sampled_from(["Plank", "Back Extension", "Curl, Hammer", 'Odd "name"', ""]),
        "text": st.sampled_from(["", "note", "multi\nline", "test"]),
        "dur": st.sampled_from(["1h 6m", "38min", "", "264h 1m", "x"]),
    }[kind]
    return st.one_of(valid, valid, junk)


STRONG_S2 = ["date", "text", "dur", "name", "marker", "num", "num", "num", "num", "text", "text",
             "num"]  # fmt: skip


@st.composite
def strong_s2(draw):
    rows = draw(st.lists(st.tuples(*[_cells(k) for k in STRONG_S2]), max_size=25))
    buf = io.StringIO()
    w = csv.writer(buf)  # CRLF: a CR or LF in a value is quoted
    for r in rows:
        w.writerow(r)
    return _header("strong/s2.csv") + "\n" + buf.getvalue(), len(rows)


@given(strong_s2())
@SETTINGS
def test_strong_rows_are_all_accounted_for(case):
    text, n = case
    c = convert(text.encode(), options=Options(units="lb"))
    placed = set(c.skipped) | set(c.quarantined)
    for t in c.tables.values():
        placed |= set(t["_rec"].to_list())
    assert c.parsed.records == n and placed == set(range(1, n + 1))


@st.composite
def fixture_with_noise(draw):
    """A fixture with records dropped, duplicated or replaced by junk lines."""
    name = draw(st.sampled_from(sorted(p.relative_to(FIX).as_posix() for p in FIX.rglob("*.csv"))))
    text = (FIX / name).read_bytes().decode("utf-8-sig")
    head, *body = text.split("\n")
    out = []
    for line in body:
        op = draw(st.sampled_from(["keep", "keep", "keep", "drop", "twice", "junk"]))
        if op == "keep":
            out.append(line)
        elif op == "twice":
            out += [line, line]
        elif op == "junk":
            out.append(draw(junk).replace("\n", " "))
    return name, head + "\n" + "\n".join(out)


@given(fixture_with_noise())
@SETTINGS
def test_mangled_fixtures_give_an_error_or_an_accounting(case):
    name, text = case
    try:
        c = convert(text.encode(), options=Options(units="kg"), name=name)
    except ImportFormatError:
        return
    placed = set(c.skipped) | set(c.quarantined)
    for t in c.tables.values():
        placed |= set(t["_rec"].to_list())
    placed |= set(c.parsed.links["_rec"].to_list())
    assert placed == set(range(1, c.parsed.records + 1))


@given(strong_s2())
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_importing_twice_adds_nothing_the_second_time(import_twice, case):
    a, b = import_twice(case[0])
    assert b.new == 0 and b.already_present == a.new and b.quarantined == a.quarantined


# --- the fast paths of the shared helpers give what the plain per-row rules give ---------------

NUMBERS = ["0", "12", "12.5", " 12 ", "8,5", "-8,5", "+3", "-0", "1e3", "1e400", "nan", "inf",
           "abc", "", "  ", "1,5e3", None]  # fmt: skip


@given(st.lists(st.sampled_from(NUMBERS), max_size=60), st.booleans())
@settings(max_examples=100, deadline=None)
def test_numbers_parsed_column_wise_as_row_by_row(values, clean):
    if clean:  # only values the plain cast reads: the fast path
        values = [v for v in values if v in ("0", "12", "12.5", "+3", "-0", "1e3", "", None)]
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    got = add_numbers(frame, ["v"])
    value, bad = number("v")
    want = frame.select(value.alias("_n_v"), bad.alias("_b_v"))
    assert got.select("_n_v", "_b_v").equals(want)


@given(st.lists(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True),
                          st.sampled_from([0.0, -0.0, 2.5, 10.0, 1e15, 2.0004999])),
                min_size=1, max_size=30))  # fmt: skip
@settings(max_examples=60, deadline=None)
def test_numbers_written_per_distinct_value_as_row_by_row(values):
    frame = pl.DataFrame({"v": values * (1200 // len(values) + 1)}, schema={"v": pl.Float64})
    got = frame.select(fmt_number(pl.col("v"))).to_series()
    r = pl.col("v").round(3)
    whole = (r == r.round(0)) & (r.abs() < 1e15)
    per_row = (
        pl.when(whole)
        .then(r.cast(pl.Int64, strict=False).cast(pl.String))
        .otherwise(r.cast(pl.String))
    )
    assert got.equals(frame.select(per_row).to_series(), check_names=False)


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), max_size=80))
@settings(max_examples=60, deadline=None)
def test_set_numbers_by_sorting_as_by_window(pairs):
    frame = pl.DataFrame(pairs, schema={"d": pl.UInt64, "x": pl.UInt64}, orient="row")
    key = frame.select(pl.col("d") * 10 + pl.col("x")).to_series()
    want = frame.select(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(["d", "x"]))
    assert _number_in_group(key).to_list() == want.to_series().to_list()


ROWS = st.lists(st.tuples(st.sampled_from(["2026-01-01", "2026-01-02", ""]),
                          st.sampled_from(["Plank", "Dead bug"]), st.sampled_from(["1", "2"])),
                max_size=30)  # fmt: skip


@given(ROWS, ROWS, st.booleans())
@settings(max_examples=60, deadline=None)
def test_rows_present_by_hash_as_by_full_comparison(new_rows, old_rows, collide):
    cols = ["date", "exercise", "set"]
    cand = pl.DataFrame(new_rows, schema=dict.fromkeys(cols, pl.String), orient="row")
    cand = cand.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("_rec"))
    old = pl.DataFrame(old_rows, schema=dict.fromkeys(cols, pl.String), orient="row")
    keys = [*cols, "_occ"]
    exact = store.with_occurrence(cand, cols).join(
        store.with_occurrence(old, cols).select(keys).with_columns(pl.lit(True).alias("p")),
        on=keys, how="left", maintain_order="left",
    )["p"].fill_null(False)  # fmt: skip
    hashed = store._hashed
    if collide:  # every row the same hash: the full comparison must catch it
        store._hashed = lambda df, c: hashed(df, c).with_columns(
            pl.lit(0, dtype=pl.UInt64).alias("_h")
        )
    try:
        got = store._present(cand, old, cols)
    finally:
        store._hashed = hashed
    if got is None:  # pairs that differ: split_new then compares in full
        assert collide
    else:
        assert got.to_list() == exact.to_list()
