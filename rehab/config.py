"""A person's settings from ``rehab.toml``; defaults come from :mod:`rehab.norms`.

Example ``rehab.toml``::

    [units]
    weight = "kg"            # unit for exports that carry none (Strong's comma layout): kg or lb

    [participants.me]
    sex = "male"             # male | female | unknown: the Sorensen risk thresholds apply to men only
    src_group = "current_lbp"
    hold_target_s = 120

    [aliases]                # extra exercise names → canonical ids
    "Hyperextension (machine)" = "back_extension"

    [moods]                  # Daylio mood labels → level 1-5
    "meh" = 3

    [tests]                  # exercise names (as the app writes them) whose sets are tests → test id
    "Back extension max hold" = "back_extension_hold"

    [bearable]               # rehab import of Bearable exports
    severity = [2, 5, 7.5, 9.5]   # pain 0-10 for Mild, Moderate, Severe, Unbearable (the default)
    [bearable.symptoms]      # symptom name → pain | stiffness | tightness | spasm | ignore
    "Sciatica" = "pain"      # default: names with back/lumbar/sciatica/spine; others are skipped

    [pain_monitoring]
    safe_max = 2
    acceptable_max = 5

    [protocol]
    sessions_per_week = 2    # the adherence target (default: the protocol's, else 2)

    [report]
    include_notes = false    # true or false (a quoted "false" is an error, not true)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from rehab import norms

BEARABLE_SYMPTOM_TARGETS = ("pain", "stiffness", "tightness", "spasm", "ignore")


class ConfigError(ValueError):
    """rehab.toml is unreadable or holds a value that is not allowed."""


@dataclass(frozen=True)
class ParticipantSettings:
    sex: str = "unknown"
    src_group: str = norms.DEFAULT_SRC_GROUP
    hold_target_s: float | None = None


@dataclass(frozen=True)
class Config:
    weight_unit: str | None = None
    participants: dict[str, ParticipantSettings] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    moods: dict[str, float] = field(default_factory=dict)
    test_exercises: dict[str, str] = field(default_factory=dict)
    bearable_severity: tuple[float, ...] | None = None
    bearable_symptoms: dict[str, str] = field(default_factory=dict)
    pain_safe_max: float = norms.PAIN_SAFE_MAX
    pain_acceptable_max: float = norms.PAIN_ACCEPTABLE_MAX
    include_notes: bool = False
    sessions_per_week_target: float = 2.0
    raw: dict = field(default_factory=dict)

    def participant(self, pid: str) -> ParticipantSettings:
        return self.participants.get(pid, ParticipantSettings())

    def src_seconds(self, pid: str) -> float:
        """Smallest real change of a Sorensen hold for this participant (default 32.1 s)."""
        return norms.SORENSEN_SRC_S[self.participant(pid).src_group]


def _fail(path: Path, key: str, value, allowed: str) -> NoReturn:
    raise ConfigError(f"{path}: [{key}] = {value!r} is not allowed: {allowed}")


def _table(path: Path, raw: dict, key: str) -> dict:
    """The TOML table ``[key]`` (empty when absent); anything else is an error naming it."""
    value = raw.get(key, {})
    if not isinstance(value, dict):
        _fail(path, key, value, "a table")
    return value


def _number(path: Path, key: str, value, *, low: float, high: float | None = None) -> float:
    """``value`` as a float within [low, high]; a string, bool or NaN is an error naming the key."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
    if not ok or value < low or (high is not None and value > high):
        rule = f"a number from {low:g} to {high:g}" if high is not None else f"a number ≥ {low:g}"
        _fail(path, key, value, rule)
    return float(value)


def load_config(path: Path | None) -> Config:
    """Read ``rehab.toml``; a missing file gives the defaults."""
    if path is None or not Path(path).is_file():
        return Config()
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e
    unit = _table(path, raw, "units").get("weight")
    if unit is not None and unit not in ("kg", "lb"):
        _fail(path, "units.weight", unit, "kg or lb")
    parts = {}
    for pid, p in _table(path, raw, "participants").items():
        if not isinstance(p, dict):
            _fail(path, f"participants.{pid}", p, "a table (sex, src_group, hold_target_s)")
        sex = p.get("sex", "unknown")
        if sex not in ("male", "female", "unknown"):
            _fail(path, f"participants.{pid}.sex", sex, "male, female or unknown")
        grp = p.get("src_group", norms.DEFAULT_SRC_GROUP)
        if grp not in norms.SORENSEN_SEM_S:
            _fail(path, f"participants.{pid}.src_group", grp, ", ".join(norms.SORENSEN_SEM_S))
        hold = p.get("hold_target_s")
        if hold is not None:
            hold = _number(path, f"participants.{pid}.hold_target_s", hold, low=1)
        parts[pid] = ParticipantSettings(sex=sex, src_group=grp, hold_target_s=hold)
    pm = _table(path, raw, "pain_monitoring")
    safe = _number(path, "pain_monitoring.safe_max", pm.get("safe_max", norms.PAIN_SAFE_MAX),
                   low=0, high=10)
    acc = _number(path, "pain_monitoring.acceptable_max",
                  pm.get("acceptable_max", norms.PAIN_ACCEPTABLE_MAX), low=0, high=10)
    if not 0 <= safe < acc <= 10:
        _fail(path, "pain_monitoring", {"safe_max": safe, "acceptable_max": acc},
              "0 ≤ safe_max < acceptable_max ≤ 10")
    aliases = {str(k): str(v) for k, v in _table(path, raw, "aliases").items()}
    moods = {}
    for k, v in _table(path, raw, "moods").items():
        if not isinstance(v, (int, float)):
            _fail(path, f"moods.{k}", v, "a number (mood level)")
        moods[str(k)] = float(v)
    tests = {str(k): str(v) for k, v in _table(path, raw, "tests").items()}
    bearable = _table(path, raw, "bearable")
    severity = bearable.get("severity")
    if severity is not None:
        ok = isinstance(severity, list) and len(severity) == 4 and all(
            isinstance(x, (int, float)) and 0 <= x <= 10 for x in severity
        )
        if not ok:
            _fail(path, "bearable.severity", severity, "four numbers from 0 to 10 (Mild..Unbearable)")
        severity = tuple(float(x) for x in severity)
    symptoms = {str(k): str(v) for k, v in _table(path, bearable, "symptoms").items()}
    for k, v in symptoms.items():
        if v not in BEARABLE_SYMPTOM_TARGETS:
            _fail(path, f"bearable.symptoms.{k}", v, ", ".join(BEARABLE_SYMPTOM_TARGETS))
    include_notes = _table(path, raw, "report").get("include_notes", False)
    if not isinstance(include_notes, bool):  # bool("false") is True: notes would leak into reports
        _fail(path, "report.include_notes", include_notes, "true or false (unquoted)")
    per_week = _number(path, "protocol.sessions_per_week",
                       _table(path, raw, "protocol").get("sessions_per_week", 2.0), low=0.5, high=14)
    return Config(
        weight_unit=unit,
        participants=parts,
        aliases=aliases,
        moods=moods,
        test_exercises=tests,
        bearable_severity=severity,
        bearable_symptoms=symptoms,
        pain_safe_max=safe,
        pain_acceptable_max=acc,
        include_notes=include_notes,
        sessions_per_week_target=per_week,
        raw=raw,
    )
