"""Symptom and mood apps (Bearable, Daylio) → the pain diary, against the fixtures' truth."""

from __future__ import annotations

from pathlib import Path

from rehab.importers import Options, convert
from rehab.importers.bearable import DEFAULT_SEVERITY, symptom_target
from rehab.schema import DIARY

FIX = Path(__file__).parent / "fixtures" / "apps"
PAIN_REQUIRED = DIARY.column("pain").required


def conv(name, *, data=None, **opts):
    raw = data if data is not None else (FIX / name).read_bytes()
    return convert(raw, options=Options(**opts), name=name)


def parsed_rows(c):
    """The diary rows the importer built (before the diary's validation)."""
    t = c.parsed.tables["diary"]
    return t.drop([x for x in t.columns if x.startswith("_")]).to_dicts()


def accepted(c):
    t = c.tables.get("diary")
    return [] if t is None else t.drop([x for x in t.columns if x.startswith("_")]).to_dicts()


# --- Bearable ----------------------------------------------------------------------------------


def test_bearable_default_severity_is_the_documented_one():
    assert DEFAULT_SEVERITY == (2.0, 5.0, 7.5, 9.5)


def test_bearable_symptoms_parts_of_day_sleep_mood_energy():
    c = conv("bearable/export_2020.csv")
    assert (c.parsed.app, c.parsed.layout, c.parsed.records) == ("bearable", "2020", 11)
    assert c.skipped == {7, 9, 11}  # headache (not back), food diary, water
    assert c.quarantined == set()  # a mood alone is a diary entry too (no pain value, not pain 0)
    got = [
        (r["date"], r["time"], r["moment"], r["pain"], r["stiffness"], r["sleep_h"], r["mood"],
         r["energy"], r["location"], r["notes"])
        for r in accepted(c)
    ]  # fmt: skip
    assert got == [
        ("2020-09-22", None, "morning", "5", "2", "7.5", "3.22", None, "Back (lower) pain",
         "mood: Meh | Anxious"),  # Moderate pain, Mild stiffness, mood 6/10, the night's sleep
        ("2020-09-22", None, "evening", "9.5", None, None, None, "2", "Back (lower) pain",
         "after lifting"),  # Unbearable, energy Poor
        ("2020-09-23", None, "other", None, None, None, "4.11", None, None,
         "mood: Good"),  # mid-day mood 8/10 with no back-pain reading: pain stays empty
        ("2020-09-23", "03:04", None, "2", None, None, None, None, "Sciatica", None),
    ]  # fmt: skip
    # readings merged into one diary row share its fate; each is counted once
    links = dict(zip(c.parsed.links["_rec"], c.parsed.links["_owner"], strict=True))
    assert links == {2: 1, 3: 1, 4: 1, 6: 5}
    assert c.tables["diary"]["_sources"].to_list() == ["1 2 3 4", "5 6", "8", "10"]
    assert c.quarantine.height == 0
    assert c.parsed.unmapped == {"symptoms": ["Headache"]}


def test_bearable_rehab_toml_severity_and_symptom_mapping():
    c = conv("bearable/export_2020.csv", bearable_severity=(3, 5, 7, 9),
             bearable_symptoms={"Headache": "pain", "Back stiffness": "ignore"})  # fmt: skip
    got = [(r["moment"], r["pain"], r["stiffness"], r["location"]) for r in accepted(c)]
    assert got[:2] == [("morning", "7", None, "Back (lower) pain; Headache"),
                       ("evening", "9", None, "Back (lower) pain")]  # fmt: skip
    assert c.skipped == {2, 9, 11}


def test_bearable_newer_layout_spasm_and_pre():
    c = conv("bearable/export_dated.csv")
    assert c.parsed.layout == "dated" and not c.quarantined
    [r] = accepted(c)
    assert (r["date"], r["moment"], r["pain"], r["spasm"], r["notes"]) == (
        "2026-03-02",
        "night",
        "7.5",
        "yes",
        "woke up stiff",
    )


def test_bearable_names_with_their_own_parentheses():
    assert symptom_target("Back (lower) pain", {}) == "pain"
    assert symptom_target("Lower back stiffness", {}) == "stiffness"
    assert symptom_target("Tight back (upper)", {}) == "tightness"
    assert symptom_target("Back spasm", {}) == "spasm"
    assert symptom_target("Headache", {}) == "ignore"
    assert symptom_target("Feedback (work)", {}) == "ignore"  # 'back' only as a word


def test_bearable_bad_readings_are_quarantined():
    head = "date,weekday,time of day,category,rating/amount,detail,notes\n"
    body = (
        '"2nd Jan 2026","Friday","am","Symptom","5","Back pain (Extreme)",""\n'
        '"2nd Jan 2026","Friday","dusk","Mood","5","Meh",""\n'
        '"Jan the 2nd","Friday","am","Mood","5","Meh",""\n'
        '"2nd Jan 2026","Friday","am","Energy","9","Great",""\n'
        '"2nd Jan 2026","Friday","all day","Sleep","lots","",""\n'
        '"2nd Jan 2026","Friday","am","Symptom","","Back pain (Severe)",""\n'
    )
    c = conv("b.csv", data=(head + body).encode())
    assert c.quarantined == {1, 2, 3, 4, 5} and c.skipped == set()
    assert [r["pain"] for r in accepted(c)] == ["7.5"]  # severity from the label


# --- Daylio ------------------------------------------------------------------------------------


def test_daylio_2021_layout_narrow_space_and_labels():
    c = conv("daylio/note_title.csv")
    assert (c.parsed.app, c.parsed.layout, c.parsed.records) == ("daylio", "note_title", 3)
    got = [(r["date"], r["time"], r["mood"], r["notes"]) for r in parsed_rows(c)]
    assert got == [
        ("2024-09-02", "21:23", "5", "Great, really | activities: gym | friends"),
        ("2024-09-01", "08:15", "3", 'Title | Back "twinge"'),
        ("2024-08-31", "20:39", None, "activities: work | mood: sore back"),  # kept as text
    ]
    assert c.parsed.unmapped == {"moods": ["sore back"]}
    assert any("sore back" in w and "[moods]" in w for w in c.warnings)


def test_daylio_custom_labels_from_rehab_toml():
    c = conv("daylio/note_title.csv", moods={"Sore back": 2, "rad": 4.5})
    assert [r["mood"] for r in parsed_rows(c)] == ["4.5", "3", "2"]
    assert c.parsed.unmapped == {}


def test_daylio_older_layouts_with_bom_and_localised_dates():
    full = conv("daylio/full_date.csv")
    assert full.parsed.layout == "full_date"
    assert [(r["date"], r["time"], r["mood"]) for r in parsed_rows(full)] == [
        ("2020-03-01", "21:00", "4"),
        ("2020-02-29", "08:00", "2"),
    ]
    year = conv("daylio/year.csv")
    assert year.parsed.layout == "year"
    assert [(r["date"], r["time"], r["mood"]) for r in parsed_rows(year)] == [
        ("2018-06-22", "20:39", "4"),
        ("2017-10-16", "17:01", "2"),
        ("2017-09-07", "20:00", "1"),
    ]


def test_daylio_entries_have_no_pain_so_the_diary_rule_decides():
    # the diary rule (DESIGN: an entry of mood alone is kept; one measure required): pain optional
    assert not PAIN_REQUIRED
    c = conv("daylio/note_title.csv")
    assert not c.quarantined and len(accepted(c)) == 3
    # nothing is made up: no pain logged is not pain 0
    assert [r["pain"] for r in accepted(c)] == [None, None, None]


def test_daylio_bad_date_and_time_are_quarantined():
    data = (
        "full_date,date,weekday,time,mood,activities,note\n"
        "2024-02-30,Feb 30,?,20:00,good,,\n2024-02-10,Feb 10,Sat,25:99,good,,\n"
    )
    c = conv("d.csv", data=data.encode())
    assert c.quarantined == {1, 2}
    assert set(c.quarantine["column"]) == {"full_date", "time"}
