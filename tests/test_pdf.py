"""PDF copies of the pages (rehab.report.pdf, Debian's chromium): A4, the person and the month on
every page with "page N of M", vector charts, the same text as the HTML, and a page count that
does not change between two prints. Persona ``abab`` (tests/personas) copied to a temporary
folder; expected counts come from its raw rows."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from pathlib import Path

import pypdf
import pytest

from rehab.report.pdf import COURSE_PDF, find_chromium, pdf_path, write_pdfs

PERSONAS = Path(__file__).parent / "personas"


def _have_chromium() -> bool:
    try:
        find_chromium()
    except RuntimeError:
        return False
    return True


pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    # `make test` installs chromium; only outside CI may a machine without it skip these tests
    pytest.mark.skipif(not _have_chromium() and not os.environ.get("CI"),
                       reason="chromium is not installed (make test installs it)"),
]

A4_PT = (595.3, 841.9)  # 210 × 297 mm in points


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> tuple[Path, Path, Path]:
    from rehab.report.course import write_course
    from rehab.report.render import render_month

    root = tmp_path_factory.mktemp("pdf") / "abab"
    shutil.copytree(PERSONAS / "abab", root)
    month = render_month("sam", "2026-04", root=root)
    course = write_course(root, "sam")
    return root, month, course


def text_of(pdf: Path) -> tuple[int, list[str]]:
    r = pypdf.PdfReader(str(pdf))
    return len(r.pages), [p.extract_text() for p in r.pages]


def test_month_and_course_pdfs_open_with_person_month_and_page_numbers(pages):
    root, month, course = pages
    written = write_pdfs([month, course], force=True)
    assert written == [pdf_path(month), pdf_path(course)]
    assert pdf_path(month) == month.with_suffix(".pdf")  # beside the page: 2026-04.pdf
    assert pdf_path(course).name == COURSE_PDF
    n, texts = text_of(pdf_path(month))
    assert n >= 2
    for i, t in enumerate(texts, 1):
        assert "sam · April 2026 · monthly report" in t, i
        assert f"page {i} of {n}" in t, i
    whole = "\n".join(texts)
    # the header's counts, made here from the raw rows: training days and test days in April
    with open(root / "data" / "raw" / "sessions.csv", newline="", encoding="utf-8") as f:
        days = {r["date"] for r in csv.DictReader(f) if r["date"].startswith("2026-04")}
    with open(root / "data" / "raw" / "tests.csv", newline="", encoding="utf-8") as f:
        tests = {r["date"] for r in csv.DictReader(f) if r["date"].startswith("2026-04")}
    assert f"{len(days)} training day(s)" in whole
    assert f"{len(tests)} test day(s)" in whole
    assert "not medical advice" in whole
    # the one-minute summary's lines (as its JSON twin states them) are in the PDF's text
    summary = json.loads(month.with_suffix(".json").read_text(encoding="utf-8"))
    flat = re.sub(r"\s+", " ", whole.replace("\ufb01", "fi").replace("\ufb02", "fl"))
    lines = summary.get("one_minute") or []
    for item in lines:
        assert re.sub(r"\s+", " ", item["text"]) in flat, item
    if lines:
        assert summary["training_days"] == len(days)
        assert f"{summary['pain']['mean']:.1f} out of 10" in flat
    cn, ctexts = text_of(pdf_path(course))
    assert "The whole course: sam" in ctexts[0]
    assert all("sam · the whole course" in t and f"of {cn}" in t for t in ctexts)


def test_pdf_is_a4_with_vector_charts_and_a_stable_page_count(pages):
    _, month, _ = pages
    first = write_pdfs([month], force=True)[0]
    n1 = len(pypdf.PdfReader(str(first)).pages)
    again = write_pdfs([month], force=True)[0]
    r = pypdf.PdfReader(str(again))
    assert len(r.pages) == n1
    for page in r.pages:
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(w - A4_PT[0]) < 1 and abs(h - A4_PT[1]) < 1
        # charts are drawn as paths: no raster image anywhere
        xobjects = page["/Resources"].get("/XObject") or {}
        for name in xobjects:
            assert xobjects[name].get_object().get("/Subtype") != "/Image", name
    assert write_pdfs([month]) == []  # a PDF newer than its page is kept


def test_printing_from_the_browser_gives_the_pdfs_pages(pages, tmp_path):
    """The browser's own print (the page's @page rule: A4, its margins) lays out the same pages
    as `rehab report --pdf` (the same margins given to chromium, plus header and footer)."""
    from rehab.report.pdf import Printer

    _, month, course = pages
    with Printer() as p:
        for page in (month, course):
            ours = p.print(page, tmp_path / f"{page.stem}-ours.pdf", header="x")
            browser = p.print(page, tmp_path / f"{page.stem}-browser.pdf", header="x",
                              as_browser=True)
            a, b = pypdf.PdfReader(str(ours)), pypdf.PdfReader(str(browser))
            assert len(a.pages) == len(b.pages), page
            for pa, pb in zip(a.pages, b.pages, strict=True):  # each page starts alike
                start = pb.extract_text().strip()[:60]
                assert start in pa.extract_text(), (page, start)
            assert abs(float(b.pages[0].mediabox.width) - A4_PT[0]) < 1
            assert abs(float(b.pages[0].mediabox.height) - A4_PT[1]) < 1
