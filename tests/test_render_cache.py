"""Re-render only what changed, and move aside pages of data no longer present.

A tiny project (diary, sessions and tests rows written here for two people over three months)
and a tiny template of the project's own (it prints its parameters: no report modules), so each
page costs a few milliseconds on the kept kernel. What should re-render is worked out by hand
from the rule "a page reads its person's rows up to the month's end, and whether their logs go
on after it", never from the kit's own fingerprints.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

import nbformat
import pytest

from rehab.io import load_project
from rehab.paths import ProjectPaths
from rehab.report import kernels
from rehab.report.files import move_stale, stale_pages
from rehab.report.render import (
    course_fingerprints,
    page_fingerprints,
    render_all,
    settings_fingerprint,
    template_path,
)

DIARY = ("participant,date,pain\n"
         "a,2026-01-05,4\na,2026-01-20,3\na,2026-02-03,3\na,2026-02-17,2\na,2026-03-02,2\n"
         "a,2026-03-10,1\n"
         "b,2026-01-07,6\nb,2026-02-07,5\nb,2026-03-07,4\nb,2026-03-31,4\n")
SESSIONS = ("participant,date,exercise,set,hold_s\n"
            "a,2026-01-06,back_extension,1,30\na,2026-02-04,back_extension,1,35\n"
            "b,2026-02-08,back_extension,1,20\n")
TESTS = "participant,date,test,value\na,2026-01-06,sorensen_hold,40\nb,2026-03-08,sorensen_hold,30\n"
ALL = {(p, m) for p in "ab" for m in ("2026-01", "2026-02", "2026-03")}


def tiny_template(root: Path, extra: str = "") -> Path:
    """The project's own monthly template: the kit's four parameters, one printing cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                 "display_name": "Python 3"}
    params = nbformat.v4.new_code_cell(
        'participant: str = "a"  # participant id\nmonth: str = "2026-01"  # YYYY-MM\n'
        'project_dir: str = ""  # project folder\ndata_dir: str = ""  # data folder')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_code_cell("import json"), params,
                nbformat.v4.new_code_cell(f"{extra}print(json.dumps([participant, month]))")]
    path = root / "notebooks" / "templates" / "monthly-report.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def make(root: Path, folder: str = "data/sample") -> Path:
    d = root / folder
    d.mkdir(parents=True, exist_ok=True)
    (d / "diary.csv").write_text(DIARY, encoding="utf-8")
    (d / "sessions.csv").write_text(SESSIONS, encoding="utf-8")
    (d / "tests.csv").write_text(TESTS, encoding="utf-8")
    (root / "rehab.toml").write_text("", encoding="utf-8")
    return root


def append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(line + "\n")


def fingerprints(root: Path) -> dict[tuple[str, str], str]:
    """The fingerprints of the pages in ALL (a month added by a test is a new page, not a
    changed one)."""
    paths = ProjectPaths(root)
    settings = settings_fingerprint(paths, template_path(paths))
    return page_fingerprints(load_project(root), sorted(ALL), settings, source="data/sample")


def changed(before: dict, after: dict) -> set[tuple[str, str]]:
    return {k for k in after if before.get(k) != after[k]}


@pytest.fixture
def project(tmp_path, monkeypatch):
    # the kit's own files are left out of these fingerprints: in a shared development checkout
    # they change under a running test (their own test is test_report's)
    monkeypatch.setattr(kernels, "KIT_FILES", ())
    root = make(tmp_path / "proj")
    tiny_template(root)
    return root


# --- fingerprints (no kernel) ----------------------------------------------------------------------


@pytest.mark.parametrize(("line", "file", "expected"), [
    # a diary line for a in February: February and March of a (March reads February's rows)
    ("a,2026-02-20,5", "diary.csv", {("a", "2026-02"), ("a", "2026-03")}),
    # a late entry for January: every month of a from January on
    ("a,2026-01-28,back_extension,1,31", "sessions.csv",
     {("a", "2026-01"), ("a", "2026-02"), ("a", "2026-03")}),
    # b's last month only
    ("b,2026-03-20,sorensen_hold,33", "tests.csv", {("b", "2026-03")}),
    # a line in the person's last month but before their last day: that month only
    ("a,2026-03-05,3", "diary.csv", {("a", "2026-03")}),
])
def test_a_new_line_changes_that_month_and_the_persons_later_months_only(
        project, line, file, expected):
    before = fingerprints(project)
    append(project / "data" / "sample" / file, line)
    assert changed(before, fingerprints(project)) == expected


def test_a_record_after_the_last_day_makes_the_last_month_whole(project):
    """a's logs end on 10 March: March is 'logged up to the 10th'. A record on 2 April makes all
    of March logged (the page says so), so March re-renders; January and February do not."""
    before = fingerprints(project)
    append(project / "data" / "sample" / "diary.csv", "a,2026-04-02,2")
    assert changed(before, fingerprints(project)) == {("a", "2026-03")}
    # b's logs already reach 31 March: a record in April changes none of b's pages
    before = fingerprints(project)
    append(project / "data" / "sample" / "diary.csv", "b,2026-04-02,2")
    assert changed(before, fingerprints(project)) == set()


def test_a_session_in_the_next_month_but_the_months_last_week_changes_that_month(project):
    """31 March 2026 is a Tuesday: its week runs to Sunday 5 April and the March page counts that
    week's training days whole. b's logs already reach 31 March, so a diary line on 2 April
    changes nothing (above), but a session on 2 April changes b's March; one on 6 April (the week
    after) does not."""
    sessions = project / "data" / "sample" / "sessions.csv"
    before = fingerprints(project)
    append(sessions, "b,2026-04-06,back_extension,1,25")
    assert changed(before, fingerprints(project)) == set()
    before = fingerprints(project)
    append(sessions, "b,2026-04-02,back_extension,1,25")
    assert changed(before, fingerprints(project)) == {("b", "2026-03")}


def test_row_order_and_file_layout_do_not_count_but_settings_and_protocols_do(project):
    sample = project / "data" / "sample"
    before = fingerprints(project)
    head, *body = DIARY.splitlines()
    (sample / "diary.csv").write_text("\n".join([head, *reversed(body)]) + "\n")
    assert changed(before, fingerprints(project)) == set()
    (project / "rehab.toml").write_text("[report]\ninclude_notes = true\n")
    assert changed(before, fingerprints(project)) == ALL
    before = fingerprints(project)
    (project / "protocols").mkdir()
    (project / "protocols" / "mine.toml").write_text('id = "mine"\n')
    assert changed(before, fingerprints(project)) == ALL
    before = fingerprints(project)
    tiny_template(project, extra="# edited\n")
    assert changed(before, fingerprints(project)) == ALL


def test_a_quarantined_record_changes_the_pages_of_its_person_only(project):
    """A page's data-quality line counts its person's quarantined records (a clinic's typo in
    one person's line re-rendered, and was shown on, everyone's pages); a line whose fields
    cannot be split is counted for everyone whose records are in that file."""
    diary = project / "data" / "sample" / "diary.csv"
    before = fingerprints(project)
    append(diary, "a,2026-02-30,3")  # no 30 February: a's
    assert changed(before, fingerprints(project)) == {p for p in ALL if p[0] == "a"}
    before = fingerprints(project)
    append(diary, "b,2026-03-09,3,extra")  # one field too many: whose is not told
    assert changed(before, fingerprints(project)) == ALL
    before = fingerprints(project)
    append(diary, "b,2026-03-10,4")  # a good line: b's March only
    assert changed(before, fingerprints(project)) == {("b", "2026-03")}


def test_a_record_in_the_next_month_but_the_months_last_week_changes_that_month(project):
    """31 January 2026 is a Saturday: January's last week (its Thursday, the 29th, is in
    January) runs to Sunday 1 February and is judged whole, so a record up to that Sunday
    changes what January shows (is the week over?), and one after it does not. c's logs end on
    31 January: a diary line on 1 February changes c's January, one on 2 February does not. The
    month's JSON summary, written beside the page, follows the same horizon (else a cached
    page's summary would depend on when it was rendered)."""
    diary = project / "data" / "sample" / "diary.csv"
    append(diary, "c,2026-01-31,4")
    fp0, summary0 = c_january(project)
    assert summary0["last_record"] == "2026-01-31"
    append(diary, "c,2026-02-01,4")
    fp1, summary1 = c_january(project)
    assert fp1 != fp0 and summary1["last_record"] == "2026-02-01"
    append(diary, "c,2026-02-02,4")
    fp2, summary2 = c_january(project)
    assert fp2 == fp1 and summary2 == summary1  # past January's horizon: the same page


def test_a_months_last_record_is_a_day_something_was_logged(project):
    """c logs on Friday 30 January and Monday 2 February, nothing on Sunday 1 February
    (January's horizon): January's summary names 30 January as its last record (it named the
    horizon, a day with no record). A late line for 1 February changes January's page and
    summary; later lines do not."""
    diary = project / "data" / "sample" / "diary.csv"
    append(diary, "c,2026-01-30,4")
    append(diary, "c,2026-02-02,4")
    fp0, summary0 = c_january(project)
    assert summary0["last_record"] == "2026-01-30"
    append(diary, "c,2026-02-05,4")
    assert c_january(project) == (fp0, summary0)
    append(diary, "c,2026-02-01,5")
    fp1, summary1 = c_january(project)
    assert fp1 != fp0 and summary1["last_record"] == "2026-02-01"


def c_january(project: Path) -> tuple[str, dict]:
    """c's January: its page's fingerprint and its JSON summary."""
    from rehab.summary import month_summary

    paths = ProjectPaths(project)
    settings = settings_fingerprint(paths, template_path(paths))
    ds = load_project(project)
    fp = page_fingerprints(ds, [("c", "2026-01")], settings, source="data/sample")
    return fp[("c", "2026-01")], month_summary(ds, "c", "2026-01", root=project).to_dict()


# --- through render_all, on a kept kernel -----------------------------------------------------------


def statuses(result) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set] = {}
    for o in result.outcomes:
        out.setdefault(o.status, set()).add((o.participant, o.month))
    return out


def test_render_all_rerenders_exactly_the_changed_pages(project):
    first = render_all(root=project, jobs=1)
    assert statuses(first) == {"ok": ALL}
    page = project / "reports" / "a" / "2026-02.html"
    assert '["a", "2026-02"]' in html.unescape(page.read_text(encoding="utf-8"))
    side = json.loads((project / "reports" / "a" / ".2026-02.json").read_text())
    assert side["source"] == "data/sample" and side["demo"] is True
    assert statuses(render_all(root=project, jobs=1)) == {"skipped": ALL}
    course = {p: project / "reports" / p / "index.html" for p in "ab"}
    before = {p: f.stat().st_mtime_ns for p, f in course.items()}
    b_pages = {f: f.stat().st_mtime_ns for f in (project / "reports" / "b").glob("*.html")}
    append(project / "data" / "sample" / "diary.csv", "a,2026-01-30,5")  # late entry
    again = render_all(root=project, jobs=1)
    assert statuses(again) == {"ok": {("a", "2026-01"), ("a", "2026-02"), ("a", "2026-03")},
                               "skipped": {("b", "2026-01"), ("b", "2026-02"), ("b", "2026-03")}}
    # a's whole-course page is written again, b's pages (course included) are left as they were
    assert course["a"].stat().st_mtime_ns != before["a"]
    assert {f: f.stat().st_mtime_ns for f in b_pages} == b_pages
    assert course["b"].stat().st_mtime_ns == before["b"]
    forced = render_all(root=project, jobs=1, force=True, participants=["b"])
    assert statuses(forced) == {"ok": {("b", "2026-01"), ("b", "2026-02"), ("b", "2026-03")}}


# --- the whole-course pages ------------------------------------------------------------------------

LAST_LOG = {"a": dt.date(2026, 3, 10), "b": dt.date(2026, 3, 31)}  # the latest date in DIARY etc.
LAST_MONTH = {"a": "2026-03", "b": "2026-03"}


def course_fps(root: Path, today: dt.date) -> dict[str, str]:
    """The course fingerprints from each person's last month and last log, read off the
    fixture's rows by hand (LAST_LOG: a line added by a test must not move them)."""
    paths = ProjectPaths(root)
    fps = page_fingerprints(load_project(root), sorted(LAST_MONTH.items()),
                            settings_fingerprint(paths, template_path(paths)),
                            source="data/sample", extra={"data_dir": ""})
    return course_fingerprints(fps, LAST_MONTH, LAST_LOG, today=today)


def test_a_course_fingerprint_follows_the_persons_records_and_the_quiet_flag(project):
    """A course page shows all of its person's records and, from 14 days without a log, "no log
    for N days": its fingerprint changes with a new record of that person, and from day to day
    only while that flag shows."""
    quiet_a = LAST_LOG["a"] + dt.timedelta(days=14)  # a's flag shows from this day, not b's
    fps = {d: course_fps(project, d) for d in (quiet_a - dt.timedelta(days=2),
                                               quiet_a - dt.timedelta(days=1), quiet_a,
                                               quiet_a + dt.timedelta(days=1))}
    days = sorted(fps)
    assert fps[days[0]] == fps[days[1]]  # nobody quiet yet: the same pages
    assert fps[days[1]]["a"] != fps[days[2]]["a"] != fps[days[3]]["a"]  # a: 14, then 15 days
    assert len({f["b"] for f in fps.values()}) == 1  # b logged until 31 March: not quiet yet
    before = course_fps(project, days[0])
    append(project / "data" / "sample" / "diary.csv", "b,2026-01-30,5")  # a late line for b
    after = course_fps(project, days[0])
    assert after["a"] == before["a"] and after["b"] != before["b"]


def test_a_course_page_is_written_again_only_when_what_it_shows_changed(project):
    render_all(root=project, jobs=1)
    course = {p: project / "reports" / p / "index.html" for p in "ab"}

    def mtimes() -> dict[str, int]:
        return {p: f.stat().st_mtime_ns for p, f in course.items()}

    before = mtimes()
    # forcing one month page renders that page; the course page beside it is up to date
    forced = render_all(root=project, jobs=1, force=True, participants=["a"], months=["2026-02"])
    assert statuses(forced) == {"ok": {("a", "2026-02")}}
    assert mtimes() == before
    # forcing a person's batch writes their course page again, not the other's
    render_all(root=project, jobs=1, force=True, participants=["b"])
    after = mtimes()
    assert after["b"] != before["b"] and after["a"] == before["a"]
    # a course page made on an earlier day, with nothing new since: the days without a log on
    # it are out of date, so it is written again (by this process: no month page to render)
    side = project / "reports" / "a" / ".index.json"
    meta = json.loads(side.read_text(encoding="utf-8"))
    today = dt.date.today()
    meta["fingerprint"] = course_fps(project, today - dt.timedelta(days=1))["a"]
    side.write_text(json.dumps(meta), encoding="utf-8")
    again = render_all(root=project, jobs=1)
    assert statuses(again) == {"skipped": ALL}
    assert mtimes()["a"] != after["a"] and mtimes()["b"] == after["b"]
    quiet = (today - LAST_LOG["a"]).days
    page = html.unescape(course["a"].read_text(encoding="utf-8"))
    assert f"no log for {quiet} days" in page
    assert json.loads(side.read_text(encoding="utf-8"))["fingerprint"] == course_fps(project,
                                                                                     today)["a"]
    stamp = mtimes()
    assert statuses(render_all(root=project, jobs=1)) == {"skipped": ALL}
    assert mtimes() == stamp  # and then left be


# --- stale pages ------------------------------------------------------------------------------------


def test_real_data_moves_the_demo_pages_aside_and_says_so(project):
    render_all(root=project, jobs=1)
    raw = project / "data" / "raw"
    raw.mkdir()
    (raw / "diary.csv").write_text("participant,date,pain\nme,2026-03-03,2\nme,2026-04-01,3\n")
    result = render_all(root=project, jobs=1)
    assert statuses(result) == {"ok": {("me", "2026-03"), ("me", "2026-04")}}
    assert sorted(result.stale) == sorted(f"{p}/{m}.html" for p, m in ALL)
    assert "moved to" in result.summary() and str(result.stale_dir) in result.summary()
    reports = project / "reports"
    assert sorted(p.name for p in reports.iterdir() if p.is_dir()) == [".stale", "me"]
    moved = result.stale_dir
    assert moved.parent == reports / ".stale"
    assert (moved / "a" / "2026-01.html").is_file() and (moved / "a" / ".2026-01.json").is_file()
    assert json.loads((reports / "me" / ".2026-03.json").read_text())["source"] == "data/raw"
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert 'href="me/2026-03.html"' in index and 'href="a/2026-01.html"' not in index


def test_a_person_or_month_gone_from_the_data_loses_its_pages(project):
    paths = ProjectPaths(project)
    render_all(root=project, jobs=1)
    (paths.reports / "a" / "2026-03.pdf").write_bytes(b"%PDF-")  # what report --pdf writes
    (paths.reports / "a" / "2026-03.json").write_text("{}")  # the month's summary
    now = ALL - {("b", "2026-01"), ("b", "2026-02"), ("b", "2026-03"), ("a", "2026-03")}
    found = stale_pages(paths, now, "data/sample")
    assert sorted(str(f.relative_to(paths.reports)) for f in found) == [
        "a/2026-03.html", "b/2026-01.html", "b/2026-02.html", "b/2026-03.html"]
    moved, dest = move_stale(paths, now, "data/sample")
    assert len(moved) == 4 and not (paths.reports / "b").exists()
    assert (paths.reports / "a" / "2026-02.html").is_file()
    assert not (paths.reports / "a" / "2026-03.html").exists()
    assert sorted(f.name for f in (dest / "a").iterdir()) == [
        ".2026-03.json", "2026-03.html", "2026-03.json", "2026-03.pdf"]
    assert (dest / "b" / "2026-03.html").is_file()
    assert stale_pages(paths, now, "data/sample") == []


# --- one comparison page per outcome ---------------------------------------------------------------


def test_each_outcome_of_a_comparison_has_its_own_page(tmp_path):
    from rehab.report.comparison import report_file

    paths = ProjectPaths(tmp_path)
    pain = report_file(paths, "demo", "pain")
    hold = report_file(paths, "demo", "sorensen_hold")
    assert pain.name == "demo-pain.html" and hold.name == "demo-sorensen_hold.html"
    assert report_file(paths, None, "pain").name == "cohort-pain.html"
    odd = report_file(paths, "demo", "../wall sit")  # a custom test id: never a path
    assert odd.parent == paths.reports.resolve() / "compare"
    assert odd.name.startswith("demo-outcome-") and odd != report_file(paths, "demo", "wall sit")


# --- the demo never overwrites data unless asked -----------------------------------------------------


def test_demo_leaves_a_folder_with_logs_alone_unless_forced(tmp_path):
    from typer.testing import CliRunner

    from rehab.cli import app

    sample = tmp_path / "data" / "sample"
    sample.mkdir(parents=True)
    (tmp_path / "rehab.toml").write_text("")
    (sample / "diary.csv").write_text("participant,date,pain\nme,2026-01-01,3\n")
    runner = CliRunner()
    res = runner.invoke(app, ["demo"], env={"REHAB_HOME": str(tmp_path)})
    assert res.exit_code == 2 and "already holds diary.csv" in res.output and "--force" in res.output
    assert (sample / "diary.csv").read_text() == "participant,date,pain\nme,2026-01-01,3\n"
    assert sorted(p.name for p in sample.iterdir()) == ["diary.csv"]
    res = runner.invoke(app, ["demo", "--out", "data/demo-cohort", "--participants", "2"],
                        env={"REHAB_HOME": str(tmp_path)})
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["demo", "--out", "data/sample", "--force"],
                        env={"REHAB_HOME": str(tmp_path)})
    assert res.exit_code == 0, res.output
    assert "me,2026-01-01" not in (sample / "diary.csv").read_text()


# --- progress and --quiet ----------------------------------------------------------------------------


def test_report_prints_plain_progress_when_piped_and_nothing_with_quiet(project):
    from typer.testing import CliRunner

    from rehab.cli import app

    runner = CliRunner()
    env = {"REHAB_HOME": str(project), "COLUMNS": "200"}
    res = runner.invoke(app, ["report", "--all", "--jobs", "1"], env=env)
    assert res.exit_code == 0, res.output
    assert "reports: 6 of 6 done, 0 failed" in res.output  # the last line always comes
    assert res.output.count("wrote ") == 6
    assert "6 rendered, 0 unchanged (skipped), 0 failed" in res.output
    quiet = runner.invoke(app, ["report", "--all", "--force", "--quiet"], env=env)
    assert quiet.exit_code == 0, quiet.output
    assert quiet.output.strip().splitlines() == [
        f"6 rendered, 0 unchanged (skipped), 0 failed; index: {project.resolve()}/reports/index.html"]


def test_time_left_comes_from_the_rendered_pages_pace():
    from rehab.cli import _BatchProgress
    from rehab.report.render import MonthOutcome

    bar = _BatchProgress(quiet=True)
    now = [100.0]
    bar.clock = lambda: now[0]
    bar(MonthOutcome("a", "2026-01", "skipped"), 1, 10)  # skipped pages take no time
    assert bar.left(1, 10) is None
    bar(MonthOutcome("a", "2026-02", "ok", seconds=2.0), 2, 10)  # started at 98
    now[0] = 104.0
    bar(MonthOutcome("a", "2026-03", "failed", seconds=1.0), 3, 10)
    # 2 pages rendered in 6 s since the first began: 3 s a page, 7 pages left
    assert bar.left(3, 10) == pytest.approx(21.0) and bar.failed == 1 and bar.rendered == 2
