"""The report charts as specs (no SVG): each kind, and the variants a page can ask for, is a
valid Vega-Lite spec; each embeds only the columns it draws; the flare marks, now picked in
Python rather than by a Vega filter, are the diary's flare days of the month."""

from __future__ import annotations

import csv
import datetime as dt
import re

import polars as pl
import pytest

from rehab import demo, plots
from rehab import features as F
from rehab.io import load_project
from rehab.report import charts

MONTH = "2026-05"  # a demo month with flare days


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("plots")
    demo.generate(root / "data" / "sample")
    return root


@pytest.fixture(scope="module")
def ds(project):
    return load_project(project).for_participant("demo")


def _charts(ds) -> dict:
    """Every chart kind of the monthly and course pages, with the variants a page can draw."""
    from rehab.models.load import fitness_fatigue
    from rehab.report.monthly import QUESTIONNAIRE_MIC, weekly_volume

    first, last = F.month_range(MONTH)
    strip = F.calendar_strip(ds.sessions, MONTH, diary=ds.diary)
    series = F.test_series(ds.tests)
    daily, weekly = F.daily_pain(ds.diary), F.weekly_pain(ds.diary)
    start, end = ds.sessions["date"].min(), ds.sessions["date"].max()
    from rehab.summary import WeekSummary

    spw = F.sessions_per_week(ds.sessions, start=start, end=end, target=2.0)
    statuses = ("met", "below", "not_over", "no_target", "before_start")
    weeks = [WeekSummary(r["week_start"], "", r["n_sessions"], None if i % 5 > 2 else 2.0,
                         statuses[i % 5], ()) for i, r in enumerate(spw.iter_rows(named=True))]
    untargeted = [WeekSummary(w.week_start, "", w.sessions, None, "no_target", ()) for w in weeks]
    sorensen = series.filter(pl.col("test") == "sorensen_hold").select("date", "value")
    pred = sorensen.select("date", pl.col("value").alias("estimate"),
                           (pl.col("value") - 10).alias("ci_low"),
                           (pl.col("value") + 400).alias("ci_high"))
    scores = pl.DataFrame({"date": [dt.date(2026, 3, 1), dt.date(2026, 4, 1), dt.date(2026, 3, 2)],
                           "instrument": ["rmdq", "rmdq", "other"], "score": [14.0, 9.0, 3.0]})
    return {
        "calendar": plots.calendar_chart(strip),
        "calendar, no target": plots.calendar_chart(
            strip.with_columns(pl.lit(None, pl.Float64).alias("target"))),
        "tests": plots.test_series_chart(series, month=MONTH),
        "tests, no month or goal": plots.test_series_chart(series, goal_s=None),
        "pain": plots.pain_chart(daily, weekly, month=MONTH),
        "zones": plots.pain_zones_chart(F.pain_zones(ds.sessions), month=MONTH),
        "volume": charts.volume_chart(weekly_volume(ds.sessions, first, last)),
        "load": charts.load_chart(F.session_loads(ds.sessions),
                                  fitness_fatigue(F.daily_load(ds.sessions)),
                                  first=first, last=last),
        "curve": charts.curve_chart(sorensen, pred, title="curve",
                                    targets=(("goal", 120.0), ("high", 900.0)), y_max=300.0),
        "curve, tests only": charts.curve_chart(sorensen, None, title="tests"),
        "course tests": charts.course_tests_chart(series, ds.phases, start=start, end=end,
                                                  curve=pred.select("date", "estimate")),
        "course pain": charts.weekly_pain_chart(weekly, ds.phases, start=start, end=end),
        "course sessions": charts.sessions_week_chart(weeks, ds.phases, start=start, end=end),
        "course sessions, no target or phases": charts.sessions_week_chart(
            untargeted, ds.phases.clear(), start=start, end=end),
        "questionnaires": charts.questionnaire_chart(scores, QUESTIONNAIRE_MIC),
    }


def _used_fields(spec) -> set[str]:
    """Every field a spec's marks read: encoded fields, and ``datum.x`` in expressions."""
    found: set[str] = set()

    def walk(o):
        if isinstance(o, dict):
            if isinstance(o.get("field"), str):
                found.add(o["field"])
            for k, v in o.items():
                if k != "datasets":
                    walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
        elif isinstance(o, str):
            found.update(re.findall(r"datum\.(\w+)", o))

    walk(spec)
    return found


def test_every_chart_is_valid_vega_lite_and_embeds_only_what_it_draws(ds):
    for name, chart in _charts(ds).items():
        spec = chart.to_dict()  # validates against the Vega-Lite schema: raises when broken
        columns = {c for rows in spec.get("datasets", {}).values() for r in rows for c in r}
        assert columns, name
        assert columns <= _used_fields(spec), (name, columns - _used_fields(spec))


def _diary_days(project) -> tuple[list[str], list[str]]:
    """The month's days with a pain rating and those with a flare, read from the diary CSV."""
    with (project / "data" / "sample" / "diary.csv").open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f)
                if r["participant"] == "demo" and r["date"].startswith(MONTH)]
    return (sorted({r["date"] for r in rows if r["pain"].strip()}),
            sorted({r["date"] for r in rows if r["flare"].strip() == "yes"}))


def _rows_with(spec, column: str) -> list[dict]:
    return [r for rows in spec["datasets"].values() for r in rows if column in r]


def test_flare_marks_are_the_diary_flare_days(project, ds):
    rated, days = _diary_days(project)
    assert days
    cal = plots.calendar_chart(F.calendar_strip(ds.sessions, MONTH, diary=ds.diary)).to_dict()
    marked = _rows_with(cal, "flare_mark")
    assert {r["flare_mark"] for r in marked} == {"flare day"}
    expected = [(dt.date.fromisoformat(d).strftime("%a"), dt.date.fromisoformat(d)) for d in days]
    assert sorted((r["day"], r["week"]) for r in marked) == sorted(
        (wd, f"{d - dt.timedelta(days=d.weekday()):%d %b}") for wd, d in expected)
    pain = plots.pain_chart(F.daily_pain(ds.diary), F.weekly_pain(ds.diary),
                            month=MONTH).to_dict()
    triangles = [r["date"] for r in _rows_with(pain, "mark") if r["mark"] == "flare day"]
    assert sorted(triangles) == days
    dots = [r["date"] for r in _rows_with(pain, "mark") if r["mark"] == "daily mean"]
    assert sorted(dots) == rated


def test_labels_from_the_data_keep_the_legend_limit_the_kits_own_do_not_need(ds):
    """Charts lift Vega's label limit only where the labels are the kit's own (short) words: a
    custom test name past the legend's 160 px is still cut, as it was before."""
    long = "a_custom_test_named_at_such_length_that_it_runs_past_the_legend"
    series = F.test_series(ds.tests).with_columns(pl.lit(long).alias("test"))
    svg = plots.to_svg(plots.test_series_chart(series, month=MONTH))
    labels = re.search(r'role-legend-label".*?</g>', svg).group(0)
    shown = re.findall(r"<text[^>]*>([^<]*)</text>", labels)
    assert len(shown) == 1 and shown[0].startswith("a custom test named") and shown[0][-1] == "…"
    assert plots.kit_labels(legends=False) == {"axis": {"labelLimit": 0}}
