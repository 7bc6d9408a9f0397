"""Planning a randomized n-of-1 comparison of two protocols, and analysing it as planned.

A **plan** fixes, before any data are seen, when a person switches between protocol A and
protocol B, by drawing the phase changes at random from an **admissible set** (Edgington 1980;
Onghena 1992; Kratochwill & Levin 2010). The randomization test that matches the design then
compares the observed effect with the effect under every other schedule the draw could have
produced: that, and only that, makes its p-value exact.

Designs (time in whole weeks counted from the start date; N weeks, every phase at least K):

* ``ab``: one change; B starts after b weeks, b = K..N-K: N - 2K + 1 schedules.
* ``abab``: three changes (A1 B1 A2 B2), each phase at least K weeks: C(N - 4K + 3, 3)
  schedules (stars and bars).
* ``multiple-baseline`` (AB across P people, staggered; Koehler & Levin 1998): the weeks
  K..N-K are cut into P consecutive windows of nearly equal size; the people are assigned to
  the windows in a random order (P! orders) and each person's B start is drawn from their
  window: P! x (product of the window sizes) schedules, and no two people switch in the same
  week. The matching test is :func:`rehab.sced.randomization_test_mb` with
  ``model="koehler_levin"``.

The draw uses ``numpy.random.default_rng(seed)``; the plan records the seed, so the same call
draws the same plan. A plan lives in ``plans/<id>.toml`` (id = the participant, or
``mb-<first participant>`` for a multiple baseline) and its phases in
``data/raw/phases-plan-<id>.csv`` (the kit's phases format), which is what the person follows and
edits if the phases turn out differently.

Analysis: :func:`plan_deviations` lines the logged phases up against the plan;
:func:`planned_test` maps the admissible set (in weeks) onto the outcome's points and runs the
design's randomization test, saying what any deviation does to the p-value (:class:`PlanAnalysis`).

Nothing runs on import.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import secrets
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from rehab import sced
from rehab.paths import PathError, ProjectPaths, atomic_write_text, check_participant, inside
from rehab.schema import PHASES

DESIGNS = ("ab", "abab", "multiple-baseline")
MAX_WEEKS = 104  # two years: enough for any protocol comparison, small enough to enumerate
MAX_PEOPLE = 8  # a multiple baseline's P! orders stay enumerable (8! = 40,320)
MAX_LISTED = 1000  # admissible schedules written out in the plan file; above, only the rule
PLAN_FORMAT = 1
_N_CHANGES = {"ab": 1, "abab": 3, "multiple-baseline": 1}
_PHASE_NAMES = {"ab": ("A", "B"), "abab": ("A1", "B1", "A2", "B2"),
                "multiple-baseline": ("A", "B")}


class PlanError(ValueError):
    """A plan that cannot be drawn, written or read (the message says why and what is allowed)."""


# --- the plan -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Plan:
    """A drawn randomized n-of-1 plan.

    ``id``; ``design`` (ab, abab, multiple-baseline); ``participants``; ``protocol_a``,
    ``protocol_b`` (protocol ids); ``start`` (first day), ``weeks`` (N), ``min_phase_weeks`` (K);
    ``seed``; ``schedule`` (participant -> the weeks after ``start`` at which each phase after
    the first begins: (b,) for AB and multiple baseline, (c1, c2, c3) for ABAB);
    ``windows`` (multiple baseline: the staggered windows, (first, last) week each, in time
    order) and ``assigned`` (participant -> index of their window); ``n_admissible`` (schedules
    the draw chose from, all equally likely); ``rule`` (the admissible set in words)."""

    id: str
    design: str
    participants: tuple[str, ...]
    protocol_a: str
    protocol_b: str
    start: date
    weeks: int
    min_phase_weeks: int
    seed: int
    schedule: dict[str, tuple[int, ...]]
    n_admissible: int
    rule: str
    windows: tuple[tuple[int, int], ...] = ()
    assigned: dict[str, int] = field(default_factory=dict)

    @property
    def end(self) -> date:
        """The plan's last day."""
        return self.start + timedelta(days=7 * self.weeks - 1)

    @property
    def phase_names(self) -> tuple[str, ...]:
        return _PHASE_NAMES[self.design]

    def week_start(self, week: int) -> date:
        """First day of the week ``week`` weeks after the start."""
        return self.start + timedelta(days=7 * week)

    def admissible(self) -> tuple[tuple[int, ...], ...]:
        """Every admissible schedule of an ab/abab plan (change weeks), in lexicographic order.

        For a multiple baseline the set is ``windows`` x the P! assignments of people to them."""
        if self.design == "multiple-baseline":
            raise PlanError("a multiple baseline's admissible set is its windows (plan.windows) "
                            "and the P! orders of assigning people to them; it is not listed")
        return _enumerate(self.weeks, self.min_phase_weeks, _N_CHANGES[self.design])

    def segments(self, participant: str | None = None) -> list[dict]:
        """The planned phases: participant, phase, protocol, start, end, first_week, weeks."""
        out = []
        for pid in self.participants if participant is None else (participant,):
            bounds = (0, *self.schedule[pid], self.weeks)
            for i, name in enumerate(self.phase_names):
                lo, hi = bounds[i], bounds[i + 1]
                out.append({
                    "participant": pid, "phase": name,
                    "protocol": self.protocol_a if name.startswith("A") else self.protocol_b,
                    "start": self.week_start(lo), "end": self.week_start(hi) - timedelta(days=1),
                    "first_week": lo, "weeks": hi - lo,
                })
        return out

    def phases(self) -> pl.DataFrame:
        """The planned phases in the kit's phases format (participant, start, end, protocol, phase)."""
        schema = {c.name: c.dtype for c in PHASES.columns}
        rows = [{k: r[k] for k in schema} for r in self.segments()]
        return pl.DataFrame(rows, schema=schema)

    def calendar(self) -> pl.DataFrame:
        """One row a week: week (1..N), start, end, then one column per participant holding the
        phase name (A1, B1, ...) that week."""
        cols: dict[str, list] = {
            "week": list(range(1, self.weeks + 1)),
            "start": [self.week_start(w) for w in range(self.weeks)],
            "end": [self.week_start(w + 1) - timedelta(days=1) for w in range(self.weeks)],
        }
        for pid in self.participants:
            names = []
            for seg in self.segments(pid):
                names += [seg["phase"]] * seg["weeks"]
            cols[pid] = names
        return pl.DataFrame(cols)

    def summary(self) -> str:
        """Plain-text description of the plan and its schedule."""
        lines = [
            f"plan {self.id}: {self.design} design, A = {self.protocol_a}, B = {self.protocol_b}, "
            f"{self.weeks} weeks from {self.start} to {self.end}, every phase at least "
            f"{self.min_phase_weeks} weeks",
            f"drawn with seed {self.seed} from {self.n_admissible:,} equally likely schedules "
            f"({self.rule})",
        ]
        for pid in self.participants:
            parts = [f"{s['phase']} {s['start']} to {s['end']} ({s['weeks']} wk, {s['protocol']})"
                     for s in self.segments(pid)]
            lines.append(f"{pid}: " + "; ".join(parts))
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """The plan as plain JSON-ready values (dates as ISO text), for a page's machine twin."""
        return {
            "id": self.id, "design": self.design, "participants": list(self.participants),
            "protocol_a": self.protocol_a, "protocol_b": self.protocol_b,
            "start": self.start.isoformat(), "end": self.end.isoformat(), "weeks": self.weeks,
            "min_phase_weeks": self.min_phase_weeks, "seed": self.seed,
            "n_admissible": self.n_admissible, "rule": self.rule,
            "windows": [list(w) for w in self.windows],
            "schedule": {p: list(w) for p, w in self.schedule.items()},
            "phases": [{k: v.isoformat() if isinstance(v, date) else v for k, v in seg.items()}
                       for seg in self.segments()],
        }

    def to_toml(self) -> str:
        """The plan file's text (TOML; dates as TOML dates)."""
        top = {
            "format": PLAN_FORMAT, "id": self.id, "design": self.design,
            "participants": list(self.participants), "protocol_a": self.protocol_a,
            "protocol_b": self.protocol_b, "start": self.start, "end": self.end,
            "weeks": self.weeks, "min_phase_weeks": self.min_phase_weeks, "seed": self.seed,
        }
        out = ["# A randomized n-of-1 plan drawn by `rehab plan`: keep it as drawn. What was",
               "# followed goes in the phases file; the analysis compares the two.",
               "# change_weeks: weeks after `start` at which each phase after the first begins.",
               *(f"{k} = {_toml(v)}" for k, v in top.items()),
               "phases = ["]
        out += [f"  {_toml({k: v for k, v in s.items() if k != 'first_week'})},"
                for s in self.segments()]
        out += ["]", "", "[admissible]", f"size = {self.n_admissible}", f"rule = {_toml(self.rule)}"]
        if self.design == "multiple-baseline":
            out.append(f"windows = {_toml([list(w) for w in self.windows])}")
        elif self.n_admissible <= MAX_LISTED:
            out.append("change_weeks = [")
            out += [f"  {_toml(list(s))}," for s in self.admissible()]
            out.append("]")
        for pid in self.participants:
            out += ["", f"[schedule.{pid}]",
                    f"change_weeks = {_toml(list(self.schedule[pid]))}",
                    f"change_dates = {_toml([self.week_start(w) for w in self.schedule[pid]])}"]
            if self.design == "multiple-baseline":
                out.append(f"window = {self.assigned[pid]}")
        return "\n".join(out) + "\n"


def _toml(value: Any) -> str:
    """A TOML value: whole numbers, dates, strings (a JSON string is a TOML basic string),
    arrays and inline tables of those."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")


def _enumerate(weeks: int, k_min: int, n_changes: int) -> tuple[tuple[int, ...], ...]:
    """Every placement of ``n_changes`` changes in ``weeks`` weeks leaving each phase >= k_min."""
    spare = weeks - (n_changes + 1) * k_min
    if spare < 0:
        return ()
    # stars and bars: change j (1-based) starts at bar_j + j*K - (j-1)
    return tuple(tuple(b + (j + 1) * k_min - j for j, b in enumerate(bars))
                 for bars in itertools.combinations(range(spare + n_changes), n_changes))


def _windows(weeks: int, k_min: int, people: int) -> tuple[tuple[int, int], ...]:
    """The weeks K..N-K cut into ``people`` consecutive windows (sizes differ by at most one;
    the later windows get the extra weeks, so the earliest start comes soonest)."""
    first, last = k_min, weeks - k_min
    size = last - first + 1
    base, extra = divmod(size, people)
    out, lo = [], first
    for i in range(people):
        n = base + (1 if i >= people - extra else 0)
        out.append((lo, lo + n - 1))
        lo += n
    return tuple(out)


def _as_date(value: Any, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise PlanError(f"{what} {value!r} is not a date: use YYYY-MM-DD, e.g. 2026-03-02") from None


def _whole(value: Any, what: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not lo <= value <= hi:
        raise PlanError(f"{what} = {value!r} is not allowed: a whole number from {lo} to {hi}")
    return int(value)


def draw_plan(
    participant: str | None,
    *,
    design: str,
    protocol_a: str,
    protocol_b: str,
    start: date | str,
    weeks: int,
    min_phase_weeks: int,
    participants: Sequence[str] = (),
    seed: int | None = None,
    protocols: Any = None,
) -> Plan:
    """Draw a plan (see the module docstring). ``participants``: the people of a multiple
    baseline (``participant``, when given, is put first). ``protocols``: a
    :class:`rehab.protocol.ProtocolSet` the protocol ids must be in (None: not checked).
    ``seed`` None draws one (recorded in the plan). PlanError names what is not allowed."""
    if design not in DESIGNS:
        raise PlanError(f"design {design!r} is not allowed: use one of {', '.join(DESIGNS)}")
    if isinstance(participants, str):  # "ann,bob" as typed on the command line
        participants = [p.strip() for p in participants.split(",") if p.strip()]
    if design == "multiple-baseline":
        people = ([participant] if participant else []) + [p for p in participants
                                                          if p != participant]
        if len(set(people)) != len(people):
            raise PlanError(f"participants {', '.join(people)}: each person once")
        if people and len(people[0]) > 61:  # the plan id mb-<first> must stay a valid id
            raise PlanError(f"participant id {people[0]!r} is too long to name a multiple-baseline "
                            "plan (mb-<first id>, at most 61 characters): put a shorter id first")
        if not 2 <= len(people) <= MAX_PEOPLE:
            raise PlanError(f"a multiple baseline needs 2 to {MAX_PEOPLE} people (--participants "
                            f"ID,ID,...); got {len(people)}")
    else:
        if participants and list(participants) != [participant]:
            raise PlanError(f"--participants is for the multiple-baseline design; an {design} "
                            "plan is one person's (--participant ID)")
        if not participant:
            raise PlanError(f"an {design} plan needs --participant ID")
        people = [participant]
    for p in people:
        try:
            check_participant(p)
        except PathError as e:
            raise PlanError(str(e)) from None
    if protocol_a == protocol_b:
        raise PlanError(f"--a and --b are both {protocol_a!r}: compare two different protocols")
    if protocols is not None:
        for flag, pid in (("--a", protocol_a), ("--b", protocol_b)):
            if pid not in protocols:
                raise PlanError(f"{flag} {pid!r} is not a known protocol: known are "
                                f"{', '.join(sorted(protocols))} (add protocols/{pid}.toml to "
                                "the project folder for your own)")
    start_d = _as_date(start, "--start")
    n = _whole(weeks, "--weeks", 2, MAX_WEEKS)
    k = _whole(min_phase_weeks, "--min-phase-weeks", 1, MAX_WEEKS)
    n_changes = _N_CHANGES[design]
    if seed is None:
        seed = secrets.randbelow(2**31)
    seed = _whole(seed, "--seed", 0, 2**63 - 1)
    rng = np.random.default_rng(seed)
    if design == "multiple-baseline":
        width = n - 2 * k + 1
        if width < len(people):
            raise PlanError(
                f"{n} weeks with phases of at least {k} weeks leave {max(width, 0)} possible start "
                f"week(s) (weeks {k}..{n - k}) for {len(people)} people, who must each start B in a "
                f"different week: give more --weeks (at least {2 * k + len(people) - 1}) or a "
                "smaller --min-phase-weeks")
        wins = _windows(n, k, len(people))
        order = rng.permutation(len(people))  # person i gets window order[i]
        schedule, assigned = {}, {}
        for i, p in enumerate(people):
            lo, hi = wins[int(order[i])]
            schedule[p] = (int(lo + rng.integers(hi - lo + 1)),)
            assigned[p] = int(order[i])
        total = math.factorial(len(people)) * math.prod(hi - lo + 1 for lo, hi in wins)
        rule = (f"weeks {k}..{n - k} cut into {len(people)} windows "
                + ", ".join(f"{lo}-{hi}" for lo, hi in wins)
                + f"; people assigned to the windows in random order ({len(people)}! orders), each "
                "B start drawn within the person's window (Koehler & Levin 1998)")
        return Plan(id=f"mb-{people[0]}", design=design, participants=tuple(people),
                    protocol_a=protocol_a, protocol_b=protocol_b, start=start_d, weeks=n,
                    min_phase_weeks=k, seed=seed, schedule=schedule, n_admissible=total,
                    rule=rule, windows=wins, assigned=assigned)
    spare = n - (n_changes + 1) * k
    if spare < 0:
        raise PlanError(f"{n} weeks cannot hold the {n_changes + 1} phases of an {design} design "
                        f"with at least {k} weeks each: give --weeks {(n_changes + 1) * k} or more, "
                        "or a smaller --min-phase-weeks")
    total = math.comb(spare + n_changes, n_changes)
    # a uniform k-subset of the slots is a uniform schedule (stars and bars)
    bars = np.sort(rng.choice(spare + n_changes, size=n_changes, replace=False))
    changes = tuple(int(b) + (j + 1) * k - j for j, b in enumerate(bars))
    if design == "ab":
        rule = f"B starts after b weeks, b = {k}..{n - k} (every phase at least {k} weeks)"
    else:
        rule = (f"A1 B1 A2 B2, each phase at least {k} weeks: every c1 < c2 < c3 with c1 >= {k}, "
                f"c2 - c1 >= {k}, c3 - c2 >= {k}, {n} - c3 >= {k}")
    return Plan(id=people[0], design=design, participants=tuple(people), protocol_a=protocol_a,
                protocol_b=protocol_b, start=start_d, weeks=n, min_phase_weeks=k, seed=seed,
                schedule={people[0]: changes}, n_admissible=total, rule=rule)


# --- files ----------------------------------------------------------------------------------------


def _plans_dir(paths: ProjectPaths) -> Path:
    return paths.root / "plans"


def plan_path(paths: ProjectPaths, plan_id: str) -> Path:
    """``plans/<id>.toml`` of the project (the id checked like a participant id)."""
    try:
        check_participant(plan_id)
    except PathError:
        raise PlanError(f"plan id {plan_id!r} is not allowed: a participant id, or mb-<id>") from None
    return inside(_plans_dir(paths), _plans_dir(paths) / f"{plan_id}.toml")


def phases_path(paths: ProjectPaths, plan_id: str) -> Path:
    """``data/raw/phases-plan-<id>.csv``: the plan's phases, which the kit reads as logged."""
    plan_path(paths, plan_id)  # checks the id
    return inside(paths.raw, paths.raw / f"phases-plan-{plan_id}.csv")


@dataclass(frozen=True)
class PlanFiles:
    """What :func:`write_plan` wrote: ``plan`` (TOML), ``phases`` (CSV), ``ics`` (calendar files,
    one per person), ``warnings`` (sentences)."""

    plan: Path
    phases: Path
    ics: tuple[Path, ...] = ()
    warnings: tuple[str, ...] = ()


def write_plan(
    plan: Plan,
    paths: ProjectPaths | None = None,
    *,
    force: bool = False,
    ics: bool = False,
    protocols: Any = None,
) -> PlanFiles:
    """Write ``plans/<id>.toml``, ``data/raw/phases-plan-<id>.csv`` and, with ``ics``, the
    calendar ``plans/<id>.ics`` (one ``plans/<id>-<participant>.ics`` per person for a multiple
    baseline: each imports only their own sessions). Every file is written atomically. An
    existing plan is never replaced unless ``force``. ``protocols`` (a ProtocolSet) gives the
    sessions a week and names for the calendar (default: the project's)."""
    paths = paths or ProjectPaths.discover()
    target, csv = plan_path(paths, plan.id), phases_path(paths, plan.id)
    existing = [p for p in (target, csv) if p.exists()]
    if existing and not force:
        raise PlanError(f"{existing[0]} already exists: a drawn plan is not redrawn silently. Give "
                        "--force to replace it, or plan under another --participant")
    warnings = _other_phases(paths, plan, csv)
    ics_files: list[Path] = []
    if ics:
        if protocols is None:
            from rehab.protocol import load_protocols

            protocols = load_protocols(paths.root)
        people = plan.participants
        for pid in people:
            name = plan.id if len(people) == 1 else f"{plan.id}-{pid}"
            path = inside(_plans_dir(paths), _plans_dir(paths) / f"{name}.ics")
            ics_files.append(path)
        texts = [calendar_ics(plan, protocols, participant=pid) for pid in people]
    buf = io.StringIO()
    plan.phases().write_csv(buf, date_format="%Y-%m-%d")
    atomic_write_text(target, plan.to_toml())
    atomic_write_text(csv, buf.getvalue())
    if ics:
        for path, text in zip(ics_files, texts, strict=True):
            atomic_write_text(path, text)
    return PlanFiles(plan=target, phases=csv, ics=tuple(ics_files), warnings=tuple(warnings))


def _other_phases(paths: ProjectPaths, plan: Plan, own: Path) -> list[str]:
    """Warnings: other phases files in data/raw with rows for the plan's people (they would
    overlap the plan's), and the switch from the demo data to data/raw."""
    from rehab.io import ReadError, log_files, read_phases

    out = []
    if not (paths.raw.is_dir() and any(paths.raw.rglob("*.csv"))):
        out.append(f"{paths.raw} held no logs: from now on every command reads data/raw instead "
                   "of the demo data (put your diary and sessions files there too)")
        return out
    for f, spec in log_files(paths.raw):
        if spec.kind != "phases" or f.resolve() == own.resolve():
            continue
        try:
            rows = read_phases(f).data
        except ReadError:
            continue
        hit = sorted(set(rows["participant"].to_list()) & set(plan.participants))
        if hit:
            out.append(f"{f} also holds phases of {', '.join(hit)}: remove those rows if the plan "
                       "replaces them (overlapping phases cannot be compared)")
    return out


def load_plan(paths: ProjectPaths | str | Path | None, plan_id: str) -> Plan:
    """Read ``plans/<plan_id>.toml`` of the project (``paths``: a ProjectPaths, a project folder,
    or None for the current one). PlanError names the file and what is wrong."""
    if not isinstance(paths, ProjectPaths):
        paths = ProjectPaths(Path(paths).resolve()) if paths else ProjectPaths.discover()
    path = plan_path(paths, plan_id)
    if not path.is_file():
        raise PlanError(f"no plan {plan_id!r}: {path} does not exist (draw one with rehab plan)")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise PlanError(f"{path}: not a readable TOML file ({e})") from None
    return plan_from_dict(doc, file=str(path))


def plan_from_dict(doc: Mapping[str, Any], *, file: str = "plan") -> Plan:
    """A Plan from a plan file's contents, checked: the schedule must be admissible."""
    need = ("id", "design", "participants", "protocol_a", "protocol_b", "start", "weeks",
            "min_phase_weeks", "seed", "schedule")
    missing = [k for k in need if k not in doc]
    if missing:
        raise PlanError(f"{file}: key(s) {', '.join(missing)} missing; a plan file holds "
                        f"{', '.join(need)} (write it with rehab plan)")
    try:
        sched_doc = doc["schedule"]
        people = list(doc["participants"])
        schedule = {p: tuple(int(w) for w in sched_doc[p]["change_weeks"]) for p in people}
        plan = draw_plan(people[0], design=doc["design"], protocol_a=doc["protocol_a"],
                         protocol_b=doc["protocol_b"], start=doc["start"], weeks=doc["weeks"],
                         min_phase_weeks=doc["min_phase_weeks"], participants=people,
                         seed=doc["seed"])
    except PlanError as e:
        raise PlanError(f"{file}: {e}") from None
    except (KeyError, TypeError, ValueError) as e:
        raise PlanError(f"{file}: the schedule is malformed ({e}): each participant needs "
                        "[schedule.<id>] change_weeks = [...]") from None
    assigned = {}
    if plan.design == "multiple-baseline":
        for p in people:
            (w,) = schedule[p] if len(schedule[p]) == 1 else (None,)
            owners = [i for i, (lo, hi) in enumerate(plan.windows) if w is not None and lo <= w <= hi]
            if not owners:
                raise PlanError(f"{file}: {p}'s change_weeks = {list(schedule[p])} is not in any "
                                f"window ({plan.rule})")
            assigned[p] = owners[0]
        if len(set(assigned.values())) != len(people):
            raise PlanError(f"{file}: two people's B starts fall in the same window")
    else:
        if schedule[people[0]] not in set(plan.admissible()):
            raise PlanError(f"{file}: change_weeks = {list(schedule[people[0]])} is not admissible "
                            f"({plan.rule})")
    if plan.id != doc["id"]:
        raise PlanError(f"{file}: id = {doc['id']!r} does not match its design and people "
                        f"(expected {plan.id!r})")
    return Plan(id=plan.id, design=plan.design, participants=plan.participants,
                protocol_a=plan.protocol_a, protocol_b=plan.protocol_b, start=plan.start,
                weeks=plan.weeks, min_phase_weeks=plan.min_phase_weeks, seed=plan.seed,
                schedule=schedule, n_admissible=plan.n_admissible, rule=plan.rule,
                windows=plan.windows, assigned=assigned)


# --- calendar file --------------------------------------------------------------------------------


def session_days(sessions_per_week: float, weeks: int) -> list[list[int]]:
    """Per week, the day offsets (0-6 from the week's first day) of the planned sessions.

    n sessions spread as evenly as whole days allow: day floor(i x 7 / n) (2 a week: days 0 and 3,
    Monday and Thursday for a week starting on Monday; 3: 0, 2, 4). A fractional target (2.5)
    alternates so that the running total is the target rounded: 2, 3, 2, 3..."""
    out = []
    for w in range(weeks):
        n = math.floor((w + 1) * sessions_per_week + 0.5) - math.floor(w * sessions_per_week + 0.5)
        out.append([math.floor(i * 7 / n) for i in range(n)] if n else [])
    return out


def calendar_ics(plan: Plan, protocols: Any, *, participant: str | None = None,
                 stamp: datetime | None = None) -> str:
    """The planned sessions of one person as an iCalendar (RFC 5545) text: all-day events titled
    "Back rehab: <protocol name> (phase A1)", the protocol's sessions a week spread over each
    week (:func:`session_days`). ``protocols`` maps ids to Protocol objects."""
    from icalendar import Calendar, Event

    pid = participant or plan.participants[0]
    if pid not in plan.participants:
        raise PlanError(f"{pid!r} is not in plan {plan.id} ({', '.join(plan.participants)})")
    stamp = stamp or datetime.now(UTC)
    cal = Calendar()
    cal.add("prodid", "-//rehab//rehab plan//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Back rehab plan {plan.id} ({pid})")
    for seg in plan.segments(pid):
        prot = protocols[seg["protocol"]]
        days = session_days(prot.sessions_per_week, seg["weeks"])
        for w, offsets in enumerate(days):
            for i, off in enumerate(offsets):
                day = plan.week_start(seg["first_week"] + w) + timedelta(days=off)
                ev = Event()
                who = pid if pid == plan.id else f"{plan.id}-{pid}"
                ev.add("uid", f"{who}-{day:%Y%m%d}-{i}@rehab-plan")
                ev.add("dtstamp", stamp)
                ev.add("dtstart", day)
                ev.add("dtend", day + timedelta(days=1))
                ev.add("summary", f"Back rehab: {prot.name} (phase {seg['phase']})")
                ev.add("description",
                       f"Plan {plan.id}, {pid}: phase {seg['phase']} ({prot.id}), week "
                       f"{w + 1} of {seg['weeks']}, session {i + 1} of {len(offsets)}.")
                ev.add("transp", "TRANSPARENT")
                cal.add_component(ev)
    return cal.to_ical().decode("utf-8")


def simulate_diary(
    plan: Plan,
    *,
    effect: float,
    phases: pl.DataFrame | None = None,
    level: float = 6.0,
    sd: float = 0.8,
    seed: int = 0,
) -> pl.DataFrame:
    """Synthetic morning pain for a plan's people, for demonstrations and tests: one diary entry a
    day (participant, date, moment "morning", pain), NRS ``level`` under protocol A and
    ``level - effect`` under protocol B by ``phases`` (default: as planned), plus N(0, ``sd``)
    noise, rounded to 0.1 and kept within 0-10."""
    ph = plan.phases() if phases is None else phases
    rng = np.random.default_rng(seed)
    rows = []
    for pid in plan.participants:
        segs = _logged_segments(plan, ph, pid)
        for day in range(plan.weeks * 7):
            d = plan.start + timedelta(days=day)
            cur = [s for s in segs if s["start"] <= d]
            on_b = bool(cur) and cur[-1]["protocol"] == plan.protocol_b
            pain = level - (effect if on_b else 0.0) + rng.normal(0.0, sd)
            rows.append({"participant": pid, "date": d, "moment": "morning",
                         "pain": float(np.clip(round(pain, 1), 0.0, 10.0))})
    return pl.DataFrame(rows, schema={"participant": pl.String(), "date": pl.Date(),
                                      "moment": pl.String(), "pain": pl.Float64()})


# --- analysis -------------------------------------------------------------------------------------


_DEV_SCHEMA = {
    "participant": pl.String(), "phase": pl.String(), "kind": pl.String(),
    "planned_start": pl.Date(), "logged_start": pl.Date(), "days": pl.Int64(),
    "planned_protocol": pl.String(), "logged_protocol": pl.String(), "text": pl.String(),
}


def _logged_segments(plan: Plan, phases: pl.DataFrame, pid: str) -> list[dict]:
    """A person's logged phases overlapping the plan, in time order, consecutive rows of the same
    protocol merged; label A/B from the plan's protocols (another protocol: its own id)."""
    if not isinstance(phases, pl.DataFrame):
        raise PlanError(f"phases must be a polars DataFrame (the phases table), got "
                        f"{type(phases).__name__}")
    missing = [c for c in ("start", "protocol") if c not in phases.columns]
    if missing:
        raise PlanError(f"the phases table lacks column(s) {', '.join(missing)} (it needs "
                        "participant, start, end, protocol, phase)")
    ph = phases
    if "participant" in ph.columns:
        ph = ph.filter(pl.col("participant") == pid)
    if "end" not in ph.columns:
        ph = ph.with_columns(pl.lit(None, dtype=pl.Date()).alias("end"))
    ph = ph.filter(pl.col("start").is_not_null()).sort("start")
    out: list[dict] = []
    for r in ph.select("start", "end", "protocol").iter_rows(named=True):
        lab = ("A" if r["protocol"] == plan.protocol_a else "B" if r["protocol"] == plan.protocol_b
               else str(r["protocol"]))
        if out and out[-1]["label"] == lab:
            out[-1]["end"] = r["end"]
            continue
        out.append({"label": lab, "protocol": r["protocol"], "start": r["start"], "end": r["end"]})
    for i, seg in enumerate(out):  # an open end runs to the next phase
        if seg["end"] is None and i + 1 < len(out):
            seg["end"] = out[i + 1]["start"] - timedelta(days=1)
    return [s for s in out if s["start"] <= plan.end and (s["end"] is None or s["end"] >= plan.start)]


def plan_deviations(plan: Plan, phases: pl.DataFrame) -> pl.DataFrame:
    """Each planned phase against the logged one, in order.

    Columns: participant, phase (planned name, or the logged label of an extra phase), kind
    (``as planned``, ``late``, ``early``, ``other protocol``, ``missing``, ``extra``,
    ``stopped early``), planned_start, logged_start, days (logged - planned start; positive =
    late), planned_protocol, logged_protocol, text (a sentence). Logged phases are matched by
    position after merging consecutive rows of one protocol; phases wholly outside the plan's
    dates are left out."""
    rows = []
    for pid in plan.participants:
        planned = plan.segments(pid)
        logged = _logged_segments(plan, phases, pid)
        for i in range(max(len(planned), len(logged))):
            p = planned[i] if i < len(planned) else None
            g = logged[i] if i < len(logged) else None
            row = {"participant": pid, "phase": p["phase"] if p else g["label"],
                   "planned_start": p["start"] if p else None,
                   "logged_start": g["start"] if g else None, "days": None,
                   "planned_protocol": p["protocol"] if p else None,
                   "logged_protocol": g["protocol"] if g else None}
            if g is None:
                row["kind"] = "missing"
                row["text"] = (f"{pid}: phase {p['phase']} ({p['protocol']}, planned from "
                               f"{p['start']}) is not in the phases logged")
            elif p is None:
                row["kind"] = "extra"
                row["text"] = (f"{pid}: an extra phase ({g['protocol']}) from {g['start']}, not "
                               "in the plan")
            elif g["protocol"] != p["protocol"]:
                row["kind"] = "other protocol"
                row["days"] = (g["start"] - p["start"]).days
                row["text"] = (f"{pid}: phase {p['phase']} was planned as {p['protocol']} but "
                               f"{g['protocol']} was logged from {g['start']}")
            else:
                d = (g["start"] - p["start"]).days
                row["days"] = d
                row["kind"] = "as planned" if d == 0 else "late" if d > 0 else "early"
                row["text"] = (f"{pid}: phase {p['phase']} started as planned on {p['start']}"
                               if d == 0 else
                               f"{pid}: phase {p['phase']} started {abs(d)} day(s) "
                               f"{'late' if d > 0 else 'early'} ({g['start']}, planned "
                               f"{p['start']})")
            rows.append(row)
        if len(logged) == len(planned) and logged and logged[-1]["end"] is not None \
                and logged[-1]["end"] < plan.end and logged[-1]["protocol"] == planned[-1]["protocol"]:
            last = planned[-1]
            rows.append({"participant": pid, "phase": last["phase"], "kind": "stopped early",
                         "planned_start": last["start"], "logged_start": logged[-1]["start"],
                         "days": (logged[-1]["end"] - plan.end).days,
                         "planned_protocol": last["protocol"],
                         "logged_protocol": logged[-1]["protocol"],
                         "text": f"{pid}: the last phase ended {logged[-1]['end']}, "
                                 f"{(plan.end - logged[-1]['end']).days} day(s) before the plan's "
                                 f"end ({plan.end})"})
    return pl.DataFrame(rows, schema=_DEV_SCHEMA) if rows else pl.DataFrame(schema=_DEV_SCHEMA)


@dataclass(frozen=True, eq=False)
class PlanAnalysis:
    """The design-matched analysis of a plan (:func:`planned_test`), everything a page needs.

    ``plan`` (:class:`Plan`); ``deviations`` (:func:`plan_deviations`' table: one row per
    planned phase, plus extra ones; ``kind == "as planned"`` where nothing deviates);
    ``test`` (:class:`rehab.sced.RandomizationResult` for ab/abab,
    :class:`rehab.sced.MultipleBaselineResult` for a multiple baseline, or None when no test
    could be made: ``lines`` say why); ``p_value`` (the test's, or None); ``design_matched``
    (the test used the plan's own admissible set); ``exact`` (the p-value is exact for the
    design: phases as drawn, or a deviation that stays inside the admissible set; the test may
    still be Monte Carlo, see ``test.exhaustive``); ``observed_in_set`` (the logged schedule is
    one of the plan's admissible ones); ``added_observed`` (it was not, and was added to the
    set so the test could be computed: the p-value is then not exact); ``n_assignments`` (in the
    reference set used); ``observed_starts`` (participant -> index of the first point of each
    phase after the first, as logged); ``planned_starts`` (the same for the drawn schedule);
    ``n_points`` (participant -> points analysed); ``improvement``, ``statistic``; ``lines``
    (plain sentences for the page: what was tested, how the phases followed the plan, what any
    deviation does to the p-value, the p-value); ``notes`` (smaller remarks: points outside the
    plan's dates, schedules left out). ``summary()`` joins the lines and notes; ``as_dict()``
    gives all of it as JSON-ready values."""

    plan: Plan
    deviations: pl.DataFrame
    test: Any
    design_matched: bool
    exact: bool
    observed_in_set: bool
    added_observed: bool
    n_assignments: int | None
    observed_starts: dict[str, tuple[int, ...]]
    planned_starts: dict[str, tuple[int, ...]]
    n_points: dict[str, int]
    improvement: str
    statistic: str
    lines: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def p_value(self) -> float | None:
        return None if self.test is None else float(self.test.p_value)

    def summary(self) -> str:
        return "\n".join((*self.lines, *self.notes))

    def as_dict(self) -> dict[str, Any]:
        """Everything above as plain JSON-ready values (the page's machine-readable twin)."""
        t = self.test
        test = None if t is None else {
            "p_value": float(t.p_value), "observed": float(t.observed),
            "n_assignments": int(t.n_assignments), "exhaustive": bool(t.exhaustive),
            "n_draws": t.n_draws, "seed": t.seed, "statistic": t.statistic,
            "improvement": t.improvement, "model": getattr(t, "model", None),
        }
        devs = [{k: v.isoformat() if isinstance(v, date) else v for k, v in r.items()}
                for r in self.deviations.iter_rows(named=True)]
        return {
            "plan": self.plan.as_dict(), "deviations": devs, "test": test,
            "p_value": self.p_value, "design_matched": self.design_matched, "exact": self.exact,
            "observed_in_set": self.observed_in_set, "added_observed": self.added_observed,
            "n_assignments": self.n_assignments,
            "observed_starts": {p: list(v) for p, v in self.observed_starts.items()},
            "planned_starts": {p: list(v) for p, v in self.planned_starts.items()},
            "n_points": dict(self.n_points), "improvement": self.improvement,
            "statistic": self.statistic, "lines": list(self.lines), "notes": list(self.notes),
        }


def _points(plan: Plan, series: Any, pid: str, notes: list[str]) -> pl.DataFrame:
    """One person's points (date, value) inside the plan's dates, in time order."""
    if not isinstance(series, pl.DataFrame):
        raise PlanError(f"series must be a polars DataFrame with date and value columns (e.g. "
                        f"rehab.compare.outcome_points(...)), got {type(series).__name__}")
    missing = [c for c in ("date", "value") if c not in series.columns]
    if missing:
        raise PlanError(f"series lacks column(s) {', '.join(missing)}: it needs date and value "
                        f"(has {', '.join(series.columns)})")
    s = series
    if "participant" in s.columns:
        s = s.filter(pl.col("participant") == pid)
    elif len(plan.participants) > 1:
        raise PlanError("a multiple baseline's series needs a participant column")
    s = s.filter(pl.col("date").is_not_null() & pl.col("value").is_not_null()).sort("date")
    inside_ = s.filter(pl.col("date").is_between(plan.start, plan.end))
    if inside_.height < s.height:
        notes.append(f"{pid}: {s.height - inside_.height} point(s) outside the plan's dates "
                     f"({plan.start} to {plan.end}) are left out")
    return inside_.select("date", pl.col("value").cast(pl.Float64))


def _index(dates: np.ndarray, plan: Plan, weeks: Any) -> np.ndarray:
    """Index of the first point on or after each week start (weeks after the plan's start)."""
    day0 = np.datetime64(plan.start, "D")
    cut = day0 + np.asarray(weeks, dtype=np.int64) * 7
    return np.searchsorted(dates, cut, side="left")


def planned_test(
    plan: Plan,
    series: pl.DataFrame,
    *,
    improvement: str,
    phases: pl.DataFrame | None = None,
    statistic: str = "mean_difference",
    n_draws: int | None = None,
    seed: int = 0,
) -> PlanAnalysis:
    """The randomization test that matches the plan's design, on the logged phases.

    ``series``: the outcome's points, a DataFrame with ``date`` and ``value`` (and
    ``participant``), e.g. :func:`rehab.compare.outcome_points`. ``phases``: the phases as
    logged (default: as planned). ``improvement``: ``"decrease"`` for pain, ``"increase"`` for
    a hold. Each admissible schedule (in weeks) is mapped to point indices (a change at week w
    falls before the first point dated on or after start + 7w) and the test runs over that set
    (:func:`rehab.sced.randomization_test` with ``admissible=``; for a multiple baseline
    :func:`rehab.sced.randomization_test_mb` with ``model="koehler_levin"``): exhaustive up to
    100,000 schedules, else ``n_draws`` (default 10,000) Monte Carlo draws with ``seed``.

    Deviations: the logged schedule is used. Inside the admissible set, the test keeps its
    reference set, exact if the deviation had nothing to do with the outcome. Outside it (e.g. a
    change a week later than any schedule allows), the observed schedule is added to the set so
    the p-value can be computed, and it is not exact for the design: ``lines`` say so. Logged
    phases in another order or number than planned leave no design-matched test (``test`` None).
    """
    if not isinstance(plan, Plan):
        raise PlanError(f"plan must be a Plan (load_plan or draw_plan), got {type(plan).__name__}")
    if improvement not in ("increase", "decrease"):
        raise PlanError(f"improvement={improvement!r} is not allowed: 'increase' (higher is "
                        "better, e.g. a hold) or 'decrease' (lower is better, e.g. pain)")
    logged_phases = plan.phases() if phases is None else phases
    devs = plan_deviations(plan, logged_phases)
    notes: list[str] = []
    lines: list[str] = []
    off = devs.filter(pl.col("kind") != "as planned")
    if off.height == 0:
        lines.append("The phases were followed as planned.")
    else:
        lines += off["text"].to_list()
    pts = {pid: _points(plan, series, pid, notes) for pid in plan.participants}
    n_points = {pid: p.height for pid, p in pts.items()}
    common = dict(plan=plan, deviations=devs, improvement=improvement, statistic=statistic,
                  n_points=n_points)

    def no_test(why: str, observed=None, planned=None) -> PlanAnalysis:
        return PlanAnalysis(test=None, design_matched=False, exact=False, observed_in_set=False,
                            added_observed=False, n_assignments=None,
                            observed_starts=observed or {}, planned_starts=planned or {},
                            lines=(*lines, why), notes=tuple(notes), **common)

    structural = devs.filter(pl.col("kind").is_in(["missing", "extra", "other protocol"]))
    if structural.height:
        return no_test("The phases logged do not follow the plan's design (a phase missing, extra "
                       "or with another protocol), so no design-matched randomization test can "
                       "be made; the effect sizes still describe the data, but no p-value "
                       "refers to the random draw.")
    observed, planned = {}, {}
    for pid in plan.participants:
        dates = pts[pid]["date"].to_numpy().astype("datetime64[D]")
        logged = _logged_segments(plan, logged_phases, pid)
        obs_days = [(g["start"] - plan.start).days for g in logged[1:]]
        observed[pid] = tuple(int(i) for i in np.searchsorted(
            dates, np.datetime64(plan.start, "D") + np.asarray(obs_days, np.int64), side="left"))
        planned[pid] = tuple(int(i) for i in _index(dates, plan, plan.schedule[pid]))
        short = [i for i, b in enumerate(_bounds(observed[pid], dates.size)) if b == 0]
        if short:
            names = ", ".join(plan.phase_names[i] for i in short)
            return no_test(f"{pid}'s logged phase(s) {names} hold no outcome points: no test can be "
                           "made.", observed, planned)
    if plan.design == "multiple-baseline":
        return _test_mb(plan, pts, observed, planned, lines, notes, common, n_draws, seed,
                        no_test)
    pid = plan.participants[0]
    dates = pts[pid]["date"].to_numpy().astype("datetime64[D]")
    n = dates.size
    table = _index(dates, plan, np.asarray(plan.admissible(), dtype=np.int64))
    ok = np.all(np.diff(np.concatenate([np.zeros((len(table), 1), np.int64), table,
                                        np.full((len(table), 1), n, np.int64)], axis=1),
                        axis=1) > 0, axis=1)
    if not ok.all():
        notes.append(f"{int((~ok).sum())} of {len(table)} admissible schedules would leave a phase "
                     "without points (weeks with no outcome point) and are left out of the "
                     "reference set")
    table = table[ok]
    obs = np.asarray(observed[pid], dtype=np.int64)
    in_set = bool(table.size) and bool((table == obs).all(axis=1).any())
    added = not in_set
    if added:
        table = np.vstack([table, obs[None, :]]) if table.size else obs[None, :]
    labels = _labels(observed[pid], n)
    test = sced.randomization_test(pts[pid]["value"].to_numpy(), labels, statistic=statistic,
                                   improvement=improvement, n_draws=n_draws, seed=seed,
                                   admissible=[tuple(int(v) for v in r) for r in table])
    lines += _verdict(devs, in_set, added, test, ok.all())
    return PlanAnalysis(test=test, design_matched=True, exact=in_set and bool(ok.all()),
                        observed_in_set=in_set, added_observed=added,
                        n_assignments=test.n_assignments, observed_starts=observed,
                        planned_starts=planned, lines=tuple(lines), notes=tuple(notes), **common)


def _bounds(starts: Sequence[int], n: int) -> list[int]:
    """Points per phase for phase starts ``starts`` in a series of ``n`` points."""
    b = (0, *starts, n)
    return [b[i + 1] - b[i] for i in range(len(b) - 1)]


def _labels(starts: Sequence[int], n: int) -> list[str]:
    out = []
    for i, m in enumerate(_bounds(starts, n)):
        out += ["AB"[i % 2]] * m
    return out


def _verdict(devs: pl.DataFrame, in_set: bool, added: bool, test: Any, all_kept: bool) -> list[str]:
    late = devs.filter(pl.col("kind").is_in(["late", "early"])).height > 0
    how = ("exhaustive over" if test.exhaustive
           else f"{test.n_draws:,} Monte Carlo draws (seed {test.seed}) from")
    out = []
    if added:
        out.append("The logged schedule is not one the plan could have drawn, so the test is no "
                   "longer exact for the design: the p-value below is computed with the logged "
                   "schedule added to the plan's admissible set, and reads as approximate.")
    elif late:
        out.append("The logged schedule differs from the drawn one but is still one the plan "
                   "could have drawn: the test keeps the plan's admissible set; it is exact only "
                   "if the change of dates had nothing to do with how the person was doing (a "
                   "switch put off because of a flare would bias it).")
    if not all_kept:
        out.append("Some schedules were left out of the reference set (no points in a phase): "
                   "the p-value is conditional on the weeks that have points.")
    out.append(f"Design-matched randomization test ({how} {test.n_assignments:,} schedules, "
               f"statistic {test.statistic}, improvement = {test.improvement}): observed "
               f"{test.observed:.3g}, p = {test.p_value:.3g}.")
    return out


def _test_mb(plan, pts, observed, planned, lines, notes, common, n_draws, seed, no_test):
    people = plan.participants
    if any(len(observed[p]) != 1 for p in people):
        return no_test("Each person of a multiple baseline needs exactly one change from A to B.",
                       observed, planned)
    series = {p: pts[p]["value"].to_numpy() for p in people}
    starts = {p: observed[p][0] for p in people}
    # window j mapped on the points of the person the plan assigned it to
    owner = {plan.assigned[p]: p for p in people}
    windows = []
    for j, (lo, hi) in enumerate(plan.windows):
        dates = pts[owner[j]]["date"].to_numpy().astype("datetime64[D]")
        idx = _index(dates, plan, np.arange(lo, hi + 1))
        windows.append([int(i) for i in idx])
    date_sets = {tuple(pts[p]["date"].to_list()) for p in people}
    if len(date_sets) > 1:
        notes.append("the people's points fall on different dates: each window is mapped on the "
                      "points of the person it was assigned to, so the permuted schedules are "
                      "approximate")
    admissible: dict[str, list[int]] = {}
    added, dropped = [], 0
    shortest = min(s.size for s in series.values())
    for p in people:
        window = windows[plan.assigned[p]]
        # under Koehler-Levin any window may go to anyone: a start must fit every series
        keep = [i for i in window if 1 <= i <= shortest - 1]
        dropped += len(window) - len(keep)
        if starts[p] not in keep:
            keep.append(starts[p])
            added.append(p)
        admissible[p] = keep
    if dropped:
        notes.append(f"{dropped} start(s) of the windows would leave a phase without points and "
                     "are left out")
    try:
        test = sced.randomization_test_mb(series, starts, admissible,
                                          improvement=common["improvement"],
                                          statistic=common["statistic"], model="koehler_levin",
                                          n_draws=n_draws, seed=seed)
    except ValueError as e:
        return no_test(f"No design-matched test: {e}.", observed, planned)
    in_set = not added
    devs = common["deviations"]
    more = _verdict(devs, in_set, bool(added), test, dropped == 0)
    if added:
        more[0] = (f"The logged B start of {', '.join(added)} lies outside the window the plan "
                   "drew from, so the test is no longer exact for the design: the p-value is "
                   "computed with that start added to the window, and reads as approximate.")
    return PlanAnalysis(test=test, design_matched=True, exact=in_set and dropped == 0,
                        observed_in_set=in_set,
                        added_observed=bool(added), n_assignments=test.n_assignments,
                        observed_starts=observed, planned_starts=planned,
                        lines=(*lines, *more), notes=tuple(notes), **common)


__all__ = [
    "DESIGNS",
    "Plan",
    "PlanAnalysis",
    "PlanError",
    "PlanFiles",
    "calendar_ics",
    "draw_plan",
    "load_plan",
    "phases_path",
    "plan_deviations",
    "plan_from_dict",
    "plan_path",
    "planned_test",
    "session_days",
    "simulate_diary",
    "write_plan",
]
