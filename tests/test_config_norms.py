"""Published norms against docs/SCIENCE.md (numbers typed from it here), and rehab.toml checks."""

from __future__ import annotations

import math

import pytest

from rehab import norms
from rehab.config import ConfigError, load_config

# Latimer 1999 as docs/SCIENCE.md lists it: group -> (ICC, SEM s, published SRC95 s, tolerance of "about")
LATIMER = {
    "current_lbp": (0.88, 11.6, 32.1, 0.1),
    "previous_lbp": (0.77, 17.5, 48.5, 0.1),
    "no_pain": (0.83, 17.4, 48.0, 0.5),  # "about 48 s"
    "all": (0.85, 15.6, 43.2, 0.1),
}


@pytest.mark.parametrize("group", list(LATIMER))
def test_latimer_sem_icc_and_smallest_real_change(group):
    icc, sem, src, tol = LATIMER[group]
    assert norms.SORENSEN_ICC[group] == icc and norms.SORENSEN_SEM_S[group] == sem
    assert norms.SORENSEN_SRC_S[group] == src
    # SRC = 1.96 * sqrt(2) * SEM, computed here, agrees with the published figure
    assert 1.96 * math.sqrt(2) * sem == pytest.approx(src, abs=tol)
    assert norms.smallest_real_change(sem) == pytest.approx(src, abs=tol)


def test_sorensen_thresholds_and_other_published_numbers():
    assert (norms.SORENSEN_MAX_S, norms.SORENSEN_RISK_BELOW_S,
            norms.SORENSEN_PROTECTIVE_ABOVE_S) == (240, 176, 198)
    assert norms.DEFAULT_SRC_GROUP == "current_lbp"
    assert (norms.RATIO_FLEXION_EXTENSION_MAX, norms.RATIO_SIDE_BRIDGE_LR_TOLERANCE,
            norms.RATIO_SIDE_BRIDGE_EXTENSION_MAX) == (1.0, 0.05, 0.75)
    assert norms.MCGILL_EXTENSION_MEAN_S_UNVERIFIED == {"male": (146, 51), "female": (189, 60)}
    assert norms.ALARANTA_ARCH_UP_REPS == {"male": (29, 13), "female": (27, 12)}
    assert norms.OSBORNE_45DEG_REPS == (20, 9)
    assert norms.PROTOCOL_HOLD_GOAL_S == 120  # 2-minute holds
    assert (norms.CTL_DAYS, norms.ATL_DAYS) == (42, 7)
    assert (norms.MIC_NRS_POINTS, norms.MIC_VAS_100, norms.MIC_ROLAND_MORRIS, norms.MIC_OSWESTRY,
            norms.MIC_RELATIVE) == (2, 15, 5, 10, 0.30)
    assert norms.ROLAND_MORRIS_SDC == (4, 5)
    assert (norms.RECOVERED_NRS, norms.RECOVERED_ROLAND_MORRIS_MAX) == (0, 2)
    assert norms.ODI_BANDS == [(20, "minimal"), (40, "moderate"), (60, "severe"), (80, "crippled"),
                               (100, "bed-bound")]
    assert (norms.PAIN_SAFE_MAX, norms.PAIN_ACCEPTABLE_MAX) == (2, 5)


def test_bench_angle_torque_fraction():
    assert norms.gravity_torque_fraction(0) == 1.0
    assert round(norms.gravity_torque_fraction(45), 2) == 0.71  # "about 71%"
    assert norms.gravity_torque_fraction(90) == pytest.approx(0.0, abs=1e-12)


# --- rehab.toml ----------------------------------------------------------------------------------


def _config(tmp_path, text: str):
    p = tmp_path / "rehab.toml"
    p.write_text(text, encoding="utf-8")
    return load_config(p)


def test_missing_file_gives_the_defaults(tmp_path):
    c = load_config(tmp_path / "rehab.toml")
    assert c.weight_unit is None and c.include_notes is False
    assert (c.pain_safe_max, c.pain_acceptable_max) == (2, 5)
    assert c.src_seconds("anyone") == 32.1  # Latimer's current-LBP SRC


def test_settings_are_read(tmp_path):
    c = _config(tmp_path, '[units]\nweight = "lb"\n[participants.ann]\nsex = "female"\n'
                          'src_group = "all"\nhold_target_s = 90\n[report]\ninclude_notes = true\n'
                          '[protocol]\nsessions_per_week = 3\n[pain_monitoring]\nsafe_max = 3\n')
    assert c.weight_unit == "lb" and c.include_notes is True
    assert c.participant("ann").hold_target_s == 90.0 and c.src_seconds("ann") == 43.2
    assert c.sessions_per_week_target == 3.0 and c.pain_safe_max == 3.0


@pytest.mark.parametrize("text, key", [
    ('[report]\ninclude_notes = "false"\n', "report.include_notes"),  # bool("false") is True
    ('[participants.me]\nhold_target_s = "two minutes"\n', "participants.me.hold_target_s"),
    ('[participants.me]\nhold_target_s = -5\n', "participants.me.hold_target_s"),
    ('[pain_monitoring]\nsafe_max = "low"\n', "pain_monitoring.safe_max"),
    ('[pain_monitoring]\nsafe_max = 6\n', "pain_monitoring"),
    ('[protocol]\nsessions_per_week = "two"\n', "protocol.sessions_per_week"),
    ('participants = "me"\n', "participants"),
    ('[participants]\nme = 3\n', "participants.me"),
    ('aliases = 3\n', "aliases"),
    ('[units]\nweight = "stone"\n', "units.weight"),
    ('[participants.me]\nsex = "x"\n', "participants.me.sex"),
])
def test_bad_values_name_the_file_and_key(tmp_path, text, key):
    with pytest.raises(ConfigError, match=r"rehab\.toml: \[" + key.replace(".", r"\.") + r"\]"):
        _config(tmp_path, text)


def test_invalid_toml_names_the_file(tmp_path):
    with pytest.raises(ConfigError, match="rehab.toml: not valid TOML"):
        _config(tmp_path, "[units\n")
