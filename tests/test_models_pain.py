"""Pain models: hand-computed toy cases, simulated truth, a reference implementation
(statsmodels SARIMAX exact ML) and the demo generator's recorded truth."""

from __future__ import annotations

import json
import warnings
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

from rehab import norms
from rehab.config import Config
from rehab.models import pain
from rehab.schema import DIARY, SESSIONS

ROOT = Path(__file__).resolve().parents[1]
MON = date(2024, 1, 1)  # a Monday


def diary_frame(rows: list[dict]) -> pl.DataFrame:
    """Canonical diary from partial rows (missing columns null)."""
    full = [{c: r.get(c) for c in DIARY.names} for r in rows]
    df = pl.DataFrame(full, schema=DIARY.polars_schema, orient="row")
    return df.with_columns(pl.col("participant").fill_null("me"))


def sessions_frame(rows: list[dict]) -> pl.DataFrame:
    full = [{c: r.get(c) for c in SESSIONS.names} for r in rows]
    df = pl.DataFrame(full, schema=SESSIONS.polars_schema, orient="row")
    return df.with_columns(pl.col("participant").fill_null("me"))


def day(n: int) -> date:
    return MON + timedelta(days=n)


def ar1_series(n, phi, sd, rng):
    e = np.empty(n)
    e[0] = rng.normal(0, sd / np.sqrt(1 - phi**2))
    for i in range(1, n):
        e[i] = phi * e[i - 1] + rng.normal(0, sd)
    return e


def series_diary(y: np.ndarray, keep: np.ndarray | None = None, pid: str = "me") -> pl.DataFrame:
    keep = np.ones(len(y), bool) if keep is None else keep
    return pl.DataFrame({
        "participant": [pid] * int(keep.sum()),
        "date": [day(i) for i in range(len(y)) if keep[i]],
        "pain": y[keep].astype(float),
    })


# --- daily and weekly pain ---------------------------------------------------------------------------


TOY = [
    dict(date=day(0), moment="morning", pain=3, stiffness=4),
    dict(date=day(0), moment="pre", pain=2),
    dict(date=day(0), moment="post", pain=4),
    dict(date=day(0), moment="evening", pain=3, flare=False),
    dict(date=day(1), moment="morning", pain=4, stiffness=2),
    dict(date=day(1), moment="evening", pain=2, flare=True),
    dict(date=day(2), moment="morning", pain=3),
    dict(date=day(2), moment="pre", pain=3),
]


def test_daily_pain_by_hand():
    d = pain.daily_pain(diary_frame(TOY))
    assert d.columns == list(pain.DAILY_SCHEMA)
    assert d["pain"].to_list() == pytest.approx([3.0, 3.0, 3.0])  # (3+2+4+3)/4, (4+2)/2, (3+3)/2
    assert d["pain_max"].to_list() == [4.0, 4.0, 3.0]
    assert d["n_entries"].to_list() == [4, 2, 2]
    assert d["flare"].to_list() == [False, True, None]
    m = pain.daily_pain(diary_frame(TOY), moment="morning")
    assert m["pain"].to_list() == [3.0, 4.0, 3.0]
    e = pain.daily_pain(diary_frame(TOY), moment="evening")
    assert e["date"].to_list() == [day(0), day(1)]


def test_weekly_pain_t_interval_by_hand():
    df = series_diary(np.array([2.0, 4.0, 6.0, 5.0, 5.0, 5.0, 5.0, 1.0]))  # Mon-Sun, then Mon
    w = pain.weekly_pain(df)
    first = w.row(0, named=True)
    # week 1: mean 32/7, sd of [2,4,6,5,5,5,5]
    vals = np.array([2, 4, 6, 5, 5, 5, 5.0])
    half = stats.t.ppf(0.975, 6) * vals.std(ddof=1) / np.sqrt(7)
    assert first["n_days"] == 7 and first["pain_mean"] == pytest.approx(vals.mean())
    assert first["ci_low"] == pytest.approx(vals.mean() - half)
    assert first["ci_high"] == pytest.approx(vals.mean() + half)
    assert first["interval"] == pain.WEEKLY_INTERVAL
    second = w.row(1, named=True)
    assert second["n_days"] == 1 and second["ci_low"] is None  # one day: no interval


def test_weekly_pain_ar1_widening():
    rng = np.random.default_rng(3)
    y = 5 + ar1_series(70, 0.7, 1.0, rng)
    plain = pain.weekly_pain(series_diary(y))
    wide = pain.weekly_pain(series_diary(y), autocorrelation="ar1")
    assert (wide["ci_high"] - wide["ci_low"] > plain["ci_high"] - plain["ci_low"]).all()
    assert wide["interval"][0] == pain.WEEKLY_INTERVAL_AR1


# --- trend: known slope, reference implementation --------------------------------------------------


def test_trend_recovers_known_slope_with_gaps():
    rng = np.random.default_rng(11)
    n, slope = 280, -0.1
    y = 6 + slope * np.arange(n) / 7 + ar1_series(n, 0.6, 0.8, rng)
    keep = rng.random(n) > 0.15
    for method in pain.METHODS:
        res = pain.pain_trend(series_diary(y, keep), method=method)
        assert res.ok, res.message
        s = res.slope()
        assert s["ci_low"] < slope < s["ci_high"]
        assert s["ci_high"] < 0 and res.direction() == "falling"
        assert res.tidy["method"].to_list() == [method, method]
        assert res.tidy.columns == list(pain.TIDY_SCHEMA)
        assert f"Method ({method})" in res.summary()


def test_glsar_interval_coverage_on_simulated_ar1():
    # 200 simulated AR(1) diaries with a known slope: the 95% interval should cover it ~95% of
    # the time (binomial 99.9% range for 200 draws at p = 0.95: about 0.89-0.99)
    rng = np.random.default_rng(2024)
    n, slope, hits = 120, 0.05, 0
    t = np.arange(n)
    X = np.column_stack([np.ones(n), t / 7])
    for _ in range(200):
        y = 4 + slope * t / 7 + ar1_series(n, 0.5, 1.0, rng)
        fit = pain._fit("glsar", t, y, X)
        tidy = pain._tidy_from(fit, ["intercept", "slope_per_week"]).row(1, named=True)
        hits += tidy["ci_low"] < slope < tidy["ci_high"]
    assert 0.89 <= hits / 200 <= 0.99


def _twelve_week_diaries(n_series: int, seed: int):
    """12 weeks of daily pain, rho uniform in 0.2-0.6, the issue's setting (#14, item 6)."""
    rng = np.random.default_rng(seed)
    n, change = 84, 42
    t = np.arange(n) / 7
    post = np.arange(n) >= change
    for _ in range(n_series):
        rho = rng.uniform(0.2, 0.6)
        yield rng, t, post, rho, ar1_series(n, rho, 1.0, rng)


@pytest.mark.slow
def test_its_intervals_keep_their_promise():
    """Issue #14 item 6: with rho plugged in (feasible GLS) the 95% intervals covered the true
    level change in about 91% and the slope change in about 91% of these series. Now both must
    lie in 93-97%. 1,000 series: at a true 95% the binomial SD is 0.7 points, so the band is
    about +-3 SD and a calibrated method fails it by chance well under 1% of the time. The seed
    was fixed before the first run."""
    level, slope_change, slope = -1.0, -0.1, 0.02
    hits = {"level_change_1": 0, "slope_change_1": 0}
    n_series = 1000
    for _, t, post, _, noise in _twelve_week_diaries(n_series, 1206):
        y = 5 + slope * t + post * (level + slope_change * (t - 6)) + noise
        res = pain.interrupted_time_series(series_diary(y), change_dates=[day(42)])
        rows = {r["term"]: r for r in res.tidy.iter_rows(named=True)}
        for term, truth in (("level_change_1", level), ("slope_change_1", slope_change)):
            hits[term] += rows[term]["ci_low"] < truth < rows[term]["ci_high"]
    rates = {k: v / n_series for k, v in hits.items()}
    assert all(0.93 <= r <= 0.97 for r in rates.values()), rates


@pytest.mark.slow
def test_trend_intervals_keep_their_promise():
    """pain_trend on the same 12-week diaries (no change, slope -0.1 a week): 93-97% of 1,000
    intervals cover the slope (n chosen as above)."""
    hits, n_series = 0, 1000
    for _, t, _, _, noise in _twelve_week_diaries(n_series, 1207):
        s = pain.pain_trend(series_diary(5 - 0.1 * t + noise)).slope()
        hits += s["ci_low"] < -0.1 < s["ci_high"]
    assert 0.93 <= hits / n_series <= 0.97, hits / n_series


def test_ar1_gls_matches_exact_ml_of_sarimax_with_missing_days():
    """The gap-aware AR(1) GLS is the exact Gaussian ML fit: statsmodels' SARIMAX (Kalman filter,
    missing days as NaN) finds the same coefficients and rho."""
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    n = 150
    t = np.arange(n)
    y = 3 + 0.02 * t + ar1_series(n, 0.5, 1.0, rng)
    keep = rng.random(n) > 0.15
    keep[0] = True
    X = np.column_stack([np.ones(n), t / 7])
    fit = pain._fit_ar1(t[keep], y[keep], X[keep])
    yy = y.copy()
    yy[~keep] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sm.tsa.SARIMAX(yy, exog=X, order=(1, 0, 0)).fit(disp=0)
    assert fit.params == pytest.approx(ref.params[:2], abs=2e-3)
    assert fit.rho == pytest.approx(ref.params[2], abs=2e-3)


def test_hac_matches_newey_west_rule():
    rng = np.random.default_rng(7)
    y = 5 + ar1_series(100, 0.3, 1.0, rng)
    res = pain.pain_trend(series_diary(y), method="hac")
    assert res.fit.maxlags == int(np.floor(4 * (100 / 100) ** (2 / 9)))  # = 4
    assert "Newey-West" in res.summary() and "maxlags = 4" in res.summary()


# --- interrupted time series -----------------------------------------------------------------------


def test_its_recovers_known_level_and_slope_change():
    rng = np.random.default_rng(99)
    n, change = 240, 84
    t = np.arange(n) / 7
    tc = change / 7
    level, slope_change, slope = -1.5, -0.08, 0.02
    post = np.arange(n) >= change
    y = 6 + slope * t + post * (level + slope_change * (t - tc)) + ar1_series(n, 0.6, 0.8, rng)
    keep = rng.random(n) > 0.1
    res = pain.interrupted_time_series(series_diary(y, keep), change_dates=[day(change)])
    assert res.ok, res.message
    rows = {r["term"]: r for r in res.tidy.iter_rows(named=True)}
    for term, truth in [("level_change_1", level), ("slope_change_1", slope_change),
                        ("slope_per_week", slope)]:
        assert rows[term]["ci_low"] < truth < rows[term]["ci_high"], term
    assert rows["level_change_1"]["change_date"] == day(change)
    pred = res.predict()
    assert pred.height == int(keep.sum())
    # before the change the counterfactual is the fit itself
    pre = pred.filter(pl.col("date") < day(change))
    assert np.allclose(pre["fitted"], pre["counterfactual"])
    assert "Change 1" in res.summary() and "AR(1)" in res.summary()


def test_its_from_phases_and_two_changes():
    rng = np.random.default_rng(1)
    n = 150
    y = 5 + ar1_series(n, 0.4, 0.7, rng)
    y[50:] -= 1.0
    y[100:] -= 1.0
    phases = pl.DataFrame({
        "participant": ["me"] * 3,
        "start": [day(0), day(50), day(100)],
        "end": [day(49), day(99), None],
        "protocol": ["traditional-core", "shit", "shit"],
        "phase": ["A", "B", "C"],
    })
    res = pain.interrupted_time_series(series_diary(y), phases=phases)
    assert res.ok
    assert [c[0] for c in res.changes] == ["shit/B", "shit/C"]
    assert res.tidy["term"].to_list() == ["intercept", "slope_per_week", "level_change_1",
                                          "slope_change_1", "level_change_2", "slope_change_2"]


def test_its_statuses():
    y = np.full(30, 4.0)
    flat = pain.interrupted_time_series(series_diary(y), change_dates=[day(15)])
    assert flat.status == "no_variation" and "equal 4" in flat.message
    rng = np.random.default_rng(0)
    y = 5 + rng.normal(size=30)
    short = pain.interrupted_time_series(series_diary(y), change_dates=[day(26)])
    assert short.status == "too_few_days" and "after change 1" in short.message
    outside = pain.interrupted_time_series(series_diary(y), change_dates=[day(40)])
    assert outside.status == "no_change" and "ignored" in outside.message
    for r in (flat, short, outside):
        assert r.tidy.height == 0 and "Status" in r.summary()
        r.chart().to_dict()
    with pytest.raises(pain.PainModelError, match="exactly one"):
        pain.interrupted_time_series(series_diary(y))


# --- session responses: a 3-day toy diary worked by hand ------------------------------------------


TOY_SETS = [
    dict(date=day(0), exercise="back_extension", set=1, pain=3, session_rpe=5, duration_min=30),
    dict(date=day(0), exercise="back_extension", set=2, pain=5, session_rpe=5, duration_min=30),
    dict(date=day(0), exercise="back_extension", set=3, pain=4, session_rpe=5, duration_min=30),
    dict(date=day(1), exercise="back_extension", set=1, pain=2),
    dict(date=day(1), exercise="back_extension", set=2, pain=2),
    dict(date=day(2), exercise="back_extension", set=1, pain=6, session_rpe=6, duration_min=20),
]


def test_session_responses_by_hand():
    r = pain.session_responses(sessions_frame(TOY_SETS), diary_frame(TOY))
    assert r.columns == list(pain.RESPONSES_SCHEMA)
    d0, d1, d2 = r.rows(named=True)
    # day 0: before = pre 2, peak 5, after = post 4, morning 3, next morning 4
    assert (d0["pain_before"], d0["before_source"], d0["peak_during"]) == (2.0, "pre", 5.0)
    assert (d0["pain_after"], d0["after_source"]) == (4.0, "post")
    assert d0["response"] == 3.0 and d0["next_morning_response"] == 1.0  # 5-2, 4-3
    assert d0["zone"] == "acceptable"  # 5 = acceptable_max: the edge is acceptable
    assert d0["during_above_acceptable"] is False
    assert d0["not_settled_next_morning"] is True  # 4 > this morning's 3
    assert d0["load"] == 150.0 and d0["sensitivity_per_100au"] == pytest.approx(2.0)
    # day 1: no pre → before = morning 4; peak 2 (= safe_max: safe); after = evening 2
    assert (d1["pain_before"], d1["before_source"]) == (4.0, "morning")
    assert (d1["pain_after"], d1["after_source"]) == (2.0, "evening")
    assert d1["response"] == -2.0 and d1["next_morning_response"] == -1.0  # 2-4, 3-4
    assert d1["zone"] == "safe" and d1["not_settled_next_morning"] is False
    assert d1["load"] is None and d1["sensitivity_per_100au"] is None
    assert "no pre entry" in d1["note"] and "no session load" in d1["note"]
    # day 2: pre 3, peak 6 → too much; no next morning
    assert d2["response"] == 3.0 and d2["zone"] == "too much"
    assert d2["during_above_acceptable"] is True
    assert d2["next_morning"] is None and d2["not_settled_next_morning"] is None
    assert d2["sensitivity_per_100au"] == pytest.approx(3 / 120 * 100)
    assert r["rising_week_to_week"].null_count() == 3  # no previous week


def test_zone_edges_follow_config():
    r = pain.session_responses(sessions_frame(TOY_SETS), diary_frame(TOY),
                               config=Config(pain_safe_max=3.0, pain_acceptable_max=4.0))
    assert r["zone"].to_list() == ["too much", "safe", "too much"]
    assert norms.PAIN_SAFE_MAX == 2.0 and norms.PAIN_ACCEPTABLE_MAX == 5.0


def test_not_settled_uses_pre_when_no_morning_and_margin():
    rows = [dict(date=day(0), moment="pre", pain=3), dict(date=day(1), moment="morning", pain=4)]
    sets = [dict(date=day(0), exercise="back_extension", set=1, pain=4)]
    r = pain.session_responses(sessions_frame(sets), diary_frame(rows))
    assert r["not_settled_next_morning"][0] is True  # 4 > pre 3
    r = pain.session_responses(sessions_frame(sets), diary_frame(rows), settle_margin=1.0)
    assert r["not_settled_next_morning"][0] is False  # 4 > 3 + 1 is false


def test_rising_week_to_week():
    rows = [dict(date=day(i), moment="morning", pain=3, stiffness=3) for i in range(7)]
    rows += [dict(date=day(7 + i), moment="morning", pain=3, stiffness=4) for i in range(7)]
    rows += [dict(date=day(14 + i), moment="morning", pain=2, stiffness=2) for i in range(7)]
    sets = [dict(date=day(k), exercise="back_extension", set=1, pain=2) for k in (1, 8, 15)]
    r = pain.session_responses(sessions_frame(sets), diary_frame(rows))
    # week 1: no previous week; week 2: stiffness 4 > 3; week 3: both fell
    assert r["rising_week_to_week"].to_list() == [None, True, False]
    counts = pain.weekly_zone_counts(r)
    assert counts["rising_week_to_week"].to_list() == [None, True, False]


def test_weekly_zone_counts_by_hand():
    r = pain.session_responses(sessions_frame(TOY_SETS), diary_frame(TOY))
    c = pain.weekly_zone_counts(r).row(0, named=True)
    assert (c["sessions"], c["safe"], c["acceptable"], c["too_much"], c["zone_unknown"],
            c["not_settled"]) == (3, 1, 1, 1, 0, 1)


def test_missing_pre_and_no_diary():
    r = pain.session_responses(sessions_frame(TOY_SETS), diary_frame([]))
    assert r.height == 3
    assert r["response"].null_count() == 3 and r["zone"].to_list()[0] == "acceptable"
    assert all("no pre or morning entry" in n for n in r["note"])
    empty = pain.session_responses(sessions_frame([]), diary_frame(TOY))
    assert empty.height == 0 and empty.columns == list(pain.RESPONSES_SCHEMA)
    assert pain.weekly_zone_counts(empty).height == 0
    pain.zones_chart(empty).to_dict()


# --- sensitivity --------------------------------------------------------------------------------


def test_sensitivity_trend_recovers_known_slope():
    rng = np.random.default_rng(4)
    sets, rows = [], []
    slope = -0.002  # NRS points per AU per week
    for k in range(40):
        d = day(int(k * 3.5))
        load = float(rng.integers(100, 250))
        wk = (d - MON).days / 7
        resp = (0.02 + slope * wk) * load + rng.normal(0, 0.3)
        sets.append(dict(date=d, exercise="back_extension", set=1, pain=2 + resp,
                         session_rpe=load / 25, duration_min=25))
        rows.append(dict(date=d, moment="pre", pain=2))
    r = pain.session_responses(sessions_frame(sets), diary_frame(rows))
    res = pain.sensitivity_trend(r)
    assert res.ok
    s = res.slope()
    assert s["ci_low"] < slope * 100 < s["ci_high"]  # index is per 100 AU
    assert res.direction() == "falling"


def test_sensitivity_trend_too_few_sessions():
    r = pain.session_responses(sessions_frame(TOY_SETS), diary_frame(TOY))
    res = pain.sensitivity_trend(r)
    assert res.status == "too_few_observations"
    assert "left out" in res.message  # day 1 has no load
    assert "Status" in res.summary()


# --- important change --------------------------------------------------------------------------


def _two_period_diary(base: float, now: float, days: int = 60) -> pl.DataFrame:
    y = np.where(np.arange(days) < 14, base, now).astype(float)
    return series_diary(y)


@pytest.mark.parametrize(
    ("base", "now", "verdict"),
    [
        (6.0, 4.0, "important improvement"),  # 2 points = MIC
        (6.0, 4.5, "no important change"),  # 1.5 points, 25%
        (5.0, 3.5, "important improvement"),  # 1.5 points but 30%
        (5.0, 3.6, "no important change"),  # 28%
        (3.0, 5.0, "important worsening"),  # +2 points
        (3.0, 4.0, "no important change"),  # +33% but only 1 point: 30% is for improvement
    ],
)
def test_important_change_thresholds(base, now, verdict):
    res = pain.important_change(_two_period_diary(base, now))
    row = res.table.row(0, named=True)
    assert row["baseline"] == pytest.approx(base) and row["current"] == pytest.approx(now)
    assert row["verdict"] == verdict
    assert row["mic_points"] == norms.MIC_NRS_POINTS and row["mic_relative"] == norms.MIC_RELATIVE


def test_important_change_windows_and_questionnaires():
    diary = _two_period_diary(6.0, 0.0, days=90)
    qs = []
    for d, yes in [(day(3), 12), (day(85), 2)]:
        qs += [("me", d, "rmdq", i, "yes" if i <= yes else "no") for i in range(1, 25)]
    for d, a in [(day(3), "3"), (day(85), "1")]:
        qs += [("me", d, "odi", i, a) for i in range(1, 11)]
    qf = pl.DataFrame(qs, schema=["participant", "date", "instrument", "item", "answer"],
                      orient="row")
    res = pain.important_change(diary, questionnaires=qf, window="last 4 weeks")
    rows = {r["measure"]: r for r in res.table.iter_rows(named=True)}
    assert rows["pain_nrs"]["verdict"] == "important improvement"
    assert rows["pain_nrs"]["recovered"] is True  # NRS 0 and RMDQ 2 (Kamper 2010)
    assert rows["rmdq"]["baseline"] == 12 and rows["rmdq"]["current"] == 2
    assert rows["rmdq"]["verdict"] == "important improvement"
    assert rows["odi"]["baseline"] == 60 and rows["odi"]["current"] == 20  # 30/50, 10/50
    assert "band now: minimal" in rows["odi"]["note"]
    month = pain.important_change(diary, window="2024-03")
    assert month.table["current"][0] == 0.0
    tup = pain.important_change(diary, window=(day(20), day(30)))
    assert tup.table["current"][0] == 0.0
    assert "Important change" in res.summary() and res.tidy.columns == list(pain.TIDY_SCHEMA)
    no_rmdq = pain.important_change(diary).table.row(0, named=True)
    assert no_rmdq["recovered"] is None and "Roland-Morris" in no_rmdq["note"]
    # a project's scored table (Dataset.questionnaires, what notebook 03 passes) reads alike
    scored = pl.DataFrame({"participant": "me", "date": [day(3), day(85), day(3), day(85)],
                           "instrument": ["rmdq", "rmdq", "odi", "odi"],
                           "score": [12.0, 2.0, 60.0, 20.0], "items": None, "notes": None})
    same = pain.important_change(diary, questionnaires=scored, window="last 4 weeks")
    assert same.table.equals(res.table)


def test_important_change_bad_window():
    with pytest.raises(pain.PainModelError, match="last N days"):
        pain.important_change(_two_period_diary(5, 4), window="yesterday")


# --- flares ---------------------------------------------------------------------------------------


def test_flare_rate_by_hand():
    # January: 31 days, flares on days 3-4 and 10 (3 days, 2 episodes); February: 29 days, none
    rows = []
    for i in range(60):
        d = date(2024, 1, 1) + timedelta(days=i)
        flare = d.month == 1 and d.day in (3, 4, 10)
        rows.append(dict(date=d, pain=8.0 if d.day in (3, 20) else 2.0, flare=flare))
    res = pain.flare_rate(diary_frame(rows), family="poisson")
    assert res.ok
    jan, feb = res.table.rows(named=True)
    assert (jan["days_observed"], jan["flare_days"], jan["flare_episodes"]) == (31, 3, 2)
    assert jan["flare_rate_per_30d"] == pytest.approx(3 / 31 * 30)
    # exact Poisson 95% limits for 3 events: 0.619 and 8.767 (Garwood; standard tables)
    assert jan["ci_low"] == pytest.approx(0.6187 / 31 * 30, rel=1e-3)
    assert jan["ci_high"] == pytest.approx(8.7673 / 31 * 30, rel=1e-3)
    # February: 0 events → upper limit 3.689
    assert feb["flare_days"] == 0 and feb["ci_high"] == pytest.approx(3.6889 / 29 * 30, rel=1e-3)
    # high pain = daily pain ≥ personal P75; pain 8 on the 3rd and 20th of each month: 4 days
    assert res.high_pain_days == 4 and res.overlap_days == 1  # only Jan 3 is both
    overall = res.tidy.filter(pl.col("term") == "flare_rate_per_30d").row(0, named=True)
    assert overall["estimate"] == pytest.approx(3 / 60 * 30)
    assert "Garwood" in overall["method"]
    assert "not high-pain days" in res.summary()


def test_flare_rate_overdispersion_switches_to_negative_binomial():
    rows = []
    rng = np.random.default_rng(8)
    for i in range(180):
        d = date(2024, 1, 1) + timedelta(days=i)
        # flares clustered in two months only: strongly overdispersed monthly counts
        flare = d.month in (2, 5) and d.day <= 20
        rows.append(dict(date=d, pain=float(rng.integers(1, 8)), flare=flare))
    res = pain.flare_rate(diary_frame(rows))
    assert res.dispersion > 1.5 and res.family == "negbin"
    assert "negative binomial" in res.tidy["method"][0]
    assert pain.flare_rate(diary_frame(rows), family="poisson").family == "poisson"


def test_flare_statuses():
    res = pain.flare_rate(diary_frame([]))
    assert res.status == "no_data" and res.tidy.height == 0
    res.chart().to_dict()
    flat = pain.flare_rate(diary_frame([dict(date=day(i), pain=3.0) for i in range(10)]))
    assert flat.high_pain_days == 0 and "never varies" in flat.message
    assert "flare column" in flat.message


# --- edge cases: never an exception for thin data --------------------------------------------------


def test_empty_diary_everywhere():
    empty = diary_frame([])
    assert pain.daily_pain(empty).height == 0
    assert pain.weekly_pain(empty).columns == list(pain.WEEKLY_SCHEMA)
    t = pain.pain_trend(empty)
    assert t.status == "no_data" and "Status: no_data" in t.summary()
    t.chart().to_dict()
    assert t.predict().height == 0
    its = pain.interrupted_time_series(empty, change_dates=[day(3)])
    assert its.status == "no_data"
    ic = pain.important_change(empty)
    assert ic.table.height == 0 and "nothing to compare" in ic.summary()


def test_one_week_and_identical_pain():
    week = series_diary(np.array([3, 4, 5, 4, 3, 4, 5.0]))
    t = pain.pain_trend(week)
    assert t.status == "too_few_observations" and "at least 14" in t.message
    flat = pain.pain_trend(series_diary(np.full(30, 2.0)))
    assert flat.status == "no_variation" and "equal 2" in flat.message
    assert pain.weekly_pain(week).height == 1


def test_bad_arguments_raise_value_errors():
    d = diary_frame(TOY)
    with pytest.raises(ValueError, match="method='ols'"):
        pain.pain_trend(d, method="ols")
    with pytest.raises(ValueError, match="moment='noon'"):
        pain.daily_pain(d, moment="noon")
    with pytest.raises(ValueError, match="by='year'"):
        pain.flare_rate(d, by="year")
    with pytest.raises(ValueError, match="lacks the required"):
        pain.daily_pain(pl.DataFrame({"date": [day(0)]}))
    two = pl.concat([series_diary(np.ones(20)), series_diary(np.ones(20), pid="other")])
    with pytest.raises(ValueError, match="choose one with participant"):
        pain.pain_trend(two)
    assert pain.pain_trend(two, participant="nobody").status == "no_data"


def test_minimum_counts_below_the_model_size_raise():
    # 3 days for intercept + slope + rho leave no residual degree of freedom (used to divide by 0)
    three = series_diary(np.array([3.0, 4.0, 2.0]))
    with pytest.raises(pain.PainModelError, match="min_days=2"):
        pain.pain_trend(three, min_days=2)
    with pytest.raises(pain.PainModelError, match="min_days_per_segment=2"):
        pain.interrupted_time_series(three, change_dates=[day(2)], min_days_per_segment=2)
    with pytest.raises(pain.PainModelError, match="min_sessions=3"):
        pain.sensitivity_trend(pain.session_responses(sessions_frame([]), three), min_sessions=3)
    four = series_diary(np.array([3.0, 4.0, 2.0, 1.0]))
    fit = pain.pain_trend(four, min_days=4)
    assert fit.status == "ok" and fit.fit.df_resid == 1


def test_charts_render_to_static_svg():
    vlc = pytest.importorskip("vl_convert")
    rng = np.random.default_rng(0)
    y = 5 + ar1_series(60, 0.5, 1.0, rng)
    df = series_diary(y).with_columns(flare=pl.Series([i % 13 == 0 for i in range(60)]))
    charts = [
        pain.pain_trend(df).chart(),
        pain.interrupted_time_series(df, change_dates=[day(30)]).chart(),
        pain.flare_rate(df).chart(),
        pain.zones_chart(pain.session_responses(sessions_frame(TOY_SETS), diary_frame(TOY))),
    ]
    for c in charts:
        spec = c.to_dict()
        assert "url" not in json.dumps(spec.get("data", {}))
        assert vlc.vegalite_to_svg(c.to_json()).startswith("<svg")


# --- the demo generator's truth --------------------------------------------------------------------


def _check_demo_truth(diary, sessions, phases, truth, pid):
    p = truth["participants"][pid]
    its = pain.interrupted_time_series(diary, phases=phases, participant=pid)
    assert its.ok, its.message
    rows = {r["term"]: r for r in its.tidy.iter_rows(named=True)}
    assert rows["level_change_1"]["change_date"] == date.fromisoformat(p["pain"]["switch_date"])
    for term, key in [("level_change_1", "level_change_at_switch"),
                      ("slope_change_1", "slope_change_per_week"),
                      ("slope_per_week", "slope_before_per_week")]:
        truth_value = p["pain"][key]
        assert rows[term]["ci_low"] < truth_value < rows[term]["ci_high"], (term, truth_value)
    r = pain.session_responses(sessions, diary)
    sens = pain.sensitivity_trend(r, participant=pid)
    s = sens.slope()
    true_slope = p["sensitivity"]["slope_per_week"] * pain.PER_LOAD
    assert s["ci_low"] < true_slope < s["ci_high"]
    fl = pain.flare_rate(diary, participant=pid)
    ep = fl.tidy.filter(pl.col("term") == "episode_rate_per_30d").row(0, named=True)
    true_rate = p["flare_rate_per_month"] / 30.44 * 30
    assert ep["ci_low"] < true_rate < ep["ci_high"]


def test_demo_simulation_truth_in_memory():
    demo = pytest.importorskip("rehab.demo")
    d = demo.simulate()
    _check_demo_truth(d.diary, d.sessions, d.phases, d.truth, "demo")


@pytest.mark.slow
def test_demo_truth_coverage_over_seeds():
    """Across 40 demo seeds the 95% intervals cover the generator's truth about 95% of the time
    (measured: 0.95 for the ITS terms and the sensitivity slope); ≥ 0.85 is required, which 40
    draws at a true 0.95 miss with probability about 1%."""
    demo = pytest.importorskip("rehab.demo")
    hits = dict.fromkeys(("level_change_1", "slope_change_1", "slope_per_week", "sensitivity"), 0)
    n = 40
    for seed in range(n):
        d = demo.simulate(seed=seed, notes=False)
        p = d.truth["participants"]["demo"]
        rows = {r["term"]: r for r in
                pain.interrupted_time_series(d.diary, phases=d.phases).tidy.iter_rows(named=True)}
        for term, key in [("level_change_1", "level_change_at_switch"),
                          ("slope_change_1", "slope_change_per_week"),
                          ("slope_per_week", "slope_before_per_week")]:
            hits[term] += rows[term]["ci_low"] < p["pain"][key] < rows[term]["ci_high"]
        s = pain.sensitivity_trend(pain.session_responses(d.sessions, d.diary)).slope()
        truth = p["sensitivity"]["slope_per_week"] * pain.PER_LOAD
        hits["sensitivity"] += s["ci_low"] < truth < s["ci_high"]
    assert all(v / n >= 0.85 for v in hits.values()), hits


@pytest.mark.skipif(not (ROOT / "data" / "sample" / "truth.json").is_file(),
                    reason="data/sample/truth.json not written yet")
def test_sample_data_truth():
    from rehab import io

    ds = io.load_project(ROOT)
    truth = json.loads((ROOT / "data" / "sample" / "truth.json").read_text(encoding="utf-8"))
    for pid in truth["participants"]:
        _check_demo_truth(ds.diary, ds.sessions, ds.phases, truth, pid)


@pytest.mark.parametrize("n_days", [0, 1, 7])
def test_notebook_flow_on_thin_data_never_raises(n_days):
    """The calls notebook 03 and the report make, on an empty, a one-day and a one-week diary
    with no sessions: every result carries a status or an empty table, never an exception."""
    diary = series_diary(np.array([3.0, 4, 4, 5, 3, 4, 4])[:n_days]) if n_days else diary_frame([])
    sessions = sessions_frame([])
    phases = pl.DataFrame({"participant": ["me", "me"], "start": [day(0), day(3)],
                           "end": [day(2), None], "protocol": ["a", "b"], "phase": [None, None]})
    pid = "me" if n_days else None
    results = [
        pain.pain_trend(diary, participant=pid),
        pain.interrupted_time_series(diary, phases=phases, participant=pid),
        pain.sensitivity_trend(pain.session_responses(sessions, diary), participant=pid),
        pain.flare_rate(diary, participant=pid),
    ]
    for r in results:
        assert isinstance(r.summary(), str)
        r.chart().to_dict()
    assert results[0].status in ("no_data", "too_few_observations")
    assert results[2].status == "no_data"
    pain.weekly_zone_counts(pain.session_responses(sessions, diary))
    pain.zones_chart(pain.session_responses(sessions, diary)).to_dict()
    assert isinstance(pain.important_change(diary, window="last 28 days").summary(), str)
