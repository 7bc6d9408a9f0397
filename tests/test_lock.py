"""The project lock (rehab.paths.project_lock) and multi-file transactions (rehab.paths.Transaction)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rehab import paths as rp
from rehab.cli import app
from rehab.paths import PathError, ProjectBusy, ProjectPaths, Transaction, lock_file, project_lock

HOLD = """
import sys, time
from pathlib import Path
from rehab.paths import ProjectPaths, project_lock
with project_lock(ProjectPaths(Path(sys.argv[1]))):
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def proj(tmp_path) -> ProjectPaths:
    root = tmp_path / "p"
    (root / "data" / "raw").mkdir(parents=True)
    (root / "rehab.toml").write_text('[units]\nweight = "kg"\n', encoding="utf-8")
    return ProjectPaths(root)


def hold_in_thread(p: ProjectPaths):
    """A thread holding the lock until the returned event is set."""
    got, release = threading.Event(), threading.Event()

    def run():
        with project_lock(p):
            got.set()
            release.wait(30)

    t = threading.Thread(target=run)
    t.start()
    assert got.wait(10)
    return t, release


def test_the_lock_file_is_git_ignored_with_data_processed(proj):
    assert lock_file(proj) == proj.processed / ".rehab.lock"
    ignore = (Path(__file__).parents[1] / ".gitignore").read_text(encoding="utf-8")
    assert "data/processed/*" in ignore.splitlines()


def test_another_process_holding_it_gives_a_clear_timeout_then_its_death_frees_it(proj):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(proj.root)],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        with pytest.raises(ProjectBusy) as e, project_lock(proj, timeout=0.3):
            pass
        assert 0.3 <= time.monotonic() - t0 < 5
        msg = str(e.value)
        assert "another rehab command is writing to this project" in msg
        assert f"pid {holder.pid}" in msg and str(lock_file(proj)) in msg
        assert "wait" in msg.lower() and "remove" in msg and "if no other rehab command runs" in msg
    finally:
        holder.kill()  # killed while holding it: the OS frees the lock
        holder.wait()
    t0 = time.monotonic()
    with project_lock(proj, timeout=10):
        assert time.monotonic() - t0 < 5


def test_reentrant_in_one_thread_exclusive_between_threads(proj):
    with project_lock(proj), project_lock(proj):  # an import saving a quarantine file: one hold
        assert rp.holds_lock(proj)
    assert not rp.holds_lock(proj)
    t, release = hold_in_thread(proj)
    try:
        assert not rp.holds_lock(proj)  # held by the other thread, not this one
        with pytest.raises(ProjectBusy), project_lock(proj, timeout=0.2):
            pass
    finally:
        release.set()
        t.join()
    with project_lock(proj, timeout=5):
        pass


def test_rehab_import_while_another_command_writes(proj):
    fix = Path(__file__).parent / "fixtures" / "apps" / "strong" / "s2.csv"
    t, release = hold_in_thread(proj)
    try:
        res = CliRunner().invoke(app, ["import", str(fix)],
                                 env={"REHAB_HOME": str(proj.root), "REHAB_LOCK_TIMEOUT": "0.2"})
        assert res.exit_code == 2, res.output
        assert "another rehab command is writing to this project" in res.output
        assert "Traceback" not in res.output
        assert not (proj.raw / "imports").exists()  # nothing written
    finally:
        release.set()
        t.join()
    res = CliRunner().invoke(app, ["import", str(fix)], env={"REHAB_HOME": str(proj.root)})
    assert res.exit_code == 0, res.output


def test_a_lock_timeout_setting_that_is_not_a_number(proj, monkeypatch):
    monkeypatch.setenv("REHAB_LOCK_TIMEOUT", "soon")
    with pytest.raises(PathError, match="REHAB_LOCK_TIMEOUT='soon' is not allowed"), project_lock(proj):
        pass


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if ".rehab-txn" in p.name or "journal" in p.name)


def test_a_transaction_puts_every_file_in_place_or_none(proj):
    a, b, gone = proj.raw / "imports" / "a.csv", proj.quarantine / "b.csv", proj.raw / "old.csv"
    gone.write_text("old\n")
    with pytest.raises(RuntimeError, match="needs the project lock"):
        Transaction(proj)
    with project_lock(proj):
        with pytest.raises(KeyError), Transaction(proj) as txn:  # fails before its commit
            txn.stage(a).write_text("new a\n")
            txn.delete(gone)
            raise KeyError("a bug while writing")
        assert not a.exists() and gone.exists() and leftovers(proj.root) == []
        with Transaction(proj) as txn:
            txn.stage(a).write_text("new a\n")
            txn.stage(b).write_text("new b\n")
            txn.delete(gone)
            assert not a.exists()  # nothing in place before the commit
            txn.commit()
    assert (a.read_text(), b.read_text(), gone.exists()) == ("new a\n", "new b\n", False)
    assert leftovers(proj.root) == []


def test_the_next_lock_finishes_a_committed_journal_and_undoes_one_not_committed(proj):
    a, b = proj.raw / "a.csv", proj.raw / "b.csv"
    a.write_text("old a\n")
    b.write_text("old b\n")
    ta, tb = a.with_name(".a.csv.rehab-txn.tmp"), b.with_name(".b.csv.rehab-txn.tmp")
    ops = [("replace", "data/raw/.a.csv.rehab-txn.tmp", "data/raw/a.csv"),
           ("replace", "data/raw/.b.csv.rehab-txn.tmp", "data/raw/b.csv")]  # fmt: skip
    # killed between the two renames of a committed transaction: a is new, b not yet
    tb.write_text("new b\n")
    a.write_text("new a\n")
    rp._write_journal(proj, "committed", ops)
    with project_lock(proj):
        pass
    assert (a.read_text(), b.read_text()) == ("new a\n", "new b\n")
    assert leftovers(proj.root) == []
    # killed while writing the temporary files (not committed): the old files stay
    ta.write_text("half")
    rp._write_journal(proj, "prepared", ops)
    rp.recover(proj)  # what load_project does first
    assert (a.read_text(), b.read_text()) == ("new a\n", "new b\n")
    assert leftovers(proj.root) == []


def test_an_unreadable_journal_is_an_error_naming_it(proj):
    rp.journal_file(proj).parent.mkdir(parents=True, exist_ok=True)
    rp.journal_file(proj).write_text("{not json")
    with pytest.raises(PathError, match=r"\.rehab-journal\.json: the journal of an interrupted"), \
            project_lock(proj):  # fmt: skip
        pass
