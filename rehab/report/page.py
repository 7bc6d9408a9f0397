"""Page helpers shared by every page of the report package: the style sheet, the banner and
disclaimer, HTML pieces (escaping, numbers, tables, figures, sections), the notebook-to-page export
and the offline check.

Every page is self-contained: charts are inline SVG, the page template carries no CDN scripts, and
:func:`offline_problems` refuses any remote ``src``/``href``/``url()`` or script before a file is
written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import queue
import re
import threading
from dataclasses import dataclass

DISCLAIMER = (
    "This report describes what was logged. It is not medical advice: talk to your clinician "
    "before changing training or treatment because of it."
)
DEMO_BANNER = "Demo data: made-up numbers from the kit's generator, not a real person."


def esc(value: object) -> str:
    """Text for HTML: escaped, quotes included."""
    return html.escape("" if value is None else str(value), quote=True)


def num(x: float | None, nd: int = 0, unit: str = "") -> str:
    """A number for the text, or an en dash when missing (None or NaN)."""
    if x is None or x != x:
        return "–"
    s = f"{x:.{nd}f}"
    return f"{s} {unit}".strip() if unit else s


def signed(x: float | None, nd: int = 0, unit: str = "") -> str:
    """A number with its sign (a true minus), or an en dash when missing (None or NaN)."""
    if x is None or x != x:
        return "–"
    s = f"{x:+.{nd}f}".replace("-", "−")
    return f"{s} {unit}".strip() if unit else s


def nice_date(d: dt.date) -> str:
    return f"{d.day} {d:%b}"


@dataclass(frozen=True)
class Section:
    """One displayed block of the report: HTML for the report, plain text for everything else."""

    html: str
    text: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text

    def _ipython_display_(self) -> None:
        # an empty section (e.g. no phase change this month) leaves no output in the report
        if not self.html:
            return
        from IPython.display import display

        display({"text/html": self.html, "text/plain": self.text}, raw=True)


def para(text: str, cls: str | None = None) -> str:
    return f'<p class="{cls}">{text}</p>' if cls else f"<p>{text}</p>"


def table(headers: list[str], rows: list[list[str]], *, cls: str = "tidy") -> str:
    """An HTML table; cells are already-escaped HTML strings."""
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    # each cell carries its column's name: on a phone the table folds into one card a row, each
    # cell labelled (see CSS)
    labels = [esc(h) for h in headers]
    body = "".join("<tr>" + "".join(f'<td data-label="{labels[i] if i < len(labels) else ""}">'
                                    f"{c}</td>" for i, c in enumerate(r)) + "</tr>"
                   for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def figure(chart, name: str, caption: str) -> str:
    from rehab import plots  # altair: only pages with charts pay its import

    svg = accessible_svg(plots.to_svg(chart, prefix=name), caption)
    return (f'<figure class="chart" data-chart="{esc(name)}">{svg}'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


_SVG_OPEN = re.compile(r"<svg\b([^>]*)>")


def accessible_svg(svg: str, label: str) -> str:
    """The chart's SVG as one image for a screen reader: ``role="img"``, ``aria-label`` and a
    ``<title>`` from the caption (its marks are not read one by one)."""
    m = _SVG_OPEN.search(svg)
    if m is None:
        return svg
    attrs = re.sub(r'\s(?:role|aria-label)="[^"]*"', "", m.group(1))
    head = f'<svg{attrs} role="img" aria-label="{esc(label)}"><title>{esc(label)}</title>'
    return svg[:m.start()] + head + svg[m.end():]


def section(name: str, parts: list[str], text: list[str]) -> Section:
    # the id is the anchor the one-minute summary links to (#pain, #flares, ...)
    return Section(f'<div class="section" id="{esc(name)}" data-section="{esc(name)}">'
                   f'{"".join(parts)}</div>', "\n".join(text))


# --- HTML export --------------------------------------------------------------------------------

CSS = """
:root { --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --accent: #0b4f8a; }
* { box-sizing: border-box; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; background: #f6f8fa; color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
main { max-width: 920px; margin: 0 auto; padding: 24px 32px 48px; background: white;
  min-height: 100vh; }
h1.title { font-size: 26px; margin: 8px 0 12px; }
h2 { font-size: 20px; margin: 32px 0 6px; padding-top: 12px; border-top: 1px solid var(--line);
  color: var(--accent); }
h3 { font-size: 16px; margin: 20px 0 4px; }
p { margin: 6px 0; }
.jp-RenderedMarkdown p { color: var(--muted); font-size: 14px; }
.demo { background: #fff3bf; border: 2px solid #e0a800; border-radius: 6px; padding: 8px 12px;
  margin: 10px 0; font-size: 15px; }
.disclaimer { color: var(--muted); font-style: italic; font-size: 14px; }
.lead { font-size: 16px; }
.note, .quality { color: var(--muted); font-size: 14px; }
.footer { color: var(--muted); font-size: 13px; border-top: 1px solid var(--line);
  margin-top: 32px; padding-top: 8px; }
figure.chart { margin: 14px 0; overflow-x: auto; }
figure.chart svg { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 2px; }
table.tidy { border-collapse: collapse; margin: 10px 0; font-size: 14px; }
table.tidy th, table.tidy td { border-bottom: 1px solid var(--line); padding: 4px 10px;
  text-align: left; vertical-align: top; }
table.tidy th { background: #f0f3f6; font-weight: 600; }
table.tidy td:not(:first-child):not(:last-child) { font-variant-numeric: tabular-nums; }
table.notes td:last-child { white-space: pre-wrap; }
.jp-OutputArea-prompt, .jp-InputPrompt, .jp-OutputPrompt, .jp-Collapser { display: none; }
a.anchor-link { display: none; }
/* nothing wider than the screen: charts scale down (their SVG has a viewBox), long words wrap */
html, body { overflow-wrap: break-word; }
img, svg, video { max-width: 100%; }
.jp-OutputArea-output, .jp-RenderedHTMLCommon, .jp-Cell, .jp-OutputArea { max-width: 100%;
  min-width: 0; overflow-x: visible; }
.how-to-read dt { font-weight: 600; margin-top: 8px; }
.how-to-read dd { margin: 2px 0 6px 0; color: var(--muted); font-size: 14px; }
.keep { break-inside: avoid; page-break-inside: avoid; }
.again { visibility: hidden; }
@media (max-width: 640px) {
  body { font-size: 15px; }
  main { padding: 12px 12px 32px; }
  h1.title { font-size: 22px; }
  /* a wide table folds: one card a row, each cell under its column's name */
  table.tidy, table.tidy tbody, table.tidy tr, table.tidy td { display: block; width: 100%; }
  table.tidy thead { position: absolute; width: 1px; height: 1px; overflow: hidden;
    clip: rect(0 0 0 0); }
  table.tidy tr { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0;
    padding: 4px 8px; }
  table.tidy td { border: 0; padding: 2px 0; }
  table.tidy td:empty { display: none; }
  .again { visibility: visible; }
  table.tidy td[data-label]:not([data-label=""])::before { content: attr(data-label) ": ";
    color: var(--muted); font-size: 13px; }
}
/* printing from the browser gives the PDF's pages (rehab report --pdf prints this CSS) */
@page { size: A4; margin: 14mm 11.5mm; }
@media print {
  html, body { background: white; font-size: 11pt; }
  main { max-width: none; padding: 0; min-height: 0; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  figure.chart, table, .keep, .summary { break-inside: avoid; page-break-inside: avoid; }
  table.long { break-inside: auto; }
  table.long tr { break-inside: avoid; }
  figure.chart svg { max-height: 240mm; width: auto; }
  a { color: inherit; text-decoration: none; }
  .no-print { display: none; }
}
"""

_PAGE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block notebook_css -%}
<style type="text/css">{{ resources.rehab_css }}</style>
{%- endblock notebook_css -%}
"""

_REMOTE = re.compile(
    r"""(?:\b(?:src|href|xlink:href|action|poster|data|srcset)\s*=\s*["']?\s*(?:https?:|ftp:|//)"""
    r"""|url\(\s*["']?\s*(?:https?:|//)|@import\s)""",
    re.IGNORECASE,
)
_SCRIPT = re.compile(r"<script\b", re.IGNORECASE)


def offline_problems(page: str) -> list[str]:
    """What would make a page touch the network or run code: remote src/href/url() and script tags.

    (An SVG ``xmlns`` namespace is a name, not a request, and is allowed.)"""
    found = [m.group(0) for m in _REMOTE.finditer(page)]
    found += ["<script" for _ in _SCRIPT.finditer(page)]
    return found


def export_html(nb, *, title: str) -> str:
    """The executed notebook as one self-contained HTML page: outputs and markdown only."""
    import copy

    nb = copy.deepcopy(nb)  # outputs are filtered below: the caller's notebook stays whole
    nb.metadata["title"] = title
    for cell in nb.cells:  # warnings on stderr are not part of a report
        if cell.get("outputs"):
            cell.outputs = [o for o in cell.outputs
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                            # the JSON summary is written beside the page, not shown on it
                            and (o.get("metadata") or {}).get("rehab") != "summary"]
    # exporters are kept for the next page: making one compiles its templates (about 0.1 s a
    # page in a batch); one is used by one thread at a time (it registers filters on itself as
    # it runs), so each export takes a free one or makes one, and gives it back after
    try:
        exporter = _exporters.get_nowait()
    except queue.Empty:
        exporter = _exporter_class()(
            template_name="lab",
            raw_template=_PAGE,
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            exclude_anchor_links=True,
        )
    try:
        body, _ = exporter.from_notebook_node(nb, resources={"rehab_css": CSS})
    finally:
        _exporters.put(exporter)
    return body


_exporters: queue.SimpleQueue = queue.SimpleQueue()


def _exporter_class():
    """nbconvert's HTML exporter without its last pass, which parses the finished page again
    with BeautifulSoup to give ``<img>`` without ``alt`` a stock text and every cell and output a
    ``tabindex``: a report has no ``<img>`` (charts are inline SVG with their own titles), its
    outputs are not controls to tab through, and the pass took 0.1 s of every page."""
    from rehab import _quick_imports

    _quick_imports.skip_iri_grammar()  # before nbconvert imports jsonschema: ~0.9 s
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class PageExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            # HTMLExporter.from_notebook_node up to its BeautifulSoup pass
            lang = nb.metadata.get("language_info", {})
            lexer = lang.get("pygments_lexer", lang.get("name", None))
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return PageExporter


def warm_export() -> threading.Thread:
    """Make an exporter (imports, templates compiled: about 0.4 s) on a thread of its own, by
    exporting a one-cell notebook, so that a batch has it ready when its first page has run
    (made while the kernel starts, and never holding that page up). Returns the thread."""

    from rehab import _quick_imports

    _quick_imports.skip_iri_grammar()  # before nbformat imports jsonschema: ~0.9 s

    def make() -> None:
        import nbformat

        with contextlib.suppress(Exception):  # a page's own export then says what is wrong
            export_html(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("-")]),
                        title="-")

    thread = threading.Thread(target=make, name="rehab-export-warm-up", daemon=True)
    thread.start()
    return thread


