"""The caseload index, ``reports/index.html``: one row per person of the current data source.

Each row: start, last log, training days in the last four weeks logged against the target, the
latest test against the first, pain of the last four weeks against the first two with the
important-change reading, flares, and the flags a clinician acts on (no log for 14 days, pain up
by the important change, too much pain in half the rated sessions); it links the person's
whole-course page and monthly pages. Built from the current data (people no longer in it are not
listed; after real data arrive, no demo banner or demo month) and the pages' sidecars.

Sortable by any column without a network and without a script: the page holds one radio button a
column and direction, and the style sheet orders the rows (CSS ``order``) by ranks computed here
and carried on each row (``--r-<column>-a`` / ``-d``). A click on a column's arrow sorts; nothing
runs, so :func:`rehab.report.page.offline_problems` still refuses every script, and the page
behaves the same opened from a mail, a USB stick or a shared folder. (Pre-rendered sorted copies
would need one file a column and direction; an inline script would need the no-script rule
narrowed.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from rehab.paths import atomic_write_text, inside
from rehab.report.files import _paths
from rehab.report.page import CSS, DEMO_BANNER, DISCLAIMER, esc, nice_date, num, signed

COMPARE_DIR = "compare"  # reports/compare/*.html: protocol comparisons (rehab.report.comparison)

# column key, header, sortable
COLUMNS = (
    ("person", "person", True),
    ("start", "start", True),
    ("last", "last log", True),
    ("sessions", "training days, last 4 weeks / target", True),
    ("test", "latest test against the first", True),
    ("pain", "pain, last 4 weeks against the first 2", True),
    ("flares", "flare days (last 4 weeks)", True),
    ("flags", "to act on", True),
    ("pages", "pages", False),
)
DEFAULT_SORT = ("flags", "d")  # people with the most flags first
WIDE_COLUMNS = ("test", "pain", "flags", "pages")  # a whole line of a person's card on a phone
WIDE = ' class="wide"'

INDEX_CSS = """
main { max-width: 1240px; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; }
.caseload { margin: 12px 0; font-size: 14px; }
.cl-rows { display: flex; flex-direction: column; }
.cl-row, .cl-head { display: grid; gap: 0 10px; align-items: start;
  grid-template-columns: minmax(60px, 0.8fr) 78px 78px minmax(80px, 0.9fr)
    minmax(120px, 1.4fr) minmax(120px, 1.4fr) minmax(60px, 0.7fr) minmax(100px, 1.2fr)
    minmax(90px, 1fr);
  padding: 6px 4px; border-bottom: 1px solid var(--line); }
.cl-head { background: #f0f3f6; font-weight: 600; position: sticky; top: 0; }
.cl-head .col { display: flex; flex-wrap: wrap; gap: 2px 4px; align-items: baseline; }
.cl-head label { cursor: pointer; color: var(--accent); padding: 0 2px; border-radius: 3px;
  font-weight: 400; }
.cl-head label:hover { background: #dde6ee; }
.flag { display: inline-block; background: #fbe3d6; color: #7a2e00; border-radius: 4px;
  padding: 0 5px; margin: 1px 0; }
.ok { color: var(--muted); }
.cl-row .months a { margin-right: 6px; white-space: nowrap; }
.cl-label { display: none; }
input.sort:focus-visible + * { outline: 2px solid var(--accent); }
@media (max-width: 900px) {
  .cl-head { display: none; }
  .sort-bar { display: block !important; }
  .cl-row { grid-template-columns: 1fr 1fr; border: 1px solid var(--line); border-radius: 6px;
    margin: 6px 0; }
  .cl-row > div:first-child, .cl-row .wide { grid-column: 1 / -1; }
  .cl-label { display: block; color: var(--muted); font-size: 12px; }
}
.sort-bar { display: none; margin: 8px 0; font-size: 14px; }
.sort-bar label { display: inline-block; border: 1px solid var(--line); border-radius: 4px;
  padding: 1px 6px; margin: 2px; cursor: pointer; }
@media print { .sort-bar, .cl-head label { display: none !important; }
  .cl-row { break-inside: avoid; } }
"""


def _sort_css(keys: list[str]) -> str:
    rules = []
    for k in keys:
        for d in ("a", "d"):
            sel = f"#sort-{k}-{d}:checked"
            rules.append(f"{sel} ~ .caseload .cl-row {{ order: var(--r-{k}-{d}); }}")
            rules.append(f"{sel} ~ .caseload label[for=sort-{k}-{d}], "
                         f"{sel} ~ .sort-bar label[for=sort-{k}-{d}] "
                         "{ background: var(--accent); color: white; }")
    return "\n".join(rules)


def _ranks(values: list, *, descending: bool) -> list[int]:
    """1-based rank of each value; missing values (None) always last, ties by position."""
    present = [i for i, v in enumerate(values) if v is not None]
    missing = [i for i, v in enumerate(values) if v is None]
    present.sort(key=lambda i: (_neg(values[i]) if descending else values[i], i))
    out = [0] * len(values)
    for r, i in enumerate(present + missing, 1):
        out[i] = r
    return out


def _neg(v):
    if isinstance(v, (int, float)):
        return -v
    if isinstance(v, dt.date):
        return -v.toordinal()
    if isinstance(v, str):
        return tuple(-ord(c) for c in v) + (1,)  # a prefix sorts after its longer words
    if isinstance(v, tuple):
        return tuple(_neg(x) for x in v)
    raise TypeError(f"cannot sort {v!r}")


def _row(fig, months: list[str], has_course: bool) -> tuple[dict, list[str]]:
    """A person's sort keys and cells (HTML)."""
    from rehab.plots import test_label

    p = fig.participant
    person = (f'<a href="{esc(p)}/index.html">{esc(p)}</a>' if has_course else esc(p))
    keys: dict = {"person": p.lower(), "start": fig.start, "last": fig.last_log}
    ratio = fig.sessions_window / fig.sessions_target_window if fig.sessions_target_window else None
    keys["sessions"] = ratio
    sess = (f"{fig.sessions_window} / {fig.sessions_target_window:g}"
            + (f" ({ratio:.0%})" if ratio is not None else "")
            if fig.sessions_target_window is not None
            else f"{fig.sessions_window} (no protocol set)")
    if fig.test is not None and fig.test_first_date != fig.test_latest_date:
        delta = fig.test_latest - fig.test_first
        keys["test"] = delta
        reading = {"improved": "real change", "declined": "real decline",
                   "noise": "noise"}.get(fig.test_reading, "not judged")
        test = (f"{esc(test_label(fig.test))}: {esc(num(fig.test_first, 0))} → "
                f"{esc(num(fig.test_latest, 0, fig.test_unit))} ({esc(signed(delta, 0))}, "
                f"{esc(reading)})")
    elif fig.test is not None:
        keys["test"] = None
        test = f"{esc(test_label(fig.test))}: {esc(num(fig.test_latest, 0, fig.test_unit))} (one test)"
    else:
        keys["test"] = None
        test = '<span class="ok">no test</span>'
    if fig.pain_now is not None and fig.pain_baseline is not None:
        keys["pain"] = fig.pain_change
        pain = (f"{esc(num(fig.pain_baseline, 1))} → {esc(num(fig.pain_now, 1))} "
                f"({esc(signed(fig.pain_change, 1))}): {esc(fig.pain_reading)}")
    else:
        keys["pain"] = None
        pain = '<span class="ok">not enough diary days</span>'
    keys["flares"] = fig.flare_days_window
    flares = f"{fig.flare_days_window} ({fig.flare_days} in all)"
    keys["flags"] = (len(fig.flags), _neg(p.lower()))
    flags = ("".join(f'<span class="flag">{esc(f)}</span> ' for f in fig.flags)
             or '<span class="ok">none</span>')
    pages = (f'<a href="{esc(p)}/index.html">whole course</a> ' if has_course else "")
    pages += '<span class="months">' + "".join(
        f'<a href="{esc(p)}/{esc(m)}.html">{esc(dt.date(int(m[:4]), int(m[5:]), 1).strftime("%b %Y"))}</a>'
        for m in months) + "</span>"
    cells = [person, esc(nice_date(fig.start) + f" {fig.start:%Y}"),
             esc(nice_date(fig.last_log) + f" {fig.last_log:%Y}"), esc(sess), test, pain,
             esc(flares), flags, pages]
    return keys, cells


def render_index(project, *, failed: Iterable = (), courses: set[str] | None = None,
                 today: dt.date | None = None) -> str:
    """The caseload index of ``project`` (:class:`rehab.report.course.Project`) as HTML.
    ``courses``: the people whose whole-course page exists (linked)."""
    paths, ds = project.paths, project.ds
    people = list(ds.participants)
    rows = []
    for p in people:
        fig = project.figures(p, today=today)
        has_course = (courses is not None and p in courses) or (
            courses is None and (paths.reports / p / "index.html").is_file())
        rows.append(_row(fig, project.months(p), has_course))
    keys = [k for k, _, sortable in COLUMNS if sortable]
    ranks = {(k, d): _ranks([r[0][k] for r in rows], descending=d == "d")
             for k in keys for d in ("a", "d")}
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1.0">',
             "<title>rehab: caseload</title>",
             f'<style type="text/css">{CSS}{INDEX_CSS}{_sort_css(keys)}</style></head>'
             "<body><main>", '<h1 class="title">Caseload</h1>']
    if ds.is_demo:
        parts.append(f'<div class="demo" role="note"><strong>DEMO DATA.</strong> '
                     f"{esc(DEMO_BANNER)}</div>")
    n = len(people)
    parts.append(f'<p class="lead">{n} {"person" if n == 1 else "people"} in {esc(project.source)}'
                 f", as of {dt.date.today() if today is None else today:%d %b %Y}. The last four "
                 "weeks are the 28 days up to each person's last log. Sort by any column with its "
                 "▲ / ▼.</p>")
    if not people:
        parts.append("<p>No one has any records yet.</p>")
    # the radio buttons come first: the style sheet orders the rows by the one checked
    for k in keys:
        for d in ("a", "d"):
            checked = " checked" if (k, d) == DEFAULT_SORT else ""
            what = dict((c, h) for c, h, _ in COLUMNS)[k]
            word = "ascending" if d == "a" else "descending"
            parts.append(f'<input type="radio" class="sr sort" name="sort" id="sort-{k}-{d}"'
                         f'{checked} aria-label="sort by {esc(what)}, {word}">')
    bar = ['<div class="sort-bar" aria-hidden="true">Sort: ']
    for k, h, sortable in COLUMNS:
        if sortable:
            bar.append(f'{esc(h)} <label for="sort-{k}-a">▲</label><label for="sort-{k}-d">▼'
                       "</label> ")
    parts.append("".join(bar) + "</div>")
    parts.append('<div class="caseload" role="table" aria-label="caseload">')
    head = ['<div class="cl-head" role="row">']
    for k, h, sortable in COLUMNS:
        arrows = (f'<label for="sort-{k}-a" title="sort ascending">▲</label>'
                  f'<label for="sort-{k}-d" title="sort descending">▼</label>' if sortable else "")
        head.append(f'<div class="col" role="columnheader">{esc(h)} {arrows}</div>')
    parts.append("".join(head) + "</div>")
    parts.append('<div class="cl-rows" role="rowgroup">')
    for i, (_, cells) in enumerate(rows):
        style = ";".join(f"--r-{k}-{d}:{ranks[(k, d)][i]}" for k in keys for d in ("a", "d"))
        body = "".join(
            f'<div role="cell"{WIDE if c in WIDE_COLUMNS else ""}>'
            f'<span class="cl-label">{esc(h)}</span>{cell}</div>'
            for (c, h, _), cell in zip(COLUMNS, cells, strict=True))
        parts.append(f'<div class="cl-row" role="row" data-person="{esc(people[i])}" '
                     f'style="{style}">{body}</div>')
    parts.append("</div></div>")
    compare = paths.reports / COMPARE_DIR
    comparisons = sorted(compare.glob("*.html")) if compare.is_dir() else []
    if comparisons:
        parts.append('<h2>Protocol comparisons</h2><ul class="months">')
        for f in comparisons:
            parts.append(f'<li><a href="{esc(COMPARE_DIR)}/{esc(f.name)}">{esc(f.stem)}</a></li>')
        parts.append("</ul>")
    failed = list(failed)
    if failed:
        parts.append("<h2>Failed</h2><ul>")
        for o in failed:
            parts.append(f"<li>{esc(o.participant)} {esc(o.month)}: {esc(o.cell or '')}: "
                         f"{esc(o.error or '')}</li>")
        parts.append("</ul>")
    parts.append(f'<p class="disclaimer">{esc(DISCLAIMER)}</p></main></body></html>')
    return "\n".join(parts) + "\n"


def write_index(
    *, root: str | Path | None = None, failed: Iterable = (),
    data_dir: str | Path | None = None, project=None, today: dt.date | None = None,
) -> Path:
    """Write ``reports/index.html``, the caseload of the current data (see the module), listing
    ``failed`` months with their error. ``project`` (:class:`rehab.report.course.Project`) saves
    reading the data again."""
    from rehab.report.course import Project
    from rehab.report.page import offline_problems

    paths = _paths(root) if project is None else project.paths
    project = project or Project.load(paths, data_dir)
    page = render_index(project, failed=failed, today=today)
    problems = offline_problems(page)
    if problems:  # pragma: no cover - every link is relative and nothing runs
        raise ValueError("the index would load from the network or run scripts: "
                         + ", ".join(sorted(set(problems))[:5]))
    target = inside(paths.reports, paths.reports / "index.html")
    atomic_write_text(target, page)
    return target
