"""Importing into a project: storage, provenance, idempotency, round trips and the command."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
import stat
import time
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from rehab.cli import app
from rehab.importers import ImportFormatError, import_file
from rehab.io import load_project, log_files

FIX = Path(__file__).parent / "fixtures" / "apps"
S2_HEAD = ("Date,Workout Name,Duration,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,Notes,"
           "Workout Notes,RPE\n")  # fmt: skip


def imports(root: Path) -> Path:
    return root / "data" / "raw" / "imports"


def sums_up(r) -> bool:
    return r.new + r.already_present + r.skipped + r.quarantined == r.records


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(imports(root).rglob("*"))
            if p.is_file()}  # fmt: skip


def test_storage_layout_original_copy_and_provenance(project):
    src = FIX / "strong" / "s2.csv"
    r = import_file(src, root=project)
    assert (r.records, r.new, r.already_present, r.skipped, r.quarantined) == (12, 11, 0, 1, 0)
    original = Path(r.original)
    assert original.parent == imports(project) / "originals"
    assert original.name == f"{r.sha256[:16]}.csv" and original.read_bytes() == src.read_bytes()
    assert not os.stat(original).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    # the copy is never read as a log; the canonical files are
    found = {p.name for p, _ in log_files(project / "data" / "raw")}
    assert found == {"sessions-strong.csv", "tests-strong.csv"}
    prov = pl.read_csv(imports(project) / "provenance-strong.csv", infer_schema=False)
    assert prov.columns == ["table", "row", "app", "layout", "file_sha256", "source_record"]
    assert prov.height == 12  # 11 sessions rows + 1 tests row
    assert set(prov["file_sha256"]) == {r.sha256} and set(prov["layout"]) == {"S2"}
    sess = prov.filter(pl.col("table") == "sessions")
    assert sess["row"].to_list() == [str(i) for i in range(1, 12)]
    assert sess["source_record"].to_list() == [str(i) for i in (1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12)]
    assert prov.filter(pl.col("table") == "tests")["source_record"].to_list() == ["9"]


def test_same_export_twice_adds_nothing(project):
    first = import_file(FIX / "strong" / "s3.csv", root=project)
    before = snapshot(project)
    again = import_file(FIX / "strong" / "s3.csv", root=project)
    assert (again.new, again.already_present, again.skipped) == (0, first.new, first.skipped)
    assert sums_up(first) and sums_up(again)
    assert snapshot(project) == before  # not a byte changed


def test_newer_export_containing_an_older_one(project, tmp_path):
    full = (FIX / "strong" / "s2.csv").read_text(encoding="utf-8")
    lines = full.split("\n")
    older = tmp_path / "older.csv"
    older.write_text("\n".join(lines[:7]), encoding="utf-8")  # header + 6 records
    a = import_file(older, root=project)
    b = import_file(FIX / "strong" / "s2.csv", root=project)
    assert (a.records, a.new, a.skipped) == (6, 5, 1)
    assert (b.records, b.new, b.already_present, b.skipped) == (12, 6, 5, 1)
    d = load_project(project)
    assert d.sessions.height == 11 and d.tests.height == 1
    # and in the other order, the older one is already there
    other = project.parent / "other"
    (other / "data" / "raw").mkdir(parents=True)
    (other / "rehab.toml").write_text('[units]\nweight = "kg"\n')
    import_file(FIX / "strong" / "s2.csv", root=other)
    c = import_file(older, root=other)
    assert (c.new, c.already_present, c.skipped) == (0, 5, 1)


def test_identity_is_a_multiset_of_contents(project, tmp_path):
    row = '2026-03-09 08:00:00,"T",30m,"Biering-Sorensen",{n},0,0,0,120,,,\n'
    two = tmp_path / "two.csv"
    two.write_text(S2_HEAD + row.format(n=1) + row.format(n=2), encoding="utf-8")
    three = tmp_path / "three.csv"
    three.write_text(S2_HEAD + "".join(row.format(n=i) for i in (1, 2, 3)), encoding="utf-8")
    assert import_file(two, root=project).new == 2
    assert import_file(two, root=project).new == 0
    r = import_file(three, root=project)
    assert (r.new, r.already_present) == (1, 2)
    d = load_project(project)
    assert d.tests["value"].to_list() == [120.0, 120.0, 120.0]  # three equal attempts, all kept
    assert d.sessions["set"].to_list() == [1, 2, 3]


def test_a_set_edited_in_the_app_is_quarantined_not_doubled(project, tmp_path):
    import_file(FIX / "strong" / "s2.csv", root=project)
    edited = tmp_path / "edited.csv"
    text = (FIX / "strong" / "s2.csv").read_text(encoding="utf-8")
    edited.write_text(text.replace('"Plank",2,0,0,0,45,', '"Plank",2,0,0,0,50,'), encoding="utf-8")
    r = import_file(edited, root=project)
    assert (r.new, r.already_present, r.quarantined, r.skipped) == (0, 10, 1, 1)
    assert "already fills this slot" in r.quarantine["reason"][0]
    assert Path(r.quarantine_file).exists()
    assert load_project(project).sessions.height == 11


def test_an_import_again_in_other_units_is_quarantined_and_says_units(project):
    """Strong's comma layout carries no unit: imported in pounds, then again in kilograms, its
    loaded sets would be other values in the same slots; the reason names --units, the likeliest
    cause (it named only an edit in the app or a changed mapping)."""
    first = import_file(FIX / "strong" / "s2.csv", root=project, units="lb")
    again = import_file(FIX / "strong" / "s2.csv", root=project, units="kg")
    assert again.new == 0 and again.quarantined > 0
    assert again.new + again.already_present + again.skipped + again.quarantined == again.records
    assert all("a different --units" in why for why in again.quarantine["reason"].to_list())
    assert load_project(project).sessions.height == first.new  # nothing stored was changed


@pytest.mark.parametrize(
    ("fixture", "kind", "n"),
    [("strong/s3.csv", "sessions", 7), ("hevy/metric.csv", "sessions", 8),
     ("fitnotes/new_comment.csv", "sessions", 4), ("jefit/export.csv", "sessions", 5),
     ("bearable/export_2020.csv", "diary", 4)],
)  # fmt: skip
def test_round_trip_through_load_project(project, fixture, kind, n):
    r = import_file(FIX / fixture, root=project)
    assert sums_up(r) and r.new > 0
    d = load_project(project)
    assert not d.is_demo and d.quarantine.height == 0
    assert getattr(d, kind).height == n
    assert not any(w for res in d.results for w in res.warnings)  # canonical columns only
    if kind == "sessions":  # the alias table maps names when the logs are read
        assert "back_extension" in d.sessions["exercise"].to_list()


def test_round_trip_values(project):
    import_file(FIX / "hevy" / "metric.csv", root=project)
    import_file(FIX / "bearable" / "export_2020.csv", root=project)
    d = load_project(project)
    be = d.sessions.filter(pl.col("exercise") == "back_extension").sort("set")
    assert be["load_kg"].to_list() == [None, 10.0, 10.0] and be["rpe"].to_list()[1] == 8.5
    assert d.sessions.filter(pl.col("exercise") == "plank")["hold_s"].to_list() == [300.0]
    morning = d.diary.filter(pl.col("moment") == "morning").row(0, named=True)
    assert (morning["pain"], morning["sleep_h"], morning["mood"]) == (5.0, 7.5, 3.22)


def test_daylio_import_accounts_for_every_entry(project):
    r = import_file(FIX / "daylio" / "year.csv", root=project)
    assert r.records == 3 and sums_up(r)
    # an entry of mood alone is a diary entry (pain optional): all three kept, pain left empty
    assert (r.new, r.quarantined, r.quarantine_file) == (3, 0, None)
    diary = load_project(project).diary.sort("date")
    assert diary["mood"].to_list() == [1.0, 2.0, 4.0]  # awful, bad, good (the fixture's labels)
    assert diary["pain"].null_count() == 3


def test_unusable_file_writes_nothing(project, tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ImportFormatError):
        import_file(bad, root=project)
    with pytest.raises(ImportFormatError, match="no such file"):
        import_file(tmp_path / "missing.csv", root=project)
    assert not imports(project).exists()


def test_participant_and_units_are_checked(project):
    with pytest.raises(ValueError, match="participant"):
        import_file(FIX / "strong" / "s3.csv", root=project, participant="../evil")
    with pytest.raises(ImportFormatError, match="kg or lb"):
        import_file(FIX / "strong" / "s3.csv", root=project, units="stone")
    r = import_file(FIX / "strong" / "s3.csv", root=project, participant="p-02")
    assert set(load_project(project).sessions["participant"]) == {"p-02"} and r.new == 7


def test_every_fixture_sums_up(project):
    for f in sorted(FIX.rglob("*.csv")):
        r = import_file(f, root=project)
        assert sums_up(r), f
        again = import_file(f, root=project)
        assert again.new == 0 and again.already_present == r.new + r.already_present, f


# --- the command -------------------------------------------------------------------------------


def run(project, *args):
    return CliRunner().invoke(app, ["import", *map(str, args)], env={"REHAB_HOME": str(project)})


def test_cli_json_and_exit_codes(project):
    res = run(project, FIX / "strong" / "s2.csv", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    for key in ("app", "layout", "records", "new", "already_present", "skipped", "quarantined",
                "unmapped_exercises"):  # fmt: skip
        assert key in doc
    assert (doc["app"], doc["layout"], doc["records"], doc["new"]) == ("strong", "S2", 12, 11)
    assert doc["new"] + doc["already_present"] + doc["skipped"] + doc["quarantined"] == 12
    assert doc["unmapped_exercises"] == ["Cable Woodchopper, Kneeling", "Treadmill"]
    bad = project / "bearable-bad.csv"
    text = (FIX / "bearable" / "export_2020.csv").read_text(encoding="utf-8")
    bad.write_text(text.replace("22nd Sep 2020", "31st Sep 2020", 1), encoding="utf-8")
    res = run(project, bad)
    assert res.exit_code == 1 and "quarantined" in res.output
    res = run(project, FIX / "strong" / "s2.csv", "--app", "hevy")
    assert res.exit_code == 2 and "Traceback" not in res.output
    res = run(project, project / "rehab.toml")
    assert res.exit_code == 2
    res = run(project, FIX / "strong" / "s2.csv", "--participant", "a/b")
    assert res.exit_code == 2


def test_cli_missing_unit_message(tmp_path):
    root = tmp_path / "p"
    (root / "data" / "raw").mkdir(parents=True)
    (root / "rehab.toml").write_text("")
    res = run(root, FIX / "strong" / "s2.csv")
    assert res.exit_code == 2
    assert "--units" in res.output and "[units]" in res.output
    res = run(root, FIX / "strong" / "s2.csv", "--units", "lb")
    assert res.exit_code == 0 and "11 new" in res.output


def test_a_later_tests_mapping_updates_the_rows_not_doubled(project):
    import_file(FIX / "strong" / "s2.csv", root=project)
    toml = project / "rehab.toml"
    toml.write_text(toml.read_text() + '\n[tests]\n"Plank" = "plank_max_hold"\n')
    r = import_file(FIX / "strong" / "s2.csv", root=project)
    # the two Plank sets: their stored rows become tests (updated in place), each gives a new
    # test record; nothing is quarantined
    assert (r.new, r.quarantined, r.already_present, r.skipped) == (2, 0, 9, 1)
    assert r.remapped == 2 and r.quarantine_file is None
    d = load_project(project)
    assert d.sessions.height == 11 and d.tests.height == 3
    assert d.tests.filter(pl.col("test") == "plank_max_hold").height == 2


def test_hevy_newest_first_older_export_inside_a_newer_one(project, tmp_path):
    lines = (FIX / "hevy" / "metric.csv").read_text(encoding="utf-8").split("\n")
    older = tmp_path / "older.csv"
    older.write_text("\n".join([lines[0], *lines[-3:]]), encoding="utf-8")  # the 2024 workout
    a = import_file(older, root=project)
    b = import_file(FIX / "hevy" / "metric.csv", root=project)
    assert (a.new, b.new, b.already_present) == (3, 5, 3)


def test_bearable_part_of_day_that_grew_is_reported_not_doubled(project, tmp_path):
    lines = (FIX / "bearable" / "export_2020.csv").read_text(encoding="utf-8").split("\n")
    early = tmp_path / "early.csv"
    early.write_text("\n".join(lines[:4]), encoding="utf-8")  # the morning without the sleep
    a = import_file(early, root=project)
    assert (a.records, a.new) == (3, 3)
    b = import_file(FIX / "bearable" / "export_2020.csv", root=project)
    # the morning row now has the night's sleep: its four readings are quarantined, not added
    assert (b.quarantined, b.new, b.skipped) == (4, 4, 3) and sums_up(b)
    reasons = set(b.quarantine["reason"])
    assert any("already fills this slot (participant, date, time, moment)" in r for r in reasons)
    assert load_project(project).diary.height == 4


# --- two commands at once, and a command killed mid-write ------------------------------------------


def strong_export(path: Path, days: range, *, sets: int = 4, reps: int = 10) -> Path:
    """A Strong S2 export: one back-extension set a row, ``sets`` a day (written by hand here,
    so the test knows how many rows each export holds)."""
    import datetime as dt

    first = dt.date(2025, 1, 1)
    rows = [f"{first + dt.timedelta(days=d)} 07:30:00,Back day,40m,Back Extension (Machine),{s},"
            f"10,{reps},0,0,,,\n" for d in days for s in range(1, sets + 1)]  # fmt: skip
    path.write_text(S2_HEAD + "".join(rows), encoding="utf-8")
    return path


def _import_after_barrier(root: str, export: str, participant: str, barrier, delay: float, out):
    """In a child process: wait for the others, then import with a pause between reading the
    stored table and writing it (a slow disk), the window in which two commands collide."""
    from rehab.importers import store

    split = store.split_new

    def slow_split(*args, **kw):
        out = split(*args, **kw)
        time.sleep(delay)
        return out

    store.split_new = slow_split
    barrier.wait(timeout=60)
    r = import_file(export, root=root, participant=participant)
    out.put((r.new, r.already_present, r.records))


def provenance_agrees(root: Path) -> None:
    """Every imported table has exactly one provenance row per row, numbered 1..n."""
    for prov in imports(root).glob("provenance-*.csv"):
        app_ = prov.stem.removeprefix("provenance-")
        p = pl.read_csv(prov, infer_schema=False)
        for kind in ("sessions", "tests", "diary"):
            table = imports(root) / f"{kind}-{app_}.csv"
            n = pl.read_csv(table, infer_schema=False).height if table.exists() else 0
            rows = p.filter(pl.col("table") == kind)["row"].cast(pl.Int64).sort().to_list()
            assert rows == list(range(1, n + 1)), (prov.name, kind)


def test_parallel_imports_keep_every_row(project, tmp_path):
    """Four `rehab import` runs at once in one project (the same export twice, and two others
    that share the same canonical file): every row is kept once and provenance agrees. Without
    the project lock each run read the empty table and the last writer dropped the others."""
    ann = strong_export(tmp_path / "ann.csv", range(0, 60))  # 240 sets
    bob = strong_export(tmp_path / "bob.csv", range(0, 60), reps=12)  # 240 other sets
    ann2 = strong_export(tmp_path / "ann2.csv", range(40, 90))  # 200 sets, 80 of them in ann.csv
    jobs = [(ann, "ann"), (ann, "ann"), (bob, "bob"), (ann2, "ann")]
    ctx = mp.get_context("spawn")  # polars' threads do not survive a fork
    barrier, out = ctx.Barrier(len(jobs)), ctx.Queue()
    procs = [ctx.Process(target=_import_after_barrier,
                         args=(str(project), str(e), p, barrier, 0.5, out)) for e, p in jobs]  # fmt: skip
    for proc in procs:
        proc.start()
    results = [out.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    d = load_project(project)
    ann_days = set(range(0, 90))
    assert d.sessions.filter(pl.col("participant") == "ann").height == len(ann_days) * 4
    assert d.sessions.filter(pl.col("participant") == "bob").height == 60 * 4
    # each distinct record reported new exactly once, whatever order the runs took
    assert sum(new for new, _, _ in results) == (90 + 60) * 4
    assert all(new + present == records for new, present, records in results)
    provenance_agrees(project)


def _import_killed_at(root: str, export: str, step: int, after: bool = False) -> None:
    """In a child process: import, and die (no cleanup at all) just before the ``step``-th file
    rename of the run (``after``: just after it); a run with fewer renames finishes normally."""
    real, done = os.replace, [0]

    def dying(src, dst):
        if done[0] == step and not after:
            os._exit(17)
        real(src, dst)
        if done[0] == step:
            os._exit(17)
        done[0] += 1

    os.replace = dying
    import_file(export, root=root)


def stored(root: Path) -> dict[str, bytes]:
    """Every stored file of a project (data/raw and data/quarantine; not the lock's folder)."""
    files = [*(root / "data" / "raw").rglob("*"), *(root / "data" / "quarantine").rglob("*")]
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(files) if p.is_file()}


def test_an_import_killed_at_any_step_leaves_the_store_before_or_after(project, tmp_path, monkeypatch):
    """Kill an import before each of its renames (the lock's owner note, each journal write, each
    file put in place) in turn: the next command finds the store as it was before or as it is
    after the import, never half, with tables and provenance agreeing; importing again then gives
    exactly the store of an import never interrupted."""
    from rehab.paths import ProjectPaths, recover

    first = strong_export(tmp_path / "a.csv", range(0, 5))
    second = strong_export(tmp_path / "b.csv", range(3, 9))  # 2 days already there, 4 new
    with second.open("a", encoding="utf-8") as f:  # a test attempt, and a record to quarantine
        f.write('2025-01-09 08:00:00,T,30m,"Biering-Sorensen",1,0,0,0,120,,,\n'
                "2025-02-30 08:00:00,T,30m,Back Extension (Machine),1,10,10,0,0,,,\n")
    import_file(first, root=project)
    before = stored(project)
    ref = tmp_path / "ref"
    shutil.copytree(project, ref)
    calls = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append(b), real(a, b))[1])
    import_file(second, root=ref)
    monkeypatch.undo()
    after = stored(ref)
    assert after != before and any("quarantine" in k for k in after)
    steps = len(calls)
    # the owner note, a journal write per file and the commit, and 5 files here (original,
    # sessions, tests, provenance, quarantine)
    assert steps == 1 + 5 + 1 + 5, calls
    ctx = mp.get_context("spawn")
    # before each rename, and after the last one (the journal not yet removed)
    kills = [(k, False) for k in range(steps)] + [(steps - 1, True)]
    copies = [tmp_path / f"kill{i}" for i in range(len(kills))]
    procs = []
    for (k, after_it), copy in zip(kills, copies, strict=True):
        shutil.copytree(project, copy)
        procs.append(ctx.Process(target=_import_killed_at, args=(str(copy), str(second), k, after_it)))
    for proc in procs:  # side by side: each on its own copy of the project
        proc.start()
    outcomes = set()
    for k, (proc, copy) in enumerate(zip(procs, copies, strict=True)):  # k: the kill's index
        proc.join(timeout=120)
        assert proc.exitcode == 17, (k, proc.exitcode)
        recover(ProjectPaths(copy))  # what the next command (or load_project) does first
        now = stored(copy)
        assert now in (before, after), f"killed at rename {kills[k]} ({calls[kills[k][0]]}): a half store"
        outcomes.add("before" if now == before else "after")
        provenance_agrees(copy)
        assert not any(".rehab-txn" in name for name in now)
        import_file(second, root=copy)  # and a following import completes it
        assert stored(copy) == after, k
    assert outcomes == {"before", "after"}
