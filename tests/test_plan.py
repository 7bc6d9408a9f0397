"""rehab.plan and `rehab plan`: drawing a randomized n-of-1 plan, its files, and the analysis
that matches the design. Expected values are hand enumerations written out here."""

from __future__ import annotations

import itertools
import math
import tomllib
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from scipy import stats
from typer.testing import CliRunner

from rehab.paths import ProjectPaths
from rehab.plan import (
    PlanError,
    calendar_ics,
    draw_plan,
    load_plan,
    plan_deviations,
    plan_from_dict,
    planned_test,
    session_days,
    write_plan,
)
from rehab.protocol import load_protocols

START = date(2026, 3, 2)  # a Monday


def ab(participant="ann", **kw):
    args = dict(design="ab", protocol_a="traditional-core", protocol_b="shit", start=START,
                weeks=8, min_phase_weeks=2, seed=1)
    args.update(kw)
    return draw_plan(participant, **args)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "rehab.toml").write_text("")
    (tmp_path / "data").mkdir()
    return ProjectPaths(tmp_path)


# --- the admissible sets, listed by hand ----------------------------------------------------------


def test_ab_admissible_set_by_hand():
    p = ab(weeks=8, min_phase_weeks=2)
    # B may start after 2, 3, 4, 5 or 6 weeks: both phases at least 2 weeks of 8
    assert p.admissible() == ((2,), (3,), (4,), (5,), (6,))
    assert p.n_admissible == 5


def test_abab_admissible_set_by_hand():
    p = ab(design="abab", weeks=9, min_phase_weeks=2)
    # 4 phases of >= 2 weeks in 9 weeks: one spare week, placed in any of the 4 phases
    assert set(p.admissible()) == {(3, 5, 7), (2, 5, 7), (2, 4, 7), (2, 4, 6)}
    assert p.n_admissible == 4
    p = ab(design="abab", weeks=16, min_phase_weeks=3)
    assert p.n_admissible == math.comb(16 - 12 + 3, 3) == 35 == len(set(p.admissible()))


def test_multiple_baseline_windows_by_hand():
    p = ab(design="multiple-baseline", participants=["bob"], weeks=8, min_phase_weeks=2)
    # start weeks 2..6 cut into 2 windows: 2-3 and 4-6; 2! orders x 2 x 3 starts
    assert p.windows == ((2, 3), (4, 6))
    assert p.n_admissible == 12
    assert p.id == "mb-ann" and p.participants == ("ann", "bob")
    (a,), (b,) = p.schedule["ann"], p.schedule["bob"]
    lo_a, hi_a = p.windows[p.assigned["ann"]]
    lo_b, hi_b = p.windows[p.assigned["bob"]]
    assert lo_a <= a <= hi_a and lo_b <= b <= hi_b and a != b
    assert {p.assigned["ann"], p.assigned["bob"]} == {0, 1}
    assert ab(design="multiple-baseline", participants="bob, cy").participants == ("ann", "bob", "cy")


# --- drawing ----------------------------------------------------------------------------------------


def test_same_seed_same_plan_and_seeds_differ():
    one = ab(design="abab", weeks=20, min_phase_weeks=3, seed=11)
    two = ab(design="abab", weeks=20, min_phase_weeks=3, seed=11)
    assert one.schedule == two.schedule and one.to_toml() == two.to_toml()
    drawn = {ab(design="abab", weeks=20, min_phase_weeks=3, seed=s).schedule["ann"]
             for s in range(40)}
    assert len(drawn) > 10


def test_a_seed_is_drawn_and_recorded_when_none_is_given():
    p = ab(seed=None)
    assert isinstance(p.seed, int)
    assert ab(seed=p.seed).schedule == p.schedule


@pytest.mark.parametrize("kw,n_expected", [
    (dict(design="ab", weeks=8, min_phase_weeks=2), 5),
    (dict(design="abab", weeks=10, min_phase_weeks=2), 10),
    (dict(design="multiple-baseline", participants=["bob"], weeks=8, min_phase_weeks=2), 12),
])
def test_draws_are_uniform_over_the_admissible_set(kw, n_expected):
    draws = 3000
    seen = [tuple(v for p in sorted(pl_.schedule) for v in pl_.schedule[p])
            for pl_ in (ab(seed=s, **kw) for s in range(draws))]
    counts = np.array(list({k: seen.count(k) for k in set(seen)}.values()))
    assert len(counts) == n_expected  # every admissible schedule turns up, and nothing else
    chi = stats.chisquare(counts)  # uniform expected: draws / n each
    assert chi.pvalue > 0.001, (counts, chi)


def test_every_drawn_phase_is_long_enough_and_the_phases_tile_the_plan():
    for s in range(30):
        p = ab(design="abab", weeks=14, min_phase_weeks=3, seed=s)
        ph = p.phases()
        assert ph["phase"].to_list() == ["A1", "B1", "A2", "B2"]
        assert ph["protocol"].to_list() == ["traditional-core", "shit"] * 2
        assert ph["start"][0] == START and ph["end"][-1] == START + timedelta(days=14 * 7 - 1)
        for i in range(3):
            assert ph["start"][i + 1] == ph["end"][i] + timedelta(days=1)
        lengths = [(e - s_).days + 1 for s_, e in zip(ph["start"], ph["end"], strict=True)]
        assert all(d >= 21 and d % 7 == 0 for d in lengths)


@pytest.mark.parametrize("kw,needle", [
    (dict(design="abc"), "design 'abc' is not allowed"),
    (dict(weeks=3, min_phase_weeks=2), "--weeks 4 or more"),
    (dict(design="abab", weeks=7, min_phase_weeks=2), "cannot hold the 4 phases"),
    (dict(start="2026-02-30"), "is not a date"),
    (dict(weeks=0), "--weeks = 0 is not allowed"),
    (dict(protocol_b="traditional-core"), "compare two different protocols"),
    (dict(participant="../etc"), "participant id '../etc' is not allowed"),
    (dict(participants=["bob"]), "--participants is for the multiple-baseline design"),
    (dict(design="multiple-baseline"), "needs 2 to 8 people"),
    (dict(design="multiple-baseline", participant="x" * 62, participants=["b"]), "too long"),
    (dict(design="multiple-baseline", participants=["b", "c", "d", "e", "f"], weeks=8),
     "leave 5 possible start week(s)"),
])
def test_bad_arguments_are_clear_errors(kw, needle):
    with pytest.raises(PlanError) as e:
        ab(**kw)
    assert needle in str(e.value)


def test_unknown_protocol_names_the_known_ones():
    with pytest.raises(PlanError, match="--b 'nope' is not a known protocol: known are .*shit"):
        ab(protocol_b="nope", protocols=load_protocols())


# --- files ------------------------------------------------------------------------------------------


def test_files_written_and_read_back(project):
    p = ab(design="abab", weeks=16, min_phase_weeks=3, seed=5)
    files = write_plan(p, project)
    assert files.plan == project.root / "plans" / "ann.toml"
    assert files.phases == project.raw / "phases-plan-ann.csv"
    doc = tomllib.loads(files.plan.read_text())
    assert doc["seed"] == 5 and doc["design"] == "abab" and doc["start"] == START
    assert doc["admissible"]["size"] == 35 and len(doc["admissible"]["change_weeks"]) == 35
    assert doc["schedule"]["ann"]["change_weeks"] == list(p.schedule["ann"])
    back = load_plan(project, "ann")
    assert back.schedule == p.schedule and back.n_admissible == 35 and back.seed == 5
    from rehab.io import read_phases

    r = read_phases(files.phases)
    assert r.quarantined == 0 and r.data.height == 4
    assert r.data.select("start", "end", "protocol", "phase").equals(
        p.phases().select("start", "end", "protocol", "phase"))


def test_a_plan_is_not_overwritten_without_force(project):
    write_plan(ab(seed=1), project)
    before = (project.root / "plans" / "ann.toml").read_text()
    with pytest.raises(PlanError, match="already exists.*--force"):
        write_plan(ab(seed=2), project)
    assert (project.root / "plans" / "ann.toml").read_text() == before
    write_plan(ab(seed=2), project, force=True)
    assert load_plan(project, "ann").seed == 2


def test_a_schedule_edited_out_of_the_admissible_set_is_refused(project):
    files = write_plan(ab(weeks=8, min_phase_weeks=2), project)
    text = files.plan.read_text()
    doc = tomllib.loads(text)
    doc["schedule"]["ann"]["change_weeks"] = [7]
    with pytest.raises(PlanError, match="change_weeks = \\[7\\] is not admissible"):
        plan_from_dict(doc, file="plans/ann.toml")
    with pytest.raises(PlanError, match="no plan 'bob'"):
        load_plan(project, "bob")
    with pytest.raises(PlanError, match="not allowed"):
        load_plan(project, "../ann")


def test_other_phases_files_and_the_switch_from_demo_data_are_noted(project):
    files = write_plan(ab(), project)
    assert any("held no logs" in w for w in files.warnings)
    (project.raw / "phases.csv").write_text("participant,start,protocol\nann,2026-01-05,shit\n")
    files = write_plan(ab(seed=3), project, force=True)
    assert any("phases.csv also holds phases of ann" in w for w in files.warnings)


# --- the calendar file ------------------------------------------------------------------------------


def test_session_days_spread_over_the_week():
    assert session_days(2, 2) == [[0, 3], [0, 3]]  # Monday and Thursday
    assert session_days(3, 1) == [[0, 2, 4]]
    assert [len(w) for w in session_days(2.5, 4)] == [3, 2, 3, 2]  # running total 2.5 a week


def test_ics_parses_back_with_the_protocols_sessions_a_week(project):
    from icalendar import Calendar

    p = ab(design="abab", protocol_b="shit-3x", weeks=12, min_phase_weeks=2, seed=4)
    files = write_plan(p, project, ics=True, protocols=load_protocols())
    (path,) = files.ics
    assert path == project.root / "plans" / "ann.ics"
    cal = Calendar.from_ical(path.read_bytes())
    events = list(cal.walk("VEVENT"))
    per_week: dict[int, list] = {}
    for ev in events:
        day = ev.decoded("dtstart")
        per_week.setdefault((day - START).days // 7, []).append(ev)
        assert ev.get("uid") and ev.decoded("dtstamp").tzinfo is not None
    assert len({str(ev.get("uid")) for ev in events}) == len(events)
    target = {"traditional-core": 2, "shit-3x": 3}
    names = {"traditional-core": "Traditional core (front and side)",
             "shit-3x": load_protocols()["shit-3x"].name}
    for seg in p.segments():
        for w in range(seg["first_week"], seg["first_week"] + seg["weeks"]):
            evs = per_week[w]
            assert len(evs) == target[seg["protocol"]]
            assert {str(e.get("summary")) for e in evs} == {
                f"Back rehab: {names[seg['protocol']]} (phase {seg['phase']})"}
    assert sum(target[s["protocol"]] * s["weeks"] for s in p.segments()) == len(events)


def test_multiple_baseline_writes_one_calendar_per_person(project):
    p = ab(design="multiple-baseline", participants=["bob"], seed=2)
    files = write_plan(p, project, ics=True, protocols=load_protocols())
    assert [f.name for f in files.ics] == ["mb-ann-ann.ics", "mb-ann-bob.ics"]
    text = calendar_ics(p, load_protocols(), participant="bob")
    assert "Back rehab plan mb-ann (bob)" in text


# --- the command ------------------------------------------------------------------------------------


def cli(project, monkeypatch, *args):
    from rehab.cli import app

    monkeypatch.setenv("REHAB_HOME", str(project.root))
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner().invoke(app, ["plan", *args])


BASE = ["--participant", "ann", "--a", "traditional-core", "--b", "shit", "--start", "2026-03-02",
        "--weeks", "16", "--min-phase-weeks", "3"]


def test_cli_plan_prints_the_calendar_and_writes_the_files(project, monkeypatch):
    r = cli(project, monkeypatch, *BASE, "--design", "abab", "--seed", "7", "--ics")
    assert r.exit_code == 0, r.output
    p = draw_plan("ann", design="abab", protocol_a="traditional-core", protocol_b="shit",
                  start=START, weeks=16, min_phase_weeks=3, seed=7)
    assert "from 35 equally likely schedules" in r.output
    assert "A1 (traditional-core)" in r.output and "B2 (shit)" in r.output
    assert r.output.count("■") == 16  # one mark a week
    for name in ("plans/ann.toml", "plans/ann.ics", "data/raw/phases-plan-ann.csv"):
        assert (project.root / name).is_file() and name in r.output
    assert load_plan(project, "ann").schedule == p.schedule
    again = cli(project, monkeypatch, *BASE, "--design", "abab", "--seed", "8")
    assert again.exit_code == 2 and "already exists" in again.output


@pytest.mark.parametrize("args,needle", [
    (["--participant", "ann"], "rehab plan needs --a, --b, --start, --weeks, --min-phase-weeks"),
    ([*BASE[:3], "nope", *BASE[4:]], "--a 'nope' is not a known protocol"),
    ([*BASE, "--design", "abba"], "design 'abba' is not allowed"),
    ([*BASE[:9], "1", *BASE[10:]], "--weeks = 1 is not allowed"),
    (["--participant", "x/../../y", *BASE[2:]], "participant id 'x/../../y' is not allowed"),
])
def test_cli_plan_usage_errors_exit_2(project, monkeypatch, args, needle):
    r = cli(project, monkeypatch, *args)
    assert r.exit_code == 2
    assert needle in " ".join(r.output.split())
    assert not (project.root / "plans").exists()


def test_cli_plan_multiple_baseline(project, monkeypatch):
    r = cli(project, monkeypatch, *BASE, "--design", "multiple-baseline",
            "--participants", "bob,cy", "--seed", "3")
    assert r.exit_code == 0, r.output
    p = load_plan(project, "mb-ann")
    assert p.participants == ("ann", "bob", "cy")
    assert len({p.schedule[x] for x in p.participants}) == 3  # staggered: distinct weeks


# --- deviations and the design-matched test -------------------------------------------------------


def weekly(plan, values, participant="ann", skip=()):
    """One point a week (dated on the week's first day), weeks in ``skip`` missing."""
    rows = [{"participant": participant, "date": plan.week_start(w), "value": float(v)}
            for w, v in enumerate(values) if w not in skip]
    return pl.DataFrame(rows)


def shifted(plan, phase, days):
    """The plan's phases with ``phase`` starting ``days`` later (the one before ending later)."""
    ph = plan.phases()
    i = ph["phase"].to_list().index(phase)
    return ph.with_columns(
        pl.when(pl.int_range(pl.len()) == i).then(pl.col("start") + timedelta(days=days))
        .otherwise(pl.col("start")).alias("start"),
        pl.when(pl.int_range(pl.len()) == i - 1).then(pl.col("end") + timedelta(days=days))
        .otherwise(pl.col("end")).alias("end"))


def test_deviations_name_late_missing_extra_and_other_protocol():
    p = ab(design="abab", weeks=16, min_phase_weeks=3, seed=7)  # changes after 6, 9, 13 weeks
    assert p.schedule["ann"] == (6, 9, 13)
    assert plan_deviations(p, p.phases())["kind"].to_list() == ["as planned"] * 4
    d = plan_deviations(p, shifted(p, "B2", 7))
    row = d.filter(pl.col("phase") == "B2").row(0, named=True)
    assert row["kind"] == "late" and row["days"] == 7
    assert row["text"] == "ann: phase B2 started 7 day(s) late (2026-06-08, planned 2026-06-01)"
    d = plan_deviations(p, shifted(p, "B1", -2))
    assert d.filter(pl.col("phase") == "B1")["kind"].to_list() == ["early"]
    d = plan_deviations(p, p.phases().head(3))
    assert d["kind"].to_list()[-1] == "missing"
    # back to A for the plan's last week: an extra phase (phases after the plan's end are not)
    extra = pl.concat([p.phases().with_columns(pl.col("end").clip(upper_bound=date(2026, 6, 14))),
                       pl.DataFrame({"participant": ["ann", "ann"],
                                     "start": [date(2026, 6, 15), date(2026, 6, 22)],
                                     "end": [date(2026, 6, 21), date(2026, 6, 28)],
                                     "protocol": ["traditional-core", "shit"],
                                     "phase": ["A3", "B3"]})])
    d = plan_deviations(p, extra)
    assert d["kind"].to_list() == ["as planned"] * 4 + ["extra"]
    assert d["text"][-1] == "ann: an extra phase (traditional-core) from 2026-06-15, not in the plan"
    swapped = p.phases().with_columns(
        pl.when(pl.col("phase") == "B1").then(pl.lit("shit-3x")).otherwise(pl.col("protocol"))
        .alias("protocol"))
    assert "other protocol" in plan_deviations(p, swapped)["kind"].to_list()


def test_planned_test_ab_by_hand():
    p = ab(weeks=6, min_phase_weeks=2, seed=0)  # B after 2, 3 or 4 weeks
    drawn = p.schedule["ann"][0]
    y = [6.0, 5.5, 5.0, 4.6, 2.0, 1.5]
    r = planned_test(p, weekly(p, y), improvement="decrease")
    # decrease: mean(A) - mean(B) for each admissible start, by hand
    t = {b: np.mean(y[:b]) - np.mean(y[b:]) for b in (2, 3, 4)}
    assert r.test.n_assignments == 3 and r.test.exhaustive and r.exact
    assert r.test.observed == pytest.approx(t[drawn])
    assert r.p_value == pytest.approx(sum(v >= t[drawn] - 1e-12 for v in t.values()) / 3)
    assert r.lines[0] == "The phases were followed as planned."


def test_planned_test_maps_weeks_without_points_by_hand():
    p = ab(weeks=6, min_phase_weeks=2, seed=0)
    y = [6.0, 5.5, 5.0, None, 2.0, 1.5]  # week 3 has no point
    pts = weekly(p, y, skip={3})
    # B after 2 weeks -> index 2; after 3 or 4 weeks -> index 3 (week 4's point): {2, 3, 3}
    vals = [6.0, 5.5, 5.0, 2.0, 1.5]
    stat = {2: np.mean(vals[:2]) - np.mean(vals[2:]), 3: np.mean(vals[:3]) - np.mean(vals[3:])}
    obs = 2 if p.schedule["ann"] == (2,) else 3
    r = planned_test(p, pts, improvement="decrease")
    table = [stat[2], stat[3], stat[3]]
    assert r.test.n_assignments == 3
    assert r.p_value == pytest.approx(sum(v >= stat[obs] - 1e-12 for v in table) / 3)


def test_planned_test_multiple_baseline_by_hand():
    # 6 weeks, K = 2: starts 2..4 cut into windows (2-2) and (3-4): 2! x 1 x 2 = 4 schedules
    p = ab(design="multiple-baseline", participants=["bob"], weeks=6, min_phase_weeks=2, seed=0)
    assert p.windows == ((2, 2), (3, 4)) and p.n_admissible == 4
    ya = [5.0, 5.2, 3.0, 2.5, 2.2, 2.0]
    yb = [6.0, 6.1, 5.8, 3.5, 3.0, 2.9]
    pts = pl.concat([weekly(p, ya, "ann"), weekly(p, yb, "bob")])
    logged = pl.DataFrame({"participant": ["ann", "ann", "bob", "bob"],
                           "start": [START, START + timedelta(14), START, START + timedelta(21)],
                           "protocol": ["traditional-core", "shit"] * 2})
    assert p.assigned == {"ann": 0, "bob": 1}  # seed 0: ann drew the window {2}, bob {3, 4}

    def d(y, s):
        return np.mean(y[:s]) - np.mean(y[s:])

    # every (ann, bob) start pair the design allows: one person in window {2}, the other {3, 4}
    pairs = [(2, 3), (2, 4), (3, 2), (4, 2)]
    dist = [(d(ya, a) + d(yb, b)) / 2 for a, b in pairs]
    obs = (d(ya, 2) + d(yb, 3)) / 2  # the logged starts: ann after 2 weeks, bob after 3
    r = planned_test(p, pts, improvement="decrease", phases=logged)
    assert r.test.n_assignments == 4 and r.exact and r.test.model == "koehler_levin"
    assert r.test.observed == pytest.approx(obs)
    assert r.p_value == pytest.approx(sum(v >= obs - 1e-12 for v in dist) / 4)


def test_multiple_baseline_start_outside_its_window_is_added_and_said():
    p = ab(design="multiple-baseline", participants=["bob"], weeks=6, min_phase_weeks=2, seed=0)
    ya = [5.0, 5.2, 4.9, 2.5, 2.2, 2.0]
    yb = [6.0, 6.1, 5.8, 3.5, 3.0, 2.9]
    pts = pl.concat([weekly(p, ya, "ann"), weekly(p, yb, "bob")])
    # ann switched after 3 weeks, outside her window {2}; bob after 3 (in his {3, 4})
    logged = pl.DataFrame({"participant": ["ann", "ann", "bob", "bob"],
                           "start": [START, START + timedelta(21), START, START + timedelta(21)],
                           "protocol": ["traditional-core", "shit"] * 2})
    r = planned_test(p, pts, improvement="decrease", phases=logged)

    def d(y, s):
        return np.mean(y[:s]) - np.mean(y[s:])

    # ann's window becomes {2, 3}; either person may take either window: 2 orders x 2 x 2
    pairs = [(a, b) for a in (2, 3) for b in (3, 4)] + [(a, b) for a in (3, 4) for b in (2, 3)]
    dist = [(d(ya, a) + d(yb, b)) / 2 for a, b in pairs]
    obs = (d(ya, 3) + d(yb, 3)) / 2
    assert r.added_observed and not r.exact and r.test.n_assignments == 8
    assert r.p_value == pytest.approx(sum(v >= obs - 1e-12 for v in dist) / 8)
    assert any("The logged B start of ann lies outside the window" in line for line in r.lines)
    assert "ann: phase B started 7 day(s) late (2026-03-23, planned 2026-03-16)" in r.lines


def test_a_plan_stopped_early_is_named_and_the_test_uses_the_weeks_there_are():
    p = ab(weeks=8, min_phase_weeks=2, seed=1)
    stopped = p.phases().with_columns(pl.col("end").clip(upper_bound=p.end - timedelta(days=14)))
    d = plan_deviations(p, stopped)
    assert d["kind"].to_list()[-1] == "stopped early" and d["days"][-1] == -14
    y = [6.0, 5.8, 6.1, 5.9, 6.2, 5.7, 6.0, 5.9]
    r = planned_test(p, weekly(p, y[:6]), improvement="decrease", phases=stopped)
    assert r.test is not None and r.n_points["ann"] == 6


# --- end to end: drawn, followed (or not quite), analysed --------------------------------------------


def simulate_diary(plan, phases, effect, seed):
    """Daily morning pain: 6 in phase A, 6 - effect in phase B (by the phases as logged),
    N(0, 0.8) noise."""
    rng = np.random.default_rng(seed)
    segs = phases.sort("start").to_dicts()
    rows = []
    for day in range(plan.weeks * 7):
        d = plan.start + timedelta(days=day)
        cur = [s for s in segs if s["start"] <= d][-1]
        level = 6.0 - (effect if cur["protocol"] == plan.protocol_b else 0.0)
        rows.append({"participant": "ann", "date": d, "moment": "morning",
                     "pain": float(np.clip(round(level + rng.normal(0, 0.8), 1), 0, 10))})
    return pl.DataFrame(rows)


class _Data:
    def __init__(self, diary, phases):
        self.diary, self.phases = diary, phases
        self.tests = pl.DataFrame(schema={"participant": pl.String, "date": pl.Date,
                                          "test": pl.String, "value": pl.Float64})


def test_end_to_end_followed_as_planned_then_a_week_late(project):
    from rehab.compare import outcome_points

    write_plan(ab(design="abab", weeks=16, min_phase_weeks=3, seed=7), project)
    plan = load_plan(project, "ann")
    assert plan.schedule["ann"] == (6, 9, 13)
    logged = plan.phases()
    diary = simulate_diary(plan, logged, effect=2.0, seed=1)
    pts = outcome_points(_Data(diary, logged), outcome="pain", participant="ann")
    r = planned_test(plan, pts, improvement="decrease", phases=logged)
    assert r.design_matched and r.exact and not r.added_observed
    assert r.test.n_assignments == 35 and r.test.exhaustive
    assert 1.4 < r.test.observed < 2.6  # the simulated 2-point drop, weekly means
    assert r.p_value == pytest.approx(1 / 35)  # the largest of the 35: the smallest p possible
    assert r.deviations["kind"].to_list() == ["as planned"] * 4

    # B2 a week late: 13 -> 14 weeks leaves B2 2 weeks (< 3): not a schedule the plan could draw
    late = shifted(plan, "B2", 7)
    diary = simulate_diary(plan, late, effect=2.0, seed=1)
    pts = outcome_points(_Data(diary, late), outcome="pain", participant="ann")
    r = planned_test(plan, pts, improvement="decrease", phases=late)
    assert r.deviations.filter(pl.col("kind") != "as planned").select("phase", "kind", "days").rows() \
        == [("B2", "late", 7)]
    assert "ann: phase B2 started 7 day(s) late (2026-06-08, planned 2026-06-01)" in r.lines
    assert r.added_observed and not r.exact and r.test.n_assignments == 36
    assert any("no longer exact for the design" in line for line in r.lines)
    assert r.p_value == pytest.approx(1 / 36)

    # A2 a week late: 9 -> 10 weeks keeps every phase >= 3 weeks: inside the admissible set
    late1 = shifted(plan, "A2", 7)
    diary = simulate_diary(plan, late1, effect=2.0, seed=1)
    pts = outcome_points(_Data(diary, late1), outcome="pain", participant="ann")
    r = planned_test(plan, pts, improvement="decrease", phases=late1)
    assert r.observed_in_set and r.exact and r.test.n_assignments == 35
    assert r.observed_starts["ann"] == (6, 10, 13) and r.planned_starts["ann"] == (6, 9, 13)
    assert any("still one the plan could have drawn" in line for line in r.lines)
    import json

    doc = json.loads(json.dumps(r.as_dict()))  # the page's machine twin: plain JSON
    assert doc["p_value"] == r.p_value and doc["exact"] is True
    assert doc["plan"]["schedule"] == {"ann": [6, 9, 13]} and doc["plan"]["start"] == "2026-03-02"
    assert doc["deviations"][2]["kind"] == "late" and doc["deviations"][2]["days"] == 7


def test_phases_that_do_not_follow_the_design_give_no_test():
    p = ab(design="abab", weeks=16, min_phase_weeks=3, seed=7)
    y = [5.0] * 16
    r = planned_test(p, weekly(p, y), improvement="decrease", phases=p.phases().head(2))
    assert r.test is None and r.p_value is None and not r.design_matched
    assert any("missing" in t for t in r.deviations["kind"].to_list())
    assert "no design-matched randomization test" in r.lines[-1]


def test_planned_test_checks_its_arguments():
    p = ab()
    with pytest.raises(PlanError, match="improvement='up' is not allowed"):
        planned_test(p, weekly(p, [1] * 8), improvement="up")
    with pytest.raises(PlanError, match="series lacks column\\(s\\) value"):
        planned_test(p, pl.DataFrame({"date": [START]}), improvement="decrease")


def test_enumeration_matches_itertools_for_larger_designs():
    p = ab(design="abab", weeks=20, min_phase_weeks=4, seed=0)
    brute = [c for c in itertools.combinations(range(1, 20), 3)
             if c[0] >= 4 and c[1] - c[0] >= 4 and c[2] - c[1] >= 4 and 20 - c[2] >= 4]
    assert list(p.admissible()) == brute


@pytest.mark.slow
def test_notebook_04_runs_for_a_person_without_phases(tmp_path):
    """Notebook 04 through papermill on a project whose only person logged no phases: every
    section says what is missing in one line and the notebook runs to the end."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "rehab.toml").write_text("")
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "diary.csv").write_text(
        "participant,date,moment,pain\nzoe,2026-03-01,morning,4\nzoe,2026-03-02,morning,5\n")
    nb = Path(__file__).resolve().parents[1] / "notebooks" / "04-compare-protocols.ipynb"
    out = tmp_path / "out.ipynb"
    r = subprocess.run([sys.executable, "-m", "papermill", "-k", "python3", str(nb), str(out),
                        "-p", "participant", "zoe", "-p", "project", str(tmp_path)],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    text = json.dumps(json.loads(out.read_text())["cells"])
    assert "No phases logged for 'zoe'" in text
    assert "No pain comparison: participant 'zoe' has 0 weekly morning pain points" in text
    assert "Design-matched randomization test (exhaustive over 35 schedules" in text
    assert not (tmp_path / "plans").exists()  # the walk-through draws into a scratch folder


@pytest.mark.slow
def test_python_m_rehab_plan_runs_as_a_user_runs_it(project):
    import os
    import subprocess
    import sys

    env = {**os.environ, "REHAB_HOME": str(project.root), "COLUMNS": "200"}
    r = subprocess.run([sys.executable, "-m", "rehab", "plan", *BASE, "--seed", "3"], env=env,
                       capture_output=True, text=True, timeout=120, cwd=project.root)
    assert r.returncode == 0, r.stderr
    assert "plan ann: ab design" in r.stdout and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "rehab", "plan", *BASE, "--start", "2026-13-01"],
                       env=env, capture_output=True, text=True, timeout=120, cwd=project.root)
    assert r.returncode == 2 and "is not a date" in r.stderr and "Traceback" not in r.stderr
