"""The command line as a user runs it: exit codes, messages, JSON, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args, cwd: Path, env_home: Path | None = None, columns: int | None = None):
    import os

    env = dict(os.environ)
    env.pop("REHAB_HOME", None)
    if columns is not None:  # rich wraps at the terminal width: wide enough to keep a line whole
        env["COLUMNS"] = str(columns)
    if env_home is not None:
        env["REHAB_HOME"] = str(env_home)
    return subprocess.run([sys.executable, "-m", "rehab", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "rehab.toml").write_text("")
    (tmp_path / "data" / "raw").mkdir(parents=True)
    return tmp_path


def test_validate_clean_file_exits_0(project):
    f = project / "data" / "raw" / "diary.csv"
    f.write_text("date,pain\n2026-03-01,2\n")
    r = run("validate", str(f), cwd=project)
    assert r.returncode == 0, r.stderr
    assert "1 records, 1 accepted, 0 quarantined" in r.stdout


def test_validate_json_with_quarantine_exits_1(project):
    f = project / "data" / "raw" / "sessions.csv"
    f.write_text("date,exercise,set,pain\n2026-03-01,plank,1,2\n2026-03-01,plank,2,11\n")
    r = run("validate", "--json", str(f), cwd=project)
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    (one,) = doc["files"]
    assert {k: one[k] for k in ("kind", "records", "accepted", "quarantined", "duplicates")} == {
        "kind": "sessions", "records": 2, "accepted": 1, "quarantined": 1, "duplicates": 0}
    assert one["issues"] == [{"record": 2, "line": 3, "column": "pain", "value": "11",
                              "reason": "out of range: use a number from 0 to 10"}]


def test_validate_folder_and_unusable_file_exits_2_without_traceback(project):
    (project / "data" / "raw" / "diary.csv").write_text("when,pain\n2026-03-01,2\n")
    r = run("validate", str(project / "data" / "raw"), cwd=project)
    assert r.returncode == 2
    assert "required column(s) missing: date" in r.stderr and "Traceback" not in r.stderr


def test_validate_skips_the_import_provenance_named_with_the_tables(project):
    """`rehab validate data/raw/imports/*.csv` names the provenance sidecar too: not a log."""
    imports = project / "data" / "raw" / "imports"
    imports.mkdir()
    (imports / "sessions-strong.csv").write_text("date,exercise,set,reps\n2026-03-01,plank,1,10\n")
    (imports / "provenance-strong.csv").write_text(
        "table,row,app,layout,file_sha256,source_record\nsessions,1,strong,S2,ab12,1\n")
    r = run("validate", str(imports / "provenance-strong.csv"), str(imports / "sessions-strong.csv"),
            cwd=project)
    assert r.returncode == 0, r.stderr
    assert "skipped:" in r.stdout and "provenance" in r.stdout and "1 accepted" in r.stdout
    r = run("validate", "--json", str(imports / "provenance-strong.csv"), cwd=project)
    assert r.returncode == 0 and json.loads(r.stdout)["skipped"][0]["path"].endswith("provenance-strong.csv")
    # the folder given: the sidecar is listed as skipped too, not passed over in silence
    r = run("validate", "--json", str(project / "data" / "raw"), cwd=project)
    doc = json.loads(r.stdout)
    assert [Path(f["path"]).name for f in doc["files"]] == ["sessions-strong.csv"]
    assert [Path(f["path"]).name for f in doc["skipped"]] == ["provenance-strong.csv"]


def test_usage_error_exits_2(project):
    r = run("validate", "--no-such-option", "x.csv", cwd=project)
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_demo_writes_inside_project_only(project):
    r = run("demo", cwd=project)
    assert r.returncode == 0, r.stderr
    assert (project / "data" / "sample" / "truth.json").is_file()
    r = run("demo", "--out", "../elsewhere", cwd=project)
    assert r.returncode == 2 and "outside" in r.stderr
    assert not (project.parent / "elsewhere").exists()
    r = run("demo", "--out", "data/raw/x", cwd=project)
    assert r.returncode == 2 and "data/raw" in r.stderr


def test_rehab_home_selects_the_project(project, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("cwd")
    r = run("demo", cwd=elsewhere, env_home=project)
    assert r.returncode == 0 and (project / "data" / "sample" / "sessions.csv").is_file()


@pytest.mark.parametrize("args, fragment", [
    (["--participants", "1500"], "participants=1500 is not allowed"),
    (["--participants", "0"], "participants=0 is not allowed"),
    (["--seed", "-1"], "seed=-1 is not allowed"),
])
def test_demo_bad_options_exit_2_without_traceback(project, args, fragment):
    r = run("demo", *args, cwd=project)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert fragment in r.stderr
    assert not (project / "data" / "sample").exists()


def test_validate_shows_names_and_values_with_brackets_as_written(project):
    f = project / "data" / "raw" / "sessions[old].csv"
    f.write_text("date,exercise,set,notes\n2026-03-01,plank,[bold],x\n")
    r = run("validate", str(f), cwd=project, columns=300)
    assert r.returncode == 1, r.stderr
    assert "sessions[old].csv" in r.stdout and "[bold]" in r.stdout


def test_validate_unknown_kind_is_a_usage_error(project):
    f = project / "data" / "raw" / "diary.csv"
    f.write_text("date,pain\n2026-03-01,2\n")
    r = run("validate", "--kind", "pain", str(f), cwd=project)
    assert r.returncode == 2 and "--kind 'pain' is not allowed" in r.stderr
    assert "sessions, diary, tests, phases" in r.stderr


def test_validate_writes_quarantine_for_raw_files_only(project, tmp_path_factory):
    f = project / "data" / "raw" / "diary.csv"
    f.write_text("date,pain\n2026-03-01,2\n2026-03-02,12\n")
    r = run("validate", "--json", str(f), cwd=project)
    assert r.returncode == 1
    q = project / "data" / "quarantine" / "diary.quarantine.csv"
    assert json.loads(r.stdout)["files"][0]["quarantine_file"] == str(q)
    assert "2026-03-02" in q.read_text() and "12" in q.read_text()
    f.write_text("date,pain\n2026-03-01,2\n")  # fixed: the quarantine file goes
    assert run("validate", str(f), cwd=project).returncode == 0 and not q.exists()
    outside = tmp_path_factory.mktemp("elsewhere") / "diary.csv"
    outside.write_text("date,pain\n2026-03-02,12\n")
    assert run("validate", str(outside), cwd=project).returncode == 1
    assert not any((project / "data" / "quarantine").glob("*.csv"))


# --- messages that point the right way (issue 12, item 9) and small ones (item 11) -----------------


def test_version_option_prints_the_package_version(tmp_path):
    from rehab import __version__

    r = run("--version", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"rehab {__version__}"


@pytest.mark.parametrize("command", ["validate", "import"])
def test_a_path_that_does_not_exist_says_no_such_file_or_folder(project, command):
    r = run(command, "data/raw/sesions.csv", cwd=project, columns=300)
    assert r.returncode == 2
    assert "no such file or folder: data/raw/sesions.csv" in r.stderr
    assert "cannot tell what this file holds" not in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("args", [("report", "--all"), ("compare", "--participant", "me")])
def test_outside_a_project_says_so_and_how_to_fix_it(tmp_path, args):
    somewhere = tmp_path / "Downloads"  # no rehab.toml and no data/ here or above
    somewhere.mkdir()
    r = run(*args, cwd=somewhere, columns=400)
    assert r.returncode == 2
    assert f"not in a rehab project: {somewhere}" in r.stderr
    assert "cd into your project folder, or set REHAB_HOME" in r.stderr
    assert "data/sample" not in r.stderr and "no records for anyone" not in r.stderr
    assert not (somewhere / "reports").exists()


def test_import_outside_a_project_says_so_and_writes_nothing(tmp_path):
    somewhere = tmp_path / "Downloads"  # an export saved to a folder that is no project
    somewhere.mkdir()
    export = somewhere / "strong.csv"
    export.write_text("Date,Workout Name,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,"
                      "Notes,Workout Notes,RPE\n2026-03-02 08:00:00,Back,Back Extension,1,0,12,"
                      "0,0,,,\n", encoding="utf-8")
    r = run("import", str(export), cwd=somewhere, columns=400)
    assert r.returncode == 2
    assert f"not in a rehab project: {somewhere}" in r.stderr
    assert sorted(p.name for p in somewhere.iterdir()) == ["strong.csv"]


def test_rehab_home_naming_no_folder_says_so(tmp_path):
    r = run("report", "--all", cwd=tmp_path, env_home=tmp_path / "no-such-project", columns=400)
    assert r.returncode == 2
    assert f"REHAB_HOME={tmp_path / 'no-such-project'}: no such file or folder" in r.stderr


def test_piped_output_is_not_wrapped_at_80_columns(project):
    import os

    f = project / "data" / "raw" / "diary-a-rather-long-file-name-typed-by-a-person.csv"
    f.write_text("date,pain\n2026-03-01,2\n")
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "REHAB_HOME")}
    r = subprocess.run([sys.executable, "-m", "rehab", "validate", str(f)], cwd=project, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    line = f"{f} (diary): 1 records, 1 accepted, 0 quarantined, 0 duplicates — ok"
    assert len(line) > 80
    assert line in r.stdout.splitlines()
