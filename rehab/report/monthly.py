"""The sections of the monthly report: each a method returning one displayable :class:`Section`.

The report template (``notebooks/templates/monthly-report.ipynb``) is a column of short cells, one
per section, each calling a method of :class:`MonthReport`. A section shows numbers with their
uncertainty, says when a change is within measurement noise, and falls back to a plain sentence
when the month's data are too thin. Every piece of text that comes from the data (ids, test names,
notes, file names) is HTML-escaped here; charts are static SVG (:func:`rehab.plots.to_svg`).

A later model section is one more method here (or in its own module) and one more cell.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from rehab import _quick_imports

_quick_imports.apply()  # a report kernel starts here: skip import-time work (see the module)

import polars as pl  # noqa: E402

from rehab import features as F  # noqa: E402
from rehab import norms, plots  # noqa: E402
from rehab.config import Config  # noqa: E402
from rehab.paths import ProjectPaths, check_month, check_participant  # noqa: E402
from rehab.report import ReportError  # noqa: E402
from rehab.report.files import data_folder  # noqa: E402
from rehab.report.page import (  # noqa: E402
    DEMO_BANNER,
    DISCLAIMER,
    Section,
    esc,
    figure,
    nice_date,
    num,
    para,
    section,
    signed,
    table,
)
from rehab.schema import TEST_IDS  # noqa: E402

SRC_GROUPS = {"current_lbp": "people with current low back pain",
              "previous_lbp": "people with previous low back pain",
              "no_pain": "people without back pain", "all": "all groups"}
MIN_PAIN_DAYS = 3  # fewer diary days than this in a month: no chart, a sentence
MIN_RATE_DAYS = 7  # fewer logged days than this: no weekly session rate, a sentence
MODEL_SERIES = (("sorensen_hold", 0.0), ("back_extension_hold", 45.0))  # test, bench angle
MIN_CURVE_TESTS = 6  # fewer test days: the curve's intervals span almost anything
N_BOOT = 400  # bootstrap replicates of the endurance curve: ~2 digits of a 95% interval, fast
BASELINE_DAYS = norms.PAIN_BASELINE_DAYS
VERDICT_TEXT = {
    "improved": "real improvement",
    "declined": "real decline",
    "noise": "noise",
    "no previous month": "no test last month",
    "not judged": "not judged",
}


def _bound(x: float | None) -> str:
    """An interval end for the text: open ends say so."""
    if x is None or x != x:
        return "–"
    return "open (no upper end yet)" if abs(x) == float("inf") else f"{x:.0f} s"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _day(d: dt.date | None) -> str:
    return "–" if d is None else f"{d.day} {d:%b %Y}"


def _forecast_text(f: dict) -> str:
    """One forecast row of :meth:`EnduranceResult.forecasts` as a short phrase."""
    if f["status"] == "already_reached":
        return f"reached (the curve passed it around {_day(f['date'])})"
    if f["status"] == "forecast":
        if f["date"] is None:
            return "no recent training to turn the curve into a date"
        hi = (_day(f["date_high"]) if f["date_high"] is not None
              else "open: may not be reached at the current rate")
        return f"around {_day(f['date'])} ({_day(f['date_low'])} to {hi})"
    if f["status"] == "not_reached_at_current_rate":
        return "not reached at the current rate (above the curve's plateau)"
    return "no forecast"


CURVE_Y_MAX_OVER_BEST = 1.6  # the curve chart's scale: up to 1.6 × the best test (or a target)


def _curve_figure(res, label: str):
    """The fitted curve over the tested days only, its band cut at the chart's top when it runs
    beyond (and a caption sentence saying so)."""
    from rehab.report.charts import curve_chart

    data = res.data.sort("date")
    first, last = data["date"][0], data["date"][-1]
    days = [first + dt.timedelta(days=int(d))
            for d in range(0, (last - first).days + 1, max(1, (last - first).days // 60 or 1))]
    if days[-1] != last:
        days.append(last)
    pred = res.predict(days)
    best = float(data["value"].max())
    y_max = max([best * CURVE_Y_MAX_OVER_BEST] + [v for _, v in res.targets if v <= 2 * best])
    y_max = float(int(y_max / 20 + 1) * 20)
    clipped = pred.filter(pl.col("ci_high") > y_max).height > 0
    note = (f" The band is cut at {y_max:g} s: above that it reaches far beyond any test "
            "logged, where the data say nothing yet." if clipped else "")
    chart = curve_chart(data.select("date", "value"), pred, title=f"{label}: tests and fitted "
                        "curve", targets=res.targets, y_max=y_max)
    return chart, note


def month_name(month: str) -> str:
    first, _ = F.month_range(month)
    return f"{first:%B %Y}"


def month_protocols(phases: pl.DataFrame, sessions: pl.DataFrame, month: str,
                    config=None) -> list[str]:
    """Protocols followed during ``month``, ordered by the days they cover, the main one last:
    from the phases table, else the sessions' protocol column, else rehab.toml's
    ``[protocol] id`` from the first session on (as :func:`rehab.adherence.protocol_periods`
    reads them)."""
    from rehab.adherence import config_protocol

    first, last = F.month_range(month)
    ph = phases.filter((pl.col("start") <= last)
                       & (pl.col("end").is_null() | (pl.col("end") >= first)))
    if ph.height:
        days = ph.with_columns(
            ((pl.min_horizontal(pl.col("end").fill_null(last), pl.lit(last))
              - pl.max_horizontal(pl.col("start"), pl.lit(first))).dt.total_days() + 1).alias("n")
        ).group_by("protocol").agg(pl.col("n").sum())
    elif phases.height or ("protocol" in sessions.columns
                           and sessions["protocol"].drop_nulls().len()):
        days = (F.in_month(sessions, month).filter(pl.col("protocol").is_not_null())
                .group_by("protocol").agg(pl.col("date").n_unique().alias("n")))
    else:
        pid = config_protocol(config)
        started = sessions["date"].min() if sessions.height else None
        return [pid] if pid and started is not None and started <= last else []
    return days.sort("n", "protocol")["protocol"].to_list()


def _known_protocols(root: Path):
    """The project's protocols (a ProtocolSet), or None when a protocol file is not valid (the
    page then names protocols by id and aims at the default target)."""
    from rehab.protocol import ProtocolError, load_protocols

    try:
        return load_protocols(root)
    except ProtocolError:
        return None


def _name_in(known, pid: str) -> str:
    """The protocol's display name in ``known`` (:func:`_known_protocols`), or its id."""
    p = known.get(pid) if known is not None else None
    return (p.name or pid) if p is not None else pid


def _protocol_name(pid: str, root: Path) -> str:
    """The protocol's display name, or its id when it is not a known protocol."""
    return _name_in(_known_protocols(root), pid)


def _target_of(cfg, protos: list[str], known) -> tuple[float, str]:
    """Sessions a week to aim for, and where it comes from: rehab.toml's [protocol]
    sessions_per_week if set, else the month's main protocol's (``protos``, from
    :func:`month_protocols`, the main one last, among the known ones,
    :func:`_known_protocols`), else 2 ("default")."""
    if "sessions_per_week" in cfg.raw.get("protocol", {}):
        return cfg.sessions_per_week_target, "rehab.toml"
    if protos and known is not None and protos[-1] in known:
        return float(known[protos[-1]].sessions_per_week), f"set by the protocol {protos[-1]!r}"
    return cfg.sessions_per_week_target, "default"


# --- questionnaires (the monthly section and the whole-course page) -------------------------------

QUESTIONNAIRE_MIC = {"rmdq": norms.MIC_ROLAND_MORRIS, "odi": norms.MIC_OSWESTRY,
                     "psfs": norms.MIC_PSFS_UNVERIFIED}
QUESTIONNAIRE_NAMES = {"rmdq": "Roland-Morris (RMDQ, 0–24, lower is better)",
                       "odi": "Oswestry (ODI, 0–100, lower is better)",
                       "psfs": "Patient-Specific Functional Scale (PSFS, 0–10, higher is better)",
                       "nrs": "pain NRS (0–10)"}
HIGHER_IS_BETTER = {"psfs"}


def questionnaire_scores(ds) -> pl.DataFrame | None:
    """The project's questionnaire scores (participant, date, instrument, score), or None when
    the data source has no questionnaire table (or it is empty)."""
    q = getattr(ds, "questionnaires", None)
    if q is None or not isinstance(q, pl.DataFrame) or q.height == 0:
        return None
    need = {"date", "instrument", "score"}
    if not need <= set(q.columns):
        return None
    if "participant" not in q.columns:
        q = q.with_columns(pl.lit("me").alias("participant"))
    return q.select("participant", pl.col("date").cast(pl.Date),
                    pl.col("instrument").cast(pl.String).str.to_lowercase(),
                    pl.col("score").cast(pl.Float64)).drop_nulls("score").sort("date")


def questionnaire_rows(q: pl.DataFrame) -> tuple[list[list[str]], list[str]]:
    """Each questionnaire's latest score against its first, with its reading: table cells
    (HTML) and plain lines."""
    rows, text = [], []
    for inst in q["instrument"].unique(maintain_order=True).to_list():
        d = q.filter(pl.col("instrument") == inst).sort("date")
        first, last = d.row(0, named=True), d.row(-1, named=True)
        mic = QUESTIONNAIRE_MIC.get(inst)
        change = last["score"] - first["score"]
        if mic is None or d.height < 2:
            reading = "not judged" if mic is None else "one score so far"
        else:
            better = change >= mic if inst in HIGHER_IS_BETTER else -change >= mic
            worse = -change >= mic if inst in HIGHER_IS_BETTER else change >= mic
            reading = ("important improvement" if better else "important worsening" if worse
                       else "no important change")
            reading += f" (important change: {mic:g} points"
            reading += ", unverified)" if inst == "psfs" else ")"
        name = QUESTIONNAIRE_NAMES.get(inst, inst)
        nd = 0 if all(float(x).is_integer() for x in d["score"]) else 1  # RMDQ 8, PSFS 6.3
        rows.append([esc(name), esc(f"{num(last['score'], nd)} ({nice_date(last['date'])})"),
                     esc(f"{num(first['score'], nd)} ({nice_date(first['date'])})"),
                     esc(signed(change, nd)), esc(reading)])
        text.append(f"{name}: {num(last['score'], nd)}, first {num(first['score'], nd)}: "
                    f"{reading}")
    return rows, text


def _questionnaires(ds, participant: str, last: dt.date) -> pl.DataFrame | None:
    """The person's questionnaire scores up to ``last`` (None when the data have none)."""
    q = questionnaire_scores(ds)
    if q is None:
        return None
    q = q.filter((pl.col("participant") == participant) & (pl.col("date") <= last))
    return q if q.height else None


def exercise_names(ps) -> dict[str, str]:
    """Exercise id → its name in the protocols ``ps`` (a :class:`rehab.protocol.ProtocolSet`:
    built in and the project's own)."""
    names: dict[str, str] = {}
    for pid in ps:
        for ex_id, rule in ps[pid].exercises.items():
            names.setdefault(ex_id, getattr(rule, "name", "") or ex_id)
    return names


def _shown_path(path: str, root: Path | None) -> str:
    """A log file's path as the person knows it: below the project (``data/raw/tom/diary.csv``;
    two folders' ``diary.csv`` are told apart), else its name."""
    try:
        return str(Path(path).resolve().relative_to(Path(root).resolve()))
    except (TypeError, ValueError):
        return Path(path).name


def _exercise_label(ex: str, names: dict[str, str], variant: str | None = None) -> str:
    """The exercise's name, with the name it was logged under when that says more ("Front
    plank (logged as “Plank”)"; not "Side plank (logged as “Side Plank”)")."""
    from rehab.exercises import normalise

    label = names.get(ex) or ex.replace("_", " ")[:1].upper() + ex.replace("_", " ")[1:]
    if variant and normalise(variant) not in (normalise(label), normalise(ex)):
        label += f" (logged as “{variant}”)"
    return label


def _g(x: float) -> str:
    return f"{x:g}" if x == x else "–"


LB_PER_KG = 1 / 0.45359237  # the international pound (1959)
SET_KINDS = {"warmup": "warm-up", "test": "test", "failure": "to failure", "drop": "drop set"}


def _load_text(kg: float, unit: str) -> str:
    x = kg * LB_PER_KG if unit == "lb" else kg
    return f"{round(x, 1):g} {unit}"


def _same_sets(rows: list[dict], unit: str) -> str:
    """Sets of one kind: "3 × 10 reps @ 5 kg", or each value when they differ ("30, 35 s");
    sets with a load apart from those without ("2 × 10 reps; 3 × 12 reps @ 11.3 kg")."""
    loaded = [r for r in rows if r["load_kg"]]
    if loaded and len(loaded) < len(rows):
        return (f"{_same_sets([r for r in rows if not r['load_kg']], unit)}; "
                f"{_same_sets(loaded, unit)}")
    n = len(rows)
    bits = []
    for col, what in (("reps", " reps"), ("hold_s", " s")):
        vals = [r[col] for r in rows if r[col] is not None]
        if not vals:
            continue
        if len(set(vals)) == 1 and len(vals) == n:
            bits.append(f"{n} × {_g(vals[0])}{what}")
        else:
            bits.append(", ".join(_g(v) for v in vals) + what)
    text = " + ".join(bits) or f"{n} set{'s' if n > 1 else ''}"
    # loads as shown (20 kg and 44 lb = 19.958 kg are both "20 kg": one load, not "20 kg/20 kg")
    loads = dict.fromkeys(_load_text(x, unit) for x in sorted({r["load_kg"] for r in rows
                                                              if r["load_kg"]}))
    if loads:
        text += " @ " + "/".join(loads)
    return text


def sets_text(sets: pl.DataFrame, *, unit: str = "kg") -> str:
    """One exercise's sets of a day in a few words: "3 × 10 reps", "3 × 30 s @ 5 kg",
    "30, 35, 40 s" (sets that differ), per side, with warm-up, test, failure and drop sets
    named apart ("3 × 12 reps (+ warm-up 1 × 8 reps)"); loads in ``unit`` (kg or lb)."""
    return _sets_text(sets.sort("set").rows(named=True), unit)


def _sets_text(rows: list[dict], unit: str) -> str:
    """:func:`sets_text` of one exercise's rows of a day, already in set order (plain Python:
    the page calls it for every exercise of every day)."""
    by_side: dict[str | None, list[dict]] = {}  # sides in the order their first set comes
    for r in rows:
        by_side.setdefault(r["side"], []).append(r)
    parts = []
    for side, g in by_side.items():
        main = [r for r in g if r["set_type"] not in SET_KINDS]  # normal, or no set type
        text = _same_sets(main, unit) if main else ""
        extra = [f"{name} {_same_sets(other, unit)}" for kind, name in SET_KINDS.items()
                 if (other := [r for r in g if r["set_type"] == kind])]
        if extra:
            text = f"{text} (+ {'; '.join(extra)})" if text else "; ".join(extra)
        if side in ("left", "right"):
            text += f" ({side})"
        parts.append(text)
    return "; ".join(parts)


def weekly_volume(sessions: pl.DataFrame, first: dt.date, last: dt.date) -> pl.DataFrame:
    """Repetitions and hold seconds per ISO week (weeks touching ``first``..``last``) and
    exercise family (:data:`rehab.exercises.EXERCISES`; names not mapped: "other")."""
    from rehab.exercises import EXERCISES

    fam = {k: v[1] for k, v in EXERCISES.items()}
    lo = first - dt.timedelta(days=first.weekday())
    df = sessions.filter(pl.col("date").is_between(lo, last + dt.timedelta(days=6 - last.weekday())))
    return (df.with_columns(F.week_start().alias("week_start"),
                            pl.col("exercise").replace_strict(fam, default="other").alias("family"))
            .group_by("week_start", "family")
            .agg(pl.col("reps").fill_null(0).sum().cast(pl.Float64).alias("reps"),
                 pl.col("hold_s").fill_null(0).sum().cast(pl.Float64).alias("hold_s"))
            .sort("week_start", "family"))


HOW_TO_READ = (
    ("95% interval (CI)", "a range built so that, in 95 of 100 repeats, it would hold the true "
     "value. A wide one means the data say little yet."),
    ("Training days a week", "the rate's interval is an exact Poisson interval; planned sessions "
     "are more regular than that, so it errs on the wide side."),
    ("Smallest real change", "a test can differ by this much from one day to the next with no "
     "real change (Latimer 1999: 32.1 s for a Sorensen hold with current back pain). A change "
     "inside it is called noise."),
    ("Minimal important change", "the smallest change people notice as better or worse (Ostelo "
     "2008): pain 2 points or 30%, Oswestry 10 points, Roland-Morris 5; the PSFS's 2 points are "
     "widely quoted but unverified here."),
    ("Endurance curve", "y = plateau + (start − plateau)·exp(−weeks/τ), fitted to every test up to "
     "the end of the month; its band and intervals come from a parametric bootstrap. When the "
     "data do not pin the plateau down, the page says \"still rising\" and gives no plateau or "
     "date."),
    ("Pain trend", "a straight line through the diary days with AR(1) errors (each day's pain "
     "resembles the day before's), fitted by feasible GLS."),
    ("AU (training load)", "arbitrary units: session effort (RPE, 0–10) × minutes (Foster "
     "2001). Fitness and fatigue are 42- and 7-day averages of the daily load."),
    ("Pain-monitoring zones", "pain during exercise of 0–2 is safe, up to 5 acceptable, above 5 "
     "too much (Thomeé 1997); the bands are settings in rehab.toml."),
)


@dataclass(frozen=True)
class MonthReport:
    """One participant's data up to the end of one month, and the settings that shape the report."""

    participant: str
    month: str
    sessions: pl.DataFrame  # every table: this participant, dated up to the month's last day
    diary: pl.DataFrame
    tests: pl.DataFrame
    phases: pl.DataFrame
    quality: pl.DataFrame  # this person's share of each file (rehab.io.Dataset.data_quality)
    is_demo: bool
    source: str
    include_notes: bool
    target: float
    target_from: str
    protocol_names: tuple[str, ...]
    logged_until: dt.date  # the month's last day, or the last day with any record if earlier
    safe_max: float
    acceptable_max: float
    src_group: str
    config: Config | None = None  # rehab.toml's settings (None: the defaults)
    root: Path | None = None  # the project folder (its protocols/ and rehab.toml)
    questionnaire_scores: pl.DataFrame | None = None  # date, instrument, score, to the month's end
    sessions_all: pl.DataFrame | None = None  # this participant's sessions, later months too
    last_record: dt.date | None = None  # the last record of any kind, later months included
    last_seen: dt.date | None = None  # the last record on or before the month's horizon
    known_protocols: object | None = None  # the project's ProtocolSet when load() read it

    @classmethod
    def load(
        cls, participant: str, month: str, *, project_dir: str = "", data_dir: str = ""
    ) -> MonthReport:
        """Read the project's logs (``data_dir`` or the default input folder) and settings."""
        from rehab.adherence import month_horizon
        from rehab.config import load_config
        from rehab.io import load_project

        check_participant(participant)
        check_month(month)
        paths = (ProjectPaths(Path(project_dir).resolve()) if project_dir
                 else ProjectPaths.discover())
        cfg = load_config(paths.config_file)
        ds = load_project(paths.root, source=data_folder(paths, data_dir), aliases=cfg.aliases)
        if participant not in ds.participants:
            known = ", ".join(ds.participants) or "none"
            raise ReportError(f"participant {participant!r} has no records in {ds.source_dir} "
                              f"(participants found: {known})")
        mine = ds.for_participant(participant)
        _, last = F.month_range(month)
        upto = {k: getattr(mine, k).filter(pl.col("date") <= last)
                for k in ("sessions", "diary", "tests")}
        # the logs end on the last record of any kind (a later month's included): days of the
        # month after it are not logged yet, not missed
        end = ds.last_record(participant)
        if not F.data_months(*upto.values()):
            raise ReportError(f"participant {participant!r} has no records up to {month} "
                              f"in {ds.source_dir}")
        try:
            source = str(ds.source_dir.resolve().relative_to(paths.root))
        except ValueError:
            source = ds.source_dir.name
        followed = month_protocols(mine.phases, upto["sessions"], month, cfg)
        known = _known_protocols(paths.root) if followed else None  # read once for both and kept
        target, target_from = _target_of(cfg, followed, known)
        names = tuple(_name_in(known, p) for p in followed)
        return cls(
            participant=participant, month=month, phases=mine.phases,
            quality=ds.data_quality(participant), is_demo=ds.is_demo,
            source=source, include_notes=cfg.include_notes,
            target=target, target_from=target_from, protocol_names=names,
            logged_until=max(min(end, last), F.month_range(month)[0]) if end else last,
            safe_max=cfg.pain_safe_max,
            acceptable_max=cfg.pain_acceptable_max,
            src_group=cfg.participant(participant).src_group, config=cfg, root=paths.root,
            questionnaire_scores=_questionnaires(ds, participant, last),
            sessions_all=mine.sessions, last_record=end,
            last_seen=ds.last_record(participant, month_horizon(month)),
            known_protocols=known,
            **upto,
        )

    # --- helpers ---------------------------------------------------------------------------------

    @property
    def first_day(self) -> dt.date:
        return F.month_range(self.month)[0]

    @property
    def last_day(self) -> dt.date:
        return F.month_range(self.month)[1]

    @property
    def name(self) -> str:
        return month_name(self.month)

    def _this(self, df: pl.DataFrame) -> pl.DataFrame:
        return F.in_month(df, self.month)

    @cached_property
    def daily_pain(self) -> pl.DataFrame:
        """Each diary day's pain (:func:`rehab.features.daily_pain`), for the pain and flare
        sections."""
        return F.daily_pain(self.diary)

    @property
    def settings(self) -> Config:
        """rehab.toml's settings, or the defaults with this report's pain bands."""
        return self.config or Config(pain_safe_max=self.safe_max,
                                     pain_acceptable_max=self.acceptable_max)

    def protocols(self) -> list[str]:
        """Protocols followed during the month, the one with the most days last."""
        return month_protocols(self.phases, self.sessions, self.month, self.settings)

    def _data_all(self):
        """The tables a whole-week count needs: sessions of later months too."""
        from types import SimpleNamespace

        return SimpleNamespace(
            sessions=self.sessions_all if self.sessions_all is not None else self.sessions,
            diary=self.diary, tests=self.tests, phases=self.phases)

    @cached_property
    def protocol_set(self):
        """The project's protocols (built in and its own, :func:`rehab.protocol.load_protocols`),
        read once for every section (by :meth:`load` already when the month follows one). A
        protocol file that is not valid raises ProtocolError."""
        from rehab.protocol import load_protocols

        return (self.known_protocols if self.known_protocols is not None
                else load_protocols(self.root))

    @cached_property
    def month_adherence(self):
        """The month's adherence and progression
        (:func:`rehab.adherence.adherence_section`), computed once: the summary and the adherence
        section both read it. A protocol file that is not valid raises ProtocolError."""
        from rehab.adherence import adherence_section, month_horizon

        # how far the logs reach as seen from the month, as the summary reads it
        reach = self.last_record or self.logged_until
        return adherence_section(self._data_all(), self.participant, self.month,
                                 protocols=self.protocol_set, config=self.settings,
                                 root=self.root,
                                 logged_to=min(reach, month_horizon(self.month)) if reach
                                 else None)

    @cached_property
    def summary(self):
        """The month's figures (:func:`rehab.summary.month_summary`), computed once: the
        one-minute text, the header, the sessions and adherence sections and the JSON summary
        all read them. A protocol file that is not valid raises ProtocolError."""
        from rehab.summary import month_summary

        return month_summary(self._data_all(), self.participant, self.month,
                             protocols=self.protocol_set, config=self.settings, root=self.root,
                             demo=self.is_demo, src_group=self.src_group,
                             last_record=self.last_record or self.logged_until,
                             last_seen=self.last_seen,
                             section=self.month_adherence)

    def _summary_or_error(self):
        from rehab.protocol import ProtocolError

        try:
            return self.summary, None
        except ProtocolError as e:
            return None, f"A protocol file is not valid, so the month cannot be summarised. {e}"

    def _start(self) -> dt.date:
        """The first day this month the person's logs cover: the month's first day, or their
        start (first record or phase start) when later."""
        s, _ = self._summary_or_error()
        start = s.start if s is not None and s.start is not None else self.first_day
        return max(self.first_day, start)

    # --- sections --------------------------------------------------------------------------------

    def one_minute(self) -> Section:
        """"This month in one minute": five or six plain sentences (sessions against the target,
        the best test against last month, pain against last month and the start, flares, the
        next step), each linking to its section; the same figures as :meth:`summary_output`."""
        s, err = self._summary_or_error()
        if s is None:
            return section("one-minute", [para(esc(err))], [err])
        lines = s.lines()
        items = "".join(f'<li><a href="#{esc(a)}"><strong>{esc(label)}</strong></a>: '
                        f"{esc(text)}</li>" for a, label, text in lines)
        return section("one-minute", [f'<ul class="one-minute">{items}</ul>'],
                       [f"{label}: {text}" for _, label, text in lines])

    def summary_output(self) -> SummaryOutput:
        """The month's machine-readable summary (:meth:`rehab.summary.MonthSummary.to_dict`),
        displayed as ``application/json`` with metadata ``{"rehab": "summary"}``: the renderer
        writes it to ``reports/<participant>/<YYYY-MM>.json``; the page does not show it."""
        s, err = self._summary_or_error()
        return SummaryOutput(s.to_dict() if s is not None else {"error": err})

    def header(self) -> Section:
        """Title, demo-data banner, what the month holds, and the not-medical-advice line."""
        parts = [f'<h1 class="title">Monthly report: {esc(self.participant)}, '
                 f"{esc(self.name)}</h1>"]
        text = [f"Monthly report: {self.participant}, {self.name}"]
        if self.is_demo:
            parts.append(f'<div class="demo" role="note"><strong>DEMO DATA.</strong> '
                         f"{esc(DEMO_BANNER)}</div>")
            text.append("DEMO DATA. " + DEMO_BANNER)
        s, _ = self._summary_or_error()
        # training days as the summary counts them (days with a work set), so the page agrees
        n_days = s.training_days if s is not None else self._this(self.sessions)["date"].n_unique()
        n_diary = self._this(self.diary)["date"].n_unique()
        n_tests = self._this(self.tests)["date"].n_unique()
        start = self._start()
        line = (f"{n_days} training day(s), {n_diary} diary day(s) and {n_tests} test day(s) "
                f"logged from {nice_date(start)} to {nice_date(self.logged_until)}")
        if start > self.first_day:
            line += " (the first record or phase start)"
        line += (". " if self.logged_until == self.last_day else
                 " (the last day with any record: later days count as not logged yet). ")
        from rehab.summary import short_name

        names = tuple(short_name(n) for n in self.protocol_names) or (
            (s.protocol_name,) if s is not None and s.protocol_name else ())
        if names:
            what = "Protocol" if len(names) == 1 else "Protocols"
            line += f"{what}: " + ", ".join(names) + ("" if names[-1].endswith(".") else ".")
        elif s is not None and s.protocol is None:
            line += "No protocol is set (see Adherence and progression)."
        parts.append(para(esc(line), "lead"))
        parts.append(para(esc(DISCLAIMER), "disclaimer"))
        text += [line, DISCLAIMER]
        return section("header", parts, text)

    def sessions_section(self) -> Section:
        """Training days against the protocol's target from the person's start, as a calendar
        strip with weekly counts (whole weeks; the statuses of :attr:`summary`)."""
        if self.sessions.height == 0:
            msg = "No training sessions are logged for this person yet."
            return section("sessions", [para(esc(msg))], [msg])
        s, err = self._summary_or_error()
        if s is None:
            return section("sessions", [para(esc(err))], [err])
        from rehab.adherence import work_sets

        start = self._start()
        days = max(0, (self.logged_until - start).days + 1)
        n = s.training_days
        sessions = work_sets(self._data_all().sessions)
        target = s.target_per_week
        strip = F.calendar_strip(sessions, self.month, diary=self.diary, target=target,
                                 until=s.logged_to, start=s.start)
        # the month's weeks are judged as the summary judges them (a week started mid-way asks
        # for its share of the target)
        met = {w.week_start: {"met": True, "below": False}.get(w.status) for w in s.weeks}
        strip = strip.with_columns(
            pl.when(pl.col("week_start").is_in(list(met)))
            .then(pl.col("week_start").replace_strict(met, default=None, return_dtype=pl.Boolean))
            .otherwise(pl.col("week_met")).alias("week_met"))
        span = f"from {nice_date(start)} to {nice_date(self.logged_until)}"
        if days < MIN_RATE_DAYS:
            line = (f"{n} training day(s) in {days} logged day(s) ({span}): too few days to "
                    "judge the weekly rate.")
        else:
            rate = F.session_rate(n, days, target=target or 2.0).row(0, named=True)
            line = (f"{n} training day(s) in {days} logged day(s) ({span}): "
                    f"{num(rate['estimate'], 1)} a week (95% CI {num(rate['ci_low'], 1)} to "
                    f"{num(rate['ci_high'], 1)}).")
        if target is None:
            line += (" No protocol is set, so the weeks are counted, not judged against a "
                     "target (see Adherence and progression).")
        else:
            origin = ("rehab.toml" if "sessions_per_week" in self.settings.raw.get("protocol", {})
                      else s.protocol_name or s.protocol)
            judged = [w for w in s.weeks if w.status in ("met", "below")]
            line += (f" Target: {target:g} a week ({origin}); it was reached in "
                     f"{sum(w.status == 'met' for w in judged)} of {len(judged)} week(s) of the "
                     "month")
            notes = [f"{k} {what}" for k, what in (
                (sum(w.status == "not_over" for w in s.weeks), "not logged to its end (the logs stop before its Sunday)"),
                (sum(w.status == "before_start" for w in s.weeks), "before the start"),
                (sum(w.status == "no_target" for w in s.weeks), "outside a protocol period"))
                if k]
            line += (f" ({', '.join(notes)})." if notes else ".")
        parts, text = [para(esc(line))], [line]
        parts.append(figure(plots.calendar_chart(strip), "calendar",
                             "Filled cells: days with a logged training session. Red triangles: "
                             "self-reported flare days. Right: training days in each week (the "
                             "whole week, next month's days included); a grey count is a week "
                             "whose Thursday falls in the month before or after, judged on that "
                             "month's page."))
        return section("sessions", parts, text)

    def endurance(self) -> Section:
        """This month's best per test against last month's, judged against the smallest real
        change, and every test over time."""
        if self.tests.height == 0:
            msg = "No endurance tests are logged for this person yet."
            return section("endurance", [para(esc(msg))], [msg])
        order = {t: i for i, t in enumerate(("sorensen_hold", *TEST_IDS))}
        series = F.test_series(self.tests)  # the table's bench angles and the charts
        best = F.monthly_best(self.tests, self.month, src_group=self.src_group).sort(
            pl.col("test").replace_strict(order, default=len(order)), "test")
        parts: list[str] = []
        text: list[str] = []
        if best.height == 0:
            last = self.tests["date"].max()
            msg = f"No test was logged in {self.name}; the last one was on {last:%d %b %Y}."
            parts.append(para(esc(msg)))
            text.append(msg)
        else:
            angles = series.group_by("test").agg(
                pl.col("bench_angle_deg").drop_nulls().first())
            angle = dict(angles.iter_rows())
            rows = []
            for r in best.iter_rows(named=True):
                u = r["unit"] or ""
                change = signed(r["change"], 0, u)
                if r["ci_low"] is not None:
                    change += f" ({signed(r['ci_low'], 0)} to {signed(r['ci_high'], 0)})"
                rows.append([
                    esc(plots.test_label(r["test"], angle.get(r["test"]))),
                    esc(num(r["best"], 0, u)), esc(str(r["attempts"])),
                    esc(num(r["previous_best"], 0, u)), esc(change),
                    esc(num(r["src"], 1, u)), esc(VERDICT_TEXT[r["verdict"]]),
                ])
                text.append(f"{r['test']}: best {num(r['best'], 0, u)}, change "
                            f"{signed(r['change'], 0, u)} ({r['verdict']})")
            parts.append(table(["test", "best this month", "attempts", "best last month",
                                 "change (95% interval)", "smallest real change", "reading"],
                                rows))
            src = norms.SORENSEN_SRC_S[self.src_group]
            note = ("No test here has a published smallest real change: changes are shown but "
                    "not judged.")
            if "sorensen_hold" in best["test"].to_list():
                note = (f"The smallest real change of the Sorensen hold is {src:g} s (Latimer "
                        f"1999, {SRC_GROUPS.get(self.src_group, self.src_group)}): a change "
                        f"inside ±{src:g} s cannot be told apart from measurement noise. The "
                        "other tests have no published smallest real change: their changes are "
                        "shown but not judged.")
            parts.append(para(esc(note), "note"))
            text.append(note)
        angled = series.filter(pl.col("bench_angle_deg").fill_null(0) > 0)["test"].unique()
        for unit in ("s", "reps"):
            if series.filter(pl.col("unit") == unit).height:
                parts.append(figure(plots.test_series_chart(series, month=self.month, unit=unit),
                                     f"tests-{unit}",
                                     "Best result per test day; the report month is shaded."))
        if angled.len():
            frac = norms.gravity_torque_fraction(45.0)
            names = ", ".join(plots.test_label(t) for t in sorted(angled.to_list()))
            msg = (f"{names}: done on an inclined bench; a 45° hold carries about {frac:.0%} of "
                   "the horizontal load, so it is not comparable with Sorensen norms.")
            parts.append(para(esc(msg), "note"))
            text.append(msg)
        return section("endurance", parts, text)

    def endurance_model(self) -> Section:
        """A saturating curve through each hold series up to the month's end (the Sorensen hold,
        the 45° back-extension hold) with its 95% band, and when the 2-minute goal (for men's
        horizontal holds also the 176 s / 198 s thresholds) is reached: see
        :func:`rehab.models.endurance.fit_endurance`."""
        from rehab.models.endurance import STILL_RISING, fit_endurance

        me = self.settings.participant(self.participant)
        personal = (me.hold_target_s if me.hold_target_s != norms.PROTOCOL_HOLD_GOAL_S else None)
        parts: list[str] = []
        text: list[str] = []
        rows: list[list[str]] = []
        fitted = 0
        for test, angle in MODEL_SERIES:
            label = plots.test_label(test, angle or None)
            if self.tests.filter(pl.col("test") == test).height == 0:
                continue
            res = fit_endurance(self.tests, test=test, bench_angle_deg=angle, sex=me.sex,
                                target=personal, n_boot=N_BOOT, seed=0)
            if res.status == "ok" and res.n_tests < MIN_CURVE_TESTS:
                msg = (f"{label}: {res.n_tests} test days so far; the report draws a curve from "
                       f"{MIN_CURVE_TESTS} on (with fewer its intervals are too wide to read).")
                parts.append(para(esc(msg)))
                text.append(msg)
                continue
            if res.status != "ok":
                msg = f"{label}: no curve is drawn yet — {res.message.rstrip('.')}."
                parts.append(para(esc(msg)))
                text.append(msg)
                continue
            fitted += 1
            chart, clip_note = _curve_figure(res, label)
            if not res.plateau_identified:
                # an open or far-off plateau is no number to read: no plateau, no date
                line = (f"{label}: {res.n_tests} test days, {STILL_RISING}. The curve is drawn "
                        "over the tested days only.")
                parts.append(para(esc(line)))
                text.append(line)
            else:
                t = {r["term"]: r for r in res.tidy.iter_rows(named=True)}
                pl_, hl = t["plateau"], t["half_life_weeks"]
                line = (f"{label}: {res.n_tests} test days. The curve levels off at about "
                        f"{pl_['estimate']:.0f} s (95% interval {_bound(pl_['ci_low'])} to "
                        f"{_bound(pl_['ci_high'])}) and closes half the remaining gap every "
                        f"{hl['estimate']:.1f} weeks.")
                parts.append(para(esc(line)))
                text.append(line)
                for f in res.forecasts().iter_rows(named=True):
                    rows.append([esc(label), esc(f["label"]), esc(_forecast_text(f))])
            parts.append(figure(chart, f"curve-{test}", "Dots: the best test of each test day. "
                                "Line and band: the fitted curve and its 95% interval, over the "
                                "tested days only. Dashed: targets." + clip_note))
            # the bench angle is explained in the tests section and the thresholds below
            notes = [n for n in res.notes if "torque" not in n and "thresholds" not in n]
            if notes:
                parts.append(para(esc(_sentence("; ".join(notes))), "note"))
        if not parts:
            msg = ("No Sorensen or back-extension hold tests are logged yet (holds done in "
                   "training are not tests): no curve to fit. Log a test in tests.csv, or name "
                   "an app's test exercise under [tests] in rehab.toml.")
            return section("endurance-model", [para(esc(msg))], [msg])
        if rows:
            parts.append(table(["test", "target", "when (95% interval)"], rows))
        if fitted:
            note = ("Forecasts extend the curve at the current rate (how the curve is fitted: "
                    "see How to read this page). The "
                    f"Sorensen thresholds ({norms.SORENSEN_RISK_BELOW_S:g} s, "
                    f"{norms.SORENSEN_PROTECTIVE_ABOVE_S:g} s) predict back pain in men only and "
                    "apply to horizontal holds")
            note += (f"; they are shown when rehab.toml sets sex = \"male\" under "
                     f"[participants.{self.participant}]." if me.sex == "unknown" else ".")
            parts.append(para(esc(note), "note"))
        return section("endurance-model", parts, text)

    def pain(self) -> Section:
        """Pain by day with weekly means (95% CI) and the month's mean against last month's,
        judged against the minimal important change."""
        daily = self.daily_pain
        month_days = self._this(daily)
        if month_days.height < MIN_PAIN_DAYS:
            msg = (f"Only {month_days.height} diary day(s) in {self.name}: too few to describe "
                   "pain this month.")
            return section("pain", [para(esc(msg))], [msg])
        mp = F.monthly_pain(daily, self.month)
        now = mp.filter(pl.col("month") == self.month).row(0, named=True)
        line = (f"Mean daily pain {num(now['mean'], 1)} out of 10 (95% CI {num(now['ci_low'], 1)} "
                f"to {num(now['ci_high'], 1)}, {now['n_days']} diary days).")
        if now["change"] is not None:
            prev = mp.filter(pl.col("month") != self.month).row(0, named=True)
            judged = {
                "better": "as large as the minimal important change (2 points or a 30% fall): "
                          "better",
                "worse": "as large as the minimal important change (2 points): worse",
                "below MIC": "smaller than the minimal important change (2 points, or a 30% "
                             "fall)",
            }[now["verdict"]]
            line += (f" Last month {num(prev['mean'], 1)}: a change of "
                     f"{signed(now['change'], 1)} points, {judged} (Ostelo 2008).")
        weekly = F.weekly_pain(daily)
        parts = [para(esc(line)),
                 figure(plots.pain_chart(daily, weekly, month=self.month), "pain",
                         "Dots: mean of the day's diary entries. Blue lines and bands: weekly "
                         "mean and its 95% interval (days are correlated, so the bands are "
                         "optimistic). Red triangles: self-reported flare days.")]
        wk = weekly.filter(
            (pl.col("week_start") + pl.duration(days=6) >= self.first_day)
            & (pl.col("week_start") <= self.last_day)
        )
        rows = [[esc(f"{r['week_start']:%d %b}"), esc(num(r["pain_mean"], 1)),
                 esc("–" if r["ci_low"] is None
                     else f"{num(r['ci_low'], 1)} to {num(r['ci_high'], 1)}"),
                 esc(str(r["n_days"])), esc(str(r["flare_days"]))]
                for r in wk.iter_rows(named=True)]
        parts.append(table(["week of", "mean pain", "95% CI", "diary days", "flare days"], rows))
        return section("pain", parts, [line])

    def flares(self) -> Section:
        """Self-reported flare days this month, grouped into episodes of consecutive days."""
        fl = self._this(F.flare_days(self.daily_pain)).sort("date")
        if fl.height == 0:
            msg = f"No flare was reported in {self.name}."
            return section("flares", [para(esc(msg))], [msg])
        episodes: list[list[dt.date]] = []
        for d in fl["date"].to_list():
            if episodes and (d - episodes[-1][-1]).days == 1:
                episodes[-1].append(d)
            else:
                episodes.append([d])
        desc = [nice_date(e[0]) if len(e) == 1 else
                f"{nice_date(e[0])}–{nice_date(e[-1])} ({len(e)} days)" for e in episodes]
        line = (f"{fl.height} flare day(s) in {len(episodes)} episode(s): {'; '.join(desc)}. "
                "Flares are counted as reported, not inferred from the pain score: many flare "
                "days are not high-pain days (Costa 2019).")
        return section("flares", [para(esc(line))], [line])

    def session_pain(self) -> Section:
        """Peak pain during each training day's sets in the pain-monitoring zones."""
        zones = self._this(F.pain_zones(self.sessions, safe_max=self.safe_max,
                                        acceptable_max=self.acceptable_max))
        if zones.height == 0:
            msg = f"No pain ratings during sets were logged in {self.name}."
            return section("session-pain", [para(esc(msg))], [msg])
        counts = {r["zone"]: r["days"] for r in F.zone_counts(zones).iter_rows(named=True)}
        line = (f"Of {zones.height} training day(s) with pain rated during the sets, "
                f"{counts['safe']} stayed within the safe zone (0–{self.safe_max:g}), "
                f"{counts['acceptable']} reached the acceptable zone (up to "
                f"{self.acceptable_max:g}) and {counts['too much']} went above "
                f"{self.acceptable_max:g}, which the pain-monitoring model (Thomeé 1997) calls "
                "too much.")
        parts = [para(esc(line)),
                 figure(plots.pain_zones_chart(zones, month=self.month, safe_max=self.safe_max,
                                                acceptable_max=self.acceptable_max),
                         "session-pain", "One dot per training day: the highest pain rated during "
                         "its sets. Bands: pain-monitoring zones (settings in rehab.toml).")]
        return section("session-pain", parts, [line])

    def pain_model(self) -> Section:
        """The trend of daily pain and of the sensitivity index (AR(1) errors), and whether pain
        changed importantly since the first 14 days of the diary: see :mod:`rehab.models.pain`."""
        from rehab.models import pain as PM

        trend = PM.pain_trend(self.diary, participant=self.participant)
        responses = PM.session_responses(self.sessions, self.diary, config=self.settings)
        sens = (PM.sensitivity_trend(responses, participant=self.participant)
                if responses.height else None)
        change = PM.important_change(self.diary, baseline_days=BASELINE_DAYS, window=self.month)
        ch = (change.table.filter((pl.col("participant") == self.participant)
                                  & (pl.col("measure") == "pain_nrs")).to_dicts() or [None])[0]
        judged = ch is not None and ch["verdict"] != "not assessed" and not (
            ch["note"] and "overlaps" in ch["note"])
        if not trend.ok and not (sens and sens.ok) and not judged:
            msg = (f"No pain model can be fitted yet ({trend.message}); they need at least 14 "
                   f"diary days that vary, and a month after the first {BASELINE_DAYS}.")
            return section("pain-model", [para(esc(msg))], [msg])
        rows = []
        for name, res, unit in (("daily pain", trend, "points a week"),
                                ("sensitivity index (pain points per 100 AU of load)", sens,
                                 "a week")):
            s = res.slope() if res is not None else None
            if s is None:
                why = res.message if res is not None else "no training session logged"
                rows.append([esc(f"{name}: trend"), "–", "–", esc(why)])
                continue
            reading = res.direction()
            if res is sens and reading == "falling":
                reading = "falling: desensitising"
            rows.append([esc(f"{name}: trend"), esc(signed(s["estimate"], 3, unit)),
                         esc(f"{signed(s['ci_low'], 3)} to {signed(s['ci_high'], 3)}"),
                         esc(reading)])
        if judged:
            ci = ("–" if ch["ci_low"] is None
                  else f"{signed(ch['ci_low'], 1)} to {signed(ch['ci_high'], 1)}")
            pct = "" if ch["change_pct"] is None else f" ({signed(ch['change_pct'], 0)}%)"
            rows.append([esc(f"pain: {self.name} against the first {BASELINE_DAYS} days of the diary"),
                         esc(f"{num(ch['baseline'], 1)} → {num(ch['current'], 1)}: "
                             f"{signed(ch['change'], 1)} points{pct}"),
                         esc(ci), esc(ch["verdict"])])
        else:
            why = ch["note"] if ch is not None and ch["note"] else "no diary days to compare"
            rows.append([esc(f"pain: {self.name} against the first {BASELINE_DAYS} days of the diary"),
                         "–", "–", esc(f"not judged: {why}")])
        rho = f" (day-to-day correlation {trend.rho:.2f})" if trend.ok and trend.rho else ""
        line = (f"Trends are straight lines through every diary day (or rated session) up to the "
                f"end of the month{rho}; how they are fitted: see How to read this page. A change "
                f"from baseline is important at {norms.MIC_NRS_POINTS:g} points or "
                f"{norms.MIC_RELATIVE:.0%} (Ostelo 2008); its interval treats days as "
                "independent, so it is optimistic. The sensitivity index is the pain response "
                "during a session per 100 units of training load.")
        parts = [table(["measure", "estimate", "95% interval", "reading"], rows),
                 para(esc(line), "note")]
        text = [f"daily pain trend: {trend.direction()}",
                f"sensitivity trend: {sens.direction() if sens else 'not estimated'}",
                f"important change: {ch['verdict'] if judged else 'not judged'}"]
        return section("pain-model", parts, text)

    def adherence(self) -> Section:
        """Sessions a week against the protocol's target, pillars covered, progression steps and
        the rules' next steps: see :func:`rehab.adherence.adherence_section` (weeks counted
        whole, as in :attr:`summary`). Without a protocol: what is missing, how to set it, and
        the sessions done each week."""
        from rehab.adherence import exercise_name
        from rehab.protocol import ProtocolError
        from rehab.summary import short_name

        try:
            sec = self.month_adherence
            s = self.summary
        except ProtocolError as e:
            msg = f"Adherence cannot be scored: a protocol file is not valid. {e}"
            return section("adherence", [para(esc(msg))], [msg])
        protos = self.protocol_set
        parts = [para(esc(sec.text))]
        words = {"met": "target met", "below": "below target", "not_over": "not logged to its end",
                 "before_start": "before the start", "no_target": "no protocol"}
        missing = {}
        for r in sec.table.iter_rows(named=True):
            missing.setdefault(r["week_start"], []).append(r["pillars_missing"] or "none")
        rows = [[esc(f"{w.week} ({w.week_start.day} {w.week_start:%b})"),
                 esc(", ".join(short_name(protos[p].name or p) for p in w.protocols) or "–"),
                 esc(str(w.sessions)), esc(num(w.target, 1)), esc(words[w.status]),
                 esc("; ".join(missing.get(w.week_start, [])) or "–")]
                for w in s.weeks]
        if rows:
            parts.append(table(["ISO week", "protocol", "sessions (whole week)", "target",
                                "reading", "pillars missed"], rows))
        if sec.table.height:
            parts.append(figure(sec.chart(), "adherence",
                                 "Bars: sessions done; ticks: the protocol's target."))
        moves = sec.next_steps.filter(pl.col("action") != "stay")
        if moves.height:
            rows = [[esc(exercise_name(protos, r)), esc(r["suggestion"])]
                    for r in moves.iter_rows(named=True)]
            parts.append(table(["exercise", "next step by the protocol's rules"], rows))
        if sec.next_steps.height:
            stay = sec.next_steps.height - moves.height
            msg = (f"{stay} other exercise(s): stay at the current dose. " if moves.height and stay
                   else "Every exercise: stay at the current dose. " if stay else "")
            parts.append(para(esc(msg + "These suggestions follow the protocol file's rules; they "
                                "are not medical advice."), "note"))
        return section("adherence", parts, [sec.text])

    def phase_change(self) -> Section:
        """The A/B first look when a phase starts this month, with its caveats; an empty section
        (no output) otherwise: see :func:`rehab.compare.month_phase_change_summary`."""
        from rehab.compare import month_phase_change_summary
        from rehab.report.comparison import month_change_html

        summary = month_phase_change_summary(self, self.participant, self.month)
        if summary is None:
            return Section("", "")
        from rehab.protocol import ProtocolError

        try:
            protocols = self.protocol_set
        except ProtocolError:  # said in the adherence section; here the ids are shown
            protocols = None
        return Section(month_change_html(summary, protocols), summary.summary())

    def volume(self) -> tuple[pl.DataFrame, list[dt.date]]:
        """The weekly volume chart's table (:func:`weekly_volume` of the work sets, each week
        touching the month whole: the next month's days of its last week too, as the calendar
        counts them) and every such week's Monday (a week without a set is shown empty)."""
        from rehab.adherence import work_sets

        vol = weekly_volume(work_sets(self._data_all().sessions), self.first_day, self.last_day)
        monday = self.first_day - dt.timedelta(days=self.first_day.weekday())
        return vol, [monday + dt.timedelta(days=7 * i)
                     for i in range((self.last_day - monday).days // 7 + 1)]

    def what_was_done(self) -> Section:
        """Each training day of the month: every exercise as sets × reps / hold / load with the
        pain rated during its sets; the weekly volume by exercise family; the training load with
        fitness and fatigue; sleep and stiffness when logged."""
        from rehab.models.load import fitness_fatigue
        from rehab.report.charts import load_chart, volume_chart

        month = self._this(self.sessions)
        parts: list[str] = []
        text: list[str] = []
        if month.height == 0:
            msg = f"No training session was logged in {self.name}."
            parts.append(para(esc(msg)))
            text.append(msg)
        else:
            from rehab.protocol import ProtocolError

            try:
                names = exercise_names(self.protocol_set)
            except ProtocolError:
                names = {}
            unit = "lb" if self.settings.weight_unit == "lb" else "kg"  # as the person logs
            all_loads = F.session_loads(self.sessions)  # also the load chart's
            loads = {r["date"]: r for r in self._this(all_loads).iter_rows(named=True)}
            # each day's sets by exercise, in set order: grouped in Python, not one polars
            # call per exercise and day
            # two names mapped to one exercise (an app's "Hyperextension" and "Back Extension
            # (Machine)") are two rows: their sets and loads are not one dose
            by_day: dict[dt.date, dict[tuple, list[dict]]] = {}
            for r in month.sort("date", "set").iter_rows(named=True):
                key = (r["exercise"], r.get("variant"))
                by_day.setdefault(r["date"], {}).setdefault(key, []).append(r)
            rows = []
            for day, exercises in by_day.items():
                ld = loads.get(day)
                effort = "not logged"
                if ld and ld["session_rpe"] is not None and ld["duration_min"] is not None:
                    effort = (f"effort {_g(ld['session_rpe'])} × {_g(ld['duration_min'])} min "
                              f"= {ld['load']:.0f} AU")
                first = True
                # one exercise's names side by side, in the order the exercises come
                order = {ex: i for i, (ex, _) in reversed(list(enumerate(exercises)))}
                for (ex, variant), g in sorted(exercises.items(), key=lambda kv: order[kv[0][0]]):
                    pains = [r["pain"] for r in g if r["pain"] is not None]
                    pain = (f"up to {max(pains):g} / 10" if pains else "not rated")
                    # a day's later rows repeat its date, shown only where rows become cards
                    when = esc(f"{day:%a %d %b}")
                    rows.append([when if first else f'<span class="again">{when}</span>',
                                 esc(_exercise_label(ex, names, variant)),
                                 esc(_sets_text(g, unit)), esc(pain),
                                 esc(effort) if first else ""])
                    first = False
            days = month["date"].n_unique()
            line = (f"{days} training day(s) in {self.name}; each exercise's sets, the highest "
                    "pain rated during them, and the session's effort.")
            parts.append(para(esc(line)))
            text.append(line)
            parts.append(table(["day", "exercise", "done", "pain during the sets",
                                "session"], rows, cls="tidy long"))
            vol, weeks = self.volume()
            if vol.height and (vol["reps"].sum() > 0 or vol["hold_s"].sum() > 0):
                parts.append(figure(volume_chart(vol, weeks), "volume", "Repetitions and hold "
                                    "seconds of the work sets in each week touching the month "
                                    "(Monday to Sunday, whole), by exercise family."))
            daily = F.daily_load(all_loads)
            if daily.height:
                ff = fitness_fatigue(daily)
                guessed = [r for r in loads.values() if r["load_source"] != "srpe"]
                missing = [f"{n} without {what}" for what, n in (
                    ("a session effort rating (session RPE)",
                     sum(r["session_rpe"] is None for r in guessed)),
                    ("minutes", sum(r["duration_min"] is None for r in guessed))) if n]
                note = (f" {len(guessed)} of {len(loads)} session(s) lack what the load needs "
                        f"({', '.join(missing)}): their load is estimated from the sets (a "
                        "repetition 3 s, 60 s rest a set, effort 5 unless rated)."
                        if guessed else "")
                parts.append(figure(load_chart(all_loads, ff,
                                               first=self.first_day, last=self.logged_until),
                                    "load", "Bars: each session's load (effort × minutes, in "
                                    "AU). Lines: fitness (42-day) and fatigue (7-day) averages "
                                    "of the daily load." + note))
        diary = self._this(self.diary)
        bits = []
        if "sleep_h" in diary.columns and diary["sleep_h"].drop_nulls().len():
            s = diary.group_by("date").agg(pl.col("sleep_h").drop_nulls().first()) \
                .drop_nulls("sleep_h")
            bits.append(f"sleep {s['sleep_h'].mean():.1f} h a night on average ({s.height} "
                        "nights logged)")
        if "stiffness" in diary.columns and diary["stiffness"].drop_nulls().len():
            st = diary.group_by("date").agg(pl.col("stiffness").mean()).drop_nulls("stiffness")
            bits.append(f"stiffness {st['stiffness'].mean():.1f} / 10 on average ({st.height} "
                        "days logged)")
        if bits:
            msg = _sentence(f"In {self.name}: " + "; ".join(bits))
            parts.append(para(esc(msg)))
            text.append(msg)
        return section("what-was-done", parts, text)

    def questionnaires(self) -> Section:
        """Questionnaire scores up to the month's end, each against the first with its
        important-change reading and band (RMDQ 5, ODI 10, PSFS 2 points)."""
        from rehab.report.charts import questionnaire_chart

        q = self.questionnaire_scores
        if q is None or q.height == 0:
            msg = "No questionnaire scores are logged."
            return section("questionnaires", [para(esc(msg))], [msg])
        rows, text = questionnaire_rows(q)
        parts = [table(["questionnaire", "latest", "first", "change", "reading"], rows),
                 figure(questionnaire_chart(q, QUESTIONNAIRE_MIC), "questionnaires",
                        "Each questionnaire's scores; grey band: within the important change of "
                        "the first score.")]
        return section("questionnaires", parts, text)

    def how_to_read(self) -> Section:
        """The method words of the page (interval types, GLS, AU ...) in a few plain lines."""
        items = "".join(f"<dt>{esc(t)}</dt><dd>{esc(d)}</dd>" for t, d in HOW_TO_READ)
        return section("how-to-read", [f'<dl class="how-to-read">{items}</dl>'],
                       [f"{t}: {d}" for t, d in HOW_TO_READ])

    def notes(self) -> Section:
        """Free-text notes of the month, only when ``[report] include_notes = true``."""
        if not self.include_notes:
            msg = ("Free-text notes are left out of reports. To include them, set "
                   "include_notes = true under [report] in rehab.toml.")
            return section("notes", [para(esc(msg), "note")], [msg])
        frames = []
        for kind, df in (("session", self.sessions), ("diary", self.diary), ("test", self.tests)):
            if "notes" in df.columns:
                frames.append(self._this(df).filter(pl.col("notes").is_not_null()).select(
                    "date", pl.lit(kind).alias("log"), "notes").unique(maintain_order=True))
        notes = pl.concat(frames).sort("date") if frames else pl.DataFrame()
        if notes.height == 0:
            msg = f"No notes were written in {self.name}."
            return section("notes", [para(esc(msg))], [msg])
        rows = [[esc(f"{r['date']:%d %b}"), esc(r["log"]), esc(r["notes"])]
                for r in notes.iter_rows(named=True)]
        return section("notes", [table(["date", "log", "note"], rows, cls="tidy notes")],
                        [f"{notes.height} note(s)"])

    def data_quality(self) -> Section:
        """This person's records up to the month's end, and their share of the input files'
        problems: their records quarantined, records whose person cannot be told in files that
        hold theirs, and duplicates in files of theirs alone (:meth:`rehab.io.Dataset.
        data_quality`). Nobody else's problems, and not the files' whole record counts: a page
        changes only when what it says of this person does (the report cache)."""
        q = self.quality
        mine = sum(t.height for t in (self.sessions, self.diary, self.tests))
        files = int((q["records"] > 0).sum())
        quarantined, unknown, dups = (int(q[c].sum()) for c in ("quarantined", "unattributed",
                                                                "duplicates"))
        line = (f"Data quality: {mine} record(s) of {self.participant} up to "
                f"{self.last_day:%d %b %Y}, read from {files} file(s) in {self.source}; "
                f"{quarantined} of their records quarantined (left out of this report)")
        if unknown:
            line += (f", and {unknown} record(s) in those files whose person cannot be told "
                     "(their fields could not be split)")
        line += f"; {dups} exact duplicate(s) counted once." if dups else "."
        if quarantined or unknown:
            line += " Run `rehab validate` on the folder to see each rejected record and why."
        parts = [para(esc(line), "quality")]
        bad = q.filter((pl.col("quarantined") > 0) | (pl.col("unattributed") > 0))
        if bad.height:
            rows = [[esc(_shown_path(r["path"], self.root)), esc(str(r["quarantined"]))]
                    + ([esc(str(r["unattributed"]))] if unknown else [])
                    for r in bad.iter_rows(named=True)]
            parts.append(table(["file", "quarantined"] + (["whose unknown"] if unknown else []),
                               rows))
        return section("data-quality", parts, [line])

    def footer(self) -> Section:
        from rehab import __version__

        line = (f"Made with rehab {__version__} on {dt.date.today():%d %b %Y} from {self.source}. "
                + DISCLAIMER)
        if self.is_demo:
            line = "Demo data. " + line
        return section("footer", [para(esc(line), "footer")], [line])


class SummaryOutput:
    """The month's JSON summary as a notebook output: ``application/json`` with metadata
    ``{"rehab": "summary"}`` (what :func:`rehab.report.render.summary_from_notebook` looks for)."""

    def __init__(self, data: dict):
        self.data = data

    def _repr_json_(self):
        return self.data, {"rehab": "summary"}

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display({"application/json": self.data}, metadata={"rehab": "summary"}, raw=True)

    def __repr__(self) -> str:
        return f"MonthSummary JSON ({len(self.data)} keys)"
