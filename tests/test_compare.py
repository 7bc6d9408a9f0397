"""Protocol comparison: across people against the demo generator's truth, within one person on
series with known weekly means, the month-of-the-switch summary, and the `rehab compare` command.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from rehab import sced
from rehab.cli import app
from rehab.compare import (
    CAVEAT_RANDOM_START,
    PAIN,
    ComparisonError,
    cohort_comparison,
    comparison_problems,
    delay_text,
    demo_recovery,
    month_phase_change_summary,
    outcome_points,
    phase_comparison,
    phase_segments,
)
from rehab.demo import generate, true_test_value
from rehab.io import load_project
from rehab.paths import PathError
from rehab.report.comparison import month_change_html
from rehab.report.page import offline_problems

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
SEED = 2031  # the demo generator's default seed; fixed so the check is reproducible
PAIR = "shit - traditional-core"


# --- the demo cohort: estimates against the generator's truth --------------------------------------


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    root = tmp_path_factory.mktemp("cohort")
    generate(root / "data", participants=60, seed=SEED)
    ds = load_project(root, source=root / "data")
    truth = json.loads((root / "data" / "truth.json").read_text(encoding="utf-8"))
    return ds, truth


@pytest.fixture(scope="module")
def hold(cohort):
    return cohort_comparison(cohort[0], outcome="sorensen_hold")


@pytest.fixture(scope="module")
def pain(cohort):
    return cohort_comparison(cohort[0], outcome=PAIN)


def row(df: pl.DataFrame, protocol: str, reference: str) -> dict:
    return df.filter((pl.col("protocol") == protocol) & (pl.col("reference") == reference)).row(
        0, named=True
    )


def variant_of(truth) -> dict[str, str]:
    return {pid: p["variant"] for pid, p in truth["participants"].items()}


def true_hold_slopes(ds, truth) -> dict[str, float]:
    """Per person: the least-squares slope (s/week) of their noise-free Sorensen curve at their
    phase-B test days — what a linear growth model of phase B estimates."""
    b_start = dict(
        ds.phases.filter(pl.col("phase") == "B").select("participant", "start").iter_rows()
    )
    out = {}
    for (pid,), g in ds.tests.filter(pl.col("test") == "sorensen_hold").group_by(["participant"]):
        g = g.filter(pl.col("date") >= b_start[pid]).sort("date")
        days = g["date"].to_list()
        weeks = np.array([(d - b_start[pid]).days / 7 for d in days])
        curve = truth["participants"][pid]["endurance"]["sorensen_hold"]
        out[pid] = float(np.polyfit(weeks, true_test_value(curve, days), 1)[0])
    return out


def mean_difference(values: dict[str, float], variants: dict[str, str], a: str, b: str) -> float:
    def m(v):
        return float(np.mean([x for pid, x in values.items() if variants[pid] == v]))

    return m(a) - m(b)


def test_endurance_gain_difference_recovers_the_recorded_truth(cohort, hold):
    """Seed 2031: estimated gain difference 55.9 s (95% CI 44.3 to 67.5) against the drawn truth
    56.2 s. Over seeds 2020-2049 the interval covered the recorded truth 30 times of 30."""
    _, truth = cohort
    r = row(hold.gain_difference, "shit", "traditional-core")
    recorded = truth["cohort"]["true_differences"][PAIR]["sample"]["sorensen_gain_s"]
    assert r["ci_low"] <= recorded <= r["ci_high"]
    assert abs(r["estimate"] - recorded) < 2 * r["std_error"]
    three = row(hold.gain_difference, "shit-3x", "shit")  # a contrast of two non-reference arms
    recorded3 = truth["cohort"]["true_differences"]["shit-3x - shit"]["sample"]["sorensen_gain_s"]
    assert three["ci_low"] <= recorded3 <= three["ci_high"]


def test_endurance_slope_difference_recovers_the_true_curves(cohort, hold):
    """The slope estimand, computed here from each person's noise-free curve: seed 2031 gives
    1.22 s/week (0.94 to 1.51) against 1.14 s/week. Coverage over seeds 2020-2049: 29 of 30."""
    ds, truth = cohort
    r = row(hold.slope_difference, "shit", "traditional-core")
    target = mean_difference(
        true_hold_slopes(ds, truth), variant_of(truth), "shit", "traditional-core"
    )
    assert r["ci_low"] <= target <= r["ci_high"]
    assert hold.status == "ok" and hold.slope_unit == "s/week"
    # the reference arm's own slope, back in weeks from the centred, scaled time of the fit
    weeks = hold.interaction.filter(pl.col("term") == "weeks").row(0, named=True)
    ref = float(
        np.mean(
            [
                x
                for pid, x in true_hold_slopes(ds, truth).items()
                if variant_of(truth)[pid] == "traditional-core"
            ]
        )
    )
    assert weeks["ci_low"] <= ref <= weeks["ci_high"]


def test_pain_slope_difference_recovers_the_truth(cohort, pain):
    """Weekly morning pain in phase B: slope = slope_before + slope_change of the true mean.
    Seed 2031: -0.045 NRS points/week (-0.060 to -0.030) against -0.035 (recorded slope-change
    difference -0.039). Coverage over seeds 2020-2049: 29 of 30."""
    _, truth = cohort
    r = row(pain.slope_difference, "shit", "traditional-core")
    recorded = truth["cohort"]["true_differences"][PAIR]["sample"]["pain_slope_change_per_week"]
    assert r["ci_low"] <= recorded <= r["ci_high"]
    slopes = {
        pid: p["pain"]["slope_before_per_week"] + p["pain"]["slope_change_per_week"]
        for pid, p in truth["participants"].items()
    }
    target = mean_difference(slopes, variant_of(truth), "shit", "traditional-core")
    assert r["ci_low"] <= target <= r["ci_high"]
    assert pain.slope_unit == "NRS points/week"


def test_demo_recovery_reports_the_same_truths(cohort, hold, pain):
    ds, truth = cohort
    rec = demo_recovery(hold, truth)
    slope = rec.filter(
        pl.col("quantity").str.starts_with("slope")
        & (pl.col("protocol") == "shit")
        & (pl.col("reference") == "traditional-core")
    ).row(0, named=True)
    expected = mean_difference(
        true_hold_slopes(ds, truth), variant_of(truth), "shit", "traditional-core"
    )
    assert slope["truth_estimand"] == pytest.approx(expected, abs=1e-9)
    gain = rec.filter(
        pl.col("quantity").str.starts_with("gain")
        & (pl.col("protocol") == "shit")
        & (pl.col("reference") == "traditional-core")
    ).row(0, named=True)
    assert (
        gain["truth_recorded"]
        == truth["cohort"]["true_differences"][PAIR]["sample"]["sorensen_gain_s"]
    )
    assert gain["covers_recorded"] is True
    p = (
        demo_recovery(pain, truth)
        .filter(
            pl.col("quantity").str.starts_with("slope")
            & (pl.col("protocol") == "shit-3x")
            & (pl.col("reference") == "shit")
        )
        .row(0, named=True)
    )
    assert (
        p["truth_recorded"]
        == truth["cohort"]["true_differences"]["shit-3x - shit"]["sample"][
            "pain_slope_change_per_week"
        ]
    )
    assert set(rec.columns) >= {
        "estimate",
        "ci_low",
        "ci_high",
        "truth_recorded",
        "truth_estimand",
        "error",
        "error_in_se",
    }


def test_contrast_equals_a_refit_with_another_reference(cohort, hold):
    """shit-3x - shit from the fixed-effect covariance equals the same model refitted with shit
    as the reference (a reparametrisation: same likelihood)."""
    refit = cohort_comparison(cohort[0], outcome="sorensen_hold", reference="shit")
    a, b = (
        row(hold.slope_difference, "shit-3x", "shit"),
        row(refit.slope_difference, "shit-3x", "shit"),
    )
    assert a["estimate"] == pytest.approx(b["estimate"], abs=0.02 * b["std_error"])
    assert a["std_error"] == pytest.approx(b["std_error"], rel=0.02)


def test_per_person_effect_sizes_one_row_per_person_and_measure(cohort, hold):
    ds, truth = cohort
    assert hold.per_person["participant"].n_unique() == 60
    assert hold.per_person.height == 60 * len(sced.MEASURES)
    nap = hold.distribution.filter(pl.col("measure") == "NAP")
    assert dict(nap.select("protocol", "n").iter_rows()) == {
        "shit": 20,
        "shit-3x": 20,
        "traditional-core": 20,
    }
    # one person's row is that person's A (lead-in) vs B tests through sced.effect_sizes
    pid = "p001"
    b_start = ds.phases.filter((pl.col("participant") == pid) & (pl.col("phase") == "B"))["start"][
        0
    ]
    t = ds.tests.filter((pl.col("participant") == pid) & (pl.col("test") == "sorensen_hold")).sort(
        "date"
    )
    direct = sced.effect_sizes(
        t.filter(pl.col("date") < b_start)["value"], t.filter(pl.col("date") >= b_start)["value"]
    )
    mine = hold.per_person.filter(pl.col("participant") == pid)
    assert mine["estimate"].to_list() == pytest.approx(direct["estimate"].to_list(), nan_ok=True)
    # S.H.I.T. lifts the extensor hold far above the lead-in; traditional core barely
    med = dict(nap.select("protocol", "median").iter_rows())
    assert med["shit"] > 0.9 and med["traditional-core"] < med["shit"]


def test_cohort_charts_and_summary(hold):
    hold.chart().to_dict()
    hold.effect_size_chart(measure="Tau_BC").to_dict()
    text = hold.summary()
    assert "slope difference shit - traditional-core" in text
    assert "independent, constant-variance residuals" in text
    with pytest.raises(ComparisonError, match="measure"):
        hold.effect_size_chart(measure="nope")


# --- a tests frame with a protocol column, and a known linear truth --------------------------------


def linear_cohort(seed=3, n=60, slope_diff=2.0):
    rng = np.random.default_rng(seed)
    rows = []
    d0 = dt.date(2025, 1, 6)
    for i in range(n):
        prot = "shit" if i % 2 else "traditional-core"
        slope = 1.0 + (slope_diff if prot == "shit" else 0.0) + rng.normal(0, 0.5)
        base = 80 + rng.normal(0, 15)
        for w in range(0, 21, 2):
            rows.append(
                {
                    "participant": f"q{i:03d}",
                    "date": d0 + dt.timedelta(weeks=w),
                    "protocol": prot,
                    "test": "sorensen_hold",
                    "value": base + slope * w + rng.normal(0, 11.6),
                }
            )
    return pl.DataFrame(rows)


def test_tests_frame_with_known_linear_slopes():
    c = cohort_comparison(linear_cohort(), outcome="sorensen_hold")
    r = row(c.slope_difference, "shit", "traditional-core")
    assert r["ci_low"] <= 2.0 <= r["ci_high"]
    assert r["estimate"] == pytest.approx(2.0, abs=0.5)
    weeks = c.interaction.filter(pl.col("term") == "weeks").row(0, named=True)
    assert weeks["ci_low"] <= 1.0 <= weeks["ci_high"]
    assert c.gain_difference.height == 0 and c.per_person.height == 0
    assert any("no lead-in" in n for n in c.notes)
    with pytest.raises(ComparisonError, match="protocol"):
        cohort_comparison(linear_cohort().drop("protocol"))
    with pytest.raises(ComparisonError, match="reference"):
        cohort_comparison(linear_cohort(), reference="nope")
    with pytest.raises(ComparisonError, match="no pain"):
        cohort_comparison(linear_cohort(), outcome=PAIN)


def test_single_person_is_too_little_data_for_a_cohort():
    ds = load_project(ROOT, source=SAMPLE)
    c = cohort_comparison(ds, outcome="sorensen_hold")
    assert c.status == "too_little_data" and c.slope_difference.height == 0
    assert comparison_problems(ds, outcome="sorensen_hold")
    assert comparison_problems(ds, participant="demo") == []


# --- one person: series with known weekly means ----------------------------------------------------

MON = dt.date(2026, 1, 5)


def person(
    weekly: list[float],
    phases: list[tuple[str, str | None, int]],
    *,
    start: dt.date = MON,
    evening: float = 9.0,
):
    """A diary with one morning entry a day equal to that week's value (and an evening entry,
    which the morning comparison must ignore); phases as (protocol, label, weeks)."""
    diary, rows, d = [], [], start
    for i, v in enumerate(weekly):
        for k in range(7):
            day = start + dt.timedelta(days=7 * i + k)
            diary.append({"participant": "me", "date": day, "moment": "morning", "pain": v})
            diary.append({"participant": "me", "date": day, "moment": "evening", "pain": evening})
    for prot, label, weeks in phases:
        end = d + dt.timedelta(days=7 * weeks - 1)
        rows.append({"participant": "me", "start": d, "end": end, "protocol": prot, "phase": label})
        d = end + dt.timedelta(days=1)
    return SimpleNamespace(
        diary=pl.DataFrame(diary),
        tests=pl.DataFrame(
            schema={
                "participant": pl.String(),
                "date": pl.Date(),
                "test": pl.String(),
                "value": pl.Float64(),
            }
        ),
        phases=pl.DataFrame(
            rows,
            schema={
                "participant": pl.String(),
                "start": pl.Date(),
                "end": pl.Date(),
                "protocol": pl.String(),
                "phase": pl.String(),
            },
        ),
    )


def test_ab_with_known_weekly_means():
    data = person([6, 7, 6, 7, 3, 2, 3, 2], [("traditional-core", "A", 4), ("shit", "B", 4)])
    c = phase_comparison(data, "me", outcome=PAIN)
    assert c.design == "AB"
    assert c.points["value"].to_list() == [6, 7, 6, 7, 3, 2, 3, 2]  # mornings only
    es = {r["measure"]: r["estimate"] for r in c.effect_sizes.iter_rows(named=True)}
    # every B week is below every A week (pain: lower is better)
    assert es["NAP"] == 1.0 and es["Tau"] == 1.0 and es["PND"] == 1.0
    rt = c.randomization
    # 8 points, at least 3 a phase: the change can start at point 3, 4 or 5; the observed
    # split (A - B = 6.5 - 2.5 = 4) beats the other two (2.93, 3.47): p = 1/3
    assert rt.n_assignments == 3 and rt.observed == pytest.approx(4.0)
    assert rt.p_value == pytest.approx(1 / 3)
    text = " ".join(c.caveats)
    for word in ("Autocorrelation", "Short phases", "Carry-over", "three demonstrations"):
        assert word in text
    c.chart().to_dict()
    assert "AB comparison of weekly morning pain" in c.summary()


def test_diary_without_moments_uses_every_entry():
    data = person([6, 7, 6, 7, 3, 2, 3, 2], [("traditional-core", "A", 4), ("shit", "B", 4)])
    data.diary = data.diary.filter(pl.col("moment") == "morning").drop("moment")
    c = phase_comparison(data, "me")
    assert c.moment == "all" and c.points["value"].to_list() == [6, 7, 6, 7, 3, 2, 3, 2]
    assert any("no diary entry is marked 'morning'" in n for n in c.notes)
    assert c.label == "weekly pain"


def test_piecewise_level_change_on_exact_steps():
    data = person([6] * 6 + [3] * 6, [("traditional-core", "A", 6), ("shit", "B", 6)])
    c = phase_comparison(data, "me")
    tidy = {r["term"]: r["estimate"] for r in c.piecewise.tidy.iter_rows(named=True)}
    assert tidy["level_change_1"] == pytest.approx(-3.0)
    assert tidy["slope_change_1"] == pytest.approx(0.0, abs=1e-9)
    assert c.piecewise.ar1 is False  # 12 points: too short for AR(1) errors by default


def test_weeks_never_straddle_a_phase_change():
    """Phase B starts on a Thursday: weeks are counted from each phase's start."""
    data = person([6, 6, 6, 6, 3, 3, 3, 3], [])
    data.phases = pl.DataFrame(
        {
            "participant": ["me", "me"],
            "start": [MON, dt.date(2026, 1, 29)],
            "end": [dt.date(2026, 1, 28), dt.date(2026, 3, 1)],
            "protocol": ["a", "b"],
            "phase": [None, None],
        },
        schema_overrides={"phase": pl.String()},
    )
    data.diary = data.diary.with_columns(
        pl.when(pl.col("date") >= dt.date(2026, 1, 29)).then(3.0).otherwise(6.0).alias("pain")
    )
    pts = outcome_points(data, outcome=PAIN)
    assert pts.filter(pl.col("phase") == "A")["value"].unique().to_list() == [6.0]
    assert pts.filter(pl.col("phase") == "B")["value"].unique().to_list() == [3.0]
    # the A phase's last, 3-day week is kept (3 diary days is the minimum)
    assert pts.filter(pl.col("phase") == "A")["n"].to_list() == [7, 7, 7, 3]
    assert pts.filter(pl.col("phase") == "B")["date"][0] == dt.date(2026, 1, 29)


def test_abab_design():
    weekly = [6, 7, 6, 7, 3, 2, 3, 2, 6, 7, 6, 7, 3, 2, 3, 2]
    data = person(weekly, [("tc", "A1", 4), ("shit", "B1", 4), ("tc", "A2", 4), ("shit", "B2", 4)])
    c = phase_comparison(data, "me")
    assert c.design == "ABAB"
    assert c.effect_sizes["comparison"].unique(maintain_order=True).to_list() == [
        "A1 vs B1",
        "A2 vs B2",
        "all A vs all B",
    ]
    assert "level_change_3" in c.piecewise.tidy["term"].to_list()
    # 16 points, 3 changes, at least 3 a phase: C(16 - 12 + 3, 3) = 35 placements, and only the
    # observed one separates the phases completely
    assert c.randomization.n_assignments == 35
    assert c.randomization.p_value == pytest.approx(1 / 35)
    assert not any("three demonstrations" in x for x in c.caveats)


def test_phase_labels_from_protocols_and_errors():
    data = person([6] * 4, [("traditional-core", None, 2), ("shit", None, 2)])
    assert phase_segments(data.phases)["phase"].to_list() == ["A", "B"]
    three = person([6] * 6, [("a", None, 2), ("b", None, 2), ("c", None, 2)])
    with pytest.raises(ComparisonError, match="phase column"):
        phase_segments(three.phases)
    overlap = data.phases.with_columns(pl.lit(dt.date(2026, 3, 1)).alias("end"))
    with pytest.raises(ComparisonError, match="overlap"):
        phase_segments(overlap)
    with pytest.raises(ComparisonError, match="no records"):
        phase_comparison(data, "nobody")
    with pytest.raises(PathError):
        phase_comparison(data, "../x")
    with pytest.raises(ComparisonError, match="outcome"):
        phase_comparison(data, "me", outcome="")
    with pytest.raises(ComparisonError, match="confidence"):
        phase_comparison(data, "me", confidence=1.5)
    with pytest.raises(ComparisonError, match="phase A only"):
        phase_comparison(person([6] * 4, [("a", "A", 4)]), "me")


# --- the sample person and the month of the switch -------------------------------------------------


@pytest.fixture(scope="module")
def sample():
    return load_project(ROOT, source=SAMPLE)


def test_sample_person_ab(sample):
    c = phase_comparison(sample, "demo", outcome=PAIN)
    assert c.phases["protocol"].to_list() == ["traditional-core", "shit"]
    assert c.phases["n"].to_list() == [6, 33]  # 6 lead-in weeks, then every week to 26 Oct
    assert c.piecewise.ar1 and c.randomization.n_assignments == 34
    hold = phase_comparison(sample, "demo", outcome="sorensen_hold")
    assert hold.phases["n"].to_list()[0] == 3  # fortnightly tests: 3 in the 6-week lead-in
    assert any("Short phases: A (3)" in x for x in hold.caveats)


def test_month_phase_change_summary(sample):
    assert month_phase_change_summary(sample, "demo", "2026-02") is None
    assert month_phase_change_summary(sample, "demo", "2026-04") is None
    s = month_phase_change_summary(sample, "demo", "2026-03")
    assert s.changes[0][:3] == (dt.date(2026, 3, 16), "traditional-core", "shit")
    pain = s.comparisons[PAIN]
    assert pain.points["date"].max() <= dt.date(2026, 3, 31)  # never looks past the month
    assert pain.phases["n"].to_list() == [6, 2]
    assert pain.randomization is None  # B has 2 points, the test needs 3
    assert s.comparisons["sorensen_hold"].phases["n"].to_list() == [3, 1]
    html = month_change_html(s)
    for word in (
        "Phase change this month",
        "traditional-core",
        "Short phases",
        "Carry-over",
        "first look",
    ):
        assert word in html
    assert s.tidy.columns[:3] == ["outcome", "comparison", "measure"]
    with pytest.raises(PathError):
        month_phase_change_summary(sample, "demo", "2026-13")


def test_month_summary_takes_the_monthly_report_object():
    from rehab.report.monthly import MonthReport

    report = MonthReport.load("demo", "2026-03", project_dir=str(ROOT), data_dir=str(SAMPLE))
    s = month_phase_change_summary(report, "demo", "2026-03")
    assert s is not None and s.comparisons[PAIN].phases["n"].to_list() == [6, 2]


def test_month_summary_escapes_text_from_the_data():
    data = person([6] * 4 + [3] * 4, [("<img src=x onerror=alert(1)>", "A", 4), ("shit", "B", 4)])
    html = month_change_html(month_phase_change_summary(data, "me", "2026-02"))
    assert "<img" not in html and "&lt;img" in html


# --- the command -----------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path):
    (tmp_path / "rehab.toml").write_text("", encoding="utf-8")
    shutil.copytree(SAMPLE, tmp_path / "data" / "sample")
    return tmp_path


def run(root: Path, *args: str):
    return CliRunner().invoke(
        app, ["compare", *args], env={"REHAB_HOME": str(root), "COLUMNS": "200"}
    )


def files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() and "reports" not in p.parts}


def test_cli_usage_errors_exit_2(project):
    for args, msg in (
        ((), "--participant ID or --cohort"),
        (("--participant", "demo", "--cohort"), "one of them"),
        (("--participant", "../etc"), "not allowed"),
        (("--participant", "nobody"), "no records"),
        (("--participant", "demo", "--outcome", "nonsense"), "outcome"),
        (("--cohort", "--data-dir", "../elsewhere"), "outside the project"),
    ):
        r = run(project, *args)
        assert r.exit_code == 2, (args, r.output)
        assert msg in r.output, (args, r.output)
    assert not (project / "reports").exists()


def test_cli_renders_a_person_offline(project):
    before = files(project)
    r = run(project, "--participant", "demo")
    assert r.exit_code == 0, r.output
    page = (project / "reports" / "compare" / "demo-pain.html").read_text(encoding="utf-8")
    assert offline_problems(page) == []
    for word in (
        "Protocol comparison: demo",
        "DEMO DATA",
        "Piecewise regression",
        "Randomization test",
        "Read with care",
        "<svg",
    ):
        assert word in page
    assert files(project) == before  # nothing written outside reports/
    assert sorted(p.name for p in (project / "reports").rglob("*") if p.is_file()) == ["demo-pain.html"]


def test_cli_cohort_without_variants_exits_1(project):
    r = run(project, "--cohort")
    assert r.exit_code == 1, r.output
    assert "nothing to compare" in r.output
    page = (project / "reports" / "compare" / "cohort-pain.html").read_text(encoding="utf-8")
    assert "Nothing to compare here" in page and offline_problems(page) == []


@pytest.mark.slow
def test_cli_renders_the_demo_cohort_with_its_truth(project):
    generate(project / "data" / "cohort", participants=30, seed=SEED)
    r = run(project, "--cohort", "--outcome", "sorensen_hold", "--data-dir", "data/cohort")
    assert r.exit_code == 0, r.output
    page = (project / "reports" / "compare" / "cohort-sorensen_hold.html").read_text(encoding="utf-8")
    assert offline_problems(page) == []
    for word in (
        "Growth: difference in slopes",
        "Per-person effect sizes",
        "Check against the generator",
        "DEMO DATA",
    ):
        assert word in page


# --- the dual criterion, the Bayesian answer and the plan on one person's comparison --------------


def test_dual_criterion_per_pair_by_hand():
    weekly = [6, 7, 6, 7, 3, 2, 3, 2, 6, 7, 6, 7, 3, 2, 3, 2]
    data = person(weekly, [("tc", "A1", 4), ("shit", "B1", 4), ("tc", "A2", 4), ("shit", "B2", 4)])
    c = phase_comparison(data, "me")
    assert list(c.cdc) == ["A1 vs B1", "A2 vs B2"]
    r = c.cdc["A1 vs B1"]
    # A = 6, 7, 6, 7: mean 6.5, SD sqrt(1/3), OLS slope 1.0 / 5 = 0.2 on t = 1..4; both lines
    # move down 0.25 SD (pain: lower is better); every B point (3, 2, 3, 2) lies below both
    shift = -0.25 * (1 / 3) ** 0.5
    assert r.mean_line == pytest.approx([6.5 + shift] * 4)
    assert r.trend_line == pytest.approx([6.5 + 0.2 * (t - 2.5) + shift for t in (5, 6, 7, 8)])
    assert (r.beyond, r.n_b, r.required) == (4, 4, None)  # 4 of 4: p = 1/16 > .05
    text = " ".join(c.cdc_text({"shit": "S.H.I.T."}))
    assert "A1 vs B1: 4 of the 4 points of B1 (S.H.I.T.) lie below both lines" in text
    assert "no count can show a systematic change" in text
    spec = c.cdc_chart().to_dict()
    assert "A trend, moved 0.25 SD" in str(spec)


def test_bayes_in_the_outcomes_units_and_skipped_for_the_month():
    data = person([6, 7, 7, 6, 6, 3, 3, 2, 2, 3], [("tc", "A", 5), ("shit", "B", 5)])
    c = phase_comparison(data, "me")
    b = c.bayes
    assert b.mcid == 2.0 and b.improvement == "decrease"
    # mean B - mean A = 2.6 - 6.4 = -3.8; with AR(1) errors the estimate is a GLS-like
    # weighting of the points, near it and with it inside the interval
    assert b.estimate == pytest.approx(-3.8, abs=0.4) and b.ci_low < -3.8 < b.ci_high
    text = c.bayes_text({"tc": "Traditional core", "shit": "S.H.I.T."})[0]
    assert text.startswith(f"S.H.I.T. (B) lowered morning pain by {-b.estimate:.1f} points "
                           "compared with Traditional core (A) (95% CrI ")  # fmt: skip
    assert "probability of at least the 2-point important change" in text
    bw = c.bayes_by_week
    assert bw["week"].to_list() == [6, 7, 8, 9]  # from the week B holds 2 points
    assert bw["n_b"].to_list() == [2, 3, 4, 5]
    assert c.bayes_chart() is not None
    assert phase_comparison(data, "me", bayes=False).bayes is None
    s = month_phase_change_summary(data, "me", "2026-02")
    assert s is not None and s.comparisons[PAIN].bayes is None


def test_bayes_for_a_test_has_no_important_change(sample):
    hold = phase_comparison(sample, "demo", outcome="sorensen_hold")
    assert hold.bayes.mcid is None and hold.bayes.improvement == "increase"
    text = hold.bayes_text()[0]
    assert " the Sorensen hold by " in text and "important change" not in text
    assert re.search(r"by \d+ s compared with", text)


def test_plan_deviations_in_words_and_the_test_they_leave():
    from rehab.plan import draw_plan

    plan = draw_plan("me", design="ab", protocol_a="tc", protocol_b="shit", start=MON, weeks=8,
                     min_phase_weeks=2, seed=1)  # fmt: skip
    b = plan.schedule["me"][0]
    weekly = [6.0] * 8
    early = person(weekly, [("tc", "A", b - 1), ("shit", "B", 8 - b + 1)])
    c = phase_comparison(early, "me", plan=plan)
    text = " ".join(c.plan_text({"shit": "S.H.I.T."}))
    planned = MON + dt.timedelta(days=7 * b)
    logged = planned - dt.timedelta(days=7)
    assert (f"The change to B (S.H.I.T.) came a week early: {logged.day} {logged:%b %Y} "
            f"(planned {planned.day} {planned:%b %Y}).") in text  # fmt: skip
    assert c.plan.test is not None and CAVEAT_RANDOM_START not in c.caveats
    other = person(weekly, [("tc", "A", b), ("shit-3x", "B", 8 - b)])
    c2 = phase_comparison(other, "me", plan=plan)
    assert c2.plan.test is None
    t2 = " ".join(c2.plan_text({"shit": "S.H.I.T."}))
    assert "Phase B was planned as S.H.I.T., but shit-3x was logged" in t2
    assert "no design-matched randomization test" in t2 or "do not follow" in t2
    assert "retrospective p-value is a descriptive reference" in " ".join(c2.test_text())
    with pytest.raises(ComparisonError, match="not 'you'"):
        phase_comparison(early, "you", plan=plan)


def test_delay_text():
    assert [delay_text(d) for d in (1, 3, 7, -7, 14, 10)] == [
        "1 day", "3 days", "a week", "a week", "2 weeks", "10 days"
    ]  # fmt: skip


def test_a_tiny_p_value_reads_p_below_not_p_equals_below():
    """The page printed 'binomial p = < 0.001'."""
    from rehab.compare import _p

    assert _p(0.0004) == "p < 0.001" and _p(0.147) == "p = 0.147"


def test_a_pain_phase_runs_to_the_end_of_its_last_week():
    """A pain point is a week from its date: a phase of two weeks from Monday 6 April read
    '6 Apr - 13 Apr' (its last point's date) on the page; it runs to Sunday 19 April."""
    data = person([6, 6, 6, 3, 3, 3], [("traditional-core", "A", 3), ("shit", "B", 3)],
                  start=dt.date(2026, 4, 6))
    c = phase_comparison(data, "me", outcome="pain", bayes=False)
    assert c.phases["start"].to_list() == [dt.date(2026, 4, 6), dt.date(2026, 4, 27)]
    assert c.phases["end"].to_list() == [dt.date(2026, 4, 26), dt.date(2026, 5, 17)]


def test_a_test_before_the_first_phase_is_said_to_be_left_out(tmp_path):
    """The abab persona's phases start on Monday 6 April 2026; a baseline Sorensen test on
    Sunday 5 April is outside every phase: it is not compared, and the comparison says so (it
    was dropped silently)."""
    from rehab.compare import phase_comparison
    from rehab.io import load_project

    root = tmp_path / "abab"
    shutil.copytree(Path(__file__).parent / "personas" / "abab", root)
    with open(root / "data" / "raw" / "tests.csv", "a", encoding="utf-8") as f:
        f.write("sam,2026-04-05,sorensen_hold,66,0\n")
    c = phase_comparison(load_project(root), "sam", outcome="sorensen_hold")
    assert ("1 sorensen_hold test day before the first phase (which starts 06 Apr 2026) is not "
            "in the comparison: only points inside a phase are compared") in c.notes
    assert 66 not in c.phases["mean"].to_list()
    pain = phase_comparison(load_project(root), "sam")
    assert not any("before the first phase" in n for n in pain.notes)  # the diary starts 6 April
