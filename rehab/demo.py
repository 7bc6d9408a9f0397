"""Synthetic demo data with a known truth: one person over 9 months, or a cohort.

The generator writes the kit's canonical files (``sessions.csv``, ``diary.csv``, ``tests.csv``,
``phases.csv``; columns exactly as :mod:`rehab.schema`) and ``truth.json``, which holds every true
parameter used, so models can be checked against it. The data are made up; the shape of the
numbers follows ``docs/SCIENCE.md`` (Sorensen noise from Latimer 1999, saturating training
response as in Verna et al., load as session RPE × minutes after Foster 2001, flares logged on their
own as in Costa 2019).

Default (``participants=1``, id ``demo``): 6 weeks of traditional core work (protocol
``traditional-core``, phase ``A``: plank, side_plank, dead_bug, bird_dog), then the S.H.I.T.
protocol (``shit``, phase ``B``: back_extension_hold / back_extension on a 45° bench with a pad,
trap3_raise, split_squat_hold left/right, hip_hike, outer_hip_drop_set). Two planned sessions a
week (Monday, Thursday), each missed with probability 10% (40% on a flare day; 11% missed in the
committed sample), no sessions or tests during a two-week holiday. Start 2026-02-02, end
2026-11-01 (9 months), in the past on 2026-11-25. Its parameters are chosen by hand, not drawn.

Cohort (``participants=N`` with N ≥ 2, ids ``p001``…): every person has the same 6-week
traditional-core lead-in (phase ``A``), then follows the protocol of their variant (phase ``B``):
``shit`` (2×/week), ``traditional-core`` (2×/week, the comparison) or ``shit-3x`` (3×/week,
Monday/Wednesday/Friday). The protocol column holds the variant id. Assignment is balanced (group
sizes differ by at most one) in a random order. Person parameters are drawn around variant means
(``VARIANT_MEANS``, ``COHORT_MEANS``, ``BETWEEN_PERSON_SD``), bounded to stay realistic: Sorensen
plateau ≤ 200 s (so the 240 s ceiling hardly clips the noise), true pain mean ≥ 0.5 at the end,
sensitivity > 0 to the end. Each person has a two-week holiday at a random week after the lead-in.

Simulation (all times in weeks; ``w`` = days since the start ÷ 7):

- **Tests** every 14 days from ``t0`` (the Saturday of week 1), skipping the holiday: Sorensen hold
  (bench angle 0), back-extension hold at 45°, side bridges left and right, flexor hold. For each test
  a true curve: before ``gain_start``, ``y = baseline + drift_per_week_before_gain · (weeks since
  t0)``; from ``gain_start`` on, ``y = plateau + (y_gs − plateau) · exp(−(weeks since gain_start) /
  tau_weeks)`` with ``y_gs`` the value at ``gain_start`` (``value_at_gain_start``). Extensor gains
  start at the switch to phase B; side bridges and flexor hold gain from ``t0`` (the lead-in trains
  them). A test value is the curve plus Gaussian noise (``noise_sd``: Latimer's SEM for current
  LBP, 11.6 s, for the Sorensen and 45° holds; 6 s, made up, for the side bridges and flexor hold),
  clipped to ``clip`` ([0, 240] for the Sorensen hold, [0, ∞) otherwise) and rounded to whole
  seconds. :func:`true_test_value` evaluates a curve.
- **Pain** (diary): a daily latent level ``mean(w) + e(d) + flare(d)`` with an interrupted
  time-series mean ``mean(w) = level_before + slope_before_per_week · w + [d ≥ switch_date] ·
  (level_change_at_switch + slope_change_per_week · (weeks since switch_date))`` and AR(1) errors
  ``e(d) = ar1_phi · e(d−1) + N(0, sd)`` (``sd`` is the innovation SD; ``marginal_sd`` =
  sd / √(1 − phi²)). Each entry adds its moment offset, the session effects below and independent
  entry noise (``entry_noise_sd``), then is rounded to a whole NRS point and clipped to [0, 10].
  Morning and evening entries every day (a few missing), ``pre`` and ``post`` entries on session days.
  :func:`true_pain_mean` evaluates ``mean``.
- **Flares** start as a Poisson process (``flare_rate_per_month``, a month being 30.44 days), last
  ``days`` days and add ``boost`` NRS points to the latent level on those days; ``flare`` is ``yes``
  on every entry of a flare day and ``no`` otherwise (logged, not inferred from pain). The episodes
  are listed in the truth; where two overlap, the larger boost applies.
- **Session response**: load = session_rpe × duration_min (arbitrary units). The expected response
  is ``r = sensitivity(w) · load`` with ``sensitivity(w) = response_per_load_start + slope_per_week ·
  w`` (desensitisation: the slope is negative). ``post`` = latent + r + entry noise, ``pre`` =
  latent + entry noise, so post − pre estimates r; set pain during the session rises to about
  latent + r by the last set; the evening entry carries ``evening_fraction · r`` and the next
  morning ``next_morning_fraction · r``.
- **Sessions**: session_rpe and duration_min are on every row of a session (every set row carries
  its session's values); set pain (whole points), set rpe (half points), pump (0–3) on
  back-extension sets only. Exercise doses progress with the weeks (holds at about half the true
  45° hold capacity, capped at the 2-minute goal; pad high → mid → low); they are plausible, not
  part of the truth. A few notes carry commas, double quotes and "°" to exercise CSV quoting.

``truth.json``::

    {"seed": int, "generator_version": str, "start": date, "end": date, "months": int,
     "lead_in_weeks": int, "participants": {
        "<id>": {
          "variant": str, "sex": "unknown",
          "protocol_phases": [{"protocol", "phase", "start", "end"}],   # end inclusive
          "endurance": {"<test id>": {"baseline", "plateau", "tau_weeks", "noise_sd", "t0",
                        "gain_start", "drift_per_week_before_gain", "value_at_gain_start",
                        "bench_angle_deg", "clip": [low, high or null], "rounding"}},
          "pain": {"ar1_phi", "sd", "marginal_sd", "level_before", "level_change_at_switch",
                   "slope_before_per_week", "slope_change_per_week", "switch_date", "time_origin",
                   "moment_offsets": {moment: offset}, "entry_noise_sd", "rounding"},
          "flare_rate_per_month": float,
          "flares": {"days": "2 + Poisson(1.5)", "boost_range": [lo, hi],
                     "episodes": [{"start", "days", "boost"}]},
          "sensitivity": {"response_per_load_start", "slope_per_week", "time_origin", "load",
                          "evening_fraction", "next_morning_fraction", "set_pain_sd"},
          "sessions": {"weekdays", "weekdays_lead_in", "miss_prob", "miss_prob_in_flare",
                       "holiday": {"start", "end"} | null, "planned", "done", "missed"},
          "tests": {"every_days": 14, "count"}}},
     "cohort": null | {"variants": {"<variant>": {"protocol", "sessions_per_week", "n",
                                                 "population_means": {...}, "sample_means": {...}}},
                       "between_person_sd": {...}, "cohort_means": {...},
                       "true_differences": {"<a> - <b>": {"population": {...}, "sample": {...}}},
                       "assignment": str}}

The cohort means cover ``sorensen_gain_s`` (plateau − baseline), ``tau_weeks``,
``side_bridge_gain_s``, ``flexor_gain_s``, ``pain_level_change``, ``pain_slope_change_per_week``
and ``sensitivity_slope_per_week``; ``sample_means`` are the means of the parameters actually drawn
(after the bounds that keep values realistic), which is what a cohort model should recover.
``true_differences`` compares each variant with ``traditional-core``, and ``shit-3x`` with ``shit``.

Entry points: :func:`simulate` (in memory), :func:`generate` (write files into a folder),
:func:`write_sample` (what ``rehab demo`` runs: inside the project, never into ``data/raw``).
Files are written atomically; everything is deterministic given ``seed``.
"""

from __future__ import annotations

import calendar
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from rehab import norms
from rehab.exercises import EXERCISES
from rehab.paths import PathError, ProjectPaths, atomic_write_text, inside
from rehab.schema import DIARY, PHASES, SESSIONS, TESTS, TableSpec

GENERATOR_VERSION = "1.0"
DEFAULT_SEED = 2031  # picked among seeds 2020-2039: a typical demo person (11% missed, 8 flares)
DEFAULT_START = date(2026, 2, 2)
DEFAULT_MONTHS = 9
LEAD_IN_WEEKS = 6
MAX_PARTICIPANTS = 999
DAYS_PER_MONTH = 30.44
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
FILES = ("sessions.csv", "diary.csv", "tests.csv", "phases.csv", "truth.json")

TRADITIONAL = "traditional-core"
SHIT = "shit"
SHIT_3X = "shit-3x"
PHASE_LEAD_IN = "A"
PHASE_MAIN = "B"

# Measurement noise of the extensor holds: Latimer 1999 SEM for people with current LBP. The side
# bridge and flexor holds get a smaller SD (made up: McGill 1999 found these tests very repeatable).
HOLD_NOISE_SD = norms.SORENSEN_SEM_S["current_lbp"]
OTHER_HOLD_NOISE_SD = 6.0
BACK_EXT_45_RATIO = 1.3  # a 45° hold carries ~71% of the torque: held ~1.3× as long (made up)

# Population means of each variant (cohort); differences between them are the true effects.
VARIANT_MEANS: dict[str, dict[str, float]] = {
    SHIT: {
        "sessions_per_week": 2, "sorensen_gain_s": 70.0, "tau_weeks": 6.0,
        "side_bridge_gain_s": 8.0, "flexor_gain_s": 10.0, "pain_level_change": -0.5,
        "pain_slope_change_per_week": -0.05, "sensitivity_slope_per_week": -0.00015,
    },
    TRADITIONAL: {
        "sessions_per_week": 2, "sorensen_gain_s": 10.0, "tau_weeks": 8.0,
        "side_bridge_gain_s": 20.0, "flexor_gain_s": 30.0, "pain_level_change": 0.0,
        "pain_slope_change_per_week": -0.01, "sensitivity_slope_per_week": -0.00005,
    },
    SHIT_3X: {
        "sessions_per_week": 3, "sorensen_gain_s": 85.0, "tau_weeks": 4.5,
        "side_bridge_gain_s": 8.0, "flexor_gain_s": 10.0, "pain_level_change": -0.6,
        "pain_slope_change_per_week": -0.06, "sensitivity_slope_per_week": -0.00017,
    },
}
VARIANT_WEEKDAYS = {SHIT: (0, 3), TRADITIONAL: (0, 3), SHIT_3X: (0, 2, 4)}
BETWEEN_PERSON_SD = {
    "sorensen_baseline_s": 20.0, "sorensen_gain_s": 15.0, "log_tau_weeks": 0.25,
    "side_bridge_baseline_s": 10.0, "side_bridge_gain_s": 6.0, "flexor_baseline_s": 15.0,
    "flexor_gain_s": 8.0, "pain_level_before": 1.0, "pain_slope_before_per_week": 0.01,
    "pain_level_change": 0.3, "pain_slope_change_per_week": 0.02,
    "sensitivity_start": 0.0015, "sensitivity_slope_per_week": 0.00003,
}
COHORT_MEANS = {
    "sorensen_baseline_s": 80.0, "side_bridge_baseline_s": 45.0, "flexor_baseline_s": 60.0,
    "pain_level_before": 6.0, "pain_slope_before_per_week": -0.02, "sensitivity_start": 0.010,
}

SESSION_NOTES = (
    'pad one notch lower, felt the "pump" in the low back',
    "short on time, skipped the last stretch, otherwise fine",
    'physio said: "holds first, reps later"',
    "45° bench at the gym, pad on the highest hole",
    "slight twinge on set 2, settled quickly",
    'gym busy, waited for the bench; "meh" session',
)
DIARY_NOTES = (
    'long drive, 3 h, back "tight" after',
    "busy day, sat a lot, no time to stretch",
    'gardening, bending a lot; felt it, but "ok"',
    "walked 8 km, no issues",
    'desk day, stood up every hour, "not bad"',
)
FLARE_NOTES = (
    'flare: picked up a box, back "locked" for a minute',
    "flare after a sneeze, sharp, then a dull ache",
)
HOLIDAY_NOTE = "on holiday, no gym, walking a lot"
FIRST_SESSION_NOTES = {
    TRADITIONAL: 'first session, physio\'s plan: "core work, 2 times a week"',
    SHIT: 'first S.H.I.T. session: 45° bench, pad "high", holds not reps',
}
TEST_NOTES = (
    "partner held the ankles, timer on the phone",
    'Saturday test, slept well, "fresh"',
)
LOCATIONS = ("lower back", "lower back", "lower back", "lower back, left side", "left SI joint")


class DemoError(ValueError):
    """A demo-generator option that is not allowed."""


# --- public results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoData:
    """Simulated tables in canonical columns and types, and the truth that made them."""

    sessions: pl.DataFrame
    diary: pl.DataFrame
    tests: pl.DataFrame
    phases: pl.DataFrame
    truth: dict

    @property
    def participants(self) -> list[str]:
        return list(self.truth["participants"])


@dataclass(frozen=True)
class DemoWritten:
    """What :func:`write_sample` wrote."""

    out_dir: Path
    paths: tuple[Path, ...]
    rows: dict[str, int]
    participants: int
    seed: int
    start: date
    end: date

    def summary(self) -> str:
        who = "1 participant (demo)" if self.participants == 1 else f"{self.participants} participants"
        rows = ", ".join(f"{k} {v}" for k, v in self.rows.items())
        return (
            f"Synthetic demo data (seed {self.seed}): {who}, {self.start} to {self.end}; "
            f"rows: {rows}. Written to {self.out_dir} with truth.json (the true parameters)."
        )


# --- truth curves ----------------------------------------------------------------------------------


def _as_date(d: date | str) -> date:
    return d if isinstance(d, date) else date.fromisoformat(d)


def _weeks(days: date | str | Sequence, origin: date | str) -> np.ndarray:
    o = _as_date(origin)
    if isinstance(days, date | str):
        days = [days]
    return np.array([(_as_date(d) - o).days / 7.0 for d in days])


def true_test_value(curve: Mapping, days: date | str | Sequence) -> np.ndarray:
    """True (noise-free, unclipped) test value of one ``truth.json`` endurance curve on ``days``.

    Before ``gain_start``: baseline + drift · weeks since t0; from it on, the asymptotic regression
    plateau + (y_gs − plateau) · exp(−t / tau) (R's SSasymp) with t in weeks since ``gain_start``."""
    w0 = _weeks(days, curve["t0"])
    wg = _weeks(days, curve["gain_start"])
    gs_w = (_as_date(curve["gain_start"]) - _as_date(curve["t0"])).days / 7.0
    drift = curve["drift_per_week_before_gain"]
    before = curve["baseline"] + drift * np.clip(w0, 0.0, None)
    y_gs = curve["baseline"] + drift * max(gs_w, 0.0)
    after = curve["plateau"] + (y_gs - curve["plateau"]) * np.exp(-np.clip(wg, 0.0, None)
                                                                  / curve["tau_weeks"])
    return np.where(wg < 0, before, after)


def true_pain_mean(pain: Mapping, days: date | str | Sequence) -> np.ndarray:
    """The interrupted time-series mean of the latent daily pain level (no AR(1) error, flares or
    session effects): level_before + slope_before·w + [after switch]·(level change + slope change·w')."""
    w = _weeks(days, pain["time_origin"])
    ws = _weeks(days, pain["switch_date"])
    post = ws >= 0
    return (
        pain["level_before"] + pain["slope_before_per_week"] * w
        + post * (pain["level_change_at_switch"] + pain["slope_change_per_week"] * np.where(post, ws, 0))
    )


def true_sensitivity(sensitivity: Mapping, days: date | str | Sequence) -> np.ndarray:
    """Expected session pain response per unit load (NRS points per AU) on ``days``."""
    w = _weeks(days, sensitivity["time_origin"])
    return sensitivity["response_per_load_start"] + sensitivity["slope_per_week"] * w


# --- argument checks -------------------------------------------------------------------------------


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _check(participants: int, seed: int, start: date, months: int, variants: Sequence[str]) -> None:
    if isinstance(participants, bool) or not isinstance(participants, int) or not (
        1 <= participants <= MAX_PARTICIPANTS
    ):
        raise DemoError(f"participants={participants!r} is not allowed: use a whole number from 1 "
                        f"to {MAX_PARTICIPANTS} (1 = the single demo person)")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DemoError(f"seed={seed!r} is not allowed: use a whole number ≥ 0")
    if not isinstance(start, date) or hasattr(start, "hour"):
        raise DemoError(f"start={start!r} is not allowed: use a datetime.date")
    if isinstance(months, bool) or not isinstance(months, int) or not 3 <= months <= 60:
        raise DemoError(f"months={months!r} is not allowed: use a whole number from 3 to 60")
    unknown = [v for v in variants if v not in VARIANT_MEANS]
    if unknown or not variants or len(set(variants)) != len(variants):
        raise DemoError(f"variants={list(variants)!r} is not allowed: use distinct ids among "
                        f"{', '.join(VARIANT_MEANS)}")


# --- one participant -------------------------------------------------------------------------------


@dataclass
class _Tables:
    """Rows of the tables being built (their keys are checked against the schema at the end)."""

    sessions: list[dict] = field(default_factory=list)
    diary: list[dict] = field(default_factory=list)
    tests: list[dict] = field(default_factory=list)
    phases: list[dict] = field(default_factory=list)


def _add(table: list[dict], **values) -> None:
    table.append(values)


def _r(x: float, nd: int = 4) -> float:
    return float(round(float(x), nd))


def _curve(t0: date, gain_start: date, baseline: float, plateau: float, tau: float, drift: float,
           angle: float | None, clip_high: float | None, noise_sd: float = HOLD_NOISE_SD) -> dict:
    c = {
        "baseline": _r(baseline, 2), "plateau": _r(plateau, 2), "tau_weeks": _r(tau, 3),
        "noise_sd": noise_sd, "t0": t0.isoformat(), "gain_start": gain_start.isoformat(),
        "drift_per_week_before_gain": _r(drift, 3),
        "bench_angle_deg": angle, "clip": [0.0, clip_high], "rounding": "whole seconds",
    }
    c["value_at_gain_start"] = _r(float(true_test_value(c, gain_start)[0]), 3)
    return c


def _demo_params(switch: date, t0: date) -> dict:
    """The single demo person's hand-chosen parameters."""
    return {
        "variant": SHIT,
        "endurance": {
            "sorensen_hold": _curve(t0, switch, 72.0, 158.0, 7.0, 0.5, 0.0, norms.SORENSEN_MAX_S),
            "back_extension_hold": _curve(t0, switch, 95.0, 205.0, 7.0, 0.5, 45.0, None),
            "side_bridge_left": _curve(t0, t0, 42.0, 68.0, 5.0, 0.0, None, None, OTHER_HOLD_NOISE_SD),
            "side_bridge_right": _curve(t0, t0, 47.0, 72.0, 5.0, 0.0, None, None, OTHER_HOLD_NOISE_SD),
            "flexor_hold": _curve(t0, t0, 55.0, 95.0, 5.0, 0.0, None, None, OTHER_HOLD_NOISE_SD),
        },
        "pain": {"level_before": 5.5, "slope_before_per_week": -0.02,
                 "level_change_at_switch": -0.5, "slope_change_per_week": -0.07},
        "flare_rate_per_month": 0.8,
        "sensitivity": {"response_per_load_start": 0.008, "slope_per_week": -0.00015},
        "miss_prob": 0.10,
    }


def _drawn_params(rng: np.random.Generator, variant: str, start: date, end: date, switch: date,
                  t0: date) -> dict:
    """A cohort person's parameters, drawn around the variant means (bounded to stay realistic)."""
    m, sd, cm = VARIANT_MEANS[variant], BETWEEN_PERSON_SD, COHORT_MEANS
    base = float(np.clip(rng.normal(cm["sorensen_baseline_s"], sd["sorensen_baseline_s"]), 35, 150))
    # plateau ≤ 200 s keeps the 240 s ceiling 3.4 noise SDs away: residuals stay unclipped
    gain = float(np.clip(rng.normal(m["sorensen_gain_s"], sd["sorensen_gain_s"]), 0, 200 - base))
    tau = float(np.exp(rng.normal(math.log(m["tau_weeks"]), sd["log_tau_weeks"])))
    sbl = float(np.clip(rng.normal(cm["side_bridge_baseline_s"], sd["side_bridge_baseline_s"]), 15, 90))
    sbr = sbl + float(rng.normal(3.0, 4.0))
    sb_gain = max(0.0, float(rng.normal(m["side_bridge_gain_s"], sd["side_bridge_gain_s"])))
    flex = float(np.clip(rng.normal(cm["flexor_baseline_s"], sd["flexor_baseline_s"]), 20, 120))
    flex_gain = max(0.0, float(rng.normal(m["flexor_gain_s"], sd["flexor_gain_s"])))
    tau_other = float(np.exp(rng.normal(math.log(5.0), 0.2)))
    drift = 0.3
    total_w = (end - start).days / 7.0
    after_w = (end - switch).days / 7.0
    lb = _r(np.clip(rng.normal(cm["pain_level_before"], sd["pain_level_before"]), 3.5, 8.5), 3)
    sb = _r(rng.normal(cm["pain_slope_before_per_week"], sd["pain_slope_before_per_week"]), 4)
    lc = _r(rng.normal(m["pain_level_change"], sd["pain_level_change"]), 3)
    sc = float(rng.normal(m["pain_slope_change_per_week"], sd["pain_slope_change_per_week"]))
    # keep the true mean at the end ≥ 0.5 NRS points so the 0 floor hardly censors the diary
    sc = _r(max(sc, (0.5 - (lb + sb * total_w + lc)) / after_w), 4)
    s0 = _r(np.clip(rng.normal(cm["sensitivity_start"], sd["sensitivity_start"]), 0.004, 0.02), 5)
    ss = float(rng.normal(m["sensitivity_slope_per_week"], sd["sensitivity_slope_per_week"]))
    ss = _r(max(ss, (0.0005 - s0) / total_w), 6)  # stays positive to the end
    r45 = BACK_EXT_45_RATIO
    return {
        "variant": variant,
        "endurance": {
            "sorensen_hold": _curve(t0, switch, base, base + gain, tau, drift, 0.0,
                                    norms.SORENSEN_MAX_S),
            "back_extension_hold": _curve(t0, switch, r45 * base, r45 * (base + gain), tau,
                                          r45 * drift, 45.0, None),
            "side_bridge_left": _curve(t0, t0, sbl, sbl + sb_gain, tau_other, 0.0, None, None,
                                       OTHER_HOLD_NOISE_SD),
            "side_bridge_right": _curve(t0, t0, sbr, sbr + sb_gain, tau_other, 0.0, None, None,
                                        OTHER_HOLD_NOISE_SD),
            "flexor_hold": _curve(t0, t0, flex, flex + flex_gain, tau_other, 0.0, None, None,
                                  OTHER_HOLD_NOISE_SD),
        },
        "pain": {"level_before": lb, "slope_before_per_week": sb, "level_change_at_switch": lc,
                 "slope_change_per_week": sc},
        "flare_rate_per_month": _r(np.clip(rng.normal(0.8, 0.3), 0.2, 2.0), 3),
        "sensitivity": {"response_per_load_start": s0, "slope_per_week": ss},
        "miss_prob": _r(rng.uniform(0.08, 0.16), 3),
    }


_PAIN_NOISE = {"ar1_phi": 0.6, "sd": 0.8, "entry_noise_sd": 0.4,
               "moment_offsets": {"morning": 0.5, "pre": 0.0, "post": 0.0, "evening": 0.0}}
_SENS_FIXED = {"evening_fraction": 0.5, "next_morning_fraction": 0.3, "set_pain_sd": 0.6}
_MISS_IN_FLARE = 0.4
_FLARE_BOOST = (1.0, 2.5)


def _hhmm(minutes: float) -> str:
    m = int(round(minutes)) % (24 * 60)
    return f"{m // 60:02d}:{m % 60:02d}"


def _nrs(x: float) -> float:
    return float(min(10.0, max(0.0, round(x))))


def _clip(x: float, lo: float, hi: float) -> float:
    return float(min(hi, max(lo, x)))


def _simulate_one(pid: str, rng: np.random.Generator, p: dict, *, start: date, end: date,
                  switch: date, t0: date, holiday: tuple[date, date] | None, notes: bool,
                  t: _Tables) -> dict:
    """Simulate one person into ``t``; return their truth entry."""
    variant = p["variant"]
    n_days = (end - start).days + 1
    day_w = np.arange(n_days) / 7.0
    sw = (switch - start).days
    protocol_b = variant  # the protocol column holds the variant id

    # phases (end inclusive)
    phases = [
        {"protocol": TRADITIONAL, "phase": PHASE_LEAD_IN, "start": start,
         "end": switch - timedelta(days=1)},
        {"protocol": protocol_b, "phase": PHASE_MAIN, "start": switch, "end": end},
    ]
    for ph in phases:
        _add(t.phases, participant=pid, **ph)

    # latent pain: ITS mean + AR(1) + flares
    pain = dict(p["pain"], ar1_phi=_PAIN_NOISE["ar1_phi"], sd=_PAIN_NOISE["sd"])
    pain.update(
        marginal_sd=_r(pain["sd"] / math.sqrt(1 - pain["ar1_phi"] ** 2), 4),
        switch_date=switch.isoformat(), time_origin=start.isoformat(),
        moment_offsets=dict(_PAIN_NOISE["moment_offsets"]),
        entry_noise_sd=_PAIN_NOISE["entry_noise_sd"],
        rounding="whole NRS points, clipped to [0, 10]",
    )
    mean = true_pain_mean(pain, [start + timedelta(days=i) for i in range(n_days)])
    innov = rng.normal(0.0, pain["sd"], n_days)
    e = np.empty(n_days)
    e[0] = rng.normal(0.0, pain["marginal_sd"])
    phi = pain["ar1_phi"]
    for i in range(1, n_days):
        e[i] = phi * e[i - 1] + innov[i]

    rate = p["flare_rate_per_month"]
    starts = np.nonzero(rng.random(n_days) < rate / DAYS_PER_MONTH)[0]
    flare_boost = np.zeros(n_days)
    episodes = []
    for s in starts:
        days = 2 + int(rng.poisson(1.5))
        boost = _r(rng.uniform(*_FLARE_BOOST), 2)
        seg = slice(int(s), min(n_days, int(s) + days))
        flare_boost[seg] = np.maximum(flare_boost[seg], boost)
        episodes.append({"start": (start + timedelta(days=int(s))).isoformat(), "days": days,
                         "boost": boost})
    in_flare = flare_boost > 0
    latent = mean + e + flare_boost

    # sessions: planned weekdays, misses, holiday
    weekdays = VARIANT_WEEKDAYS[variant]
    hol = set()
    if holiday is not None:
        hol = {(holiday[0] - start).days + i for i in range((holiday[1] - holiday[0]).days + 1)}
    planned = [i for i in range(n_days)
               if (start + timedelta(days=i)).weekday() in (weekdays if i >= sw else (0, 3))
               and i not in hol]
    u = rng.random(len(planned))
    done = [d for d, x in zip(planned, u, strict=True)
            if x >= (_MISS_IN_FLARE if in_flare[d] else p["miss_prob"])]

    sens = dict(p["sensitivity"], time_origin=start.isoformat(),
                load="session_rpe × duration_min (AU)", **_SENS_FIXED)
    s_day = sens["response_per_load_start"] + sens["slope_per_week"] * day_w
    evening_add = np.zeros(n_days)
    morning_add = np.zeros(n_days)
    session_of_day: dict[int, tuple[int, float, float]] = {}  # day -> (time min, duration, r)
    endurance = p["endurance"]
    cap45 = true_test_value(endurance["back_extension_hold"],
                            [start + timedelta(days=i) for i in range(n_days)])
    main_count = 0
    for d in done:
        day = start + timedelta(days=d)
        main = d >= sw
        proto = protocol_b if main else TRADITIONAL
        kind = TRADITIONAL if (not main or variant == TRADITIONAL) else SHIT
        srpe = _clip(round(rng.normal(5.5 if kind == SHIT else 5.0, 1.2)), 2, 9)
        dur = _clip(round(rng.normal(35 if variant == SHIT_3X else 40, 6) if kind == SHIT
                          else rng.normal(30, 5)), 15, 70)
        load = srpe * dur
        r = float(s_day[d] * load)
        tmin = float(rng.integers(17 * 60, 19 * 60 + 31))
        session_of_day[d] = (tmin, dur, r)
        evening_add[d] += sens["evening_fraction"] * r
        if d + 1 < n_days:
            morning_add[d + 1] += sens["next_morning_fraction"] * r
        wk = (d - sw) / 7.0 if main else d / 7.0
        rows = (_shit_sets(rng, wk, main_count, float(cap45[d])) if kind == SHIT
                else _traditional_sets(rng, d / 7.0))
        first = d == done[0] or (main and kind == SHIT and main_count == 0)
        if main:
            main_count += 1
        n = len(rows)
        note = (SESSION_NOTES[int(rng.integers(len(SESSION_NOTES)))]
                if notes and rng.random() < 0.08 else None)
        if notes and first:
            note = FIRST_SESSION_NOTES[kind]  # always some quoting to exercise in the files
        for k, row in enumerate(rows):
            frac = 0.3 + 0.7 * (k + 1) / n  # pain builds over the session
            set_pain = _nrs(float(latent[d]) + frac * r + rng.normal(0, sens["set_pain_sd"]))
            _add(t.sessions, participant=pid, date=day, time=_hhmm(tmin), pain=set_pain,
                 session_rpe=srpe, duration_min=dur, protocol=proto,
                 phase=PHASE_MAIN if main else PHASE_LEAD_IN,
                 notes=note if k == 0 else None, **row)

    # diary (random numbers drawn per day up front: fast for a cohort)
    off = pain["moment_offsets"]
    ens = pain["entry_noise_sd"]
    flare_start_days = {int(s) for s in starts}
    hol_first = min(hol) if hol else -1
    # python floats: builtin round() on numpy scalars is slow
    u_miss = rng.random((n_days, 3)).tolist()  # morning, post, evening forgotten?
    z = rng.normal(0.0, 1.0, (n_days, 9)).tolist()
    u_other = rng.random((n_days, 5)).tolist()
    t_morning = rng.integers(390, 466, n_days).tolist()
    t_evening = rng.integers(1290, 1366, n_days).tolist()
    loc = rng.integers(len(LOCATIONS), size=(n_days, 2)).tolist()
    latent_l, morning_l, evening_l = latent.tolist(), morning_add.tolist(), evening_add.tolist()
    for d in range(n_days):
        day = start + timedelta(days=d)
        flare = bool(in_flare[d])
        base = latent_l[d]
        p_spasm = 0.35 if flare else 0.03
        zd, ud = z[d], u_other[d]
        if u_miss[d][0] >= 0.04:  # morning entry, ~4% forgotten
            mp = _nrs(base + off["morning"] + morning_l[d] + ens * zd[0])
            note = None
            if notes and d in flare_start_days:
                note = FLARE_NOTES[d % len(FLARE_NOTES)]
            elif notes and d in hol and (d - hol_first) % 7 == 0:
                note = HOLIDAY_NOTE
            _add(t.diary, participant=pid, date=day, time=_hhmm(t_morning[d]),
                 moment="morning", pain=mp, stiffness=_nrs(0.8 * mp + 1.0 + 0.8 * zd[1]),
                 spasm=bool(ud[0] < p_spasm), flare=flare,
                 sleep_h=_clip(round((7.0 + 0.8 * zd[2] - 0.8 * flare) * 4) / 4, 3, 10),
                 location=LOCATIONS[loc[d][0]], notes=note)
        if d in session_of_day:
            tmin, dur, r = session_of_day[d]
            _add(t.diary, participant=pid, date=day, time=_hhmm(tmin - 5), moment="pre",
                 pain=_nrs(base + off["pre"] + ens * zd[3]), flare=flare)
            if u_miss[d][1] >= 0.05:
                _add(t.diary, participant=pid, date=day, time=_hhmm(tmin + dur + 5), moment="post",
                     pain=_nrs(base + off["post"] + r + ens * zd[4]), flare=flare)
        if u_miss[d][2] >= 0.08:  # evening entry, ~8% forgotten
            ep = _nrs(base + off["evening"] + evening_l[d] + ens * zd[5])
            note = DIARY_NOTES[int(ud[2] * 1000) % len(DIARY_NOTES)] if notes and ud[1] < 0.04 else None
            _add(t.diary, participant=pid, date=day, time=_hhmm(t_evening[d]),
                 moment="evening", pain=ep, stiffness=_nrs(0.6 * ep + 0.8 * zd[6]),
                 tightness=_nrs(0.5 * ep + 1.0 + zd[7]), spasm=bool(ud[3] < p_spasm), flare=flare,
                 location=LOCATIONS[loc[d][1]], notes=note)

    # tests every 14 days from t0, skipping the holiday
    test_days = [d for d in range((t0 - start).days, n_days, 14) if d not in hol]
    for d in test_days:
        day = start + timedelta(days=d)
        note = TEST_NOTES[int(rng.integers(len(TEST_NOTES)))] if notes and rng.random() < 0.2 else None
        for test_id, curve in endurance.items():
            y = float(true_test_value(curve, day)[0]) + rng.normal(0.0, curve["noise_sd"])
            lo, hi = curve["clip"]
            y = round(min(hi, max(lo, y)) if hi is not None else max(lo, y))
            _add(t.tests, participant=pid, date=day, test=test_id, value=float(y), unit="s",
                 bench_angle_deg=curve["bench_angle_deg"],
                 pain=_nrs(float(latent[d]) + 0.5 + rng.normal(0, 0.7)),
                 notes=note if test_id == "sorensen_hold" else None)

    return {
        "variant": variant,
        "sex": "unknown",
        "protocol_phases": [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in ph.items()}
                            for ph in phases],
        "endurance": endurance,
        "pain": pain,
        "flare_rate_per_month": rate,
        "flares": {"days": "2 + Poisson(1.5)", "boost_range": list(_FLARE_BOOST),
                   "episodes": episodes},
        "sensitivity": sens,
        "sessions": {
            "weekdays": [WEEKDAY_NAMES[i] for i in weekdays],
            "weekdays_lead_in": [WEEKDAY_NAMES[i] for i in (0, 3)],
            "miss_prob": p["miss_prob"], "miss_prob_in_flare": _MISS_IN_FLARE,
            "holiday": (None if holiday is None else
                        {"start": holiday[0].isoformat(), "end": holiday[1].isoformat()}),
            "planned": len(planned), "done": len(done), "missed": len(planned) - len(done),
        },
        "tests": {"every_days": 14, "count": len(test_days)},
    }


def _set(**kw) -> dict:
    return kw


def _rpe(rng: np.random.Generator, base: float) -> float:
    return _clip(round((base + rng.normal(0, 0.7)) * 2) / 2, 0, 10)


def _round5(x: float) -> float:
    return float(5 * round(x / 5))


def _traditional_sets(rng: np.random.Generator, wk: float) -> list[dict]:
    plank = min(90.0, _round5(30 + 5 * wk))
    side = min(60.0, _round5(20 + 3 * wk))
    rows = [_set(exercise="plank", set=k, side="both", set_type="normal", hold_s=plank,
                 rpe=_rpe(rng, 5 + k / 2)) for k in (1, 2, 3)]
    rows += [_set(exercise="side_plank", set=k, side=("left" if k % 2 else "right"),
                  set_type="normal", hold_s=side, rpe=_rpe(rng, 5 + k / 3)) for k in (1, 2, 3, 4)]
    reps = 10 + min(6, int(wk))
    rows += [_set(exercise="dead_bug", set=k, side="both", set_type="normal", reps=reps,
                  rpe=_rpe(rng, 4 + k / 2)) for k in (1, 2, 3)]
    reps = 8 + min(4, int(wk // 2))
    rows += [_set(exercise="bird_dog", set=k, side="both", set_type="normal", reps=reps,
                  rpe=_rpe(rng, 4 + k / 2)) for k in (1, 2, 3)]
    return rows


def _shit_sets(rng: np.random.Generator, wk: float, count: int, cap45: float) -> list[dict]:
    """One S.H.I.T. session, ``wk`` weeks into the protocol; holds and reps days alternate."""
    pad = "high" if wk < 8 else ("mid" if wk < 16 else "low")
    pump_mean = 0.5 + 1.5 * (1 - math.exp(-wk / 6))  # the low-back pump becomes usual
    rows = []
    if count % 2 == 0:
        hold = min(norms.PROTOCOL_HOLD_GOAL_S, max(30.0, _round5(0.5 * cap45)))
        for k in (1, 2, 3):
            rows.append(_set(exercise="back_extension_hold", set=k, side="both", set_type="normal",
                             hold_s=hold - (5.0 if k == 3 else 0.0), bench_angle_deg=45.0, pad=pad,
                             rpe=_rpe(rng, 6 + k / 2),
                             pump=int(_clip(round(rng.normal(pump_mean, 0.7)), 0, 3))))
    else:
        reps = min(20, 10 + int(wk // 2))
        for k in (1, 2, 3):
            rows.append(_set(exercise="back_extension", set=k, side="both", set_type="normal",
                             reps=reps - (k - 1), bench_angle_deg=45.0, pad=pad,
                             rpe=_rpe(rng, 6 + k / 2),
                             pump=int(_clip(round(rng.normal(pump_mean, 0.7)), 0, 3))))
    block = min(2, int(wk // 10))
    load = (1.0, 1.5, 2.0)[block]
    reps = 10 + min(5, int((wk - 10 * block) // 2))
    n_trap = 2 if wk < 6 else 3
    rows += [_set(exercise="trap3_raise", set=k, side="both", set_type="normal", reps=reps,
                  load_kg=load, rpe=_rpe(rng, 5 + k / 2)) for k in range(1, n_trap + 1)]
    hold = min(60.0, _round5(30 + 3 * wk))
    rows += [_set(exercise="split_squat_hold", set=k, side=side, set_type="normal", hold_s=hold,
                  rpe=_rpe(rng, 6)) for k, side in ((1, "left"), (2, "right"))]
    rows += [_set(exercise="hip_hike", set=k, side="both", set_type="normal", reps=12,
                  rpe=_rpe(rng, 4)) for k in (1, 2)]
    rows += [_set(exercise="outer_hip_drop_set", set=k, side=side, set_type="drop", hold_s=30.0,
                  rpe=_rpe(rng, 5)) for k, side in ((1, "left"), (2, "right"))]
    return rows


# --- frames ----------------------------------------------------------------------------------------


def _frame(spec: TableSpec, rows: list[dict]) -> pl.DataFrame:
    keys = set().union(*rows) if rows else set()
    unknown = keys - set(spec.names)
    if unknown:  # column names come from the schema: anything else is a generator bug
        raise RuntimeError(f"demo generator bug: {sorted(unknown)} not in the {spec.kind} columns")
    return pl.from_dicts(rows, schema=spec.polars_schema) if rows else spec.empty()


def _check_ranges(spec: TableSpec, df: pl.DataFrame) -> None:
    """The generator's own guard: every value inside the schema's ranges and choices."""
    for col in spec.columns:
        s = df[col.name]
        if col.required and s.null_count():
            raise RuntimeError(f"demo generator bug: empty required {spec.kind}.{col.name}")
        v = s.drop_nulls()
        if v.len() == 0:
            continue
        if col.min is not None and v.min() < col.min or col.max is not None and v.max() > col.max:
            raise RuntimeError(f"demo generator bug: {spec.kind}.{col.name} outside {col.allowed()}")
        if col.choices and not v.is_in(list(col.choices)).all():
            raise RuntimeError(f"demo generator bug: {spec.kind}.{col.name} not {col.allowed()}")


def _csv_text(spec: TableSpec, df: pl.DataFrame) -> str:
    """CSV in the canonical text form: ISO dates, yes/no, whole numbers without '.0'."""
    exprs = []
    for col in spec.columns:
        c = pl.col(col.name)
        if col.kind == "date":
            e = c.dt.strftime("%Y-%m-%d")
        elif col.kind == "bool":
            e = pl.when(c).then(pl.lit("yes")).when(~c).then(pl.lit("no"))
        elif col.kind == "float":
            e = pl.when(c == c.round(0)).then(c.cast(pl.Int64).cast(pl.String)).otherwise(
                c.round(3).cast(pl.String))
        else:
            e = c.cast(pl.String)
        exprs.append(e.alias(col.name))
    return df.select(exprs).write_csv(quote_style="necessary", line_terminator="\n")


# --- public entry points ---------------------------------------------------------------------------


def simulate(
    *,
    participants: int = 1,
    seed: int = DEFAULT_SEED,
    start: date = DEFAULT_START,
    months: int = DEFAULT_MONTHS,
    variants: Sequence[str] = (SHIT, TRADITIONAL, SHIT_3X),
    notes: bool = True,
) -> DemoData:
    """Simulate the demo data in memory (see the module docstring); deterministic given ``seed``.

    ``participants=1`` gives the single demo person ``demo`` (hand-chosen parameters, protocol
    ``shit`` after a 6-week ``traditional-core`` lead-in); more gives a cohort ``p001``… balanced
    across ``variants``. ``notes`` adds a few free-text notes (with commas and quotes)."""
    variants = tuple(variants)
    _check(participants, seed, start, months, variants)
    for ex in ("plank", "side_plank", "dead_bug", "bird_dog", "back_extension",
               "back_extension_hold", "trap3_raise", "split_squat_hold", "hip_hike",
               "outer_hip_drop_set"):
        if ex not in EXERCISES:  # the exercise table is the authority on ids
            raise RuntimeError(f"demo generator bug: {ex!r} is not a canonical exercise id")
    end = _add_months(start, months) - timedelta(days=1)
    switch = start + timedelta(weeks=LEAD_IN_WEEKS)
    t0 = start + timedelta(days=5)
    n_weeks = (end - start).days // 7
    children = np.random.SeedSequence(seed).spawn(participants + 1)
    tables = _Tables()
    truth_people: dict[str, dict] = {}
    if participants == 1:
        ids, assigned = ["demo"], [SHIT]
    else:
        width = max(3, len(str(participants)))
        ids = [f"p{i:0{width}d}" for i in range(1, participants + 1)]
        reps = -(-participants // len(variants))
        assigned = list(np.random.default_rng(children[0]).permutation(
            np.array((list(variants) * reps)[:participants])))
    for i, (pid, variant) in enumerate(zip(ids, assigned, strict=True)):
        rng = np.random.default_rng(children[i + 1])
        if participants == 1:
            params = _demo_params(switch, t0)
            hw = round(0.6 * n_weeks)
        else:
            params = _drawn_params(rng, str(variant), start, end, switch, t0)
            hw = int(rng.integers(LEAD_IN_WEEKS + 2, max(LEAD_IN_WEEKS + 3, n_weeks - 3)))
        holiday = None
        if n_weeks >= LEAD_IN_WEEKS + 6:
            h0 = start + timedelta(weeks=hw)
            holiday = (h0, min(end, h0 + timedelta(days=13)))
        truth_people[pid] = _simulate_one(pid, rng, params, start=start, end=end, switch=switch,
                                          t0=t0, holiday=holiday, notes=notes, t=tables)
    frames = {}
    for spec in (SESSIONS, DIARY, TESTS, PHASES):
        df = _frame(spec, getattr(tables, spec.kind))
        _check_ranges(spec, df)
        frames[spec.kind] = df
    truth = {
        "seed": seed,
        "generator_version": GENERATOR_VERSION,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "months": months,
        "lead_in_weeks": LEAD_IN_WEEKS,
        "participants": truth_people,
        "cohort": None if participants == 1 else _cohort_truth(truth_people, variants),
    }
    return DemoData(frames["sessions"], frames["diary"], frames["tests"], frames["phases"], truth)


def _person_effects(person: dict) -> dict[str, float]:
    en = person["endurance"]
    return {
        "sorensen_gain_s": en["sorensen_hold"]["plateau"] - en["sorensen_hold"]["baseline"],
        "tau_weeks": en["sorensen_hold"]["tau_weeks"],
        "side_bridge_gain_s": en["side_bridge_left"]["plateau"] - en["side_bridge_left"]["baseline"],
        "flexor_gain_s": en["flexor_hold"]["plateau"] - en["flexor_hold"]["baseline"],
        "pain_level_change": person["pain"]["level_change_at_switch"],
        "pain_slope_change_per_week": person["pain"]["slope_change_per_week"],
        "sensitivity_slope_per_week": person["sensitivity"]["slope_per_week"],
    }


def _cohort_truth(people: dict[str, dict], variants: tuple[str, ...]) -> dict:
    out: dict[str, dict] = {}
    for v in variants:
        members = [_person_effects(p) for p in people.values() if p["variant"] == v]
        pop = {k: x for k, x in VARIANT_MEANS[v].items() if k != "sessions_per_week"}
        sample = {k: (_r(float(np.mean([m[k] for m in members])), 6) if members else None)
                  for k in pop}
        out[v] = {"protocol": v, "sessions_per_week": VARIANT_MEANS[v]["sessions_per_week"],
                  "n": len(members), "population_means": pop, "sample_means": sample}
    ref = TRADITIONAL if TRADITIONAL in variants else variants[0]
    pairs = [(a, ref) for a in variants if a != ref]
    if SHIT in variants and SHIT_3X in variants and ref != SHIT:
        pairs.append((SHIT_3X, SHIT))
    diffs = {}
    for a, b in pairs:
        pa, pb = out[a], out[b]
        diffs[f"{a} - {b}"] = {
            "population": {k: _r(pa["population_means"][k] - pb["population_means"][k], 6)
                           for k in pa["population_means"]},
            "sample": {k: (None if pa["sample_means"][k] is None or pb["sample_means"][k] is None
                           else _r(pa["sample_means"][k] - pb["sample_means"][k], 6))
                       for k in pa["sample_means"]},
        }
    return {
        "variants": out,
        "between_person_sd": dict(BETWEEN_PERSON_SD),
        "cohort_means": dict(COHORT_MEANS),
        "true_differences": diffs,
        "assignment": "balanced: variant list repeated and randomly permuted (sizes differ by ≤ 1)",
    }


def write(data: DemoData, out_dir: str | Path) -> tuple[Path, ...]:
    """Write simulated data as the canonical CSV files plus truth.json (each atomically)."""
    out = Path(out_dir)
    paths = []
    for spec in (SESSIONS, DIARY, TESTS, PHASES):
        p = out / f"{spec.kind}.csv"
        atomic_write_text(p, _csv_text(spec, getattr(data, spec.kind)))
        paths.append(p)
    p = out / "truth.json"
    atomic_write_text(p, json.dumps(data.truth, indent=1, ensure_ascii=False) + "\n")
    paths.append(p)
    return tuple(paths)


def generate(
    out_dir: str | Path,
    *,
    participants: int = 1,
    seed: int = DEFAULT_SEED,
    start: date = DEFAULT_START,
    months: int = DEFAULT_MONTHS,
    variants: Sequence[str] = (SHIT, TRADITIONAL, SHIT_3X),
) -> Path:
    """Simulate (see :func:`simulate`) and write the files into ``out_dir``; return ``out_dir``."""
    data = simulate(participants=participants, seed=seed, start=start, months=months,
                    variants=variants)
    write(data, out_dir)
    return Path(out_dir)


def write_sample(
    root: str | Path | None = None,
    *,
    out: str | Path | None = None,
    participants: int = 1,
    seed: int = DEFAULT_SEED,
    force: bool = False,
) -> DemoWritten:
    """What ``rehab demo`` runs: write demo files into ``out`` (default the project's
    ``data/sample``), which must lie inside the project and not in ``data/raw``. A folder that
    already holds log files (the kit's committed sample, an earlier demo) is replaced only with
    ``force``."""
    paths = ProjectPaths(Path(root).resolve()) if root is not None else ProjectPaths.discover()
    target = paths.sample if out is None else Path(out)
    if not target.is_absolute():
        target = paths.root / target
    target = inside(paths.root, target)
    raw = paths.raw.resolve()
    if target == raw or raw in target.parents:
        raise PathError(f"{target} is inside data/raw, which holds the person's own files: "
                        "write the demo elsewhere (default data/sample)")
    there = sorted(p.name for p in target.glob("*.csv")) if target.is_dir() else []
    if there and not force:
        raise DemoError(f"{target} already holds {', '.join(there)}: nothing was written. Give "
                        "another folder (--out data/demo-cohort) or, to replace them, --force")
    data = simulate(participants=participants, seed=seed)
    written = write(data, target)
    return DemoWritten(
        out_dir=target, paths=written,
        rows={k: getattr(data, k).height for k in ("sessions", "diary", "tests", "phases")},
        participants=participants, seed=seed,
        start=date.fromisoformat(data.truth["start"]), end=date.fromisoformat(data.truth["end"]),
    )


__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_START",
    "GENERATOR_VERSION",
    "DemoData",
    "DemoError",
    "DemoWritten",
    "generate",
    "simulate",
    "true_pain_mean",
    "true_sensitivity",
    "true_test_value",
    "write",
    "write_sample",
]
