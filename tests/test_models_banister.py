"""Training load, EWMA fitness/fatigue and the Banister model, checked against hand computation,
the GoldenCheetah recursion written out as a plain loop, and the published Clarke & Skiba 2013
parameters (p0 = 262, k1 = 0.18, k2 = 0.23, τ1 = 36 d, τ2 = 21 d)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
import vl_convert as vlc

from rehab import norms
from rehab.features import ASSUMED_RPE, REST_SECONDS_PER_SET, SECONDS_PER_REP
from rehab.models import (
    banister_curve,
    daily_load,
    fit_banister,
    fitness_fatigue,
    fitness_fatigue_chart,
    session_loads,
)

CLARKE_SKIBA = {"p0": 262.0, "k1": 0.18, "k2": 0.23, "tau1": 36.0, "tau2": 21.0}
D0 = dt.date(2025, 1, 6)


def year_of_loads(seed=1):
    rng = np.random.default_rng(seed)
    load = np.where(rng.random(365) < 0.5, rng.uniform(20, 120, 365), 0.0)
    return pl.DataFrame({"day": np.arange(365), "load": load})


def simulated_tests(loads, params, days, sd, seed=2, include=True):
    rng = np.random.default_rng(seed)
    curve = banister_curve(loads, params, include_test_day_load=include)
    vals = curve["performance"].to_numpy()[days] + rng.normal(0, sd, len(days))
    return pl.DataFrame({"day": days, "value": vals})


# --- the model by hand ----------------------------------------------------------------------------


def test_banister_curve_by_hand():
    loads = pl.DataFrame({"day": [0, 2], "load": [100.0, 50.0]})
    p = CLARKE_SKIBA
    c = banister_curve(loads, p)
    assert c["day"].to_list() == [0, 1, 2]
    exp = [
        262 + 0.18 * 100 - 0.23 * 100,
        262 + 0.18 * 100 * math.exp(-1 / 36) - 0.23 * 100 * math.exp(-1 / 21),
        262 + 0.18 * (100 * math.exp(-2 / 36) + 50) - 0.23 * (100 * math.exp(-2 / 21) + 50),
    ]
    assert c["performance"].to_list() == pytest.approx(exp, rel=1e-12)
    excl = banister_curve(loads, p, include_test_day_load=False)
    assert excl["performance"][0] == pytest.approx(262.0)
    assert excl["performance"][2] == pytest.approx(
        262 + 0.18 * 100 * math.exp(-2 / 36) - 0.23 * 100 * math.exp(-2 / 21), rel=1e-12)


def test_test_day_load_changes_prediction_by_k1_w_minus_k2_w():
    loads = year_of_loads()
    p = CLARKE_SKIBA
    inc = banister_curve(loads, p, include_test_day_load=True)["performance"].to_numpy()
    exc = banister_curve(loads, p, include_test_day_load=False)["performance"].to_numpy()
    w = loads["load"].to_numpy()
    day = int(np.flatnonzero(w > 0)[10])
    assert inc[day] - exc[day] == pytest.approx(p["k1"] * w[day] - p["k2"] * w[day], abs=1e-9)
    assert inc[day] - exc[day] == pytest.approx(-0.05 * w[day], abs=1e-9)
    rest = int(np.flatnonzero(w == 0)[10])
    assert inc[rest] == pytest.approx(exc[rest], abs=1e-9)


def test_dates_work_as_days_and_predict_matches_curve():
    loads = year_of_loads()
    dated = loads.with_columns((pl.lit(D0) + pl.duration(days=pl.col("day"))).alias("day"))
    a = banister_curve(loads, CLARKE_SKIBA)["performance"]
    b = banister_curve(dated, CLARKE_SKIBA)
    assert b.schema["day"] == pl.Date() and b["day"][0] == D0
    assert a.to_list() == pytest.approx(b["performance"].to_list())
    days = np.arange(30, 365, 15)
    tests = simulated_tests(loads, CLARKE_SKIBA, days, 1.0).with_columns(
        (pl.lit(D0) + pl.duration(days=pl.col("day"))).alias("day"))
    r = fit_banister(dated, tests, fixed_tau=(36, 21))
    assert r.status == "ok"
    pred = r.predict([D0 + dt.timedelta(days=100)])
    assert pred["performance"][0] == pytest.approx(r.curve()["performance"][100])
    with pytest.raises(ValueError, match="mix dates"):
        fit_banister(loads, tests)


# --- known answer: Clarke & Skiba 2013 ------------------------------------------------------------


def test_recovers_clarke_skiba_parameters_with_fixed_taus():
    loads = year_of_loads()
    tests = simulated_tests(loads, CLARKE_SKIBA, np.arange(20, 365, 14), sd=1.0)
    r = fit_banister(loads, tests, fixed_tau=(36, 21))
    assert r.status == "ok"
    assert r.params["p0"] == pytest.approx(262, abs=3)
    assert r.params["k1"] == pytest.approx(0.18, rel=0.05)
    assert r.params["k2"] == pytest.approx(0.23, rel=0.05)
    assert r.params["tau1"] == 36 and r.params["tau2"] == 21
    for name in ("p0", "k1", "k2"):
        row = r.tidy.filter(pl.col("term") == name).row(0, named=True)
        assert row["ci_low"] <= CLARKE_SKIBA[name] <= row["ci_high"], name
    assert r.r_squared > 0.97


def test_recovers_clarke_skiba_within_tau_bounds_and_shows_uncertainty():
    loads = year_of_loads()
    tests = simulated_tests(loads, CLARKE_SKIBA, np.arange(20, 365, 7), sd=0.5)
    r = fit_banister(loads, tests, bounds={"tau1": (30, 45), "tau2": (15, 28)})
    assert r.status == "ok"
    assert r.params["tau1"] > r.params["tau2"] and r.params["k2"] > r.params["k1"] >= 0
    assert r.params["tau1"] == pytest.approx(36, rel=0.15)
    assert r.params["tau2"] == pytest.approx(21, rel=0.15)
    assert r.params["p0"] == pytest.approx(262, abs=3)
    true_curve = banister_curve(loads, CLARKE_SKIBA)["performance"].to_numpy()
    assert r.curve()["performance"].to_numpy() == pytest.approx(true_curve, abs=2.0)
    assert r.tidy.filter(pl.col("term") == "tau1")["std_error"][0] > 0
    assert "Jacobian" in r.uncertainty_method


def test_free_fit_is_flagged_as_poorly_identified():
    """Marchal 2025 / docs/SCIENCE.md: a free refit drifts toward k1 ≈ k2, τ1 ≈ τ2."""
    loads = year_of_loads()
    tests = simulated_tests(loads, CLARKE_SKIBA, np.arange(20, 365, 30), sd=3.0)
    r = fit_banister(loads, tests)
    assert r.status == "ok"
    assert r.identifiability and not r.is_identified
    assert "identifiability warning" in r.summary()
    assert r.correlation is not None and r.correlation.height == 5


def test_constraints_hold_on_awkward_data():
    # performance falling with load would want k1 > k2 or negative gains: constraints win
    loads = year_of_loads()
    tests = simulated_tests(loads, {"p0": 200, "k1": 0.3, "k2": 0.1, "tau1": 10, "tau2": 30},
                       np.arange(20, 365, 10), sd=1.0)
    r = fit_banister(loads, tests)
    assert r.params["k2"] >= r.params["k1"] >= 0
    assert r.params["tau1"] > r.params["tau2"] > 0


def test_banister_status_instead_of_exception():
    loads = year_of_loads()
    few = simulated_tests(loads, CLARKE_SKIBA, np.array([30, 60, 90]), sd=1.0)
    r = fit_banister(loads, few, fixed_tau=True)
    assert r.status == "too_few_tests" and r.params == {}
    assert r.chart().to_dict()  # points only
    zero = fit_banister(loads.with_columns(pl.lit(0.0).alias("load")),
                        simulated_tests(loads, CLARKE_SKIBA, np.arange(20, 365, 14), 1.0))
    assert zero.status == "no_load"
    nulls = loads.with_columns(pl.when(pl.col("day") < 10).then(None).otherwise(pl.col("load"))
                               .alias("load"))
    r = fit_banister(nulls, simulated_tests(loads, CLARKE_SKIBA, np.arange(20, 365, 14), 1.0),
                     fixed_tau=True)
    assert r.status == "ok" and any("missing" in w for w in r.warnings)
    assert r.params["tau1"] == norms.CTL_DAYS and r.params["tau2"] == norms.ATL_DAYS
    with pytest.raises(ValueError, match="fixed_tau"):
        fit_banister(loads, few, fixed_tau=(7, 42))
    with pytest.raises(ValueError, match="bounds"):
        fit_banister(loads, few, bounds={"k1": (0, 1)})


def test_banister_chart_renders():
    loads = year_of_loads()
    r = fit_banister(loads, simulated_tests(loads, CLARKE_SKIBA, np.arange(20, 365, 14), 1.0),
                     fixed_tau=(36, 21))
    assert vlc.vegalite_to_svg(r.chart().to_json()).startswith("<svg")


# --- session load, daily load, EWMA ---------------------------------------------------------------


def test_session_load_srpe_and_volume_fallback():
    sessions = pl.DataFrame({
        "participant": ["me"] * 6,
        "date": [D0, D0, D0 + dt.timedelta(days=3), D0 + dt.timedelta(days=3),
                 D0 + dt.timedelta(days=5), D0 + dt.timedelta(days=7)],
        "exercise": ["back_extension"] * 6,
        "set": [1, 2, 1, 2, 1, 1],
        "reps": [10, 10, 12, None, None, None],
        "hold_s": [None, None, None, 30.0, None, None],
        "rpe": [None, None, 6.0, 8.0, None, None],
        "session_rpe": [5.0, None, None, None, None, 4.0],
        "duration_min": [None, 30.0, None, None, None, None],
    })
    sl = session_loads(sessions)
    assert sl.height == 4
    a, b, c, d = sl.iter_rows(named=True)
    # Foster 2001: session RPE × minutes, taken from whichever set row carries them
    assert (a["load"], a["load_source"]) == (150.0, "srpe")
    # fallback: (12 reps × 3 s + 30 s hold + 2 sets × 60 s rest) / 60 min × mean set RPE 7
    minutes = (12 * SECONDS_PER_REP + 30 + 2 * REST_SECONDS_PER_SET) / 60
    assert b["load_source"] == "volume_fallback"
    assert b["load"] == pytest.approx(7.0 * minutes)
    # nothing measurable logged: load missing, flagged
    assert c["load"] is None and c["load_source"] == "missing"
    # session RPE without minutes and nothing else: still missing
    assert d["load_source"] == "missing"
    no_rpe = session_loads(sessions.with_columns(pl.lit(None, dtype=pl.Float64).alias("rpe")))
    assert no_rpe["rpe_used"][1] == ASSUMED_RPE
    dl = daily_load(sessions)
    assert dl.height == 8 and dl["day"][0] == D0  # zero-filled calendar days
    assert dl["load"].to_list()[:4] == pytest.approx([150.0, 0.0, 0.0, 7.0 * minutes])
    assert dl["n_missing_load"].sum() == 2 and dl["n_sessions"].sum() == 4


def _gc_loop(load, days):
    """GoldenCheetah PMCData recursion written out day by day."""
    out, prev = [], 0.0
    for w in load:
        prev = w * (1 - math.exp(-1 / days)) + prev * math.exp(-1 / days)
        out.append(prev)
    return np.array(out)


def test_fitness_fatigue_matches_goldencheetah_recursion():
    loads = year_of_loads()
    daily = loads.select((pl.lit(D0) + pl.duration(days=pl.col("day"))).alias("day"), "load")
    ff = fitness_fatigue(daily)
    w = loads["load"].to_numpy()
    ctl = _gc_loop(w, 42)
    atl = _gc_loop(w, 7)
    assert ff["ctl"].to_numpy() == pytest.approx(ctl, rel=1e-10)
    assert ff["atl"].to_numpy() == pytest.approx(atl, rel=1e-10)
    # form is shown the next day: today's form = yesterday's CTL − ATL
    assert ff["form"][0] == 0.0
    assert ff["form"].to_numpy()[1:] == pytest.approx((ctl - atl)[:-1], rel=1e-10, abs=1e-12)
    assert ff["ramp"][:7].null_count() == 7
    assert ff["ramp"].to_numpy()[7:] == pytest.approx(ctl[7:] - ctl[:-7], abs=1e-10)
    # one day's load: CTL = load·(1 − e^(−1/42)) on that day
    one = fitness_fatigue(pl.DataFrame({"day": [D0], "load": [100.0]}))
    assert one["ctl"][0] == pytest.approx(100 * (1 - math.exp(-1 / norms.CTL_DAYS)))
    assert one["atl"][0] == pytest.approx(100 * (1 - math.exp(-1 / norms.ATL_DAYS)))


def test_fitness_fatigue_fills_gaps_and_keeps_people_apart():
    daily = pl.DataFrame({
        "participant": ["a", "a", "b"],
        "day": [D0, D0 + dt.timedelta(days=3), D0],
        "load": [100.0, None, 50.0],
    })
    ff = fitness_fatigue(daily)
    assert ff.filter(pl.col("participant") == "a").height == 4
    a = ff.filter(pl.col("participant") == "a")["ctl"].to_numpy()
    assert a == pytest.approx(_gc_loop([100, 0, 0, 0], 42))
    assert ff.filter(pl.col("participant") == "b")["ctl"][0] == pytest.approx(
        50 * (1 - math.exp(-1 / 42)))
    assert vlc.vegalite_to_svg(fitness_fatigue_chart(ff.filter(pl.col("participant") == "a"))
                               .to_json()).startswith("<svg")
    with pytest.raises(ValueError, match="ctl_days"):
        fitness_fatigue(daily, ctl_days=0)
    # the legend names the time constants actually used
    spec = str(fitness_fatigue_chart(fitness_fatigue(daily, ctl_days=28), ctl_days=28).to_dict())
    assert "CTL, 28 d" in spec and "ATL, 7 d" in spec and "42 d" not in spec


def test_demo_sessions_have_srpe_loads():
    from rehab import demo

    d = demo.simulate()
    sl = session_loads(d.sessions)
    assert (sl["load_source"] == "srpe").all()
    # demo truth: load = session_rpe × duration_min
    first = d.sessions.filter(pl.col("date") == sl["date"][0])
    assert sl["load"][0] == first["session_rpe"][0] * first["duration_min"][0]
