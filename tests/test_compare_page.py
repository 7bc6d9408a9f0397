"""The comparison page end to end: a plan drawn, followed (or not), diary data simulated with a
known B effect, `rehab compare` rendering the page, and every number on it checked against an
independent computation written here (weekly means, the randomization test enumerated by hand,
the conservative dual criterion applied by hand)."""

from __future__ import annotations

import csv
import datetime as dt
import html
import math
import re
import statistics
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from rehab import sced
from rehab.cli import app
from rehab.compare import outcome_points
from rehab.io import load_project
from rehab.paths import ProjectPaths
from rehab.plan import draw_plan, load_plan, planned_test, simulate_diary, write_plan
from rehab.report.page import offline_problems

START = dt.date(2026, 3, 2)  # a Monday
WEEKS, K = 12, 3  # AB: B starts after b weeks, b = 3..9: 7 schedules
EFFECT = 1.5  # B lowers morning pain by 1.5 NRS points (below the 2-point important change)
SEED = 1  # draws b = 6: B from 13 Apr 2026


def make_project(
    root: Path, *, late_weeks: int = 0, plan: bool = True, effect: float = EFFECT, seed: int = 7
) -> dict:
    """A project with an AB plan; phases logged as planned or with B ``late_weeks`` later;
    one simulated morning pain entry a day. Returns the plan's schedule and the daily values."""
    (root / "rehab.toml").write_text("", encoding="utf-8")
    p = draw_plan("me", design="ab", protocol_a="traditional-core", protocol_b="shit",
                  start=START, weeks=WEEKS, min_phase_weeks=K, seed=SEED)  # fmt: skip
    files = write_plan(p, ProjectPaths(root))
    b = p.schedule["me"][0] + late_weeks
    b_start = START + dt.timedelta(days=7 * b)
    phases = pl.DataFrame({
        "participant": ["me", "me"], "start": [START, b_start],
        "end": [b_start - dt.timedelta(days=1), p.end],
        "protocol": ["traditional-core", "shit"], "phase": ["A", "B"],
    })  # fmt: skip
    phases.write_csv(files.phases, date_format="%Y-%m-%d")
    simulate_diary(p, effect=effect, phases=phases, seed=seed).write_csv(root / "data/raw/diary.csv")
    if not plan:
        files.plan.unlink()
    return {"planned_b": p.schedule["me"][0], "b": b, "b_start": b_start}


def weekly_means(root: Path) -> list[float]:
    """The mean of each week's 7 daily pain values, read straight from the CSV."""
    with open(root / "data/raw/diary.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    weeks: dict[int, list[float]] = {}
    for r in rows:
        w = (dt.date.fromisoformat(r["date"]) - START).days // 7
        weeks.setdefault(w, []).append(float(r["pain"]))
    assert all(len(v) == 7 for v in weeks.values())
    return [statistics.fmean(weeks[w]) for w in sorted(weeks)]


def hand_p(y: list[float], b_obs: int, schedules: list[int]) -> float:
    """Randomization test by hand: A - B difference in means for every B start in
    ``schedules`` (each equally likely); p = share at least as large as the observed one."""
    def stat(b):
        return statistics.fmean(y[:b]) - statistics.fmean(y[b:])

    obs = stat(b_obs)
    return sum(stat(b) >= obs - 1e-12 for b in schedules) / len(schedules)


def hand_cdc(a: list[float], b: list[float]) -> tuple[int, int | None]:
    """Conservative dual criterion for pain (lower is better), by hand: A's mean line and OLS
    trend line, both moved down 0.25 SD of A; count B points below both; the count needed is
    the smallest k with P(X >= k) < .05, X ~ Binomial(n_B, 1/2)."""
    n = len(a)
    t = list(range(1, n + 1))
    ma, mt = statistics.fmean(a), statistics.fmean(t)
    slope = sum((ti - mt) * (ai - ma) for ti, ai in zip(t, a, strict=True)) / sum(
        (ti - mt) ** 2 for ti in t
    )
    shift = -0.25 * statistics.stdev(a)
    count = sum(
        v < ma + shift and v < ma + slope * (n + 1 + j - mt) + shift for j, v in enumerate(b)
    )
    need = next(
        (k for k in range(len(b) + 1)
         if sum(math.comb(len(b), i) for i in range(k, len(b) + 1)) / 2 ** len(b) < 0.05),
        None,
    )  # fmt: skip
    return count, need


def render(root: Path) -> tuple[str, str]:
    """`rehab compare --participant me`: the page's HTML and its text (tags dropped)."""
    r = CliRunner().invoke(app, ["compare", "--participant", "me"],
                           env={"REHAB_HOME": str(root), "COLUMNS": "300"})  # fmt: skip
    assert r.exit_code == 0, r.output
    path = Path(re.search(r"wrote (\S+\.html)", r.output).group(1))
    page = path.read_text(encoding="utf-8")
    assert offline_problems(page) == []
    text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", "", page, flags=re.S)))
    return page, re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def as_planned(tmp_path_factory):
    root = tmp_path_factory.mktemp("planned")
    info = make_project(root)
    return root, info, *render(root)


@pytest.fixture(scope="module")
def week_late(tmp_path_factory):
    root = tmp_path_factory.mktemp("late")
    info = make_project(root, late_weeks=1)
    return root, info, *render(root)


def test_the_page_shows_the_plan_followed(as_planned):
    root, info, page, text = as_planned
    assert info["b_start"] == dt.date(2026, 4, 13)
    assert "The plan and what happened" in text
    assert "AB design, A = Traditional core, B = S.H.I.T., 12 weeks from 2 Mar 2026" in text
    assert "from 7 equally likely ones" in text
    assert "13 Apr 2026 – 24 May 2026 13 Apr 2026 as planned" in text  # planned, logged, status
    assert "The phases were followed as planned." in text
    assert "The p-value is exact for the plan's design." in text
    assert "traditional-core" not in text.replace("plans/", "")  # names, not ids


def test_the_design_matched_p_value_by_hand_and_through_planned_test(as_planned):
    root, info, page, text = as_planned
    y = weekly_means(root)
    p_hand = hand_p(y, info["b"], list(range(K, WEEKS - K + 1)))
    ds = load_project(root)
    direct = planned_test(load_plan(root, "me"), outcome_points(ds, participant="me"),
                          improvement="decrease", phases=ds.phases)  # fmt: skip
    assert direct.p_value == pytest.approx(p_hand)
    assert direct.test.n_assignments == 7
    assert "Randomization test matched to the plan" in text
    assert f"compared with all 7 schedules the plan could have drawn, p = {p_hand:.3f}" in text
    diff = statistics.fmean(y[: info["b"]]) - statistics.fmean(y[info["b"] :])
    assert f"(A − B, positive = improvement) is {diff:.3g} NRS points" in text
    assert "retrospective test" in text  # given for reference, and said not to be the plan's


def test_the_dual_criterion_by_hand(as_planned):
    root, info, page, text = as_planned
    y = weekly_means(root)
    count, need = hand_cdc(y[: info["b"]], y[info["b"] :])
    n_b = WEEKS - info["b"]
    assert need == 6  # 6 B weeks: only 6 of 6 has p = 1/64 < .05
    assert f"A vs B: {count} of the {n_b} points of B (S.H.I.T.) lie below both lines" in text
    verdict = "a systematic change" if count >= need else "no systematic change"
    assert f"{need} were needed: {verdict} by the conservative dual criterion" in text
    assert 'data-chart="phases"' in page and "A trend, moved 0.25 SD" in page


def test_the_bayesian_answer_in_the_patients_terms(as_planned):
    root, info, page, text = as_planned
    m = re.search(
        r"S\.H\.I\.T\. \(B\) lowered morning pain by (\d+\.\d) points compared with Traditional "
        r"core \(A\) \(95% CrI (\d+\.\d)–(\d+\.\d) points\); probability that B is better: "
        r"(over 99%|\d+%); probability of at least the 2-point important change: "
        r"(under 1%|\d+%)\.",
        text,
    )
    assert m, text[text.find("What B did") :][:600]
    est, lo, hi = (float(m.group(i)) for i in (1, 2, 3))
    y = weekly_means(root)
    diff = statistics.fmean(y[: info["b"]]) - statistics.fmean(y[info["b"] :])
    assert abs(est - diff) <= 0.15  # nearly flat priors: the posterior centres on the data
    assert lo <= EFFECT <= hi  # the true effect inside the credible interval
    assert m.group(4) == "over 99%"
    # a 1.5-point true effect: at least 2 points is unlikely
    assert m.group(5) == "under 1%" or int(m.group(5)[:-1]) < 10
    # the page shows what sced.bayes_effect says on the same weekly points
    fit = sced.bayes_effect(y, ["A"] * info["b"] + ["B"] * (WEEKS - info["b"]),
                            improvement="decrease", mcid=2.0)  # fmt: skip
    assert f"{-fit.estimate:.1f}" == m.group(1)
    assert 'data-chart="bayes-by-week"' in page
    assert "The important change of pain is 2 NRS points (Ostelo et al. 2008)" in text


def test_a_week_late_is_named_with_what_it_does_to_the_p_value(week_late):
    root, info, page, text = week_late
    assert info["b"] == info["planned_b"] + 1
    assert "The change to B (S.H.I.T.) came a week late: 20 Apr 2026 (planned 13 Apr 2026)." in text
    assert "a week late" in text and "20 Apr 2026" in text
    # b = 7 is still one of the plan's schedules b = 3..9: the reference set stays the plan's
    assert "still one the plan could have drawn" in text
    y = weekly_means(root)
    p_hand = hand_p(y, info["b"], list(range(K, WEEKS - K + 1)))
    assert f"compared with all 7 schedules the plan could have drawn, p = {p_hand:.3f}" in text
    assert 'stroke="#E69F00"' in page or 'stroke="#e69f00"' in page  # the planned change drawn


def test_a_change_outside_the_plan_is_added_and_called_approximate(tmp_path):
    """B from week 10: the plan allows 3..9, so the logged schedule joins the 7 (8 in all)."""
    info = make_project(tmp_path, late_weeks=4)
    assert info["b"] == 10
    page, text = render(tmp_path)
    assert "The change to B (S.H.I.T.) came 4 weeks late: 11 May 2026 (planned 13 Apr 2026)." in text
    assert "reads as approximate" in text
    y = weekly_means(tmp_path)
    p_hand = hand_p(y, 10, list(range(K, WEEKS - K + 1)) + [10])
    assert (f"compared with all 8 schedules: the 7 the plan could have drawn and the logged "
            f"one, p = {p_hand:.3f}") in text


def test_without_a_plan_the_page_is_retrospective(tmp_path):
    info = make_project(tmp_path, plan=False)
    page, text = render(tmp_path)
    assert "No randomized plan was drawn for me" in text
    assert "Randomization test (retrospective)" in text
    # every placement of the change with at least 3 weekly points a phase: indices 3..9
    y = weekly_means(tmp_path)
    p_hand = hand_p(y, info["b"], list(range(3, 10)))
    assert "compared with all 7 admissible placements of the phase change" in text
    assert f"p = {p_hand:.3f}" in text
    assert "this p-value is a descriptive reference, not a test" in text
    assert "What B did, in your units" in text and "A vs B:" in text


def test_a_small_effect_ranks_in_the_middle_by_hand(tmp_path):
    """A 0.3-point effect: the observed split is not the most extreme of the 7 schedules, so
    the hand enumeration checks the ranking, not only the smallest possible p (1/7)."""
    from rehab.compare import phase_comparison

    info = make_project(tmp_path, effect=0.3, seed=0)
    y = weekly_means(tmp_path)
    schedules = list(range(K, WEEKS - K + 1))
    p_hand = hand_p(y, info["b"], schedules)
    assert p_hand == pytest.approx(4 / 7)
    c = phase_comparison(load_project(tmp_path), "me", plan=load_plan(tmp_path, "me"))
    assert c.plan.p_value == pytest.approx(p_hand) and c.plan.exact
    assert c.plan.test.n_assignments == 7
    # the retrospective test (every placement with 3 points a phase) is the same set here
    assert c.randomization.p_value == pytest.approx(p_hand)
    assert "p = 0.571" in " ".join(c.test_text())


def test_a_multiple_baseline_plan_is_found_for_each_of_its_people(tmp_path):
    (tmp_path / "rehab.toml").write_text("", encoding="utf-8")
    p = draw_plan("ann", design="multiple-baseline", protocol_a="traditional-core",
                  protocol_b="shit", start=START, weeks=14, min_phase_weeks=3,
                  participants=["bob", "cy"], seed=3)  # fmt: skip
    write_plan(p, ProjectPaths(tmp_path))
    simulate_diary(p, effect=1.2, seed=2).write_csv(tmp_path / "data/raw/diary.csv")
    r = CliRunner().invoke(app, ["compare", "--participant", "bob"],
                           env={"REHAB_HOME": str(tmp_path), "COLUMNS": "300"})  # fmt: skip
    assert r.exit_code == 0, r.output
    page = Path(re.search(r"wrote (\S+\.html)", r.output).group(1)).read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))
    assert "The plan (plans/mb-ann.toml): multiple-baseline (AB across 3 people) design" in text
    assert "person phase protocol planned logged start how it went" in text
    ds = load_project(tmp_path)
    direct = planned_test(p, outcome_points(ds), improvement="decrease", phases=ds.phases)
    assert direct.test.n_assignments == p.n_admissible == 162  # 3! orders x 3 x 3 x 3 starts
    assert "the mean over the 3 people of their difference in means" in text
    assert "compared with all 162 schedules and assignments of people to them" in text
    assert f"p = {direct.p_value:.3f}" in text


def test_with_a_plan_the_retrospective_test_that_cannot_run_is_named_as_such(tmp_path):
    """An ABAB plan of 10 weeks with 2-week phases: the plan's test runs, but the retrospective
    one (3 points a phase, 12 points for ABAB) cannot. The page showed the plan's p-value, then
    "no randomization test: ..." among the caveats, unlabelled."""
    from rehab.compare import phase_comparison

    (tmp_path / "rehab.toml").write_text("", encoding="utf-8")
    p = draw_plan("me", design="abab", protocol_a="traditional-core", protocol_b="shit",
                  start=START, weeks=10, min_phase_weeks=2, seed=7)  # fmt: skip
    write_plan(p, ProjectPaths(tmp_path))
    simulate_diary(p, effect=1.0, seed=3).write_csv(tmp_path / "data/raw/diary.csv")
    c = phase_comparison(load_project(tmp_path), "me", plan=load_plan(tmp_path, "me"))
    assert c.plan.test is not None and c.randomization is None
    said = " ".join(c.test_text())
    assert "Randomization test matched to the plan" in said
    assert "For reference, the retrospective test (not the plan's) cannot be run: " in said
    page, text = render(tmp_path)
    assert "no randomization test:" not in text.lower().replace("retrospective ", "")
    assert "no retrospective randomization test (for reference; the plan's test is the one to " \
           "read):" in text
