"""The whole course, one page per person: ``reports/<participant>/index.html``.

Rendered directly in Python from the computation modules (no kernel, no notebook: about a second
a person). Latest figures first: the headline figures (:class:`CourseFigures`, also the caseload
index's row), then since the first log the hold tests with the goal line and the Sorensen curve,
weekly pain with flares, training days a week against the target, phases shaded in each, the
questionnaires with their important-change bands, and the list of monthly pages.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from rehab import features as F
from rehab import norms
from rehab.adherence import (
    protocol_periods,
    target_override,
    weekly_adherence,
    with_target_override,
    work_sets,
)
from rehab.paths import ProjectPaths, atomic_write_text, check_participant, inside
from rehab.report import ReportError
from rehab.report.files import _paths, _read_sidecar, data_folder
from rehab.report.monthly import (
    QUESTIONNAIRE_MIC,
    _protocol_name,
    questionnaire_rows,
    questionnaire_scores,
)
from rehab.report.page import (
    CSS,
    DEMO_BANNER,
    DISCLAIMER,
    esc,
    figure,
    nice_date,
    num,
    para,
    signed,
    table,
)

WINDOW_DAYS = 28  # "the last four weeks": the 28 days ending on the person's last log
BASELINE_DAYS = norms.PAIN_BASELINE_DAYS
TOO_MUCH_SHARE = 0.5  # pain above the acceptable zone in at least half the rated sessions: a flag
CURVE_BOOT = 100  # the course page draws the curve's line only: a small bootstrap is enough
TEST_ORDER = ("sorensen_hold", "back_extension_hold", "back_extension_reps")


@dataclass(frozen=True)
class CourseFigures:
    """One person's headline figures over the whole course (the course page's top and the
    caseload index's row). Dates are calendar days; None where nothing was logged."""

    participant: str
    start: dt.date
    last_log: dt.date
    sessions_window: int  # training days in the WINDOW_DAYS ending on last_log
    test: str | None = None
    test_unit: str = "s"
    test_first: float | None = None
    test_first_date: dt.date | None = None
    test_latest: float | None = None
    test_latest_date: dt.date | None = None
    test_reading: str = "not judged"  # improved / declined / noise / not judged
    pain_baseline: float | None = None
    pain_now: float | None = None
    pain_change: float | None = None
    pain_reading: str = "not assessed"
    flare_days: int = 0
    flare_days_window: int = 0
    too_much_sessions: int = 0
    rated_sessions: int = 0
    flags: tuple[str, ...] = field(default_factory=tuple)

    # the training days the protocols in force ask for over the WINDOW_DAYS (window_target)
    sessions_target_window: float | None = None


def _main_test(tests: pl.DataFrame) -> str | None:
    if tests.height == 0:
        return None
    have = tests["test"].unique().to_list()
    for t in TEST_ORDER:
        if t in have:
            return t
    return tests.group_by("test").len().sort("len", "test", descending=[True, False])["test"][0]


def course_figures(mine, *, pain_change: dict | None, src_group: str,
                   acceptable_max: float, today: dt.date) -> CourseFigures:
    """The headline figures of one person's data (``mine``: the project's data for this
    participant, as :meth:`Dataset.for_participant` gives)."""
    dates = [getattr(mine, k)["date"] for k in ("sessions", "diary", "tests")
             if getattr(mine, k).height]
    if not dates:
        raise ReportError(f"participant {mine.participants!r} has no records")
    start = min(d.min() for d in dates)
    last = max(d.max() for d in dates)
    w0 = last - dt.timedelta(days=WINDOW_DAYS - 1)
    s = mine.sessions
    sessions_window = work_sets(s).filter(pl.col("date") >= w0)["date"].n_unique()
    kw: dict = {}
    test = _main_test(mine.tests)
    if test is not None:
        ser = F.test_series(mine.tests).filter(pl.col("test") == test).sort("date")
        a, b = ser.row(0, named=True), ser.row(-1, named=True)
        src = F.test_src(test, src_group=src_group)
        reading = ("not judged" if src is None or ser.height < 2
                   else F.change_verdict(a["value"], b["value"], src=src))
        kw.update(test=test, test_unit=a.get("unit") or "s", test_first=a["value"],
                  test_first_date=a["date"], test_latest=b["value"],
                  test_latest_date=b["date"], test_reading=reading)
    if pain_change is not None:
        kw.update(pain_baseline=pain_change["baseline"], pain_now=pain_change["current"],
                  pain_change=pain_change["change"], pain_reading=pain_change["verdict"])
    fl = F.flare_days(mine.diary) if mine.diary.height else pl.DataFrame({"date": []})
    zones = F.pain_zones(s, acceptable_max=acceptable_max) if s.height else None
    zw = zones.filter(pl.col("date") >= w0) if zones is not None else None
    too_much = int((zw["zone"] == "too much").sum()) if zw is not None else 0
    rated = zw.height if zw is not None else 0
    flags = []
    quiet = F.quiet_days(last, today)
    if quiet is not None:
        flags.append(f"no log for {quiet} days")
    if kw.get("pain_reading") == "important worsening":
        flags.append(f"pain up by {signed(kw['pain_change'], 1)} points (important change)")
    if rated and too_much >= TOO_MUCH_SHARE * rated:
        flags.append(f"too much pain in {too_much} of {rated} rated sessions")
    return CourseFigures(
        participant=mine.participants[0] if mine.participants else "", start=start,
        last_log=last, sessions_window=sessions_window,
        flare_days=fl.height, flare_days_window=fl.filter(pl.col("date") >= w0).height,
        too_much_sessions=too_much, rated_sessions=rated, flags=tuple(flags), **kw)


NOT_JUDGED_OVERLAP = "not judged yet: the last four weeks overlap the first two"


def pain_changes(diary: pl.DataFrame, ends: dict[str, dt.date] | None = None) -> dict[str, dict]:
    """Each person's pain of the last four weeks against the first two, with the Ostelo 2008
    reading (:func:`rehab.models.pain.important_change`), by participant. The four weeks end on
    ``ends`` (each person's last log of any kind, as the index's other figures; default: their
    last diary day). While they overlap the first two, the change is not judged (as on the
    monthly page)."""
    if diary.height == 0 or diary["pain"].drop_nulls().len() == 0:
        return {}
    from rehab.models.pain import important_change

    out = {}
    for (who,), mine in diary.group_by("participant"):
        if mine["pain"].drop_nulls().len() == 0:
            continue
        res = important_change(mine, baseline_days=BASELINE_DAYS,
                               window=f"last {WINDOW_DAYS} days",
                               as_of=(ends or {}).get(who))
        for r in res.table.filter(pl.col("measure") == "pain_nrs").iter_rows(named=True):
            if r["note"] and "overlaps" in r["note"]:
                r["verdict"] = NOT_JUDGED_OVERLAP
            out[r["participant"]] = r
    return out


def month_pages(paths: ProjectPaths, participant: str, months: list[str], is_demo: bool,
                source: str | None = None) -> list[str]:
    """The monthly pages of ``participant`` that belong to the current data, newest first: the
    file exists, the month has data now, and its sidecar says it was made from the same kind of
    source (demo or not) and, when it names one, the same data folder."""
    out = []
    for m in months:
        f = paths.reports / participant / f"{m}.html"
        if not f.is_file():
            continue
        meta = _read_sidecar(f)
        if bool(meta.get("demo", False)) != bool(is_demo):
            continue
        if source is not None and meta.get("source") not in (None, source):
            continue
        out.append(m)
    return sorted(out, reverse=True)


def with_protocol_names(phases: pl.DataFrame, root: Path) -> pl.DataFrame:
    """``phases`` with ``protocol_name``: the protocol's short name (its name up to the first
    parenthesis: "S.H.I.T."), never its id, for the charts' phase bands."""
    names = {p: _protocol_name(p, root).split(" (")[0] for p in phases["protocol"].unique()}
    return phases.with_columns(pl.col("protocol").replace_strict(names, default=pl.col(
        "protocol"), return_dtype=pl.String).alias("protocol_name"))


# --- the page -----------------------------------------------------------------------------------


def _head(title: str) -> list[str]:
    return ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1.0">',
            f"<title>{esc(title)}</title>", f'<style type="text/css">{CSS}</style></head>',
            "<body><main>"]


def _test_line(fig: CourseFigures) -> str:
    from rehab.plots import test_label

    if fig.test is None:
        return "No test is logged yet."
    u = fig.test_unit
    if fig.test_first_date == fig.test_latest_date:
        return (f"{test_label(fig.test)}: one test day so far, {num(fig.test_latest, 0, u)} on "
                f"{nice_date(fig.test_latest_date)}.")
    reading = {"improved": "a real improvement", "declined": "a real decline",
               "noise": "within measurement noise"}.get(fig.test_reading, "not judged: no "
                                                         "published smallest real change")
    return (f"{test_label(fig.test)}: {num(fig.test_latest, 0, u)} on "
            f"{nice_date(fig.test_latest_date)}, against {num(fig.test_first, 0, u)} at the "
            f"first test ({nice_date(fig.test_first_date)}): "
            f"{signed(fig.test_latest - fig.test_first, 0, u)}, {reading}.")


def _pain_line(fig: CourseFigures) -> str:
    if fig.pain_now is None or fig.pain_baseline is None:
        return "Pain: not enough diary days to compare the last four weeks with the first two."
    line = (f"Pain in the last four weeks {num(fig.pain_now, 1)} out of 10, against "
            f"{num(fig.pain_baseline, 1)} in the first two weeks of the diary: ")
    if fig.pain_reading == NOT_JUDGED_OVERLAP:
        return line + f"{NOT_JUDGED_OVERLAP}."
    return line + (f"{signed(fig.pain_change, 1)} points, {fig.pain_reading} (important: "
                   f"{norms.MIC_NRS_POINTS:g} points or {norms.MIC_RELATIVE:.0%}, Ostelo 2008).")


def window_target(mine, cfg, root: Path, last: dt.date) -> float | None:
    """The training days asked for over the WINDOW_DAYS ending on ``last``: each day under a
    protocol counts its weekly rate / 7 (rehab.toml's ``sessions_per_week`` when set), so four
    weeks that switch from 2 to 3 a week half-way ask for 10; None when no day of the window is
    under a protocol (the periods as :func:`rehab.adherence.protocol_periods` reads them, open
    ones running to ``last``)."""
    from rehab.protocol import ProtocolError, load_protocols

    phases = mine.phases if mine.phases.height else None
    try:
        periods = protocol_periods(mine.sessions, phases, config=cfg, until=last)
        protocols = load_protocols(root) if periods.height else {}
    except (ProtocolError, ValueError):
        return None
    override = target_override(cfg)
    w0 = last - dt.timedelta(days=WINDOW_DAYS - 1)
    total, covered = 0.0, False
    for r in periods.iter_rows(named=True):
        lo, hi = max(r["start"], w0), min(r["end"], last)
        if lo > hi or (override is None and r["protocol"] not in protocols):
            continue
        rate = override if override is not None else protocols[r["protocol"]].sessions_per_week
        total += rate * ((hi - lo).days + 1) / 7
        covered = True
    return round(total, 1) if covered else None


def course_weeks(mine, cfg, root: Path, *, start: dt.date, end: dt.date
                 ) -> tuple[list, list[float]]:
    """Every ISO week from ``start`` to ``end`` (the first and last log), judged as the month
    pages judge them (:func:`rehab.summary.judge_weeks`): training days against the target of
    the protocol in force that week (phases, the sessions' protocol column or rehab.toml's
    ``[protocol] id``, open phases running to the last log), nothing before the first phase;
    and the weekly rates those targets come from (a week partly under a protocol asks for its
    share of its rate)."""
    from rehab.protocol import ProtocolError, load_protocols
    from rehab.summary import judge_weeks

    phases = mine.phases if mine.phases.height else None
    try:
        table = weekly_adherence(mine.sessions, phases, load_protocols(root), config=cfg,
                                 until=end)
        first = protocol_periods(mine.sessions, phases, config=cfg, until=end)["start"].min()
    except (ProtocolError, ValueError):  # a protocol file not valid, phases that overlap: the
        # weeks are not judged here (the month pages say what is wrong)
        table = pl.DataFrame(schema={"week_start": pl.Date, "protocol": pl.String,
                                     "target": pl.Float64, "days": pl.Int64})
        first = None
    table = with_target_override(table, cfg)
    monday = start - dt.timedelta(days=start.weekday())
    weeks = [monday + dt.timedelta(days=7 * i) for i in range((end - monday).days // 7 + 1)]
    days = set(work_sets(mine.sessions)["date"].to_list())
    rates = sorted({round(r["target"] * 7 / r["days"], 2) for r in table.iter_rows(named=True)
                    if r["days"]})
    return judge_weeks(weeks, days, table, start=first or start, logged_to=end), rates


def _weeks_line(weeks: list, rates: list[float]) -> str:
    """The whole course's weeks in words: how many reached their target, and those not judged."""
    total = sum(w.sessions for w in weeks)
    judged = [w for w in weeks if w.status in ("met", "below")]
    if not any(w.target is not None for w in weeks):
        return (f"{total} training days in {len(weeks)} weeks; no protocol is in force in "
                "any of them, so no weekly target.")
    met = sum(w.status == "met" for w in judged)
    line = (f"{met} of {len(judged)} weeks reached the target of the protocol in force that week"
            + (f" ({' or '.join(f'{t:g}' for t in rates)} training days)" if rates else "")
            + f"; {total} training days in {len(weeks)} weeks.")
    skipped = {s: sum(w.status == s for w in weeks) for s in ("not_over", "no_target",
                                                                "before_start")}
    words = {"not_over": "not logged to its end (the logs stop before its Sunday)",
             "no_target": "under no protocol", "before_start": "before the first phase"}
    notes = [f"{n} {words[s]}" for s, n in skipped.items() if n]
    return line + (f" Not judged: {'; '.join(notes)}." if notes else "")


@dataclass(frozen=True)
class Project:
    """A project's settings and data, read once for many pages (the index, every course page)."""

    paths: ProjectPaths
    cfg: object
    ds: object
    pain: dict
    source: str

    @classmethod
    def load(cls, paths: ProjectPaths, data_dir=None) -> Project:
        from rehab.config import load_config
        from rehab.io import load_project

        cfg = load_config(paths.config_file)
        ds = load_project(paths.root, source=data_folder(paths, data_dir), aliases=cfg.aliases)
        try:
            source = str(Path(ds.source_dir).resolve().relative_to(paths.root.resolve()))
        except ValueError:
            source = str(Path(ds.source_dir).resolve())
        return cls(paths, cfg, ds, pain_changes(ds.diary, ds.last_logs()), source)

    def figures(self, participant: str, *, today: dt.date | None = None) -> CourseFigures:
        mine = self.ds.for_participant(participant)
        fig = course_figures(mine, pain_change=self.pain.get(participant),
                             src_group=self.cfg.participant(participant).src_group,
                             acceptable_max=self.cfg.pain_acceptable_max,
                             today=today or dt.date.today())
        return replace(fig, sessions_target_window=window_target(
            mine, self.cfg, self.paths.root, fig.last_log))

    def months(self, participant: str) -> list[str]:
        """The person's monthly pages made from the current data, newest first."""
        mine = self.ds.for_participant(participant)
        return month_pages(self.paths, participant,
                           F.data_months(mine.sessions, mine.diary, mine.tests),
                           self.ds.is_demo, self.source)


def render_course(project: Project, participant: str, *, today: dt.date | None = None) -> str:
    """The whole-course page of ``participant`` as HTML (see the module)."""
    from rehab.report import charts

    check_participant(participant)
    paths, cfg, ds = project.paths, project.cfg, project.ds
    if participant not in ds.participants:
        raise ReportError(f"participant {participant!r} has no records in {ds.source_dir} "
                          f"(participants found: {', '.join(ds.participants) or 'none'})")
    mine = ds.for_participant(participant)
    fig = project.figures(participant, today=today)
    me = cfg.participant(participant)
    months = project.months(participant)
    start, end = fig.start, fig.last_log
    phases = with_protocol_names(mine.phases, paths.root)
    parts = _head(f"{participant}: the whole course — rehab")
    parts.append(f'<h1 class="title">The whole course: {esc(participant)}</h1>')
    if ds.is_demo:
        parts.append(f'<div class="demo" role="note"><strong>DEMO DATA.</strong> '
                     f"{esc(DEMO_BANNER)}</div>")
    # the ISO weeks touched, as the training-days chart draws them
    n_weeks = ((end - dt.timedelta(days=end.weekday()))
               - (start - dt.timedelta(days=start.weekday()))).days // 7 + 1
    parts.append(para(esc(f"From the first log on {start:%d %b %Y} to the last on "
                          f"{end:%d %b %Y} ({n_weeks} week{'' if n_weeks == 1 else 's'}, "
                          "Monday to Sunday)."), "lead"))
    parts.append(para(esc(DISCLAIMER), "disclaimer"))

    # latest figures first
    sess = (f"Training days in the last four weeks logged: {fig.sessions_window}, against a "
            f"target of {fig.sessions_target_window:g} (the protocols in force those days)."
            if fig.sessions_target_window is not None else
            f"Training days in the last four weeks logged: {fig.sessions_window}; no protocol "
            "is set, so there is no target (name it in rehab.toml or data/raw/phases.csv).")
    flares = (f"Flares: {fig.flare_days} flare day(s) reported since the start, "
              f"{fig.flare_days_window} in the last four weeks.")
    lines = [_test_line(fig), _pain_line(fig), sess, flares]
    q = questionnaire_scores(ds)
    q = q.filter(pl.col("participant") == participant) if q is not None else None
    if q is not None and q.height:
        lines += questionnaire_rows(q)[1]
    if fig.flags:
        lines.append("To look at: " + "; ".join(fig.flags) + ".")
    parts.append('<h2 id="latest">Latest figures</h2><ul class="summary">'
                 + "".join(f"<li>{esc(x)}</li>" for x in lines) + "</ul>")

    series = F.test_series(mine.tests) if mine.tests.height else None
    parts.append('<h2 id="tests">Tests</h2>')
    if series is not None and series.filter(pl.col("unit") == "s").height:
        curve, note = _sorensen_curve(mine.tests, me)
        parts.append(figure(charts.course_tests_chart(series, phases, start=start, end=end,
                                                      curve=curve),
                            "course-tests", "Hold tests since the first log: each test's best "
                            "per test day, the 2-minute goal (dashed), the Sorensen curve over "
                            "the tested range, phases shaded."))
        if note:
            parts.append(para(esc(note), "note"))
    else:
        parts.append(para("No hold test is logged yet."))

    parts.append('<h2 id="pain">Pain and flares</h2>')
    daily = F.daily_pain(mine.diary) if mine.diary.height else None
    if daily is not None and daily.height >= 3:
        weekly = F.weekly_pain(daily)
        # weekly_pain cuts its t-interval at the scale's ends: a bound exactly on 0 or 10 with
        # the mean inside was cut there (an interval's own bound lands there only by chance)
        cut = weekly.filter(((pl.col("ci_low") <= 0) & (pl.col("pain_mean") > 0))
                            | ((pl.col("ci_high") >= 10) & (pl.col("pain_mean") < 10))).height
        weekly = weekly.with_columns(pl.col("ci_low").clip(0, 10), pl.col("ci_high").clip(0, 10))
        parts.append(figure(charts.weekly_pain_chart(weekly, phases, start=start, end=end),
                            "course-pain", "Weekly mean pain (line) and its 95% band; triangles: "
                            "weeks with self-reported flare days (their number above); phases "
                            "shaded." + (f" The band of {cut} week(s) is cut at the ends of the "
                                         "0–10 scale: with few diary days its interval runs "
                                         "past them." if cut else "")))
    else:
        parts.append(para("Too few diary days to chart pain."))

    parts.append('<h2 id="sessions">Training days a week</h2>')
    if work_sets(mine.sessions).height:
        weeks, rates = course_weeks(mine, cfg, paths.root, start=start, end=end)
        parts.append(para(esc(_weeks_line(weeks, rates))))
        judged = any(w.target is not None for w in weeks)
        parts.append(figure(charts.sessions_week_chart(weeks, phases, start=start, end=end),
                            "course-sessions", "Training days in each week (Monday to Sunday)"
                            + (" against the target of the protocol in force that week (dashed; "
                               "a week partly under a protocol asks for its share)"
                               if judged else "") + "; phases shaded."))
    else:
        parts.append(para("No training session is logged yet."))

    parts.append('<h2 id="questionnaires">Questionnaires</h2>')
    if q is not None and q.height:
        rows, _ = questionnaire_rows(q)
        parts.append(table(["questionnaire", "latest", "first", "change", "reading"], rows))
        parts.append(figure(charts.questionnaire_chart(q, QUESTIONNAIRE_MIC), "course-scores",
                            "Each questionnaire's scores; grey band: within the important "
                            "change of the first score."))
    else:
        parts.append(para("No questionnaire scores are logged."))

    parts.append('<h2 id="months">Monthly pages</h2>')
    if months:
        parts.append('<ul class="months">' + "".join(
            f'<li><a href="{esc(m)}.html">{esc(dt.date(int(m[:4]), int(m[5:]), 1).strftime("%B %Y"))}'
            "</a></li>" for m in months) + "</ul>")
    else:
        parts.append(para("No monthly page yet: run <code>rehab report --all</code>."))
    parts.append('<p class="footer"><a href="../index.html">All people</a> · '
                 f"{esc(DISCLAIMER)}</p></main></body></html>")
    return "\n".join(parts) + "\n"


def _sorensen_curve(tests: pl.DataFrame, me) -> tuple[pl.DataFrame | None, str]:
    """The Sorensen curve over the tested range (never beyond the last test), and a note: when
    the data do not pin the plateau down, the curve is still drawn over the tests, and the note
    says it is too early to tell where it levels off."""
    from rehab.models.endurance import STILL_RISING, fit_endurance

    if tests.filter(pl.col("test") == "sorensen_hold").height < 4:
        return None, ""
    res = fit_endurance(tests, test="sorensen_hold", bench_angle_deg=0.0, sex=me.sex,
                        n_boot=CURVE_BOOT, seed=0)
    if res.status != "ok":
        return None, f"Sorensen hold: no curve yet: {res.message.rstrip('.')}."
    first, last = res.data["date"].min(), res.data["date"].max()
    days = pl.date_range(first, last, "1w", eager=True).to_list() + [last]
    pred = res.predict(days)
    curve = pl.DataFrame({"date": days, "estimate": pred["estimate"].to_list()})
    if not res.plateau_identified:
        return curve, f"Sorensen hold: {STILL_RISING}."
    pl_ = res.tidy.filter(pl.col("term") == "plateau").row(0, named=True)
    return curve, (f"Sorensen hold: the curve levels off at about {pl_['estimate']:.0f} s "
                   f"(95% interval {pl_['ci_low']:.0f} to {pl_['ci_high']:.0f} s).")


def write_course(paths: ProjectPaths | str | Path | None, participant: str, *,
                 data_dir: str | Path | None = None, today: dt.date | None = None,
                 project: Project | None = None, fingerprint: str | None = None) -> Path:
    """Write ``reports/<participant>/index.html``, the whole course of one person, and its
    sidecar (participant, demo flag, data folder, and the ``fingerprint`` a batch gives it:
    :func:`rehab.report.render.course_fingerprints`); return its path. ``project`` (read once by
    the caller) saves reading the data again for each person."""
    from rehab.report.page import offline_problems

    paths = paths if isinstance(paths, ProjectPaths) else _paths(paths)
    project = project or Project.load(paths, data_dir)
    page = render_course(project, participant, today=today)
    problems = offline_problems(page)
    if problems:
        raise ReportError(f"{participant}: the whole-course page would load from the network "
                          f"or run scripts: {', '.join(sorted(set(problems))[:5])}")
    target = inside(paths.reports, paths.reports / participant / "index.html")
    atomic_write_text(target, page)
    meta = {"participant": participant, "demo": bool(project.ds.is_demo), "page": "course",
            "source": project.source, "fingerprint": fingerprint,
            "rendered": dt.datetime.now().isoformat(timespec="seconds")}
    atomic_write_text(inside(paths.reports, target.with_name(".index.json")),
                      json.dumps(meta, indent=1) + "\n")
    return target


def write_courses(paths: ProjectPaths | str | Path | None, participants=None, *,
                  data_dir: str | Path | None = None, today: dt.date | None = None,
                  project: Project | None = None) -> list[Path]:
    """Every person's whole-course page (or those of ``participants``), the data read once."""
    paths = paths if isinstance(paths, ProjectPaths) else _paths(paths)
    project = project or Project.load(paths, data_dir)
    who = list(participants) if participants is not None else list(project.ds.participants)
    return [write_course(paths, p, today=today, project=project) for p in who]
