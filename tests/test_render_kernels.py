"""Warm kernels: pages rendered one after another on a kept kernel are the pages rendered alone;
a page that fails or hangs is reported, its kernel replaced, and the others go on.

The order test uses the kit's real template on the demo person (that is where state could leak:
report modules, chart ids, random draws); the failure tests use a tiny template of the project's
own, so each page costs milliseconds.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from rehab import demo
from rehab.paths import ProjectPaths
from rehab.report import kernels, render
from rehab.report.kernels import KIT_TEMPLATE, Kernel
from rehab.report.page import export_html
from rehab.report.render import render_all

sys.path.insert(0, str(Path(__file__).parent))
from test_render_cache import make, tiny_template  # noqa: E402

# the footer's "on 06 Dec 2026" is the only time stamp a page shows
STAMP = re.compile(r"on \d{1,2} [A-Z][a-z]{2} \d{4}")


def pages(kernel: Kernel, root: Path, months: list[str]) -> dict[str, str]:
    paths = ProjectPaths(root)
    out = {}
    for m in months:
        nb = kernel.run(KIT_TEMPLATE, render._params(paths, "demo", m, None))
        out[m] = STAMP.sub("on <today>", export_html(nb, title=m))
    return out


def test_pages_are_the_same_whatever_came_before_them_on_the_kernel(tmp_path):
    root = tmp_path / "project"
    demo.generate(root / "data" / "sample")
    months = ["2026-03", "2026-05"]  # a phase change, then a month with every section
    one, two = Kernel(root), Kernel(root)
    try:
        forward = pages(one, root, months)
        backward = pages(two, root, months[::-1])
    finally:
        one.close()
        two.close()
    for m in months:
        assert forward[m] == backward[m], m
    assert forward["2026-03"] != forward["2026-05"]
    assert 'data-chart="calendar"' in forward["2026-05"]


def test_names_from_one_page_are_gone_on_the_next(tmp_path):
    root = make(tmp_path / "proj")
    template = tiny_template(root, extra='print("left over:", globals().get("leftover"))\n'
                                          "leftover = month\n")
    kernel = Kernel(root)
    try:
        for m in ("2026-01", "2026-02"):
            nb = kernel.run(template, render._params(ProjectPaths(root), "a", m, None))
            printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
            assert "left over: None" in printed, m
    finally:
        kernel.close()


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failing_and_a_hanging_page_are_reported_and_the_rest_go_on(tmp_path, monkeypatch, jobs):
    monkeypatch.setattr(kernels, "KIT_FILES", ())
    root = make(tmp_path / "proj")
    tiny_template(root, extra=(
        "import os, time\n"
        'if (participant, month) == ("a", "2026-02"):\n    raise RuntimeError("boom in February")\n'
        'if (participant, month) == ("a", "2026-03"):\n    time.sleep(60)\n'
        'print("kernel", os.getpid())\n'))
    result = render_all(root=root, jobs=jobs, page_timeout=4)
    by = {(o.participant, o.month): o for o in result.outcomes}
    assert by[("a", "2026-02")].status == "failed"
    assert "RuntimeError: boom in February" in by[("a", "2026-02")].error
    hung = by[("a", "2026-03")]
    assert hung.status == "failed" and "took longer than 4 s" in hung.error
    assert hung.seconds < 30  # stopped at its limit, not after the minute it asked for
    ok = {k for k, o in by.items() if o.status == "ok"}
    assert ok == {("a", "2026-01"), ("b", "2026-01"), ("b", "2026-02"), ("b", "2026-03")}
    assert result.exit_code == 1
    if jobs == 1:  # b's pages came after the hang: on a new kernel
        pid = {k: re.search(r"kernel (\d+)", (root / "reports" / k[0] / f"{k[1]}.html")
                            .read_text(encoding="utf-8")).group(1) for k in ok}
        assert pid[("a", "2026-01")] != pid[("b", "2026-01")] == pid[("b", "2026-03")]
    index = (root / "reports" / "index.html").read_text(encoding="utf-8")
    assert "boom in February" in index


def test_a_course_page_that_fails_on_the_kernel_is_reported_and_the_rest_is_written(
        tmp_path, monkeypatch):
    """The whole-course pages and the index are written on the batch's kernels: one person's
    course page that cannot be written (a folder where the file goes) is a failure named in the
    result and on the index; the months, the other course page and the index are written."""
    monkeypatch.setattr(kernels, "KIT_FILES", ())
    root = make(tmp_path / "proj")
    tiny_template(root)
    (root / "reports" / "b" / "index.html").mkdir(parents=True)  # b's course page: a folder
    result = render_all(root=root, jobs=2)
    failed = [o for o in result.outcomes if o.status == "failed"]
    assert [(o.participant, o.month, o.cell) for o in failed] == [("b", "whole course",
                                                                   "course page")]
    assert "IsADirectoryError" in failed[0].error or "Is a directory" in failed[0].error
    assert result.exit_code == 1
    assert len(result.ok) == 6
    assert (root / "reports" / "a" / "index.html").is_file()
    index = (root / "reports" / "index.html").read_text(encoding="utf-8")
    assert "whole course" in index and "Is a directory" in index
