"""Workout apps (Strong, Hevy, FitNotes, JEFIT): every layout and quirk, against the fixtures' truth.

The fixtures under tests/fixtures/apps/ are synthetic, written for these tests; the values expected
here are read off those files by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rehab.importers import ImportFormatError, Options, convert
from rehab.importers.jefit import sections

FIX = Path(__file__).parent / "fixtures" / "apps"
LB5, LB10, LB20, LB25, LB50 = 2.268, 4.536, 9.072, 11.34, 22.68  # kg, 3 decimals


def conv(name, *, data=None, app="auto", **opts):
    raw = data if data is not None else (FIX / name).read_bytes()
    return convert(raw, app=app, options=Options(**opts), name=name)


def rows(c, kind="sessions"):
    t = c.tables.get(kind)
    return [] if t is None else t.drop([x for x in t.columns if x.startswith("_")]).to_dicts()


def col(c, name, kind="sessions"):
    return [r[name] for r in rows(c, kind)]


def accounted(c):
    n_rows = set()
    for t in c.tables.values():
        n_rows |= set(t["_rec"].to_list())
    assert not (n_rows & c.skipped) and not (n_rows & c.quarantined)
    return len(n_rows) + len(c.skipped) + len(c.quarantined) == c.parsed.records


# --- Strong ------------------------------------------------------------------------------------


def test_strong_s2_markers_order_holds_notes_and_tests():
    c = conv("strong/s2.csv", units="kg")
    assert (c.parsed.app, c.parsed.layout, c.parsed.records) == ("strong", "S2", 12)
    assert c.skipped == {4} and not c.quarantined and accounted(c)  # the rest timer
    s = rows(c)
    be = [r for r in s if r["exercise"] == "Back Extension (Machine)"]
    # W, 1, F: warm-ups do not consume a number in Strong, the kit numbers rows in order
    assert [(r["set"], r["set_type"], r["reps"], r["load_kg"]) for r in be] == [
        ("1", "warmup", "10", "0"),
        ("2", "normal", "12", "10"),
        ("3", "failure", "9", "10"),
    ]
    assert be[0]["notes"] == "Slept badly | Felt fine" and be[1]["notes"] is None
    assert be[1]["rpe"] == "8.5" and be[0]["duration_min"] == "66" and be[0]["time"] == "07:30"
    plank = [(r["set"], r["reps"], r["hold_s"]) for r in s if r["exercise"] == "Plank"]
    assert plank == [("1", None, "60"), ("2", None, "45")]
    trap = [(r["set_type"], r["load_kg"]) for r in s if r["exercise"].startswith("Trap 3")]
    assert trap == [("normal", "5"), ("drop", "2.5")]
    hold = next(r for r in s if r["exercise"] == "Back Extension Hold")
    assert (hold["set_type"], hold["hold_s"], hold["duration_min"]) == ("test", "95", "38")
    assert rows(c, "tests") == [{"participant": "me", "date": "2026-03-05",
                                 "test": "back_extension_hold", "value": "95",
                                 "notes": "Back Extension Hold, set 1 | "
                                          "Sorensen-style test, high pad"}]  # fmt: skip
    tread = next(r for r in s if r["exercise"] == "Treadmill")
    assert tread["hold_s"] is None and tread["reps"] is None
    assert "distance 1.5" in tread["notes"] and "time 600 s" in tread["notes"]
    side = next(r for r in s if r["exercise"] == "Side Plank (Left)")
    assert (side["side"], side["hold_s"], side["duration_min"]) == ("left", "40", None)
    assert any("12 h" in w for w in c.warnings)  # the 264 h timer
    assert c.unmapped_exercises == ["Cable Woodchopper, Kneeling", "Treadmill"]


def test_strong_s2_pounds_and_the_missing_unit_error():
    c = conv("strong/s2.csv", units="lb")
    be = [r["load_kg"] for r in rows(c) if r["exercise"] == "Back Extension (Machine)"]
    assert be == ["0", str(LB10), str(LB10)]
    with pytest.raises(ImportFormatError) as e:
        conv("strong/s2.csv")
    assert "--units" in str(e.value) and "[units]" in str(e.value) and "rehab.toml" in str(e.value)


def test_strong_s2_short_bodyweight_needs_no_unit():
    c = conv("strong/s2-short.csv".replace("-", "_"))
    assert c.parsed.layout == "S2-short" and c.parsed.records == 3 and accounted(c)
    assert col(c, "set") == ["1", "2", "1"] and col(c, "rpe") == [None, None, "7"]
    assert col(c, "reps") == ["15", "15", "10"]  # 15.0 in the export


def test_strong_s3_android_quoted_note_rows_float_noise():
    c = conv("strong/s3.csv")
    assert (c.parsed.layout, c.parsed.records) == ("S3", 9)
    assert c.skipped == {3, 5} and accounted(c)  # the Note row and the Rest Timer row
    s = rows(c)
    be = [r for r in s if r["exercise"] == "Back Extension"]
    assert [(r["set"], r["set_type"], r["load_kg"]) for r in be] == [
        ("1", "warmup", "0"),
        ("2", "normal", str(LB5)),
        ("3", "failure", str(LB5)),
    ]
    # the workout note is repeated on every row, the Note row holds the exercise note
    assert be[0]["notes"] == "Easy start | pad at hip\ncrease" and be[1]["notes"] is None
    assert be[0]["duration_min"] == "55.4"  # 3324 s
    assert [r["set_type"] for r in s if r["exercise"] == "Dead Bug"] == ["warmup", "normal"]
    walk = next(r for r in s if r["exercise"] == "Walking")
    assert "distance 8000 m" in walk["notes"] and walk["hold_s"] is None


def test_strong_s0_s1_s1b_s2a_and_localised_headers():
    s0 = conv("strong/s0.csv")
    assert s0.parsed.layout == "S0" and col(s0, "load_kg") == ["0", "5", "0"]
    assert col(s0, "set") == ["1", "2", "1"] and col(s0, "hold_s") == [None, None, "45"]
    assert col(s0, "notes") == ["first time", None, None]
    s1 = conv("strong/s1.csv")
    assert s1.parsed.layout == "S1" and col(s1, "load_kg") == [str(LB10), "5", "0"]
    assert col(s1, "notes")[0] == "Morning session" and "1.2 mi." in col(s1, "notes")[2]
    s1b = conv("strong/s1b.csv")
    assert s1b.parsed.layout == "S1b" and col(s1b, "duration_min") == ["60", "60"]
    s2a = conv("strong/s2a.csv", units="kg")
    assert s2a.parsed.layout == "S2a" and col(s2a, "load_kg") == ["0", "15"]
    de = conv("strong/s2_de.csv")
    assert de.parsed.layout == "S2-de" and de.skipped == {2}  # Ruhezeit = rest timer
    assert col(de, "duration_min") == ["32", "32"] and col(de, "hold_s") == [None, "60"]
    assert de.unmapped_exercises == ["Rückenstrecker", "Unterarmstütz"]
    fr = conv("strong/s2_fr.csv")
    assert fr.parsed.layout == "S2-fr" and col(fr, "hold_s") == ["50", None]
    assert col(fr, "duration_min") == ["45", "45"] and fr.unmapped_exercises == ["Gainage"]
    for c in (s0, s1, s1b, s2a, de, fr):
        assert accounted(c) and not c.quarantined


S2_HEAD = "Date,Workout Name,Duration,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,Notes,Workout Notes,RPE\n"


def test_strong_bad_records_are_quarantined_with_reasons():
    body = (
        '2026-01-05 08:00:00,"A",10m,"Plank",1,0,0,0,30,,,\n'
        '2026-01-05 08:00:00,"A",10m,"Plank",X,0,0,0,30,,,\n'
        '2026-01-05 08:00:00,"A",10m,"Plank",2,0,abc,0,30,,,\n'
        'yesterday,"A",10m,"Plank",1,0,0,0,30,,,\n'
        '2026-01-05 08:00:00,"A",10m,"Plank",3,0,5\n'
        '2026-01-05 08:00:00,"A",10m,"Dead bug",1,0,-3,0,0,,,\n'
    )
    c = conv("bad.csv", data=(S2_HEAD + body).encode(), units="kg")
    assert c.parsed.records == 6 and accounted(c)
    assert c.quarantined == {2, 3, 4, 5, 6}
    q = {r["record"]: r for r in c.quarantine.to_dicts()}
    assert q[2]["column"] == "Set Order" and "W, F, D" in q[2]["reason"]
    assert q[3]["column"] == "Reps" and q[3]["value"] == "abc"
    assert q[4]["column"] == "Date" and "YYYY-MM-DD HH:MM:SS" in q[4]["reason"]
    assert "fewer than the header's 12" in q[5]["reason"]
    assert q[6]["column"] == "reps" and "out of range" in q[6]["reason"]  # the kit's own rule


def test_tests_from_rehab_toml_mapping_and_side_bridges():
    body = (
        '2026-02-01 08:00:00,"T",20m,"Plank",1,0,0,0,70,,,\n'
        '2026-02-01 08:00:00,"T",20m,"Side Plank (Right)",1,0,0,0,55,"test",,\n'
        '2026-02-01 08:00:00,"T",20m,"Side Plank (Right)",W,0,0,0,20,,,\n'
        '2026-02-01 08:00:00,"T",20m,"Roman chair",1,0,31,0,0,"max reps test",,\n'
        '2026-02-01 08:00:00,"T",20m,"Biering-Sorensen",1,0,0,0,140,,,\n'
    )
    c = conv(
        "t.csv",
        data=(S2_HEAD + body).encode(),
        units="kg",
        test_exercises={"plank": "plank_max_hold"},
    )
    got = [(r["test"], r["value"]) for r in rows(c, "tests")]
    # the warm-up after the marked set is not a test; the Sorensen is always one
    assert got == [("plank_max_hold", "70"), ("side_bridge_right", "55"),
                   ("back_extension_reps", "31"), ("sorensen_hold", "140")]  # fmt: skip
    assert col(c, "set_type") == ["test", "test", "warmup", "test", "test"]


# --- Hevy --------------------------------------------------------------------------------------


def test_hevy_metric():
    c = conv("hevy/metric.csv")
    assert (c.parsed.layout, c.parsed.records) == ("metric", 8) and accounted(c)
    s = rows(c)
    assert [r["date"] for r in s][:3] == ["2024-07-24"] * 3  # oldest workout first
    be = [r for r in s if r["exercise"] == "Back Extension (Weighted)"]
    assert [(r["set"], r["set_type"], r["load_kg"], r["rpe"]) for r in be] == [
        ("1", "warmup", None, None),
        ("2", "normal", "10", "8.5"),
        ("3", "failure", "10", "10"),
    ]
    assert be[0]["notes"] == "Good session\nno pain | slow tempo" and be[1]["notes"] is None
    assert (be[0]["time"], be[0]["duration_min"]) == ("07:48", "42")
    assert next(r for r in s if r["exercise"] == "Plank")["hold_s"] == "300"
    bug = next(r for r in s if r["exercise"] == "Dead Bug")
    assert (bug["set_type"], bug["reps"], bug["hold_s"]) == ("drop", "12", None)
    assisted = next(r for r in s if r["exercise"] == "Assisted Pull Up")
    assert assisted["load_kg"] is None and assisted["notes"] == "assistance 20 kg"
    assert "distance 1.5 km" in next(r for r in s if r["exercise"] == "Treadmill")["notes"]


def test_hevy_imperial_and_every_date_format():
    c = conv("hevy/imperial.csv")
    assert (c.parsed.layout, c.parsed.records) == ("imperial", 5) and accounted(c)
    got = [(r["date"], r["time"], r["exercise"], r["load_kg"], r["duration_min"]) for r in rows(c)]
    assert got == [
        ("2024-07-29", "17:01", "Walking", None, "39"),
        ("2026-06-11", "13:01", "Hyperextension", str(LB25), "44"),
        ("2026-06-11", "13:01", "Hyperextension", str(LB25), "44"),
        ("2026-07-25", "14:21", "Y Raise", str(LB5), "39"),
        ("2026-09-18", "17:31", "Side Plank", None, "31"),
    ]
    assert [(r["test"], r["value"]) for r in rows(c, "tests")] == [("side_plank_hold", "75")]


def test_hevy_bad_time_and_set_type_are_quarantined():
    head = (FIX / "hevy" / "metric.csv").read_text(encoding="utf-8").split("\n", 1)[0]
    body = (
        '"A","someday","","","Plank",,"",0,"normal",,,,60,\n'
        '"A","1 Jan 2026, 8:00","","","Plank",,"",0,"superset",,,,60,\n'
        '"A","1 Jan 2026, 8:00","","","Plank",,"",1,"normal",,,,60,\n'
    )
    c = conv("h.csv", data=(head + "\n" + body).encode())
    assert c.quarantined == {1, 2} and accounted(c) and col(c, "hold_s") == ["60"]
    assert col(c, "duration_min") == [None]  # no end time
    assert not c.warnings
    ended_early = body.replace('"1 Jan 2026, 8:00","",', '"1 Jan 2026, 8:00","1 Jan 2026, 7:00",')
    c = conv("h.csv", data=(head + "\n" + ended_early).encode())
    assert col(c, "duration_min") == [None]  # end before start: no duration, and it is said
    assert any("ending before they start" in w for w in c.warnings)


# --- FitNotes ----------------------------------------------------------------------------------


def test_fitnotes_old_layouts():
    c = conv("fitnotes/old_lbs.csv")
    assert c.parsed.layout == "old-lbs" and accounted(c) and not c.quarantined
    s = rows(c)
    assert [(r["exercise"], r["set"], r["load_kg"]) for r in s[:2]] == [
        ("Back Extension", "1", "0"),
        ("Back Extension", "2", str(LB10)),
    ]
    plank = s[2]
    assert (plank["hold_s"], plank["notes"]) == ("60", None)  # the 0 'kg' distance is no distance
    assert s[3]["notes"] == "time 1215 s | distance 2 mi" and s[3]["time"] is None
    kgs = conv("fitnotes/old_kgs.csv")
    assert kgs.parsed.layout == "old-kgs" and col(kgs, "load_kg") == ["5"]


def test_fitnotes_new_layouts_comment_and_repaired_names():
    c = conv("fitnotes/new_comment.csv")
    assert c.parsed.layout == "new-comment" and accounted(c) and not c.quarantined
    assert c.parsed.repaired == [2] and any("repaired" in w for w in c.warnings)
    s = rows(c)
    assert [r["exercise"] for r in s] == ["Back Extension", "Curl, Hammer, Seated", "Plank",
                                          "Bird Dog"]  # fmt: skip
    assert s[0]["notes"] == "felt strong, no pain" and s[1]["load_kg"] == "10"
    assert s[2]["hold_s"] == "90"
    assert [(r["test"], r["value"]) for r in rows(c, "tests")] == [("bird_dog_reps", "10")]
    new = conv("fitnotes/new.csv")
    assert new.parsed.layout == "new" and col(new, "load_kg") == [str(LB10), None]
    ios = conv("fitnotes/ios.csv")
    assert ios.parsed.layout == "ios" and col(ios, "load_kg") == ["5", str(LB20)]


def test_fitnotes_unrepairable_record_is_quarantined():
    data = (
        b"Date,Exercise,Category,Weight (lbs),Reps,Distance,Distance Unit,Time\n2019-01-05,Plank\n"
    )
    c = conv("f.csv", data=data)
    assert c.quarantined == {1} and accounted(c)
    assert "fewer than the header's 8" in c.quarantine["reason"][0]


# --- JEFIT -------------------------------------------------------------------------------------


def test_jefit_sections_packed_sets_and_units_from_setting():
    c = conv("jefit/export.csv")
    assert (c.parsed.app, c.parsed.records) == ("jefit", 6) and accounted(c)
    assert c.skipped == {3}  # 0x0: not done
    got = [(r["date"], r["exercise"], r["set"], r["reps"], r["load_kg"]) for r in rows(c)]
    assert got == [
        ("2026-01-10", "Back Extension", "1", "15", str(LB50)),
        ("2026-01-10", "Back Extension", "2", "15", str(LB50)),
        ("2026-01-10", "Dumbbell Y Raise", "1", "10", str(LB20)),
        ("2026-01-12", "Bird Dog", "1", "12", "0"),
        ("2026-01-12", "Bird Dog", "2", "12", "0"),
    ]
    # each set's source record is its log row's line in the file
    assert c.tables["sessions"]["_source"].to_list() == [21, 21, 22, 23, 23]


def test_jefit_notes_with_blank_lines_inside_quotes_and_nested_tables():
    text = (FIX / "jefit" / "export.csv").read_text(encoding="utf-8")
    s = sections(text)
    assert list(s) == ["SETTING", "ROUTINES", "EXERCISE LOGS", "NOTES"]
    assert len(s["ROUTINES"]) == 2  # nested tables, each with its own header
    assert s["NOTES"][0][1][0][1][2] == "first line\n\nsecond line after a blank line"


def test_jefit_without_setting_needs_a_unit():
    text = (FIX / "jefit" / "export.csv").read_text(encoding="utf-8")
    start = text.index("### SETTING")
    no_setting = text[:start] + text[text.index("### ROUTINES") :]
    with pytest.raises(ImportFormatError, match="--units"):
        conv("j.csv", data=no_setting.encode())
    c = conv("j.csv", data=no_setting.encode(), units="kg")
    assert col(c, "load_kg")[0] == "50"


def test_jefit_bad_packed_set_is_quarantined():
    text = (FIX / "jefit" / "export.csv").read_text(encoding="utf-8")
    text = text.replace("20.0x10", "20.0 by 10")
    c = conv("j.csv", data=text.encode())
    assert c.quarantined == {4} and accounted(c)
    assert "weightxreps" in c.quarantine["reason"][0]
