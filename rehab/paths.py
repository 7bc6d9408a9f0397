"""Where things live in a project folder, and the guard that keeps paths inside it."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from rehab.schema import PARTICIPANT_PATTERN, PARTICIPANT_RULE

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
