"""The ``rehab`` command. Each command is a few lines that call library code.

Exit codes: 0 success, 1 data problems (records quarantined, a report failed), 2 unusable input or
a wrong call. No traceback reaches the user for a data problem.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Read, validate, model and report low-back-pain rehabilitation logs.",
    pretty_exceptions_enable=False,
)
PIPE_WIDTH = 4096  # output to a file or pipe: lines are not hard-wrapped (rich would use 80)


class _Console:
    """A rich Console made at each use, so the terminal width (COLUMNS) is read when printing;
    when the output is not a terminal (and COLUMNS is unset) lines are kept whole."""

    def __init__(self, **options) -> None:
        self._options = options

    def __getattr__(self, name: str):
        c = Console(**self._options)
        if not c.is_terminal and not os.environ.get("COLUMNS"):
            c = Console(**self._options, width=PIPE_WIDTH)
        return getattr(c, name)


console = _Console()
err = _Console(stderr=True)

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        from rehab import __version__

        try:  # the installed distribution's version; the package's own when run from a tree
            v = version("rehab")
        except PackageNotFoundError:
            v = __version__
        print(f"rehab {v}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True,
                           help="Print the version and exit.")
    ] = False,
) -> None:
    """Read, validate, model and report low-back-pain rehabilitation logs."""


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print a message to stderr and return the Exit to raise."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="CSV files or folders to check.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    kind: Annotated[
        str | None, typer.Option(help="sessions, diary, tests, phases or questionnaires (default: from the file name).")
    ] = None,
    max_issues: Annotated[int, typer.Option(help="Problems listed per file.")] = 10,
) -> None:
    """Check log files: records, accepted, quarantined, duplicates, and the first problems.

    Rejected records of files in data/raw are written to data/quarantine/ (the file is replaced
    on each check, and removed once the file is clean)."""
    from rehab.importers.common import export_app
    from rehab.importers.store import is_provenance_file
    from rehab.io import ReadError, log_files, read_any, save_quarantine
    from rehab.paths import ProjectPaths
    from rehab.schema import TABLES

    if kind is not None and kind not in TABLES:
        raise fail(f"--kind {escape(kind)!r} is not allowed: use one of {', '.join(TABLES)}")
    files: list[Path] = []
    for p in paths:
        if not p.exists():
            raise fail(escape(f"no such file or folder: {p}"))
        if p.is_dir():
            files.extend(f for f, _ in log_files(p))
            files.extend(_app_exports_in(p))  # an export dropped in: said below, not ignored
            # an import's provenance sidecar: listed as skipped, not passed over in silence
            files.extend(f for f in sorted(p.rglob("*.csv")) if is_provenance_file(f))
        else:
            files.append(p)
    if not files:
        raise fail(f"no log files found in {escape(', '.join(map(str, paths)))} "
                   "(names like sessions*.csv, diary*.csv, tests*.csv, phases*.csv, questionnaires*.csv)")
    results, unusable, skipped, saved, exports = [], [], [], {}, []
    project = ProjectPaths.discover()
    raw = project.raw.resolve()
    unknown: dict[str, list[dict]] = {}
    for f in files:
        if kind is None and is_provenance_file(f):  # e.g. from data/raw/imports/*.csv
            skipped.append({"path": str(f), "reason": "the import provenance (which export brought "
                            "each row of the imported tables), not a log"})
            continue
        got = export_app(f) if kind is None else None
        if got is not None:  # an app's export, not a log: it is imported, not read
            exports.append(_export_hint(f, *got))
            continue
        try:
            r = read_any(f, kind=kind)
        except ReadError as e:
            unusable.append({"path": str(f), "error": str(e)})
            continue
        results.append(r)
        unknown[r.path] = _unknown_exercises(r, project)
        if raw in Path(r.path).resolve().parents:  # the person's own files: keep what was rejected
            saved[r.path] = save_quarantine(r, project, source=project.raw)
    if as_json:
        doc = {"files": [{**r.as_dict(max_issues=None),
                          "quarantine_file": str(saved[r.path]) if saved.get(r.path) else None,
                          "unknown_exercises": unknown.get(r.path, [])}
                         for r in results]}
        if exports:
            doc["app_exports"] = exports
        if unusable:
            doc["unusable"] = unusable
        if skipped:
            doc["skipped"] = skipped
        print(json.dumps(doc, indent=2, default=str))
    else:
        for r in results:
            _print_result(r, max_issues)
            for u in unknown.get(r.path, []):
                close = f" (closest: {', '.join(u['suggestions'])})" if u["suggestions"] else ""
                close += f" ({u['note']})" if u["note"] else ""
                console.print(escape(f"  warning: exercise name not recognised: {u['name']!r}"
                                     f"{close}; kept as written, map it under [aliases] in "
                                     "rehab.toml"), highlight=False, soft_wrap=True)
            if saved.get(r.path):
                console.print(f"  rejected records written to {escape(str(saved[r.path]))}",
                              highlight=False, soft_wrap=True)
        for x in exports:
            console.print(escape(x["message"]), highlight=False, soft_wrap=True)
        for u in skipped:
            console.print(f"skipped: {escape(u['path'])}: {escape(u['reason'])}", highlight=False,
                          soft_wrap=True)
        for u in unusable:
            err.print(f"[bold red]unusable:[/] {escape(u['error'])}", highlight=False,
                      soft_wrap=True)
    if unusable:
        raise typer.Exit(EXIT_USAGE)
    # an unknown exercise name is a warning; an export left unimported is a data problem
    raise typer.Exit(EXIT_DATA if any(r.quarantined for r in results) or exports else EXIT_OK)


_APP_NAMES = {"strong": "Strong", "hevy": "Hevy", "fitnotes": "FitNotes", "jefit": "JEFIT",
              "bearable": "Bearable", "daylio": "Daylio"}  # fmt: skip


def _app_exports_in(folder: Path) -> list[Path]:
    """CSV files below ``folder`` that are app exports under a name that is not a log's (the
    import's own copies in imports/originals excepted)."""
    from rehab.importers.common import export_app
    from rehab.importers.store import IMPORTS, ORIGINALS
    from rehab.schema import spec_for_file

    found = []
    for f in sorted(folder.rglob("*.csv")):
        parts = f.relative_to(folder).parts
        if spec_for_file(f.name) is not None or any(x.startswith(".") for x in parts):
            continue
        if IMPORTS in f.parts and ORIGINALS in f.parts:
            continue
        if export_app(f) is not None:
            found.append(f)
    return found


def _export_hint(path: Path, app_id: str, layout: str) -> dict:
    name = _APP_NAMES.get(app_id, app_id)
    return {"path": str(path), "app": app_id, "layout": layout,
            "hint": f"rehab import {path}",
            "message": f"{path} is a {name} export ({layout}), not a log: "
                       f"run `rehab import {path}`"}  # fmt: skip


def _unknown_exercises(r, project) -> list[dict]:
    """The exercise names of a sessions file that map to no exercise id (with the closest ids),
    under the project's [aliases], [tests] and protocols' own exercises."""
    if r.kind != "sessions" or "exercise" not in r.data.columns or r.data.height == 0:
        return []
    from rehab.exercises import match
    from rehab.importers.sets import unmapped_names

    names = r.data.get_column("exercise").unique().drop_nulls().to_list()
    found = unmapped_names(names, _exercise_options(project.root))
    return [{"name": n, "suggestions": list(s), "note": match(n).note}
            for n, s in sorted(found.items())]  # fmt: skip


def _exercise_options(root: Path):
    """The importers' Options holding the exercise names a project knows: its ``[aliases]`` and
    ``[tests]``, and its protocols' exercise ids and aliases (builtin ones when its own cannot be
    read: validate reports the logs, not the protocols)."""
    from rehab.config import ConfigError, load_config
    from rehab.importers.common import Options
    from rehab.paths import ProjectPaths
    from rehab.protocol import ProtocolError, builtin_protocols, load_protocols

    try:
        config = load_config(ProjectPaths(root).config_file)
        aliases, tests = dict(config.aliases), dict(config.test_exercises)
    except ConfigError:
        aliases, tests = {}, {}
    try:
        protocols = load_protocols(root)
    except ProtocolError:
        protocols = builtin_protocols()
    known: dict[str, str] = {}
    for p in protocols.protocols.values():
        for e in p.exercises.values():
            known[e.id] = e.id
            known.update(dict.fromkeys(e.aliases, e.id))
    return Options(aliases={**known, **aliases}, test_exercises=tests)


@app.command()
def demo(
    out: Annotated[
        Path | None, typer.Option(help="Folder inside the project (default data/sample).")
    ] = None,
    participants: Annotated[
        int, typer.Option(help="1 = the demo person; more = a cohort across variants (up to 999).")
    ] = 1,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the sample's).")] = None,
    force: Annotated[
        bool, typer.Option(help="Replace log files already in the folder (e.g. data/sample).")
    ] = False,
) -> None:
    """Write synthetic logs with known truth (truth.json): one person, or a cohort."""
    from rehab.demo import DEFAULT_SEED, DemoError, write_sample

    try:  # the generator checks its options (participants, seed) and says what is allowed
        written = write_sample(out=out, participants=participants, force=force,
                               seed=DEFAULT_SEED if seed is None else seed)
    except DemoError as e:
        raise fail(escape(str(e))) from None
    console.print(escape(written.summary()), highlight=False, soft_wrap=True)


@app.command()
def protocols(
    show_id: Annotated[
        str | None, typer.Argument(metavar="[SHOW_ID]", help="A protocol id to show in full.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the protocols (builtin and the project's protocols/*.toml), or show one."""
    from dataclasses import asdict

    from rich.markup import escape

    from rehab.config import load_config
    from rehab.paths import ProjectPaths
    from rehab.protocol import ProtocolError, load_protocols

    paths = ProjectPaths.discover()
    try:
        found = load_protocols(paths.root)
        chosen = found[show_id] if show_id is not None else None
    except ProtocolError as e:
        raise fail(escape(str(e))) from None
    if as_json:
        doc = asdict(chosen) if chosen else {"protocols": found.table().to_dicts(),
                                              "notes": list(found.notes)}
        print(json.dumps(doc, indent=2, ensure_ascii=False, default=str))
        return
    if chosen is None:
        t = _fold_table("id", "name", "sessions/week", "pillars", "source")
        for r in found.table().iter_rows(named=True):
            t.add_row(*(escape(str(v)) for v in (r["id"], r["name"], f"{r['sessions_per_week']:g}",
                                                 r["pillars"], r["source"])))
        console.print(t)
        for note in found.notes:
            console.print(f"note: {escape(note)}", highlight=False, soft_wrap=True)
        console.print(f"Show one: rehab protocols ID. Add your own as "
                      f"{escape(str(paths.protocols))}/<id>.toml.", highlight=False, soft_wrap=True)
        return
    p = chosen
    console.print(f"[bold]{escape(p.name)}[/] ({escape(p.id)}, {escape(p.source)})", highlight=False)
    for line in (p.description, f"Sessions a week: {p.sessions_per_week:g}",
                 f"Extends: {p.extends}" if p.extends else "",
                 f"Reference: {p.reference}" if p.reference else "",
                 f"Progress when: {p.criteria.describe(load_config(paths.config_file))}"):
        if line:
            console.print(escape(line), highlight=False, soft_wrap=True)
    t = _fold_table("pillar", "name", "duration", "what it means", title="Pillars")
    for pil in p.pillars.values():
        t.add_row(*(escape(v) for v in (pil.id, pil.name, pil.duration_text(), pil.summary)))
    console.print(t)
    t = _fold_table("exercise", "pillars", "dose", "progression", "goal", title="Exercises",
                    show_lines=True)
    for r in p.exercises_table().iter_rows(named=True):
        t.add_row(*(escape(r[k] or "") for k in ("exercise", "pillars", "dose", "progression",
                                                  "goal")))
    console.print(t)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="The app's CSV export.")],
    app_name: Annotated[
        str, typer.Option("--app", help="auto, strong, hevy, fitnotes, jefit, bearable or daylio.")
    ] = "auto",
    participant: Annotated[str, typer.Option(help="Participant id of the records.")] = "me",
    units: Annotated[
        str | None, typer.Option(help="kg or lb, for exports that carry no weight unit.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Import a workout or symptom app's export into data/raw/imports (each record once)."""
    from rich.markup import escape

    from rehab.config import ConfigError
    from rehab.importers import ImportFormatError, import_file
    from rehab.paths import PathError, existing, require_project

    try:
        existing(file)
        require_project()  # never a data/raw/imports made in whatever folder the command ran in
        r = import_file(file, app=app_name, participant=participant, units=units)
    except (ImportFormatError, PathError, ConfigError) as e:
        raise fail(escape(str(e))) from None
    if as_json:
        print(json.dumps(r.as_dict(), indent=2, ensure_ascii=False))
    else:
        console.print(
            f"[bold]{escape(r.file)}[/] ({r.app} {escape(r.layout)}): {r.records} records, "
            f"{r.new} new, {r.already_present} already present, {r.skipped} skipped, "
            f"{r.quarantined} quarantined", highlight=False, soft_wrap=True,
        )  # fmt: skip
        for w in r.warnings:
            console.print(f"  [yellow]warning:[/] {escape(w)}", highlight=False, soft_wrap=True)
        if r.unmapped_exercises:
            named = [n + (f" (closest: {', '.join(r.suggestions[n])})" if r.suggestions.get(n)
                          else "") for n in r.unmapped_exercises]  # fmt: skip
            console.print(escape("  exercises without a canonical id (kept as written; map them "
                                 "under [aliases] in rehab.toml): " + "; ".join(named)),
                          highlight=False, soft_wrap=True)  # fmt: skip
        if r.remapped:
            console.print(f"  {r.remapped} stored row(s) updated to the current [tests]/[aliases] "
                          "mapping", highlight=False, soft_wrap=True)
        if r.quarantined:
            console.print(f"  quarantined records: {escape(str(r.quarantine_file))}",
                          highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_DATA if r.quarantined else EXIT_OK)


@app.command()
def report(
    month: Annotated[str | None, typer.Option(help="Month to report, YYYY-MM.")] = None,
    participant: Annotated[
        str | None, typer.Option(help="Participant id (default: everyone with records).")
    ] = None,
    all_months: Annotated[
        bool, typer.Option("--all", help="Every participant and month with records.")
    ] = False,
    jobs: Annotated[int, typer.Option(min=1, max=64, help="Reports rendered at once.")] = 2,
    force: Annotated[
        bool, typer.Option(help="Re-render reports whose inputs are unchanged.")
    ] = False,
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Also write each page's PDF beside it (A4; chromium).")
    ] = False,
    page_timeout: Annotated[
        float, typer.Option(min=1, help="Seconds a page may take before it is stopped.")
    ] = 600.0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only failures and the summary.")
    ] = False,
    keep_kernels: Annotated[
        float | None,
        typer.Option(min=0, help="Idle seconds the report kernels wait for the next command "
                     "(default: $REHAB_KEEP_KERNELS, else 300); 0 stops them at the end."),
    ] = None,
) -> None:
    """Render monthly reports to reports/<participant>/<YYYY-MM>.html and reports/index.html.

    Only pages whose inputs changed are rendered again (--force: all). Pages of data no longer
    present are moved to reports/.stale/. The kernels that ran the pages wait a few minutes
    for the next command, which then starts at once. Exit 1 when any page failed."""
    from rich.markup import escape

    # no data library yet (rehab.io: polars): render_all starts its kernel first, which then
    # boots while this process imports them and reads the data
    from rehab.paths import PathError, require_project
    from rehab.report import ReportError
    from rehab.report.kernels import keep_seconds
    from rehab.report.render import render_all

    if all_months and month is not None:
        raise fail("give --month YYYY-MM or --all, not both: --all renders every month (add "
                   "--participant ID for one person's)")
    if not all_months and month is None:
        raise fail("give --month YYYY-MM (and optionally --participant ID), or --all")
    try:
        keep = keep_seconds(keep_kernels)
    except ValueError as e:
        raise fail(escape(str(e))) from None
    try:
        require_project()
        with _BatchProgress(quiet=quiet) as tick:
            result = render_all(jobs=jobs, force=force, progress=tick, page_timeout=page_timeout,
                                months=[month] if month else None,
                                participants=[participant] if participant else None,
                                keep=keep)
    except (ReportError, _read_error(), PathError) as e:  # evaluated once something is raised
        raise fail(escape(str(e))) from None
    for o in result.outcomes:
        if o.status == "failed":
            err.print(f"[bold red]failed:[/] {escape(o.describe())}", highlight=False,
                      soft_wrap=True)
        elif o.status == "ok" and not quiet:
            console.print(f"wrote {escape(o.path or '')}", highlight=False, soft_wrap=True)
    if pdf:  # beside each page: <YYYY-MM>.pdf and course.pdf (rehab.report.pdf)
        from rehab.report.pdf import PdfError, batch_pdfs

        try:
            for f in batch_pdfs(result.outcomes, force=force):
                console.print(f"wrote {escape(str(f))}", highlight=False, soft_wrap=True)
        except PdfError as e:
            raise fail(escape(str(e))) from None
    if keep and result.ok and not quiet:
        console.print(f"the report kernels wait {keep:g} s for the next command "
                      "(--keep-kernels 0 stops them)", highlight=False, soft_wrap=True)
    console.print(f"{result.summary()}; index: {escape(str(result.index))}", highlight=False,
                  soft_wrap=True)
    raise typer.Exit(result.exit_code)


def _read_error() -> type[Exception]:
    """rehab.io's error, imported when an error is being handled: rehab.io imports polars, which
    the report command imports only after starting its kernel."""
    from rehab.io import ReadError

    return ReadError


class _BatchProgress:
    """Pages done, failures and the time left: a rich bar on a terminal, a plain line at most
    every few seconds when piped, nothing with quiet."""

    PLAIN_EVERY_S = 5.0

    def __init__(self, *, quiet: bool) -> None:
        import time

        self.quiet, self.clock = quiet, time.monotonic
        self.failed = self.rendered = 0
        self.first = self.last_line = None
        self.bar = self.task = None

    def __enter__(self):
        if not self.quiet and err.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TextColumn("{task.fields[failed]} failed"),
                                TimeRemainingColumn(), console=err, transient=True)
            self.bar.__enter__()
            self.task = self.bar.add_task("rendering reports", total=None, failed=0)
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def left(self, done: int, total: int) -> float | None:
        """Seconds left: the rendered pages' pace (skipped ones take no time) times the rest."""
        if not self.rendered or self.first is None:
            return None
        return (self.clock() - self.first) / self.rendered * (total - done)

    def __call__(self, o, done: int, total: int) -> None:
        now = self.clock()
        if o.status != "skipped":
            self.first = self.first if self.first is not None else now - o.seconds
            self.rendered += 1
        self.failed += o.status == "failed"
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=total, failed=self.failed,
                            description=f"{o.participant} {o.month}: {o.status}")
            return
        if done == total or self.last_line is None or now - self.last_line >= self.PLAIN_EVERY_S:
            self.last_line = now
            left = self.left(done, total)
            eta = f", about {left:.0f} s left" if left is not None and done < total else ""
            err.print(f"reports: {done} of {total} done, {self.failed} failed{eta}",
                      highlight=False, soft_wrap=True)


@app.command()
def compare(
    participant: Annotated[
        str | None, typer.Option(help="Participant id: compare their A/B (or ABAB) phases.")
    ] = None,
    cohort: Annotated[
        bool, typer.Option("--cohort", help="Compare protocol variants across participants.")
    ] = False,
    outcome: Annotated[
        str, typer.Option(help="pain (weekly morning pain) or a test id, e.g. sorensen_hold.")
    ] = "pain",
    data_dir: Annotated[
        Path | None, typer.Option(help="Folder of logs inside the project (default: data/raw, "
                                       "else data/sample).")
    ] = None,
) -> None:
    """Render a protocol comparison to reports/compare/<participant or cohort>-<outcome>.html."""
    from rich.markup import escape

    from rehab.compare import ComparisonError
    from rehab.io import ReadError
    from rehab.paths import PathError, require_project
    from rehab.report import ReportError
    from rehab.report.comparison import render_comparison

    if (participant is None) == (not cohort):
        raise fail("give --participant ID or --cohort (one of them)")
    try:
        require_project()
        with err.status("rendering the comparison report"):
            r = render_comparison(participant=participant, cohort=cohort, outcome=outcome,
                                  data_dir=data_dir)
    except (ComparisonError, ReadError, PathError) as e:
        raise fail(escape(str(e))) from None
    except ReportError as e:
        raise fail(escape(str(e)), EXIT_DATA) from None
    console.print(f"wrote {escape(str(r.path))}", highlight=False, soft_wrap=True)
    for p in r.problems:
        err.print(f"[yellow]nothing to compare:[/] {escape(p)}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_DATA if r.problems else EXIT_OK)


@app.command()
def plan(
    participant: Annotated[
        str | None, typer.Option(help="Participant id (the first person of a multiple baseline).")
    ] = None,
    design: Annotated[str, typer.Option(help="ab, abab or multiple-baseline.")] = "ab",
    protocol_a: Annotated[str | None, typer.Option("--a", help="Protocol id of phase A.")] = None,
    protocol_b: Annotated[str | None, typer.Option("--b", help="Protocol id of phase B.")] = None,
    start: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD.")] = None,
    weeks: Annotated[int | None, typer.Option(help="Length of the plan in weeks.")] = None,
    min_phase_weeks: Annotated[
        int | None, typer.Option(help="Shortest phase allowed, in weeks.")
    ] = None,
    participants: Annotated[
        str | None, typer.Option(help="ID,ID,...: the people of a multiple baseline.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Random seed (default: drawn, and written in the plan).")
    ] = None,
    ics: Annotated[
        bool, typer.Option("--ics", help="Also write the planned sessions as a calendar file.")
    ] = False,
    force: Annotated[bool, typer.Option(help="Replace an existing plan of the same id.")] = False,
) -> None:
    """Draw a randomized n-of-1 plan: plans/<id>.toml, data/raw/phases-plan-<id>.csv, a calendar."""
    from rehab.paths import PathError, ProjectPaths
    from rehab.plan import PlanError, draw_plan, write_plan
    from rehab.protocol import ProtocolError, load_protocols

    needed = {"--a": protocol_a, "--b": protocol_b, "--start": start, "--weeks": weeks,
              "--min-phase-weeks": min_phase_weeks}
    missing = [k for k, v in needed.items() if v is None]
    if missing:
        raise fail(f"rehab plan needs {', '.join(missing)} (e.g. rehab plan --participant me "
                   "--design abab --a traditional-core --b shit --start 2026-03-02 --weeks 16 "
                   "--min-phase-weeks 3)")
    paths = ProjectPaths.discover()
    people = [p.strip() for p in participants.split(",") if p.strip()] if participants else []
    try:
        found = load_protocols(paths.root)
        drawn = draw_plan(participant, design=design, protocol_a=protocol_a, protocol_b=protocol_b,
                          start=start, weeks=weeks, min_phase_weeks=min_phase_weeks,
                          participants=people, seed=seed, protocols=found)
        files = write_plan(drawn, paths, force=force, ics=ics, protocols=found)
    except (PlanError, PathError, ProtocolError) as e:
        raise fail(escape(str(e))) from None
    except OSError as e:  # a read-only folder, a full disk (each file is written whole or not)
        raise fail(escape(f"cannot write the plan: {e}")) from None
    console.print(escape(drawn.summary()), highlight=False, soft_wrap=True)
    console.print(_plan_table(drawn))
    for f in (files.plan, files.phases, *files.ics):
        console.print(f"wrote {escape(str(f))}", highlight=False, soft_wrap=True)
    for w in files.warnings:
        err.print(f"[yellow]note:[/] {escape(w)}", highlight=False, soft_wrap=True)


def _plan_table(drawn) -> Table:
    """The schedule as a calendar: one row a week; one column a phase (one person) or a person."""
    cal = drawn.calendar()
    people = list(drawn.participants)
    one = len(people) == 1
    heads = (["week", "from", "to"]
             + ([f"{n} ({drawn.protocol_a if n.startswith('A') else drawn.protocol_b})"
                 for n in drawn.phase_names] if one else people))
    t = _fold_table(*heads, title=f"plan {drawn.id}")
    for r in cal.iter_rows(named=True):
        cells = [str(r["week"]), f"{r['start']:%a %d %b %Y}", f"{r['end']:%a %d %b}"]
        if one:
            cells += ["[bold]■[/]" if r[people[0]] == n else "" for n in drawn.phase_names]
        else:
            cells += [("[cyan]B[/]" if r[p] == "B" else "A") for p in people]
        t.add_row(*cells)
    return t


def _fold_table(*headers: str, **kw) -> Table:
    """A rich table whose long cells (ids, paths) wrap instead of being cut."""
    t = Table(**kw)
    for h in headers:
        t.add_column(h, overflow="fold")
    return t


def _print_result(r, max_issues: int) -> None:
    # paths, values and reasons are the user's text: escaped, so "[...]" is not read as markup
    status = "[green]ok[/]" if r.ok else "[yellow]records quarantined[/]"
    console.print(
        f"[bold]{escape(r.path)}[/] ({r.kind}): {r.records} records, {r.accepted} accepted, "
        f"{r.quarantined} quarantined, {r.duplicates} duplicates — {status}",
        highlight=False,
    )
    for w in r.warnings:
        console.print(f"  [yellow]warning:[/] {escape(w)}", highlight=False, soft_wrap=True)
    if r.quarantined:
        t = Table("record", "line", "column", "value", "reason", show_lines=False)
        for row in r.quarantine.head(max_issues).iter_rows(named=True):
            t.add_row(str(row["record"]), str(row["line"] or ""), row["column"] or "",
                      escape((row["value"] or "")[:40]), escape(row["reason"]))
        console.print(t)
        if r.quarantined > max_issues:
            console.print(f"  … and {r.quarantined - max_issues} more (use --json for all)")


def main() -> None:
    """Entry point: usage errors exit 2, data problems 1, and no traceback for either."""
    from rehab.config import ConfigError
    from rehab.paths import PathError

    try:
        app()  # standalone: click turns usage errors into exit 2 with a message
    except SystemExit as e:
        if sys.argv[1:2] == ["report"] and (e.code is None or isinstance(e.code, int)):
            # the pages are written and said: the interpreter's teardown of the modules and
            # sockets a batch loaded is skipped (0.1-0.15 s of a one-page command)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(e.code or 0)
        raise
    except (_read_error(), PathError, ConfigError) as e:  # evaluated once something is raised
        err.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
        sys.exit(EXIT_USAGE)
