"""The demo generator: files in the canonical format, and data that follow the recorded truth.

The truth checks re-implement the documented formulas here (they do not call the generator's own
curve helpers, except to check that those agree) and compare estimates from the simulated files
with the parameters in truth.json.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from rehab import demo, norms
from rehab.exercises import EXERCISES
from rehab.paths import PathError
from rehab.schema import DIARY, PHASES, SESSIONS, TEST_IDS, TESTS, TableSpec

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
REFERENCE_TODAY = date(2026, 11, 25)  # the brief's "now": the default sample must end before it
COHORT_SEED = 7
TRADITIONAL_EXERCISES = {"plank", "side_plank", "dead_bug", "bird_dog"}
SHIT_EXERCISES = {"back_extension", "back_extension_hold", "trap3_raise", "split_squat_hold",
                  "hip_hike", "outer_hip_drop_set"}


# --- helpers (independent of the generator) ----------------------------------------------------------


def _weeks(d: date, origin: str) -> float:
    return (d - date.fromisoformat(origin)).days / 7.0


def curve_value(c: dict, d: date) -> float:
    """The documented endurance curve, written out again."""
    gs = date.fromisoformat(c["gain_start"])
    y_gs = c["baseline"] + c["drift_per_week_before_gain"] * max(0.0, _weeks(gs, c["t0"]))
    if d < gs:
        return c["baseline"] + c["drift_per_week_before_gain"] * max(0.0, _weeks(d, c["t0"]))
    return c["plateau"] + (y_gs - c["plateau"]) * math.exp(-_weeks(d, c["gain_start"]) / c["tau_weeks"])


def read_typed(path: Path, spec: TableSpec) -> pl.DataFrame:
    """Read a canonical CSV as text and type it by the schema's column kinds (test's own parser)."""
    raw = pl.read_csv(path, infer_schema=False)
    out = []
    for col in spec.columns:
        c = pl.col(col.name)
        if col.kind == "date":
            e = c.str.to_date("%Y-%m-%d", strict=True)
        elif col.kind in ("int", "float"):
            e = c.cast(pl.Float64, strict=True)
        elif col.kind == "bool":
            e = c.replace_strict({"yes": True, "no": False}, default=None, return_dtype=pl.Boolean)
        else:
            e = c
        out.append(e.alias(col.name))
    return raw.select(out)


def its_errors(diary: pl.DataFrame, truth: dict) -> np.ndarray:
    """Per participant: OLS interrupted time-series fit on morning pain minus the true values
    (intercept includes the morning offset); columns: level, slope, level change, slope change,
    post-switch slope."""
    rows = []
    morning = diary.filter(pl.col("moment") == "morning")
    for pid, p in truth["participants"].items():
        tr = p["pain"]
        m = morning.filter(pl.col("participant") == pid)
        w = np.array([_weeks(d, tr["time_origin"]) for d in m["date"]])
        ws = np.array([_weeks(d, tr["switch_date"]) for d in m["date"]])
        post = (ws >= 0).astype(float)
        x = np.column_stack([np.ones_like(w), w, post, post * ws])
        est = np.linalg.lstsq(x, m["pain"].to_numpy(), rcond=None)[0]
        true = np.array([tr["level_before"] + tr["moment_offsets"]["morning"],
                         tr["slope_before_per_week"], tr["level_change_at_switch"],
                         tr["slope_change_per_week"]])
        e = est - true
        rows.append([*e, e[1] + e[3]])
    return np.array(rows)


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    assert demo.generate(out) == out
    return out


@pytest.fixture(scope="module")
def cohort() -> demo.DemoData:
    return demo.simulate(participants=60, seed=COHORT_SEED)


# --- format ----------------------------------------------------------------------------------------


def test_files_written(default_dir):
    for name in demo.FILES:
        assert (default_dir / name).is_file(), name
    total = sum((default_dir / n).stat().st_size for n in demo.FILES)
    assert 10_000 < total < 400_000  # a small sample: tens to a few hundred KB


@pytest.mark.parametrize("spec", [SESSIONS, DIARY, TESTS, PHASES], ids=lambda s: s.kind)
def test_csv_header_is_the_schema(default_dir, spec):
    df = pl.read_csv(default_dir / f"{spec.kind}.csv", infer_schema=False)
    assert df.columns == spec.names
    assert df.height > 0


@pytest.mark.parametrize("spec", [SESSIONS, DIARY, TESTS, PHASES], ids=lambda s: s.kind)
def test_values_inside_schema_ranges(default_dir, cohort, tmp_path, spec):
    demo.write(cohort, tmp_path)
    for folder in (default_dir, tmp_path):
        df = read_typed(folder / f"{spec.kind}.csv", spec)
        for col in spec.columns:
            s = df[col.name]
            if col.required:
                assert s.null_count() == 0, col.name
            v = s.drop_nulls()
            if v.len() == 0:
                continue
            if col.min is not None:
                assert v.min() >= col.min, col.name
            if col.max is not None:
                assert v.max() <= col.max, col.name
            if col.kind == "int":
                assert (v == v.round(0)).all(), col.name
            if col.choices:
                assert set(v.unique()) <= set(col.choices), col.name
            if col.kind == "time":
                assert v.str.contains(r"^([01]\d|2[0-3]):[0-5]\d$").all(), col.name
            if col.name == "participant":
                assert v.str.contains(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$").all()


def test_notes_with_commas_and_quotes_round_trip(default_dir):
    sessions = read_typed(default_dir / "sessions.csv", SESSIONS)
    diary = read_typed(default_dir / "diary.csv", DIARY)
    notes = pl.concat([sessions["notes"], diary["notes"]]).drop_nulls().to_list()
    tricky = [n for n in notes if "," in n and '"' in n]
    assert tricky, "expected notes holding both a comma and a double quote"
    assert set(notes) <= set(demo.SESSION_NOTES + demo.DIARY_NOTES + demo.FLARE_NOTES
                             + (demo.HOLIDAY_NOTE,) + tuple(demo.FIRST_SESSION_NOTES.values()))
    text = (default_dir / "sessions.csv").read_text(encoding="utf-8")
    assert '""' in text  # quotes inside a field are doubled (RFC 4180)


def test_deterministic_for_a_seed(tmp_path):
    a = demo.generate(tmp_path / "a", seed=11)
    b = demo.generate(tmp_path / "b", seed=11)
    c = demo.generate(tmp_path / "c", seed=12)
    for name in demo.FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "diary.csv").read_bytes() != (c / "diary.csv").read_bytes()


def test_cohort_deterministic():
    a = demo.simulate(participants=6, seed=3)
    b = demo.simulate(participants=6, seed=3)
    assert a.diary.equals(b.diary) and a.sessions.equals(b.sessions) and a.truth == b.truth


def test_committed_sample_is_the_default_output(default_dir):
    for name in demo.FILES:
        assert (SAMPLE / name).read_bytes() == (default_dir / name).read_bytes(), (
            f"data/sample/{name} differs from the generator's default output: regenerate it "
            "with rehab.demo.write_sample()"
        )


def test_default_dates_are_in_the_past(default_dir):
    today = REFERENCE_TODAY
    for spec in (SESSIONS, DIARY, TESTS, PHASES):
        df = read_typed(default_dir / f"{spec.kind}.csv", spec)
        for col in spec.columns:
            if col.kind == "date" and df[col.name].drop_nulls().len():
                assert df[col.name].max() <= today, (spec.kind, col.name)
    truth = json.loads((default_dir / "truth.json").read_text())
    assert truth["start"] == "2026-02-02" and truth["end"] == "2026-11-01"


# --- the default person ----------------------------------------------------------------------------


def test_truth_structure(default_dir):
    truth = json.loads((default_dir / "truth.json").read_text(encoding="utf-8"))
    assert truth["seed"] == demo.DEFAULT_SEED
    assert truth["generator_version"] == demo.GENERATOR_VERSION
    assert truth["cohort"] is None
    p = truth["participants"]["demo"]
    assert [ph["protocol"] for ph in p["protocol_phases"]] == ["traditional-core", "shit"]
    for tid in ("sorensen_hold", "back_extension_hold", "side_bridge_left", "side_bridge_right",
                "flexor_hold"):
        assert tid in TEST_IDS
        c = p["endurance"][tid]
        for key in ("baseline", "plateau", "tau_weeks", "noise_sd", "t0", "gain_start"):
            assert key in c, (tid, key)
        extensor = tid in ("sorensen_hold", "back_extension_hold")
        assert (c["noise_sd"] == norms.SORENSEN_SEM_S["current_lbp"]) is extensor
    for key in ("ar1_phi", "sd", "level_before", "level_change_at_switch", "slope_before_per_week",
                "slope_change_per_week", "switch_date"):
        assert key in p["pain"], key
    assert set(p["sensitivity"]) >= {"response_per_load_start", "slope_per_week"}
    assert p["sensitivity"]["slope_per_week"] < 0  # desensitisation
    assert p["flare_rate_per_month"] > 0


def test_phases_and_exercises(default_dir):
    truth = json.loads((default_dir / "truth.json").read_text(encoding="utf-8"))
    phases = read_typed(default_dir / "phases.csv", PHASES)
    assert phases["protocol"].to_list() == ["traditional-core", "shit"]
    a_end, b_start = phases["end"][0], phases["start"][1]
    assert b_start - a_end == timedelta(days=1)
    assert (b_start - phases["start"][0]).days == 42  # 6 weeks of traditional core work
    assert truth["participants"]["demo"]["pain"]["switch_date"] == b_start.isoformat()
    s = read_typed(default_dir / "sessions.csv", SESSIONS)
    assert set(s["exercise"]) <= set(EXERCISES)
    before, after = s.filter(pl.col("date") < b_start), s.filter(pl.col("date") >= b_start)
    assert set(before["exercise"]) == TRADITIONAL_EXERCISES
    assert set(after["exercise"]) == SHIT_EXERCISES
    assert set(before["protocol"]) == {"traditional-core"} and set(after["protocol"]) == {"shit"}
    back = after.filter(pl.col("exercise").str.starts_with("back_extension"))
    assert (back["bench_angle_deg"] == 45).all() and back["pad"].null_count() == 0
    assert back["pump"].null_count() == 0
    splits = after.filter(pl.col("exercise") == "split_squat_hold")
    assert set(splits["side"]) == {"left", "right"}


def test_session_columns_on_every_row(default_dir):
    s = read_typed(default_dir / "sessions.csv", SESSIONS)
    for c in ("session_rpe", "duration_min", "rpe", "pain", "time"):
        assert s[c].null_count() == 0, c
    per = s.group_by("participant", "date").agg(
        pl.col("session_rpe").n_unique().alias("a"), pl.col("duration_min").n_unique().alias("b"))
    assert (per["a"] == 1).all() and (per["b"] == 1).all()


def test_schedule_misses_and_holiday(default_dir):
    truth = json.loads((default_dir / "truth.json").read_text(encoding="utf-8"))
    info = truth["participants"]["demo"]["sessions"]
    s = read_typed(default_dir / "sessions.csv", SESSIONS)
    days = s["date"].unique().to_list()
    assert len(days) == info["done"]
    assert {d.strftime("%a") for d in days} <= {"Mon", "Thu"}
    miss = info["missed"] / info["planned"]
    assert 0.08 <= miss <= 0.16  # the default seed was picked for a typical person
    h0, h1 = (date.fromisoformat(info["holiday"][k]) for k in ("start", "end"))
    assert (h1 - h0).days == 13
    assert not [d for d in days if h0 <= d <= h1]
    tests = read_typed(default_dir / "tests.csv", TESTS)
    assert tests.filter(pl.col("date").is_between(h0, h1)).height == 0
    test_days = sorted(tests["date"].unique())
    gaps = {(b - a).days for a, b in zip(test_days, test_days[1:], strict=False)}
    assert gaps <= {14, 28}  # every 2 weeks, one test skipped for the holiday


def test_diary_entries(default_dir):
    truth = json.loads((default_dir / "truth.json").read_text(encoding="utf-8"))
    d = read_typed(default_dir / "diary.csv", DIARY)
    s = read_typed(default_dir / "sessions.csv", SESSIONS)
    n_days = (date.fromisoformat(truth["end"]) - date.fromisoformat(truth["start"])).days + 1
    morning = d.filter(pl.col("moment") == "morning")
    assert 0.9 * n_days <= morning.height <= n_days
    assert morning["sleep_h"].null_count() == 0
    assert d.filter(pl.col("moment") == "evening").height >= 0.85 * n_days
    pre_days = set(d.filter(pl.col("moment") == "pre")["date"])
    assert pre_days == set(s["date"])  # a pre entry on every session day
    assert (d["pain"] == d["pain"].round(0)).all()  # whole NRS points
    assert d["flare"].null_count() == 0


def test_flares_are_the_recorded_episodes(default_dir):
    truth = json.loads((default_dir / "truth.json").read_text(encoding="utf-8"))
    d = read_typed(default_dir / "diary.csv", DIARY)
    end = date.fromisoformat(truth["end"])
    flare_days = set()
    for ep in truth["participants"]["demo"]["flares"]["episodes"]:
        s = date.fromisoformat(ep["start"])
        flare_days |= {s + timedelta(days=i) for i in range(ep["days"]) if s + timedelta(days=i) <= end}
    logged = set(d.filter(pl.col("flare"))["date"])
    assert logged == flare_days & set(d["date"])
    assert d.filter(~pl.col("flare") & pl.col("date").is_in(list(flare_days))).height == 0


# --- truth recovery --------------------------------------------------------------------------------


def test_curve_helper_matches_documented_formula(default_dir):
    truth = json.loads((default_dir / "truth.json").read_text(encoding="utf-8"))
    for c in truth["participants"]["demo"]["endurance"].values():
        days = [date(2026, 2, 7) + timedelta(days=k) for k in range(0, 270, 9)]
        ours = [curve_value(c, d) for d in days]
        assert np.allclose(demo.true_test_value(c, days), ours)
        assert c["value_at_gain_start"] == pytest.approx(curve_value(c, date.fromisoformat(
            c["gain_start"])), abs=1e-3)


def test_extensors_stay_near_baseline_during_lead_in(default_dir):
    truth = json.loads((default_dir / "truth.json").read_text(encoding="utf-8"))
    p = truth["participants"]["demo"]
    switch = p["pain"]["switch_date"]
    for tid in ("sorensen_hold", "back_extension_hold"):
        c = p["endurance"][tid]
        assert c["gain_start"] == switch
        assert 0 <= c["value_at_gain_start"] - c["baseline"] <= 5  # a small drift at most
        assert c["plateau"] - c["baseline"] > 2 * norms.SORENSEN_SRC_S["current_lbp"]
    assert p["endurance"]["sorensen_hold"]["bench_angle_deg"] == 0
    assert p["endurance"]["back_extension_hold"]["bench_angle_deg"] == 45
    tests = read_typed(default_dir / "tests.csv", TESTS)
    angles = tests.group_by("test").agg(pl.col("bench_angle_deg").first()).sort("test")
    assert dict(angles.iter_rows())["sorensen_hold"] == 0


@pytest.mark.parametrize("tid", ["sorensen_hold", "back_extension_hold", "side_bridge_left",
                                 "flexor_hold"])
def test_test_noise_matches_truth(cohort, tid):
    """Residuals from the true curve: mean ≈ 0 and SD ≈ noise_sd over ~1100 tests."""
    res, sds = [], set()
    for pid, p in cohort.truth["participants"].items():
        c = p["endurance"][tid]
        sds.add(c["noise_sd"])
        t = cohort.tests.filter((pl.col("participant") == pid) & (pl.col("test") == tid))
        res += [v - curve_value(c, d) for d, v in t.select("date", "value").iter_rows()]
    r = np.array(res)
    (sd,) = sds
    if tid in ("sorensen_hold", "back_extension_hold"):
        assert sd == norms.SORENSEN_SEM_S["current_lbp"]
    assert r.size > 1000
    assert abs(r.mean()) < 4 * sd / math.sqrt(r.size)
    # sampling SD of an SD is about sd/sqrt(2n) ≈ 2%; whole-second rounding adds 0.29 s in quadrature
    assert r.std(ddof=1) == pytest.approx(math.hypot(sd, 0.29), rel=0.08)
    vals = cohort.tests.filter(pl.col("test") == tid)["value"]
    assert vals.min() >= 0
    if tid == "sorensen_hold":
        assert vals.max() <= norms.SORENSEN_MAX_S


def test_long_series_recovers_the_curve():
    """An asymptotic-regression fit to 3 years of 2-weekly Sorensen tests finds the true curve."""
    from scipy.optimize import curve_fit

    d = demo.simulate(months=36, seed=5)
    c = d.truth["participants"]["demo"]["endurance"]["sorensen_hold"]
    t = d.tests.filter((pl.col("test") == "sorensen_hold")
                       & (pl.col("date") >= date.fromisoformat(c["gain_start"])))
    x = np.array([_weeks(v, c["gain_start"]) for v in t["date"]])
    y = t["value"].to_numpy()

    def f(x, plateau, y0, tau):
        return plateau + (y0 - plateau) * np.exp(-x / tau)

    (plateau, y0, tau), cov = curve_fit(f, x, y, p0=(150, 80, 5))
    se = np.sqrt(np.diag(cov))
    assert abs(plateau - c["plateau"]) < 4 * se[0]
    assert abs(y0 - c["value_at_gain_start"]) < 4 * se[1]
    assert abs(tau - c["tau_weeks"]) < 4 * se[2]
    assert (y - f(x, c["plateau"], c["value_at_gain_start"], c["tau_weeks"])).std() == pytest.approx(
        c["noise_sd"], rel=0.25)


def test_pain_its_truth(cohort):
    """Per-person OLS interrupted time series on morning pain: errors average ≈ 0 over 60 people.

    Known small biases: flares and next-morning session effects raise the level (≤ 0.5), and the
    shrinking session effect adds about −0.003/week to the slope."""
    e = its_errors(cohort.diary, cohort.truth)
    mean, se = e.mean(axis=0), e.std(axis=0, ddof=1) / math.sqrt(len(e))
    assert 0 < mean[0] < 0.5 + 4 * se[0]
    for k in (1, 2, 3):
        assert abs(mean[k]) < 4 * se[k] + 0.01, k
    assert abs(mean[4]) < 0.01  # post-switch slope, estimated from 33 weeks: tight


def test_demo_pain_trend(default_dir):
    truth = json.loads((default_dir / "truth.json").read_text(encoding="utf-8"))
    d = read_typed(default_dir / "diary.csv", DIARY)
    e = its_errors(d, truth)[0]
    assert abs(e[4]) < 0.05  # the post-switch slope (its SD over seeds is about 0.016)
    pain = truth["participants"]["demo"]["pain"]
    assert pain["slope_before_per_week"] + pain["slope_change_per_week"] < 0
    assert pain["marginal_sd"] == pytest.approx(pain["sd"] / math.sqrt(1 - pain["ar1_phi"] ** 2),
                                                abs=1e-3)


def _sessions_with_response(data: demo.DemoData) -> pl.DataFrame:
    di = data.diary.filter(pl.col("moment").is_in(["pre", "post"])).pivot(
        "moment", index=["participant", "date"], values="pain").drop_nulls()
    ses = data.sessions.group_by("participant", "date").agg(
        (pl.col("session_rpe").first() * pl.col("duration_min").first()).alias("load"))
    return di.join(ses, on=["participant", "date"]).with_columns(
        (pl.col("post") - pl.col("pre")).alias("response"))


def test_sensitivity_truth(cohort):
    """post − pre = (s0 + slope·w)·load + noise: per-person OLS errors average ≈ 0."""
    j = _sessions_with_response(cohort)
    errs = []
    for pid, p in cohort.truth["participants"].items():
        s = p["sensitivity"]
        q = j.filter(pl.col("participant") == pid)
        w = np.array([_weeks(d, s["time_origin"]) for d in q["date"]])
        load = q["load"].to_numpy()
        est = np.linalg.lstsq(np.column_stack([load, load * w]), q["response"].to_numpy(),
                              rcond=None)[0]
        errs.append(est - [s["response_per_load_start"], s["slope_per_week"]])
    e = np.array(errs)
    mean, se = e.mean(axis=0), e.std(axis=0, ddof=1) / math.sqrt(len(e))
    assert abs(mean[0]) < 4 * se[0] + 2e-4
    assert abs(mean[1]) < 4 * se[1] + 1e-5


def test_flare_rate(cohort):
    n = sum(len(p["flares"]["episodes"]) for p in cohort.truth["participants"].values())
    expected = sum(p["flare_rate_per_month"] * (len(cohort.diary["date"].unique()) / demo.DAYS_PER_MONTH)
                   for p in cohort.truth["participants"].values())
    assert abs(n - expected) < 4 * math.sqrt(expected)  # Poisson


# --- cohort ----------------------------------------------------------------------------------------


def test_cohort_balanced(cohort):
    ids = cohort.participants
    assert ids == [f"p{i:03d}" for i in range(1, 61)]
    assert all(re.match(r"^p\d{3}$", i) for i in ids)
    variants = [p["variant"] for p in cohort.truth["participants"].values()]
    assert {v: variants.count(v) for v in set(variants)} == {
        "shit": 20, "traditional-core": 20, "shit-3x": 20}
    main = cohort.phases.filter(pl.col("phase") == "B")
    assert main.height == 60
    assert dict(main.select("participant", "protocol").iter_rows()) == {
        pid: p["variant"] for pid, p in cohort.truth["participants"].items()}
    for v, info in cohort.truth["cohort"]["variants"].items():
        assert info["n"] == 20, v
    odd = demo.simulate(participants=7, seed=1)
    counts = [p["variant"] for p in odd.truth["participants"].values()]
    assert max(map(counts.count, set(counts))) - min(map(counts.count, set(counts))) <= 1


def test_cohort_misses(cohort):
    """About 10-15% of planned sessions missed: miss_prob (8-16%) plus 40% on flare days."""
    info = [p["sessions"] for p in cohort.truth["participants"].values()]
    planned, missed = sum(i["planned"] for i in info), sum(i["missed"] for i in info)
    assert 0.10 <= missed / planned <= 0.17
    for pid, p in cohort.truth["participants"].items():
        done = cohort.sessions.filter(pl.col("participant") == pid)["date"].n_unique()
        assert done == p["sessions"]["done"], pid


def test_cohort_sessions_per_week(cohort):
    per = (cohort.sessions.filter(pl.col("phase") == "B")
           .group_by("protocol").agg(pl.struct("participant", "date").n_unique().alias("n")))
    n = dict(per.iter_rows())
    assert n["shit-3x"] > 1.3 * n["shit"]
    wd = cohort.sessions.filter(pl.col("protocol") == "shit-3x")["date"].dt.weekday().unique()
    assert set(wd) == {1, 3, 5}  # Monday, Wednesday, Friday


def test_cohort_truth_is_consistent(cohort):
    c = cohort.truth["cohort"]
    people = cohort.truth["participants"]
    for v, info in c["variants"].items():
        members = [p for p in people.values() if p["variant"] == v]
        gain = np.mean([p["endurance"]["sorensen_hold"]["plateau"]
                        - p["endurance"]["sorensen_hold"]["baseline"] for p in members])
        slope = np.mean([p["pain"]["slope_change_per_week"] for p in members])
        assert info["sample_means"]["sorensen_gain_s"] == pytest.approx(gain, abs=1e-3)
        assert info["sample_means"]["pain_slope_change_per_week"] == pytest.approx(slope, abs=1e-5)
        # the draws are centred on the population means (20 people a variant)
        sd = c["between_person_sd"]
        assert abs(gain - info["population_means"]["sorensen_gain_s"]) < 4 * sd["sorensen_gain_s"] / math.sqrt(20)
    diff = c["true_differences"]["shit - traditional-core"]
    v = c["variants"]
    assert diff["sample"]["sorensen_gain_s"] == pytest.approx(
        v["shit"]["sample_means"]["sorensen_gain_s"]
        - v["traditional-core"]["sample_means"]["sorensen_gain_s"], abs=1e-4)
    assert diff["population"]["sorensen_gain_s"] == 60.0
    assert diff["population"]["pain_slope_change_per_week"] < 0
    assert "shit-3x - shit" in c["true_differences"]


def test_cohort_gain_difference_visible_in_tests(cohort):
    """The last tests minus the lead-in tests differ between variants by about the true gain."""
    t = cohort.tests.filter(pl.col("test") == "sorensen_hold")
    switch = date.fromisoformat(cohort.truth["participants"]["p001"]["pain"]["switch_date"])
    end = date.fromisoformat(cohort.truth["end"])
    change = {}
    for pid, p in cohort.truth["participants"].items():
        q = t.filter(pl.col("participant") == pid)
        before = q.filter(pl.col("date") < switch)["value"].mean()
        late = q.filter(pl.col("date") > end - timedelta(days=60))["value"].mean()
        change.setdefault(p["variant"], []).append(late - before)
    observed = np.mean(change["shit"]) - np.mean(change["traditional-core"])
    assert observed == pytest.approx(
        cohort.truth["cohort"]["true_differences"]["shit - traditional-core"]["sample"][
            "sorensen_gain_s"], abs=15)


# --- arguments and the CLI entry point -------------------------------------------------------------


@pytest.mark.parametrize("kw", [
    {"participants": 0}, {"participants": 1000}, {"participants": 2.5}, {"seed": -1},
    {"seed": "x"}, {"months": 2}, {"months": 61}, {"start": "2026-01-01"},
    {"variants": ("shit", "yoga")}, {"variants": ()},
])
def test_bad_arguments(kw):
    with pytest.raises(ValueError, match="not allowed"):
        demo.simulate(**kw)


def test_write_sample(tmp_path):
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "rehab.toml").write_text("")
    res = demo.write_sample(tmp_path)
    assert res.out_dir == (tmp_path / "data" / "sample").resolve()
    assert [p.name for p in res.paths] == list(demo.FILES)
    assert all(p.is_file() for p in res.paths)
    assert "1 participant" in res.summary() and "truth.json" in res.summary()
    assert res.rows["sessions"] == pl.read_csv(res.paths[0], infer_schema=False).height
    res2 = demo.write_sample(tmp_path, out="demo-cohort", participants=4, seed=1)
    assert res2.out_dir == (tmp_path / "demo-cohort").resolve() and res2.participants == 4
    assert "4 participants" in res2.summary()
    with pytest.raises(PathError):
        demo.write_sample(tmp_path, out=tmp_path.parent / "elsewhere")
    with pytest.raises(PathError):
        demo.write_sample(tmp_path, out="../escape")
    with pytest.raises(PathError, match="data/raw"):
        demo.write_sample(tmp_path, out="data/raw/demo")
    assert not list((tmp_path / "data" / "raw").iterdir())


# --- the kit's reader accepts everything -------------------------------------------------------------


def test_io_reads_sample_with_nothing_quarantined(tmp_path, cohort):
    from rehab import io  # imported, not importorskip: a broken reader must fail this test

    demo.write(cohort, tmp_path)
    readers = {"sessions": io.read_sessions, "diary": io.read_diary, "tests": io.read_tests,
               "phases": io.read_phases}
    for folder in (SAMPLE, tmp_path):
        for kind, read in readers.items():
            r = read(folder / f"{kind}.csv", today=REFERENCE_TODAY)
            assert r.quarantined == 0, (folder, kind, r.quarantine.head(3).to_dicts())
            assert r.duplicates == 0 and r.accepted == r.records > 0, (folder, kind)
            assert not r.warnings, r.warnings
    sessions = io.read_sessions(SAMPLE / "sessions.csv").data
    assert set(sessions["exercise"]) <= set(EXERCISES)  # canonical ids map to themselves
