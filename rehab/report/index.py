"""The index page, ``reports/index.html``: every participant's monthly reports and the protocol
comparisons."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rehab.paths import PathError, atomic_write_text, check_participant, inside
from rehab.report.files import _input_dir, _paths, _read_sidecar
from rehab.report.page import CSS, DEMO_BANNER, DISCLAIMER

# --- index --------------------------------------------------------------------------------------

_MONTH_FILE = re.compile(r"^(\d{4}-(?:0[1-9]|1[0-2]))\.html$")
COMPARE_DIR = "compare"  # reports/compare/*.html: protocol comparisons (rehab.report.comparison)


@dataclass(frozen=True)
class _Entry:
    participant: str
    months: list[tuple[str, bool]] = field(default_factory=list)  # (month, demo)


def write_index(
    *, root: str | Path | None = None, failed: Iterable = (),
    data_dir: str | Path | None = None,
) -> Path:
    """Write ``reports/index.html`` linking every monthly report found under ``reports/`` (newest
    month first, demo-data reports marked) and the protocol comparisons in ``reports/compare/``,
    and listing ``failed`` months with their error."""
    paths = _paths(root)
    _, input_demo = _input_dir(paths, data_dir)
    entries: list[_Entry] = []
    if paths.reports.is_dir():
        for folder in sorted(p for p in paths.reports.iterdir()
                             if p.is_dir() and p.name != COMPARE_DIR):
            try:
                check_participant(folder.name)
            except PathError:
                continue
            months = sorted(
                ((m.group(1), bool(_read_sidecar(f).get("demo", False)))
                 for f in folder.iterdir() if (m := _MONTH_FILE.match(f.name))),
                reverse=True,
            )
            if months:
                entries.append(_Entry(folder.name, months))
    any_demo = input_demo or any(d for e in entries for _, d in e.months)
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1.0">',
             "<title>rehab monthly reports</title>",
             f'<style type="text/css">{CSS}</style></head><body><main>',
             '<h1 class="title">Monthly reports</h1>']
    if any_demo:
        parts.append(f'<div class="demo" role="note"><strong>DEMO DATA.</strong> {e(DEMO_BANNER)}'
                     "</div>")
    if not entries:
        parts.append("<p>No monthly reports yet: run <code>rehab report --all</code>.</p>")
    for ent in entries:
        parts.append(f"<h2>{e(ent.participant)}</h2><ul class=\"months\">")
        for m, demo in ent.months:
            first = dt.date(int(m[:4]), int(m[5:]), 1)
            label = f"{first:%B %Y}" + (" (demo data)" if demo else "")
            href = f"{ent.participant}/{m}.html"
            parts.append(f'<li><a href="{e(href)}">{e(label)}</a></li>')
        parts.append("</ul>")
    compare = paths.reports / COMPARE_DIR
    comparisons = sorted(compare.glob("*.html")) if compare.is_dir() else []
    if comparisons:
        parts.append('<h2>Protocol comparisons</h2><ul class="months">')
        for f in comparisons:
            href = f"{COMPARE_DIR}/{f.name}"
            parts.append(f'<li><a href="{e(href)}">{e(f.stem)}</a></li>')
        parts.append("</ul>")
    failed = list(failed)
    if failed:
        parts.append("<h2>Failed</h2><ul>")
        for o in failed:
            parts.append(f"<li>{e(o.participant)} {e(o.month)}: {e(o.cell or '')}: "
                         f"{e(o.error or '')}</li>")
        parts.append("</ul>")
    parts.append(f'<p class="disclaimer">{e(DISCLAIMER)}</p></main></body></html>')
    target = inside(paths.reports, paths.reports / "index.html")
    atomic_write_text(target, "\n".join(parts) + "\n")
    return target
