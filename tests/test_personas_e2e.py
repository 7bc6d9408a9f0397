"""Issue 12, "How it is shown", end to end through the real command line on the personas
(tests/personas/README.md), each in a copy: import, validate, `report --all`, `compare`, and the
numbered notebooks through papermill with their parameters.

Every expected figure is counted HERE from the raw CSV rows with the csv module, never taken from
the kit's output. The summary files' figures are checked in test_personas.py; this file checks
what a person sees: exit codes and counts, the caseload index (one row per person, its flags),
that every link of every page resolves, no "demo" on real data, the comparison's points per
phase, and notebooks without errors or absurd numbers.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import re
import shutil
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
PERSONAS = ROOT / "tests" / "personas"
D = dt.date.fromisoformat
WORK = {"", "normal", "failure", "drop"}  # set types that make a training day
QUIET_DAYS = 14  # README: the index flags "no log for 14 days"


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def raw_table(root: Path, kind: str) -> list[dict]:
    """Every row of the persona's own ``<kind>*.csv`` files (not the imported ones)."""
    out = []
    for f in sorted((root / "data" / "raw").glob(f"{kind}*.csv")):
        out += rows(f)
    return out


def who(r: dict) -> str:
    return r.get("participant") or "me"


# --- the real command line ------------------------------------------------------------------------


def rehab(root: Path, *args: str):
    """Run ``rehab ARGS`` in the project folder ``root`` (cwd and REHAB_HOME), as a person would."""
    from typer.testing import CliRunner

    from rehab.cli import app

    with contextlib.chdir(root):
        return CliRunner().invoke(app, list(args), env={"REHAB_HOME": str(root)},
                                  catch_exceptions=False)


_RENDERED: dict[str, Path] = {}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A persona copied, imported when it has an export, and rendered with `report --all`
    (once a module: rendering is the slow part)."""

    def get(name: str) -> Path:
        if name not in _RENDERED:
            root = tmp_path_factory.mktemp("e2e") / name
            shutil.copytree(PERSONAS / name, root)
            if (root / "exports").is_dir():
                for export in sorted((root / "exports").iterdir()):
                    res = rehab(root, "import", str(export.relative_to(root)))
                    assert res.exit_code == 0, res.output
            res = rehab(root, "report", "--all", "--jobs", "2", "--quiet")
            assert res.exit_code == 0, res.output
            _RENDERED[name] = root
        return _RENDERED[name]

    yield get
    _RENDERED.clear()


# --- 1. import and validate: records = accepted + quarantined + duplicates = raw rows ------------


def expected_records(name: str) -> dict[str, int]:
    """Records per file under data/raw after import, counted from the persona's own files."""
    src = PERSONAS / name
    want = {f"data/raw/{f.name}": len(rows(f)) for f in sorted((src / "data" / "raw").glob("*.csv"))}
    export = src / "exports" / "strong.csv"
    if export.is_file():
        # rest timers and notes carry no set; every set is kept in the sessions (a test's as
        # set type "test"), and rehab.toml's [tests] name also makes each of its sets a test
        sets = [r for r in rows(export) if r["Set Order"] not in ("Rest Timer", "Note")]
        tests = [r for r in sets if r["Exercise Name"] == "Back Extension Max Hold"]
        want["data/raw/imports/sessions-strong.csv"] = len(sets)
        want["data/raw/imports/tests-strong.csv"] = len(tests)
    return want


@pytest.mark.parametrize("name", ["hand_typed", "strong_pounds", "abab", "clinic"])
def test_import_then_validate_counts_every_raw_row(name, tmp_path):
    root = tmp_path / name
    shutil.copytree(PERSONAS / name, root)
    if name == "strong_pounds":
        export = root / "exports" / "strong.csv"
        res = rehab(root, "import", "exports/strong.csv", "--json")
        assert res.exit_code == 0, res.output
        got = json.loads(res.stdout)
        n = len(rows(export))
        no_set = sum(r["Set Order"] in ("Rest Timer", "Note") for r in rows(export))
        assert got["records"] == n and got["skipped"] == no_set, got
        assert got["new"] == n - no_set and got["quarantined"] == 0, got
        assert got["unmapped_exercises"] == [], got  # every name of the mission's exercises
    res = rehab(root, "validate", "data/raw", "--json")
    assert res.exit_code == 0, res.output
    files = {f["path"]: f for f in json.loads(res.stdout)["files"]}
    want = expected_records(name)
    assert sorted(files) == sorted(want)
    for path, n in want.items():
        f = files[path]
        assert f["records"] == n, (path, f["records"], n)
        assert f["accepted"] + f["quarantined"] + f["duplicates"] == n, f
        assert (f["quarantined"], f["duplicates"]) == (0, 0), f  # the personas are clean


# --- 2. report --all: the index, every link, no "demo" --------------------------------------------


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        for k in ("href", "src"):
            if a.get(k) is not None:
                self.links.append(a[k])


def broken_links(page: Path) -> list[str]:
    p = Links()
    p.feed(page.read_text(encoding="utf-8"))
    bad = []
    for h in p.links:
        u = urlparse(h)
        if u.scheme:  # a page loads nothing; an outside link (a source) is not a file
            continue
        if not u.path:
            if u.fragment not in p.ids:
                bad.append(h)
        elif not (page.parent / unquote(u.path)).is_file():
            bad.append(h)
    return bad


def visible_text(html: str) -> str:
    html = re.sub(r"<(style|script|svg)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def index_rows(root: Path) -> dict[str, str]:
    page = (root / "reports" / "index.html").read_text(encoding="utf-8")
    # one line a row (the rows are written that way; a row holds nested cells)
    found = [(re.search(r'data-person="([^"]+)"', line).group(1), line)
             for line in page.splitlines() if line.startswith('<div class="cl-row"')]
    return {p: visible_text(body) for p, body in found}


PEOPLE = {  # who is in each persona, from the raw rows (the strong export's person is "me")
    "hand_typed": lambda root: {who(r) for k in ("sessions", "diary", "tests")
                                for r in raw_table(root, k)},
    "strong_pounds": lambda root: {who(r) for r in raw_table(root, "diary")} | {"me"},
    "abab": lambda root: {who(r) for k in ("sessions", "diary", "tests")
                          for r in raw_table(root, k)},
    "clinic": lambda root: {who(r) for k in ("sessions", "diary", "tests")
                            for r in raw_table(root, k)},
}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["hand_typed", "strong_pounds", "abab", "clinic"])
def test_report_all_index_links_and_no_demo(name, project):
    root = project(name)
    people = PEOPLE[name](PERSONAS / name)
    found = index_rows(root)
    assert sorted(found) == sorted(people)  # exactly one row per person of the current data
    pages = sorted((root / "reports").rglob("*.html"))
    for p in people:
        assert (root / "reports" / p / "index.html").is_file(), p
        months = {r["date"][:7] for k in ("sessions", "diary", "tests")
                  for r in raw_table(PERSONAS / name, k) if who(r) == p}
        for m in months:
            assert (root / "reports" / p / f"{m}.html").is_file(), (p, m)
    for page in pages:
        assert broken_links(page) == [], page
        text = visible_text(page.read_text(encoding="utf-8"))
        assert re.search(r"\bdemo\b", text, flags=re.I) is None, page
        assert not re.search(r"Traceback|\bnan\b|\bNone\b", text), page


def training_days(root: Path, pid: str) -> set[dt.date]:
    return {D(r["date"]) for r in raw_table(root, "sessions")
            if who(r) == pid and (r.get("set_type") or "").strip() in WORK}


def last_log(root: Path, pid: str) -> dt.date:
    return max(D(r["date"]) for k in ("sessions", "diary", "tests")
               for r in raw_table(root, k) if who(r) == pid)


@pytest.mark.slow
def test_clinic_index_flags_the_one_who_stopped_and_the_diary_only_page_has_no_training(project):
    root = project("clinic")
    src = PERSONAS / "clinic"
    found = index_rows(root)
    today = dt.date.today()  # the command line's index is as of today
    for p, cells in found.items():
        quiet = (today - last_log(src, p)).days
        assert (f"no log for {quiet} days" in cells) == (quiet >= QUIET_DAYS), (p, cells)
    # p08 stops after three weeks: the last session on 18 April (the persona's README)
    assert last_log(src, "p08") == D("2026-04-18")
    assert "no log for" in found["p08"]
    # p07 keeps only a diary and follows no protocol: no training, no test, no target
    assert training_days(src, "p07") == set()
    assert not [r for r in raw_table(src, "phases") if r["participant"] == "p07"]
    course = visible_text((root / "reports" / "p07" / "index.html").read_text(encoding="utf-8"))
    assert "No training session is logged yet." in course
    assert "No hold test is logged yet." in course
    assert "against a target" not in course and "target of" not in course, course
    assert re.search(r"\b0 / \d", found["p07"]) is None, found["p07"]
    for m in ("2026-03", "2026-04"):
        page = (root / "reports" / "p07" / f"{m}.html").read_text(encoding="utf-8")
        section = page.split('id="sessions"')[1].split("<h2")[0]
        assert "<svg" not in section and "No training sessions are logged" in section


@pytest.mark.slow
def test_clinic_index_as_of_the_day_after_the_last_log_flags_only_the_quiet_ones(project,
                                                                                tmp_path):
    # the command line's index is as of today, long after the persona's logs, so everyone is
    # quiet there; as of the day after the caseload's last log only those 14 days quiet are
    from rehab.report.index import write_index

    src = PERSONAS / "clinic"
    root = tmp_path / "clinic"
    shutil.copytree(project("clinic"), root)
    people = {who(r) for k in ("sessions", "diary", "tests") for r in raw_table(src, k)}
    as_of = max(last_log(src, p) for p in people) + dt.timedelta(days=1)
    write_index(root=root, today=as_of)
    found = index_rows(root)
    quiet = {p for p in people if (as_of - last_log(src, p)).days >= QUIET_DAYS}
    assert "p08" in quiet and len(quiet) < len(people)  # the persona is made so
    assert {p for p, cells in found.items() if "no log for" in cells} == quiet
    days = (as_of - D("2026-04-18")).days
    assert f"no log for {days} days" in found["p08"]


@pytest.mark.slow
def test_no_protocol_means_no_target_on_the_course_page_and_index(project):
    # README: "Only a protocol gives a target"; the monthly page and its summary say there is
    # none for the hand-typed log (no phases, no rehab.toml), so the whole-course page and the
    # caseload index must not invent one
    root = project("hand_typed")
    src = PERSONAS / "hand_typed"
    last = last_log(src, "me")
    n = sum(last - dt.timedelta(days=27) <= d <= last for d in training_days(src, "me"))
    cell = index_rows(root)["me"]
    assert re.search(rf"\b{n} / \d", cell) is None, cell
    assert re.search(rf"\b{n}\b.*no protocol", cell), cell
    course = visible_text((root / "reports" / "me" / "index.html").read_text(encoding="utf-8"))
    assert f"Training days in the last four weeks logged: {n}" in course
    assert "against a target" not in course and "target of" not in course, course
    summary = json.loads((root / "reports" / "me" / "2026-05.json").read_text(encoding="utf-8"))
    assert summary["target_per_week"] is None


# --- 3. compare on the A/B/A/B persona: points per phase from the raw diary -----------------------


def weekly_points(diary: list[dict], phases: list[dict], pid: str) -> dict[str, list[float]]:
    """The comparison's documented outcome: weekly means of morning pain, weeks counted from each
    phase's start (within the phase), a week counted when it has at least 3 diary days; a day's
    value is the mean of its morning entries."""
    by_day = defaultdict(list)
    for r in diary:
        if who(r) == pid and r["moment"] == "morning" and r["pain"] != "":
            by_day[D(r["date"])].append(float(r["pain"]))
    day = {d: sum(v) / len(v) for d, v in by_day.items()}
    out = {}
    for ph in phases:
        if who(ph) != pid:
            continue
        start, end = D(ph["start"]), D(ph["end"])
        pts, ws = [], start
        while ws <= end:
            vals = [day[d] for d in day if ws <= d <= min(ws + dt.timedelta(days=6), end)]
            if len(vals) >= 3:
                pts.append(sum(vals) / len(vals))
            ws += dt.timedelta(days=7)
        out[ph["phase"]] = pts
    return out


@pytest.mark.slow
def test_compare_abab_pain_points_per_phase_match_the_raw_diary(project):
    root = project("abab")
    res = rehab(root, "compare", "--participant", "sam", "--outcome", "pain")
    assert res.exit_code == 0, res.output
    page = root / "reports" / "compare" / "sam-pain.html"
    assert page.is_file() and broken_links(page) == []
    html = page.read_text(encoding="utf-8")
    want = weekly_points(raw_table(PERSONAS / "abab", "diary"),
                         raw_table(PERSONAS / "abab", "phases"), "sam")
    assert list(want) == ["A1", "B1", "A2", "B2"] and all(want.values())
    got = {}
    for tr in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        cells = dict(re.findall(r'<td data-label="([^"]+)">(.*?)</td>', tr))
        if {"phase", "points", "mean"} <= set(cells):
            got[cells["phase"]] = (int(cells["points"]), float(cells["mean"]))
    for ph, pts in want.items():
        assert got[ph][0] == len(pts), (ph, got[ph], pts)
        assert got[ph][1] == pytest.approx(sum(pts) / len(pts), abs=0.006), (ph, got[ph], pts)
    text = visible_text(html)
    assert "demo" not in text.lower()
    # with two points a phase neither the test nor the regression can run: said once, plainly
    n = sum(len(v) for v in want.values())
    assert f"No randomization test: {n} points are too few for the ABAB design" in text, text
    assert f"No piecewise regression: {n} observations are too few" in text
    assert not re.search(r"No (randomization test|piecewise regression): no ", text)


# --- 4. the numbered notebooks through papermill, with their parameters ---------------------------

NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("0*.ipynb"))
PEOPLE_RUN = [("hand_typed", "me"), ("clinic", "p07")]  # no phases/no settings; a diary only
NUMBER = re.compile(r"(?<![\w.#-])[-+−]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")


def printed_text(nb: dict) -> list[tuple[int, str]]:
    """What a person reads: streams, plain text and markdown outputs (not the charts' specs)."""
    out = []
    for i, cell in enumerate(nb["cells"]):
        for o in cell.get("outputs", []):
            if o["output_type"] == "stream":
                out.append((i, "".join(o["text"])))
            elif o["output_type"] in ("execute_result", "display_data"):
                out += [(i, "".join(v)) for k, v in o["data"].items()
                        if k in ("text/plain", "text/markdown")]
    return out


def absurd_numbers(nb: dict) -> list[str]:
    bad = []
    for i, text in printed_text(nb):
        text = re.sub(r"(?<=\d),(?=\d{3})", "", text)  # 1,000 separators
        bad += [f"cell {i}: {m.group(0)}" for m in NUMBER.finditer(text)
                if abs(float(m.group(0).replace("−", "-"))) > 1e6]
        bad += [f"cell {i}: {m.group(0)}" for m in re.finditer(r"10\^\d{2,}|×\s*10\d{2,}", text)]
    return bad


def test_absurd_number_finder_finds_them():
    nb = {"cells": [{"outputs": [
        {"output_type": "stream", "text": ["interval ±1.3e+28 s, 2026-03-18, p = 8.2e-17\n"]},
        {"output_type": "display_data", "data": {"text/plain": ["12,000,000 s"],
                                                 "text/html": ["<div id='a9e12076'>"]}}]}]}
    assert absurd_numbers(nb) == ["cell 0: 1.3e+28", "cell 0: 12000000"]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "pid"), PEOPLE_RUN)
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_numbered_notebook_runs_on_a_persona(notebook, name, pid, tmp_path):
    import papermill as pm

    root = tmp_path / name
    shutil.copytree(PERSONAS / name, root)
    before = {p: p.read_bytes() for p in (root / "data" / "raw").rglob("*") if p.is_file()}
    out = tmp_path / notebook
    pm.execute_notebook(str(ROOT / "notebooks" / notebook), str(out),
                        parameters={"participant": pid, "project": str(root)},
                        cwd=str(tmp_path), progress_bar=False, kernel_name="python3")
    nb = json.loads(out.read_text(encoding="utf-8"))
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors == []
    assert absurd_numbers(nb) == []
    text = " ".join(t for _, t in printed_text(nb))
    assert "'demo data': True" not in text  # it read the persona, not the demo data
    assert pid in text
    # a notebook reads the person's logs; it never writes to them
    after = {p: p.read_bytes() for p in (root / "data" / "raw").rglob("*") if p.is_file()}
    assert after == before
