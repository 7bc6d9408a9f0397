"""Strong: quirks found by importing real exports published outside the repository (issue #5).

The exports themselves are people's logs and stay out of the repository; the data here is
synthetic, written in the same shape (header verbatim, values made up), and the expected values are
read off it by hand.
"""

from __future__ import annotations

import pytest

from rehab.importers import ImportFormatError, Options, convert, detect

# A French Strong export of 2026-04: the S2 French header without the Notes and Workout Notes
# columns (as the English S2-short), reps written 10.0, no weight unit.
FR_SHORT = (
    "Date,Nom de l'entraînement,Durée,Nom de l'exercice,Ordre de la série,Poids,Réps,Distance,"
    "Secondes,RPE\n"
    '2026-03-02 12:15:00,"Entraînement du midi",12min,"Back Extension",1,0,12.0,0,0.0,\n'
    '2026-03-02 12:15:00,"Entraînement du midi",12min,"Back Extension",2,5.0,10.0,0,0.0,8\n'
    '2026-03-02 12:15:00,"Entraînement du midi",12min,"Planche",1,0,0.0,0,40.0,\n'
    '2026-03-02 12:15:00,"Entraînement du midi",12min,"Planche",Minuteur de repos,0,0.0,0,60.0,'
)
# the German counterpart (Strong's German S2 header minus the same two columns)
DE_SHORT = (
    "Datum,Workout-Name,Dauer,Name der Übung,Reihenfolge festlegen,Gewicht,Wiederh.,Entfernung,"
    "Sekunden,RPE\n"
    '2026-03-03 18:00:00,"Rücken",1h 5m,"Back Extension",1,7.5,12.0,0,0.0,\n'
    '2026-03-03 18:00:00,"Rücken",1h 5m,"Back Extension",Ruhezeit,0,0.0,0,90.0,'
)


def conv(text: str, **opts):
    return convert(text.encode(), options=Options(**opts), name="strong_workouts.csv")


def rows(c):
    t = c.tables["sessions"]
    return t.drop([x for x in t.columns if x.startswith("_")]).to_dicts()


@pytest.mark.parametrize(("text", "layout"), [(FR_SHORT, "S2-fr-short"), (DE_SHORT, "S2-de-short")])
def test_localised_exports_without_notes_columns_are_detected(text, layout):
    got = detect(text)
    assert (got.app, got.layout, got.delimiter) == ("strong", layout, ",")


def test_french_short_export_is_read_like_s2():
    c = conv(FR_SHORT, units="kg")
    assert c.parsed.records == 4 and c.skipped == {4} and not c.quarantined  # the rest timer
    got = [(r["exercise"], r["set"], r["reps"], r["hold_s"], r["load_kg"], r["rpe"]) for r in rows(c)]
    assert got == [
        ("Back Extension", "1", "12", None, "0", None),
        ("Back Extension", "2", "10", None, "5", "8"),
        ("Planche", "1", None, "40", "0", None),
    ]
    assert {r["duration_min"] for r in rows(c)} == {"12"} and {r["notes"] for r in rows(c)} == {None}


def test_german_short_export_in_pounds_and_without_a_unit():
    c = conv(DE_SHORT, units="lb")
    assert c.skipped == {2} and [r["load_kg"] for r in rows(c)] == ["3.402"]  # 7.5 lb
    assert rows(c)[0]["duration_min"] == "65"
    with pytest.raises(ImportFormatError) as e:  # S2-like: the unit must be given
        conv(DE_SHORT)
    assert "S2-de-short" in str(e.value) and "--units" in str(e.value)


def test_rehab_exercise_name_variants_are_mapped():
    # bodyweight-suffixed and sided names as the apps' catalogues and users write them
    text = (
        "Date,Workout Name,Duration,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,RPE\n"
        '2026-03-04 08:00:00,"Core",20m,"Side Plank Left",1,0,0,0,30.0,\n'
        '2026-03-04 08:00:00,"Core",20m,"Side Plank (R)",1,0,0,0,25.0,\n'
        '2026-03-04 08:00:00,"Core",20m,"Glute Bridge (Bodyweight)",1,0,15.0,0,0.0,\n'
        '2026-03-04 08:00:00,"Core",20m,"Bird Dog (Bodyweight)",1,0,10.0,0,0.0,\n'
        '2026-03-04 08:00:00,"Core",20m,"Dead Bug (Bodyweight)",1,0,10.0,0,0.0,\n'
        '2026-03-04 08:00:00,"Core",20m,"Plank (Bodyweight)",1,0,0,0,60.0,'
    )
    c = conv(text)
    assert c.unmapped_exercises == [] and not c.quarantined
    assert [(r["side"], r["hold_s"]) for r in rows(c)][:2] == [("left", "30"), ("right", "25")]
