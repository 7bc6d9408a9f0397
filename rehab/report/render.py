"""Render monthly reports: papermill parameters, a kept kernel per worker, one self-contained page.

``reports/<participant>/<YYYY-MM>.html`` per participant and month, and ``reports/index.html``
linking every report. A report holds no code cells, loads nothing from the network (charts are
inline SVG, the page template carries no CDN scripts, and :func:`offline_problems` refuses any
remote ``src``/``href``/``url()`` before a file is written) and is written atomically inside
``reports/`` only.

Caching: beside each report, ``reports/<participant>/.<YYYY-MM>.json`` (the sidecar) records the
page's fingerprint and the data folder it was made from. The fingerprint covers what the page
reads: that person's records of every table up to the month's last day (and how far they go,
up to the end of the month's last week), their phases, the data-quality counts the page shows, ``rehab.toml``, the protocols
(built-in and the project's ``protocols/*.toml``), the template and the kit's modules and
version. A new line for one person in one month therefore re-renders that month and that
person's later months, nothing else. A page whose fingerprint is unchanged is skipped unless
``force``. A person's whole-course page (``reports/<participant>/index.html``, its sidecar
``.index.json``) has a fingerprint of its own (:func:`course_fingerprints`): all of that
person's records and the same settings, and the "no log for N days" flag as of today; it is
written again when that changes or a month page of theirs appears, not when a month page is
forced. Pages of a data source or a person/month no longer there are moved to
``reports/.stale/`` by :func:`render_all`.

Warm kernels: a batch of ``jobs`` runs ``jobs`` Jupyter kernels, each kept for all the pages it
is given (started and warmed once: imports, the chart converter's engine) and reset between
pages (every name the page defined goes; imported modules stay). One thread of this process
drives each kernel and exports its pages; the work of a page runs in its kernel's process, so
``jobs`` kernels use ``jobs`` cores. The kernels also write the whole-course pages and the index
(they have the report modules imported and the project read; this process then never imports
the charts' stack; with nothing to render, a kept kernel still writes the index). A page that
fails or runs past ``page_timeout`` seconds is reported and,
when it hung or its kernel died, the kernel is replaced; the other pages go on. A kernel is
also replaced after :data:`RECYCLE_PAGES` pages, so memory stays bounded however long the
batch. After the batch the kernels wait ``keep`` idle seconds for the next command
(:class:`rehab.report.kernels.Kernel`), which then starts at once. A command's first kernel is
attached or started before the data are read: a new one boots and warms up meanwhile.

papermill's parameter injection is used as is; an unknown or a missing parameter (checked against
the template's ``parameters`` cell) is an error here (papermill only warns).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import rehab
from rehab import _quick_imports
from rehab.paths import ProjectPaths, atomic_write_text, check_month, check_participant, inside
from rehab.report import ReportError
from rehab.report.files import (
    _paths,
    _read_sidecar,
    _sidecar,
    data_folder,
    is_current,
    move_stale,
    project_lock,
    source_label,
)
from rehab.report.index import write_index
from rehab.report.kernels import (
    PAGE_TIMEOUT_S,
    Kernel,
    _CellFailure,
    check_parameters,
    execute_template,
    keep_seconds,
    kit_digest,
    template_parameters,
    template_path,
)
from rehab.report.page import export_html, offline_problems, warm_export

STATUSES = ("ok", "skipped", "failed")
TABLES = ("sessions", "diary", "tests", "questionnaires")  # dated tables, read up to a month end

__all__ = [
    "BatchResult",
    "MonthOutcome",
    "check_parameters",
    "course_fingerprints",
    "execute_template",
    "page_fingerprints",
    "plan",
    "render_all",
    "render_month",
    "settings_fingerprint",
    "summary_from_notebook",
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
    """Every month's outcome, the index page written and the stale pages moved aside."""

    outcomes: tuple[MonthOutcome, ...]
    index: Path | None = None
    seconds: float = 0.0
    stale: tuple[str, ...] = ()  # pages moved to reports/.stale/ (paths relative to reports/)
    stale_dir: Path | None = None

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
        text = (f"{len(self.ok)} rendered, {len(self.skipped)} unchanged (skipped), "
                f"{len(self.failed)} failed")
        if self.stale:
            text += (f"; {len(self.stale)} page(s) of data no longer present moved to "
                     f"{self.stale_dir}")
        return text


# --- fingerprints ----------------------------------------------------------------------------------


def settings_fingerprint(paths: ProjectPaths, template: Path) -> str:
    """Hash of what every page of a project is made from besides its person's records:
    ``rehab.toml``, the project's ``protocols/*.toml``, the template, the kit's version, its
    modules and built-in protocols (:func:`rehab.report.kernels.kit_digest`), and polars'
    version (row hashes are polars')."""
    import polars as pl

    h = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        h.update(label.encode() + b"\0" + hashlib.sha256(data).digest())

    add("config", paths.config_file.read_bytes() if paths.config_file.is_file() else b"")
    if paths.protocols.is_dir():
        for f in sorted(paths.protocols.glob("*.toml")):
            add(f"protocol:{f.name}", f.read_bytes())
    add("template", template.read_bytes())
    add("version", f"{rehab.__version__} polars {pl.__version__}".encode())
    add("kit", kit_digest().encode())
    return h.hexdigest()


def _month_digests(df, kind: str, *, spill: bool = False) -> dict[tuple[str, str], bytes]:
    """Per (participant, month): a digest of that month's rows of one table, whatever their order
    in the files (each row hashed over every column, the hashes sorted).

    With ``spill``: of the rows dated after a month's end but in the week (Monday to Sunday)
    holding its last day, keyed by that month. A page counts its last week's training days
    whole, so those days of the next month are part of what it reads."""
    import numpy as np
    import polars as pl

    if df is None or df.height == 0:
        return {}
    month = pl.col("date")
    if spill:
        last = pl.col("date").dt.month_start().dt.offset_by("-1d")  # the month before's last day
        df = df.filter(pl.col("date") <= last + pl.duration(days=7 - last.dt.weekday()))
        if df.height == 0:
            return {}
        month = last
    hashes = df.select(sorted(df.columns)).hash_rows(seed=0)
    keyed = pl.DataFrame({"p": df["participant"], "m": df.select(month.dt.strftime("%Y-%m"))
                          .to_series(), "h": hashes})
    groups = keyed.group_by("p", "m").agg(pl.col("h").sort())
    head = f"{kind}:{','.join(sorted(df.columns))}".encode()
    return {(p, m): hashlib.sha256(head + np.asarray(h, dtype=np.uint64).tobytes()).digest()
            for p, m, h in groups.iter_rows()}


def page_fingerprints(
    ds, pairs: Iterable[tuple[str, str]], settings: str, *, source: str, extra: dict | None = None,
) -> dict[tuple[str, str], str]:
    """Each page's fingerprint: ``settings`` (:func:`settings_fingerprint`), the data folder,
    the data-quality counts a page shows (that person's share of each file: records,
    quarantined, whose unknown, duplicates: :meth:`rehab.io.Dataset.data_quality`), the
    person's phases, the person's rows of
    every dated table up to the month's last day, their sessions in the rest of its last week
    (counted whole on the page), and the day their logs end as seen from that month: up to
    :func:`rehab.adherence.month_horizon` (a later record makes the whole month "logged" and
    its last week over), with their last record on or before it (the summary's
    ``last_record``). ``ds`` is a :class:`rehab.io.Dataset` loaded once for the batch."""
    from rehab.adherence import month_horizon

    pairs = list(pairs)
    common = hashlib.sha256(f"{settings}\0{source}\0{json.dumps(extra or {}, sort_keys=True)}"
                            .encode())
    # each person's share of the files, as a page shows it: whether a file holds their records
    # (not how many: every new line would change every page of theirs), and its problems
    quality: dict[str, list] = {}
    for who, path, records, *problems in ds.data_quality().iter_rows():
        quality.setdefault(who, []).append([path, records > 0, *problems])
    common.update(json.dumps(list(ds.warnings)).encode())
    digests: dict[str, dict[tuple[str, str], bytes]] = {
        kind: _month_digests(getattr(ds, kind, None), kind) for kind in TABLES}
    # sessions only: a month's last week is counted whole in training days, not in pain or tests
    spill = _month_digests(ds.sessions, "sessions", spill=True)
    phases = ds.phases.sort(ds.phases.columns) if ds.phases.height else ds.phases
    by_person: dict[str, list[str]] = {}
    for p, m in pairs:
        by_person.setdefault(p, []).append(m)
    months_of: dict[str, set[str]] = {}  # each person's months with rows, any table
    for d in digests.values():
        for q, m in d:
            months_of.setdefault(q, set()).add(m)
    phase_rows: dict[str, list] = {}
    for row in phases.iter_rows(named=True):
        phase_rows.setdefault(row["participant"], []).append(list(row.values()))
    out: dict[tuple[str, str], str] = {}
    for p, wanted in by_person.items():
        h = common.copy()
        h.update(json.dumps(phase_rows.get(p, []), default=str).encode())
        h.update(json.dumps(quality.get(p, [])).encode())
        months = sorted(months_of.get(p, set()) | set(wanted))
        wanted_set = set(wanted)
        for m in months:
            h.update(m.encode())
            for kind in TABLES:
                h.update(digests[kind].get((p, m), b"-"))
            if m in wanted_set:
                page = h.copy()
                page.update(spill.get((p, m), b"-"))
                end, horizon = ds.last_record(p), month_horizon(m)
                page.update(f"{min(end, horizon) if end else None}"
                            f"{ds.last_record(p, horizon)}".encode())
                out[(p, m)] = page.hexdigest()
    return out


def course_fingerprints(page_fps: dict[tuple[str, str], str], last_month: dict[str, str],
                        last_log: dict[str, dt.date], *,
                        today: dt.date | None = None) -> dict[str, str]:
    """The whole-course page fingerprint of each person in ``last_month`` (their last month with
    data): that month page's fingerprint in ``page_fps`` (which covers all their records, the
    settings, the data folder and the kit) and the "no log for N days" flag as of ``today``
    from their ``last_log`` date, the one thing on the page that changes with the date alone
    (so a quiet person's page is brought up to date once a day, and only while the flag
    shows)."""
    from rehab.features import quiet_days

    today = today or dt.date.today()
    return {p: hashlib.sha256(f"course\0{page_fps[(p, m)]}\0{quiet_days(last_log[p], today)}"
                              .encode()).hexdigest()
            for p, m in last_month.items()}


# --- one page --------------------------------------------------------------------------------------


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


def _params(paths: ProjectPaths, participant: str, month: str, data_dir) -> dict:
    return {"participant": participant, "month": month, "project_dir": str(paths.root),
            "data_dir": str(data_dir or "")}


@dataclass(frozen=True)
class _Page:
    """What a worker needs to render one page (picklable)."""

    root: str
    participant: str
    month: str
    fingerprint: str
    data_dir: str | None
    template: str
    source: str
    demo: bool
    timeout: float = PAGE_TIMEOUT_S


def _render(page: _Page, kernel: Kernel, started=None) -> Path:
    """Execute, export and write one page with its sidecar (under the project lock).
    ``started()`` is called when the page starts running on the kernel."""
    paths = ProjectPaths(Path(page.root))
    template = Path(page.template)
    target = paths.report_path(page.participant, page.month)
    nb = kernel.run(template, _params(paths, page.participant, page.month, page.data_dir),
                    timeout=page.timeout, started=started)
    html = export_html(nb, title=f"{page.participant} {page.month} — rehab monthly report")
    problems = offline_problems(html)
    if problems:
        raise _CellFailure("export", "the page would load from the network or run scripts: "
                           + ", ".join(sorted(set(problems))[:5]))
    meta = {"fingerprint": page.fingerprint, "participant": page.participant,
            "month": page.month, "demo": page.demo, "source": page.source,
            "rendered": dt.datetime.now().isoformat(timespec="seconds"),
            "rehab": rehab.__version__}
    with project_lock(paths):
        atomic_write_text(target, html)
        summary = summary_from_notebook(nb)  # the month's JSON twin, beside the page
        if summary is not None:
            atomic_write_text(target.with_suffix(".json"), json.dumps(summary, indent=1) + "\n")
        atomic_write_text(inside(paths.reports, _sidecar(target)),
                          json.dumps(meta, indent=1) + "\n")
    return target


def _render_one(page: _Page, kernel: Kernel, started=None) -> MonthOutcome:
    """Render one page and say how it went (never raises)."""
    t0 = time.perf_counter()
    try:
        path = _render(page, kernel, started)
    except _CellFailure as e:
        return MonthOutcome(page.participant, page.month, "failed", cell=e.cell, error=e.error,
                            seconds=time.perf_counter() - t0)
    except Exception as e:  # a kernel that does not start, a full disk: report it, go on
        return MonthOutcome(page.participant, page.month, "failed", cell="setup",
                            error=f"{type(e).__name__}: {e}", seconds=time.perf_counter() - t0)
    return MonthOutcome(page.participant, page.month, "ok", path=str(path),
                        seconds=time.perf_counter() - t0)


@dataclass(frozen=True)
class _Course:
    """A whole-course page to write on a kernel."""

    root: str
    participant: str
    data_dir: str | None
    fingerprint: str | None
    timeout: float = PAGE_TIMEOUT_S


def _course_on(job: _Course, kernel: Kernel, done) -> None:
    """Send one whole-course page to ``kernel`` (which has the report modules imported and,
    after a page, the data read) and go on; ``done`` gets its failure when it fails. No
    project lock: the page and its sidecar are each written whole (atomically), and what the
    sidecar says (participant, data folder) is the same whichever command writes last."""
    t0 = time.perf_counter()
    code = ("from rehab.report.course import write_course\n"
            f"write_course({job.root!r}, {job.participant!r}, data_dir={job.data_dir!r}, "
            f"fingerprint={job.fingerprint!r})\n")

    def finished(error: str | None) -> None:
        if error is not None:
            done(MonthOutcome(job.participant, "whole course", "failed", cell="course page",
                              error=error, seconds=time.perf_counter() - t0))

    try:
        kernel.submit(code, "its course page", finished, timeout=job.timeout)
    except Exception as e:  # noqa: BLE001 - a dead kernel: reported, the rest go on
        finished(f"{type(e).__name__}: {e}")


def _run_pages(root: Path, todo: list, jobs: int, done, kernels: list[Kernel],
               keep: float | None = None) -> None:
    """Render ``todo`` (monthly pages and whole-course pages) on ``jobs`` kernels, each driven by
    a thread of this process that takes the next job as soon as its kernel is free. The kernels
    in ``kernels`` (started while the batch was planned, or by an earlier call) are used first;
    those started here are added to it. ``done`` gets each month's outcome and each failed
    course page."""
    pending = list(reversed(todo))
    take = threading.Lock()
    n = min(jobs, len(todo))
    # a kernel is started for each month page up to ``jobs``, and for every five course pages
    # of a batch of course pages only; a thread beyond those (for a course page beside a day's
    # one new month) uses a kept kernel or none: starting one (about 1.5 s) would take longer
    # than the course pages (0.3 s each) after the others on the first kernel
    pages = sum(isinstance(job, _Page) for job in todo)
    cold = min(n, max(1, pages or len(todo) // 5))
    errors: list[BaseException] = []

    # Modules every thread imports, imported here first: two threads importing jupyter_client
    # (or nbformat) at once can hit a circular import and fail with _DeadlockError (papermill,
    # which only month pages need, is imported under a lock: rehab.report.kernels).
    _quick_imports.skip_iri_grammar()
    import jupyter_client.manager  # noqa: F401
    import nbclient  # noqa: F401

    # Each thread's kernel, attached or started here before any thread runs, the month pages'
    # threads first: an extra thread only gets a kept kernel no page thread took.
    given = list(kernels)
    for i in range(len(given), n):
        try:
            kernel = Kernel(root, keep=keep, start=i < cold)
        except Exception:  # noqa: BLE001 - its thread tries again and reports it with a job
            break
        if kernel.km is None:  # no kept kernel left for an extra thread
            kernel.close()
            break
        kernels.append(kernel)
        given.append(kernel)

    def reported(outcome: MonthOutcome) -> None:
        with take:
            done(outcome)

    def drive(i: int) -> None:
        # An exporter for each thread with pages, made while its first page runs: this process
        # is idle then (made while a new kernel started, it slowed the kernel's imports down)
        warm = warm_export
        try:
            kernel = given[i] if i < len(given) else None
            if kernel is None and i >= cold:  # an extra thread without a kept kernel
                return
            while True:
                with take:
                    job = pending.pop() if pending else None
                if job is None:
                    if kernel is not None:  # a course page sent last (its failure is done()'s)
                        with contextlib.suppress(_CellFailure):
                            kernel.settle()
                    return
                if kernel is None:  # started when there is a job for it
                    try:
                        kernel = Kernel(root, keep=keep)
                    except Exception as e:  # noqa: BLE001 - reported as the job's failure
                        who = job.month if isinstance(job, _Page) else "whole course"
                        done(MonthOutcome(job.participant, who, "failed", cell="setup",
                                          error=f"the kernel did not start: {type(e).__name__}: "
                                                f"{e}"))
                        continue
                    with take:
                        kernels.append(kernel)
                if isinstance(job, _Page):
                    outcome = _render_one(job, kernel, warm)
                    warm = None
                    with take:
                        done(outcome)
                else:
                    _course_on(job, kernel, reported)
        except BaseException as e:  # a progress callback that raised: raise it in the caller
            errors.append(e)

    threads = [threading.Thread(target=drive, args=(i,), name=f"rehab-kernel-{i}", daemon=True)
               for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def render_month(
    participant: str, month: str, *, root: str | Path | None = None, force: bool = False,
    data_dir: str | Path | None = None, page_timeout: float = PAGE_TIMEOUT_S,
    keep: float | None = None,
) -> Path:
    """Render one report to ``reports/<participant>/<month>.html`` (skipped if unchanged) and
    return its path. A failing cell raises :class:`ReportError` naming the cell and the error."""
    check_participant(participant)
    check_month(month)
    result = render_all(root=root, jobs=1, force=force, participants=[participant],
                        months=[month], data_dir=data_dir, page_timeout=page_timeout,
                        prune=False, keep=keep)
    o = result.outcomes[0]
    if o.status == "failed":
        raise ReportError(f"{participant} {month}: failed in {o.cell}: {o.error}")
    return Path(o.path or "")


# --- batches ---------------------------------------------------------------------------------------


def _months_by_person(ds) -> dict[str, list[str]]:
    """Each participant's months with a dated session, diary or test row (as
    :func:`rehab.features.data_months`), in one pass over the tables (not one a person)."""
    import polars as pl

    frames = [t.select("participant", pl.col("date").dt.strftime("%Y-%m").alias("m"))
              for t in (ds.sessions, ds.diary, ds.tests) if t.height]
    if not frames:
        return {}
    both = pl.concat(frames).drop_nulls().unique()
    out: dict[str, list[str]] = {}
    for p, m in both.sort("participant", "m").iter_rows():
        out.setdefault(p, []).append(m)
    return out


def _months_text(months: list[str]) -> str:
    """Each month ('2026-02, 2026-05'), or for many how many between which."""
    if len(months) > 6:
        return f"{len(months)} months from {months[0]} to {months[-1]}"
    return ", ".join(months)


def _pairs(ds, participants, months, by_person=None) -> list[tuple[str, str]]:
    wanted_p = [check_participant(p) for p in participants] if participants else None
    wanted_m = [check_month(m) for m in months] if months else None
    for p in wanted_p or []:
        if p not in ds.participants:
            raise ReportError(f"participant {p!r} has no records in {ds.source_dir} (participants "
                              f"found: {', '.join(ds.participants) or 'none'})")
    pairs = []
    by_person = _months_by_person(ds) if by_person is None else by_person
    for p in wanted_p or ds.participants:
        pairs += [(p, m) for m in by_person.get(p, []) if wanted_m is None or m in wanted_m]
    if not pairs:
        who = ", ".join(wanted_p) if wanted_p else "anyone"
        when = f" in {', '.join(wanted_m)}" if wanted_m else ""
        have = sorted({m for p in (wanted_p or ds.participants) for m in by_person.get(p, [])})
        hint = (f" (months with records: {_months_text(have)})" if have else "")
        raise ReportError(f"no records for {who}{when} in {ds.source_dir}: nothing to "
                          f"report{hint}")
    return pairs


def _load(paths: ProjectPaths, data_dir):
    """The project's settings and data (read once for a batch)."""
    from rehab.config import load_config
    from rehab.io import load_project

    cfg = load_config(paths.config_file)
    return cfg, load_project(paths.root, source=data_folder(paths, data_dir), aliases=cfg.aliases)


def plan(
    *, root: str | Path | None = None, participants: Iterable[str] | None = None,
    months: Iterable[str] | None = None, data_dir: str | Path | None = None,
) -> tuple[list[tuple[str, str]], bool]:
    """The participant × month pairs that have data (every month with any record), filtered by
    ``participants`` and ``months``, and whether the input is the demo data. ReportError when a
    requested participant or month has no data."""
    paths = _paths(root)
    _, ds = _load(paths, data_dir)
    return _pairs(ds, participants, months), ds.is_demo


def _course_people(paths: ProjectPaths, todo: list[_Page], source: str, fps: dict[str, str], *,
                   force: bool) -> dict[str, str]:
    """Whose whole-course page to write, of the people in ``fps`` (the batch's, with their
    course fingerprints): all of them with ``force`` (unless the batch is of chosen months:
    forcing a month page leaves the course page be); else those whose course page is missing or
    was made from other inputs (:func:`course_fingerprints`), and those who get a month page
    they have no page for yet (the course page links every month page there is)."""
    new = {page.participant for page in todo
           if _read_sidecar(paths.report_path(page.participant, page.month)).get("source")
           != source}
    return {p: fp for p, fp in fps.items()
            if force or p in new or not is_current(paths.reports / p / "index.html", fp)}


def _index_on(kernels: list[Kernel], paths: ProjectPaths, data_dir: str | None,
              failed: list[MonthOutcome]) -> Path | None:
    """Write the index on the first live kernel; None when there is none or it failed (the
    caller then writes it here)."""
    from dataclasses import asdict

    payload = json.dumps([asdict(o) for o in failed])
    code = ("import json\nfrom rehab.report.index import write_index\n"
            "from rehab.report.render import MonthOutcome\n"
            f"print(write_index(root={str(paths.root)!r}, data_dir={data_dir!r}, "
            f"failed=[MonthOutcome(**o) for o in json.loads({payload!r})]))\n")
    for kernel in kernels:
        if kernel.km is None:
            continue
        try:
            return Path(kernel.call(code, "index").strip())
        except Exception:  # noqa: BLE001 - written by this process instead
            return None
    return None


def render_all(
    *,
    root: str | Path | None = None,
    jobs: int = 2,
    force: bool = False,
    progress: Callable[[MonthOutcome, int, int], None] | None = None,
    participants: Iterable[str] | None = None,
    months: Iterable[str] | None = None,
    data_dir: str | Path | None = None,
    page_timeout: float = PAGE_TIMEOUT_S,
    prune: bool = True,
    keep: float | None = None,
) -> BatchResult:
    """Render every participant × month with data (or those asked for) on ``jobs`` kept
    kernels (see the module), skipping pages whose fingerprint is unchanged unless ``force``; move pages of data
    no longer present to ``reports/.stale/`` (``prune``); then write the index.

    The project is read once. A failing or hanging month (``page_timeout`` seconds) is recorded
    (cell and error) and the others go on. ``progress(outcome, done, total)`` is called as each
    month finishes. ``keep``: idle seconds the kernels wait for the next command
    (:func:`rehab.report.kernels.keep_seconds`: default ``$REHAB_KEEP_KERNELS``, else 300)."""
    if not isinstance(jobs, int) or not 1 <= jobs <= 64:
        raise ValueError(f"jobs={jobs!r} is not allowed: give a whole number from 1 to 64")
    if not page_timeout > 0:
        raise ValueError(f"page_timeout={page_timeout!r} is not allowed: give seconds above 0")
    t0 = time.perf_counter()
    keep = keep_seconds(keep)
    paths = _paths(root)
    template = template_path(paths)
    participants = list(participants) if participants else None
    months = list(months) if months else None
    kernels: list[Kernel] = []
    try:
        if force:  # every page will render: the kernels start and warm while the batch is planned
            one = participants and months and len(participants) == len(months) == 1
            kernels += [Kernel(paths.root, keep=keep) for _ in range(1 if one else jobs)]
        elif keep > 0:
            # One kernel at once, before the data are read: a kept one is attached (the index
            # is then written there, whatever changed), else one starts and warms while the
            # batch is planned. When nothing changed it is left for the next command.
            kernels.append(Kernel(paths.root, keep=keep))
        return _batch(paths, template, kernels, jobs=jobs, force=force, progress=progress,
                      participants=participants, months=months, data_dir=data_dir,
                      page_timeout=page_timeout, prune=prune, t0=t0, keep=keep)
    finally:
        for kernel in kernels:
            kernel.close()


def _batch(paths, template, kernels, *, jobs, force, progress, participants, months, data_dir,
           page_timeout, prune, t0, keep) -> BatchResult:
    cfg, ds = _load(paths, data_dir)
    by_person = _months_by_person(ds)  # one pass over the tables serves every use below
    everything = _pairs(ds, None, None, by_person)
    pairs = _pairs(ds, participants, months, by_person)
    source = source_label(paths, ds.source_dir)
    # the last month of each person in the batch: its fingerprint is their course page's base
    last = {p: by_person[p][-1] for p in sorted({p for p, _ in pairs})}
    ends = ds.last_logs()
    fps = page_fingerprints(ds, set(pairs) | set(last.items()),
                            settings_fingerprint(paths, template), source=source,
                            extra={"data_dir": str(data_dir or "")})
    outcomes: list[MonthOutcome] = []
    todo: list[_Page] = []
    total = len(pairs)
    for p, m in pairs:
        target = paths.report_path(p, m)
        if not force and is_current(target, fps[(p, m)]):
            outcomes.append(MonthOutcome(p, m, "skipped", path=str(target)))
            if progress:
                progress(outcomes[-1], len(outcomes), total)
        else:
            todo.append(_Page(str(paths.root), p, m, fps[(p, m)],
                              str(data_dir) if data_dir else None, str(template), source,
                              ds.is_demo, page_timeout))

    def done(o: MonthOutcome) -> None:
        if o.month == "whole course":
            failed.append(o)
            return
        outcomes.append(o)
        if progress:
            progress(o, len(outcomes), total)

    failed: list[MonthOutcome] = []  # whole-course pages
    courses = _course_people(paths, todo, source, course_fingerprints(fps, last, ends),
                             force=force and months is None)
    dd = str(data_dir) if data_dir else None
    if todo or courses:
        # Pages to render: the kernels also write the whole-course pages and the index, having
        # everything imported and the data read (this process then never imports the charts'
        # stack). A person whose month pages all exist already (a day's new line) gets the
        # course page at once, first: a kernel draws it while this process prepares the month
        # (papermill's parameters, the exporter); the others after the months (it links them).
        early = {p for p in courses
                 if all(_read_sidecar(paths.report_path(page.participant, page.month))
                        .get("source") == source for page in todo if page.participant == p)}
        first = [_Course(str(paths.root), p, dd, courses[p], page_timeout)
                 for p in sorted(early)] + todo
        _run_pages(paths.root, first, jobs, done, kernels, keep)
        later = [_Course(str(paths.root), p, dd, courses[p], page_timeout)
                 for p in sorted(set(courses) - early)]
        if later:
            _run_pages(paths.root, later, jobs, done, kernels, keep)
    order = {pm: i for i, pm in enumerate(pairs)}
    outcomes.sort(key=lambda o: order[(o.participant, o.month)])
    month_failed = [o for o in outcomes if o.status == "failed"]
    with project_lock(paths):
        moved, stale_dir = (move_stale(paths, set(everything), source) if prune else ([], None))
        # on a kernel that rendered, or a warm one kept from a command before (this process
        # would import the charts' stack for it); else here
        warm = todo or courses or any(k.reused for k in kernels)
        index = _index_on(kernels, paths, dd, month_failed + failed) if warm else None
        if index is None:  # nothing rendered and no warm kernel, or the kernel failed
            for kernel in kernels:  # their memory and this process's never add up
                kernel.close()
            from rehab.report.course import Project, pain_changes

            project = Project(paths, cfg, ds, pain_changes(ds.diary, ds.last_logs()),
                              source)
            index = write_index(root=paths.root, project=project, data_dir=data_dir,
                                failed=month_failed + failed)
    return BatchResult(tuple(outcomes + failed), index, time.perf_counter() - t0, tuple(moved),
                       stale_dir)
