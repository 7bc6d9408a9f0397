"""Render monthly reports: papermill runs the template, nbconvert writes one self-contained page.

``reports/<participant>/<YYYY-MM>.html`` per participant and month, and ``reports/index.html``
linking every report. A report holds no code cells, loads nothing from the network (charts are
inline SVG, the page template carries no CDN scripts, and :func:`offline_problems` refuses any
remote ``src``/``href``/``url()`` before a file is written) and is written atomically inside
``reports/`` only.

Caching: beside each report, ``reports/<participant>/.<YYYY-MM>.json`` records a fingerprint of
what the report is made from (the bytes of every input log file and ``rehab.toml``, the template,
the kit's version and report modules, the parameters). A report whose fingerprint is unchanged is
skipped unless ``force``.

papermill only warns on a parameter the template does not declare; here an unknown or a missing
parameter (checked against the template's ``parameters`` cell) is an error.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import hashlib
import importlib
import json
import multiprocessing
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import rehab
from rehab.paths import ProjectPaths, atomic_write_text, check_month, check_participant, inside
from rehab.report import ReportError
from rehab.report.files import _input_dir, _paths, _sidecar, data_folder, is_current
from rehab.report.index import write_index
from rehab.report.page import export_html, offline_problems

TEMPLATE_NAME = "monthly-report.ipynb"
KIT_TEMPLATE = Path(__file__).resolve().parents[2] / "notebooks" / "templates" / TEMPLATE_NAME
KERNEL = "python3"
CELL_TIMEOUT_S = 600
STATUSES = ("ok", "skipped", "failed")
# The modules that make a report's content: an edit to one re-renders (in a development install the
# version stays put). Other kit changes need --force.
REPORT_MODULES = ("report/*.py", "features.py", "plots.py", "adherence.py")

__all__ = [
    "BatchResult",
    "MonthOutcome",
    "base_fingerprint",
    "check_parameters",
    "execute_template",
    "plan",
    "render_all",
    "render_month",
    "summary_from_notebook",
    "report_fingerprint",
    "template_parameters",
    "template_path",
]


@dataclass(frozen=True)
class MonthOutcome:
    """What happened to one participant × month: ok, skipped (unchanged) or failed."""

    participant: str
    month: str
    status: str
    path: str | None = None
    cell: str | None = None  # the failing cell: its section heading and first line
    error: str | None = None
    seconds: float = 0.0

    def describe(self) -> str:
        where = f"{self.participant} {self.month}"
        if self.status == "failed":
            return f"{where}: failed in {self.cell or 'setup'}: {self.error}"
        return f"{where}: {self.status} ({self.path})"


@dataclass(frozen=True)
class BatchResult:
    """Every month's outcome, and the index page written."""

    outcomes: tuple[MonthOutcome, ...]
    index: Path | None = None
    seconds: float = 0.0

    def _with(self, status: str) -> list[MonthOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def ok(self) -> list[MonthOutcome]:
        return self._with("ok")

    @property
    def skipped(self) -> list[MonthOutcome]:
        return self._with("skipped")

    @property
    def failed(self) -> list[MonthOutcome]:
        return self._with("failed")

    @property
    def exit_code(self) -> int:
        """0 when nothing failed, 1 when any month failed."""
        return 1 if self.failed else 0

    def summary(self) -> str:
        return (f"{len(self.ok)} rendered, {len(self.skipped)} unchanged (skipped), "
                f"{len(self.failed)} failed")


class _CellFailure(Exception):
    def __init__(self, cell: str, error: str):
        super().__init__(f"{cell}: {error}")
        self.cell, self.error = cell, error


# --- the template and its parameters -------------------------------------------------------------


def template_path(paths: ProjectPaths, name: str = TEMPLATE_NAME) -> Path:
    """The project's own ``notebooks/templates/<name>`` (default ``monthly-report.ipynb``) if
    there is one, else the kit's."""
    own = paths.root / "notebooks" / "templates" / name
    kit = KIT_TEMPLATE.parent / name
    if own.is_file():
        return own
    if kit.is_file():
        return kit
    raise ReportError(f"the report template {name} was found neither in {own.parent} nor "
                      f"in {kit.parent}")


def template_parameters(template: Path) -> dict[str, dict]:
    """The parameters declared in the template's cell tagged ``parameters`` (papermill's parser)."""
    _quick_jsonschema()
    import papermill

    return dict(papermill.inspect_notebook(str(template)))


def check_parameters(template: Path, params: dict) -> None:
    """ReportError unless ``params`` names exactly the template's parameters."""
    declared = template_parameters(template)
    if not declared:
        raise ReportError(f"{template}: no cell tagged 'parameters' declares the report's "
                          "parameters")
    unknown = sorted(set(params) - set(declared))
    missing = sorted(set(declared) - set(params))
    if unknown or missing:
        msg = [f"{template.name}: parameters do not match the template's parameters cell"]
        if unknown:
            msg.append(f"unknown: {', '.join(unknown)}")
        if missing:
            msg.append(f"missing: {', '.join(missing)}")
        msg.append(f"declared: {', '.join(declared)}")
        raise ReportError("; ".join(msg))


# --- fingerprints -------------------------------------------------------------------------------


def base_fingerprint(
    paths: ProjectPaths, template: Path, data_dir: str | Path | None = None
) -> str:
    """Hash of what every report of a project is made from: input logs, rehab.toml, template, the
    kit's version and its report modules (:data:`REPORT_MODULES`). Per-report parameters are
    added by :func:`report_fingerprint`."""
    from rehab.io import log_files

    h = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        h.update(label.encode() + b"\0" + hashlib.sha256(data).digest())

    src, _ = _input_dir(paths, data_dir)
    for f, _spec in log_files(src) if src.is_dir() else []:
        add(f"input:{f.relative_to(src)}", f.read_bytes())
    if paths.config_file.is_file():
        add("config", paths.config_file.read_bytes())
    add("template", template.read_bytes())
    add("version", rehab.__version__.encode())
    pkg = Path(rehab.__file__).resolve().parent
    for pattern in REPORT_MODULES:
        for f in sorted(pkg.glob(pattern)):
            add(f"kit:{f.relative_to(pkg)}", f.read_bytes())
    return h.hexdigest()


def report_fingerprint(base: str, params: dict) -> str:
    return hashlib.sha256((base + json.dumps(params, sort_keys=True)).encode()).hexdigest()


# --- rendering ----------------------------------------------------------------------------------


def _params(paths: ProjectPaths, participant: str, month: str, data_dir) -> dict:
    return {"participant": participant, "month": month, "project_dir": str(paths.root),
            "data_dir": str(data_dir or "")}


def _cell_name(template: Path, source: str) -> str:
    """'section “Endurance tests”, cell 7: report.endurance()' for a failing cell's source (the
    cell's last line: where a short cell's error usually is)."""
    import nbformat

    nb = nbformat.read(template, as_version=4)
    heading = None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            m = re.search(r"^#+\s*(.+)$", cell.source, re.MULTILINE)
            heading = m.group(1).strip() if m else heading
        elif cell.source.strip() == (source or "").strip():
            last = cell.source.strip().splitlines()[-1].strip() if cell.source.strip() else ""
            where = f"section “{heading}”, " if heading else ""
            return f"{where}cell {i + 1}: {last}"
    lines = (source or "").strip().splitlines()
    return f"cell: {lines[-1].strip() if lines else '(empty)'}"


def _quick_jsonschema() -> None:
    """Skip a grammar compiled at import that no notebook needs (see :mod:`rehab._quick_imports`)."""
    from rehab import _quick_imports

    _quick_imports.skip_iri_grammar()


# The kernel's own log (a loopback-TCP warning at start, a "KeyboardInterrupt caught" when
# jupyter_client interrupts it at shutdown) is noise on the user's terminal; a failing cell is
# reported from the notebook, a dead kernel by jupyter_client.
KERNEL_ARGS = ["--IPKernelApp.log_level=CRITICAL"]


def _start_kernel(cwd: Path):
    """Launch the kernel at once: it starts up (about 0.5 s) while papermill is imported and
    the notebook prepared, instead of after."""
    import asyncio

    from jupyter_client.manager import AsyncKernelManager

    km = AsyncKernelManager(kernel_name=KERNEL)
    asyncio.run(km.start_kernel(cwd=str(cwd), extra_arguments=KERNEL_ARGS))
    return km


def _stop_kernel(km) -> None:
    import asyncio

    if km.has_kernel:
        asyncio.run(km.shutdown_kernel(now=True))


def _execute(template: Path, params: dict, cwd: Path):
    _quick_jsonschema()
    km = _start_kernel(cwd)
    try:
        return _execute_on(km, template, params, cwd)
    finally:
        _stop_kernel(km)


def _execute_on(km, template: Path, params: dict, cwd: Path):
    import papermill
    from papermill.exceptions import PapermillExecutionError

    check_parameters(template, params)
    # The page exporter's imports (about 0.3 s) happen while the kernel runs the first cell
    # (started earlier, they would hold up the kernel's launch).
    started: list[threading.Thread] = []

    def import_exporter(**_) -> None:
        if not started:
            started.append(threading.Thread(target=importlib.import_module,
                                            args=("nbconvert.exporters.html",), daemon=True))
            started[0].start()

    try:
        return papermill.execute_notebook(
            str(template), None, parameters=params, kernel_name=KERNEL, progress_bar=False,
            log_output=False, cwd=str(cwd), execution_timeout=CELL_TIMEOUT_S,
            km=km, extra_arguments=KERNEL_ARGS, on_cell_execute=import_exporter,
        )
    except PapermillExecutionError as e:
        evalue = re.sub(r"\x1b\[[0-9;]*m", "", str(e.evalue))
        raise _CellFailure(_cell_name(template, e.source), f"{e.ename}: {evalue}") from None


def execute_template(template: Path, params: dict, cwd: Path):
    """Run any report template with papermill (parameters checked against its ``parameters``
    cell) and return the executed notebook; a failing cell raises :class:`ReportError` naming it.
    (Used by the comparison report, :mod:`rehab.report.comparison`.)"""
    try:
        return _execute(template, params, cwd)
    except _CellFailure as e:
        raise ReportError(f"{template.name}: failed in {e.cell}: {e.error}") from None


def summary_from_notebook(nb) -> dict | None:
    """The month's summary an executed template displayed (an ``application/json`` output with
    metadata ``{"rehab": "summary"}``, :meth:`rehab.report.monthly.MonthReport.summary_output`),
    or None when it displayed none."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data") or {}
            if (out.get("metadata") or {}).get("rehab") == "summary" and "application/json" in data:
                found = data["application/json"]
                return dict(found) if isinstance(found, dict) else json.loads(found)
    return None


def _render(paths: ProjectPaths, participant: str, month: str, *, fingerprint: str,
            data_dir=None, template: Path | None = None) -> Path:
    template = template or template_path(paths)
    target = paths.report_path(participant, month)
    _, demo = _input_dir(paths, data_dir)
    nb = _execute(template, _params(paths, participant, month, data_dir), paths.root)
    page = export_html(nb, title=f"{participant} {month} — rehab monthly report")
    problems = offline_problems(page)
    if problems:
        raise _CellFailure("export", "the page would load from the network or run scripts: "
                           + ", ".join(sorted(set(problems))[:5]))
    atomic_write_text(target, page)
    summary = summary_from_notebook(nb)  # the month's JSON twin, beside the page
    if summary is not None:
        atomic_write_text(target.with_suffix(".json"), json.dumps(summary, indent=1) + "\n")
    meta = {"fingerprint": fingerprint, "participant": participant, "month": month, "demo": demo,
            "rendered": dt.datetime.now().isoformat(timespec="seconds"),
            "rehab": rehab.__version__}
    atomic_write_text(inside(paths.reports, _sidecar(target)), json.dumps(meta, indent=1) + "\n")
    return target


def _job(root: str, participant: str, month: str, fingerprint: str, data_dir) -> MonthOutcome:
    """Render one month and say how it went (runs in a worker process; never raises)."""
    t0 = time.perf_counter()
    paths = ProjectPaths(Path(root))
    try:
        path = _render(paths, participant, month, fingerprint=fingerprint, data_dir=data_dir)
    except _CellFailure as e:
        return MonthOutcome(participant, month, "failed", cell=e.cell, error=e.error,
                            seconds=time.perf_counter() - t0)
    except Exception as e:  # a kernel that does not start, a full disk: report it, go on
        return MonthOutcome(participant, month, "failed", cell="setup",
                            error=f"{type(e).__name__}: {e}", seconds=time.perf_counter() - t0)
    return MonthOutcome(participant, month, "ok", path=str(path), seconds=time.perf_counter() - t0)


def render_month(
    participant: str, month: str, *, root: str | Path | None = None, force: bool = False,
    data_dir: str | Path | None = None,
) -> Path:
    """Render one report to ``reports/<participant>/<month>.html`` (skipped if unchanged) and
    return its path. A failing cell raises :class:`ReportError` naming the cell and the error."""
    check_participant(participant)
    check_month(month)
    paths = _paths(root)
    template = template_path(paths)
    fp = report_fingerprint(base_fingerprint(paths, template, data_dir),
                            _params(paths, participant, month, data_dir))
    target = paths.report_path(participant, month)
    if not force and is_current(target, fp):
        return target
    try:
        return _render(paths, participant, month, fingerprint=fp, data_dir=data_dir,
                       template=template)
    except _CellFailure as e:
        raise ReportError(f"{participant} {month}: failed in {e.cell}: {e.error}") from None


def plan(
    *, root: str | Path | None = None, participants: Iterable[str] | None = None,
    months: Iterable[str] | None = None, data_dir: str | Path | None = None,
) -> tuple[list[tuple[str, str]], bool]:
    """The participant × month pairs that have data (every month with any record), filtered by
    ``participants`` and ``months``, and whether the input is the demo data. ReportError when a
    requested participant or month has no data."""
    from rehab.features import data_months
    from rehab.io import load_project

    paths = _paths(root)
    ds = load_project(paths.root, source=data_folder(paths, data_dir))
    wanted_p = [check_participant(p) for p in participants] if participants else None
    wanted_m = [check_month(m) for m in months] if months else None
    for p in wanted_p or []:
        if p not in ds.participants:
            raise ReportError(f"participant {p!r} has no records in {ds.source_dir} (participants "
                              f"found: {', '.join(ds.participants) or 'none'})")
    pairs = []
    for p in wanted_p or ds.participants:
        have = data_months(ds.sessions, ds.diary, ds.tests, participant=p)
        pairs += [(p, m) for m in have if wanted_m is None or m in wanted_m]
    if not pairs:
        who = ", ".join(wanted_p) if wanted_p else "anyone"
        when = f" in {', '.join(wanted_m)}" if wanted_m else ""
        raise ReportError(f"no records for {who}{when} in {ds.source_dir}: nothing to report")
    return pairs, ds.is_demo


def render_all(
    *,
    root: str | Path | None = None,
    jobs: int = 2,
    force: bool = False,
    progress: Callable[[MonthOutcome, int, int], None] | None = None,
    participants: Iterable[str] | None = None,
    months: Iterable[str] | None = None,
    data_dir: str | Path | None = None,
) -> BatchResult:
    """Render every participant × month with data (or those asked for) with ``jobs`` worker
    processes, skipping unchanged reports unless ``force``; then write the index.

    A failing month is recorded (cell and error) and the others go on. ``progress(outcome, done,
    total)`` is called as each month finishes."""
    if not isinstance(jobs, int) or not 1 <= jobs <= 64:
        raise ValueError(f"jobs={jobs!r} is not allowed: give a whole number from 1 to 64")
    t0 = time.perf_counter()
    paths = _paths(root)
    template = template_path(paths)
    pairs, _ = plan(root=paths.root, participants=participants, months=months, data_dir=data_dir)
    base = base_fingerprint(paths, template, data_dir)
    outcomes: list[MonthOutcome] = []
    todo = []
    total = len(pairs)
    for p, m in pairs:
        fp = report_fingerprint(base, _params(paths, p, m, data_dir))
        target = paths.report_path(p, m)
        if not force and is_current(target, fp):
            outcomes.append(MonthOutcome(p, m, "skipped", path=str(target)))
            if progress:
                progress(outcomes[-1], len(outcomes), total)
        else:
            todo.append((str(paths.root), p, m, fp, str(data_dir) if data_dir else None))
    if len(todo) <= 1 or jobs == 1:
        for args in todo:
            outcomes.append(_job(*args))
            if progress:
                progress(outcomes[-1], len(outcomes), total)
    else:
        # spawned, not forked: a fork copies polars' (and any other) busy threads' locks, and a
        # forked worker can hang on them
        spawn = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=spawn) as pool:
            futures = [pool.submit(_job, *args) for args in todo]
            for fut in cf.as_completed(futures):
                outcomes.append(fut.result())
                if progress:
                    progress(outcomes[-1], len(outcomes), total)
    order = {pm: i for i, pm in enumerate(pairs)}
    outcomes.sort(key=lambda o: order[(o.participant, o.month)])
    index = write_index(root=paths.root, failed=[o for o in outcomes if o.status == "failed"],
                        data_dir=data_dir)
    return BatchResult(tuple(outcomes), index, time.perf_counter() - t0)


