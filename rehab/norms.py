"""Published norms and thresholds: the one place for each number, with its source.

See ``docs/SCIENCE.md``. Values marked ``UNVERIFIED`` are widely quoted but were not
read in the primary source; wherever they are shown they must be labelled so.
"""

from __future__ import annotations

import math

# --- Biering-Sørensen test -----------------------------------------------------------------------
SORENSEN_MAX_S = 240.0  # the test stops at 240 s
# Biering-Sørensen 1984 (Spine 9:106), men only: < 176 s predicts LBP in the next year, > 198 s its absence.
SORENSEN_RISK_BELOW_S = 176.0
SORENSEN_PROTECTIVE_ABOVE_S = 198.0

# Latimer 1999 (Spine 24:2085): SEM in seconds by group; SRC95 = 1.96 * sqrt(2) * SEM.
SORENSEN_SEM_S = {"current_lbp": 11.6, "previous_lbp": 17.5, "no_pain": 17.4, "all": 15.6}
SORENSEN_ICC = {"current_lbp": 0.88, "previous_lbp": 0.77, "no_pain": 0.83, "all": 0.85}


def smallest_real_change(sem: float, *, z: float = 1.96) -> float:
    """Smallest real change at 95%: z * sqrt(2) * SEM (Latimer 1999)."""
    return z * math.sqrt(2.0) * sem


# Smallest real change at 95% as published by Latimer 1999 (current LBP 32.1 s: the kit's default).
SORENSEN_SRC_S = {"current_lbp": 32.1, "previous_lbp": 48.5, "no_pain": 48.0, "all": 43.2}
DEFAULT_SRC_GROUP = "current_lbp"

# McGill 1999 (Arch Phys Med Rehabil 80:941) balance targets.
RATIO_FLEXION_EXTENSION_MAX = 1.0
RATIO_SIDE_BRIDGE_LR_TOLERANCE = 0.05
RATIO_SIDE_BRIDGE_EXTENSION_MAX = 0.75
# UNVERIFIED (quoted, not read in the primary source): extension hold means ± SD in seconds.
MCGILL_EXTENSION_MEAN_S_UNVERIFIED = {"male": (146.0, 51.0), "female": (189.0, 60.0)}

# Max-rep norms: Alaranta 1994 (ages 35-49) repetitive arch-up; Osborne 2023 45° bench to failure.
ALARANTA_ARCH_UP_REPS = {"male": (29.0, 13.0), "female": (27.0, 12.0)}
OSBORNE_45DEG_REPS = (20.0, 9.0)

# Protocol goal (S.H.I.T.): 2-minute back-extension holds without pain or spasm.
PROTOCOL_HOLD_GOAL_S = 120.0


def gravity_torque_fraction(bench_angle_deg: float) -> float:
    """Share of the horizontal (Sorensen) trunk torque carried at a bench angle to horizontal.

    The trunk's gravity moment scales with cos(angle); 45° carries about 71%.
    """
    return math.cos(math.radians(bench_angle_deg))


# --- Training load --------------------------------------------------------------------------------
# GoldenCheetah PMC defaults: fitness (CTL) 42 days, fatigue (ATL) 7 days.
CTL_DAYS = 42.0
ATL_DAYS = 7.0

# --- Pain and function ----------------------------------------------------------------------------
# Ostelo 2008 consensus (Spine 33:90) minimal important change.
MIC_NRS_POINTS = 2.0
MIC_VAS_100 = 15.0
MIC_ROLAND_MORRIS = 5.0
MIC_OSWESTRY = 10.0
# UNVERIFIED (quoted, e.g. Stratford 1995; primary source not read): PSFS (0-10 mean), 2 points.
MIC_PSFS_UNVERIFIED = 2.0
MIC_RELATIVE = 0.30  # or a 30% improvement from baseline
# The kit's pain baseline: the first 14 days from the first diary day (two weeks, as a
# trial's run-in); the reports judge later pain against it.
PAIN_BASELINE_DAYS = 14
ROLAND_MORRIS_SDC = (4.0, 5.0)  # Stratford 1996
# Kamper 2010: recovered = NRS 0 and Roland-Morris <= 2.
RECOVERED_NRS = 0.0
RECOVERED_ROLAND_MORRIS_MAX = 2.0
# ODI 2.1a bands (upper bounds inclusive).
ODI_BANDS = [(20, "minimal"), (40, "moderate"), (60, "severe"), (80, "crippled"), (100, "bed-bound")]

# Pain-monitoring model (Thomeé 1997; Silbernagel 2007): during-exercise NRS bands.
PAIN_SAFE_MAX = 2.0  # 0-2 safe (some sources 0-3): a setting
PAIN_ACCEPTABLE_MAX = 5.0  # up to 5 acceptable; above 5 too much
