"""JEFIT: EXERCISE SET LOGS (one row per set, timed holds only there) alongside EXERCISE LOGS.

The exports here are synthetic, written for these tests (never a real export); the values expected
are read off them by hand: line numbers count from 1 at the file's first (empty) line.
"""

from __future__ import annotations

import csv
import io

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rehab.importers import ImportFormatError, Options, convert, import_file

BAR = "#" * 54
LOG_HEADER = ("USERID,TIMESTAMP,belongSys,logs,_id,record,mydate,eid,ename,day_item_id,"
              "belongsession,logTime,interval_logs,auto_generated")  # fmt: skip
SET_HEADER = ("_id,userid,exercise_log_id,set_index,weight_lbs,reps,calories,distance_mi,"
              "speed_mph,laps,duration,set_type,log_time,TIMESTAMP")  # fmt: skip
LB45 = "20.412"  # 45 lb in kg, 3 decimals


def banner(name: str) -> str:
    return f"### {name} ".ljust(54, "#")


def csv_rows(rows) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def log_row(log_id, date, name, packed, session="7"):
    return ["123", "1700000000", "0", packed, log_id, "0", date, "11", name, "0", session,
            "1770000000", "", "0"]  # fmt: skip


def set_row(set_id, log_id, index, weight, reps, duration, distance="0"):
    return [set_id, "123", log_id, index, weight, reps, "0", distance, "0", "0", duration,
            "default", "1770000000", "1770000100"]  # fmt: skip


def export(logs, set_logs=None, mass=" lbs") -> str:
    """A JEFIT export: SETTING (when ``mass``), EXERCISE LOGS, EXERCISE SET LOGS (when given)."""
    out = [""]
    if mass is not None:
        out += [banner("SETTING"), "", "_id,length,mass,timer", f"1, inches,{mass},90", "", BAR]
    out += [banner("EXERCISE LOGS"), "", LOG_HEADER, csv_rows(logs).rstrip("\n"), "", BAR]
    if set_logs is not None:
        body = csv_rows(set_logs).rstrip("\n")
        out += [banner("EXERCISE SET LOGS"), "", SET_HEADER, *([body] if body else []), "", BAR]
    return "\n".join(out) + "\n"


DAY = "2026-02-02"
# EXERCISE LOGS on lines 11-14, EXERCISE SET LOGS on lines 20-27
LOGS = [
    log_row("41", DAY, "Plank", "0x0,0x0"),  # 11
    log_row("42", DAY, "Back Extension Hold", "0x0,0x0"),  # 12
    log_row("43", DAY, "Back Extension", "45.0x12,45.0x10,0x0"),  # 13
    log_row("44", DAY, "Bird Dog", "0x12,0x12"),  # 14: no set rows
]
SETS = [
    set_row("101", "41", "1", "0", "0", "45"),  # 20: the plank's second set, listed first
    set_row("100", "41", "0", "0", "0", "60"),  # 21
    set_row("102", "42", "0", "0", "0", "90"),  # 22
    set_row("103", "42", "1", "0.0", "0", "75"),  # 23
    set_row("104", "43", "0", "45.0", "12", "0"),  # 24
    set_row("105", "43", "1", "45.0", "10", "0"),  # 25
    set_row("106", "43", "2", "0", "0", "0"),  # 26: not done
    set_row("107", "99", "0", "0", "0", "30"),  # 27: its exercise log is not in the file
]
BOTH = export(LOGS, SETS)
# what an older export (before set logs) held of the same day: packed sets only
OLDER = export(LOGS)


def conv(text: str, **opts):
    return convert(text.encode(), options=Options(**opts), name="jefit.csv")


def sessions(c):
    return c.tables["sessions"]


def test_fixture_lines_are_where_the_tests_say():
    lines = BOTH.split("\n")
    first, last = csv.reader([lines[10], lines[13]])
    assert (first[4], last[4]) == ("41", "44")
    assert lines[19].startswith("101,") and lines[26].startswith("107,")


def test_set_logs_give_holds_set_numbers_and_their_lines():
    c = conv(BOTH)
    assert c.parsed.records == 10  # 2 + 2 + 3 set rows, 2 packed sets, 1 orphan
    s = sessions(c)
    got = s.select("exercise", "set", "reps", "hold_s", "load_kg", "_source").rows()
    assert got == [
        ("Plank", "1", None, "60", "0", 21),  # set_index order, not file order
        ("Plank", "2", None, "45", "0", 20),
        ("Back Extension Hold", "1", None, "90", "0", 22),
        ("Back Extension Hold", "2", None, "75", "0", 23),
        ("Back Extension", "1", "12", None, LB45, 24),
        ("Back Extension", "2", "10", None, LB45, 25),
        ("Bird Dog", "1", "12", None, "0", 14),  # no set rows: unpacked from its log row
        ("Bird Dog", "2", "12", None, "0", 14),
    ]
    assert set(s["date"]) == {DAY}
    assert c.skipped == {7}  # set_index 2 of Back Extension: all zero, not done
    assert c.quarantined == {10}
    q = c.quarantine.row(0, named=True)
    assert (q["record"], q["column"], q["value"]) == (27, "exercise_log_id", "99")
    assert "matches no EXERCISE LOGS row" in q["reason"]
    assert not c.warnings


def test_sets_of_an_unreadable_log_row_say_that_row_could_not_be_read():
    """A log row with the wrong number of fields cannot be read, so its set rows look orphaned:
    their reason names the unreadable row instead of saying no log exists."""
    broken = log_row("41", DAY, "Plank", "0x0,0x0")[:-3]  # fields missing
    c = conv(export([broken, *LOGS[1:]], SETS))
    plank_sets = c.quarantine.filter(pl.col("value") == "41")
    assert plank_sets.height == 2
    assert all("the EXERCISE LOGS row(s) on line(s) 11 could not be" in r for r in plank_sets["reason"])
    assert c.quarantine.filter(pl.col("record") == 11)["reason"][0].startswith("the record has 11 fields")


def test_holds_mapped_as_tests_become_test_records():
    c = conv(BOTH, test_exercises={"Back Extension Hold": "back_extension_hold"})
    t = c.tables["tests"].select("test", "value", "notes").rows()
    assert t == [("back_extension_hold", "90", "Back Extension Hold, set 1"),
                 ("back_extension_hold", "75", "Back Extension Hold, set 2")]  # fmt: skip


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def counts(r):
    assert r.new + r.already_present + r.skipped + r.quarantined == r.records
    return r.records, r.new, r.already_present, r.skipped, r.quarantined


def test_round_trip_provenance_and_a_second_import(project, tmp_path):
    src = write(tmp_path, "jefit.csv", BOTH)
    first = import_file(src, root=project)
    assert counts(first) == (10, 8, 0, 1, 1)
    imports = project / "data" / "raw" / "imports"
    rows = pl.read_csv(imports / "sessions-jefit.csv", infer_schema=False)
    assert rows["hold_s"].to_list() == ["60", "45", "90", "75", None, None, None, None]
    assert rows["set"].to_list() == ["1", "2", "1", "2", "1", "2", "1", "2"]
    prov = pl.read_csv(imports / "provenance-jefit.csv", infer_schema=False)
    assert prov["row"].to_list() == [str(i) for i in range(1, 9)]
    assert prov["source_record"].to_list() == ["21", "20", "22", "23", "24", "25", "14", "14"]
    assert set(prov["file_sha256"]) == {first.sha256}
    again = import_file(src, root=project)
    assert counts(again) == (10, 0, 8, 1, 1)
    assert pl.read_csv(imports / "sessions-jefit.csv", infer_schema=False).height == 8


def test_a_newer_export_with_set_logs_adds_only_what_the_older_lacked(project, tmp_path):
    older = import_file(write(tmp_path, "old.csv", OLDER), root=project)
    # packed only: the holds are 0x0 there (skipped, with the undone set); 2 + 2 sets new
    assert counts(older) == (9, 4, 0, 5, 0)
    newer = import_file(write(tmp_path, "new.csv", BOTH), root=project)
    # the Back Extension sets read from set rows are the ones read from the packed log before
    assert counts(newer) == (10, 4, 4, 1, 1)
    rows = pl.read_csv(project / "data" / "raw" / "imports" / "sessions-jefit.csv",
                       infer_schema=False)  # fmt: skip
    assert rows.height == 8
    assert sorted(rows.filter(pl.col("hold_s").is_not_null())["hold_s"]) == ["45", "60", "75",
                                                                             "90"]  # fmt: skip


def test_an_older_export_after_a_newer_one_adds_nothing(project, tmp_path):
    import_file(write(tmp_path, "new.csv", BOTH), root=project)
    older = import_file(write(tmp_path, "old.csv", OLDER), root=project)
    assert counts(older) == (9, 0, 4, 5, 0)


def kg_export(weight_lbs: str, packed: str = "20.0x10") -> str:
    logs = [log_row("1", DAY, "Back Extension", packed), log_row("2", DAY, "Plank", "0x0")]
    sets = [set_row("10", "1", "0", weight_lbs, "10", "0"),
            set_row("11", "2", "0", weight_lbs, "0", "30")]  # a weighted hold  # fmt: skip
    return export(logs, sets, mass=" kg")


def test_kg_export_weight_lbs_holding_the_kg_entered():
    c = conv(kg_export("20.0"))
    assert sessions(c)["load_kg"].to_list() == ["20", "20"] and not c.warnings


def test_kg_export_weight_lbs_holding_pounds():
    c = conv(kg_export("44.092"))  # 20 kg in pounds
    assert sessions(c)["load_kg"].to_list() == ["20", "20"] and not c.warnings
    assert sessions(c)["hold_s"].to_list() == [None, "30"]


def test_kg_export_without_a_set_in_both_forms_reads_pounds_and_warns():
    c = conv(kg_export("44.092", packed="0x0"))
    assert sessions(c)["load_kg"].to_list() == ["20", "20"]
    assert any("weight_lbs" in w for w in c.warnings)


def test_pounds_export_needs_no_evidence():
    logs = [log_row("1", DAY, "Back Extension", "0x0")]
    c = conv(export(logs, [set_row("10", "1", "0", "45", "12", "0")]))
    assert sessions(c)["load_kg"].to_list() == [LB45] and not c.warnings


def test_no_unit_anywhere_is_refused_when_a_set_row_has_a_weight():
    logs = [log_row("1", DAY, "Back Extension", "0x0")]
    text = export(logs, [set_row("10", "1", "0", "45", "12", "0")], mass=None)
    with pytest.raises(ImportFormatError, match="--units"):
        conv(text)
    holds = export(logs, [set_row("10", "1", "0", "0", "0", "40")], mass=None)
    assert sessions(conv(holds))["hold_s"].to_list() == ["40"]


def test_bad_set_rows_duplicate_log_ids_and_missing_columns():
    logs = [log_row("1", DAY, "Plank", "0x0"),  # 11
            log_row("1", DAY, "Plank", "0x0,0x0"),  # 12: the same _id again
            log_row("2", "not a date", "Plank", "0x0")]  # 13  # fmt: skip
    sets = [set_row("10", "1", "0", "0", "0", "60"),  # 19
            set_row("11", "1", "x", "0", "0", "50"),  # 20: set_index not a number
            set_row("12", "1", "2", "0", "-5", "0"),  # 21: negative reps
            set_row("13", "2", "0", "0", "0", "30"),  # 22: its log's date is bad
            set_row("14", "", "0", "0", "0", "30")]  # 23: no exercise_log_id  # fmt: skip
    c = conv(export(logs, sets))
    assert c.parsed.records == 6
    assert sessions(c).select("hold_s", "_source").rows() == [("60", 19)]
    q = {r["record"]: (r["column"], r["reason"]) for r in c.quarantine.iter_rows(named=True)}
    assert set(q) == {12, 20, 21, 22, 23}
    assert q[12][0] == "_id" and "line 11" in q[12][1]
    assert q[20][0] == "set_index" and q[21][0] == "reps" and q[22][0] == "mydate"
    assert q[23][0] == "exercise_log_id" and "(empty)" in q[23][1]
    no_link = export(logs[:1], [s[:3] + s[4:] for s in sets[:1]]).replace(
        "set_index,", ""
    )
    with pytest.raises(ImportFormatError, match="set_index"):
        conv(no_link)


def test_a_repeated_log_id_without_set_rows_is_unpacked_as_before():
    logs = [log_row("1", DAY, "Bird Dog", "0x10"), log_row("1", DAY, "Bird Dog", "0x10")]
    c = conv(export(logs, [set_row("10", "2", "0", "0", "0", "30")]))
    assert sessions(c).select("set", "_source").rows() == [("1", 11), ("2", 12)]
    assert c.quarantined == {3}  # the set row of log 2, which is not in the file


def test_distance_goes_to_the_notes_and_time_on_a_rep_set_is_not_kept():
    logs = [log_row("1", DAY, "Walk", "0x0"), log_row("2", DAY, "Bird Dog", "0x10")]
    sets = [set_row("10", "1", "0", "0", "0", "600", distance="1.5"),
            set_row("11", "2", "0", "0", "10", "40")]  # fmt: skip
    s = sessions(conv(export(logs, sets))).select("exercise", "reps", "hold_s", "notes").rows()
    assert s == [("Walk", None, None, "time 600 s | distance 1.5 mi"),
                 ("Bird Dog", "10", None, None)]  # fmt: skip


# --- property: any mix of logs and set rows is fully accounted for ------------------------------

PACKED = ["45.0x12", "0x0", "0x10", "20x0", "junk", ""]
NUMS = ["0", "0.0", "45", "12", "30", "", "x", "-1"]


@st.composite
def jefit_case(draw):
    n_logs = draw(st.integers(0, 6))
    logs, expected, link_ids = [], 0, []
    seen: set[str] = set()
    n_set_rows: dict[str, int] = {}
    ids = [draw(st.sampled_from(["1", "2", "3", "4", "5", "6", ""])) for _ in range(n_logs)]
    sets = []
    for _ in range(draw(st.integers(0, 12))):
        lid = draw(st.sampled_from(["1", "2", "3", "4", "5", "6", "77", ""]))
        n_set_rows[lid] = n_set_rows.get(lid, 0) + 1
        sets.append(set_row(str(len(sets) + 100), lid, draw(st.sampled_from(["0", "1", "2", "z"])),
                            *(draw(st.sampled_from(NUMS)) for _ in range(3))))  # fmt: skip
    for lid in ids:
        packed = ",".join(draw(st.lists(st.sampled_from(PACKED), min_size=1, max_size=4)))
        date = draw(st.sampled_from([DAY, "2026-02-03", "bad"]))
        name = draw(st.sampled_from(["Plank", "Back Extension", "Bird Dog"]))
        logs.append(log_row(lid, date, name, packed))
        if lid and lid in seen and lid in n_set_rows:
            expected += 1  # a second row with the _id of a log with set rows: quarantined
        elif lid and lid in n_set_rows:
            expected += n_set_rows[lid]
            link_ids.append(lid)
        else:
            expected += len(packed.split(",")) if packed else 1
        seen.add(lid)
    expected += sum(k for lid, k in n_set_rows.items() if lid not in link_ids)  # orphans
    with_sets = draw(st.booleans()) or bool(sets)
    text = export(logs, sets if with_sets else None, mass=draw(st.sampled_from([" lbs", " kg"])))
    return text, expected


@given(jefit_case())
@settings(max_examples=60, deadline=None)
def test_any_mix_of_logs_and_set_logs_is_accounted_for(case):
    text, expected = case
    c = conv(text)
    placed: set[int] = set()
    for t in c.tables.values():
        placed |= set(t["_rec"].to_list())
    assert not (placed & c.skipped) and not (placed & c.quarantined)
    assert not (c.skipped & c.quarantined)
    assert c.parsed.records == expected
    assert placed | c.skipped | c.quarantined == set(range(1, expected + 1))
    if "sessions" in c.tables:  # a set row's line is the source of at most one canonical set
        src = c.tables["sessions"]["_source"]
        set_lines = src.filter(src > text.split("\n").index(SET_HEADER) + 1) if (
            SET_HEADER in text) else src.clear()  # fmt: skip
        assert set_lines.n_unique() == set_lines.len()


@given(jefit_case())
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_importing_a_mix_twice_adds_nothing_the_second_time(import_twice, case):
    a, b = import_twice(case[0])
    assert b.new == 0 and b.already_present == a.new and b.quarantined == a.quarantined
