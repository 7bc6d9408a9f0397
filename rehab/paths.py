"""Where things live in a project folder, the guard that keeps paths inside it, and the project
lock (:func:`project_lock`) with its all-or-nothing multi-file writes (:class:`Transaction`) that
every command writing the project's stored files uses (imports, quarantine, report cache, index)."""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

# A participant id names a folder of reports and is read from every log: kept here, where paths
# are made (this module imports no data library: the report command starts its kernel first)
PARTICIPANT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
PARTICIPANT_RULE = "1-64 characters: letters, digits, '_' or '-', starting with a letter or digit"

MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class PathError(ValueError):
    """A path, participant id or month that is not allowed."""


def find_root(start: Path | None = None) -> Path:
    """The project folder: $REHAB_HOME, else the nearest folder up from ``start`` holding
    ``rehab.toml`` or a ``data/`` folder beside a ``pyproject.toml``; else ``start`` itself."""
    env = os.environ.get("REHAB_HOME")
    if env:
        return Path(env).expanduser().resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "rehab.toml").is_file():
            return folder
        if (folder / "pyproject.toml").is_file() and (folder / "data").is_dir():
            return folder
    return here


@dataclass(frozen=True)
class ProjectPaths:
    root: Path

    @classmethod
    def discover(cls, start: Path | None = None) -> ProjectPaths:
        return cls(find_root(start))

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def raw(self) -> Path:
        return self.data / "raw"

    @property
    def sample(self) -> Path:
        return self.data / "sample"

    @property
    def processed(self) -> Path:
        return self.data / "processed"

    @property
    def quarantine(self) -> Path:
        return self.data / "quarantine"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def config_file(self) -> Path:
        return self.root / "rehab.toml"

    @property
    def protocols(self) -> Path:
        return self.root / "protocols"

    def input_dir(self) -> tuple[Path, bool]:
        """The folder whose logs are used, and whether it is the demo data.

        ``data/raw`` when it holds any log CSV (its own or under ``imports/``), else ``data/sample``."""
        if self.raw.is_dir() and any(self.raw.rglob("*.csv")):
            return self.raw, False
        return self.sample, True

    def report_path(self, participant: str, month: str) -> Path:
        check_participant(participant)
        check_month(month)
        return inside(self.reports, self.reports / participant / f"{month}.html")


def check_participant(participant: str) -> str:
    if not isinstance(participant, str) or not PARTICIPANT_PATTERN.match(participant):
        raise PathError(f"participant id {participant!r} is not allowed: use {PARTICIPANT_RULE}")
    return participant


def check_month(month: str) -> str:
    if not isinstance(month, str) or not MONTH_PATTERN.match(month):
        raise PathError(f"month {month!r} is not allowed: use YYYY-MM, e.g. 2026-03")
    return month


def inside(base: Path, path: Path) -> Path:
    """``path`` resolved, if it lies inside ``base``; else PathError (no escaping the project)."""
    base_r = base.resolve()
    p = path.resolve()
    if p != base_r and base_r not in p.parents:
        raise PathError(f"{path} lies outside {base}: refusing to write there")
    return p


def existing(path: Path) -> Path:
    """``path`` if a file or folder is there; else PathError "no such file or folder: <path>"."""
    if not Path(path).exists():
        raise PathError(f"no such file or folder: {path}")
    return Path(path)


def require_project(start: Path | None = None) -> ProjectPaths:
    """The project found as :func:`find_root` finds it, if it is one: a folder holding
    ``rehab.toml`` or ``data/``. Else PathError saying where it looked and how to point at one."""
    env = os.environ.get("REHAB_HOME")
    paths = ProjectPaths.discover(start)
    if env and not paths.root.is_dir():
        raise PathError(f"REHAB_HOME={env}: no such file or folder: set REHAB_HOME to your "
                        "project folder (the one holding rehab.toml or data/)")
    if not (paths.config_file.is_file() or paths.data.is_dir()):
        where = f"REHAB_HOME={env}" if env else f"{paths.root} (or a folder above it)"
        raise PathError(f"not in a rehab project: {where} holds no rehab.toml and no data/ "
                        "folder. cd into your project folder, or set REHAB_HOME to it "
                        "(export REHAB_HOME=/path/to/project); a new project needs only a "
                        "data/raw/ folder with your CSV files")
    return paths


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder, then rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


# --- the project lock and multi-file transactions -------------------------------------------------
#
# Every read-modify-write of a project's stored files (imported tables and their provenance,
# quarantine files, the report cache and index) holds the project lock: two commands at once
# then take turns instead of each reading the old state and the last writer dropping the
# other's rows. A write that touches several files goes through a Transaction, so a process
# killed at any moment leaves them all as they were or all as they are after:
#
# 1. each new file is written under a temporary name beside its target (the journal lists the
#    temporary names first, so a kill while they are written leaves nothing unknown behind);
# 2. the journal is rewritten as *committed*, listing every rename and removal: the commit point;
# 3. the renames and removals are done in that order, then the journal is removed.
#
# Whoever takes the lock next (any command, or load_project when it sees a journal) finishes a
# committed journal (the renames left, each at most once) or, for one not committed, deletes
# its temporary files. The lock is an OS lock (``fcntl.flock`` through ``filelock``): the kernel
# releases it when its process dies, so a killed command never leaves the project locked.

LOCK_NAME = ".rehab.lock"
JOURNAL_NAME = ".rehab-journal.json"
LOCK_TIMEOUT_S = 120.0
_TMP_SUFFIX = ".rehab-txn.tmp"
_held = threading.local()  # per thread: (lock file, pid) -> depth of project_lock calls


class ProjectBusy(PathError):
    """Another command holds the project lock longer than the timeout allowed."""


def lock_file(paths: ProjectPaths) -> Path:
    """``data/processed/.rehab.lock``: git-ignored with ``data/processed``, never read as a log."""
    return paths.processed / LOCK_NAME


def journal_file(paths: ProjectPaths) -> Path:
    return paths.processed / JOURNAL_NAME


def _owner_file(lock: Path) -> Path:
    return lock.with_name(lock.name + ".owner")


def _key(paths: ProjectPaths) -> tuple[str, int]:
    # with the pid: a forked child does not inherit its parent's hold (it waits for the lock)
    return str(lock_file(paths).resolve()), os.getpid()


def holds_lock(paths: ProjectPaths) -> bool:
    """Whether this thread holds the project lock."""
    return getattr(_held, "depth", {}).get(_key(paths), 0) > 0


@contextmanager
def project_lock(paths: ProjectPaths, *, timeout: float | None = None) -> Iterator[Path]:
    """Hold the project's lock for a read-modify-write of its stored files; yields the lock file.

    Waits up to ``timeout`` seconds (default: ``$REHAB_LOCK_TIMEOUT``, else
    :data:`LOCK_TIMEOUT_S`) for another command to finish, then raises :class:`ProjectBusy`
    naming it. Re-entrant within a thread (an import that saves a
    quarantine file takes it once); other threads and processes wait. A worker process started
    while it is held does not hold it (it would wait): take it in the parent around the writes.
    On taking it, the journal of a transaction cut short (a killed command) is finished or
    rolled back first."""
    depth: dict = _held.__dict__.setdefault("depth", {})
    key = _key(paths)
    if depth.get(key, 0):
        depth[key] += 1
        try:
            yield lock_file(paths)
        finally:
            depth[key] -= 1
        return
    import filelock  # only commands that write pay for the import

    if timeout is None:
        timeout = _env_timeout()
    target = lock_file(paths)
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(target, timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise ProjectBusy(_busy_message(target, timeout)) from None
    try:
        atomic_write_text(_owner_file(target), f"{os.getpid()} {time.strftime('%Y-%m-%d %H:%M:%S')} "
                                               f"{' '.join(sys.argv)[:200]}\n")  # fmt: skip
        depth[key] = 1
        _finish_journal(paths)
        yield target
    finally:
        depth[key] = 0
        with suppress(OSError):
            _owner_file(target).unlink()
        lock.release()


def _env_timeout() -> float:
    text = os.environ.get("REHAB_LOCK_TIMEOUT", "")
    if not text.strip():
        return LOCK_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise PathError(f"REHAB_LOCK_TIMEOUT={text!r} is not allowed: use seconds ≥ 0, e.g. 30")
    return value


def _busy_message(lock: Path, timeout: float) -> str:
    try:
        pid, day, clock, *cmd = _owner_file(lock).read_text(encoding="utf-8").split(" ")
        who = f"pid {pid}, since {day} {clock}" + (f": {' '.join(cmd).strip()}" if cmd else "")
    except (OSError, ValueError):
        who = "pid unknown"
    return (f"another rehab command is writing to this project ({who}); waited {timeout:g} s. "
            f"Wait for it to finish and run this again, or remove {lock} if no other rehab "
            "command runs")


def recover(paths: ProjectPaths) -> None:
    """Finish (or roll back) a transaction cut short, if its journal is there: for readers,
    which take no lock otherwise (a cheap check when there is none)."""
    if journal_file(paths).exists():
        with project_lock(paths):  # taking the lock finishes the journal
            pass


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_journal(paths: ProjectPaths, state: str, ops: list[tuple[str, str, str]]) -> None:
    doc = {"state": state, "ops": [list(op) for op in ops]}
    target = journal_file(paths)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(doc), encoding="utf-8")
    if state == "committed":  # the commit point must outlive a crash; a prepared list need not
        _fsync(tmp)
    os.replace(tmp, target)


def _finish_journal(paths: ProjectPaths) -> None:
    """Complete a committed journal's renames and removals, or delete an uncommitted one's
    temporary files; then remove the journal. Each step is idempotent (a second kill is fine)."""
    journal = journal_file(paths)
    if not journal.exists():
        return
    try:
        doc = json.loads(journal.read_text(encoding="utf-8"))
        state, ops = doc["state"], [tuple(op) for op in doc["ops"]]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise PathError(f"{journal}: the journal of an interrupted write cannot be read ({e}); "
                        "check the files under data/ and remove it") from e
    root = paths.root.resolve()
    for op, tmp, target in ops:
        t, f = root / tmp, root / target
        if state == "committed" and op == "replace" and t.exists():
            os.replace(t, f)
        elif state == "committed" and op == "delete" and f.exists():
            f.unlink()
        elif state != "committed" and op == "replace" and t.exists():
            t.unlink()
    journal.unlink()


class Transaction:
    """Several files put in place together (see the comment above :func:`project_lock`).

    ``with Transaction(paths) as txn:`` under :func:`project_lock`; ``txn.stage(target)`` gives
    the temporary path to write ``target``'s new content to, ``txn.delete(target)`` removes a
    file, ``txn.commit()`` puts everything in place in the order given. Leaving the block without
    a commit (an exception) deletes the temporary files and changes nothing."""

    def __init__(self, paths: ProjectPaths) -> None:
        if not holds_lock(paths):
            raise RuntimeError("a Transaction needs the project lock: use `with project_lock(paths)`")
        self.paths = paths
        self._root = paths.root.resolve()
        self._ops: list[tuple[str, str, str]] = []
        self._done = False

    def _rel(self, path: Path) -> str:
        return str(inside(self._root, path).relative_to(self._root))

    def stage(self, target: Path) -> Path:
        """The temporary file (beside ``target``, created folders and all) to write it to."""
        target = inside(self._root, target)
        tmp = target.with_name(f".{target.name}{_TMP_SUFFIX}")
        target.parent.mkdir(parents=True, exist_ok=True)
        self._ops.append(("replace", self._rel(tmp), self._rel(target)))
        _write_journal(self.paths, "prepared", self._ops)  # before the file exists
        return tmp

    def delete(self, target: Path) -> None:
        self._ops.append(("delete", "", self._rel(target)))

    def commit(self) -> None:
        for op, tmp, _ in self._ops:
            if op == "replace":
                _fsync(self._root / tmp)  # the new contents are on disk before the commit point
        if self._ops:
            _write_journal(self.paths, "committed", self._ops)
            _finish_journal(self.paths)
        self._done = True

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, *exc) -> None:
        if not self._done and self._ops:
            with suppress(OSError):
                _finish_journal(self.paths)  # not committed: the temporary files go
