"""Protocol files: the builtin ones encode the design's programme; the schema's error messages
name the file, the key and what is allowed; user files add to and override the builtin ones."""

from __future__ import annotations

import textwrap

import pytest
from typer.testing import CliRunner

from rehab import norms
from rehab.cli import app
from rehab.config import Config
from rehab.exercises import EXERCISES
from rehab.protocol import (
    ProtocolError,
    builtin_protocols,
    get_protocol,
    load_protocols,
    pain_limit,
)

MINIMAL = """
name = "Mine"
sessions_per_week = 2
[pillars.S]
name = "Sensitivity"
[exercises.back_extension]
pillars = ["S"]
dose = { sets = 3, reps = 10 }
"""


def project(tmp_path, files: dict[str, str]):
    """A project folder with a rehab.toml and protocols/<name>."""
    (tmp_path / "rehab.toml").write_text("", encoding="utf-8")
    d = tmp_path / "protocols"
    d.mkdir(exist_ok=True)
    for name, text in files.items():
        (d / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def problems_of(tmp_path, text: str, name: str = "mine.toml") -> list[str]:
    root = project(tmp_path, {name: text})
    with pytest.raises(ProtocolError) as e:
        load_protocols(root)
    return list(e.value.problems)


# --- the builtin protocols encode DESIGN.md ---------------------------------------------------------


def test_builtin_ids_and_listing():
    ps = builtin_protocols()
    assert {"shit", "traditional-core", "shit-3x", "shit-no-trap3"} <= set(ps)
    t = ps.table()
    assert t.columns == ["id", "name", "sessions_per_week", "pillars", "exercises", "source"]
    assert set(t["source"]) == {"builtin"}


def test_shit_encodes_the_programme():
    p = builtin_protocols()["shit"]
    assert p.sessions_per_week == 2
    assert list(p.pillars) == ["S", "H", "I", "T"]
    s, i = p.pillars["S"], p.pillars["I"]
    assert (s.months_min, s.months_max) == (3, 6)  # S: 3-6 months
    assert i.months_min == 6 and i.months_max is None  # I: at least 6 months
    hold = p.exercises["back_extension_hold"]
    assert set(hold.pillars) == {"S", "I"}
    d = hold.dose
    assert (d.sets, d.hold_s, d.pad, d.bench_angle_deg) == (3, 30.0, "high", 45.0)  # 3 × 30 s
    assert p.pad_positions[0] == "high" and p.pad_positions[-1] == "low"  # pad high to low
    assert [lv.lever for lv in hold.progression] == ["pad", "hold_s"]
    assert hold.lever("hold_s").max == norms.PROTOCOL_HOLD_GOAL_S  # toward 2 minutes
    assert hold.goal.value == norms.PROTOCOL_HOLD_GOAL_S and hold.goal.no_spasm  # goal
    reps = p.exercises["back_extension"]
    assert (reps.dose.sets, reps.dose.reps) == (3, 10)  # or 3 × 10 reps
    assert reps.slot == hold.slot  # holds or reps: alternatives
    trap = p.exercises["trap3_raise"]
    assert [lv.lever for lv in trap.progression] == ["reps", "sets", "load_kg"]  # reps, sets, load
    assert 0 < trap.dose.load_kg <= 2  # very light weights
    assert p.exercises["split_squat_hold"].dose.per_side
    assert p.exercises["split_squat_hold"].goal.value == 60  # about 1 min a side
    assert {"H"} == set(p.exercises["hip_hike"].pillars)
    drop = p.exercises["outer_hip_drop_set"]
    assert drop.pillars == ("T",) and drop.dose.set_type == "drop"  # squeeze-then-stretch
    c = p.criteria
    assert c.sessions == 2 and c.pain_max == "safe" and c.no_spasm and c.all_sets


def test_traditional_core_front_and_side():
    p = builtin_protocols()["traditional-core"]
    assert set(p.exercises) == {"plank", "dead_bug", "bird_dog", "side_plank"}
    assert set(p.pillars) == {"front", "side"}
    assert p.exercises["side_plank"].pillars == ("side",)
    assert p.sessions_per_week == 2


def test_variants():
    ps = builtin_protocols()
    assert ps["shit-3x"].sessions_per_week == 3
    assert ps["shit-3x"].exercises == ps["shit"].exercises
    assert ps["shit-3x"].extends == "shit"
    assert set(ps["shit"].exercises) - set(ps["shit-no-trap3"].exercises) == {"trap3_raise"}
    assert ps["shit-no-trap3"].sessions_per_week == 2


def test_builtin_exercise_ids_are_canonical():
    for p in builtin_protocols().protocols.values():
        for e_id in p.exercises:
            assert e_id in EXERCISES, (p.id, e_id)


def test_summary_and_exercises_table():
    p = builtin_protocols()["shit"]
    text = p.summary()
    assert "3 × 30 s holds, pad high, 45° bench" in text
    assert "pain ≤ 2 (safe band)" in text  # the default band from rehab.norms
    assert "pain ≤ 3 (safe band)" in p.summary(Config(pain_safe_max=3.0))
    t = p.exercises_table()
    assert t.height == len(p.exercises)
    assert "then sets +1" in t.filter(t["exercise"] == "trap3_raise")["progression"][0]


def test_pad_rank():
    p = builtin_protocols()["shit"]
    assert [p.pad_rank(x) for x in ("high", "Mid", " low ")] == [0, 1, 2]
    assert p.pad_rank("notch 2") == 1 and p.pad_rank("3") == 2  # numbered from the highest
    assert p.pad_rank("on the wobbly one") is None and p.pad_rank(None) is None
    assert p.pad_label(1) == "mid" and p.pad_label(4) == "notch 5"


def test_pain_limit_bands_from_config():
    assert pain_limit("safe") == norms.PAIN_SAFE_MAX
    assert pain_limit("acceptable") == norms.PAIN_ACCEPTABLE_MAX
    assert pain_limit("safe", Config(pain_safe_max=3.0)) == 3.0
    assert pain_limit(4) == 4.0
    with pytest.raises(ValueError, match="safe"):
        pain_limit("high")


# --- schema errors: file, key, what is allowed ------------------------------------------------------


BAD = [
    (MINIMAL.replace("sets = 3, reps", "sets = -1, reps"),
     "protocols/mine.toml: [exercises.back_extension] dose.sets = -1 is not allowed: "
     "a whole number from 1 to 50"),
    (MINIMAL.replace("sets = 3, reps = 10", "sets = 3, reps = 10, hold_s = 30"),
     "[exercises.back_extension] dose has both reps and hold_s: give one of them"),
    (MINIMAL.replace("sets = 3, reps = 10", "sets = 3"),
     "[exercises.back_extension] dose.reps or dose.hold_s is missing: one of them"),
    (MINIMAL.replace("sessions_per_week = 2", "sesions_per_week = 2"),
     "protocols/mine.toml: sesions_per_week is not a known key: allowed keys are id, name"),
    (MINIMAL.replace("sessions_per_week = 2", "sessions_per_week = 0"),
     "protocols/mine.toml: sessions_per_week = 0 is not allowed: a number > 0 and ≤ 14"),
    (MINIMAL.replace("sessions_per_week = 2", 'sessions_per_week = "twice"'),
     'sessions_per_week = "twice" is not allowed: a number > 0'),
    (MINIMAL.replace('name = "Mine"\n', ""), "protocols/mine.toml: name is missing: text"),
    (MINIMAL.replace('pillars = ["S"]', 'pillars = ["X"]'),
     '[exercises.back_extension] pillars = ["X"] is not allowed: pillars of this protocol: S'),
    (MINIMAL.replace('pillars = ["S"]\n', ""),
     "[exercises.back_extension] pillars is missing: a list of this protocol's pillars: S"),
    (MINIMAL + 'progression = [{ lever = "hold_s", step = 5 }]\n',
     '[exercises.back_extension] progression[0].lever = "hold_s" is not allowed: one of pad, '
     "reps, sets, load_kg (this dose is measured in reps)"),
    (MINIMAL + 'progression = [{ lever = "reps", step = 0 }]\n',
     "[exercises.back_extension] progression[0].step = 0 is not allowed: a whole number > 0"),
    (MINIMAL + 'progression = [{ lever = "reps", step = 2, max = 8 }]\n',
     "progression[0].max = 8 is not allowed: a whole number from 10 to 5000"),
    (MINIMAL + 'progression = [{ lever = "reps", step = 2 }, { lever = "sets" }]\n',
     "[exercises.back_extension] progression[0].max is missing: a lever followed by another "
     "needs a max"),
    (MINIMAL + 'progression = [{ lever = "weight" }, { lever = "reps", step = 2 }, '
               '{ lever = "sets" }]\n',  # the index is the file's, after a refused lever
     "[exercises.back_extension] progression[1].max is missing"),
    (MINIMAL + 'progression = [{ lever = "weight", step = 2 }]\n',
     'progression[0].lever = "weight" is not allowed: one of pad, reps, sets, load_kg'),
    (MINIMAL + 'criteria = { pain_max = 11 }\n',
     "[exercises.back_extension] criteria.pain_max = 11 is not allowed: \"safe\", \"acceptable\" "
     "(the pain-monitoring bands) or a number from 0 to 10"),
    (MINIMAL + "[criteria]\nsessions = 0\n",
     "protocols/mine.toml: [criteria] sessions = 0 is not allowed: a whole number from 1 to 20"),
    (MINIMAL + "[criteria]\nno_spasm = \"yes\"\n",
     '[criteria] no_spasm = "yes" is not allowed: true or false'),
    (MINIMAL.replace("sets = 3, reps = 10", 'sets = 3, reps = 10, pad = "top"'),
     'dose.pad = "top" needs pad_positions at the top of the file'),
    ('pad_positions = ["high", "low"]\n' + MINIMAL.replace(
        "sets = 3, reps = 10", 'sets = 3, reps = 10, pad = "top"'),
     '[exercises.back_extension] dose.pad = "top" is not allowed: one of pad_positions: high, low'),
    ('pad_positions = ["high", "low"]\n' + MINIMAL.replace(
        "sets = 3, reps = 10", 'sets = 3, reps = 10, pad = "low"')
     + 'progression = [{ lever = "pad" }]\n',
     '[exercises.back_extension] progression[0].max = "low" is not allowed: a pad position below '
     "the starting pad: none"),
    (MINIMAL + "goal = { hold_s = 120 }\n",
     "[exercises.back_extension] goal.hold_s = 120 is not allowed: goal.reps only"),
    (MINIMAL + 'dosage = 3\n',
     "[exercises.back_extension] dosage is not a known key: allowed keys are name, pillars"),
    (MINIMAL.replace("sets = 3, reps = 10", 'sets = 3, reps = 10, set_type = "warmup"'),
     'dose.set_type = "warmup" is not allowed: one of normal, failure, drop'),
    (MINIMAL + "[pillars.H]\nname = \"Hips\"\n",
     "[pillars.H] has no exercise: list it in an exercise"),
    (MINIMAL.replace("[exercises.back_extension]", "[exercises.Back-Extension]"),
     "[exercises.Back-Extension] is not an allowed exercise id"),
    ('id = "My Protocol"\n' + MINIMAL, 'id = "My Protocol" is not allowed: 1-64 characters'),
    (MINIMAL.replace("[pillars.S]", "[pillars.S]\nmonths_min = -1"),
     "[pillars.S] months_min = -1 is not allowed: a number from 0 to 120"),
    (MINIMAL + "\nname = \n", "protocols/mine.toml: not valid TOML"),
    ('extends = "nope"\nname = "x"\n',
     'protocols/mine.toml: extends = "nope" is not allowed: known are '),
    ('extends = "shit"\nremove_exercises = ["plank"]\n',
     'remove_exercises = ["plank"] is not allowed: plank not among the exercises of \'shit\''),
]


@pytest.mark.parametrize("text, expected", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_schema_errors_name_file_key_and_allowed(tmp_path, text, expected):
    found = problems_of(tmp_path, text)
    assert any(expected in p for p in found), found
    assert all(p.startswith("protocols/mine.toml") for p in found), found


def test_remove_exercises_needs_extends(tmp_path):
    text = 'remove_exercises = ["back_extension"]\n' + MINIMAL
    found = problems_of(tmp_path, text)
    assert found == ["protocols/mine.toml: remove_exercises is not allowed without extends: "
                     "leave the exercises out of the file instead"]


def test_every_problem_at_once(tmp_path):
    text = MINIMAL.replace("sets = 3, reps", "sets = -1, reps").replace(
        "sessions_per_week = 2", "sessions_per_week = -2")
    found = problems_of(tmp_path, text)
    assert len(found) == 2
    assert any("dose.sets = -1" in p for p in found)
    assert any("sessions_per_week = -2" in p for p in found)


def test_a_variant_error_names_the_variant_file(tmp_path):
    found = problems_of(tmp_path, 'extends = "shit"\nsessions_per_week = 30\n', name="fast.toml")
    assert found == ["protocols/fast.toml: sessions_per_week = 30 is not allowed: "
                     "a number > 0 and ≤ 14"]


def test_duplicate_user_ids(tmp_path):
    root = project(tmp_path, {"a.toml": 'id = "same"\n' + MINIMAL,
                              "b.toml": 'id = "same"\n' + MINIMAL})
    with pytest.raises(ProtocolError, match=r"protocols/b.toml: id = \"same\" is not allowed: "
                                            r"protocols/a.toml already has it"):
        load_protocols(root)


def test_extends_loop(tmp_path):
    root = project(tmp_path, {"a.toml": 'extends = "b"\nname = "A"\n',
                              "b.toml": 'extends = "a"\nname = "B"\n'})
    with pytest.raises(ProtocolError, match="extend itself in a loop"):
        load_protocols(root)


# --- user protocols ---------------------------------------------------------------------------------


def test_user_protocol_is_listed_with_its_file(tmp_path):
    root = project(tmp_path, {"mine.toml": MINIMAL})
    ps = load_protocols(root)
    assert "mine" in ps and "shit" in ps
    assert ps["mine"].source == "protocols/mine.toml"
    assert ps["mine"].file == "protocols/mine.toml" and not ps["mine"].builtin
    assert ps.notes == ()
    assert get_protocol("mine", root=root).name == "Mine"


def test_user_file_overrides_builtin_and_says_so(tmp_path):
    root = project(tmp_path, {"shit.toml": 'extends = "shit"\nname = "My S.H.I.T."\n'
                                           "sessions_per_week = 3\n"})
    ps = load_protocols(root)
    p = ps["shit"]
    assert p.name == "My S.H.I.T." and p.sessions_per_week == 3
    assert p.exercises == builtin_protocols()["shit"].exercises  # from the builtin it extends
    assert p.source == "protocols/shit.toml (overrides builtin)"
    assert ps.notes == ("protocols/shit.toml overrides the builtin protocol 'shit' "
                        "(rehab/protocols/shit.toml)",)
    assert ps["shit-3x"].sessions_per_week == 3  # builtin variants still resolve
    assert builtin_protocols()["shit"].sessions_per_week == 2


def test_user_variant_of_the_overridden_protocol_uses_the_override(tmp_path):
    root = project(tmp_path, {
        "shit.toml": 'extends = "shit"\nname = "Mine"\n[criteria]\npain_max = 3\n',
        "mine-3x.toml": 'extends = "shit"\nname = "Mine 3x"\nsessions_per_week = 3\n'})
    ps = load_protocols(root)
    assert ps["mine-3x"].criteria.pain_max == 3.0
    assert ps["mine-3x"].exercises["trap3_raise"].criteria.pain_max == 3.0


def test_full_user_override_replaces_the_builtin(tmp_path):
    root = project(tmp_path, {"shit.toml": MINIMAL})
    ps = load_protocols(root)
    assert list(ps["shit"].exercises) == ["back_extension"]


def test_custom_exercise_with_aliases(tmp_path):
    text = MINIMAL + '[exercises.cat_camel]\npillars = ["S"]\naliases = ["Cat Camel"]\n' \
                     "dose = { sets = 1, reps = 8 }\n"
    p = load_protocols(project(tmp_path, {"mine.toml": text}))["mine"]
    assert p.alias_table()["cat camel"] == "cat_camel"
    assert p.alias_table()["roman chair"] == "back_extension"  # builtin aliases kept


# --- the command ------------------------------------------------------------------------------------


def run(tmp_path, *args):
    return CliRunner().invoke(app, ["protocols", *args], env={"REHAB_HOME": str(tmp_path),
                                                              "COLUMNS": "400"})


def test_cli_lists_and_shows(tmp_path):
    project(tmp_path, {"shit.toml": 'extends = "shit"\nname = "My S.H.I.T."\n'})
    r = run(tmp_path)
    assert r.exit_code == 0, r.output
    for pid in ("shit", "traditional-core", "shit-3x", "shit-no-trap3"):
        assert pid in r.output
    assert "protocols/shit.toml (overrides builtin)" in r.output
    assert "overrides the builtin protocol 'shit'" in r.output
    r = run(tmp_path, "traditional-core")
    assert r.exit_code == 0, r.output
    for word in ("Traditional core", "side_plank", "dead_bug", "Sessions a week: 2"):
        assert word in r.output
    r = run(tmp_path, "shit", "--json")
    assert r.exit_code == 0 and '"sessions_per_week": 2.0' in r.output


def test_cli_unknown_id_and_bad_file_exit_2(tmp_path):
    project(tmp_path, {})
    r = run(tmp_path, "nope")
    assert r.exit_code == 2
    assert "protocol 'nope' is not known" in r.output
    project(tmp_path, {"mine.toml": MINIMAL.replace("sets = 3, reps", "sets = -1, reps")})
    r = run(tmp_path)
    assert r.exit_code == 2
    assert ("protocols/mine.toml: [exercises.back_extension] dose.sets = -1 is not allowed"
            in " ".join(r.output.split()))
