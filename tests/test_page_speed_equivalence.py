"""A monthly page does each costly piece of its data work once (issue #15: a page's CPU).

The one-minute text, the header, the sessions and adherence sections and the JSON summary all read
the month's adherence and progression; the target, the protocol names, the summary, the adherence
table and the exercise names all read the project's protocol files. Each used to be computed again
by every reader. These tests count the calls over a whole page, section by section in the order of
the report template; the expected count is 1 by the page's design, not taken from a run.
"""

from __future__ import annotations

import pytest

from rehab import adherence, demo, protocol
from rehab.report.monthly import MonthReport

SECTIONS = ("header", "one_minute", "sessions_section", "adherence", "phase_change",
            "what_was_done", "endurance", "endurance_model", "pain", "flares", "session_pain",
            "pain_model", "questionnaires", "notes", "data_quality", "how_to_read", "footer",
            "summary_output")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("speed")
    demo.generate(root / "data" / "sample")  # one person, "demo", Feb to Oct 2026, two phases
    return root


def counting(monkeypatch, module, name: str) -> list[int]:
    calls = [0]
    real = getattr(module, name)

    def wrapper(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


@pytest.mark.parametrize("month", ["2026-03", "2026-05"])  # a phase change in March; May: one
def test_a_page_computes_its_adherence_once_and_reads_the_protocols_once(project, month,
                                                                          monkeypatch):
    sections = counting(monkeypatch, adherence, "adherence_section")
    reads = counting(monkeypatch, protocol, "load_protocols")
    report = MonthReport.load("demo", month, project_dir=str(project))
    for name in SECTIONS:
        getattr(report, name)()
    assert sections[0] == 1
    assert reads[0] == 1
    # the adherence section and the summary show the same weeks: the summary's weeks are the
    # section's table rows (one protocol a week here)
    weeks = {w.week for w in report.summary.weeks if w.status != "no_target"}
    assert weeks == set(report.month_adherence.table["week"].to_list())
