"""Where a project's pages and their cache records live: the data folder a page is made from,
the sidecar beside each page (``.<name>.json``: its fingerprint, participant, month, demo flag,
data folder), whether a page is current, and the pages of data no longer present (moved to
``reports/.stale/``). Writers hold the project lock (:func:`rehab.paths.project_lock`, re-exported
here) around every write of a page, its sidecar and the index."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

from rehab.paths import PathError, ProjectPaths, check_participant, inside, project_lock

__all__ = ["data_folder", "is_current", "move_stale", "project_lock", "source_label",
           "stale_pages"]


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


def source_label(paths: ProjectPaths, source_dir: Path) -> str:
    """The data folder a page is made from, as its sidecar records it: relative to the project
    (``data/raw``, ``data/sample``), else the folder's own path."""
    try:
        return str(Path(source_dir).resolve().relative_to(paths.root.resolve()))
    except ValueError:
        return str(Path(source_dir).resolve())


_MONTH_PAGE = re.compile(r"^(\d{4}-(?:0[1-9]|1[0-2]))\.html$")
STALE_DIR = ".stale"  # reports/.stale/<time>/: pages of data no longer present, moved aside
COMPARE_DIR = "compare"


def _page_files(page: Path) -> list[Path]:
    """A monthly page and what belongs to it: its sidecar, its summary (``<YYYY-MM>.json``) and
    its PDF (``rehab report --pdf``)."""
    return [f for f in (page, _sidecar(page), page.with_suffix(".json"),
                        page.with_suffix(".pdf")) if f.exists()]


def stale_pages(paths: ProjectPaths, current: set[tuple[str, str]], source: str) -> list[Path]:
    """Monthly pages under ``reports/`` that the current data no longer make: a person or month
    not in ``current`` (participant, month), or a page whose sidecar names another data folder
    than ``source``."""
    found: list[Path] = []
    if not paths.reports.is_dir():
        return found
    for folder in sorted(paths.reports.iterdir()):
        if not folder.is_dir() or folder.name in (COMPARE_DIR, STALE_DIR):
            continue
        try:
            check_participant(folder.name)
        except PathError:
            continue
        for f in sorted(folder.iterdir()):
            m = _MONTH_PAGE.match(f.name)
            if not m:
                continue
            was = _read_sidecar(f).get("source")
            if (folder.name, m.group(1)) not in current or (was is not None and was != source):
                found.append(f)
    return found


def move_stale(
    paths: ProjectPaths, current: set[tuple[str, str]], source: str
) -> tuple[list[str], Path | None]:
    """Move :func:`stale_pages` (with their sidecars and summaries) to
    ``reports/.stale/<YYYYmmdd-HHMMSS>/``, keeping their folders; a person's folder left with
    nothing but files of theirs that no longer exist goes too. Returns the moved pages (relative
    to ``reports/``) and the folder they went to. Call it holding the project lock."""
    pages = stale_pages(paths, current, source)
    if not pages:
        return [], None
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    dest = inside(paths.reports, paths.reports / STALE_DIR / stamp)
    people_now = {p for p, _ in current}
    moved: list[str] = []
    for page in pages:
        rel = page.relative_to(paths.reports)
        for f in _page_files(page):
            to = dest / f.relative_to(paths.reports)
            to.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(f), str(to))
        moved.append(str(rel))
    for folder in {p.parent for p in pages}:
        # a person no longer in the data: whatever else their folder holds (a whole-course
        # page) is theirs and stale too
        if folder.name not in people_now and folder.is_dir():
            for f in sorted(folder.rglob("*")):
                if f.is_file():
                    to = dest / f.relative_to(paths.reports)
                    to.parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(str(f), str(to))
            shutil.rmtree(folder, ignore_errors=True)
    return moved, dest
