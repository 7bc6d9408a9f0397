"""Adherence and progression against the protocol a person followed.

Which protocol applied when comes from the phases table (``participant, start, end, protocol,
phase``; ``end`` inclusive, empty = still running), else from the sessions' own ``protocol``
column, else from ``rehab.toml`` (``[protocol] id = "shit"``): see :func:`protocol_periods`.

Definitions (every function takes an eager polars DataFrame first and returns polars):

- **Session**: a participant's day with at least one work set (set_type normal, failure, drop or
  empty; warm-up and test sets alone do not make a session). Two sessions on one day count once.
- **Weekly adherence** (:func:`weekly_adherence`): per participant, ISO week (Monday start) and
  protocol: sessions done against the target ``sessions_per_week × days / 7``, where ``days`` is
  the number of that week's days under the protocol (a week split between two protocols gives
  two rows, each with its share of the target); ratio = done ÷ target. A pillar is covered in a
  week when a session that week included an exercise the protocol assigns to it.
- **Dose** (:func:`dose_vs_prescribed`): per session and exercise, the work sets done (for a
  ``per_side`` dose the fewer of left and right, a set logged ``both`` or without a side counting
  for both) against the protocol's starting dose, the smallest and largest set (reps or seconds)
  and whether the dose was met. A prescribed exercise that was not done (and no alternative of its
  ``slot`` either) is listed as ``missing``; an exercise outside the protocol as ``extra``.
- **Level and target**: the dose is the dose logged, never a rung of the protocol's ladder: a
  session's reps or hold is the value every work set reached (the smallest set: 3 sets of 52, 50
  and 50 s are 3 × 50 s). The level is the value of each lever: the pad (a logged pad carries
  forward while unlogged), the sets done, that reps or hold value, the load (the heaviest set;
  empty = 0). The target a session is judged against is the previous session's reps or hold (the
  dose being worked at), or its own when it is the first or another lever moved up that day.
- **Criteria** (from the protocol): the session met them when the prescribed sets were done, every
  set reached the target (``all_sets``), the peak pain of the exercise's sets was at most
  ``pain_max`` (a pain-monitoring band from rehab.toml or a number; sets without a pain score are
  not held against it) and, with ``no_spasm``, no diary entry that day reported a spasm (without a
  diary this is not checked). The streak is the number of sessions in a row, ending with this one,
  that met them at this session's level or a harder one (every lever at least as far on); a step
  is due when the streak reaches ``criteria.sessions``.
- **Progression** (:func:`progression`): every change of a lever between two sessions of an
  exercise, counted from the logged values (holds of 46, then 48 s are a step of 2 s), with
  whether the criteria had been met at the old level before it, and whether the
  lever was the one the rules would move next (the first lever not yet at its max).
- **Next step** (:func:`next_step`): a plain-language suggestion with the rule behind it: step
  back (last session's pain above ``step_back_pain_above``), goal reached, progress, stay, or
  start. These follow the protocol file's rules; they are not medical advice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import polars as pl

from rehab import features as F
from rehab.protocol import (
    ExerciseRule,
    Lever,
    Protocol,
    ProtocolError,
    ProtocolSet,
    dose_text,
    lever_text,
    pain_limit,
)
from rehab.schema import require_columns

WORK_SET_TYPES = ("normal", "failure", "drop")
_EPS = 1e-9

WEEKLY_SCHEMA = {
    "participant": pl.String, "week": pl.String, "week_start": pl.Date, "protocol": pl.String,
    "phase": pl.String, "days": pl.Int64, "sessions_done": pl.Int64, "target": pl.Float64,
    "ratio": pl.Float64, "pillars_prescribed": pl.Int64, "pillars_covered": pl.Int64,
    "pillars_missing": pl.String,
}
COVERAGE_SCHEMA = {
    "participant": pl.String, "week": pl.String, "week_start": pl.Date, "protocol": pl.String,
    "pillar": pl.String, "pillar_name": pl.String, "sessions_done": pl.Int64,
    "sessions_with_pillar": pl.Int64, "covered": pl.Boolean,
}
DOSE_SCHEMA = {
    "participant": pl.String, "date": pl.Date, "exercise": pl.String, "pillars": pl.String,
    "slot": pl.String, "measure": pl.String, "sets_done": pl.Int64, "sets_prescribed": pl.Int64,
    "value_min": pl.Float64, "value_max": pl.Float64, "value_prescribed": pl.Float64,
    "target": pl.Float64, "load_kg": pl.Float64, "pad": pl.String, "pain_max": pl.Float64,
    "spasm": pl.Boolean, "criteria_met": pl.Boolean, "not_met": pl.String, "status": pl.String,
}
STEPS_SCHEMA = {
    "participant": pl.String, "date": pl.Date, "exercise": pl.String, "lever": pl.String,
    "from_value": pl.String, "to_value": pl.String, "direction": pl.String,
    "description": pl.String, "criteria_met_before": pl.Boolean,
    "sessions_met_before": pl.Int64, "sessions_needed": pl.Int64, "in_rule_order": pl.Boolean,
}
NEXT_SCHEMA = {
    "participant": pl.String, "exercise": pl.String, "last_date": pl.Date,
    "sessions_logged": pl.Int64, "current": pl.String, "streak": pl.Int64,
    "sessions_needed": pl.Int64, "action": pl.String, "suggestion": pl.String, "rule": pl.String,
}
PERIOD_SCHEMA = {"participant": pl.String, "start": pl.Date, "end": pl.Date,
                 "protocol": pl.String, "phase": pl.String}


# --- arguments ----------------------------------------------------------------------------------


def _protocol_map(protocols) -> dict[str, Protocol]:
    if isinstance(protocols, Protocol):
        return {protocols.id: protocols}
    if isinstance(protocols, ProtocolSet):
        return dict(protocols.protocols)
    if isinstance(protocols, Mapping):
        return dict(protocols)
    if isinstance(protocols, Iterable) and not isinstance(protocols, str):
        items = list(protocols)
        if all(isinstance(p, Protocol) for p in items):
            return {p.id: p for p in items}
    raise ValueError(f"protocols={protocols!r} is not allowed: give a ProtocolSet "
                     "(rehab.protocol.load_protocols()), a dict id → Protocol or a list of them")


def _check_protocol(protocol) -> Protocol:
    if not isinstance(protocol, Protocol):
        raise ValueError(f"protocol={protocol!r} is not allowed: give a rehab.protocol.Protocol "
                         "(e.g. load_protocols()['shit'])")
    return protocol


def work_sets(sessions: pl.DataFrame) -> pl.DataFrame:
    """The work sets (normal, to failure, drop): warm-up or test sets alone make no training
    day."""
    if "set_type" not in sessions.columns:
        return sessions
    return sessions.filter(pl.col("set_type").is_null()
                           | pl.col("set_type").is_in(list(WORK_SET_TYPES)))


def _canonical(sessions: pl.DataFrame, protocol: Protocol) -> pl.DataFrame:
    """The exercise column mapped through the protocol's aliases (names already canonical stay)."""
    table = protocol.alias_table()
    from rehab.exercises import normalise

    names = sessions["exercise"].unique().drop_nulls().to_list()
    mapping = {n: table.get(normalise(n), n) for n in names}
    return sessions.with_columns(pl.col("exercise").replace_strict(mapping, default=None)
                                 .fill_null(pl.col("exercise")))


# --- which protocol when ------------------------------------------------------------------------


def protocol_periods(
    sessions: pl.DataFrame,
    phases: pl.DataFrame | None = None,
    *,
    config=None,
    until: dt.date | None = None,
) -> pl.DataFrame:
    """Which protocol each participant followed when: participant, start, end, protocol, phase.

    Source, first that has rows: ``phases``; runs of the sessions' ``protocol`` column (consecutive
    session days with the same protocol and phase); ``rehab.toml`` ``[protocol] id`` (one period
    per participant from their first session). An open end (empty) becomes ``until``, else the
    participant's last session day. Overlapping periods raise ValueError."""
    require_columns(sessions, ["participant", "date"], "protocol_periods")
    if phases is not None and phases.height:
        require_columns(phases, ["participant", "start", "end", "protocol"], "protocol_periods")
        p = phases.select(
            pl.col("participant"), pl.col("start"), pl.col("end"), pl.col("protocol"),
            (pl.col("phase") if "phase" in phases.columns else pl.lit(None, pl.String))
            .alias("phase"))
    elif "protocol" in sessions.columns and sessions["protocol"].drop_nulls().len():
        s = (sessions.filter(pl.col("protocol").is_not_null())
             .select("participant", "date", "protocol",
                     (pl.col("phase") if "phase" in sessions.columns
                      else pl.lit(None, pl.String)).alias("phase"))
             .unique().sort("participant", "date"))
        run = ((pl.col("protocol") != pl.col("protocol").shift())
               | (pl.col("phase").fill_null("") != pl.col("phase").fill_null("").shift())
               ).fill_null(True).cum_sum().over("participant")
        p = (s.with_columns(run.alias("_run"))
             .group_by("participant", "_run")
             .agg(pl.col("date").min().alias("start"), pl.col("date").max().alias("end"),
                  pl.col("protocol").first(), pl.col("phase").first())
             .drop("_run"))
    else:
        pid = config_protocol(config)
        if not pid or sessions.height == 0:
            return pl.DataFrame(schema=PERIOD_SCHEMA)
        p = sessions.group_by("participant").agg(pl.col("date").min().alias("start")).with_columns(
            pl.lit(None, pl.Date).alias("end"), pl.lit(str(pid)).alias("protocol"),
            pl.lit(None, pl.String).alias("phase"))
    last = sessions.lazy().group_by("participant").agg(pl.col("date").max().alias("_last"))
    p = (p.lazy().join(last, on="participant", how="left")  # one collect
         .with_columns(pl.col("end").fill_null(pl.lit(until, pl.Date) if until is not None
                                               else pl.max_horizontal("_last", "start")))
         .drop("_last").select(list(PERIOD_SCHEMA)).cast(PERIOD_SCHEMA)
         .sort("participant", "start").collect())
    bad = p.filter(pl.col("end") < pl.col("start"))
    if bad.height:
        r = bad.row(0, named=True)
        raise ValueError(f"phase {r['protocol']!r} of {r['participant']} ends ({r['end']}) before "
                         f"it starts ({r['start']}): give an end on or after the start")
    ov = p.filter(pl.col("start") <= pl.col("end").shift().over("participant"))
    if ov.height:
        r = ov.row(0, named=True)
        raise ValueError(f"phases of {r['participant']} overlap at {r['start']} "
                         f"({r['protocol']!r} starts before the previous phase ends): one "
                         "protocol at a time")
    return p


def _day_grid(periods: pl.DataFrame) -> pl.DataFrame:
    """One row per participant and day under a protocol: participant, date, protocol, phase."""
    if periods.height == 0:
        return pl.DataFrame(schema={"participant": pl.String, "date": pl.Date,
                                    "protocol": pl.String, "phase": pl.String,
                                    "week_start": pl.Date})
    return (periods.lazy().with_columns(pl.date_ranges("start", "end").alias("date"))
            .explode("date").select("participant", "date", "protocol", "phase")
            .with_columns(F.week_start().alias("week_start")).collect())


def sessions_under(sessions: pl.DataFrame, phases: pl.DataFrame | None, protocol_id: str, *,
                   config=None) -> pl.DataFrame:
    """The sessions' rows on days the periods (see :func:`protocol_periods`) assign to
    ``protocol_id``."""
    require_columns(sessions, ["participant", "date"], "sessions_under")
    periods = protocol_periods(sessions, phases, config=config)
    return _on_days(sessions, _day_grid(periods), protocol_id)


def _on_days(sessions: pl.DataFrame, grid: pl.DataFrame, protocol_id: str) -> pl.DataFrame:
    """The sessions' rows on the days a :func:`_day_grid` assigns to ``protocol_id``."""
    days = grid.filter(pl.col("protocol") == protocol_id).select("participant", "date").unique()
    return sessions.join(days, on=["participant", "date"], how="semi")


# --- weekly adherence and pillar coverage ---------------------------------------------------------


def _weekly_parts(sessions, phases, protocols, config, until):
    require_columns(sessions, ["participant", "date", "exercise"], "weekly_adherence")
    protos = _protocol_map(protocols)
    periods = protocol_periods(sessions, phases, config=config, until=until)
    unknown = sorted(set(periods["protocol"].to_list()) - set(protos))
    if unknown:
        raise ValueError(f"the phases name protocol(s) {', '.join(map(repr, unknown))}, which are "
                         f"not among the protocols given ({', '.join(sorted(protos))}): add "
                         f"protocols/<id>.toml to the project folder or fix the phases")
    grid = _day_grid(periods)
    keys = ["participant", "week_start", "protocol", "phase"]
    days = grid.group_by(keys).agg(pl.len().cast(pl.Int64).alias("days"))
    work = work_sets(sessions).select("participant", "date", "exercise")
    sdays = work.join(grid, on=["participant", "date"], how="inner")
    present = set(sdays["protocol"].unique().to_list())
    frames = [_canonical(sdays.filter(pl.col("protocol") == pid), p) for pid, p in protos.items()
              if pid in present]
    sdays = pl.concat(frames) if frames else sdays
    done = sdays.group_by(keys).agg(pl.col("date").n_unique().cast(pl.Int64).alias("sessions_done"))
    pmap = pl.DataFrame(
        [{"protocol": pid, "exercise": e, "pillar": pil}
         for pid, p in protos.items() for e, pils in p.exercise_pillars().items() for pil in pils],
        schema={"protocol": pl.String, "exercise": pl.String, "pillar": pl.String})
    with_pillar = (sdays.join(pmap, on=["protocol", "exercise"], how="inner")
                   .group_by([*keys, "pillar"])
                   .agg(pl.col("date").n_unique().cast(pl.Int64).alias("sessions_with_pillar")))
    base = (days.join(done, on=keys, how="left", nulls_equal=True)
            .with_columns(pl.col("sessions_done").fill_null(0))
            .with_columns(pl.col("week_start").dt.strftime("%G-W%V").alias("week"))
            .sort("participant", "week_start", "protocol"))
    return protos, base, with_pillar


def weekly_adherence(
    sessions: pl.DataFrame,
    phases: pl.DataFrame | None,
    protocols,
    *,
    config=None,
    until: dt.date | None = None,
) -> pl.DataFrame:
    """Sessions a week against the protocol's target, and pillar coverage, per participant × ISO
    week × protocol (see the module docstring for the definitions).

    Columns: participant, week (``2026-W12``), week_start, protocol, phase, days (days of the week
    under the protocol), sessions_done, target (sessions_per_week × days / 7), ratio (done ÷ target),
    pillars_prescribed, pillars_covered, pillars_missing (pillar ids, comma-separated; "" = none).

    ``protocols``: a :class:`~rehab.protocol.ProtocolSet`, a dict id → Protocol or a list; a
    protocol named by the phases but not given raises ValueError. ``until``: the end of open
    phases (default: the participant's last session)."""
    return _weekly_table(*_weekly_parts(sessions, phases, protocols, config, until))


def _weekly_table(protos, base, with_pillar) -> pl.DataFrame:
    covered: dict[tuple, set[str]] = {}
    for r in with_pillar.iter_rows(named=True):
        covered.setdefault((r["participant"], r["week_start"], r["protocol"], r["phase"]),
                           set()).add(r["pillar"])
    prescribed, n_cov, missing = [], [], []
    for r in base.iter_rows(named=True):
        pillars = list(protos[r["protocol"]].pillars)
        have = covered.get((r["participant"], r["week_start"], r["protocol"], r["phase"]), set())
        prescribed.append(len(pillars))
        n_cov.append(sum(p in have for p in pillars))
        missing.append(", ".join(p for p in pillars if p not in have))
    spw = {pid: p.sessions_per_week for pid, p in protos.items()}
    out = base.with_columns(
        (pl.col("protocol").replace_strict(spw, return_dtype=pl.Float64) * pl.col("days") / 7.0)
        .alias("target"),
        pl.Series("pillars_prescribed", prescribed, pl.Int64),
        pl.Series("pillars_covered", n_cov, pl.Int64),
        pl.Series("pillars_missing", missing, pl.String),
    ).with_columns((pl.col("sessions_done") / pl.col("target")).alias("ratio"))
    return out.select(list(WEEKLY_SCHEMA)).cast(WEEKLY_SCHEMA)


def pillar_coverage(
    sessions: pl.DataFrame,
    phases: pl.DataFrame | None,
    protocols,
    *,
    config=None,
    until: dt.date | None = None,
) -> pl.DataFrame:
    """Each pillar's coverage a week (long form): participant, week, week_start, protocol, pillar,
    pillar_name, sessions_done, sessions_with_pillar (sessions that week with an exercise of the
    pillar), covered (at least one)."""
    return _coverage_table(*_weekly_parts(sessions, phases, protocols, config, until))


def _coverage_table(protos, base, with_pillar) -> pl.DataFrame:
    rows = []
    counts = {(r["participant"], r["week_start"], r["protocol"], r["phase"], r["pillar"]):
              r["sessions_with_pillar"] for r in with_pillar.iter_rows(named=True)}
    for r in base.iter_rows(named=True):
        for pil in protos[r["protocol"]].pillars.values():
            n = counts.get((r["participant"], r["week_start"], r["protocol"], r["phase"], pil.id), 0)
            rows.append({"participant": r["participant"], "week": r["week"],
                         "week_start": r["week_start"], "protocol": r["protocol"],
                         "pillar": pil.id, "pillar_name": pil.name,
                         "sessions_done": r["sessions_done"], "sessions_with_pillar": n,
                         "covered": n > 0})
    return pl.DataFrame(rows, schema=COVERAGE_SCHEMA)


# --- per session and exercise: dose, level, criteria ----------------------------------------------


@dataclass
class _Day:
    """One exercise on one session day, with its level and whether the criteria were met."""

    participant: str
    date: dt.date
    exercise: str
    sets: int
    value_min: float | None
    value_max: float | None
    load: float
    pad: str | None
    pad_rank: int | None
    angle: float | None
    pain: float | None
    spasm: bool | None
    target: float | None = None
    met: bool = False
    reasons: list[str] = field(default_factory=list)
    level: dict[str, float | None] = field(default_factory=dict)
    streak: int = 0


def _unit(measure: str) -> str:
    return " s" if measure == "hold_s" else " reps"


def _at_least(level: dict, other: dict) -> bool:
    """Every lever of ``level`` at least as far on as in ``other`` (a lever unknown in ``other``
    asks nothing; one unknown in ``level`` only is not reached)."""
    for name, want in other.items():
        if want is None:
            continue
        have = level.get(name)
        if have is None or have < want - _EPS:
            return False
    return True


def _spasm_days(diary: pl.DataFrame | None) -> dict[tuple[str, dt.date], bool]:
    if diary is None or diary.height == 0 or "spasm" not in diary.columns:
        return {}
    d = diary.filter(pl.col("spasm").is_not_null()).group_by("participant", "date").agg(
        pl.col("spasm").any())
    return {(r["participant"], r["date"]): bool(r["spasm"]) for r in d.iter_rows(named=True)}


def _summaries(sessions: pl.DataFrame, protocol: Protocol) -> pl.DataFrame:
    """Work sets per participant × date × exercise (canonical), with the set statistics. Two
    names mapped to one exercise on one day (an app's "Hyperextension" and "Back Extension
    (Machine)") are two doses, not one: the day is judged on the name with the most work sets
    (then the heavier load)."""
    s = _canonical(work_sets(sessions), protocol)
    if "variant" in s.columns and s.height:
        day = ["participant", "date", "exercise"]
        load = pl.col("load_kg") if "load_kg" in s.columns else pl.lit(0.0)
        main = (s.group_by(*day, "variant")
                .agg(pl.len().alias("_n"), load.cast(pl.Float64).fill_null(0.0).max()
                     .alias("_load"))
                .sort("_n", "_load", "variant", descending=[True, True, False], nulls_last=True)
                .group_by(day, maintain_order=True).first().select(*day, "variant"))
        s = s.join(main, on=[*day, "variant"], how="semi", nulls_equal=True)
    side = pl.col("side") if "side" in s.columns else pl.lit(None, pl.String)
    opt = {c: (pl.col(c) if c in s.columns else pl.lit(None, pl.Float64))
           for c in ("reps", "hold_s", "load_kg", "pain", "bench_angle_deg")}
    pad = pl.col("pad") if "pad" in s.columns else pl.lit(None, pl.String)
    return (s.group_by("participant", "date", "exercise").agg(
        pl.len().cast(pl.Int64).alias("n_sets"),
        (side == "left").sum().cast(pl.Int64).alias("n_left"),
        (side == "right").sum().cast(pl.Int64).alias("n_right"),
        opt["reps"].cast(pl.Float64).min().alias("reps_min"),
        opt["reps"].cast(pl.Float64).max().alias("reps_max"),
        opt["hold_s"].cast(pl.Float64).min().alias("hold_s_min"),
        opt["hold_s"].cast(pl.Float64).max().alias("hold_s_max"),
        opt["load_kg"].cast(pl.Float64).fill_null(0.0).max().alias("load"),
        pad.drop_nulls().first().alias("pad"),
        opt["pain"].cast(pl.Float64).max().alias("pain"),
        opt["bench_angle_deg"].cast(pl.Float64).drop_nulls().first().alias("angle"),
    ).sort("participant", "exercise", "date"))


def _timelines(sessions: pl.DataFrame, protocol: Protocol, *, diary=None, config=None,
               phases=None) -> dict[tuple[str, str], list[_Day]]:
    """Per (participant, exercise of the protocol): its session days in order, evaluated."""
    require_columns(sessions, ["participant", "date", "exercise", "set"], "adherence")
    if phases is not None:
        sessions = sessions_under(sessions, phases, protocol.id, config=config)
    spasm = _spasm_days(diary)
    out: dict[tuple[str, str], list[_Day]] = {}
    summ = _summaries(sessions, protocol).filter(
        pl.col("exercise").is_in(list(protocol.exercises)))
    for r in summ.iter_rows(named=True):
        rule = protocol.exercises[r["exercise"]]
        n_both = r["n_sets"] - r["n_left"] - r["n_right"]
        sets = (min(r["n_left"], r["n_right"]) + n_both
                if rule.dose.per_side and (r["n_left"] or r["n_right"]) else r["n_sets"])
        m = rule.dose.measure
        day = _Day(r["participant"], r["date"], r["exercise"], int(sets), r[f"{m}_min"],
                   r[f"{m}_max"], float(r["load"] or 0.0), r["pad"], protocol.pad_rank(r["pad"]),
                   r["angle"], r["pain"], spasm.get((r["participant"], r["date"])))
        out.setdefault((r["participant"], r["exercise"]), []).append(day)
    for (_, e_id), days in out.items():
        _evaluate(protocol.exercises[e_id], days, config)
    return out


def _evaluate(rule: ExerciseRule, days: list[_Day], config) -> None:
    """Target, level, criteria and streak of each day (in date order)."""
    crit = rule.criteria
    limit = pain_limit(crit.pain_max, config)
    unit = _unit(rule.dose.measure)
    measure = rule.dose.measure
    prev_rank: int | None = None
    prev: _Day | None = None
    for i, d in enumerate(days):
        if d.pad_rank is not None:
            prev_rank = d.pad_rank
        level: dict[str, float | None] = {}
        for lv in rule.progression:
            level[lv.lever] = {"pad": prev_rank, "sets": float(d.sets), "load_kg": d.load}.get(
                lv.lever, d.value_min)
        d.level = level
        # the dose being worked at is the last session's; a harder pad, more sets or more load
        # start a new dose, judged on its own
        d.target = d.value_min
        if prev is not None and prev.value_min is not None:
            other_up = any(level.get(k) is not None and old is not None and level[k] > old + _EPS
                           for k, old in prev.level.items() if k != measure)
            if not other_up:
                d.target = prev.value_min
        if d.value_max is None:
            d.reasons.append(f"no {rule.dose.measure} logged")
        if d.sets < rule.dose.sets:
            d.reasons.append(f"{d.sets} of {rule.dose.sets} sets")
        if crit.all_sets and d.target is not None and (d.value_min or 0) < d.target - _EPS:
            d.reasons.append(f"not every set reached {d.target:g}{unit}")
        if d.pain is not None and d.pain > limit + _EPS:
            d.reasons.append(f"pain {d.pain:g} above {limit:g}")
        if crit.no_spasm and d.spasm:
            d.reasons.append("spasm that day")
        d.met = not d.reasons
        d.streak = 0
        if d.met:
            d.streak = 1
            for e in reversed(days[:i]):
                if not (e.met and _at_least(e.level, d.level)):
                    break
                d.streak += 1
        prev = d


def _session_days(sessions: pl.DataFrame) -> pl.DataFrame:
    return work_sets(sessions).select("participant", "date").unique()


def dose_vs_prescribed(
    sessions: pl.DataFrame,
    protocol: Protocol,
    *,
    diary: pl.DataFrame | None = None,
    phases: pl.DataFrame | None = None,
    config=None,
) -> pl.DataFrame:
    """Per session and exercise: the dose done against the protocol's (starting) dose.

    Columns: participant, date, exercise, pillars, slot, measure (reps or hold_s), sets_done,
    sets_prescribed, value_min, value_max (the smallest and largest set), value_prescribed,
    target (the dose the session was judged against: the last session's), load_kg, pad, pain_max, spasm, criteria_met (for progression),
    not_met (why not), status: ``done`` (at least the prescribed sets, every set at least the
    prescribed reps or hold), ``below``, ``missing`` (prescribed, not done and no alternative of
    its slot done) or ``extra`` (not in the protocol). ``phases`` keeps only the days the phases
    assign to this protocol; ``diary`` gives the spasm check."""
    protocol = _check_protocol(protocol)
    require_columns(sessions, ["participant", "date", "exercise", "set"], "dose_vs_prescribed")
    if phases is not None:
        sessions = sessions_under(sessions, phases, protocol.id, config=config)
    tl = _timelines(sessions, protocol, diary=diary, config=config)
    rows = []
    done_on: dict[tuple[str, dt.date], set[str]] = {}
    for (pid, e_id), days in tl.items():
        rule = protocol.exercises[e_id]
        for d in days:
            done_on.setdefault((pid, d.date), set()).add(e_id)
            ok = d.sets >= rule.dose.sets and d.value_min is not None and (
                d.value_min >= rule.dose.value - _EPS)
            rows.append(_dose_row(rule, d.participant, d.date, d.sets, d.value_min, d.value_max,
                                  d.target, d.load, d.pad, d.pain, d.spasm, d.met,
                                  "; ".join(d.reasons), "done" if ok else "below"))
    for r in _session_days(sessions).iter_rows(named=True):
        have = done_on.get((r["participant"], r["date"]), set())
        slots_done = {protocol.exercises[e].slot for e in have if protocol.exercises[e].slot}
        for rule in protocol.exercises.values():
            if rule.id in have or (rule.slot and rule.slot in slots_done):
                continue
            rows.append(_dose_row(rule, r["participant"], r["date"], 0, None, None, None, None,
                                  None, None, None, None, None, "missing"))
    extra = (_summaries(sessions, protocol)
             .filter(~pl.col("exercise").is_in(list(protocol.exercises))))
    for r in extra.iter_rows(named=True):
        rows.append({"participant": r["participant"], "date": r["date"],
                     "exercise": r["exercise"], "sets_done": r["n_sets"],
                     "load_kg": r["load"], "pad": r["pad"], "pain_max": r["pain"],
                     "status": "extra"})
    return (pl.DataFrame(rows, schema=DOSE_SCHEMA)
            .sort("participant", "date", "exercise"))


def _dose_row(rule, pid, date, sets, vmin, vmax, target, load, pad, pain, spasm, met, why, status):
    return {"participant": pid, "date": date, "exercise": rule.id,
            "pillars": ", ".join(rule.pillars), "slot": rule.slot, "measure": rule.dose.measure,
            "sets_done": sets, "sets_prescribed": rule.dose.sets, "value_min": vmin,
            "value_max": vmax, "value_prescribed": rule.dose.value, "target": target,
            "load_kg": load, "pad": pad, "pain_max": pain, "spasm": spasm, "criteria_met": met,
            "not_met": why, "status": status}


# --- progression steps and the next step ----------------------------------------------------------


def _at_max(protocol: Protocol, lv: Lever, value: float | None) -> bool:
    if value is None:
        return False
    if lv.lever == "pad":
        return value >= (protocol.pad_rank(str(lv.max)) or 0)
    return lv.max is not None and value >= float(lv.max) - _EPS


def _next_lever(protocol: Protocol, rule: ExerciseRule, level: dict) -> Lever | None:
    """The lever the rules move next: the first one not yet at its max."""
    return next((lv for lv in rule.progression
                 if not _at_max(protocol, lv, level.get(lv.lever))), None)


def _show(protocol: Protocol, lever: str, value: float | None) -> str:
    if value is None:
        return "?"
    if lever == "pad":
        return protocol.pad_label(int(value))
    unit = {"hold_s": " s", "load_kg": " kg", "reps": " reps", "sets": " sets"}[lever]
    return f"{_num(value)}{unit}"


def _num(x: float) -> str:
    """A lever's value as shown: to 0.1 (a load converted from pounds is 15.876 kg)."""
    return f"{round(x, 1):g}"


_WHAT = {"pad": "pad", "hold_s": "hold time", "reps": "reps", "sets": "sets", "load_kg": "load"}


def _move_text(protocol: Protocol, lv: Lever, old: float | None, new: float | None) -> str:
    """'lower the pad one notch (high → mid)', 'add 15 s to each hold (30 → 45 s)', ..."""
    if lv.lever == "pad":
        n = int(round((new - old) if (new is not None and old is not None) else lv.step))
        what = "one notch" if abs(n) == 1 else f"{abs(n)} notches"
        verb = "lower" if n > 0 else "raise"
        return f"{verb} the pad {what}" + (
            f" ({_show(protocol, 'pad', old)} → {_show(protocol, 'pad', new)})"
            if old is not None else "")
    delta = (new - old) if (new is not None and old is not None) else lv.step
    arrow = ("" if old is None or new is None
             else f" ({_num(old)} → {_show(protocol, lv.lever, new)})")
    if delta < 0:
        return f"go back to {_show(protocol, lv.lever, new)}" + arrow
    if lv.lever == "hold_s":
        return f"add {_num(delta)} s to each hold" + arrow
    if lv.lever == "reps":
        return f"add {_num(delta)} rep{'s' if delta != 1 else ''} to each set" + arrow
    if lv.lever == "sets":
        return ("add a set" if delta == 1 else f"add {_num(delta)} sets") + arrow
    return f"add {_num(delta)} kg" + arrow


def _rule_text(protocol: Protocol, rule: ExerciseRule, config) -> str:
    levers = ", then ".join(lever_text(lv) for lv in rule.progression) or "no progression levers"
    text = f"progress when {rule.criteria.describe(config)}: {levers}"
    if rule.goal is not None:
        from rehab.protocol import goal_text

        text += f"; goal: {goal_text(rule.goal)}"
    return f"{text} ({protocol.id}: {protocol.file or 'builtin'})"


def progression(
    sessions: pl.DataFrame,
    protocol: Protocol,
    *,
    diary: pl.DataFrame | None = None,
    phases: pl.DataFrame | None = None,
    config=None,
) -> pl.DataFrame:
    """The progression steps taken: every change of a lever between two sessions of an exercise.

    Columns: participant, date (of the first session at the new level), exercise, lever,
    from_value, to_value, direction (``up`` = harder, ``down`` = easier, ``reset`` = back to the
    start because a later lever moved up the same day), description, criteria_met_before
    (the previous ``sessions_needed`` sessions in a row at the old level met the criteria; empty
    for down and reset), sessions_met_before, sessions_needed, in_rule_order (the lever was the
    first not at its max, as the rules say; empty for down and reset)."""
    protocol = _check_protocol(protocol)
    tl = _timelines(sessions, protocol, diary=diary, config=config, phases=phases)
    return _steps(protocol, tl)


def _steps(protocol: Protocol, tl: dict[tuple[str, str], list[_Day]]) -> pl.DataFrame:
    """The rows of :func:`progression` from evaluated timelines."""
    rows = []
    for (pid, e_id), days in tl.items():
        rule = protocol.exercises[e_id]
        need = rule.criteria.sessions
        for prev, d in zip(days, days[1:], strict=False):
            moved = []
            for lv in rule.progression:
                old, new = prev.level.get(lv.lever), d.level.get(lv.lever)
                if old is None or new is None or abs(new - old) < _EPS:
                    continue
                moved.append((lv, old, new))
            ups = [i for i, (lv, o, n) in enumerate(moved) if n > o]
            expected = _next_lever(protocol, rule, prev.level)
            for lv, old, new in moved:
                later_up = any(rule.progression.index(m[0]) > rule.progression.index(lv)
                               for m in (moved[i] for i in ups))
                start = rule.start(lv.lever)
                start_v = protocol.pad_rank(start) if lv.lever == "pad" else start
                if new > old:
                    direction = "up"
                elif lv.reset and later_up and start_v is not None and abs(new - start_v) < _EPS:
                    direction = "reset"
                else:
                    direction = "down"
                up = direction == "up"
                rows.append({
                    "participant": pid, "date": d.date, "exercise": e_id, "lever": lv.lever,
                    "from_value": _show(protocol, lv.lever, old),
                    "to_value": _show(protocol, lv.lever, new), "direction": direction,
                    "description": _move_text(protocol, lv, old, new),
                    "criteria_met_before": (prev.streak >= need) if up else None,
                    "sessions_met_before": prev.streak, "sessions_needed": need,
                    "in_rule_order": (expected is not None and expected.lever == lv.lever)
                    if up else None,
                })
    return pl.DataFrame(rows, schema=STEPS_SCHEMA).sort("participant", "date", "exercise")


def _current_text(rule: ExerciseRule, d: _Day) -> str:
    """The dose logged: the sets done at the reps or hold every set reached."""
    return dose_text(d.sets, rule.dose.measure, d.value_min if d.value_min is not None else 0,
                     load_kg=d.load or None, pad=d.pad, per_side=rule.dose.per_side)


def _times(n: int) -> str:
    return {1: "once", 2: "twice in a row"}.get(n, f"{n} times in a row")


def _pad_now(d: _Day) -> float | None:
    return d.level["pad"] if d.level.get("pad") is not None else d.pad_rank


def _next_one(protocol: Protocol, rule: ExerciseRule, days: list[_Day], config,
              steps_up: list[str]) -> tuple[str, str]:
    """(action, suggestion) for one exercise's timeline."""
    crit = rule.criteria
    last = days[-1]
    need = crit.sessions
    cur = _current_text(rule, last)
    back_limit = pain_limit(crit.step_back_pain_above, config)
    if last.pain is not None and last.pain > back_limit + _EPS:
        name = steps_up[-1] if steps_up else rule.dose.measure
        lv = rule.lever(name)
        val = last.level.get(name)
        start = rule.start(name)
        start_v = protocol.pad_rank(start) if name == "pad" else start
        if lv is not None and val is not None and start_v is not None and val > start_v + _EPS:
            what = _move_text(protocol, lv, val, max(start_v, val - lv.step))
        else:
            what = "cut the dose (fewer sets or shorter sets) or leave it out until pain settles"
        return "step back", (f"{cur}: pain {last.pain:g} in the last session is above "
                             f"{back_limit:g} → {what}")
    goal = rule.goal
    recent = days[-need:]
    if goal is not None and len(recent) >= need:
        glimit = pain_limit(goal.pain_max, config)
        goal_pad = protocol.pad_rank(goal.pad) if goal.pad else None
        reached = all(
            d.value_min is not None and d.value_min >= goal.value - _EPS
            and d.sets >= (goal.sets or rule.dose.sets)
            and (d.pain is None or d.pain <= glimit + _EPS)
            and not (goal.no_spasm and d.spasm)
            and (goal_pad is None or _pad_now(d) is not None and _pad_now(d) >= goal_pad)
            for d in recent)
        if reached:
            return "goal reached", (f"{cur}: the goal ({goal.text or goal.value}) was reached "
                                    f"{_times(need)} → keep this dose")
    if last.streak >= need:
        pains = [d.pain for d in days[-need:] if d.pain is not None]
        with_pain = f" with pain at most {max(pains):g}" if pains else " (no pain logged)"
        lv = _next_lever(protocol, rule, last.level)
        if lv is None:
            return "hold", (f"{cur} done {_times(need)}{with_pain} → every lever is at its "
                            "maximum: keep this dose")
        old = last.level.get(lv.lever)
        if lv.lever == "pad":
            new = None if old is None else min(old + lv.step, protocol.pad_rank(str(lv.max)))
        else:
            new = None if old is None else old + lv.step
            if new is not None and lv.max is not None:
                new = min(new, float(lv.max))
        text = _move_text(protocol, lv, old, new)
        resets = [r for r in rule.progression[:rule.progression.index(lv)] if r.reset]
        if resets:
            text += " and go back to " + " and ".join(
                _show(protocol, r.lever, protocol.pad_rank(rule.start(r.lever))
                      if r.lever == "pad" else rule.start(r.lever)) for r in resets)
        return "progress", f"{cur} done {_times(need)}{with_pain} → {text}"
    if last.met:
        return "stay", (f"{cur}: criteria met {_times(last.streak)} of the {need} needed → "
                        "repeat this dose")
    return "stay", f"{cur}: {'; '.join(last.reasons)} → stay at this dose"


def next_step(
    sessions: pl.DataFrame,
    protocol: Protocol,
    *,
    diary: pl.DataFrame | None = None,
    phases: pl.DataFrame | None = None,
    config=None,
) -> pl.DataFrame:
    """What the protocol's rules suggest next, per participant and exercise of the protocol.

    Columns: participant, exercise, last_date, sessions_logged, current (the last session's dose),
    streak (sessions in a row at this level that met the criteria), sessions_needed, action
    (``progress``, ``stay``, ``step back``, ``goal reached``, ``hold`` = every lever at its max,
    ``start`` = not logged yet), suggestion (plain language), rule (the rule that produced it,
    and the protocol file). Suggestions follow the protocol file; they are not medical advice."""
    protocol = _check_protocol(protocol)
    if phases is not None:
        sessions = sessions_under(sessions, phases, protocol.id, config=config)
    tl = _timelines(sessions, protocol, diary=diary, config=config)
    return _next_steps(protocol, tl, _steps(protocol, tl), sessions, config)


def _next_steps(protocol: Protocol, tl: dict[tuple[str, str], list[_Day]], steps: pl.DataFrame,
                sessions: pl.DataFrame, config) -> pl.DataFrame:
    """The rows of :func:`next_step` from evaluated timelines, their :func:`_steps` and the
    sessions they came from (under the protocol)."""
    people = sorted({pid for pid, _ in tl} | set(_session_days(sessions)["participant"].to_list()))
    ups: dict[tuple[str, str], list[str]] = {}  # levers stepped up, in date order
    for r in steps.filter(pl.col("direction") == "up").iter_rows(named=True):
        ups.setdefault((r["participant"], r["exercise"]), []).append(r["lever"])
    rows = []
    for pid in people:
        done_slots = {protocol.exercises[e].slot for (p, e) in tl if p == pid
                      and protocol.exercises[e].slot}
        for rule in protocol.exercises.values():
            days = tl.get((pid, rule.id))
            rule_txt = _rule_text(protocol, rule, config)
            if not days:
                alt = (f" (an alternative in the slot '{rule.slot}', which is being done)"
                       if rule.slot in done_slots else "")
                rows.append({"participant": pid, "exercise": rule.id, "last_date": None,
                             "sessions_logged": 0, "current": None, "streak": 0,
                             "sessions_needed": rule.criteria.sessions, "action": "start",
                             "suggestion": f"not logged yet{alt}: start at {rule.dose.text()}",
                             "rule": rule_txt})
                continue
            action, text = _next_one(protocol, rule, days, config, ups.get((pid, rule.id), []))
            rows.append({"participant": pid, "exercise": rule.id, "last_date": days[-1].date,
                         "sessions_logged": len(days), "current": _current_text(rule, days[-1]),
                         "streak": days[-1].streak, "sessions_needed": rule.criteria.sessions,
                         "action": action, "suggestion": text, "rule": rule_txt})
    return pl.DataFrame(rows, schema=NEXT_SCHEMA)


# --- the monthly report's section -----------------------------------------------------------------


@dataclass(frozen=True)
class AdherenceSection:
    """What the monthly report shows on adherence and progression.

    ``table``: the month's ISO weeks (those whose Thursday falls in the month) with days under a
    protocol: week, week_start, protocol, days, sessions_done (in the whole week, the next
    month's days included), target, ratio, pillars_missing. ``pillars``: per protocol and pillar,
    the weeks it was covered. ``steps``: the progression steps of the month. ``next_steps``: what
    the rules suggest at the month's end (with the ``protocol`` they follow). ``text``: one or
    two sentences. ``protocol_set``: whether any protocol applies to this person at all
    (phases, the sessions' protocol column or ``[protocol] id``); ``sessions_logged``: work-set
    days in the month. :meth:`chart`: sessions a week against the target.
    """

    participant: str
    month: str
    table: pl.DataFrame
    pillars: pl.DataFrame
    steps: pl.DataFrame
    next_steps: pl.DataFrame
    text: str
    protocol_set: bool = True
    sessions_logged: int = 0

    def chart(self):
        """Sessions done per week (bars) against the protocol's target (black ticks); Altair."""
        import altair as alt

        data = self.table.select(
            pl.col("week"), pl.col("week_start").dt.strftime("%Y-%m-%d").alias("week_start"),
            "protocol", "sessions_done", pl.col("target").round(2)).to_dicts()
        base = alt.Chart(alt.Data(values=data))
        x = alt.X("week:N", title="ISO week", sort=None)
        bars = base.mark_bar().encode(
            x=x, y=alt.Y("sessions_done:Q", title="sessions (per week)"),
            color=alt.Color("protocol:N", title="protocol"),
            tooltip=["week:N", "protocol:N", "sessions_done:Q", "target:Q"])
        ticks = base.mark_tick(color="black", thickness=2, size=24).encode(
            x=x, y=alt.Y("target:Q"))
        return (bars + ticks).properties(
            title=f"Sessions a week against the protocol's target, {self.month}",
            width=max(160, 48 * max(1, len(data))), height=160)

    def __repr__(self) -> str:
        return self.text


def month_weeks(month: str) -> tuple[dt.date, dt.date, list[dt.date]]:
    """First and last day of ``month`` and the Mondays of its ISO weeks (those whose Thursday
    falls in the month: each week belongs to exactly one month)."""
    first, last = F.month_range(month)
    monday = first - dt.timedelta(days=first.weekday())
    weeks = []
    d = monday
    while d <= last:
        if first <= d + dt.timedelta(days=3) <= last:  # ISO rule: the week's Thursday
            weeks.append(d)
        d += dt.timedelta(days=7)
    return first, last, weeks


def month_horizon(month: str) -> dt.date:
    """The last day a month's figures read: its last day, or the Sunday ending its last week
    when that week runs into the next month (the week is judged whole). A record after it
    changes nothing of the month."""
    _, last, weeks = month_weeks(month)
    return max(last, weeks[-1] + dt.timedelta(days=6)) if weeks else last


def adherence_section(
    data,
    participant: str,
    month: str,
    *,
    protocols=None,
    config=None,
    root=None,
    logged_to: dt.date | None = None,
) -> AdherenceSection:
    """The adherence and progression section of one participant's monthly report.

    ``data``: anything with polars ``sessions``, ``diary`` and ``phases`` attributes
    (:class:`rehab.io.Dataset`, the report's ``MonthReport``); its tables may run past the month.
    ``protocols`` defaults to :func:`rehab.protocol.load_protocols` of the project (``root``),
    ``config`` to its rehab.toml. Weeks are the ISO weeks whose Thursday falls in the month, each
    counted whole (a week that ends in the next month counts that month's sessions too); they
    start on the first day under a protocol (phase start, else the first session). Open phases run
    to the end of the month's last week. Progression and next steps use the data up to the
    month's last day. ``logged_to``: how far the person's logs reach as seen from the month
    (:attr:`rehab.summary.MonthSummary.logged_to`; default: their last session, diary or test
    row in ``data``): a week below its target that ends after it is not judged (not logged to
    its end), as in the month's summary."""
    from rehab.paths import check_participant

    check_participant(participant)
    first, last, weeks = month_weeks(month)
    week_end = weeks[-1] + dt.timedelta(days=6) if weeks else last
    if protocols is None or config is None:
        from rehab.config import load_config
        from rehab.paths import ProjectPaths
        from rehab.protocol import load_protocols

        paths = ProjectPaths.discover() if root is None else ProjectPaths(root)
        protocols = load_protocols(paths.root) if protocols is None else protocols
        config = load_config(paths.config_file) if config is None else config
    protos = _protocol_map(protocols)

    def mine(df, upto):
        return df.filter((pl.col("participant") == participant) & (pl.col("date") <= upto))

    whole = mine(data.sessions, week_end)  # the month's weeks, whole
    # the month's days: its last week can end before the month does (Monday 31 August 2026
    # starts September's first week)
    sessions = mine(data.sessions, last)
    diary = mine(data.diary, last) if data.diary is not None else None
    phases = (data.phases.filter((pl.col("participant") == participant)
                                 & (pl.col("start") <= week_end))
              if data.phases is not None else None)
    periods = protocol_periods(whole, phases, config=config, until=week_end).with_columns(
        pl.min_horizontal("end", pl.lit(week_end)).alias("end")
    ).filter(pl.col("start") <= pl.col("end"))
    logged = int(F.in_month(_session_days(sessions), month).height)

    def why_none() -> tuple[str, bool]:
        # the person's periods over all their logs say why none covers this month's weeks
        everyone = data.sessions.filter(pl.col("participant") == participant)
        all_phases = (data.phases.filter(pl.col("participant") == participant)
                      if data.phases is not None else None)
        try:
            around = protocol_periods(everyone, all_phases, config=config)
        except ValueError:  # phases that overlap: said where they are read whole
            around = pl.DataFrame(schema=PERIOD_SCHEMA)
        return _why_no_target(month, logged, around, weeks[0] if weeks else first, week_end,
                              phases_file=bool(all_phases is not None and all_phases.height),
                              others_phases=bool(data.phases is not None
                                                 and data.phases.height),
                              named=config_protocol(config))

    if periods.height == 0:
        return _no_protocol(participant, month, logged, *why_none())
    unknown = sorted(set(periods["protocol"].to_list()) - set(protos))
    notes = []
    if unknown:
        notes.append(f"No protocol file for {', '.join(unknown)}: those weeks are not scored "
                     "(add protocols/<id>.toml).")
        periods = periods.filter(~pl.col("protocol").is_in(unknown))
    parts = _weekly_parts(whole, periods, protos, config, None)  # shared by both tables
    # rehab.toml's sessions_per_week, when set, is the target here as in the month's summary
    wk = with_target_override(_weekly_table(*parts).filter(pl.col("week_start").is_in(weeks)),
                              config)
    cov = _coverage_table(*parts).filter(pl.col("week_start").is_in(weeks))
    pill = (cov.group_by("protocol", "pillar", "pillar_name", maintain_order=True)
            .agg(pl.col("covered").sum().cast(pl.Int64).alias("weeks_covered"),
                 pl.len().cast(pl.Int64).alias("weeks")))
    # each protocol's timelines once, for its progression steps and its next steps
    step_frames, next_frames, done = [], [], {}
    grid = _day_grid(periods)
    for pid in periods["protocol"].unique(maintain_order=True).to_list():
        under = _on_days(sessions, grid, pid)  # sessions_under(sessions, periods, pid)
        tl = _timelines(under, protos[pid], diary=diary, config=config)
        st = _steps(protos[pid], tl)
        done[pid] = under, tl, st
        step_frames.append(st.filter(pl.col("date") >= weeks[0] if weeks else pl.lit(False)))
    # the protocol in force at the month's end (the last period begun by then)
    current = periods.filter(pl.col("start") <= last).sort("start").tail(1)
    if current.height:
        cur = current["protocol"][0]
        under, tl, st = done[cur]
        next_frames.append(_next_steps(protos[cur], tl, st, under, config)
                           .with_columns(pl.lit(cur).alias("protocol")))
    steps = (pl.concat(step_frames) if step_frames else pl.DataFrame(schema=STEPS_SCHEMA))
    nxt = (pl.concat(next_frames) if next_frames
           else pl.DataFrame(schema={**NEXT_SCHEMA, "protocol": pl.String}))
    table = wk.select("week", "week_start", "protocol", "days", "sessions_done", "target",
                      "ratio", "pillars_missing")
    if logged_to is None:
        ends = [t.filter(pl.col("participant") == participant)["date"].max()
                for t in (data.sessions, data.diary, getattr(data, "tests", None))
                if t is not None and t.height]
        logged_to = max((d for d in ends if d is not None), default=None)
    text = (" ".join([why_none()[0], *notes]) if wk.height == 0
            else _section_text(month, wk, pill, steps, nxt, protos, notes, logged_to,
                               target_override(config)))
    return AdherenceSection(participant, month, table, pill, steps, nxt, text,
                            sessions_logged=logged)


SET_PROTOCOL_HINT = ('name the protocol in rehab.toml ([protocol] id = "shit") or add a phases '
                     "file (data/raw/phases.csv: participant, start, end, protocol, phase); "
                     "`rehab protocols` lists the protocols")


def target_override(config) -> float | None:
    """rehab.toml's ``[protocol] sessions_per_week``, when set: it replaces the protocols'."""
    v = ((getattr(config, "raw", {}) or {}).get("protocol", {}) or {}).get("sessions_per_week")
    return None if v is None else float(v)


def with_target_override(table: pl.DataFrame, config) -> pl.DataFrame:
    """Adherence rows (:func:`weekly_adherence`) with :func:`target_override`, when set, as the
    target (its share of a week partly under a protocol)."""
    override = target_override(config)
    if override is None or not table.height:
        return table
    table = table.with_columns((override * pl.col("days") / 7.0).alias("target"))
    if "ratio" in table.columns:
        table = table.with_columns((pl.col("sessions_done") / pl.col("target")).alias("ratio"))
    return table


def week_status(sessions: int, target: float | None, week_start: dt.date, *,
                start: dt.date | None, logged_to: dt.date | None) -> str:
    """How a week went against its ``target`` (None: no protocol in force): ``met``; ``below``;
    ``not_over`` (below, and the logs end before its Sunday: not logged to its end, not
    missed); ``before_start`` (it ends before ``start``, the first record or phase) or
    ``no_target``, not judged. The month's summary, its adherence sentence and the whole-course
    page judge weeks by this one rule."""
    week_end = week_start + dt.timedelta(days=6)
    if target is None or target <= 0:
        return "before_start" if start is None or week_end < start else "no_target"
    if sessions >= target - 1e-9:
        return "met"
    if logged_to is None or logged_to < week_end:
        return "not_over"
    return "below"


def config_protocol(config) -> str | None:
    """rehab.toml's ``[protocol] id``: the protocol followed when no phases file says so."""
    return ((getattr(config, "raw", {}) or {}).get("protocol", {}) or {}).get("id")


def _why_no_target(month: str, logged: int, periods: pl.DataFrame, first_week: dt.date,
                   week_end: dt.date, *, phases_file: bool, others_phases: bool,
                   named: str | None) -> tuple[str, bool]:
    """Why no protocol period covers the month's weeks, from the person's ``periods`` over all
    their logs: the protocol starts after these weeks (phases, or rehab.toml's from the first
    session), it ended before them, a gap between two periods, no session yet for rehab.toml's
    protocol to start with, no period for them in the phases file, or none is set (how to set
    one). Also whether a protocol is set at all."""
    head = f"{logged} session(s) logged in {month}, but "
    tail = ", so they are not scored against a target"
    before = periods.filter(pl.col("start") > week_end)
    after = periods.filter(pl.col("end") < first_week)
    if periods.height and before.height == periods.height:
        start = before["start"].min()
        what = ("the protocol named in rehab.toml starts (with the first session, "
                if not phases_file and named and periods["protocol"][0] == named
                else "the first protocol period starts (")
        text = f"{head}this month's weeks end before {what}{start:%d %b %Y}){tail}."
    elif periods.height and after.height == periods.height:
        text = (f"{head}the last protocol period ended on {after['end'].max():%d %b %Y}{tail}: "
                "extend the phases file if the protocol went on.")
    elif periods.height:
        text = (f"{head}no protocol period covers this month's weeks (a gap between two "
                f"periods){tail}: extend the phases file if the protocol went on.")
    elif named:
        text = (f"{head}the protocol named in rehab.toml starts with the first session, and "
                f"none is logged yet{tail}.")
    elif others_phases:
        text = (f"{head}the phases file has no period for this person{tail}: add one "
                "(participant, start, end, protocol, phase).")
    else:
        text = (f"{head}no protocol is set, so adherence and progression cannot be scored "
                f"against a target: {SET_PROTOCOL_HINT}.")
    return text, bool(periods.height or phases_file or others_phases or named)


def _no_protocol(participant: str, month: str, logged: int, text: str,
                 elsewhere: bool) -> AdherenceSection:
    """The section when no protocol period touches the month's weeks: what was done, and why
    no target applies (:func:`_why_no_target`)."""
    empty = pl.DataFrame(schema={k: WEEKLY_SCHEMA[k] for k in (
        "week", "week_start", "protocol", "days", "sessions_done", "target", "ratio",
        "pillars_missing")})
    return AdherenceSection(
        participant, month, empty,
        pl.DataFrame(schema={"protocol": pl.String, "pillar": pl.String, "pillar_name": pl.String,
                             "weeks_covered": pl.Int64, "weeks": pl.Int64}),
        pl.DataFrame(schema=STEPS_SCHEMA), pl.DataFrame(schema={**NEXT_SCHEMA, "protocol": pl.String}),
        text, protocol_set=elsewhere, sessions_logged=logged)


def _section_text(month, wk, pill, steps, nxt, protos, notes, logged_to, override) -> str:
    def rate(p: str) -> str:  # rehab.toml's sessions_per_week, when set, is the target
        return (f"{override:g} a week, rehab.toml" if override is not None
                else f"{protos[p].sessions_per_week:g} a week")

    names = ", ".join(f"{short_name(protos[p].name or p)} ({rate(p)})"
                      for p in wk["protocol"].unique(maintain_order=True).to_list())
    # the weeks judged as the month's summary judges them (week_status): a week below its
    # target whose Sunday the logs do not reach is not logged to its end, and left out
    per = wk.group_by("week_start").agg(pl.col("sessions_done").sum(), pl.col("target").sum())
    open_ = [r["week_start"] for r in per.iter_rows(named=True)
             if week_status(r["sessions_done"], r["target"], r["week_start"], start=None,
                            logged_to=logged_to) == "not_over"]
    judged = wk.filter(~pl.col("week_start").is_in(open_))
    done, target = int(judged["sessions_done"].sum()), float(judged["target"].sum())
    later = (f" {len(open_)} week(s) not judged: the logs stop before "
             f"{'its' if len(open_) == 1 else 'their'} Sunday." if open_ else "")
    if judged.height == 0:
        s = [f"{month}: no week of {names} is judged yet (each week counted whole, to its "
             f"Sunday).{later}"]
    else:
        s = [f"{month}: {done} session(s) against a target of {target:.1f} "
             f"({done / target:.0%}) over {judged['week'].n_unique()} ISO week(s) of {names} "
             f"(each week counted whole, to its Sunday).{later}"]
    # a week split between two protocols has a row for each: it is full when both parts are
    per_week = wk.group_by("week").agg((pl.col("pillars_missing") == "").all().alias("full"))
    full = int(per_week["full"].sum())
    line = f"Every pillar was trained in {full} of {per_week.height} week(s)"
    gaps = pill.filter(pl.col("weeks_covered") < pl.col("weeks")).sort("weeks_covered")
    if gaps.height:
        g = gaps.row(0, named=True)
        line += (f"; least covered: {g['pillar']} ({g['pillar_name']}), "
                 f"{g['weeks_covered']} of {g['weeks']} weeks")
    ups = steps.filter(pl.col("direction") == "up")
    line += (f". {ups.height} progression step(s) this month, "
             f"{int(ups['criteria_met_before'].sum())} after their criteria were met.")
    s.append(line)
    go = nxt.filter(pl.col("action").is_in(["progress", "step back"]))
    if go.height:
        r = go.row(0, named=True)
        s.append(f"Next, by the protocol's rules: {exercise_name(protos, r)}: "
                 f"{r['suggestion']}.")
    return " ".join(s + notes)


def short_name(name: str) -> str:
    """A protocol's name without its parenthesised gloss: 'S.H.I.T.' for 'S.H.I.T. (Sensitivity,
    Hidden imbalance, ...)'."""
    return name.split(" (", 1)[0].strip() or name


def exercise_name(protos, row: Mapping) -> str:
    """The display name of a next-step or step row's exercise (its id when unknown)."""
    p = _protocol_map(protos).get(row.get("protocol") or "")
    rule = p.exercises.get(row["exercise"]) if p is not None else None
    if rule is None:
        rule = next((q.exercises[row["exercise"]] for q in _protocol_map(protos).values()
                     if row["exercise"] in q.exercises), None)
    return (rule.name if rule is not None and rule.name else row["exercise"])


__all__ = [
    "SET_PROTOCOL_HINT",
    "WORK_SET_TYPES",
    "AdherenceSection",
    "ProtocolError",
    "adherence_section",
    "config_protocol",
    "dose_vs_prescribed",
    "exercise_name",
    "month_horizon",
    "month_weeks",
    "next_step",
    "pillar_coverage",
    "progression",
    "protocol_periods",
    "sessions_under",
    "short_name",
    "target_override",
    "week_status",
    "weekly_adherence",
    "with_target_override",
    "work_sets",
]
