"""Kernels kept between commands: the next command reuses a free, live kernel made from the same
code (no start, no warm-up, no names left from the last page); a kernel made from other code, one
that does not answer, or one left mid-page is replaced; two commands at once never share one;
an idle kernel exits by itself and clears its files. Pages come from a tiny template of the
project's own that prints its kernel's pid, so each costs milliseconds."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rehab.report import kernels
from rehab.report.kernels import Kernel, _Slot, keep_seconds
from rehab.report.render import render_all

sys.path.insert(0, str(Path(__file__).parent))
from test_render_cache import make, tiny_template  # noqa: E402

PAGE = ('import os\nprint("left over:", globals().get("leftover"))\nleftover = month\n'
        'print("kernel", os.getpid())\n')


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setattr(kernels, "KIT_FILES", ())  # a shared checkout's files change under tests
    root = make(tmp_path / "proj")
    tiny_template(root, extra=PAGE)
    yield root
    for meta in (root / "data" / "processed" / ".kernels").glob("*.meta.json"):
        pid = json.loads(meta.read_text()).get("pid")
        if isinstance(pid, int) and alive(pid):
            os.kill(pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # a killed child of this process stays a zombie until reaped: not alive
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.is_file() and stat.read_text().split(") ")[-1].startswith("Z"))


def exits(pid: int, within: float) -> bool:
    """Whether process ``pid`` is gone within ``within`` seconds."""
    deadline = time.monotonic() + within
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not alive(pid)


def one_page(root: Path, keep: float, month: str = "2026-01") -> tuple[int, str]:
    """Render a's page of ``month`` (forced) and return its kernel's pid and what it printed."""
    result = render_all(root=root, jobs=1, force=True, participants=["a"], months=[month],
                        keep=keep)
    assert result.exit_code == 0, result.outcomes
    page = (root / "reports" / "a" / f"{month}.html").read_text(encoding="utf-8")
    return int(re.search(r"kernel (\d+)", page).group(1)), page


def meta(root: Path, i: int = 0) -> dict:
    return json.loads((root / "data" / "processed" / ".kernels" / f"kernel-{i}.meta.json")
                      .read_text(encoding="utf-8"))


def test_the_next_command_reuses_the_kernel_with_nothing_left_from_the_last_page(project):
    pid, _ = one_page(project, keep=60)
    assert alive(pid) and meta(project)["pid"] == pid and meta(project)["keep_s"] == 60
    served = meta(project)["pages"]  # the page, its person's course page and the index
    again, page = one_page(project, keep=60, month="2026-02")
    assert again == pid
    assert "left over: None" in page  # the last command's page left no name behind
    assert meta(project)["pages"] > served  # counted across commands (replaced after 250)
    # --keep-kernels 0: this command uses it, then stops it and clears its files
    last, _ = one_page(project, keep=0)
    assert last == pid
    assert exits(pid, within=10)
    assert not (project / "data" / "processed" / ".kernels" / "kernel-0.json").exists()


def test_an_idle_kernel_exits_by_itself_and_clears_its_files(project):
    pid, _ = one_page(project, keep=1)
    folder = project / "data" / "processed" / ".kernels"
    assert exits(pid, within=20)
    assert not (folder / "kernel-0.json").exists() and not (folder / "kernel-0.meta.json").exists()
    assert one_page(project, keep=0)[0] != pid


def test_a_kernel_left_before_it_has_started_still_exits_by_itself(project):
    """A command with nothing to render leaves its just-started kernel at once, before that
    kernel listens: what the kernel runs as it starts (the idle watch, the warm-up) must not
    depend on a request sent to it (such a request was lost, and the kernel never exited)."""
    kernel = Kernel(project, keep=1)
    pid = kernel.km.pid
    kernel.close()  # at once: the kernel is still starting
    assert exits(pid, within=30)
    assert not (project / "data" / "processed" / ".kernels" / "kernel-0.json").exists()


def test_a_kernel_that_exits_as_it_starts_fails_its_page_and_is_not_kept(project, monkeypatch):
    """A kept kernel is launched before this process connects (it writes its own connection
    file): one that exits first fails the page with a reason, and nothing waits for it."""
    monkeypatch.setattr(kernels, "KERNEL_ARGS", [*kernels.KERNEL_ARGS, "--no-such-flag"])
    t0 = time.monotonic()
    result = render_all(root=project, jobs=1, force=True, participants=["a"],
                        months=["2026-01"], keep=60)
    assert time.monotonic() - t0 < 30
    failed = {o.month: o for o in result.outcomes if o.status == "failed"}
    assert set(failed) == {"2026-01", "whole course"} and failed["2026-01"].cell == "setup"
    assert all("exited as it started (status 2)" in o.error for o in failed.values())
    assert result.index.is_file()  # written by the command instead
    assert not (project / "data" / "processed" / ".kernels" / "kernel-0.json").exists()
    monkeypatch.undo()
    assert one_page(project, keep=0)[1]  # the next command starts a kernel that works


def test_nothing_changed_writes_the_index_on_the_kept_kernel(project):
    """With nothing to render, a kept kernel still writes the index (this process would import
    the charts' stack for it); with none kept, one is started for the next command and the
    index is written here."""
    render_all(root=project, jobs=1, keep=60)
    kernels.stop_kept(project)
    result = render_all(root=project, jobs=1, keep=60)  # none kept: one starts, left waiting
    assert result.exit_code == 0 and not result.ok
    first = meta(project)
    assert alive(first["pid"]) and first["pages"] == 0  # the index was written here
    again = render_all(root=project, jobs=1, keep=60)
    assert not again.ok and again.index.is_file()
    assert meta(project)["pid"] == first["pid"] and meta(project)["pages"] == 1  # the index


def test_a_kernel_made_from_other_code_is_replaced(project, monkeypatch):
    pid, _ = one_page(project, keep=60)
    monkeypatch.setattr(kernels, "_kernel_identity", lambda: "other code")
    new, _ = one_page(project, keep=60)
    assert new != pid and not alive(pid)


def test_a_kernel_that_does_not_answer_is_replaced(project):
    pid, _ = one_page(project, keep=60)
    os.kill(pid, signal.SIGSTOP)  # as a kernel still busy with a stopped command's page
    try:
        t0 = time.monotonic()
        new, _ = one_page(project, keep=60)
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGCONT)
    assert new != pid and time.monotonic() - t0 < 30
    time.sleep(0.2)
    assert not alive(pid)


def test_two_commands_at_once_never_share_a_kernel(project):
    pid, _ = one_page(project, keep=60)
    held = _Slot.take(project / "data" / "processed" / ".kernels")  # another command has slot 0
    try:
        assert held is not None and held.conn.name == "kernel-0.json"
        other, _ = one_page(project, keep=60)
    finally:
        held.release()
    assert other != pid and alive(pid) and meta(project, 1)["pid"] == other
    assert one_page(project, keep=60)[0] == pid  # free again: slot 0's kernel is used


def test_a_kernel_left_mid_page_is_not_kept(project):
    kernel = Kernel(project, keep=60)
    pid = kernel.km.pid
    kernel._busy = True  # what a command stopped during a page leaves
    kernel.close()
    time.sleep(0.2)
    assert not alive(pid)
    assert not (project / "data" / "processed" / ".kernels" / "kernel-0.meta.json").exists()


def test_keep_seconds_from_the_argument_the_environment_or_the_default(monkeypatch):
    monkeypatch.delenv("REHAB_KEEP_KERNELS", raising=False)
    assert keep_seconds() == kernels.KEEP_S == 300
    monkeypatch.setenv("REHAB_KEEP_KERNELS", "30")
    assert keep_seconds() == 30 and keep_seconds(0) == 0
    monkeypatch.setenv("REHAB_KEEP_KERNELS", "five minutes")
    with pytest.raises(ValueError, match="REHAB_KEEP_KERNELS='five minutes' is not allowed"):
        keep_seconds()
    with pytest.raises(ValueError, match="0 or more"):
        keep_seconds(-1)


def test_the_command_says_what_is_wrong_with_the_setting(project):
    env = dict(os.environ, REHAB_HOME=str(project), REHAB_KEEP_KERNELS="soon")
    res = subprocess.run([sys.executable, "-m", "rehab", "report", "--all"], env=env,
                         capture_output=True, text=True)
    assert res.returncode != 0
    assert "REHAB_KEEP_KERNELS='soon' is not allowed: give idle seconds" in res.stderr + res.stdout


def test_a_kernel_of_its_own_leaves_the_kept_ones_alone(project):
    """The comparison page runs its template on a kernel of its own (keep None)."""
    pid, _ = one_page(project, keep=60)
    own = Kernel(project, warm=False)
    try:
        assert own.km.provisioner is not None  # started by jupyter_client, not a kept slot's
        assert own.slot is None
    finally:
        own.close()
    assert alive(pid) and one_page(project, keep=60)[0] == pid


def test_stop_kept_stops_every_free_kept_kernel_and_leaves_one_in_use(project):
    first, _ = one_page(project, keep=60)
    held = _Slot.take(project / "data" / "processed" / ".kernels")
    try:
        second, _ = one_page(project, keep=60)  # slot 1, while slot 0 is held
    finally:
        held.release()
    held = _Slot.at(project / "data" / "processed" / ".kernels", 1)  # now slot 1 is in use
    try:
        assert kernels.stop_kept(project) == 1
        time.sleep(0.2)
        assert not alive(first) and alive(second)
    finally:
        held.release()
    assert kernels.stop_kept(project) == 1
    time.sleep(0.2)
    assert not alive(second) and kernels.stop_kept(project) == 0


def test_a_kept_kernel_whose_record_is_removed_exits(project):
    """The idle watch exits a kernel no command can find any more (its slot's files gone)."""
    pid, _ = one_page(project, keep=600)
    (project / "data" / "processed" / ".kernels" / "kernel-0.meta.json").unlink()
    assert exits(pid, within=20)


def test_a_days_new_line_renders_its_month_on_the_kept_kernel(project):
    """With one kernel kept and two jobs, the month page (not the course page beside it) gets
    the kept kernel: kernels are handed out before the threads run, the month's thread first
    (when the threads took them themselves, the course page's thread could win the race for the
    only kept kernel, and the month waited for a cold start: seen in the benchmark)."""
    render_all(root=project, jobs=2, keep=60)  # every page; its kernels are kept
    kernels.stop_kept(project)
    pid, _ = one_page(project, keep=60)  # one kernel kept, in slot 0
    with (project / "data" / "sample" / "diary.csv").open("a", encoding="utf-8") as f:
        f.write("a,2026-03-20,2\n")
    result = render_all(root=project, jobs=2, keep=60)
    assert {(o.participant, o.month) for o in result.ok} == {("a", "2026-03")}
    page = (project / "reports" / "a" / "2026-03.html").read_text(encoding="utf-8")
    assert f"kernel {pid}" in page


def test_submitted_code_is_told_when_the_reply_before_it_fails():
    """settle() awaits replies in the order sent; when the reset before a submitted course page
    fails, the course page's ``done`` still hears of it (it would otherwise be lost silently)."""
    kernel = Kernel.__new__(Kernel)  # no process: only the bookkeeping of settle()
    heard = []
    kernel._reset = "reset-1"
    kernel._submitted = ("course-1", "its course page", heard.append)

    def wait(msg_id, timeout, what):
        raise kernels._CellFailure("setup", f"{what} failed: KeyboardInterrupt: ")

    kernel._wait = wait
    with pytest.raises(kernels._CellFailure):
        kernel.settle(1.0)
    assert heard == ["its course page was not awaited: resetting its namespace failed: "
                     "KeyboardInterrupt: "]
    assert kernel._submitted is None and kernel._reset is None
