"""Shared importer pieces: app date formats, durations, clocks, units, detection and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from rehab.importers import ImportFormatError, convert, detect, known_layouts
from rehab.importers.common import LB_KG, parse_clock, parse_datetime, parse_duration_min, read_rows

FIX = Path(__file__).parent / "fixtures" / "apps"


@pytest.mark.parametrize(
    ("text", "year", "want"),
    [
        ("2026-03-02 07:30:00", None, ("2026-03-02", "07:30")),
        ("2024-07-29 17:01:32", None, ("2024-07-29", "17:01")),
        ("2019-01-05", None, ("2019-01-05", None)),
        ("15 Sep 2025, 07:48", None, ("2025-09-15", "07:48")),
        ("24 Jul 2024, 7:07", None, ("2024-07-24", "07:07")),  # hour not padded
        ("Jun 11, 2026, 1:01 PM", None, ("2026-06-11", "13:01")),
        ("Jun 11, 2026, 12:05 AM", None, ("2026-06-11", "00:05")),
        ("25 Juli 2026, 14:21", None, ("2026-07-25", "14:21")),
        ("18 sept. 2026, 17:31", None, ("2026-09-18", "17:31")),
        ("22nd Sep 2020", None, ("2020-09-22", None)),
        ("1st Oct 2020", None, ("2020-10-01", None)),
        ("June 22", 2018, ("2018-06-22", None)),
        ("7 września", 2017, ("2017-09-07", None)),
        ("16 de octubre", 2017, ("2017-10-16", None)),
        ("3 févr. 2025", None, ("2025-02-03", None)),
    ],
)
def test_parse_datetime_app_formats(text, year, want):
    assert parse_datetime(text, year) == want


@pytest.mark.parametrize(
    "text",
    ["", "03/04/2024", "31 Feb 2024", "June 22", "yesterday", "25:10 1 Jan 2020", "2024-13-01"],
)
def test_parse_datetime_refuses_what_it_cannot_know(text):
    assert parse_datetime(text) is None


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("7m", 7), ("1h 6m", 66), ("2h 38m", 158), ("55s", 55 / 60), ("38min", 38), ("32min", 32),
     ("264h 1m", 264 * 60 + 1), ("1h", 60)],
)  # fmt: skip
def test_parse_duration_free_text(text, minutes):
    assert parse_duration_min(text) == pytest.approx(minutes, abs=0.01)


@pytest.mark.parametrize("text", ["", "soon", "1h soon", "m"])
def test_parse_duration_unknown_is_none(text):
    assert parse_duration_min(text) is None


@pytest.mark.parametrize(
    ("text", "want"),
    [("20:39", "20:39"), ("5:01 PM", "17:01"), ("9:23\u202fPM", "21:23"), ("12:00 AM", "00:00"),
     ("8:15 am", "08:15"), ("24:00", None), ("13:00 PM", None), ("noon", None)],
)  # fmt: skip
def test_parse_clock(text, want):
    assert parse_clock(text) == want


def test_pound_is_the_international_pound():
    assert LB_KG == 0.45359237


def test_detect_every_fixture():
    want = {
        "strong/s0.csv": ("strong", "S0"), "strong/s1.csv": ("strong", "S1"),
        "strong/s1b.csv": ("strong", "S1b"), "strong/s2a.csv": ("strong", "S2a"),
        "strong/s2.csv": ("strong", "S2"), "strong/s2_short.csv": ("strong", "S2-short"),
        "strong/s2_de.csv": ("strong", "S2-de"), "strong/s2_fr.csv": ("strong", "S2-fr"),
        "strong/s3.csv": ("strong", "S3"), "hevy/metric.csv": ("hevy", "metric"),
        "hevy/imperial.csv": ("hevy", "imperial"), "fitnotes/old_lbs.csv": ("fitnotes", "old-lbs"),
        "fitnotes/old_kgs.csv": ("fitnotes", "old-kgs"), "fitnotes/new.csv": ("fitnotes", "new"),
        "fitnotes/new_comment.csv": ("fitnotes", "new-comment"),
        "fitnotes/ios.csv": ("fitnotes", "ios"), "jefit/export.csv": ("jefit", "sectioned"),
        "bearable/export_2020.csv": ("bearable", "2020"),
        "bearable/export_dated.csv": ("bearable", "dated"),
        "daylio/year.csv": ("daylio", "year"), "daylio/full_date.csv": ("daylio", "full_date"),
        "daylio/note_title.csv": ("daylio", "note_title"),
        "strong/names_lb.csv": ("strong", "S2"), "hevy/names.csv": ("hevy", "metric"),
        "fitnotes/names.csv": ("fitnotes", "new"), "jefit/names.csv": ("jefit", "sectioned"),
    }  # fmt: skip
    for name, (app, layout) in want.items():
        text = (FIX / name).read_bytes().decode("utf-8-sig")
        got = detect(text)
        assert (got.app, got.layout) == (app, layout), name
    assert {p.relative_to(FIX).as_posix() for p in FIX.rglob("*.csv")} == set(want)


def test_unknown_header_lists_known_layouts_and_the_header_seen():
    with pytest.raises(ImportFormatError) as e:
        convert(b"when,what,how much\n2026-01-01,walk,3\n", name="mystery.csv")
    msg = str(e.value)
    assert "mystery.csv" in msg and "when,what,how much" in msg
    assert "strong S3" in msg and "daylio note_title" in msg and "jefit sectioned" in msg
    assert known_layouts().count("\n") >= 20


def test_wrong_app_named_says_what_the_header_is():
    data = (FIX / "hevy" / "metric.csv").read_bytes()
    with pytest.raises(ImportFormatError, match="header is hevy's layout metric"):
        convert(data, app="strong")
    with pytest.raises(ImportFormatError, match="unknown app"):
        convert(data, app="myfitnesspal")


def test_strong_body_measurements_are_named():
    with pytest.raises(ImportFormatError, match="body-measurement"):
        convert(b'"Date";"Weight (kg)"\n"2024-01-01 08:00:00";"80.0"')


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", b"\x00\x01binary"])
def test_empty_or_binary_is_unusable(data):
    with pytest.raises(ImportFormatError):
        convert(data)


def test_blank_lines_before_the_header_are_not_records():
    data = (FIX / "strong" / "s3.csv").read_bytes()
    plain, padded = convert(data), convert(b"\n  \n" + data)
    assert padded.parsed.records == plain.parsed.records == 9  # the header is not record 1
    assert padded.quarantined == plain.quarantined == set()
    assert padded.skipped == plain.skipped


ABC = ["a", "b", "c"]


def test_fast_and_slow_record_readers_agree_and_catch_short_records():
    head = "a,b,c\n"
    body = "".join(f'{i},"x, {i}",{i % 7}\n' for i in range(20_000))
    fast = read_rows(head + body, ",", ABC)
    slow = read_rows(head + "".join(body.splitlines(keepends=True)[:80]), ",", ABC)  # csv module
    assert fast.records == 20_000 and not fast.bad
    assert fast.frame.head(slow.records).equals(slow.frame)
    short = read_rows(head + body + "5,6\n" + body, ",", ABC)
    assert short.records == 40_001 and [b[0] for b in short.bad] == [20_001]
    blank = read_rows(head + body + "\n\n" + body, ",", ABC)
    assert blank.records == 40_000 and not blank.bad
    multi = read_rows(head + body + '1,"two\nlines",3\n', ",", ABC)
    assert multi.records == 20_001 and multi.frame["b"][-1] == "two\nlines"


def test_fast_record_reader_takes_the_export_bytes_as_its_text():
    body = "".join(f'{i},"x, {i}",{i % 7}\n' for i in range(20_000))
    for lead in ("", "\n \n\t\n"):
        text = lead + "a,b,c\n" + body
        for raw in (text.encode(), b"\xef\xbb\xbf" + text.encode()):  # as decode() leaves them
            got = read_rows(text, ",", ABC, raw=raw)
            assert got.records == 20_000 and got.frame.equals(read_rows(text, ",", ABC).frame)
        short = text + "5,6\n" + body
        got = read_rows(short, ",", ABC, raw=short.encode())
        assert got.records == 40_001 and [b[0] for b in got.bad] == [20_001]
