"""What the numbered notebooks call besides the models: one person's data from a project folder,
the series to model, and a one-line note where data are missing or a fit says nothing.

The notebooks stay thin (no function definitions): each cell calls the package and shows one
object, a table, a chart or a :class:`Note`. Nothing here computes a statistic of its own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from rehab.config import Config, ParticipantSettings, load_config
from rehab.io import Dataset, load_project
from rehab.models.endurance import (
    STILL_RISING,
    EnduranceResult,
    fit_endurance,
    monthly_best_change,
)
from rehab.models.load import BanisterResult
from rehab.paths import ProjectPaths, existing, require_project

# Hold tests in the order a notebook picks one when none is named: the horizontal Sorensen hold
# has published norms; the 45° bench hold is the protocol's own test.
HOLD_TESTS = ("sorensen_hold", "back_extension_hold")
FORECAST_COLUMNS = ("label", "status", "date", "date_low", "date_high", "message")


class NotebookError(ValueError):
    """A notebook parameter that names no project folder or no person with records."""


class Note(str):
    """One line of text, shown as it is (no quotes) when it ends a notebook cell."""

    def __repr__(self) -> str:
        return str(self)


@dataclass(frozen=True)
class Person:
    """One participant's logs (``data``), everyone's (``everyone``) and the project's settings."""

    participant: str
    data: Dataset
    everyone: Dataset
    config: Config
    root: Path

    @property
    def settings(self) -> ParticipantSettings:
        return self.config.participant(self.participant)

    def start(self, protocol: str = "") -> dt.date | None:
        """The start of this person's first phase (of ``protocol``, when given); None without one."""
        ph = self.data.phases
        if protocol:
            ph = ph.filter(pl.col("protocol") == protocol)
        return ph["start"].min()

    def about(self) -> dict:
        """Where the data come from and how much of each kind this person has."""
        d = self.data
        return {"project": str(self.root), "source": str(d.source_dir), "demo data": d.is_demo,
                "participant": self.participant, "everyone": ", ".join(self.everyone.participants),
                "session sets": d.sessions.height, "diary entries": d.diary.height,
                "test attempts": d.tests.height, "phases": d.phases.height,
                "sex": self.settings.sex}


def open_person(project: str | Path = "", participant: str = "") -> Person:
    """One participant's data in ``project`` ("" = the project folder found from here, or
    ``REHAB_HOME``); ``participant`` "" = the first one with any record."""
    if project:
        root = existing(Path(project)).resolve()
        if not root.is_dir():
            raise NotebookError(f"project {project} is a file: give the project's folder")
    else:  # outside a project this says so (cd there, or REHAB_HOME), not "no records"
        root = require_project().root
    config = load_config(ProjectPaths(root).config_file)
    everyone = load_project(root, aliases=config.aliases)
    ids = everyone.participants
    if not ids:
        raise NotebookError(f"no records for anyone in {everyone.source_dir}: put your logs in "
                            f"{ProjectPaths(root).raw} (or set project to the folder that holds them)")
    pid = participant or ids[0]
    if pid not in ids:
        raise NotebookError(f"participant {pid!r} has no records in {everyone.source_dir}: "
                            f"use one of {', '.join(ids)}")
    return Person(pid, everyone.for_participant(pid), everyone, config, root)


def missing(what: str, person: Person, hint: str = "") -> Note:
    """The one line a section shows when this person has none of the data it needs."""
    return Note(f"No {what} for {person.participant}: this section is skipped."
                + (f" {hint}" if hint else ""))


def hold_test(tests: pl.DataFrame, test: str = "") -> str | None:
    """The test series to model: ``test`` when given, else the Sorensen hold, else the 45° hold,
    else the test (in seconds) with the most test days; None without any."""
    if test:
        return test
    logged = tests.group_by("test").agg(pl.col("date").n_unique().alias("days"),
                                        pl.col("unit").drop_nulls().first().alias("unit"))
    for t in HOLD_TESTS:
        if t in logged["test"].to_list():
            return t
    holds = logged.filter(pl.col("unit").fill_null("s") == "s").sort("days", "test",
                                                                   descending=[True, False])
    return holds["test"][0] if holds.height else None


def hold_fit(person: Person, test: str = "", *, protocol: str = "", first_weeks: float | None = None,
             **options) -> EnduranceResult:
    """:func:`rehab.models.fit_endurance` on this person's series ``test`` (:func:`hold_test`),
    counted from the start of their first ``protocol`` phase (none: from the first test), with
    their ``sex`` and ``hold_target_s`` from rehab.toml. ``first_weeks`` keeps only the tests of
    that many weeks (what the fit said then). ``options`` go to ``fit_endurance`` (``x``,
    ``target``, ...); ``x="sessions"`` or ``"load"`` uses this person's sessions."""
    tests = person.data.tests
    series = hold_test(tests, test)
    mine = tests.filter(pl.col("test") == series) if series else tests.clear()
    start = person.start(protocol)
    if first_weeks is not None:
        origin = start or mine["date"].min()
        if origin is not None:
            mine = mine.filter(pl.col("date") < origin + dt.timedelta(weeks=first_weeks))
    options.setdefault("target", person.settings.hold_target_s)
    if options.get("x", "weeks") != "weeks":
        options.setdefault("sessions", person.data.sessions)
    return fit_endurance(mine, test=series, start=start, sex=person.settings.sex, **options)


def month_change(person: Person, test: str = "") -> pl.DataFrame | Note:
    """The latest test month's best against the month before (:func:`monthly_best_change`),
    judged against the smallest real change of the Sorensen hold (the person's ``src_group``)."""
    series = hold_test(person.data.tests, test)
    mine = person.data.tests.filter(pl.col("test") == series) if series else None
    if mine is None or mine.height == 0:
        return missing("hold tests", person, "Log them in a tests*.csv file (date, test, value).")
    month = mine["date"].max().strftime("%Y-%m")
    src = person.config.src_seconds(person.participant) if series == "sorensen_hold" else None
    return monthly_best_change(mine, month, test=series, src=src).to_frame()


def banister_summary(fit: BanisterResult) -> Note:
    """The Banister fit's summary when the data pin its parameters down; else one line naming
    what they could not pin down, without the numbers."""
    if fit.status != "ok":
        return Note(f"No Banister fit: {fit.message}.")
    if fit.is_identified:
        return Note(fit.summary())
    # the reasons without their parenthesised figures: an unidentified fit's numbers mean nothing
    reasons = "; ".join(re.sub(r"\s*\([^)]*\)", "", r) for r in fit.identifiability)
    return Note(f"The data cannot pin this Banister fit down ({reasons}), so its parameters are "
                "not shown.")


def _still_rising(fit: EnduranceResult) -> Note:
    best = fit.data["value"].max()
    why = ("the tests still rise in a straight line" if fit.status == "no_plateau_yet" else
           "the plateau's interval is open or reaches far beyond the tests logged")
    return Note(f"{fit.test or 'test'}: {STILL_RISING} ({fit.n_tests} test days, best {best:g} "
                f"{fit.unit}; {why}, so no curve parameters or dates are given).")


def curve_summary(fit: EnduranceResult) -> Note:
    """The fit's summary when its plateau is pinned down; else one line saying why not."""
    if fit.plateau_identified:
        return Note(fit.summary())
    if fit.n_tests == 0:
        return Note(f"No {fit.test or 'hold'} tests are logged: no curve to fit. Log them in a "
                    "tests*.csv file (date, test, value).")
    if fit.status in ("ok", "no_plateau_yet"):
        return _still_rising(fit)
    return Note(f"{fit.test or 'test'}: no curve — {fit.message}.")


def curve_table(fit: EnduranceResult) -> pl.DataFrame | None:
    """The parameter table when the plateau is pinned down; else None (nothing to show: the
    line of :func:`curve_summary` says why)."""
    return fit.tidy if fit.plateau_identified else None


def curve_chart(fit: EnduranceResult):
    """The fit's chart; the tests alone (no curve, no band) when the plateau is not pinned down;
    None without any test."""
    if fit.n_tests == 0:
        return None
    if fit.plateau_identified or fit.status != "ok":
        return fit.chart()
    return dataclasses.replace(fit, status="no_plateau_yet", message=STILL_RISING).chart()


def forecasts(fit: EnduranceResult) -> pl.DataFrame | Note:
    """When each target is reached, when the plateau is pinned down; else one line."""
    if not fit.plateau_identified:
        return curve_summary(fit)
    return fit.forecasts().select(FORECAST_COLUMNS)


__all__ = ["HOLD_TESTS", "Note", "NotebookError", "Person", "banister_summary", "curve_chart",
           "curve_summary", "curve_table", "forecasts", "hold_fit", "hold_test", "missing",
           "month_change", "open_person"]
