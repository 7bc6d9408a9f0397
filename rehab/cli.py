"""The ``rehab`` command. Each command is a few lines that call library code.

Exit codes: 0 success, 1 data problems (records quarantined, a report failed), 2 unusable input or
a wrong call. No traceback reaches the user for a data problem.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Read, validate, model and report low-back-pain rehabilitation logs.",
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2


@app.callback()
def _root() -> None:
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
        str | None, typer.Option(help="sessions, diary, tests or phases (default: from the file name).")
    ] = None,
    max_issues: Annotated[int, typer.Option(help="Problems listed per file.")] = 10,
) -> None:
    """Check log files: records, accepted, quarantined, duplicates, and the first problems."""
    from rehab.io import ReadError, log_files, read_any

    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(f for f, _ in log_files(p))
        else:
            files.append(p)
    if not files:
        raise fail(f"no log files found in {', '.join(map(str, paths))} "
                   "(names like sessions*.csv, diary*.csv, tests*.csv, phases*.csv)")
    results, unusable = [], []
    for f in files:
        try:
            results.append(read_any(f, kind=kind))
        except ReadError as e:
            unusable.append({"path": str(f), "error": str(e)})
    if as_json:
        doc = {"files": [r.as_dict(max_issues=None) for r in results]}
        if unusable:
            doc["unusable"] = unusable
        print(json.dumps(doc, indent=2, default=str))
    else:
        for r in results:
            _print_result(r, max_issues)
        for u in unusable:
            err.print(f"[bold red]unusable:[/] {u['error']}", highlight=False, soft_wrap=True)
    if unusable:
        raise typer.Exit(EXIT_USAGE)
    raise typer.Exit(EXIT_DATA if any(r.quarantined for r in results) else EXIT_OK)


@app.command()
def demo(
    out: Annotated[
        Path | None, typer.Option(help="Folder inside the project (default data/sample).")
    ] = None,
    participants: Annotated[
        int, typer.Option(min=1, max=2000, help="1 = the demo person; more = a cohort across variants.")
    ] = 1,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the sample's).")] = None,
) -> None:
    """Write synthetic logs with known truth (truth.json): one person, or a cohort."""
    from rehab.demo import DEFAULT_SEED, write_sample

    written = write_sample(out=out, participants=participants, seed=DEFAULT_SEED if seed is None else seed)
    console.print(written.summary(), highlight=False, soft_wrap=True)


def _print_result(r, max_issues: int) -> None:
    status = "[green]ok[/]" if r.ok else "[yellow]records quarantined[/]"
    console.print(
        f"[bold]{r.path}[/] ({r.kind}): {r.records} records, {r.accepted} accepted, "
        f"{r.quarantined} quarantined, {r.duplicates} duplicates — {status}",
        highlight=False,
    )
    for w in r.warnings:
        console.print(f"  [yellow]warning:[/] {w}", highlight=False, soft_wrap=True)
    if r.quarantined:
        t = Table("record", "line", "column", "value", "reason", show_lines=False)
        for row in r.quarantine.head(max_issues).iter_rows(named=True):
            t.add_row(str(row["record"]), str(row["line"] or ""), row["column"] or "",
                      (row["value"] or "")[:40], row["reason"])
        console.print(t)
        if r.quarantined > max_issues:
            console.print(f"  … and {r.quarantined - max_issues} more (use --json for all)")


def main() -> None:
    """Entry point: usage errors exit 2, data problems 1, and no traceback for either."""
    from rehab.config import ConfigError
    from rehab.io import ReadError
    from rehab.paths import PathError

    try:
        app()  # standalone: click turns usage errors into exit 2 with a message
    except (ReadError, PathError, ConfigError) as e:
        err.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
        sys.exit(EXIT_USAGE)
