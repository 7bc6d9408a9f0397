"""Monthly reports: the template, parameters, offline HTML export, caching, the index, the CLI.

Every test works in a temporary project folder (demo data generated into its data/sample), never in
the repository's reports/. Only two tests start a kernel (each start costs seconds): one renders a
month through the CLI and then checks the cache skip; one renders two months in parallel with
``--all`` where one month fails. Numbers in the report are checked against values worked out here
from the CSV files and against published constants (Latimer 1999's 32.1 s).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

import nbformat
import polars as pl
import pytest
from typer.testing import CliRunner

from rehab import demo
from rehab.cli import app
from rehab.paths import PathError, ProjectPaths
from rehab.report import ReportError
from rehab.report.index import write_index
from rehab.report.kernels import KIT_TEMPLATE, check_parameters, template_parameters
from rehab.report.page import export_html, offline_problems
from rehab.report.render import MonthOutcome, plan, settings_fingerprint

NASTY = "<script>alert('x')</script> & <b>bold</b>"


def make_project(root: Path, *, months: tuple[str, ...] | None = None, notes: bool = True) -> Path:
    """A project with the demo data in data/sample (optionally cut to ``months``), a diary note
    holding HTML, and a rehab.toml asking for notes."""
    sample = root / "data" / "sample"
    demo.generate(sample)
    if months:
        for name in ("sessions.csv", "diary.csv", "tests.csv"):
            df = pl.read_csv(sample / name, infer_schema=False)
            df.filter(pl.col("date").str.slice(0, 7).is_in(list(months))).write_csv(sample / name)
    header = (sample / "diary.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    with (sample / "diary.csv").open("a", encoding="utf-8", newline="") as f:
        csv.DictWriter(f, header, lineterminator="\n").writerow(
            {"participant": "demo", "date": "2026-04-15", "time": "12:00", "moment": "other",
             "pain": "5", "flare": "no", "notes": NASTY})
    if notes:
        (root / "rehab.toml").write_text("[report]\ninclude_notes = true\n", encoding="utf-8")
    return root


def files_outside_reports(root: Path) -> dict[str, float]:
    """Every file outside reports/ with its time stamp, but the project lock (an empty file the
    lock is taken on, in the git-ignored data/processed: rehab.paths.project_lock)."""
    from rehab.paths import LOCK_NAME

    return {str(p.relative_to(root)): p.stat().st_mtime for p in root.rglob("*")
            if p.is_file() and "reports" not in p.relative_to(root).parts
            and not p.name.startswith(LOCK_NAME)}


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# --- template and parameters (no kernel) -------------------------------------------------------


def test_template_is_committed_clean_with_a_parameters_cell():
    nb = nbformat.read(KIT_TEMPLATE, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    for c in nb.cells:
        if c.cell_type == "code":
            assert c.outputs == [] and c.execution_count is None
            assert "def " not in c.source  # thin: no function definitions
    params = template_parameters(KIT_TEMPLATE)
    assert set(params) == {"participant", "month", "project_dir", "data_dir"}
    assert all(p["help"] for p in params.values())


def test_parameters_must_match_the_template():
    good = {"participant": "demo", "month": "2026-04", "project_dir": "", "data_dir": ""}
    check_parameters(KIT_TEMPLATE, good)
    with pytest.raises(ReportError, match="unknown: colour"):
        check_parameters(KIT_TEMPLATE, good | {"colour": "red"})
    with pytest.raises(ReportError, match="missing: data_dir"):
        check_parameters(KIT_TEMPLATE, {k: v for k, v in good.items() if k != "data_dir"})


# --- offline HTML (no kernel) -------------------------------------------------------------------


@pytest.mark.parametrize("page", [
    '<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>',
    "<img src='//example.org/x.png'>",
    '<link rel="stylesheet" href="http://fonts.example/css">',
    '<div style="background: url( https://example.org/bg.png)"></div>',
    "<style>@import 'theme.css';</style>",
    '<svg><image xlink:href="https://example.org/a.png"/></svg>',
    "<script>fetch('/x')</script>",
])
def test_offline_problems_catch_remote_loads_and_scripts(page):
    assert offline_problems(page)


def test_offline_problems_allow_namespaces_and_plain_text():
    page = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
            '<a href="#top">top</a></svg><p>see https://example.org for more</p>'
            '<a href="demo/2026-04.html">April</a>')
    assert offline_problems(page) == []


def test_export_drops_code_prompts_stderr_and_cdn_scripts():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("## A section"),
        nbformat.v4.new_code_cell("secret_code()", execution_count=3, outputs=[
            nbformat.v4.new_output("stream", name="stderr", text="DeprecationWarning: noise"),
            nbformat.v4.new_output("display_data", data={
                "text/html": '<div class="x">hello <svg><rect width="3" height="4"/></svg></div>',
                "text/plain": "hello"}),
        ]),
    ])
    page = export_html(nb, title="demo <b> & co")
    assert "secret_code" not in page and "In&nbsp;[" not in page and "In [3]" not in page
    assert "DeprecationWarning" not in page
    assert "hello <svg>" in page and "A section" in page
    assert "<title>demo &lt;b&gt; &amp; co</title>" in page
    assert offline_problems(page) == []
    assert "require.js" not in page and "mathjax" not in page.lower()


# --- planning, fingerprints, index (no kernel) ---------------------------------------------------


def test_plan_lists_every_month_with_data_and_refuses_unknowns(tmp_path):
    root = make_project(tmp_path)
    pairs, is_demo = plan(root=root)
    months = sorted({r["date"][:7] for name in ("sessions.csv", "diary.csv", "tests.csv")
                     for r in rows(root / "data" / "sample" / name)})
    assert is_demo
    assert pairs == [("demo", m) for m in months]
    assert plan(root=root, months=["2026-04"])[0] == [("demo", "2026-04")]
    with pytest.raises(ReportError, match="nobody"):
        plan(root=root, participants=["nobody"])
    with pytest.raises(ReportError, match="nothing to report"):
        plan(root=root, months=["2031-01"])
    with pytest.raises(PathError):
        plan(root=root, participants=["../etc"])
    with pytest.raises(PathError):
        ProjectPaths(root).report_path("demo/../..", "2026-04")


def test_data_dir_is_resolved_in_the_project_and_never_outside(tmp_path, monkeypatch):
    from rehab.report.files import data_folder

    root = make_project(tmp_path / "project")
    paths = ProjectPaths(root)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "data" / "sample").mkdir(parents=True)  # an empty look-alike beside the project
    monkeypatch.chdir(elsewhere)
    assert data_folder(paths, "data/sample") == (root / "data" / "sample").resolve()
    assert data_folder(paths, "") is None
    pairs, is_demo = plan(root=root, data_dir="data/sample")  # the project's, not the cwd's
    assert is_demo and ("demo", "2026-04") in pairs
    with pytest.raises(PathError, match="outside the project"):
        plan(root=root, data_dir="../elsewhere/data/sample")
    with pytest.raises(PathError, match="does not exist"):
        data_folder(paths, "data/nothing")


def test_settings_fingerprint_follows_config_protocols_template_and_kit(tmp_path, monkeypatch):
    """What every page reads besides its person's rows (those: tests/test_render_cache.py)."""
    import rehab
    from rehab.report import render

    root = make_project(tmp_path / "project", notes=False)
    paths = ProjectPaths(root)
    base = settings_fingerprint(paths, KIT_TEMPLATE)
    (paths.reports / "demo").mkdir(parents=True)
    (paths.reports / "demo" / "2026-04.html").write_text("x")  # outputs do not count
    assert settings_fingerprint(paths, KIT_TEMPLATE) == base
    (root / "rehab.toml").write_text("[report]\ninclude_notes = true\n")
    with_config = settings_fingerprint(paths, KIT_TEMPLATE)
    assert with_config != base
    (root / "protocols").mkdir()
    (root / "protocols" / "mine.toml").write_text('id = "mine"\n')
    with_protocol = settings_fingerprint(paths, KIT_TEMPLATE)
    assert with_protocol != with_config
    own = root / "notebooks" / "templates" / "monthly-report.ipynb"
    own.parent.mkdir(parents=True)
    own.write_bytes(KIT_TEMPLATE.read_bytes() + b"\n")
    assert settings_fingerprint(paths, own) != with_protocol
    # the kit: a copy of the package with one report module edited
    kit = tmp_path / "kit" / "rehab"
    kit.mkdir(parents=True)
    (kit / "__init__.py").write_text("")
    (kit / "report").mkdir()
    (kit / "report" / "monthly.py").write_text("A = 1\n")
    (kit / "cli.py").write_text("B = 1\n")
    monkeypatch.setattr(rehab, "__file__", str(kit / "__init__.py"))
    first = settings_fingerprint(paths, KIT_TEMPLATE)
    (kit / "cli.py").write_text("B = 2\n")  # the command line makes no page
    assert settings_fingerprint(paths, KIT_TEMPLATE) == first
    (kit / "report" / "monthly.py").write_text("A = 2\n")
    assert settings_fingerprint(paths, KIT_TEMPLATE) != first
    monkeypatch.setattr(rehab, "__version__", "99.0")
    assert render.settings_fingerprint(paths, KIT_TEMPLATE) != first


def test_index_links_reports_escapes_errors_and_skips_odd_folders(tmp_path):
    root = make_project(tmp_path)
    rep = root / "reports"
    (rep / "demo").mkdir(parents=True)
    (rep / "demo" / "2026-04.html").write_text("<html></html>")
    (rep / "demo" / ".2026-04.json").write_text(json.dumps({"demo": True}))
    (rep / "demo" / "notes.html").write_text("not a month")
    (rep / "bad name").mkdir()
    (rep / "bad name" / "2026-04.html").write_text("x")
    (rep / "compare").mkdir()
    (rep / "compare" / "demo.html").write_text("x")
    failed = [MonthOutcome("demo", "2026-05", "failed", cell="cell 3: x()",
                           error="ValueError: <b>no</b>")]
    index = write_index(root=root, failed=failed)
    page = index.read_text(encoding="utf-8")
    assert index == (rep / "index.html").resolve()
    assert '<a href="demo/2026-04.html">Apr 2026</a>' in page  # the caseload's month link
    assert "notes.html" not in page and "bad name" not in page
    assert '<a href="compare/demo.html">demo</a>' in page and "Protocol comparisons" in page
    assert "&lt;b&gt;no&lt;/b&gt;" in page and "<b>no</b>" not in page
    assert "DEMO DATA" in page and "not medical advice" in page
    assert offline_problems(page) == []


# --- charts (vl-convert, no kernel) ---------------------------------------------------------------


def test_every_report_chart_is_a_valid_vega_lite_spec(tmp_path, monkeypatch):
    """to_svg skips Altair's schema validation for speed: every chart a report draws is
    validated here instead (to_dict() checks the spec against the Vega-Lite schema)."""
    from rehab import plots
    from rehab.report.monthly import MonthReport

    root = make_project(tmp_path)
    drawn: list[str] = []
    real = plots.to_svg

    def validated(chart, *, prefix=None):
        chart.to_dict()  # raises on a spec that breaks the schema
        drawn.append(prefix)
        return real(chart, prefix=prefix)

    monkeypatch.setattr(plots, "to_svg", validated)
    report = MonthReport.load("demo", "2026-09", project_dir=str(root))
    for section in ("sessions_section", "adherence", "phase_change", "endurance", "endurance_model",
                    "pain", "flares", "session_pain", "pain_model"):
        getattr(report, section)()
    assert {"calendar", "adherence", "pain"} <= set(drawn) and len(drawn) >= 6, drawn


def test_charts_are_static_svg_with_unique_ids(tmp_path):
    from rehab import features as F
    from rehab import plots
    from rehab.io import load_project

    root = make_project(tmp_path)
    ds = load_project(root).for_participant("demo")
    m = "2026-04"
    charts = {
        "calendar": plots.calendar_chart(F.calendar_strip(ds.sessions, m, diary=ds.diary)),
        "tests": plots.test_series_chart(F.test_series(ds.tests), month=m),
        "pain": plots.pain_chart(F.daily_pain(ds.diary), F.weekly_pain(ds.diary), month=m),
        "zones": plots.pain_zones_chart(F.pain_zones(ds.sessions), month=m),
    }
    ids: list[str] = []
    for name, chart in charts.items():
        spec = json.dumps(chart.to_dict())
        assert '"url"' not in spec, name  # data inline, never fetched
        svg = plots.to_svg(chart, prefix=name)
        assert svg.startswith("<svg") and "role-mark" in svg, name
        assert "<script" not in svg and offline_problems(svg) == [], name
        found = re.findall(r'\bid="([^"]+)"', svg)
        assert all(i.startswith(f"{name}-") for i in found), name
        ids += found
    assert len(ids) == len(set(ids))  # several charts in one page cannot share a clip path
    with pytest.raises(ValueError, match="unit"):
        plots.test_series_chart(F.test_series(ds.tests), unit="kg")


# --- sections in-process (no kernel) -------------------------------------------------------------


def _all_sections(r) -> str:
    return "".join(s.html for s in (r.header(), r.sessions_section(), r.adherence(),
                                    r.phase_change(), r.endurance(), r.endurance_model(),
                                    r.pain(), r.flares(), r.session_pain(), r.pain_model(),
                                    r.notes(), r.data_quality(), r.footer()))


def test_sections_escape_user_text_and_leave_notes_out_unless_asked(tmp_path):
    from rehab.report.monthly import MonthReport

    root = make_project(tmp_path, notes=False)
    with (root / "data" / "sample" / "tests.csv").open("a", encoding="utf-8") as f:
        f.write('demo,2026-04-20,"<img src=x onerror=alert(1)>",12,s,,,\n')
    r = MonthReport.load("demo", "2026-04", project_dir=str(root))
    page = _all_sections(r)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert offline_problems(page) == [] and "<script" not in page
    assert NASTY not in page and "alert('x')" not in page  # the diary note stays out
    assert "include_notes = true" in page
    (root / "rehab.toml").write_text("[report]\ninclude_notes = true\n", encoding="utf-8")
    with_notes = MonthReport.load("demo", "2026-04", project_dir=str(root)).notes().html
    assert "&lt;script&gt;alert(" in with_notes and "<script" not in with_notes


def test_number_helpers_show_missing_and_nan_as_a_dash():
    from rehab.report.page import num, signed

    assert num(None) == num(float("nan")) == "–"
    assert signed(None) == signed(float("nan"), 1, "s") == "–"
    assert num(3.14159, 1, "s") == "3.1 s" and signed(-2.0, 1) == "−2.0"


def test_sorensen_noise_note_only_when_a_sorensen_hold_is_shown(tmp_path):
    from rehab.report.monthly import MonthReport

    sample = tmp_path / "data" / "sample"
    sample.mkdir(parents=True)
    (tmp_path / "rehab.toml").write_text("", encoding="utf-8")
    (sample / "tests.csv").write_text("participant,date,test,value,unit\n"
                                      "x,2026-03-10,wall_sit,20,s\nx,2026-04-10,wall_sit,25,s\n",
                                      encoding="utf-8")
    html = MonthReport.load("x", "2026-04", project_dir=str(tmp_path)).endurance().html
    assert '<td data-label="test">wall sit</td>' in html and "not judged" in html
    assert "Sorensen" not in html and "32.1" not in html


def test_sections_fall_back_to_sentences_when_the_month_is_thin(tmp_path):
    from rehab.report.monthly import MonthReport

    root = make_project(tmp_path, notes=False)
    sample = root / "data" / "sample"
    last = max(r["date"] for r in rows(sample / "diary.csv"))  # the demo's last day: 1 Nov
    r = MonthReport.load("demo", last[:7], project_dir=str(root))
    assert r.logged_until.isoformat() == last
    assert "too few days to judge the weekly rate" in r.sessions_section().html
    assert "too few to describe pain" in r.pain().html
    assert "No test was logged" in r.endurance().html
    assert "No pain ratings during sets" in r.session_pain().html
    # the demo's phases end on 1 November, in October's last ISO week (issue 12.4)
    assert "the last protocol period ended on 01 Nov 2026" in r.adherence().html
    assert r.phase_change().html == ""  # no phase starts in the last month: no output at all
    with pytest.raises(ReportError, match="nobody"):
        MonthReport.load("nobody", "2026-04", project_dir=str(root))
    with pytest.raises(ReportError, match="no records up to"):
        MonthReport.load("demo", "2025-01", project_dir=str(root))


def test_model_sections_degrade_to_sentences_then_show_curve_forecasts_and_phase_change(
        tmp_path):
    from rehab import norms
    from rehab.report.monthly import MonthReport

    root = make_project(tmp_path, notes=False)
    (root / "rehab.toml").write_text('[participants.demo]\nsex = "male"\n', encoding="utf-8")
    first = MonthReport.load("demo", "2026-02", project_dir=str(root))  # 2 test days so far
    curve = first.endurance_model().html
    assert curve.count("no curve is drawn yet") == 2 and "a curve needs at least 4" in curve
    assert "<figure" not in curve
    model = first.pain_model().html  # February overlaps the 14-day baseline: not judged
    assert "How to read this page" in model  # where AR(1) and GLS are explained
    assert "AR(1)" in first.how_to_read().text
    assert "not judged: the window overlaps the baseline" in model
    assert first.phase_change().html == ""

    late = MonthReport.load("demo", "2026-09", project_dir=str(root))
    curve = late.endurance_model().html
    assert 'data-chart="curve-sorensen_hold"' in curve
    assert 'data-chart="curve-back_extension_hold"' in curve
    assert f"protocol goal {norms.PROTOCOL_HOLD_GOAL_S:g} s" in curve
    for s in (norms.SORENSEN_RISK_BELOW_S, norms.SORENSEN_PROTECTIVE_ABOVE_S):  # men, horizontal
        assert f"Sorensen {s:g} s" in curve
    assert ('<td data-label="test">back-extension hold (45°)</td>'
            '<td data-label="target">Sorensen') not in curve  # horizontal only
    model = late.pain_model()
    assert "falling" in model.html and "points a week" in model.html
    assert "against the first 14 days of the diary" in model.html

    march = MonthReport.load("demo", "2026-03", project_dir=str(root))
    change = march.phase_change().html  # the demo switches protocol on 16 March
    assert "Phase change this month" in change
    # protocols by their names, not their ids
    assert "the protocol changed from Traditional core (phase A) to S.H.I.T. (phase B)" in change
    assert "traditional-core" not in change
    assert "Read with care" in change and "Kratochwill" in change
    assert "8 session(s) against a target of 8.0" in march.adherence().html


# --- rendering (kernels) -------------------------------------------------------------------------


def test_cli_renders_a_month_with_index_then_skips_it_unchanged(tmp_path, monkeypatch):
    root = make_project(tmp_path)
    monkeypatch.setenv("REHAB_HOME", str(root))
    before = files_outside_reports(root)
    runner = CliRunner()
    res = runner.invoke(app, ["report", "--month", "2026-04", "--participant", "demo"])
    assert res.exit_code == 0, res.output
    report = root / "reports" / "demo" / "2026-04.html"
    page = report.read_text(encoding="utf-8")

    # self-contained, no code, user text escaped, demo said, not medical advice
    assert offline_problems(page) == []
    assert "<script" not in page.lower()
    assert "<script>alert" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(" in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "MonthReport" not in page and "project_dir" not in page
    assert "DEMO DATA" in page and "not medical advice" in page
    assert "0 of their records quarantined" in page
    # 5 charts and what was done's two (weekly volume, training load)
    assert page.count('<figure class="chart"') == page.count("<svg") == 7
    for heading in ("Adherence and progression", "Endurance curve and forecasts",
                    "Pain trend, sensitivity and important change"):
        assert f">{heading}</h" in page, heading
    assert "AR(1) errors" in page and "no curve is drawn yet" in page
    assert "Phase change this month" not in page  # none in April

    # numbers against the CSV files and Latimer's 32.1 s
    sample = root / "data" / "sample"
    april_days = {r["date"] for r in rows(sample / "sessions.csv") if r["date"][:7] == "2026-04"}
    assert f"{len(april_days)} training day(s) in 30 logged day(s)" in page
    best = {m: max(float(r["value"]) for r in rows(sample / "tests.csv")
                   if r["test"] == "sorensen_hold" and r["date"][:7] == m)
            for m in ("2026-03", "2026-04")}
    change = best["2026-04"] - best["2026-03"]
    verdict = ("real improvement" if change >= 32.1 else "real decline" if change <= -32.1
               else "noise")
    row = re.search(r"<td[^>]*>Sorensen hold</td>(.*?)</tr>", page).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    assert cells[0] == f"{best['2026-04']:.0f} s" and cells[2] == f"{best['2026-03']:.0f} s"
    assert cells[3].startswith(f"{change:+.0f} s".replace("-", "−"))
    assert cells[4] == "32.1 s" and cells[5] == verdict
    days: dict[str, list[float]] = {}
    for r in rows(sample / "diary.csv"):
        if r["date"][:7] == "2026-04":
            days.setdefault(r["date"], []).append(float(r["pain"]))
    mean = sum(sum(v) / len(v) for v in days.values()) / len(days)
    assert f"Mean daily pain {mean:.1f} out of 10" in page

    # the index, the cache record, and nothing written outside reports/
    index = (root / "reports" / "index.html").read_text(encoding="utf-8")
    assert 'href="demo/2026-04.html"' in index and "DEMO DATA" in index
    assert json.loads((root / "reports" / "demo" / ".2026-04.json").read_text())["demo"] is True
    assert files_outside_reports(root) == before

    again = runner.invoke(app, ["report", "--month", "2026-04"])
    assert again.exit_code == 0, again.output
    assert "0 rendered, 1 unchanged" in again.output
    assert report.read_text(encoding="utf-8") == page


def test_all_renders_in_parallel_and_reports_a_failing_month(tmp_path, monkeypatch):
    root = make_project(tmp_path, months=("2026-03", "2026-04"), notes=False)
    own = root / "notebooks" / "templates" / "monthly-report.ipynb"
    own.parent.mkdir(parents=True)
    nb = nbformat.read(KIT_TEMPLATE, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "report.endurance()" in c.source)
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(
        'if month == "2026-03":\n    raise RuntimeError("boom in March")'))
    nbformat.write(nb, own)
    monkeypatch.setenv("REHAB_HOME", str(root))
    res = CliRunner().invoke(app, ["report", "--all", "--jobs", "2"])
    assert res.exit_code == 1, res.output
    assert re.search(r"demo 2026-03: failed in section “Endurance tests”, cell \d+: "
                     r'raise RuntimeError\("boom in March"\): RuntimeError: boom in March',
                     res.output), res.output
    assert "1 rendered, 0 unchanged (skipped), 1 failed" in res.output
    assert (root / "reports" / "demo" / "2026-04.html").is_file()
    assert not (root / "reports" / "demo" / "2026-03.html").exists()
    index = (root / "reports" / "index.html").read_text(encoding="utf-8")
    assert 'href="demo/2026-04.html"' in index and "boom in March" in index


@pytest.mark.parametrize(("args", "message"), [
    ([], "--month"),
    (["--month", "2026-04", "--all"], "give --month YYYY-MM or --all, not both"),
    (["--month", "2026-13"], "YYYY-MM"),
    (["--month", "2026-04", "--participant", "../x"], "not allowed"),
    (["--month", "2031-01"], "nothing to report (months with records: "),
])
def test_cli_refuses_wrong_calls_with_exit_2(tmp_path, monkeypatch, args, message):
    monkeypatch.setenv("REHAB_HOME", str(make_project(tmp_path, notes=False)))
    res = CliRunner().invoke(app, ["report", *args])
    assert res.exit_code == 2
    assert message in res.output


def test_the_pain_lines_say_what_an_important_change_takes_in_the_direction_it_went():
    """Made by hand: pain 4.0 for the first 14 days of March 2026, then 5.8 for the rest of
    March and all of April: +1.8 points against the start (+45%), no important change, since a
    worsening takes 2 points (Ostelo's 30% is for improvement); April against March: +0.6, not
    an important change. The line said "(that takes 2 points or 30%)"."""
    from types import SimpleNamespace

    from rehab.config import Config
    from rehab.protocol import load_protocols
    from rehab.schema import PHASES, SESSIONS
    from rehab.summary import _signed, month_summary

    days = [dt.date(2026, 3, 1) + dt.timedelta(days=i) for i in range(61)]
    diary = pl.DataFrame({"participant": "me", "date": days,
                          "pain": [4.0 if i < 14 else 5.8 for i in range(61)]})
    data = SimpleNamespace(sessions=SESSIONS.empty(), diary=diary, tests=None,
                           phases=PHASES.empty())
    s = month_summary(data, "me", "2026-04", protocols=load_protocols(), config=Config())
    lines = {a: c for a, _, c in s.lines()}
    assert lines["pain-model"] == ("+1.8 points (+45%) against the first 14 days of your diary "
                                   "(4.0): no important change (an important worsening takes 2 "
                                   "points).")
    march = (14 * 4.0 + 17 * 5.8) / 31
    assert lines["pain"].endswith(f"against {march:.1f} last month: {_signed(5.8 - march)} "
                                  "points, not an important change (an important worsening "
                                  "takes 2 points).")
    assert _signed(-0.04) == "+0.0" and _signed(-0.06) == "−0.1"


def test_weeks_after_the_last_log_are_said_not_logged_to_their_end():
    """Ben trains on Monday and Thursday from 5 October 2026 (rehab.toml names S.H.I.T., 2 a
    week) and logs nothing after Monday 2 November. November's weeks (from 2 November, to 29
    November) are not judged: his logs stop before their Sunday. The line said "4 weeks not
    over yet" of weeks long past."""
    from types import SimpleNamespace

    from rehab.config import Config
    from rehab.protocol import load_protocols
    from rehab.schema import DIARY, PHASES, SESSIONS
    from rehab.summary import month_summary

    days = [dt.date(2026, 10, 5) + dt.timedelta(days=7 * w + d) for w in range(4) for d in (0, 3)]
    days.append(dt.date(2026, 11, 2))
    rows = [{**dict.fromkeys(SESSIONS.names), "participant": "ben", "date": d,
             "exercise": "back_extension", "set": 1, "reps": 10, "set_type": "normal"}
            for d in days]
    data = SimpleNamespace(sessions=pl.DataFrame(rows, schema=SESSIONS.polars_schema),
                           diary=DIARY.empty(), tests=None, phases=PHASES.empty())
    s = month_summary(data, "ben", "2026-11", protocols=load_protocols(),
                      config=Config(raw={"protocol": {"id": "shit"}}))
    assert [w.status for w in s.weeks] == ["not_over"] * 4
    line = dict((a, c) for a, _, c in s.lines())["sessions"]
    assert line.endswith("no whole week to judge yet (4 weeks not judged: the logs stop before "
                         "their Sunday).")
    # the adherence section judges the same weeks (it said "1 session(s) against a target of
    # 8.0 (12%) over 4 ISO week(s)")
    from rehab.adherence import adherence_section

    sec = adherence_section(data, "ben", "2026-11", protocols=load_protocols(),
                            config=Config(raw={"protocol": {"id": "shit"}}))
    assert sec.text.startswith("2026-11: no week of S.H.I.T. (2 a week) is judged yet (each "
                               "week counted whole, to its Sunday). 4 week(s) not judged: the "
                               "logs stop before their Sunday.")
    # October's weeks are over (his logs reach 2 November): 8 of 8, all judged
    october = adherence_section(data, "ben", "2026-10", protocols=load_protocols(),
                                config=Config(raw={"protocol": {"id": "shit"}}))
    assert october.text.startswith("2026-10: 8 session(s) against a target of 8.0 (100%) over 4 "
                                   "ISO week(s)")


def test_a_month_without_records_names_the_months_that_have_them(tmp_path, monkeypatch):
    root = make_project(tmp_path, notes=False)
    monkeypatch.setenv("REHAB_HOME", str(root))
    months = sorted({r["date"][:7] for kind in ("sessions", "diary", "tests")
                     for r in rows(root / "data" / "sample" / f"{kind}.csv")})
    res = CliRunner().invoke(app, ["report", "--month", "2031-01"])
    assert res.exit_code == 2
    assert (f"(months with records: {len(months)} months from {months[0]} to {months[-1]})"
            in " ".join(res.output.split())), res.output
