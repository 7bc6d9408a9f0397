"""Protocols: the exercise programmes a person follows, as TOML files, checked against a schema.

Builtin protocols ship in ``rehab/protocols/*.toml`` (``shit``, ``traditional-core`` and example
variants). A person adds their own as ``<project>/protocols/*.toml``; a file there with the id of a
builtin overrides it (and :func:`load_protocols` says so in ``notes``).

Schema (every key is checked; an unknown key is an error that lists the allowed ones)::

    id = "mine"                 # optional, default the file name; a-z, digits, '-', '_'
    name = "My programme"       # required
    description = "..."         # optional text
    reference = "..."           # optional: where the programme comes from
    extends = "shit"            # optional: start from another protocol, change only what differs
    remove_exercises = ["trap3_raise"]   # optional, with extends: drop exercises of the base
    sessions_per_week = 2       # required: a number > 0, at most 14
    pad_positions = ["high", "mid", "low"]   # bench pad settings, highest (easiest) first
    pad_numbered_from = "high"  # a pad logged as a number counts from the highest or the lowest

    [criteria]                  # when a dose may progress (defaults shown; exercises may override)
    sessions = 2                # sessions in a row at the current dose that met the criteria
    all_sets = true             # every set reached the target reps or hold time
    pain_max = "safe"           # pain during the sets at most: "safe" / "acceptable" (the bands
                                # of rehab.toml [pain_monitoring]) or a number 0-10
    no_spasm = true             # no spasm in the diary that day
    step_back_pain_above = "acceptable"   # pain above this in the last session: one step back

    [pillars.S]                 # the programme's parts; every exercise belongs to one or more
    name = "Sensitivity"        # required
    summary = "..."
    months_min = 3              # optional duration in months
    months_max = 6

    [exercises.back_extension_hold]      # a canonical exercise id (rehab.exercises) or your own
    pillars = ["S", "I"]        # required
    name = "..."                # optional display name
    slot = "back extension"     # optional: exercises sharing a slot are alternatives in a session
    aliases = ["45 hold"]       # optional: names as written in your logs
    method = "..."              # optional how-to
    dose = { sets = 3, hold_s = 30, pad = "high", bench_angle_deg = 45 }
        # the starting dose: sets (required) and reps or hold_s (one of them); optional
        # load_kg, per_side, pad, bench_angle_deg, set_type (normal, failure or drop)
    progression = [             # levers moved in this order when the criteria are met
      { lever = "pad", step = 1 },                  # pad: notches lower, down to max (a position)
      { lever = "hold_s", step = 15, max = 120 },   # hold_s, reps, sets or load_kg
    ]                           # reset = true: back to the start when a later lever moves
    criteria = { sessions = 3 } # optional overrides of the protocol's criteria
    goal = { hold_s = 120, pain_max = "safe", no_spasm = true, text = "2-minute holds" }

A problem reads ``<file>: [<section>] <key> = <value> is not allowed: <what is allowed>``; every
problem of every file is raised at once in one :class:`ProtocolError`.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from rehab import exercises as ex
from rehab import norms
from rehab.schema import SET_TYPES

BUILTIN_DIR = Path(__file__).resolve().parent / "protocols"
LEVERS = ("pad", "hold_s", "reps", "sets", "load_kg")
MEASURES = ("hold_s", "reps")
PAIN_BANDS = ("safe", "acceptable")
DOSE_SET_TYPES = tuple(t for t in SET_TYPES if t not in ("warmup", "test"))
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
ID_RULE = "1-64 characters: lower-case letters, digits, '-' or '_', starting with a letter or digit"
EXERCISE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")
EXERCISE_RULE = "lower-case letters, digits and '_' (a canonical id such as back_extension_hold)"
PILLAR_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
PAIN_RULE = '"safe", "acceptable" (the pain-monitoring bands) or a number from 0 to 10'

_TOP_KEYS = ("id", "name", "description", "reference", "extends", "remove_exercises",
             "sessions_per_week", "pad_positions", "pad_numbered_from", "criteria", "pillars",
             "exercises")
_CRITERIA_KEYS = ("sessions", "all_sets", "pain_max", "no_spasm", "step_back_pain_above")
_PILLAR_KEYS = ("name", "summary", "months_min", "months_max")
_EXERCISE_KEYS = ("name", "pillars", "slot", "aliases", "method", "dose", "progression", "criteria",
                  "goal")
_DOSE_KEYS = ("sets", "reps", "hold_s", "load_kg", "per_side", "pad", "bench_angle_deg", "set_type")
_LEVER_KEYS = ("lever", "step", "max", "reset")
_GOAL_KEYS = ("hold_s", "reps", "sets", "pad", "pain_max", "no_spasm", "text")


class ProtocolError(ValueError):
    """One or more protocol files break the schema; ``problems`` lists each (file, key, allowed)."""

    def __init__(self, problems: list[str] | tuple[str, ...] | str):
        self.problems = (problems,) if isinstance(problems, str) else tuple(problems)
        super().__init__("\n".join(self.problems))


# --- the validated model ------------------------------------------------------------------------


def pain_limit(value: float | str, config=None) -> float:
    """A pain threshold as an NRS number: ``"safe"`` and ``"acceptable"`` are the bands of the
    pain-monitoring model (Thomeé 1997; Silbernagel 2007) from ``config`` (rehab.toml
    ``[pain_monitoring]``), else from :mod:`rehab.norms`."""
    if value == "safe":
        return float(config.pain_safe_max if config is not None else norms.PAIN_SAFE_MAX)
    if value == "acceptable":
        return float(config.pain_acceptable_max if config is not None
                     else norms.PAIN_ACCEPTABLE_MAX)
    if isinstance(value, str | bool) or not 0 <= float(value) <= 10:
        raise ValueError(f"pain limit {value!r} is not allowed: {PAIN_RULE}")
    return float(value)


def _pain_text(value: float | str, config=None) -> str:
    n = pain_limit(value, config)
    return f"pain ≤ {n:g}" + (f" ({value} band)" if isinstance(value, str) else "")


@dataclass(frozen=True)
class Criteria:
    """When the current dose may progress: ``sessions`` in a row that each met the rest."""

    sessions: int = 2
    all_sets: bool = True
    pain_max: float | str = "safe"
    no_spasm: bool = True
    step_back_pain_above: float | str = "acceptable"

    def describe(self, config=None) -> str:
        parts = ["all sets at the target" if self.all_sets else "the prescribed sets done",
                 _pain_text(self.pain_max, config)]
        if self.no_spasm:
            parts.append("no spasm")
        n = ("once" if self.sessions == 1 else
             "twice in a row" if self.sessions == 2 else f"{self.sessions} sessions in a row")
        return f"{', '.join(parts)}, {n}"


def dose_text(sets: float, measure: str, value: float, *, load_kg: float | None = None,
              pad: str | None = None, bench_angle_deg: float | None = None,
              per_side: bool = False) -> str:
    """A dose in words: '3 × 30 s holds, pad high, 45° bench'."""
    unit = " s holds" if measure == "hold_s" else " reps"
    s = f"{sets:g} × {value:g}{unit}"
    if per_side:
        s += " a side"
    if load_kg:
        s += f" at {round(load_kg, 1):g} kg"  # a load converted from pounds is 15.876 kg
    if pad:
        s += f", pad {pad}"
    if bench_angle_deg is not None:
        s += f", {bench_angle_deg:g}° bench"
    return s


@dataclass(frozen=True)
class Dose:
    """The starting (minimum) dose of an exercise in one session."""

    sets: int
    reps: int | None = None
    hold_s: float | None = None
    load_kg: float | None = None
    per_side: bool = False
    pad: str | None = None
    bench_angle_deg: float | None = None
    set_type: str = "normal"

    @property
    def measure(self) -> str:
        """``hold_s`` or ``reps``: what a set is measured in."""
        return "hold_s" if self.hold_s is not None else "reps"

    @property
    def value(self) -> float:
        return float(self.hold_s if self.hold_s is not None else self.reps)

    def text(self) -> str:
        return dose_text(self.sets, self.measure, self.value, load_kg=self.load_kg, pad=self.pad,
                         bench_angle_deg=self.bench_angle_deg, per_side=self.per_side)


@dataclass(frozen=True)
class Lever:
    """A progression lever: move by ``step`` up to ``max`` (pad: notches lower, down to ``max``,
    a pad position). ``reset``: go back to the start when a later lever moves."""

    lever: str
    step: float
    max: float | str | None = None
    reset: bool = False


@dataclass(frozen=True)
class Goal:
    measure: str
    value: float
    sets: int | None = None
    pad: str | None = None
    pain_max: float | str = "safe"
    no_spasm: bool = True
    text: str = ""


@dataclass(frozen=True)
class ExerciseRule:
    """One exercise of a protocol: pillars, starting dose, progression levers, criteria, goal."""

    id: str
    name: str
    pillars: tuple[str, ...]
    dose: Dose
    criteria: Criteria
    progression: tuple[Lever, ...] = ()
    goal: Goal | None = None
    slot: str | None = None
    aliases: tuple[str, ...] = ()
    method: str = ""

    def lever(self, name: str) -> Lever | None:
        return next((lv for lv in self.progression if lv.lever == name), None)

    def start(self, lever: str) -> float | str | None:
        """Where a lever starts: the dose's pad, sets, load (0 = bodyweight), reps or hold."""
        if lever == "pad":
            return self.dose.pad
        if lever == "sets":
            return float(self.dose.sets)
        if lever == "load_kg":
            return float(self.dose.load_kg or 0.0)
        return getattr(self.dose, lever)


@dataclass(frozen=True)
class Pillar:
    id: str
    name: str
    summary: str = ""
    months_min: float | None = None
    months_max: float | None = None

    def duration_text(self) -> str:
        lo, hi = self.months_min, self.months_max
        if lo is not None and hi is not None:
            return f"{lo:g}–{hi:g} months"
        if lo is not None:
            return f"at least {lo:g} months"
        return f"up to {hi:g} months" if hi is not None else ""


def lever_text(lv: Lever) -> str:
    """A lever in words: 'pad one notch lower (down to low)', 'hold time +15 s (up to 120 s)'."""
    if lv.lever == "pad":
        n = int(lv.step)
        s = "pad one notch lower" if n == 1 else f"pad {n} notches lower"
        return s + (f" (down to {lv.max})" if lv.max else "")
    unit = {"hold_s": " s", "load_kg": " kg", "reps": "", "sets": ""}[lv.lever]
    what = {"hold_s": "hold time", "load_kg": "load", "reps": "reps", "sets": "sets"}[lv.lever]
    s = f"{what} +{lv.step:g}{unit}"
    if lv.max is not None:
        s += f" (up to {float(lv.max):g}{unit})"
    if lv.reset:
        s += " [back to the start when the next lever moves]"
    return s


def goal_text(goal: Goal) -> str:
    if goal.text:
        return goal.text
    return f"{goal.value:g}" + (" s holds" if goal.measure == "hold_s" else " reps")


@dataclass(frozen=True)
class Protocol:
    """A validated protocol. ``file`` is where it was read (for messages), ``builtin`` whether it
    ships with the package, ``overrides`` the builtin file a user file replaces."""

    id: str
    name: str
    sessions_per_week: float
    pillars: dict[str, Pillar]
    exercises: dict[str, ExerciseRule]
    criteria: Criteria = field(default_factory=Criteria)
    description: str = ""
    reference: str = ""
    extends: str | None = None
    pad_positions: tuple[str, ...] = ()
    pad_numbered_from: str = "high"
    file: str = ""
    builtin: bool = True
    overrides: str | None = None

    @property
    def source(self) -> str:
        """'builtin', or the user file (and whether it overrides a builtin)."""
        if self.builtin:
            return "builtin"
        return self.file + (" (overrides builtin)" if self.overrides else "")

    def exercise_pillars(self) -> dict[str, tuple[str, ...]]:
        return {e.id: e.pillars for e in self.exercises.values()}

    def alias_table(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Normalised name → exercise id: builtin aliases, this protocol's, then ``extra``."""
        table = ex.alias_table()
        for e in self.exercises.values():
            table[ex.normalise(e.id)] = e.id
            for a in e.aliases:
                table[ex.normalise(a)] = e.id
        for k, v in (extra or {}).items():
            table[ex.normalise(k)] = v
        return table

    def pad_rank(self, pad: str | None) -> int | None:
        """Position of a logged pad setting, 0 = highest; None when it cannot be placed.

        A label of ``pad_positions`` gives its index; a number ("3", "notch 3", "hole 3") counts
        notches from the highest pad (``pad_numbered_from = "high"``) or from the lowest."""
        if pad is None:
            return None
        text = ex.normalise(str(pad))
        labels = [ex.normalise(p) for p in self.pad_positions]
        if text in labels:
            return labels.index(text)
        m = re.search(r"\d+", text)
        if m is None:
            return None
        n = int(m.group())
        return n - 1 if self.pad_numbered_from == "high" else len(self.pad_positions) - n

    def pad_label(self, rank: int) -> str:
        if 0 <= rank < len(self.pad_positions):
            return self.pad_positions[rank]
        n = rank + 1 if self.pad_numbered_from == "high" else len(self.pad_positions) - rank
        return f"notch {n}"

    def summary(self, config=None) -> str:
        """The protocol in plain text (no dates)."""
        lines = [f"{self.name} [{self.id}]"]
        if self.description:
            lines.append(self.description)
        lines.append(f"Sessions a week: {self.sessions_per_week:g}")
        if self.extends:
            lines.append(f"Extends: {self.extends}")
        if self.reference:
            lines.append(f"Reference: {self.reference}")
        lines.append(f"Progress when: {self.criteria.describe(config)}")
        lines.append("Pillars:")
        for p in self.pillars.values():
            dur = p.duration_text()
            lines.append(f"  {p.id} — {p.name}" + (f" ({dur})" if dur else "")
                         + (f": {p.summary}" if p.summary else ""))
        lines.append("Exercises:")
        for e in self.exercises.values():
            lines.append(f"  {e.id} [{', '.join(e.pillars)}]: {e.dose.text()}"
                         + (f" (slot: {e.slot})" if e.slot else ""))
            if e.progression:
                lines.append("    progression: " + ", then ".join(map(lever_text, e.progression)))
            if e.criteria != self.criteria:
                lines.append(f"    progress when: {e.criteria.describe(config)}")
            if e.goal is not None:
                lines.append(f"    goal: {goal_text(e.goal)}")
        return "\n".join(lines)

    def exercises_table(self) -> pl.DataFrame:
        """One row per exercise: exercise, name, pillars, slot, dose, progression, goal."""
        rows = [{"exercise": e.id, "name": e.name, "pillars": ", ".join(e.pillars),
                 "slot": e.slot, "dose": e.dose.text(),
                 "progression": ", then ".join(map(lever_text, e.progression)),
                 "goal": goal_text(e.goal) if e.goal else None}
                for e in self.exercises.values()]
        return pl.DataFrame(rows, schema=dict.fromkeys(
            ("exercise", "name", "pillars", "slot", "dose", "progression", "goal"), pl.String))


# --- parsing and validation ---------------------------------------------------------------------


def _fmt(value) -> str:
    """A value as it would be written in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_fmt(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def _number_rule(lo: float, hi: float | None, whole: bool, above: bool) -> str:
    what = "a whole number" if whole else "a number"
    if above:
        return f"{what} > {lo:g}" + (f" and ≤ {hi:g}" if hi is not None else "")
    if hi is not None:
        return f"{what} from {lo:g} to {hi:g}"
    return f"{what} ≥ {lo:g}"


class _Check:
    """Collects every problem of one file, each naming the file, the key and what is allowed."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[str] = []

    def _where(self, section: str) -> str:
        return f"{self.file}: [{section}] " if section else f"{self.file}: "

    def bad(self, section: str, key: str, value, allowed: str) -> None:
        self.problems.append(f"{self._where(section)}{key} = {_fmt(value)} is not allowed: "
                             f"{allowed}")

    def missing(self, section: str, key: str, allowed: str) -> None:
        self.problems.append(f"{self._where(section)}{key} is missing: {allowed}")

    def other(self, section: str, text: str) -> None:
        self.problems.append(f"{self._where(section)}{text}")

    def keys(self, section: str, table: dict, allowed: tuple[str, ...], prefix: str = "") -> None:
        for k in table:
            if k not in allowed:
                self.other(section, f"{prefix}{k} is not a known key: allowed keys are "
                           + ", ".join(prefix + a for a in allowed))

    def table(self, section: str, key: str, value) -> dict | None:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.bad(section, key, value, "a table")
            return None
        return value

    def text(self, section: str, key: str, value, *, required: bool = False) -> str | None:
        if value is None:
            if required:
                self.missing(section, key, "text")
            return None
        if not isinstance(value, str) or not value.strip():
            self.bad(section, key, value, "text (not empty)")
            return None
        return value.strip()

    def flag(self, section: str, key: str, value, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.bad(section, key, value, "true or false")
            return default
        return value

    def number(self, section: str, key: str, value, *, lo: float, hi: float | None = None,
               whole: bool = False, above: bool = False, required: bool = False):
        rule = _number_rule(lo, hi, whole, above)
        if value is None:
            if required:
                self.missing(section, key, rule)
            return None
        ok_type = isinstance(value, int) if whole else isinstance(value, int | float)
        if (isinstance(value, bool) or not ok_type
                or (isinstance(value, float) and not math.isfinite(value))
                or (value <= lo if above else value < lo) or (hi is not None and value > hi)):
            self.bad(section, key, value, rule)
            return None
        return value

    def pain(self, section: str, key: str, value, default: float | str) -> float | str:
        if value is None:
            return default
        if value in PAIN_BANDS:
            return value
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or not 0 <= value <= 10):
            self.bad(section, key, value, PAIN_RULE)
            return default
        return float(value)

    def text_list(self, section: str, key: str, value) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.bad(section, key, value, 'a list of texts, e.g. ["a", "b"]')
            return ()
        return tuple(v.strip() for v in value)


def _criteria(c: _Check, section: str, raw, base: Criteria, prefix: str = "") -> Criteria:
    t = c.table(section, prefix.rstrip(".") or "criteria", raw)
    if not t:
        return base
    c.keys(section, t, _CRITERIA_KEYS, prefix)
    n = c.number(section, f"{prefix}sessions", t.get("sessions"), lo=1, hi=20, whole=True)
    return Criteria(
        sessions=int(n) if n is not None else base.sessions,
        all_sets=c.flag(section, f"{prefix}all_sets", t.get("all_sets"), base.all_sets),
        pain_max=c.pain(section, f"{prefix}pain_max", t.get("pain_max"), base.pain_max),
        no_spasm=c.flag(section, f"{prefix}no_spasm", t.get("no_spasm"), base.no_spasm),
        step_back_pain_above=c.pain(section, f"{prefix}step_back_pain_above",
                                    t.get("step_back_pain_above"), base.step_back_pain_above),
    )


def _dose(c: _Check, section: str, raw, pads: tuple[str, ...]) -> Dose | None:
    if raw is None:
        c.missing(section, "dose", "a table such as { sets = 3, hold_s = 30 } or "
                  "{ sets = 3, reps = 10 }")
        return None
    t = c.table(section, "dose", raw)
    if t is None:
        return None
    c.keys(section, t, _DOSE_KEYS, "dose.")
    n0 = len(c.problems)
    sets = c.number(section, "dose.sets", t.get("sets"), lo=1, hi=50, whole=True, required=True)
    reps = c.number(section, "dose.reps", t.get("reps"), lo=1, hi=1000, whole=True)
    hold = c.number(section, "dose.hold_s", t.get("hold_s"), lo=0, hi=3600, above=True)
    if "reps" in t and "hold_s" in t:
        c.other(section, "dose has both reps and hold_s: give one of them (a set is measured "
                "in reps or in seconds held)")
    elif "reps" not in t and "hold_s" not in t:
        c.missing(section, "dose.reps or dose.hold_s", "one of them (reps: a whole number ≥ 1; "
                  "hold_s: seconds > 0)")
    load = c.number(section, "dose.load_kg", t.get("load_kg"), lo=0, hi=500)
    angle = c.number(section, "dose.bench_angle_deg", t.get("bench_angle_deg"), lo=0, hi=90)
    per_side = c.flag(section, "dose.per_side", t.get("per_side"), False)
    pad = c.text(section, "dose.pad", t.get("pad"))
    if pad is not None and not pads:
        c.other(section, f"dose.pad = {_fmt(pad)} needs pad_positions at the top of the file "
                "(the pad settings, highest first)")
    elif pad is not None and pad not in pads:
        c.bad(section, "dose.pad", pad, "one of pad_positions: " + ", ".join(pads))
    set_type = t.get("set_type", "normal")
    if set_type not in DOSE_SET_TYPES:
        c.bad(section, "dose.set_type", set_type, "one of " + ", ".join(DOSE_SET_TYPES))
    if len(c.problems) > n0:
        return None
    return Dose(sets=int(sets), reps=int(reps) if reps is not None else None,
                hold_s=float(hold) if hold is not None else None,
                load_kg=float(load) if load is not None else None, per_side=per_side, pad=pad,
                bench_angle_deg=float(angle) if angle is not None else None, set_type=set_type)


def _levers(c: _Check, section: str, raw, dose: Dose, pads: tuple[str, ...]) -> tuple[Lever, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        c.bad(section, "progression", raw,
              'a list of tables such as [{ lever = "reps", step = 1, max = 15 }]')
        return ()
    allowed = ", ".join(x for x in LEVERS if x not in MEASURES or x == dose.measure)
    out: list[Lever] = []
    where: list[int] = []  # each accepted lever's index in the file's list (for messages)
    for i, t in enumerate(raw):
        k = f"progression[{i}]."
        c.keys(section, t, _LEVER_KEYS, k)
        name = t.get("lever")
        if name is None:
            c.missing(section, k + "lever", allowed)
            continue
        if name not in LEVERS or (name in MEASURES and name != dose.measure):
            c.bad(section, k + "lever", name,
                  f"one of {allowed} (this dose is measured in {dose.measure})")
            continue
        if any(lv.lever == name for lv in out):
            c.bad(section, k + "lever", name, "a lever not listed before")
            continue
        reset = c.flag(section, k + "reset", t.get("reset"), False)
        if name == "pad":
            if dose.pad is None:
                c.other(section, f'{k}lever = "pad" needs dose.pad (the starting pad)')
                continue
            step = c.number(section, k + "step", t.get("step", 1), lo=1, hi=len(pads), whole=True)
            mx = t.get("max", pads[-1])
            lower = pads[pads.index(dose.pad) + 1:]
            if mx not in lower:
                c.bad(section, k + "max", mx, "a pad position below the starting pad: "
                      + (", ".join(lower) if lower else "none (the start is the lowest)"))
                continue
            if step is not None:
                out.append(Lever("pad", float(step), mx, reset))
                where.append(i)
            continue
        whole = name in ("reps", "sets")
        step = c.number(section, k + "step", t.get("step", 1 if name == "sets" else None),
                        lo=0, hi=1000, whole=whole, above=True, required=True)
        start = {"sets": dose.sets, "load_kg": dose.load_kg or 0.0}.get(name, dose.value)
        mx = c.number(section, k + "max", t.get("max"), lo=start, hi=5000, whole=whole)
        if step is None or ("max" in t and mx is None):
            continue
        out.append(Lever(name, float(step), float(mx) if mx is not None else None, reset))
        where.append(i)
    for i, lv in zip(where[:-1], out[:-1], strict=True):
        if lv.max is None:
            c.missing(section, f"progression[{i}].max",
                      f"a lever followed by another needs a max ({lv.lever} ≥ its start), "
                      "otherwise the next lever is never reached")
    return tuple(out)


def _goal(c: _Check, section: str, raw, dose: Dose, pads: tuple[str, ...],
          criteria: Criteria) -> Goal | None:
    t = c.table(section, "goal", raw)
    if not t:
        return None
    c.keys(section, t, _GOAL_KEYS, "goal.")
    m = dose.measure
    other = "reps" if m == "hold_s" else "hold_s"
    if other in t:
        c.bad(section, f"goal.{other}", t[other], f"goal.{m} only: the dose is measured in {m}")
    v = c.number(section, f"goal.{m}", t.get(m), lo=0, hi=5000, above=True, required=True)
    sets = c.number(section, "goal.sets", t.get("sets"), lo=1, hi=50, whole=True)
    pad = c.text(section, "goal.pad", t.get("pad"))
    if pad is not None and pad not in pads:
        c.bad(section, "goal.pad", pad, "one of pad_positions: " + (", ".join(pads) or "(none)"))
        pad = None
    text = c.text(section, "goal.text", t.get("text")) or ""
    pain = c.pain(section, "goal.pain_max", t.get("pain_max"), criteria.pain_max)
    spasm = c.flag(section, "goal.no_spasm", t.get("no_spasm"), criteria.no_spasm)
    if v is None:
        return None
    return Goal(m, float(v), int(sets) if sets is not None else None, pad, pain, spasm, text)


def parse_protocol(doc: dict, *, file: str, default_id: str | None = None, builtin: bool = False,
                   overrides: str | None = None) -> Protocol:
    """Validate one protocol document (``extends`` already resolved). A :class:`ProtocolError`
    lists every problem, each naming ``file``, the key and what is allowed."""
    if not isinstance(doc, dict):
        raise ProtocolError(f"{file}: not a TOML table")
    c = _Check(file)
    c.keys("", doc, _TOP_KEYS)
    pid = doc.get("id", default_id)
    if not isinstance(pid, str) or not ID_PATTERN.match(pid):
        c.bad("", "id", pid, ID_RULE)
        pid = default_id or "?"
    name = c.text("", "name", doc.get("name"), required=True) or pid
    spw = c.number("", "sessions_per_week", doc.get("sessions_per_week"), lo=0, hi=14, above=True,
                   required=True)
    pads = c.text_list("", "pad_positions", doc.get("pad_positions"))
    if pads and (len(pads) < 2 or len(set(pads)) != len(pads)):
        c.bad("", "pad_positions", list(pads), "at least two different pad settings, highest first")
        pads = ()
    numbered = doc.get("pad_numbered_from", "high")
    if numbered not in ("high", "low"):
        c.bad("", "pad_numbered_from", numbered, '"high" (1 = the highest pad) or "low"')
        numbered = "high"
    criteria = _criteria(c, "criteria", doc.get("criteria"), Criteria())
    for key in ("description", "reference", "extends"):
        c.text("", key, doc.get(key))

    pillars: dict[str, Pillar] = {}
    ptab = c.table("", "pillars", doc.get("pillars"))
    if ptab == {}:
        c.missing("", "[pillars]", 'at least one pillar, e.g. [pillars.S] name = "Sensitivity"')
    for p_id, raw in (ptab or {}).items():
        sec = f"pillars.{p_id}"
        if not PILLAR_PATTERN.match(p_id):
            c.other(sec, "is not an allowed pillar id: letters, digits, '-' or '_' (up to 32)")
            continue
        t = c.table("pillars", p_id, raw)
        if t is None:
            continue
        c.keys(sec, t, _PILLAR_KEYS)
        lo = c.number(sec, "months_min", t.get("months_min"), lo=0, hi=120)
        hi = c.number(sec, "months_max", t.get("months_max"), lo=lo or 0, hi=120)
        pillars[p_id] = Pillar(p_id, c.text(sec, "name", t.get("name"), required=True) or p_id,
                               c.text(sec, "summary", t.get("summary")) or "", lo, hi)

    exercises: dict[str, ExerciseRule] = {}
    etab = c.table("", "exercises", doc.get("exercises"))
    if etab == {}:
        c.missing("", "[exercises]", "at least one exercise, e.g. [exercises.plank]")
    for e_id, raw in (etab or {}).items():
        sec = f"exercises.{e_id}"
        if not EXERCISE_PATTERN.match(e_id):
            c.other(sec, f"is not an allowed exercise id: {EXERCISE_RULE}")
            continue
        t = c.table("exercises", e_id, raw)
        if t is None:
            continue
        c.keys(sec, t, _EXERCISE_KEYS)
        ps = c.text_list(sec, "pillars", t.get("pillars"))
        if "pillars" not in t or ("pillars" in t and not ps and isinstance(t["pillars"], list)):
            c.missing(sec, "pillars", "a list of this protocol's pillars: " + ", ".join(pillars))
        elif pillars and any(p not in pillars for p in ps):
            c.bad(sec, "pillars", list(ps), "pillars of this protocol: " + ", ".join(pillars))
        dose = _dose(c, sec, t.get("dose"), pads)
        crit = _criteria(c, sec, t.get("criteria"), criteria, "criteria.")
        if dose is None:
            continue
        levers = _levers(c, sec, t.get("progression"), dose, pads)
        goal = _goal(c, sec, t.get("goal"), dose, pads, crit)
        exercises[e_id] = ExerciseRule(
            id=e_id, name=c.text(sec, "name", t.get("name")) or e_id.replace("_", " "),
            pillars=ps, dose=dose, criteria=crit, progression=levers, goal=goal,
            slot=c.text(sec, "slot", t.get("slot")),
            aliases=c.text_list(sec, "aliases", t.get("aliases")),
            method=c.text(sec, "method", t.get("method")) or "",
        )
    for p in pillars:
        if exercises and not any(p in e.pillars for e in exercises.values()):
            c.other(f"pillars.{p}", f'has no exercise: list it in an exercise (pillars = ["{p}"]) '
                    "or remove the pillar")
    if c.problems:
        raise ProtocolError(c.problems)
    return Protocol(
        id=pid, name=name, sessions_per_week=float(spw), pillars=pillars, exercises=exercises,
        criteria=criteria, description=str(doc.get("description", "")).strip(),
        reference=str(doc.get("reference", "")).strip(), extends=doc.get("extends"),
        pad_positions=pads, pad_numbered_from=numbered, file=file, builtin=builtin,
        overrides=overrides,
    )


# --- files: builtin and the project's protocols/ ---------------------------------------------------


@dataclass(frozen=True)
class _Doc:
    id: str
    doc: dict
    file: str
    builtin: bool


def _display(path: Path, root: Path | None) -> str:
    """A file as messages name it: relative to the project (or the package's parent)."""
    for base in ([root] if root else []) + [BUILTIN_DIR.parent.parent]:
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            continue
    return str(path)


def _read(path: Path, display: str, builtin: bool) -> _Doc:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ProtocolError(f"{display}: not valid TOML: {e}") from e
    except OSError as e:
        raise ProtocolError(f"{display}: cannot be read: {e.strerror}") from e
    pid = doc.get("id", path.stem)
    if not isinstance(pid, str) or not ID_PATTERN.match(pid):
        raise ProtocolError(f"{display}: id = {_fmt(pid)} is not allowed: {ID_RULE}")
    return _Doc(pid, doc, display, builtin)


def _merge(base: dict, child: dict) -> dict:
    """``child`` over ``base``: tables merge key by key, anything else is replaced."""
    out = dict(base)
    for k, v in child.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@dataclass(frozen=True)
class ProtocolSet:
    """The protocols available in a project: the builtin ones and the project's own."""

    protocols: dict[str, Protocol]
    notes: tuple[str, ...] = ()

    def __getitem__(self, pid: str) -> Protocol:
        if pid not in self.protocols:
            raise ProtocolError(f"protocol {pid!r} is not known: known are "
                                f"{', '.join(sorted(self.protocols))} (add protocols/{pid}.toml "
                                "to the project folder for your own)")
        return self.protocols[pid]

    def __contains__(self, pid: object) -> bool:
        return pid in self.protocols

    def __iter__(self) -> Iterator[str]:
        return iter(self.protocols)

    def __len__(self) -> int:
        return len(self.protocols)

    def get(self, pid: str, default=None):
        return self.protocols.get(pid, default)

    def table(self) -> pl.DataFrame:
        """One row per protocol: id, name, sessions_per_week, pillars, exercises, source."""
        rows = [{"id": p.id, "name": p.name, "sessions_per_week": p.sessions_per_week,
                 "pillars": ", ".join(p.pillars), "exercises": len(p.exercises),
                 "source": p.source} for p in self.protocols.values()]
        schema = {"id": pl.String, "name": pl.String, "sessions_per_week": pl.Float64,
                  "pillars": pl.String, "exercises": pl.Int64, "source": pl.String}
        return pl.DataFrame(rows, schema=schema).sort("id")


def _resolve_all(builtin: dict[str, _Doc], user: dict[str, _Doc],
                 problems: list[str]) -> dict[tuple[str, bool], dict]:
    """Every document with its ``extends`` chain merged in (problems appended, not raised)."""
    resolved: dict[tuple[str, bool], dict | None] = {}

    def resolve(d: _Doc, stack: tuple[str, ...]) -> dict | None:
        key = (d.id, d.builtin)
        if key in resolved:
            return resolved[key]
        base_id = d.doc.get("extends")
        doc = dict(d.doc)
        if base_id is not None:
            if not isinstance(base_id, str):
                problems.append(f"{d.file}: extends = {_fmt(base_id)} is not allowed: a protocol id")
                resolved[key] = None
                return None
            # a user file extending its own id starts from the builtin it replaces
            base = (builtin.get(base_id) if (base_id == d.id or d.builtin)
                    else user.get(base_id) or builtin.get(base_id))
            if base is None or base.file in stack:
                why = ("that would extend itself in a loop" if base is not None else
                       "known are " + ", ".join(sorted((set(builtin) | set(user)) - {d.id})))
                problems.append(f"{d.file}: extends = {_fmt(base_id)} is not allowed: {why}")
                resolved[key] = None
                return None
            base_doc = resolve(base, (*stack, d.file))
            if base_doc is None:
                if not any(p.startswith(d.file + ":") for p in problems):
                    problems.append(f"{d.file}: extends = {_fmt(base_id)} is not allowed: "
                                    f"{base.file} has problems (see above)")
                resolved[key] = None
                return None
            child = {k: v for k, v in d.doc.items() if k != "remove_exercises"}
            doc = _merge({k: v for k, v in base_doc.items() if k not in ("id", "extends")}, child)
            removed = d.doc.get("remove_exercises", [])
            exs = dict(doc.get("exercises", {}))
            if not isinstance(removed, list) or not all(isinstance(r, str) for r in removed):
                problems.append(f"{d.file}: remove_exercises = {_fmt(removed)} is not allowed: "
                                "a list of exercise ids")
                resolved[key] = None
                return None
            unknown = [r for r in removed if r not in exs]
            if unknown:
                problems.append(f"{d.file}: remove_exercises = {_fmt(removed)} is not allowed: "
                                f"{', '.join(unknown)} not among the exercises of {base_id!r} "
                                f"({', '.join(exs)})")
                resolved[key] = None
                return None
            doc["exercises"] = {k: v for k, v in exs.items() if k not in removed}
        elif "remove_exercises" in d.doc:
            problems.append(f"{d.file}: remove_exercises is not allowed without extends: leave "
                            "the exercises out of the file instead")
            resolved[key] = None
            return None
        doc["id"] = d.id
        resolved[key] = doc
        return doc

    for d in list(builtin.values()) + list(user.values()):
        resolve(d, (d.file,))
    return {k: v for k, v in resolved.items() if v is not None}


def load_protocols(root: str | Path | None = None, *,
                   user_dir: str | Path | None = None) -> ProtocolSet:
    """The builtin protocols plus ``<root>/protocols/*.toml`` (or ``user_dir``).

    A user file with a builtin's id replaces it (said in ``notes``); ``extends`` chains are merged
    (a user file extending its own id starts from the builtin). Every problem of every file is
    raised at once as a :class:`ProtocolError`."""
    if user_dir is None:
        from rehab.paths import ProjectPaths

        paths = ProjectPaths(Path(root).resolve()) if root is not None else ProjectPaths.discover()
        root_p, udir = paths.root, paths.protocols
    else:
        udir = Path(user_dir)
        root_p = Path(root).resolve() if root is not None else udir.resolve().parent
    problems: list[str] = []
    builtin: dict[str, _Doc] = {}
    user: dict[str, _Doc] = {}
    files = [(p, True) for p in sorted(BUILTIN_DIR.glob("*.toml"))]
    if udir.is_dir():
        files += [(p, False) for p in sorted(udir.glob("*.toml")) if not p.name.startswith(".")]
    for path, is_builtin in files:
        try:
            d = _read(path, _display(path, root_p), is_builtin)
        except ProtocolError as e:
            problems.extend(e.problems)
            continue
        into = builtin if is_builtin else user
        if d.id in into:
            problems.append(f"{d.file}: id = {_fmt(d.id)} is not allowed: {into[d.id].file} "
                            "already has it (each protocol id once)")
            continue
        into[d.id] = d
    docs = _resolve_all(builtin, user, problems)
    out: dict[str, Protocol] = {}
    notes: list[str] = []
    for d in list(builtin.values()) + list(user.values()):
        doc = docs.get((d.id, d.builtin))
        if doc is None:
            continue
        over = builtin[d.id].file if (not d.builtin and d.id in builtin) else None
        try:
            out[d.id] = parse_protocol(doc, file=d.file, default_id=d.id, builtin=d.builtin,
                                       overrides=over)
        except ProtocolError as e:
            problems.extend(e.problems)
            continue
        if over:
            notes.append(f"{d.file} overrides the builtin protocol {d.id!r} ({over})")
    if problems:
        raise ProtocolError(problems)
    return ProtocolSet(dict(sorted(out.items())), tuple(notes))


def get_protocol(pid: str, *, root: str | Path | None = None) -> Protocol:
    """One protocol by id: the project's own first, then the builtin ones."""
    return load_protocols(root)[pid]


def builtin_protocols() -> ProtocolSet:
    """Only the protocols shipped with the package (no project folder read)."""
    return load_protocols(BUILTIN_DIR.parent.parent, user_dir=BUILTIN_DIR / ".no-user-dir")


__all__ = [
    "BUILTIN_DIR",
    "LEVERS",
    "Criteria",
    "Dose",
    "ExerciseRule",
    "Goal",
    "Lever",
    "Pillar",
    "Protocol",
    "ProtocolError",
    "ProtocolSet",
    "builtin_protocols",
    "dose_text",
    "get_protocol",
    "goal_text",
    "lever_text",
    "load_protocols",
    "pain_limit",
    "parse_protocol",
]
