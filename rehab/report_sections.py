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
import html
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from rehab import features as F
from rehab import norms, plots
from rehab.paths import ProjectPaths, check_month, check_participant
from rehab.report import DEMO_BANNER, DISCLAIMER, ReportError
from rehab.schema import TEST_IDS

SRC_GROUPS = {"current_lbp": "people with current low back pain",
              "previous_lbp": "people with previous low back pain",
              "no_pain": "people without back pain", "all": "all groups"}
MIN_PAIN_DAYS = 3  # fewer diary days than this in a month: no chart, a sentence
MIN_RATE_DAYS = 7  # fewer logged days than this: no weekly session rate, a sentence
VERDICT_TEXT = {
    "improved": "real improvement",
    "declined": "real decline",
    "noise": "noise",
    "no previous month": "no test last month",
    "not judged": "not judged",
}


def esc(value: object) -> str:
    """Text for HTML: escaped, quotes included."""
    return html.escape("" if value is None else str(value), quote=True)


def num(x: float | None, nd: int = 0, unit: str = "") -> str:
    """A number for the text, or an en dash when missing."""
    if x is None:
        return "–"
    s = f"{x:.{nd}f}"
    return f"{s} {unit}".strip() if unit else s


def signed(x: float | None, nd: int = 0, unit: str = "") -> str:
    if x is None:
        return "–"
    s = f"{x:+.{nd}f}".replace("-", "−")
    return f"{s} {unit}".strip() if unit else s


def nice_date(d: dt.date) -> str:
    return f"{d.day} {d:%b}"


def month_name(month: str) -> str:
    first, _ = F.month_range(month)
    return f"{first:%B %Y}"


@dataclass(frozen=True)
class Section:
    """One displayed block of the report: HTML for the report, plain text for everything else."""

    html: str
    text: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text


def _p(text: str, cls: str | None = None) -> str:
    return f'<p class="{cls}">{text}</p>' if cls else f"<p>{text}</p>"


def _table(headers: list[str], rows: list[list[str]], *, cls: str = "tidy") -> str:
    """An HTML table; cells are already-escaped HTML strings."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _figure(chart, name: str, caption: str) -> str:
    svg = plots.to_svg(chart, prefix=name)
    return (f'<figure class="chart" data-chart="{esc(name)}">{svg}'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def _section(name: str, parts: list[str], text: list[str]) -> Section:
    return Section(f'<div class="section" data-section="{esc(name)}">{"".join(parts)}</div>',
                   "\n".join(text))


def month_protocols(phases: pl.DataFrame, sessions: pl.DataFrame, month: str) -> list[str]:
    """Protocols followed during ``month`` from the phases table (else the sessions' protocol
    column), ordered by the days they cover, the main one last."""
    first, last = F.month_range(month)
    ph = phases.filter((pl.col("start") <= last)
                       & (pl.col("end").is_null() | (pl.col("end") >= first)))
    if ph.height:
        days = ph.with_columns(
            ((pl.min_horizontal(pl.col("end").fill_null(last), pl.lit(last))
              - pl.max_horizontal(pl.col("start"), pl.lit(first))).dt.total_days() + 1).alias("n")
        ).group_by("protocol").agg(pl.col("n").sum())
    else:
        days = (F.in_month(sessions, month).filter(pl.col("protocol").is_not_null())
                .group_by("protocol").agg(pl.col("date").n_unique().alias("n")))
    return days.sort("n", "protocol")["protocol"].to_list()


def _protocol_name(pid: str, root: Path) -> str:
    """The protocol's display name, or its id when it is not a known protocol."""
    from rehab.protocol import ProtocolError, get_protocol

    try:
        return get_protocol(pid, root=root).name or pid
    except (ProtocolError, KeyError):
        return pid


def _target(cfg, phases, sessions, month: str, root: Path) -> tuple[float, str]:
    """Sessions a week to aim for: rehab.toml's [protocol] sessions_per_week if set, else the
    month's main protocol's, else 2."""
    if "sessions_per_week" in cfg.raw.get("protocol", {}):
        return cfg.sessions_per_week_target, "rehab.toml"
    protos = month_protocols(phases, sessions, month)
    if protos:
        from rehab.protocol import ProtocolError, get_protocol

        try:
            return float(get_protocol(protos[-1], root=root).sessions_per_week), \
                f"set by the protocol {protos[-1]!r}"
        except (ProtocolError, KeyError):
            pass
    return cfg.sessions_per_week_target, "default"


@dataclass(frozen=True)
class MonthReport:
    """One participant's data up to the end of one month, and the settings that shape the report."""

    participant: str
    month: str
    sessions: pl.DataFrame  # every table: this participant, dated up to the month's last day
    diary: pl.DataFrame
    tests: pl.DataFrame
    phases: pl.DataFrame
    quarantine: pl.DataFrame
    file_summary: pl.DataFrame
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

    @classmethod
    def load(
        cls, participant: str, month: str, *, project_dir: str = "", data_dir: str = ""
    ) -> MonthReport:
        """Read the project's logs (``data_dir`` or the default input folder) and settings."""
        from rehab.config import load_config
        from rehab.io import load_project

        check_participant(participant)
        check_month(month)
        paths = (ProjectPaths(Path(project_dir).resolve()) if project_dir
                 else ProjectPaths.discover())
        cfg = load_config(paths.config_file)
        ds = load_project(paths.root, source=data_dir or None, aliases=cfg.aliases)
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
        ends = [getattr(mine, k)["date"].max() for k in ("sessions", "diary", "tests")
                if getattr(mine, k).height]
        if not F.data_months(*upto.values()):
            raise ReportError(f"participant {participant!r} has no records up to {month} "
                              f"in {ds.source_dir}")
        try:
            source = str(ds.source_dir.resolve().relative_to(paths.root))
        except ValueError:
            source = ds.source_dir.name
        target, target_from = _target(cfg, mine.phases, upto["sessions"], month, paths.root)
        names = tuple(_protocol_name(p, paths.root)
                      for p in month_protocols(mine.phases, upto["sessions"], month))
        return cls(
            participant=participant, month=month, phases=mine.phases,
            quarantine=ds.quarantine, file_summary=ds.summary(), is_demo=ds.is_demo,
            source=source, include_notes=cfg.include_notes,
            target=target, target_from=target_from, protocol_names=names,
            logged_until=max(min(max(ends), last), F.month_range(month)[0]) if ends else last,
            safe_max=cfg.pain_safe_max,
            acceptable_max=cfg.pain_acceptable_max,
            src_group=cfg.participant(participant).src_group, **upto,
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

    def protocols(self) -> list[str]:
        """Protocols followed during the month, the one with the most days last."""
        return month_protocols(self.phases, self.sessions, self.month)

    # --- sections --------------------------------------------------------------------------------

    def header(self) -> Section:
        """Title, demo-data banner, what the month holds, and the not-medical-advice line."""
        parts = [f'<h1 class="title">Monthly report: {esc(self.participant)}, '
                 f"{esc(self.name)}</h1>"]
        text = [f"Monthly report: {self.participant}, {self.name}"]
        if self.is_demo:
            parts.append(f'<div class="demo" role="note"><strong>DEMO DATA.</strong> '
                         f"{esc(DEMO_BANNER)}</div>")
            text.append("DEMO DATA. " + DEMO_BANNER)
        n_days = self._this(self.sessions)["date"].n_unique()
        n_diary = self._this(self.diary)["date"].n_unique()
        n_tests = self._this(self.tests)["date"].n_unique()
        line = (f"{n_days} training day(s), {n_diary} diary day(s) and {n_tests} test day(s) "
                f"logged from {nice_date(self.first_day)} to {nice_date(self.logged_until)}")
        line += (". " if self.logged_until == self.last_day else
                 " (the last day with any record: later days count as not logged yet). ")
        if self.protocol_names:
            what = "Protocol" if len(self.protocol_names) == 1 else "Protocols"
            line += f"{what}: " + ", ".join(self.protocol_names) + "."
        parts.append(_p(esc(line), "lead"))
        parts.append(_p(esc(DISCLAIMER), "disclaimer"))
        text += [line, DISCLAIMER]
        return _section("header", parts, text)

    def sessions_section(self) -> Section:
        """Training days against the protocol's target, as a calendar strip with weekly counts."""
        if self.sessions.height == 0:
            msg = "No training sessions are logged for this person yet."
            return _section("sessions", [_p(esc(msg))], [msg])
        n = self._this(self.sessions)["date"].n_unique()
        days = (self.logged_until - self.first_day).days + 1
        rate = F.session_rate(n, days, target=self.target).row(0, named=True)
        strip = F.calendar_strip(self.sessions, self.month, diary=self.diary, target=self.target,
                                 until=self.logged_until)
        weeks = strip.group_by("week_start").agg(pl.col("week_met").first(),
                                                 pl.col("week_complete").first())
        done = weeks.filter(pl.col("week_complete") | pl.col("week_met").fill_null(False))
        met = int(done["week_met"].sum())
        if days < MIN_RATE_DAYS:
            line = (f"{n} training day(s) in {days} logged day(s): too few days to judge the "
                    f"weekly rate against the target of {self.target:g} a week "
                    f"({self.target_from}).")
        else:
            line = (f"{n} training day(s) in {days} logged day(s): {num(rate['estimate'], 1)} a "
                    f"week (95% CI {num(rate['ci_low'], 1)} to {num(rate['ci_high'], 1)}) against "
                    f"a target of {self.target:g} a week ({self.target_from}). {met} of "
                    f"{done.height} calendar week(s) touching the month reached the target.")
        parts, text = [_p(esc(line))], [line]
        parts.append(_figure(plots.calendar_chart(strip), "calendar",
                             "Filled cells: days with a logged training session. Red triangles: "
                             "self-reported flare days. Right: training days in each week."))
        return _section("sessions", parts, text)

    def endurance(self) -> Section:
        """This month's best per test against last month's, judged against the smallest real
        change, and every test over time."""
        if self.tests.height == 0:
            msg = "No endurance tests are logged for this person yet."
            return _section("endurance", [_p(esc(msg))], [msg])
        order = {t: i for i, t in enumerate(("sorensen_hold", *TEST_IDS))}
        best = F.monthly_best(self.tests, self.month, src_group=self.src_group).sort(
            pl.col("test").replace_strict(order, default=len(order)), "test")
        parts: list[str] = []
        text: list[str] = []
        if best.height == 0:
            last = self.tests["date"].max()
            msg = f"No test was logged in {self.name}; the last one was on {last:%d %b %Y}."
            parts.append(_p(esc(msg)))
            text.append(msg)
        else:
            angles = F.test_series(self.tests).group_by("test").agg(
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
            parts.append(_table(["test", "best this month", "attempts", "best last month",
                                 "change (95% interval)", "smallest real change", "reading"],
                                rows))
            src = norms.SORENSEN_SRC_S[self.src_group]
            note = (f"The smallest real change of the Sorensen hold is {src:g} s (Latimer 1999, "
                    f"{SRC_GROUPS.get(self.src_group, self.src_group)}): a change inside "
                    f"±{src:g} s "
                    "cannot be told apart from measurement noise. The other tests have no "
                    "published smallest real change: their changes are shown but not judged.")
            parts.append(_p(esc(note), "note"))
            text.append(note)
        series = F.test_series(self.tests)
        angled = series.filter(pl.col("bench_angle_deg").fill_null(0) > 0)["test"].unique()
        for unit in ("s", "reps"):
            if series.filter(pl.col("unit") == unit).height:
                parts.append(_figure(plots.test_series_chart(series, month=self.month, unit=unit),
                                     f"tests-{unit}",
                                     "Best result per test day; the report month is shaded."))
        if angled.len():
            frac = norms.gravity_torque_fraction(45.0)
            names = ", ".join(plots.test_label(t) for t in sorted(angled.to_list()))
            msg = (f"{names}: done on an inclined bench; a 45° hold carries about {frac:.0%} of "
                   "the horizontal load, so it is not comparable with Sorensen norms.")
            parts.append(_p(esc(msg), "note"))
            text.append(msg)
        return _section("endurance", parts, text)

    def pain(self) -> Section:
        """Pain by day with weekly means (95% CI) and the month's mean against last month's,
        judged against the minimal important change."""
        daily = F.daily_pain(self.diary)
        month_days = self._this(daily)
        if month_days.height < MIN_PAIN_DAYS:
            msg = (f"Only {month_days.height} diary day(s) in {self.name}: too few to describe "
                   "pain this month.")
            return _section("pain", [_p(esc(msg))], [msg])
        mp = F.monthly_pain(daily, self.month)
        now = mp.filter(pl.col("month") == self.month).row(0, named=True)
        line = (f"Mean daily pain {num(now['mean'], 1)} out of 10 (95% CI {num(now['ci_low'], 1)} "
                f"to {num(now['ci_high'], 1)}, {now['n_days']} diary days).")
        if now["change"] is not None:
            prev = mp.filter(pl.col("month") != self.month).row(0, named=True)
            judged = {
                "better": "a change as large as the minimal important change (2 points): better",
                "worse": "a change as large as the minimal important change (2 points): worse",
                "below MIC": "smaller than the minimal important change of 2 points",
            }[now["verdict"]]
            line += (f" Last month {num(prev['mean'], 1)}: a change of "
                     f"{signed(now['change'], 1)} points, {judged} (Ostelo 2008).")
        weekly = F.weekly_pain(daily)
        parts = [_p(esc(line)),
                 _figure(plots.pain_chart(daily, weekly, month=self.month), "pain",
                         "Dots: mean of the day's diary entries. Blue lines and bands: weekly "
                         "mean and its 95% interval (days are correlated, so the bands are "
                         "optimistic). Red triangles: self-reported flare days.")]
        wk = weekly.filter(
            (pl.col("week_start") + pl.duration(days=6) >= self.first_day)
            & (pl.col("week_start") <= self.last_day)
        )
        rows = [[esc(f"{r['week_start']:%d %b}"), esc(num(r["mean"], 1)),
                 esc("–" if r["ci_low"] is None
                     else f"{num(r['ci_low'], 1)} to {num(r['ci_high'], 1)}"),
                 esc(str(r["n_days"])), esc(str(r["flare_days"]))]
                for r in wk.iter_rows(named=True)]
        parts.append(_table(["week of", "mean pain", "95% CI", "diary days", "flare days"], rows))
        return _section("pain", parts, [line])

    def flares(self) -> Section:
        """Self-reported flare days this month, grouped into episodes of consecutive days."""
        fl = self._this(F.flare_days(self.diary)).sort("date")
        if fl.height == 0:
            msg = f"No flare was reported in {self.name}."
            return _section("flares", [_p(esc(msg))], [msg])
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
        return _section("flares", [_p(esc(line))], [line])

    def session_pain(self) -> Section:
        """Peak pain during each training day's sets in the pain-monitoring zones."""
        zones = self._this(F.pain_zones(self.sessions, safe_max=self.safe_max,
                                        acceptable_max=self.acceptable_max))
        if zones.height == 0:
            msg = f"No pain ratings during sets were logged in {self.name}."
            return _section("session-pain", [_p(esc(msg))], [msg])
        counts = {r["zone"]: r["days"] for r in F.zone_counts(zones).iter_rows(named=True)}
        line = (f"Of {zones.height} training day(s) with pain rated during the sets, "
                f"{counts['safe']} stayed within the safe zone (0–{self.safe_max:g}), "
                f"{counts['acceptable']} reached the acceptable zone (up to "
                f"{self.acceptable_max:g}) and {counts['too much']} went above "
                f"{self.acceptable_max:g}, which the pain-monitoring model (Thomeé 1997) calls "
                "too much.")
        parts = [_p(esc(line)),
                 _figure(plots.pain_zones_chart(zones, month=self.month, safe_max=self.safe_max,
                                                acceptable_max=self.acceptable_max),
                         "session-pain", "One dot per training day: the highest pain rated during "
                         "its sets. Bands: pain-monitoring zones (settings in rehab.toml).")]
        return _section("session-pain", parts, [line])

    def notes(self) -> Section:
        """Free-text notes of the month, only when ``[report] include_notes = true``."""
        if not self.include_notes:
            msg = ("Free-text notes are left out of reports. To include them, set "
                   "include_notes = true under [report] in rehab.toml.")
            return _section("notes", [_p(esc(msg), "note")], [msg])
        frames = []
        for kind, df in (("session", self.sessions), ("diary", self.diary), ("test", self.tests)):
            if "notes" in df.columns:
                frames.append(self._this(df).filter(pl.col("notes").is_not_null()).select(
                    "date", pl.lit(kind).alias("log"), "notes").unique(maintain_order=True))
        notes = pl.concat(frames).sort("date") if frames else pl.DataFrame()
        if notes.height == 0:
            msg = f"No notes were written in {self.name}."
            return _section("notes", [_p(esc(msg))], [msg])
        rows = [[esc(f"{r['date']:%d %b}"), esc(r["log"]), esc(r["notes"])]
                for r in notes.iter_rows(named=True)]
        return _section("notes", [_table(["date", "log", "note"], rows, cls="tidy notes")],
                        [f"{notes.height} note(s)"])

    def data_quality(self) -> Section:
        """Records read, quarantined and duplicated across the input files."""
        s = self.file_summary
        read = int(s["records"].sum()) if s.height else 0
        quarantined = int(s["quarantined"].sum()) if s.height else 0
        dups = int(s["duplicates"].sum()) if s.height else 0
        line = (f"Data quality: {read} record(s) read from {s.height} file(s) in {self.source}; "
                f"{quarantined} quarantined (left out of this report), {dups} exact duplicate(s) "
                "counted once. The counts cover every participant in those files.")
        if quarantined:
            line += " Run `rehab validate` on the folder to see each rejected record and why."
        parts = [_p(esc(line), "quality")]
        if quarantined:
            rows = [[esc(Path(r["path"]).name), esc(str(r["records"])), esc(str(r["quarantined"]))]
                    for r in s.filter(pl.col("quarantined") > 0).iter_rows(named=True)]
            parts.append(_table(["file", "records", "quarantined"], rows))
        return _section("data-quality", parts, [line])

    def footer(self) -> Section:
        from rehab import __version__

        line = (f"Made with rehab {__version__} on {dt.date.today():%d %b %Y} from {self.source}. "
                + DISCLAIMER)
        if self.is_demo:
            line = "Demo data. " + line
        return _section("footer", [_p(esc(line), "footer")], [line])
