"""Canonical tables: column names, types and allowed values. The one place for each column.

Every reader, importer and model takes its column names from here.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

import polars as pl

from rehab.paths import PARTICIPANT_PATTERN, PARTICIPANT_RULE  # noqa: F401 (re-exported)

DEFAULT_PARTICIPANT = "me"


@dataclass(frozen=True)
class Column:
    """One canonical column.

    kind: date | time | text | int | float | bool | choice
    """

    name: str
    kind: str
    required: bool = False
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    default: object = None
    description: str = ""

    @property
    def dtype(self) -> pl.DataType:
        return {
            "date": pl.Date(),
            "time": pl.String(),
            "text": pl.String(),
            "int": pl.Int64(),
            "float": pl.Float64(),
            "bool": pl.Boolean(),
            "choice": pl.String(),
        }[self.kind]

    def allowed(self) -> str:
        """Human-readable rule for messages: what is allowed in this column."""
        if self.kind == "date":
            return "a date YYYY-MM-DD"
        if self.kind == "time":
            return "a time HH:MM"
        if self.kind == "bool":
            return "yes/no, true/false, 1/0"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind in ("int", "float"):
            what = "a whole number" if self.kind == "int" else "a number"
            if self.min is not None and self.max is not None:
                return f"{what} from {self.min:g} to {self.max:g}"
            if self.min is not None:
                return f"{what} ≥ {self.min:g}"
            return what
        return "text"


@dataclass(frozen=True)
class TableSpec:
    kind: str  # sessions | diary | tests | phases | questionnaires
    columns: tuple[Column, ...]
    file_glob: str
    description: str = ""
    # a record must carry a value in at least one of these (empty = no such rule)
    at_least_one: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def polars_schema(self) -> dict[str, pl.DataType]:
        return {c.name: c.dtype for c in self.columns}

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.polars_schema)


SIDES = ("left", "right", "both")
SET_TYPES = ("normal", "warmup", "test", "failure", "drop")
MOMENTS = ("morning", "pre", "post", "evening", "night", "other")
TEST_IDS = (
    "sorensen_hold",
    "back_extension_hold",
    "back_extension_reps",
    "side_bridge_left",
    "side_bridge_right",
    "flexor_hold",
    "split_squat_hold_left",
    "split_squat_hold_right",
)
# Unit inferred from the test id: reps for *_reps, seconds otherwise.
UNITS = ("s", "reps")
REPS_SUFFIX = "_reps"


def unit_for_test(test_id: str) -> str:
    return "reps" if test_id.endswith(REPS_SUFFIX) else "s"


_P = Column("participant", "text", default=DEFAULT_PARTICIPANT, description="participant id")

SESSIONS = TableSpec(
    kind="sessions",
    file_glob="sessions*.csv",
    description="one row per set",
    columns=(
        _P,
        Column("date", "date", required=True),
        Column("time", "time"),
        Column("exercise", "text", required=True, description="canonical exercise id or as written"),
        Column("variant", "text", description="the exercise name as written, when mapped to an id"),
        Column("set", "int", required=True, min=1),
        Column("side", "choice", choices=SIDES),
        Column("set_type", "choice", choices=SET_TYPES, default="normal"),
        Column("reps", "int", min=0),
        Column("hold_s", "float", min=0),
        Column("load_kg", "float", min=0, description="0 or empty = bodyweight"),
        Column("rpe", "float", min=0, max=10),
        Column("pain", "float", min=0, max=10),
        Column("pump", "int", min=0, max=3),
        Column("bench_angle_deg", "float", min=0, max=90),
        Column("pad", "text"),
        Column("session_rpe", "float", min=0, max=10),
        Column("duration_min", "float", min=0),
        Column("protocol", "text"),
        Column("phase", "text"),
        Column("notes", "text"),
    ),
)

DIARY = TableSpec(
    kind="diary",
    file_glob="diary*.csv",
    description="one row per diary entry",
    columns=(
        _P,
        Column("date", "date", required=True),
        Column("time", "time"),
        Column("moment", "choice", choices=MOMENTS),
        # pain is the diary's main measure, but an entry of mood or sleep alone (an app's export)
        # is kept too: a record needs at least one measure (DIARY.at_least_one)
        Column("pain", "float", min=0, max=10),
        Column("stiffness", "float", min=0, max=10),
        Column("tightness", "float", min=0, max=10),
        Column("spasm", "bool"),
        Column("flare", "bool"),
        Column("sleep_h", "float", min=0, max=24),
        Column("mood", "float", min=1, max=5, description="mood level 1-5 (imported apps)"),
        Column("energy", "float", min=1, max=5, description="energy level 1-5 (imported apps)"),
        Column("location", "text"),
        Column("notes", "text"),
    ),
    at_least_one=("pain", "stiffness", "tightness", "spasm", "flare", "sleep_h", "mood", "energy",
                  "notes"),
)

TESTS = TableSpec(
    kind="tests",
    file_glob="tests*.csv",
    description="one row per test attempt",
    columns=(
        _P,
        Column("date", "date", required=True),
        Column("test", "text", required=True),
        Column("value", "float", required=True, min=0),
        Column("unit", "choice", choices=UNITS),
        Column("bench_angle_deg", "float", min=0, max=90),
        Column("pain", "float", min=0, max=10),
        Column("notes", "text"),
    ),
)

PHASES = TableSpec(
    kind="phases",
    file_glob="phases*.csv",
    description="which protocol a person followed when",
    columns=(
        _P,
        Column("start", "date", required=True),
        Column("end", "date"),
        Column("protocol", "text", required=True),
        Column("phase", "text"),
    ),
)

# Questionnaires: the allowed range of a score depends on its instrument (checked per row by the
# readers; the item answers, when given, are scored by rehab.instruments and must agree)
SCORE_RANGES: dict[str, tuple[float, float]] = {
    "odi": (0.0, 100.0),  # Oswestry Disability Index 2.1a, %
    "rmdq": (0.0, 24.0),  # Roland-Morris Disability Questionnaire, yes answers of 24
    "psfs": (0.0, 10.0),  # Patient-Specific Functional Scale, mean of the activities' ratings
    "nrs": (0.0, 10.0),  # pain numeric rating scale
}
QUESTIONNAIRE_INSTRUMENTS = tuple(SCORE_RANGES)

QUESTIONNAIRES = TableSpec(
    kind="questionnaires",
    file_glob="questionnaires*.csv",
    description="one row per completed questionnaire",
    columns=(
        _P,
        Column("date", "date", required=True),
        Column("instrument", "choice", required=True, choices=QUESTIONNAIRE_INSTRUMENTS),
        Column("score", "float", required=True,
               description="odi 0-100, rmdq 0-24, psfs 0-10, nrs 0-10 (SCORE_RANGES)"),
        Column("items", "text", description="item answers in order, separated by spaces or "
                                            "commas; '-' for one not answered"),
        Column("notes", "text"),
    ),
)

TABLES: dict[str, TableSpec] = {
    t.kind: t for t in (SESSIONS, DIARY, TESTS, PHASES, QUESTIONNAIRES)
}


def spec_for_file(name: str) -> TableSpec | None:
    """The table a file holds, from its name (sessions*.csv, diary*.csv, ...), or None."""
    low = name.lower()
    for spec in TABLES.values():
        if fnmatch.fnmatch(low, spec.file_glob):
            return spec
    return None


def require_columns(df, cols, what: str) -> None:
    """Raise ValueError unless ``df`` is a polars DataFrame holding every column in ``cols``."""
    if not isinstance(df, pl.DataFrame):
        raise ValueError(f"{what}: expected a polars DataFrame, got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: column(s) {', '.join(missing)} missing; it needs "
                         f"{', '.join(cols)} (has {', '.join(df.columns) or 'none'})")


# The tidy table every model fit returns (STYLE.md): one row a term.
TIDY_SCHEMA: dict[str, pl.DataType] = {
    "term": pl.String(),
    "estimate": pl.Float64(),
    "std_error": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "p_value": pl.Float64(),
}


def tidy_schema(*, p_value: bool = True, **extra: pl.DataType) -> dict[str, pl.DataType]:
    """:data:`TIDY_SCHEMA`, without ``p_value`` where a fit gives none, plus ``extra`` columns."""
    base = {k: v for k, v in TIDY_SCHEMA.items() if p_value or k != "p_value"}
    return {**base, **extra}
