"""The readers: every bad-input case of the foundation issue, and the accounting rule."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from rehab.io import (
    ReadError,
    load_project,
    read_diary,
    read_phases,
    read_sessions,
    read_tests,
    validate_frame,
)
from rehab.schema import DIARY, SESSIONS


def write(tmp_path, name, text, *, encoding="utf-8", newline="\n"):
    p = tmp_path / name
    p.write_bytes(text.replace("\n", newline).encode(encoding))
    return p


def accounted(r):
    return r.records == r.accepted + r.quarantined + r.duplicates


def test_clean_sessions_file_types_and_defaults(tmp_path):
    p = write(tmp_path, "sessions.csv",
              "date,exercise,set,reps,hold_s,load_kg,pain,side,set_type\n"
              "2026-03-02,Roman chair,1,10,,0,2,,\n"
              "2026-03-02,back extension hold,1,,30.5,,1,both,test\n")
    r = read_sessions(p)
    assert (r.records, r.accepted, r.quarantined, r.duplicates) == (2, 2, 0, 0)
    d = r.data
    assert d.columns == SESSIONS.names
    assert d.schema["date"] == pl.Date and d.schema["reps"] == pl.Int64
    assert d["participant"].to_list() == ["me", "me"]  # default when the column is absent
    assert d["exercise"].to_list() == ["back_extension", "back_extension_hold"]  # alias table
    assert d["set_type"].to_list() == ["normal", "test"]  # default normal
    assert d["hold_s"].to_list() == [None, 30.5]


def test_unknown_exercise_kept_as_written_and_config_alias(tmp_path):
    p = write(tmp_path, "sessions.csv", "date,exercise,set\n2026-03-02,Reverse Nordic,1\n")
    assert read_sessions(p).data["exercise"].to_list() == ["Reverse Nordic"]
    r = read_sessions(p, aliases={"reverse nordic": "back_extension"})
    assert r.data["exercise"].to_list() == ["back_extension"]


@pytest.mark.parametrize(
    "row, column, fragment",
    [
        ("2026-03-02,plank,1,,,11", "pain", "from 0 to 10"),
        ("2026-03-02,plank,1,-3,,", "reps", "≥ 0"),
        ("2026-02-30,plank,1,,,", "date", "YYYY-MM-DD"),
        ("2026-13-01,plank,1,,,", "date", "YYYY-MM-DD"),
        ("03/02/2026,plank,1,,,", "date", "YYYY-MM-DD"),
        (",plank,1,,,", "date", "required"),
        ("2026-03-02,,1,,,", "exercise", "required"),
        ("2026-03-02,plank,0,,,", "set", "≥ 1"),
        ("2026-03-02,plank,1.5,,,", "set", "whole number"),
        ("2026-03-02,plank,1,ten,,", "reps", "not a number"),
        ("2026-03-02,plank,1,,nan,", "hold_s", "not a number"),
    ],
)
def test_bad_values_are_quarantined_with_column_value_reason(tmp_path, row, column, fragment):
    p = write(tmp_path, "sessions.csv",
              "date,exercise,set,reps,hold_s,pain\n2026-03-01,plank,1,,30,0\n" + row + "\n")
    r = read_sessions(p)
    assert r.accepted == 1 and r.quarantined == 1 and accounted(r)
    q = r.quarantine.row(0, named=True)
    assert q["file"] == str(p) and q["record"] == 2 and q["line"] == 3
    assert q["column"] == column
    assert fragment in q["reason"]
    # the raw record is kept whole in the quarantine
    raw = json.loads(q["raw"])
    assert (raw["exercise"] or "") == row.split(",")[1]


def test_diary_booleans_and_choices(tmp_path):
    p = write(tmp_path, "diary.csv",
              "Date,Pain,Flare,Spasm,Moment\n"
              "2026-03-01,3,yes,no,Morning\n2026-03-02,2,TRUE,0,evening\n"
              "2026-03-03,2,1,false,pre\n2026-03-04,2,maybe,no,noon\n")
    r = read_diary(p)
    assert r.data["flare"].to_list() == [True, True, True]
    assert r.data["spasm"].to_list() == [False, False, False]
    assert r.data["moment"].to_list() == ["morning", "evening", "pre"]
    q = r.quarantine.row(0, named=True)
    # both problems of the record are named; the first in table order is the record's column
    assert q["record"] == 4 and q["column"] == "moment" and q["value"] == "noon"
    assert "flare: not a yes/no value" in q["reason"] and "moment: not allowed" in q["reason"]


def test_semicolon_decimal_comma_crlf_bom(tmp_path):
    text = "\ufeffdate;exercise;set;load_kg;rpe\n2026-03-02;Plank;1;2,5;8,5\n2026-03-02;Plank;2;;7\n"
    p = write(tmp_path, "sessions.csv", text, newline="\r\n")
    r = read_sessions(p)
    assert r.ok and r.delimiter == ";"
    assert r.data["load_kg"].to_list() == [2.5, None]
    assert r.data["rpe"].to_list() == [8.5, 7.0]
    assert r.data["exercise"].to_list() == ["plank", "plank"]


def test_quoted_commas_and_newlines_in_notes_keep_line_numbers(tmp_path):
    p = write(tmp_path, "diary.csv",
              'date,pain,notes\n2026-03-01,2,"sat long, then ""ok""\nnext line"\n\n2026-03-02,12,x\n')
    r = read_diary(p)
    assert r.data["notes"].to_list() == ['sat long, then "ok"\nnext line']
    q = r.quarantine.row(0, named=True)
    assert (q["record"], q["line"], q["column"]) == (2, 5, "pain")  # blank line is not a record


def test_header_case_and_spacing(tmp_path):
    p = write(tmp_path, "tests.csv", " Date , TEST,Value ,Bench Angle Deg\n2026-03-01,sorensen_hold,95,0\n")
    r = read_tests(p)
    assert r.ok and r.data["bench_angle_deg"].to_list() == [0.0]
    assert r.data["unit"].to_list() == ["s"]  # inferred from the test id


def test_tests_unit_must_match_standard_test(tmp_path):
    p = write(tmp_path, "tests.csv",
              "date,test,value,unit\n2026-03-01,sorensen_hold,95,reps\n"
              "2026-03-01,back_extension_reps,30,\n2026-03-01,my_wall_sit,60,s\n")
    r = read_tests(p)
    assert r.data["unit"].to_list() == ["reps", "s"]
    assert r.quarantine["column"].to_list() == ["unit"]


def test_cp1252_decoded_with_warning(tmp_path):
    p = write(tmp_path, "diary.csv", "date,pain,notes\n2026-03-01,2,café – ok\n", encoding="cp1252")
    r = read_diary(p)
    assert r.encoding == "cp1252" and r.data["notes"].to_list() == ["café – ok"]
    assert any("not valid UTF-8" in w for w in r.warnings)


def test_latin1_bytes_undefined_in_cp1252(tmp_path):
    p = tmp_path / "diary.csv"
    p.write_bytes(b"date,pain,notes\n2026-03-01,2,\x81x\n")
    r = read_diary(p)
    assert r.encoding == "latin-1" and r.accepted == 1


def test_exact_duplicates_kept_once(tmp_path):
    p = write(tmp_path, "diary.csv", "date,pain\n2026-03-01,2\n2026-03-01,2\n2026-03-01,3\n")
    r = read_diary(p)
    assert (r.records, r.accepted, r.duplicates) == (3, 2, 1) and accounted(r)


def test_ragged_records_are_quarantined_not_lost(tmp_path):
    p = write(tmp_path, "diary.csv", "date,pain,notes\n2026-03-01,2,a,b\n2026-03-02\n2026-03-03,1,ok\n")
    r = read_diary(p)
    assert (r.records, r.accepted, r.quarantined) == (3, 1, 2)
    assert "more than the header" in r.quarantine["reason"][0]
    assert "unquoted delimiter in a text field" in r.quarantine["reason"][0]
    assert r.quarantine["line"].to_list() == [2, 3]


def test_a_trailing_comma_is_named_as_such(tmp_path):
    """A hand-typed row ending in a comma has one empty field too many: quarantined (the
    header says how many fields a record has), with a hint that says what to remove."""
    p = write(tmp_path, "diary.csv", "date,pain,notes\n2026-03-01,2,ok,\n2026-03-02,3,fine\n")
    r = read_diary(p)
    assert (r.records, r.accepted, r.quarantined) == (2, 1, 1)
    assert r.quarantine["reason"][0] == ("the record has 4 fields, more than the header's 3 (its "
                                         "extra fields are empty: a trailing delimiter? remove it)")


def test_future_dates_warn(tmp_path):
    p = write(tmp_path, "diary.csv", "date,pain\n2099-01-01,2\n")
    r = read_diary(p, today=dt.date(2026, 11, 25))
    assert r.accepted == 1 and any("after today" in w for w in r.warnings)


def test_future_dates_count_accepted_records_only(tmp_path):
    p = write(tmp_path, "diary.csv", "date,pain\n2099-01-01,2\n2099-01-02,11\n2026-01-01,3\n")
    r = read_diary(p, today=dt.date(2026, 11, 25))
    assert r.quarantined == 1
    assert [w for w in r.warnings if "after today" in w] == [
        f"{p}: 1 record(s) dated after today (2026-11-25) in column 'date'"]


def test_validating_without_keeping_the_rows_gives_the_same_quarantine_and_warnings():
    """Importers store the rows themselves and ask only for the quarantine and the warnings."""
    frame = pl.DataFrame({"date": ["2099-01-01", "2099-01-02", "2026-13-01", "2026-01-01", "2026-01-01"],
                          "pain": ["2", "11", "3", "4", "4"], "notes": ["a", None, "", " b ", " b "]})
    kept = validate_frame(frame, DIARY, file="f.csv", today=dt.date(2026, 11, 25))
    only = validate_frame(frame, DIARY, file="f.csv", today=dt.date(2026, 11, 25), keep=False)
    assert only[0] is None and only[2] is None and kept[2] == 1
    assert only[1].equals(kept[1]) and kept[1].height == 2
    assert only[3] == kept[3] and len(kept[3]) == 1


@pytest.mark.parametrize("content", ["", "\n\n", "   \n"])
def test_empty_file_is_an_error_naming_the_file(tmp_path, content):
    p = write(tmp_path, "diary.csv", content)
    with pytest.raises(ReadError, match="diary.csv: the file is empty.*date"):
        read_diary(p)


def test_missing_required_column_lists_found_and_expected(tmp_path):
    p = write(tmp_path, "sessions.csv", "date,exercise name,reps\n2026-03-01,plank,3\n")
    with pytest.raises(ReadError) as e:
        read_sessions(p)
    msg = str(e.value)
    assert "sessions.csv" in msg and "missing: exercise, set" in msg
    assert "Columns found: date, exercise name, reps" in msg and "Expected" in msg


def test_unreadable_and_binary_files(tmp_path):
    with pytest.raises(ReadError, match="no such file"):
        read_diary(tmp_path / "nope.csv")
    with pytest.raises(ReadError, match="is a folder"):
        read_diary(tmp_path)
    p = tmp_path / "diary.csv"
    p.write_bytes(b"date,pain\n\x00\x01\x02")
    with pytest.raises(ReadError, match="binary"):
        read_diary(p)


def test_duplicate_header_is_an_error(tmp_path):
    p = write(tmp_path, "diary.csv", "date,pain,Pain\n2026-03-01,2,3\n")
    with pytest.raises(ReadError, match="more than once"):
        read_diary(p)


def test_invalid_participant_id_quarantined(tmp_path):
    p = write(tmp_path, "diary.csv", "participant,date,pain\n../../etc,2026-03-01,2\nann,2026-03-01,2\n")
    r = read_diary(p)
    assert r.data["participant"].to_list() == ["ann"]
    assert r.quarantine["column"].to_list() == ["participant"]


def test_phases_reader(tmp_path):
    p = write(tmp_path, "phases.csv",
              "participant,start,end,protocol,phase\nme,2026-01-05,2026-02-15,traditional-core,A\n"
              "me,2026-02-16,,shit,B\n")
    r = read_phases(p)
    assert r.ok and r.data["end"].to_list() == [dt.date(2026, 2, 15), None]


def test_nothing_is_written_and_raw_untouched(tmp_path):
    text = "date,pain\n2026-03-01,99\n"
    p = write(tmp_path, "diary.csv", text)
    before = sorted(tmp_path.rglob("*"))
    read_diary(p)
    assert sorted(tmp_path.rglob("*")) == before and p.read_text() == text


def test_fast_path_agrees_with_python_path(tmp_path, monkeypatch):
    import rehab.io as rio

    rows = ["date,exercise,set,reps,pain,notes"]
    for i in range(300):
        pain = "11" if i % 50 == 7 else str(i % 10)
        rows.append(f"2026-03-{1 + i % 28:02d},plank,{1 + i % 3},{i % 12},{pain},\"n, {i}\"")
    rows.insert(20, "")
    rows.append("2026-03-01,plank,1")  # short record
    p = write(tmp_path, "sessions.csv", "\n".join(rows) + "\n")
    slow = read_sessions(p)
    monkeypatch.setattr(rio, "FAST_PATH_BYTES", 0)
    fast = read_sessions(p)
    assert fast.data.equals(slow.data)
    assert fast.quarantine.drop("raw").equals(slow.quarantine.drop("raw"))
    assert (fast.records, fast.duplicates) == (slow.records, slow.duplicates)
    assert accounted(fast)


def test_load_project_uses_sample_when_raw_is_empty(tmp_path):
    for sub in ("raw", "sample"):
        (tmp_path / "data" / sub).mkdir(parents=True)
    (tmp_path / "rehab.toml").write_text("")
    write(tmp_path / "data" / "sample", "diary.csv", "participant,date,pain\ndemo,2026-03-01,2\n")
    ds = load_project(tmp_path)
    assert ds.is_demo and ds.participants == ["demo"]
    write(tmp_path / "data" / "raw", "diary-2026.csv", "date,pain\n2026-03-01,2\n2026-03-02,x\n")
    ds = load_project(tmp_path, write_quarantine=True)
    assert not ds.is_demo and ds.participants == ["me"] and ds.quarantine.height == 1
    assert (tmp_path / "data" / "quarantine" / "diary-2026.quarantine.csv").is_file()
    assert ds.diary.columns == DIARY.names


def test_fast_path_catches_short_records_and_quoted_empty_fields(tmp_path, monkeypatch):
    import rehab.io as rio

    monkeypatch.setattr(rio, "FAST_PATH_BYTES", 0)
    p = write(tmp_path, "diary.csv", 'date,pain,notes\n2026-03-01,2,""\n2026-03-02,3,\n2026-03-03\n'
              "2026-03-04,1,x\n")
    r = read_diary(p)
    assert (r.records, r.accepted, r.quarantined) == (4, 3, 1)
    assert r.data["notes"].to_list() == [None, None, "x"]
    assert "fewer than the header" in r.quarantine["reason"][0]


def test_whole_number_beyond_int64_is_quarantined_not_a_silent_null(tmp_path):
    p = write(tmp_path, "sessions.csv", "date,exercise,set,reps\n2026-03-01,plank,1,1e20\n"
              "2026-03-01,plank,2,12\n")
    r = read_sessions(p)
    assert r.data["reps"].to_list() == [12] and accounted(r)
    q = r.quarantine.row(0, named=True)
    assert (q["record"], q["column"], q["value"]) == (1, "reps", "1e20")


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_blank_lines_before_the_header_count_for_line_numbers(tmp_path, newline):
    # two blank lines, the header on line 3, the bad record on line 5
    p = write(tmp_path, "diary.csv", "\n\ndate,pain\n2026-03-01,2\n2026-03-02,12\n", newline=newline)
    r = read_diary(p)
    assert r.quarantine["line"].to_list() == [5]


def test_load_project_tells_of_records_in_two_files(tmp_path):
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (tmp_path / "rehab.toml").write_text("")
    write(raw, "diary-jan.csv", "date,pain\n2026-01-30,2\n2026-01-31,3\n")
    write(raw, "diary-feb.csv", "date,pain\n2026-01-31,3\n2026-02-01,4\n")  # overlaps one day
    ds = load_project(tmp_path)
    # files in name order (feb before jan), the overlapping record once, where first seen
    assert ds.diary["pain"].to_list() == [3.0, 4.0, 2.0]
    assert sum(r.accepted for r in ds.results) == 4
    assert ds.warnings == (f"{raw}: 1 diary record(s) appear in more than one file; kept once",)
    assert ds.for_participant("me").warnings == ds.warnings


def test_quarantine_files_of_same_named_inputs_do_not_clash(tmp_path):
    raw = tmp_path / "data" / "raw"
    for year in ("2025", "2026"):
        (raw / year).mkdir(parents=True)
    (tmp_path / "rehab.toml").write_text("")
    write(raw / "2025", "diary.csv", "date,pain\n2025-03-01,12\n")
    write(raw / "2026", "diary.csv", "date,pain\n2026-03-01,2\n")  # clean: must not delete 2025's
    ds = load_project(tmp_path, write_quarantine=True)
    assert ds.quarantine.height == 1
    q = sorted(p.name for p in (tmp_path / "data" / "quarantine").iterdir())
    assert q == ["2025__diary.quarantine.csv"]


def test_data_quality_gives_each_person_their_share_of_each_file(tmp_path):
    """Counted by hand: a shared diary with a's bad date, b's pain of 11 and one line with a
    field too many (whose is unknown: counted for a and b, who both have records there); b's
    own sessions file (no participant column: the default participant) with a duplicate."""
    from rehab.io import load_project

    raw = tmp_path / "data" / "raw"
    (raw / "me").mkdir(parents=True)
    write(raw, "diary.csv", "participant,date,pain\na,2026-03-01,2\na,2026-02-30,3\n"
          "b,2026-03-01,11\nb,2026-03-02,4\nb,2026-03-03,4,x\n")
    write(raw / "me", "sessions.csv", "date,exercise,set,reps\n2026-03-01,back_extension,1,10\n"
          "2026-03-01,back_extension,1,10\n2026-03-01,back_extension,2,x\n")
    ds = load_project(tmp_path)
    got = {(r["participant"], Path(r["path"]).relative_to(raw).as_posix()):
           (r["records"], r["quarantined"], r["unattributed"], r["duplicates"])
           for r in ds.data_quality().iter_rows(named=True)}
    assert got == {("a", "diary.csv"): (1, 1, 1, 0), ("b", "diary.csv"): (1, 1, 1, 0),
                   ("me", "me/sessions.csv"): (1, 1, 0, 1)}
    assert ds.data_quality("a").height == 1
