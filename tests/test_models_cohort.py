"""Mixed-effects growth: a simulated cohort with a known slope difference, warnings kept in the
result, and the demo cohort's direction of effect."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import polars as pl
import pytest
import vl_convert as vlc

from rehab.models import attach_protocol, fit_growth

D0 = dt.date(2025, 1, 6)


def cohort(seed=5, n=60, slope_diff=2.0, slope_sd=0.5, noise=11.6, weeks=range(0, 21, 2)):
    """Linear growth: traditional-core 1 s/week, shit 1 + slope_diff s/week, person effects."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        prot = "shit" if i % 2 else "traditional-core"
        slope = 1.0 + (slope_diff if prot == "shit" else 0.0) + rng.normal(0, slope_sd)
        base = 80 + rng.normal(0, 15)
        for w in weeks:
            rows.append({"participant": f"p{i:03d}", "date": D0 + dt.timedelta(weeks=w),
                         "protocol": prot, "test": "sorensen_hold",
                         "value": base + slope * w + rng.normal(0, noise)})
    return pl.DataFrame(rows)


def test_recovers_known_slope_difference():
    r = fit_growth(cohort())
    assert r.status == "ok" and r.reference == "traditional-core"
    assert r.random_effects == "intercept and slope"
    row = r.slope_difference.row(0, named=True)
    assert row["protocol"] == "shit"
    assert row["ci_low"] <= 2.0 <= row["ci_high"]
    assert row["estimate"] == pytest.approx(2.0, abs=0.5)
    tidy = {t["term"]: t for t in r.tidy.iter_rows(named=True)}
    assert tidy["time"]["ci_low"] <= 1.0 <= tidy["time"]["ci_high"]
    assert tidy["residual sd"]["estimate"] == pytest.approx(11.6, rel=0.15)
    assert tidy["sd(participant slope)"]["estimate"] == pytest.approx(0.5, rel=0.5)
    assert list(r.tidy.columns) == ["term", "estimate", "std_error", "ci_low", "ci_high", "p_value"]
    assert "independent, constant-variance residuals" in r.summary()


def test_interval_covers_truth_across_seeds():
    """12 simulated cohorts of 24 people (fixed seeds): the 95% interval covers the true slope
    difference at least 10 times (measured: 11 of 12)."""
    hits = 0
    for seed in range(12):
        row = fit_growth(cohort(seed=seed, n=24)).slope_difference.row(0, named=True)
        hits += row["ci_low"] <= 2.0 <= row["ci_high"]
    assert hits >= 10, f"the interval covered the truth in {hits} of 12 cohorts"


def test_convergence_warnings_are_recorded_not_raised():
    # no slope variation between people: the random-slope variance sits on its boundary
    df = cohort(slope_sd=0.0, n=12, noise=5.0, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = fit_growth(df)
    assert r.status in ("ok", "random_intercept_only")
    assert isinstance(r.warnings, tuple)
    assert r.slope_difference.height == 1
    assert "warning:" in r.summary() or not r.warnings


def test_too_little_data_is_a_status():
    one = cohort(n=6).filter(pl.col("protocol") == "shit")
    assert fit_growth(one).status == "too_little_data"
    tiny = cohort(n=2)
    r = fit_growth(tiny)
    assert r.status == "too_little_data" and r.slope_difference.height == 0
    assert r.chart().to_dict()
    with pytest.raises(ValueError, match="reference"):
        fit_growth(cohort(), reference="pilates")
    with pytest.raises(ValueError, match="protocol"):
        fit_growth(cohort().drop("protocol"))


def test_three_protocols_and_numeric_time():
    df = cohort(n=45)
    third = df.filter(pl.col("participant").str.slice(1).cast(pl.Int64) % 3 == 0).with_columns(
        pl.lit("shit-3x").alias("protocol"))
    df = pl.concat([df.filter(pl.col("participant").str.slice(1).cast(pl.Int64) % 3 != 0), third])
    df = df.with_columns(((pl.col("date") - D0).dt.total_days() / 7.0).alias("wk"))
    r = fit_growth(df, time="wk")
    assert set(r.slope_difference["protocol"]) == {"shit", "shit-3x"}
    assert vlc.vegalite_to_svg(r.chart().to_json()).startswith("<svg")


def test_attach_protocol_by_phase_dates():
    tests = pl.DataFrame({"participant": ["a", "a", "a", "b"],
                          "date": [D0, D0 + dt.timedelta(days=10), D0 + dt.timedelta(days=40),
                                   D0],
                          "value": [1.0, 2.0, 3.0, 4.0]})
    phases = pl.DataFrame({"participant": ["a", "a", "b"],
                           "start": [D0, D0 + dt.timedelta(days=14), D0],
                           "end": [D0 + dt.timedelta(days=13), None, None],
                           "protocol": ["traditional-core", "shit", "shit"],
                           "phase": ["A", "B", "B"]})
    out = attach_protocol(tests, phases)
    assert out["protocol"].to_list() == ["traditional-core", "traditional-core", "shit", "shit"]
    assert out["phase"].to_list() == ["A", "A", "B", "B"]
    assert out["value"].to_list() == [1.0, 2.0, 3.0, 4.0]


def test_demo_cohort_direction_of_effect():
    """Demo truth: the S.H.I.T. protocol gains more Sorensen seconds than traditional core work,
    so its average slope over phase B is larger."""
    from rehab import demo

    d = demo.simulate(participants=20, seed=7, variants=("shit", "traditional-core"), notes=False)
    truth = d.truth["cohort"]["true_differences"]["shit - traditional-core"]["sample"]
    assert truth["sorensen_gain_s"] > 0
    tests = attach_protocol(d.tests.filter(pl.col("test") == "sorensen_hold"), d.phases)
    r = fit_growth(tests.filter(pl.col("phase") == "B"))
    assert r.status in ("ok", "random_intercept_only")
    assert r.slope_difference.row(0, named=True)["ci_low"] > 0
