"""Where a project's pages and their cache records live: the data folder a page is made from,
the sidecar beside each page (``.<name>.json``: its fingerprint, participant, month, demo flag) and
whether a page is current."""

from __future__ import annotations

import json
from pathlib import Path

from rehab.paths import PathError, ProjectPaths, inside


def data_folder(paths: ProjectPaths, data_dir: str | Path | None) -> Path | None:
    """``data_dir`` resolved against the project folder (not the working folder), or None when
    empty. PathError when it lies outside the project or does not exist."""
    if not data_dir:
        return None
    d = Path(data_dir)
    d = d if d.is_absolute() else paths.root / d
    try:
        d = inside(paths.root, d)
    except PathError:
        raise PathError(f"data folder {data_dir} lies outside the project {paths.root}: give a "
                        "folder inside it") from None
    if not d.is_dir():
        raise PathError(f"data folder {d} does not exist")
    return d


def _input_dir(paths: ProjectPaths, data_dir: str | Path | None) -> tuple[Path, bool]:
    d = data_folder(paths, data_dir)
    if d is not None:
        return d, d == paths.sample.resolve()
    return paths.input_dir()


def _paths(root) -> ProjectPaths:
    return ProjectPaths(Path(root).resolve()) if root else ProjectPaths.discover()


def _sidecar(report: Path) -> Path:
    return report.with_name(f".{report.stem}.json")


def _read_sidecar(report: Path) -> dict:
    try:
        return json.loads(_sidecar(report).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def is_current(report: Path, fingerprint: str) -> bool:
    """The report exists and was made from exactly these inputs."""
    return report.is_file() and _read_sidecar(report).get("fingerprint") == fingerprint
