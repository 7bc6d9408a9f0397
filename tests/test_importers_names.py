"""Exercise names of real-shaped app exports, end to end: `rehab import`, the project's tables,
`[aliases]`/`[tests]` added afterwards, and `rehab validate` on a project's data/raw.

The fixtures (tests/fixtures/apps/*/names*.csv) are synthetic, written for these tests with the
names the apps use; the ids expected below were decided by hand, row by row."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from rehab.cli import app
from rehab.io import load_project

FIX = Path(__file__).parent / "fixtures" / "apps"

# (fixture, the exercise id of each set in file order (None: kept as written), unmapped names)
EXPECTED = {
    "strong/names_lb.csv": (
        ["back_extension", "back_extension", "back_extension_hold", "trap3_raise", "split_squat",
         "glute_bridge", "plank", None, None, "back_extension", "split_squat_hold",
         "split_squat_hold", "hip_hike", "side_plank", None, None],
        ["Good Morning (Barbell)", "Plank Jack", "Reverse Hyperextension (Machine)",
         "Superman Test"],
    ),
    "hevy/names.csv": (
        ["back_extension", "back_extension", "trap3_raise", "dead_bug", "bird_dog", "glute_bridge",
         "plank", "side_plank"],
        [],
    ),
    "fitnotes/names.csv": (
        ["back_extension", "plank", "dead_bug", "hip_hike", "outer_hip_drop_set", None],
        ["Reverse Hyperextension"],
    ),
    "jefit/names.csv": (  # a log row packs its sets: two rows give two sets each
        ["back_extension", "back_extension", "trap3_raise", "split_squat", "split_squat",
         "glute_bridge", "back_extension", "back_extension", "side_plank", None],
        ["Barbell Good Morning"],
    ),
}  # fmt: skip


def run(root: Path, *args):
    return CliRunner().invoke(app, [*map(str, args)], env={"REHAB_HOME": str(root)})


@pytest.fixture
def lb_project(tmp_path):
    root = tmp_path / "proj"
    (root / "data" / "raw").mkdir(parents=True)
    (root / "rehab.toml").write_text('[units]\nweight = "lb"\n', encoding="utf-8")
    return root


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_app_names_are_mapped_on_import(lb_project, fixture):
    ids, unmapped = EXPECTED[fixture]
    res = run(lb_project, "import", FIX / fixture, "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["unmapped_exercises"] == unmapped and doc["quarantined"] == 0
    assert set(doc["exercise_suggestions"]) == set(unmapped)
    written = pl.read_csv(lb_project / "data/raw/imports" / f"sessions-{doc['app']}.csv",
                          infer_schema=False)  # fmt: skip
    names = written["exercise"].to_list()  # the name as written stays in the imported file
    loaded = load_project(lb_project).sessions.sort("date", "set", maintain_order=True)
    by_name = dict(zip(pl.Series(names).unique(maintain_order=True).to_list(),
                       [None] * len(names), strict=False))  # fmt: skip
    for n, i in zip(names, ids, strict=True):
        by_name[n] = i if i is not None else n
    assert sorted(loaded["exercise"].to_list()) == sorted(by_name[n] for n in names)


def test_unmapped_names_come_with_suggestions_and_notes(lb_project):
    res = run(lb_project, "import", FIX / "strong/names_lb.csv")
    assert res.exit_code == 0, res.output
    assert "Plank Jack (closest: plank, side_plank)" in res.output
    assert "Superman Test (closest: back_extension_hold" in res.output
    # a reverse hyper or a good morning is not offered as a back extension
    line = next(x for x in res.output.splitlines() if "without a canonical id" in x)
    assert "Reverse Hyperextension (Machine);" in line and "Good Morning (Barbell);" in line


def test_a_mapping_added_later_updates_the_imported_rows(lb_project):
    """Import, then map two names in rehab.toml and import the same export again: the rows are
    updated (a set becomes a test, a test's id follows the alias), nothing is quarantined and
    nothing is doubled."""
    export = FIX / "strong/names_lb.csv"
    first = json.loads(run(lb_project, "import", export, "--json").output)
    assert first["new"] == 16 and "Superman Test" in first["unmapped_exercises"]
    before = load_project(lb_project)
    # "Superman Test" is a test by its name: its id is made from the name until it is mapped
    assert before.tests["test"].to_list() == ["superman_test_hold"]

    toml = lb_project / "rehab.toml"
    toml.write_text(toml.read_text() + '\n[aliases]\n"Superman test" = "back_extension_hold"\n'
                    '"reverse hyperextension (machine)" = "reverse_hyper"\n'
                    '\n[tests]\n"Back extension hold 45" = "back_extension_hold"\n')  # fmt: skip
    res = run(lb_project, "import", export, "--json")
    assert res.exit_code == 0, res.output
    again = json.loads(res.output)
    assert again["quarantined"] == 0 and again["quarantine_file"] is None
    # the 45° hold's set became a test (its row updated, a new test record), the Superman
    # test's id changed (its test row updated); the reverse hyper maps to the user's own id
    assert again["remapped_rows"] == 2
    assert (again["new"], again["already_present"]) == (1, 15)
    assert again["unmapped_exercises"] == ["Good Morning (Barbell)", "Plank Jack"]
    after = load_project(lb_project)
    assert after.sessions.height == 16
    tests = after.tests.sort("test")
    assert tests.select("test", "value").rows() == [("back_extension_hold", 40.0),
                                                    ("back_extension_hold", 50.0)]  # fmt: skip
    hold = after.sessions.filter(pl.col("hold_s") == 50)
    assert hold["set_type"].to_list() == ["test"]
    assert "reverse_hyper" in after.sessions["exercise"].to_list()
    # a third import finds everything present
    third = json.loads(run(lb_project, "import", export, "--json").output)
    assert (third["new"], third["already_present"], third["remapped_rows"]) == (0, 16, 0)


# --- rehab validate on a project's data/raw ---------------------------------------------------------


def test_validate_names_an_export_dropped_into_raw(lb_project):
    raw = lb_project / "data" / "raw"
    shutil.copy(FIX / "strong/s2.csv", raw / "strong-2026-03.csv")
    shutil.copy(FIX / "hevy/names.csv", raw / "sessions-from-hevy.csv")  # a log's name, no log
    (raw / "sessions.csv").write_text("date,exercise,set,reps\n2026-01-05,Back extension,1,10\n")
    res = run(lb_project, "validate", raw)
    assert res.exit_code == 1, res.output
    out = " ".join(res.output.split())
    assert f"{raw / 'strong-2026-03.csv'} is a Strong export (S2), not a log: run `rehab import " \
           f"{raw / 'strong-2026-03.csv'}`" in out
    assert f"{raw / 'sessions-from-hevy.csv'} is a Hevy export" in out
    doc = json.loads(run(lb_project, "validate", raw, "--json").output)
    assert sorted((x["app"], Path(x["path"]).name) for x in doc["app_exports"]) == [
        ("hevy", "sessions-from-hevy.csv"), ("strong", "strong-2026-03.csv")]
    assert [Path(f["path"]).name for f in doc["files"]] == ["sessions.csv"]
    # once imported (the export moved out of data/raw), validate passes
    (raw / "strong-2026-03.csv").unlink()
    (raw / "sessions-from-hevy.csv").unlink()
    assert run(lb_project, "validate", raw).exit_code == 0


def test_validate_warns_on_unknown_exercise_names_without_failing(lb_project):
    raw = lb_project / "data" / "raw"
    (raw / "sessions.csv").write_text(
        "date,exercise,set,reps\n"
        "2026-01-05,Hyperextensions - Back Extensions,1,10\n"
        "2026-01-05,Plank Jack,1,20\n"
        "2026-01-05,Reverse Hyper,1,12\n"
        "2026-01-06,Superman Test,1,12\n"
        "2026-01-06,Cat camel,1,10\n"
    )
    (lb_project / "rehab.toml").write_text('[tests]\n"Superman test" = "superman_hold"\n')
    res = run(lb_project, "validate", raw)
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    assert "exercise name not recognised: 'Plank Jack' (closest: plank, side_plank)" in out
    assert "'Reverse Hyper' (a reverse hyperextension is a hip extension" in out
    assert "Hyperextensions" not in out  # recognised
    assert "Superman" not in out  # mapped under [tests]
    doc = json.loads(run(lb_project, "validate", raw, "--json").output)
    unknown = {u["name"]: u["suggestions"] for u in doc["files"][0]["unknown_exercises"]}
    assert unknown == {"Plank Jack": ["plank", "side_plank"], "Reverse Hyper": [],
                       "Cat camel": []}  # fmt: skip
    assert "app_exports" not in doc


def test_validate_after_import_flags_neither_the_kept_original_nor_mapped_names(lb_project):
    raw = lb_project / "data" / "raw"
    export = raw / "strong.csv"
    shutil.copy(FIX / "strong/names_lb.csv", export)
    assert run(lb_project, "validate", export).exit_code == 1  # a file given by name too
    assert run(lb_project, "import", export).exit_code == 0
    export.unlink()  # imported: the copy in imports/originals is the import's own
    doc = json.loads(run(lb_project, "validate", raw, "--json").output)
    assert "app_exports" not in doc
    unknown = [u["name"] for f in doc["files"] for u in f["unknown_exercises"]]
    assert unknown == ["Good Morning (Barbell)", "Plank Jack", "Reverse Hyperextension (Machine)",
                       "Superman Test"]  # fmt: skip


def test_a_name_under_tests_is_not_listed_as_unmapped(lb_project):
    (lb_project / "rehab.toml").write_text(
        '[units]\nweight = "lb"\n[tests]\n"plank jacks" = "plank_jack_reps"\n'
    )
    doc = json.loads(run(lb_project, "import", FIX / "strong/names_lb.csv", "--json").output)
    assert "Plank Jack" not in doc["unmapped_exercises"]
    tests = load_project(lb_project).tests
    assert tests.filter(pl.col("test") == "plank_jack_reps")["value"].to_list() == [20.0]


def test_the_variant_stays_beside_the_id(lb_project):
    run(lb_project, "import", FIX / "jefit/names.csv")
    s = load_project(lb_project).sessions
    pairs = set(s.select("exercise", "variant").iter_rows())
    assert ("glute_bridge", "Barbell Glute Bridge") in pairs
    assert ("back_extension", "Back Extensions - Hyperextensions") in pairs
    assert ("back_extension", "Hyperextensions - Back Extensions") in pairs
    assert ("Barbell Good Morning", None) in pairs  # unmapped: the name is the exercise


def test_two_variants_of_one_exercise_are_two_records(tmp_path):
    from rehab.io import read_any

    f = tmp_path / "sessions.csv"
    f.write_text("date,exercise,set,reps\n2026-01-05,Glute Bridge,1,10\n"
                 "2026-01-05,Barbell Glute Bridge,1,10\n2026-01-05,Glute Bridge,1,10\n")  # fmt: skip
    r = read_any(f)
    assert (r.accepted, r.duplicates) == (2, 1)  # the repeated row only
    assert r.data["exercise"].to_list() == ["glute_bridge", "glute_bridge"]
