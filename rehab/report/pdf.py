"""PDF copies of the report pages, printed by Debian's chromium through the DevTools protocol.

Why chromium, driven directly: the pages are already laid out for it (the browser test opens them
in it, and "print from the browser" is the same engine, so the PDF and a browser print match);
its ``Page.printToPDF`` gives A4 with vector SVG charts, the page's print CSS (no chart or table
cut across pages) and a header and footer on every page with the page number and count. The
protocol is spoken over a pipe (``--remote-debugging-pipe``: NUL-separated JSON on file
descriptors 3 and 4), so no Python package is added and no port is opened; one browser prints a
whole batch. WeasyPrint was the alternative: it needs pango from Debian too, and lays out pages
with its own engine, so a browser print and the PDF would differ.

The browser gets no network: every proxy points at a closed port and background networking is
off; the pages themselves are self-contained (:func:`rehab.report.page.offline_problems`).
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from rehab.paths import atomic_write_bytes

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
TIMEOUT_S = 120.0
A4_IN = (8.27, 11.69)
MARGIN_IN = {"top": 0.55, "bottom": 0.55, "left": 0.45, "right": 0.45}


class PdfError(RuntimeError):
    """A PDF cannot be printed: no chromium, or the browser failed."""


def find_chromium() -> str:
    """The chromium executable: ``$REHAB_CHROMIUM``, else the first of :data:`CHROMIUM_NAMES`
    on the PATH. PdfError with the install hint when there is none."""
    own = os.environ.get("REHAB_CHROMIUM")
    if own:
        if not Path(own).is_file():
            raise PdfError(f"REHAB_CHROMIUM={own} is not a file: give the chromium executable")
        return own
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise PdfError("PDF needs chromium, which was not found: install Debian's with "
                   "`sudo apt-get install chromium` (`make browser-deps` does it), or set "
                   "REHAB_CHROMIUM to a chromium executable")


def _margin_box(text: str, *, pages: bool) -> str:
    """The header or footer template: small grey text; chromium fills ``pageNumber`` and
    ``totalPages``. (The template is its own document: it needs its own font size.)"""
    num = ('<span style="float:right">page <span class="pageNumber"></span> of '
           '<span class="totalPages"></span></span>') if pages else ""
    return (f'<div style="font-size:8px;color:#57606a;width:100%;margin:0 0.45in;'
            f'font-family:system-ui,Arial,sans-serif">{html.escape(text)}{num}</div>')


class Printer:
    """One headless chromium, kept open for a batch of pages: ``with Printer() as p:
    p.print(html_path, pdf_path, header=...)``."""

    def __init__(self, chromium: str | None = None):
        self.chromium = chromium or find_chromium()
        self.proc: subprocess.Popen | None = None
        self._id = 0
        self._buf = b""

    def __enter__(self) -> Printer:
        import tempfile

        self._profile = tempfile.TemporaryDirectory(prefix="rehab-pdf-")
        # fd 3: the browser reads commands; fd 4: it writes answers and events
        to_browser_r, self._w = os.pipe()
        self._r, from_browser_w = os.pipe()

        def fds() -> None:
            import fcntl

            # above 4 first, so that placing one cannot overwrite the other
            a = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [self.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-default-apps", "--disable-extensions",
                "--disable-domain-reliability", "--no-default-browser-check",
                "--hide-scrollbars", "--proxy-server=127.0.0.1:9",
                "--proxy-bypass-list=<-loopback>", f"--user-data-dir={self._profile.name}",
                "--remote-debugging-pipe", "about:blank"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=fds,
                                     pass_fds=(3, 4))
        os.close(to_browser_r)
        os.close(from_browser_w)
        target = self._call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self._call("Target.attachToTarget", targetId=target,
                                   flatten=True)["sessionId"]
        self._call("Page.enable", session=True)
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self.proc is not None and self.proc.poll() is None:
                with contextlib.suppress(PdfError, OSError):
                    self._call("Browser.close", timeout=10)
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            for fd in (self._w, self._r):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._profile.cleanup()

    # --- the protocol --------------------------------------------------------------------------

    def _read_message(self, deadline: float) -> dict:
        import select

        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise PdfError("chromium did not answer in time")
            ready, _, _ = select.select([self._r], [], [], left)
            if ready:
                chunk = os.read(self._r, 1 << 20)
                if not chunk:
                    raise PdfError("chromium closed the connection (it may have crashed)")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def _call(self, method: str, *, session: bool = False, timeout: float = TIMEOUT_S,
              wait_event: str | None = None, **params) -> dict:
        """Send one command; return its result (and, with ``wait_event``, wait for that event
        of the page after the answer too)."""
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self._session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            data = data[os.write(self._w, data):]
        deadline = time.monotonic() + timeout
        result, seen = None, wait_event is None
        while result is None or not seen:
            m = self._read_message(deadline)
            if m.get("id") == self._id:
                if "error" in m:
                    raise PdfError(f"chromium: {method}: {m['error'].get('message')}")
                result = m.get("result", {})
            elif wait_event and m.get("method") == wait_event:
                seen = True
        return result

    # --- printing ------------------------------------------------------------------------------

    def print(self, page: Path, pdf: Path, *, header: str, footer: str = "",
              as_browser: bool = False) -> Path:
        """Print the HTML file ``page`` to ``pdf`` (A4, written atomically): ``header`` on every
        page at the top, ``footer`` and "page N of M" at the bottom. ``as_browser``: as the
        browser's own print does, from the page's ``@page`` rule, without header and footer
        (the same pages: its margins are the ones set here)."""
        page = Path(page).resolve()
        self._call("Page.navigate", session=True, url=page.as_uri(),
                   wait_event="Page.loadEventFired")
        if as_browser:
            opts = {"preferCSSPageSize": True, "printBackground": True}
        else:
            opts = {"paperWidth": A4_IN[0], "paperHeight": A4_IN[1],
                    "marginTop": MARGIN_IN["top"], "marginBottom": MARGIN_IN["bottom"],
                    "marginLeft": MARGIN_IN["left"], "marginRight": MARGIN_IN["right"],
                    "printBackground": True, "displayHeaderFooter": True,
                    "headerTemplate": _margin_box(header, pages=False),
                    "footerTemplate": _margin_box(footer, pages=True)}
        res = self._call("Page.printToPDF", session=True, **opts)
        atomic_write_bytes(Path(pdf), base64.b64decode(res["data"]))
        return Path(pdf)


def print_pdfs(jobs: list[tuple[Path, Path, str]], *, footer: str = "") -> list[Path]:
    """Print each (html, pdf, header) with one browser; return the PDFs written."""
    if not jobs:
        return []
    with Printer() as p:
        return [p.print(h, out, header=head, footer=footer) for h, out, head in jobs]


COURSE_PDF = "course.pdf"  # the whole-course page's PDF, beside reports/<participant>/index.html
FOOTER = "rehab · describes what was logged; not medical advice"


def pdf_path(page: Path) -> Path:
    """Where a page's PDF goes: ``<YYYY-MM>.pdf`` beside a monthly page, ``course.pdf`` beside
    a whole-course page (``index.html``)."""
    page = Path(page)
    return page.with_name(COURSE_PDF) if page.name == "index.html" else page.with_suffix(".pdf")


def page_header(page: Path) -> str:
    """The line on top of every PDF page: person, month (or "whole course"), and the kind of
    page, from the page's place under ``reports/``."""
    import datetime as dt
    import re

    from rehab.report.files import _read_sidecar

    page = Path(page)
    who = page.parent.name
    # a page of the demo data says so on every printed page, not only under the title
    demo = " · DEMO DATA (made-up numbers)" if _read_sidecar(page).get("demo") else ""
    m = re.fullmatch(r"(\d{4})-(\d{2})", page.stem)
    if m:
        month = dt.date(int(m.group(1)), int(m.group(2)), 1).strftime("%B %Y")
        return f"{who} · {month} · monthly report{demo}"
    return f"{who} · the whole course{demo}"


def write_pdfs(pages, *, force: bool = False) -> list[Path]:
    """A PDF beside each HTML page in ``pages`` (monthly or whole-course pages), printed by one
    browser; a PDF newer than its page is kept unless ``force``. Returns the PDFs written."""
    jobs = []
    for page in (Path(p) for p in pages):
        out = pdf_path(page)
        if not force and out.is_file() and out.stat().st_mtime >= page.stat().st_mtime:
            continue
        jobs.append((page, out, page_header(page)))
    return print_pdfs(jobs, footer=FOOTER)


def batch_pdfs(outcomes, *, force: bool = False) -> list[Path]:
    """The PDFs of a batch's pages (``rehab report --pdf``): each month rendered or unchanged,
    and the whole-course page of each of its people; a PDF newer than its page is kept."""
    pages: list[Path] = []
    for o in outcomes:
        if o.status in ("ok", "skipped") and o.path:
            pages.append(Path(o.path))
    for folder in sorted({p.parent for p in pages}):
        if (folder / "index.html").is_file():
            pages.append(folder / "index.html")
    return write_pdfs(pages, force=force)
