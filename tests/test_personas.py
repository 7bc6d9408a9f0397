"""End to end on the personas (tests/personas/README.md): import and validate, render monthly
reports on a copy, and check every summary file's figures against counts made HERE from the raw
CSV rows with the csv module (never against the kit's own tables).

The counting rules written out below are the documented definitions (rehab/summary.py): a
training day has a work set (set type normal, failure, drop or none); the month's weeks are the
ISO weeks whose Thursday falls in it, each counted whole; a week's target is 2 sessions (both
protocols used here ask for 2 a week) × its days under a protocol ÷ 7, an open phase running to
the end of the month's last week; pain is the mean over diary days of each day's mean.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

PERSONAS = Path(__file__).resolve().parent / "personas"
D = dt.date.fromisoformat
WORK = {"", "normal", "failure", "drop"}
SPW = {"shit": 2.0, "traditional-core": 2.0}  # sessions_per_week of the two protocol files


def copy(name: str, tmp_path: Path) -> Path:
    root = tmp_path / name
    shutil.copytree(PERSONAS / name, root)
    return root


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# --- counts from the raw rows ---------------------------------------------------------------------


class Raw:
    """One persona's raw rows, per participant (``me`` when the column is absent)."""

    def __init__(self, sessions, diary, tests, phases, *, config_protocol=None):
        self.sessions, self.diary, self.tests, self.phases = sessions, diary, tests, phases
        self.config_protocol = config_protocol

    @classmethod
    def from_folder(cls, raw: Path, **kw) -> Raw:
        def get(name):
            return rows(raw / name) if (raw / name).is_file() else []

        return cls(get("sessions.csv"), get("diary.csv"), get("tests.csv"), get("phases.csv"),
                   **kw)

    @staticmethod
    def _who(r):
        return r.get("participant") or "me"

    def mine(self, table, pid):
        return [r for r in getattr(self, table) if self._who(r) == pid]

    def work_days(self, pid) -> set[dt.date]:
        return {D(r["date"]) for r in self.mine("sessions", pid)
                if (r.get("set_type") or "").strip() in WORK}

    def start(self, pid) -> dt.date:
        dates = [D(r["date"]) for t in ("sessions", "diary", "tests") for r in self.mine(t, pid)]
        dates += [D(r["start"]) for r in self.mine("phases", pid)]
        return min(dates)

    def last_record(self, pid) -> dt.date:
        return max(D(r["date"]) for t in ("sessions", "diary", "tests")
                   for r in self.mine(t, pid))

    def protocol_on(self, pid, day, open_until) -> str | None:
        for r in self.mine("phases", pid):
            end = D(r["end"]) if r["end"] else open_until
            if D(r["start"]) <= day <= end:
                return r["protocol"]
        if self.config_protocol and self.mine("sessions", pid):
            first = min(D(r["date"]) for r in self.mine("sessions", pid))
            if first <= day <= open_until:
                return self.config_protocol
        return None

    def daily_pain(self, pid) -> dict[dt.date, float]:
        by = defaultdict(list)
        for r in self.mine("diary", pid):
            if r.get("pain", "") != "":
                by[D(r["date"])].append(float(r["pain"]))
        return {d: sum(v) / len(v) for d, v in by.items()}


def iso_weeks(month: str) -> list[dt.date]:
    first = D(month + "-01")
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    monday = first - dt.timedelta(days=first.weekday())
    out = []
    while monday < nxt:
        if first <= monday + dt.timedelta(days=3) < nxt:
            out.append(monday)
        monday += dt.timedelta(days=7)
    return out


def expected(raw: Raw, pid: str, month: str) -> dict:
    weeks = iso_weeks(month)
    open_until = weeks[-1] + dt.timedelta(days=6)
    first = D(month + "-01")
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    work = raw.work_days(pid)
    start, last = raw.start(pid), raw.last_record(pid)
    out_weeks = []
    for ws in weeks:
        we = ws + dt.timedelta(days=6)
        n = sum(ws <= d <= we for d in work)
        protos = [raw.protocol_on(pid, ws + dt.timedelta(days=i), open_until) for i in range(7)]
        target = sum(SPW[p] / 7 for p in protos if p) or None
        if target is None:
            status = "before_start" if we < start else "no_target"
        elif n >= target - 1e-9:
            status = "met"
        elif last < we:
            status = "not_over"
        else:
            status = "below"
        out_weeks.append((ws.isoformat(), n, None if target is None else round(target, 3),
                          status))
    pain = {d: p for d, p in raw.daily_pain(pid).items() if first <= d < nxt}
    best = defaultdict(float)
    prev_first = (first - dt.timedelta(days=1)).replace(day=1)
    previous: dict[str, float] = {}
    for r in raw.mine("tests", pid):
        d, v = D(r["date"]), float(r["value"])
        if first <= d < nxt:
            best[r["test"]] = max(best[r["test"]], v)
        elif prev_first <= d < first:
            previous[r["test"]] = max(previous.get(r["test"], 0.0), v)
    return {
        "training_days": sum(first <= d < nxt for d in work),
        "weeks": out_weeks,
        "pain_days": len(pain),
        "pain_mean": sum(pain.values()) / len(pain) if pain else None,
        "tests": {t: (b, previous.get(t)) for t, b in best.items()},
    }


def check_summary(root: Path, raw: Raw, pid: str, month: str, *, protocol) -> dict:
    page = root / "reports" / pid / f"{month}.html"
    path = root / "reports" / pid / f"{month}.json"
    assert page.is_file() and path.is_file(), f"{pid} {month}: no page or no summary"
    got = json.loads(path.read_text(encoding="utf-8"))
    want = expected(raw, pid, month)
    assert (got["participant"], got["month"], got["demo"]) == (pid, month, False)
    assert got["protocol"] == protocol
    assert got["target_per_week"] == (None if protocol is None else SPW[protocol])
    assert got["training_days"] == want["training_days"], (pid, month)
    assert [(w["week_start"], w["sessions"], w["target"], w["status"])
            for w in got["weeks"]] == want["weeks"], (pid, month)
    assert got["pain"]["days"] == want["pain_days"]
    if want["pain_mean"] is None:
        assert got["pain"]["mean"] is None
    else:
        assert got["pain"]["mean"] == pytest.approx(want["pain_mean"], abs=5e-4)
    assert {t["test"]: (t["best"], t["best_previous"]) for t in got["tests"]} == want["tests"]
    assert all(set(n) >= {"exercise", "text"} for n in got["next_steps"])
    if protocol is None:
        assert got["next_steps"] == [] and "[protocol]" in got["protocol_note"]
    # the page shows the same figures in its one-minute part, and not the JSON itself
    html = page.read_text(encoding="utf-8")
    assert "This month in one minute" in html and "application/json" not in html
    one = {line["section"]: line["text"] for line in got["one_minute"]}
    assert one["sessions"].startswith(f"{want['training_days']} training day")
    if want["pain_mean"] is not None:
        assert f"{want['pain_mean']:.1f} out of 10" in one["pain"]
    for line in got["one_minute"]:
        assert f'<a href="#{line["section"]}">' in html
        assert f'id="{line["section"]}"' in html, line["section"]  # the link resolves
        assert "shit" not in line["text"].replace('"shit"', "")  # names, never ids
    return got


# --- each persona: import and validate (fast) -----------------------------------------------------


@pytest.mark.parametrize("name", ["hand_typed", "abab", "clinic", "strong_pounds"])
def test_every_persona_file_validates_whole(name):
    from rehab.io import log_files, read_any

    raw = PERSONAS / name / "data" / "raw"
    for f, _spec in log_files(raw):
        r = read_any(f)
        n = len(rows(f))
        assert r.data.height == n and r.quarantine.height == 0, f


def test_the_strong_export_imports_every_set_in_pounds(tmp_path):
    from rehab.importers import import_file

    root = copy("strong_pounds", tmp_path)
    export = root / "exports" / "strong.csv"
    res = import_file(export, root=root)
    src = rows(export)
    sets = [r for r in src if r["Set Order"] not in ("Rest Timer", "Note")]
    assert res.new + res.already_present + res.quarantined == len(sets)
    assert res.skipped == len(src) - len(sets)
    imported = rows(root / "data" / "raw" / "imports" / "sessions-strong.csv")
    trap = [float(r["load_kg"]) for r in imported if r["exercise"].startswith("Trap 3")]
    assert max(trap) == pytest.approx(5 * 0.45359237, abs=1e-3)  # 5 lb


# --- the page's sections on persona data (fast: no kernel) ----------------------------------------


def test_a_mid_month_start_is_not_counted_as_missed_weeks(tmp_path):
    # issue 12.2: the hand-typed log starts on Wednesday 18 March
    from rehab.report.monthly import MonthReport

    root = copy("hand_typed", tmp_path)
    raw = Raw.from_folder(root / "data" / "raw")
    r = MonthReport.load("me", "2026-03", project_dir=str(root))
    n = sum(D("2026-03-01") <= d <= D("2026-03-31") for d in raw.work_days("me"))
    days = (D("2026-03-31") - raw.start("me")).days + 1  # 18 to 31 March
    assert f"{n} training day(s) in {days} logged day(s) (from 18 Mar to 31 Mar)" in \
        r.sessions_section().text
    assert "logged from 18 Mar to 31 Mar" in r.header().text
    # no target: no "0 of 2" weeks in the calendar (its week labels are bare counts)
    assert re.search(r">\d+ of \d", r.sessions_section().html) is None


def test_a_week_across_the_month_end_counts_its_next_month_session(tmp_path):
    # issue 12.3: April's last ISO week (27 April - 3 May) holds sessions on 28 April and 2 May
    from rehab.report.monthly import MonthReport

    root = copy("abab", tmp_path)
    raw = Raw.from_folder(root / "data" / "raw")
    n = sum(D("2026-04-27") <= d <= D("2026-05-03") for d in raw.work_days("sam"))
    assert n == 2
    html = MonthReport.load("sam", "2026-04", project_dir=str(root)).adherence().html
    row = re.search(r"<td[^>]*>2026-W18 \(27 Apr\)</td>(.*?)</tr>", html).group(1)
    assert re.findall(r"<td[^>]*>(.*?)</td>", row)[1:4] == [str(n), "2.0", "target met"]


def test_no_protocol_says_what_to_set_and_still_shows_what_was_done(tmp_path):
    # issue 12.4: no phases, no rehab.toml
    from rehab.report.monthly import MonthReport

    root = copy("hand_typed", tmp_path)
    raw = Raw.from_folder(root / "data" / "raw")
    r = MonthReport.load("me", "2026-03", project_dir=str(root))
    sec = r.adherence()
    n = sum(D("2026-03-01") <= d <= D("2026-03-31") for d in raw.work_days("me"))
    assert "No protocol period or session is logged" not in sec.html
    assert f"{n} session(s) logged in 2026-03, but no protocol is set" in sec.text
    assert "[protocol] id = &quot;shit&quot;" in sec.html and "phases" in sec.text
    # the weeks and their sessions are still listed, read as "no protocol"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", sec.html)
    assert cells.count("no protocol") == 2  # the weeks of 16 and 23 March (from the start)
    assert cells.count("before the start") == 2  # 2 and 9 March


def test_the_summary_output_is_found_in_the_notebook_and_kept_off_the_page():
    import nbformat

    from rehab.report.page import export_html
    from rehab.report.render import summary_from_notebook

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("report.summary_output()")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"application/json": {
        "participant": "me", "month": "2026-04", "weeks": []}}, metadata={"rehab": "summary"})]
    shown = nbformat.v4.new_code_cell("x")
    shown.outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<p>seen</p>"})]
    nb.cells = [shown, cell]
    assert summary_from_notebook(nb) == {"participant": "me", "month": "2026-04", "weeks": []}
    page = export_html(nb, title="t")
    assert "seen" in page and "2026-04" not in page
    assert summary_from_notebook(nb) is not None  # the export left the notebook whole
    nb.cells = [shown]
    assert summary_from_notebook(nb) is None


# --- the summary computed directly (fast): the same checks as the files -------------------------

CASES = [("hand_typed", "me", "2026-03", None), ("hand_typed", "me", "2026-05", None),
         ("abab", "sam", "2026-04", "shit"), ("abab", "sam", "2026-05", "shit"),
         ("clinic", "p02", "2026-03", "shit"), ("clinic", "p05", "2026-04", "traditional-core"),
         ("clinic", "p07", "2026-04", None), ("clinic", "p08", "2026-04", "shit")]


@pytest.mark.parametrize(("name", "pid", "month", "protocol"), CASES)
def test_month_summary_against_the_raw_rows(name, pid, month, protocol):
    from rehab.io import load_project
    from rehab.summary import month_summary

    root = PERSONAS / name
    raw = Raw.from_folder(root / "data" / "raw")
    ds = load_project(root, source=root / "data" / "raw")
    got = month_summary(ds, pid, month, root=root).to_dict()
    want = expected(raw, pid, month)
    assert got["protocol"] == protocol
    assert got["training_days"] == want["training_days"]
    assert [(w["week_start"], w["sessions"], w["target"], w["status"])
            for w in got["weeks"]] == want["weeks"]
    assert got["pain"]["days"] == want["pain_days"]
    assert got["pain"]["mean"] == (None if want["pain_mean"] is None
                                   else pytest.approx(want["pain_mean"], abs=5e-4))
    assert {t["test"]: (t["best"], t["best_previous"]) for t in got["tests"]} == want["tests"]
    assert json.loads(json.dumps(got)) == got  # plain JSON


# --- rendered end to end: the summary files against the raw rows (slow) ---------------------------


def _render(root: Path, months: list[str], participants=None):
    from rehab.report.render import render_all

    res = render_all(root=root, jobs=1, months=months, participants=participants)
    assert not res.failed, [o.describe() for o in res.failed]
    return res


@pytest.mark.slow
def test_hand_typed_log_summaries(tmp_path):
    root = copy("hand_typed", tmp_path)
    raw = Raw.from_folder(root / "data" / "raw")
    _render(root, ["2026-03", "2026-04", "2026-05"])
    for m in ("2026-03", "2026-04", "2026-05"):
        got = check_summary(root, raw, "me", m, protocol=None)
    # the flare: 8-13 April, a six-day episode, and three weeks without training
    april = json.loads((root / "reports" / "me" / "2026-04.json").read_text())
    flare_days = {r["date"] for r in raw.diary if r["flare"] == "yes"}
    assert april["flares"]["days"] == len(flare_days) == 6
    assert [w["sessions"] for w in april["weeks"]][1:4] == [1, 0, 0]
    assert got["tests"][0]["label"] == "back-extension hold"


@pytest.mark.slow
def test_strong_export_summaries(tmp_path):
    from rehab.importers import import_file

    root = copy("strong_pounds", tmp_path)
    import_file(root / "exports" / "strong.csv", root=root)
    export = rows(root / "exports" / "strong.csv")
    test_name = "Back Extension Max Hold"
    sessions = [{"date": r["Date"][:10], "set_type": "normal"} for r in export
                if r["Exercise Name"] != test_name
                and (r["Set Order"].isdigit() or r["Set Order"] in ("F", "D"))]
    tests = [{"date": r["Date"][:10], "test": "back_extension_hold", "value": r["Seconds"]}
             for r in export if r["Exercise Name"] == test_name]
    # every imported row (warm-ups and the test sets too) dates the protocol's start
    first_any = min(r["Date"][:10] for r in export if r["Set Order"] != "Rest Timer")
    sessions.append({"date": first_any, "set_type": "warmup"})
    raw = Raw(sessions, rows(root / "data" / "raw" / "diary.csv"), tests, [],
              config_protocol="shit")
    _render(root, ["2026-02", "2026-03"])
    for m in ("2026-02", "2026-03"):
        got = check_summary(root, raw, "me", m, protocol="shit")
        assert got["next_steps"], m
    assert "S.H.I.T." in (root / "reports" / "me" / "2026-03.html").read_text()


@pytest.mark.slow
def test_abab_experiment_summaries(tmp_path):
    root = copy("abab", tmp_path)
    raw = Raw.from_folder(root / "data" / "raw")
    _render(root, ["2026-04", "2026-05"])
    april = check_summary(root, raw, "sam", "2026-04", protocol="shit")
    may = check_summary(root, raw, "sam", "2026-05", protocol="shit")
    assert set(april["protocols"]) == {"shit", "traditional-core"}
    # the Sorensen hold: 112 s in May against April's 78 s, more than Latimer's 32.1 s
    sor = next(t for t in may["tests"] if t["test"] == "sorensen_hold")
    assert (sor["best"], sor["best_previous"], sor["reading"]) == (112, 78, "improved")


@pytest.mark.slow
def test_clinic_caseload_summaries(tmp_path):
    root = copy("clinic", tmp_path)
    raw = Raw.from_folder(root / "data" / "raw")
    res = _render(root, ["2026-04"])
    people = sorted({Raw._who(r) for t in ("sessions", "diary") for r in getattr(raw, t)})
    assert len(people) == 8 and len(res.ok) == 8
    phase = {r["participant"]: r["protocol"] for r in raw.phases}
    for pid in people:
        got = check_summary(root, raw, pid, "2026-04", protocol=phase.get(pid))
        if pid == "p07":  # a diary only
            assert got["training_days"] == 0 and got["tests"] == []
    # p08 stopped after three weeks: its phase ended on 21 April, its logs on 18 April
    p08 = json.loads((root / "reports" / "p08" / "2026-04.json").read_text())
    assert [w["status"] for w in p08["weeks"]] == ["met", "met", "met", "not_over", "no_target"]
