"""Tidy features from the canonical tables: sessions per day and week, month filters, calendar-strip
data, test series with month-on-month change, daily and weekly pain, flare days, pain-monitoring
zones. Small functions: a polars DataFrame in, a polars DataFrame out.

Statistics and their sources:

- **Session rate** per week with an exact Poisson interval (Garwood 1936): ``χ²(α/2, 2k)/2`` to
  ``χ²(1−α/2, 2k+2)/2`` sessions, divided by the weeks observed. Planned sessions are more regular
  than a Poisson process, so the interval is on the wide (cautious) side.
- **Month-on-month test change**: this month's best minus the best of the calendar month before
  (or of the latest earlier month with tests, on request). Its 95% interval is
  ``change ± SRC`` with the smallest real change ``SRC = 1.96·√2·SEM`` (Latimer 1999): the spread
  of a difference of two single measurements. A change inside ``±SRC`` is called noise. Only tests
  with a published SEM are judged (the Sorensen hold, by pain group); the others are shown unjudged.
  A best of several attempts is biased upwards a little; both months share that bias.
- **Daily and weekly pain**: the mean of a day's diary entries that carry pain, then the mean of
  the daily means per ISO week (each day weighs the same however many entries it has) with a t
  interval. Daily pain is serially correlated, so the interval is too narrow; it is a description,
  not a test. On request it is widened by the AR(1) variance inflation of a mean,
  ``√((1+ρ)/(1−ρ))`` with ρ the lag-1-day autocorrelation.
- **Pain-monitoring zones** (Thomeé 1997; Silbernagel 2007): peak pain during a session's sets
  ``≤ safe_max`` safe, ``≤ acceptable_max`` acceptable, above that too much (bands from settings).
- **Month-on-month pain change**: difference of the monthly means of daily pain, compared with the
  minimal important change of 2 NRS points (Ostelo 2008).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import numbers

import polars as pl

from rehab import norms
from rehab.paths import check_month
from rehab.schema import DEFAULT_PARTICIPANT, DIARY, MOMENTS, TableSpec, require_columns

ZONES = ("safe", "acceptable", "too much")


# --- months -------------------------------------------------------------------------------------


def month_range(month: str) -> tuple[dt.date, dt.date]:
    """First and last day of ``month`` (``YYYY-MM``)."""
    check_month(month)
    y, m = int(month[:4]), int(month[5:])
    return dt.date(y, m, 1), dt.date(y, m, calendar.monthrange(y, m)[1])


def previous_month(month: str) -> str:
    """The month before ``month`` (``2026-01`` → ``2025-12``)."""
    first, _ = month_range(month)
    prev = first - dt.timedelta(days=1)
    return f"{prev.year:04d}-{prev.month:02d}"


def in_month(df: pl.DataFrame, month: str, *, column: str = "date") -> pl.DataFrame:
    """Rows of ``df`` whose ``column`` (a date) falls in ``month``."""
    first, last = month_range(month)
    require_columns(df, [column], "in_month")
    return df.filter(pl.col(column).is_between(first, last))


QUIET_DAYS = 14  # no log for this many days: a flag on the index and the whole-course page


def quiet_days(last_log: dt.date, today: dt.date) -> int | None:
    """Days since ``last_log`` as of ``today`` when they reach :data:`QUIET_DAYS` (the "no log
    for N days" flag), else None."""
    days = (today - last_log).days
    return days if days >= QUIET_DAYS else None


def data_months(*frames: pl.DataFrame, participant: str | None = None) -> list[str]:
    """Sorted ``YYYY-MM`` months in which any of ``frames`` has a dated row (of ``participant``
    when given)."""
    months: set[str] = set()
    for df in frames:
        if "date" not in df.columns or df.height == 0:
            continue
        if participant is not None and "participant" in df.columns:
            df = df.filter(pl.col("participant") == participant)
        months.update(df.select(pl.col("date").dt.strftime("%Y-%m").unique().drop_nulls())
                      .to_series().to_list())
    return sorted(months)


def week_start(column: str = "date") -> pl.Expr:
    """The Monday starting the ISO week of a date column."""
    return pl.col(column).dt.truncate("1w")


# --- sessions -----------------------------------------------------------------------------------


def sessions_per_day(sessions: pl.DataFrame) -> pl.DataFrame:
    """One row per participant and training day: sets, load and the day's protocol.

    Load comes from :func:`session_loads` (session RPE × minutes, Foster 2001).
    Columns: participant, date, n_sets, minutes_used, load, load_source, protocol, phase."""
    require_columns(sessions, ["participant", "date"], "sessions_per_day")
    loads = session_loads(sessions)
    extra = sessions.group_by("participant", "date").agg(
        *[_first_or_null(sessions, c) for c in ("protocol", "phase")]
    )
    return (
        loads.join(extra, on=["participant", "date"], how="left")
        .select("participant", "date", "n_sets", "minutes_used", "load", "load_source",
                "protocol", "phase")
        .sort("participant", "date")
    )


def sessions_per_week(
    sessions: pl.DataFrame,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    target: float = 2.0,
) -> pl.DataFrame:
    """Training days per ISO week (Monday start), zero-filled from ``start`` to ``end``.

    Columns: participant, week_start, n_sessions, target, met (n_sessions ≥ target)."""
    _check_target(target)
    days = sessions_per_day(sessions) if "n_sets" not in sessions.columns else sessions
    per = days.group_by("participant", week_start().alias("week_start")).agg(
        pl.len().cast(pl.Int64).alias("n_sessions")
    )
    people = sorted(per["participant"].unique().to_list())
    frames = []
    for pid in people:
        mine = per.filter(pl.col("participant") == pid)
        lo = _monday(start) if start else mine["week_start"].min()
        hi = _monday(end) if end else mine["week_start"].max()
        weeks = pl.DataFrame({"week_start": pl.date_range(lo, hi, "1w", eager=True)})
        frames.append(
            weeks.join(mine.drop("participant"), on="week_start", how="left")
            .with_columns(pl.col("n_sessions").fill_null(0), pl.lit(pid).alias("participant"))
        )
    schema = {"participant": pl.String, "week_start": pl.Date, "n_sessions": pl.Int64}
    out = pl.concat(frames).select(list(schema)) if frames else pl.DataFrame(schema=schema)
    return out.with_columns(
        pl.lit(float(target)).alias("target"), (pl.col("n_sessions") >= target).alias("met")
    )


def calendar_strip(
    sessions: pl.DataFrame,
    month: str,
    *,
    diary: pl.DataFrame | None = None,
    target: float | None = 2.0,
    until: dt.date | None = None,
    start: dt.date | None = None,
) -> pl.DataFrame:
    """One row per day of the ISO weeks covering ``month``, for a calendar strip.

    ``sessions`` and ``diary`` hold one participant; pass the sessions of the whole weeks (a
    week that ends in the next month counts its sessions there). ``until`` is the last day the
    logs cover (the days after it are not yet logged, not missed); ``start`` the person's first
    day (first record or phase start): the days before it are not missed either, and a week
    wholly before it is not judged. ``target`` None: no target (no protocol set), weeks are
    counted and never judged. Columns: date, week_start, weekday (Monday 1), in_month, started,
    observed (started and logged), trained, n_sets, flare (a self-reported flare that day),
    week_sessions (training days that week, whole week), target, week_complete (the week has
    started days and every one is logged), week_met (target reached; null while an incomplete
    week has not reached it, before the start and without a target), week_of_month (the week's
    Thursday falls in the month: ISO weeks belong to one month each, and the month's weekly
    table and summary list exactly these)."""
    if target is not None:
        _check_target(target)
    first, last = month_range(month)
    lo, hi = _monday(first), _monday(last) + dt.timedelta(days=6)
    # one lazy query (one collect); its columns are dates, counts and flags
    days = pl.LazyFrame({"date": pl.date_range(lo, hi, "1d", eager=True)})
    sets = (
        sessions.lazy().filter(pl.col("date").is_between(lo, hi))
        .group_by("date").agg(pl.len().cast(pl.Int64).alias("n_sets"))
    )
    out = days.join(sets, on="date", how="left").with_columns(pl.col("n_sets").fill_null(0))
    if diary is not None and "flare" in diary.columns:
        fl = diary.lazy().filter(pl.col("date").is_between(lo, hi)).group_by("date").agg(
            pl.col("flare").fill_null(False).any().alias("flare")
        )
        out = out.join(fl, on="date", how="left")
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.Boolean).alias("flare"))
    started = pl.lit(True) if start is None else pl.col("date") >= start
    logged = pl.lit(True) if until is None else pl.col("date") <= until
    out = out.with_columns(
        week_start().alias("week_start"),
        pl.col("date").dt.weekday().cast(pl.Int64).alias("weekday"),
        pl.col("date").is_between(first, last).alias("in_month"),
        (week_start() + pl.duration(days=3)).is_between(first, last).alias("week_of_month"),
        started.alias("started"),
        (started & logged).alias("observed"),
        (pl.col("n_sets") > 0).alias("trained"),
        pl.col("flare").fill_null(False),
    ).with_columns(
        pl.col("trained").cast(pl.Int64).sum().over("week_start").alias("week_sessions"),
        (pl.col("started").any() & (pl.col("observed") | ~pl.col("started")).all())
        .over("week_start").alias("week_complete"),
    )
    if target is None:
        out = out.with_columns(pl.lit(None, pl.Float64).alias("target"),
                               pl.lit(None, pl.Boolean).alias("week_met"))
    else:
        out = out.with_columns(
            pl.lit(float(target)).alias("target"),
            pl.when(~pl.col("started").any().over("week_start")).then(None)
            .when(pl.col("week_sessions") >= target).then(True)
            .when(pl.col("week_complete")).then(False).otherwise(None).alias("week_met"),
        )
    return out.select("date", "week_start", "weekday", "in_month", "started", "observed",
                      "trained", "n_sets", "flare", "week_sessions", "target", "week_complete",
                      "week_met", "week_of_month").sort("date").collect()


def poisson_interval(k: int, exposure: float, *, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood 1936) interval for a Poisson rate ``k / exposure``.

    ``χ²(α/2, 2k)/2`` to ``χ²(1−α/2, 2k+2)/2`` events (the lower limit is 0 when k = 0), divided by
    ``exposure`` (weeks, days observed, …), with α = 1 − confidence."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 0:
        raise ValueError(f"k={k!r} is not allowed: give a whole number of events ≥ 0")
    if (isinstance(exposure, bool) or not isinstance(exposure, numbers.Real)
            or not math.isfinite(exposure) or exposure <= 0):
        raise ValueError(f"exposure={exposure!r} is not allowed: give a finite number > 0")
    _check_confidence(confidence)
    k = int(k)
    a = 1.0 - confidence
    # χ²(q, 2k)/2 is the q-quantile of a Gamma(k) variable: gammaincinv(k, q) (lighter than
    # importing scipy.stats in every report kernel)
    from scipy import special  # here, not at import: listing a project's months needs no SciPy

    lo = 0.0 if k == 0 else float(special.gammaincinv(k, a / 2))
    hi = float(special.gammaincinv(k + 1, 1 - a / 2))
    return lo / exposure, hi / exposure


def session_rate(
    n_sessions: int, days: int, *, target: float = 2.0, confidence: float = 0.95
) -> pl.DataFrame:
    """Sessions per week over ``days`` days with an exact Poisson interval
    (:func:`poisson_interval`, Garwood 1936).

    Columns: term (sessions_per_week), estimate, ci_low, ci_high, target, n_sessions, weeks."""
    if not isinstance(n_sessions, int) or n_sessions < 0:
        raise ValueError(f"n_sessions={n_sessions!r} is not allowed: give a whole number ≥ 0")
    if not isinstance(days, int) or days < 1:
        raise ValueError(f"days={days!r} is not allowed: give a whole number of days ≥ 1")
    _check_confidence(confidence)
    _check_target(target)
    weeks = days / 7.0
    lo, hi = poisson_interval(n_sessions, weeks, confidence=confidence)
    return pl.DataFrame({
        "term": ["sessions_per_week"],
        "estimate": [n_sessions / weeks],
        "ci_low": [lo],
        "ci_high": [hi],
        "target": [float(target)],
        "n_sessions": [n_sessions],
        "weeks": [weeks],
    })


# --- endurance tests ----------------------------------------------------------------------------


def test_series(tests: pl.DataFrame, *, test_ids: list[str] | None = None) -> pl.DataFrame:
    """Test results over time, one row per test and day (the day's best attempt).

    Columns: participant, date, test, unit, value, attempts, bench_angle_deg, month."""
    require_columns(tests, ["participant", "date", "test", "value"], "test_series")
    df = tests if test_ids is None else tests.filter(pl.col("test").is_in(test_ids))
    unit = pl.col("unit") if "unit" in df.columns else pl.lit(None, dtype=pl.String)
    angle = pl.col("bench_angle_deg") if "bench_angle_deg" in df.columns else pl.lit(None)
    return (
        df.with_columns(unit.alias("unit"), angle.cast(pl.Float64).alias("bench_angle_deg"))
        .group_by("participant", "date", "test")
        .agg(
            pl.col("unit").drop_nulls().first(),
            pl.col("value").max(),
            pl.len().cast(pl.Int64).alias("attempts"),
            pl.col("bench_angle_deg").drop_nulls().first(),
        )
        .with_columns(pl.col("date").dt.strftime("%Y-%m").alias("month"))
        .sort("participant", "test", "date")
    )


def test_src(test: str, *, src_group: str = norms.DEFAULT_SRC_GROUP) -> float | None:
    """Smallest real change (95%) of a test in its unit, or None when none is published.

    Only the Biering-Sørensen hold has one (Latimer 1999, by pain group)."""
    if src_group not in norms.SORENSEN_SRC_S:
        raise ValueError(f"src_group={src_group!r} is not allowed: use one of "
                         f"{', '.join(norms.SORENSEN_SRC_S)}")
    return norms.SORENSEN_SRC_S[src_group] if test == "sorensen_hold" else None


VERDICTS = ("improved", "declined", "noise", "no previous month", "not judged")
PREVIOUS = ("calendar", "latest")


def change_verdict(previous: float, current: float, *, src: float) -> str:
    """Judge ``current − previous`` against the smallest real change ``src``: "improved",
    "declined" or "noise" (the first three of :data:`VERDICTS`).

    A change smaller than the SRC (Latimer 1999: 1.96·√2·SEM) is noise; a change of at least the
    SRC is real (with a relative tolerance of 1e-9, because 132.1 − 100 is 32.0999… in floats)."""
    for name, v in (("previous", previous), ("current", current), ("src", src)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise ValueError(f"{name}={v!r} is not allowed: give a finite number")
    if src <= 0:
        raise ValueError(f"src={src!r} is not allowed: give a positive number")
    change = current - previous
    if abs(change) < src - 1e-9 * max(1.0, src):
        return "noise"
    return "improved" if change > 0 else "declined"


def mic_reading(baseline: float, current: float, mic: float) -> str | None:
    """Ostelo 2008's rule for a score where lower is better (pain, ODI, RMDQ): "improvement"
    when it fell by at least ``mic`` points or 30% of ``baseline`` (:data:`norms.MIC_RELATIVE`),
    "worsening" when it rose by at least ``mic`` points (the 30% rule is defined for improvement
    only), else None."""
    drop = baseline - current
    if drop >= mic - 1e-9 or (baseline > 0 and drop / baseline >= norms.MIC_RELATIVE - 1e-9):
        return "improvement"
    if -drop >= mic - 1e-9:
        return "worsening"
    return None


def label_change(previous: float, current: float, *, src: float | None = None,
                 unit: str = "s") -> str:
    """:func:`change_verdict` in words: "improved", "declined" or "within noise (smallest real
    change 32.1 s)".

    The default SRC is the Sorensen value for people with current back pain,
    ``norms.SORENSEN_SRC_S[norms.DEFAULT_SRC_GROUP]`` (32.1 s, Latimer 1999); pass the
    participant's setting (``Config.src_seconds``). Tests in other units need their own ``src``."""
    if src is None:
        if unit != "s":
            raise ValueError(f"no default smallest real change for unit {unit!r}: pass src=...")
        src = norms.SORENSEN_SRC_S[norms.DEFAULT_SRC_GROUP]
    verdict = change_verdict(previous, current, src=src)
    return f"within noise (smallest real change {src:g} {unit})" if verdict == "noise" else verdict


def monthly_best(
    tests: pl.DataFrame,
    month: str,
    *,
    src_group: str = norms.DEFAULT_SRC_GROUP,
    previous: str = "calendar",
    src: float | None = None,
) -> pl.DataFrame:
    """Per participant and test done this month: this month's best, an earlier month's best and
    the change, judged by :func:`change_verdict` against the smallest real change (see the module
    docstring).

    ``previous="calendar"`` compares with the calendar month before ``month`` only;
    ``"latest"`` with the latest earlier month in which that participant did that test (the
    ``previous_month`` column names it). ``src`` judges every test with that smallest real change
    (e.g. the participant's setting); by default each test gets its published one
    (:func:`test_src` for ``src_group``) and tests without one are not judged. A missing
    ``participant`` column means the default participant. A best is the highest value (the
    earliest day on a tie).

    Columns: participant, test, unit, best, attempts, best_date, previous_month, previous_best,
    previous_date, change, src, ci_low, ci_high, verdict (one of :data:`VERDICTS`)."""
    first, _ = month_range(month)
    if previous not in PREVIOUS:
        raise ValueError(f"previous={previous!r} is not allowed: use one of {', '.join(PREVIOUS)}")
    test_src("sorensen_hold", src_group=src_group)  # rejects an unknown group even with no rows
    if src is not None and (isinstance(src, bool) or not isinstance(src, numbers.Real)
                            or not math.isfinite(src) or src <= 0):
        raise ValueError(f"src={src!r} is not allowed: give a positive number or None")
    require_columns(tests, ["date", "test", "value"], "monthly_best")
    unit = pl.col("unit") if "unit" in tests.columns else pl.lit(None, dtype=pl.String)
    who = pl.col("participant") if "participant" in tests.columns else pl.lit(DEFAULT_PARTICIPANT)
    keys = ["participant", "test"]
    df = (
        tests.lazy()  # two lazy queries: up to the join, and after the verdicts
        .with_columns(who.cast(pl.String).alias("participant"), unit.alias("unit"))
        .filter(pl.col("date").is_not_null() & pl.col("value").is_not_null())
        .with_columns(pl.col("date").dt.strftime("%Y-%m").alias("_month"))
        .sort("value", "date", descending=[True, False])
    )
    now = df.filter(pl.col("_month") == month).group_by(keys, maintain_order=True).agg(
        pl.col("unit").drop_nulls().first(), pl.col("value").first().alias("best"),
        pl.len().cast(pl.Int64).alias("attempts"), pl.col("date").first().alias("best_date"))
    earlier = df.filter(pl.col("date") < first)
    if previous == "calendar":
        earlier = earlier.filter(pl.col("_month") == previous_month(month))
    before = (
        earlier.filter(pl.col("_month") == pl.col("_month").max().over(keys))
        .group_by(keys, maintain_order=True)
        .agg(pl.col("_month").first().alias("previous_month"),
             pl.col("value").first().alias("previous_best"),
             pl.col("date").first().alias("previous_date"))
    )
    out = now.join(before, on=keys, how="left").with_columns(
        (pl.col("best") - pl.col("previous_best")).alias("change")).collect()
    srcs = [src if src is not None else test_src(t, src_group=src_group)
            for t in out["test"].to_list()]
    verdicts = [
        "no previous month" if pb is None else "not judged" if s is None
        else change_verdict(pb, b, src=s)
        for b, pb, s in zip(out["best"].to_list(), out["previous_best"].to_list(), srcs,
                            strict=True)
    ]
    return out.lazy().with_columns(
        pl.Series("src", srcs, dtype=pl.Float64),
        pl.Series("verdict", verdicts, dtype=pl.String),
    ).with_columns(
        (pl.col("change") - pl.col("src")).alias("ci_low"),
        (pl.col("change") + pl.col("src")).alias("ci_high"),
    ).select("participant", "test", "unit", "best", "attempts", "best_date", "previous_month",
             "previous_best", "previous_date", "change", "src", "ci_low", "ci_high",
             "verdict").sort(keys).collect()


# --- pain ---------------------------------------------------------------------------------------

# One row per participant and diary day (:func:`daily_pain`). ``spasm`` and ``flare`` are True
# when any of the day's entries says so, False when entries say no, and null when no entry that
# day recorded them (a diary without the column is not a diary without flares).
DAILY_SCHEMA = {
    "participant": pl.String(),
    "date": pl.Date(),
    "pain": pl.Float64(),
    "pain_max": pl.Float64(),
    "n_entries": pl.Int64(),
    "stiffness": pl.Float64(),
    "tightness": pl.Float64(),
    "spasm": pl.Boolean(),
    "flare": pl.Boolean(),
    "sleep_h": pl.Float64(),
}
# One row per participant and ISO week (:func:`weekly_pain`).
WEEKLY_SCHEMA = {
    "participant": pl.String(),
    "week_start": pl.Date(),
    "n_days": pl.Int64(),
    "pain_mean": pl.Float64(),
    "pain_sd": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "stiffness_mean": pl.Float64(),
    "flare_days": pl.Int64(),
    "interval": pl.String(),
}
WEEKLY_INTERVAL = "t-interval of the daily means (assumes independent days)"
WEEKLY_INTERVAL_AR1 = "t-interval of the daily means, widened for AR(1) autocorrelation"
AUTOCORRELATION = ("ignore", "ar1")


def conform_frame(
    df: pl.DataFrame, spec: TableSpec, *, what: str, need: tuple[str, ...] = ()
) -> pl.DataFrame:
    """Check a canonical frame of ``spec`` and add any column it lacks as nulls.

    A missing ``participant`` column becomes the default participant. The spec's required columns
    and ``need`` (columns a function needs though the spec allows them to be absent) must be
    there; otherwise a ValueError names them."""
    if not isinstance(df, pl.DataFrame):
        raise ValueError(f"{what} must be a polars DataFrame, got {type(df).__name__}")
    if "participant" not in df.columns:
        df = df.with_columns(pl.lit(DEFAULT_PARTICIPANT).alias("participant"))
    missing = [c for c in (*spec.required, *need) if c not in df.columns]
    if missing:
        raise ValueError(
            f"{what} lacks the required column(s) {', '.join(missing)}; canonical columns: "
            f"{', '.join(spec.names)}"
        )
    add = [pl.lit(None, dtype=c.dtype).alias(c.name)
           for c in spec.columns if c.name not in df.columns]
    return df.with_columns(add) if add else df


def daily_pain(diary: pl.DataFrame, *, moment: str = "all") -> pl.DataFrame:
    """One row per participant and diary day: the mean NRS of that day's entries (``pain``; each
    entry weighs the same), its maximum, the number of entries, mean stiffness, tightness and
    sleep, and whether a spasm or a flare was reported (see :data:`DAILY_SCHEMA`: null when no
    entry that day recorded it). Entries without pain (mood or sleep alone) are left out.

    ``moment`` = ``"all"`` uses every entry; a diary moment (``morning``, ``pre``, ``post``,
    ``evening``, ``night``, ``other``) uses only the entries marked so."""
    allowed = ("all", *MOMENTS)
    if moment not in allowed:
        raise ValueError(f"moment={moment!r} is not allowed: use one of {', '.join(allowed)}")
    df = conform_frame(diary, DIARY, what="diary", need=("pain",))
    if moment != "all":
        df = df.filter(pl.col("moment") == moment)
    # max of booleans: True if any entry says so, null only when none recorded it
    return (
        df.filter(pl.col("pain").is_not_null() & pl.col("date").is_not_null())
        .group_by("participant", "date")
        .agg(
            pl.col("pain").mean().alias("pain"),
            pl.col("pain").max().alias("pain_max"),
            pl.len().cast(pl.Int64).alias("n_entries"),
            pl.col("stiffness").mean(),
            pl.col("tightness").mean(),
            pl.col("spasm").max(),
            pl.col("flare").max(),
            pl.col("sleep_h").mean(),
        )
        .sort("participant", "date")
        .select([pl.col(c).cast(t) for c, t in DAILY_SCHEMA.items()])
    )


def _as_daily(diary_or_daily: pl.DataFrame, moment: str) -> pl.DataFrame:
    """A frame of :func:`daily_pain` as it is, or the daily pain of a diary."""
    frame = diary_or_daily
    if isinstance(frame, pl.DataFrame) and set(DAILY_SCHEMA) <= set(frame.columns):
        if moment != "all":
            raise ValueError(f"moment={moment!r} is not allowed with a daily_pain frame (its days "
                             "already mix every moment): pass the diary, or moment='all'")
        return diary_or_daily
    return daily_pain(diary_or_daily, moment=moment)


def _mean_sd_n(values: pl.Expr) -> list[pl.Expr]:
    """mean, sd and n as expressions; the t interval is added after aggregation."""
    n = values.count()
    sd = values.std()
    return [values.mean().alias("mean"), sd.alias("sd"), n.cast(pl.Int64).alias("n_days")]


def _t_quantiles(n_days: pl.Series, confidence: float) -> pl.Series:
    """t(0.5 + confidence/2, n − 1) per row; null below 2 days."""
    from scipy import special

    return pl.Series("q", [float(special.stdtrit(n - 1, 0.5 + confidence / 2)) if n and n > 1
                           else None for n in n_days.to_list()], dtype=pl.Float64)


def _add_t_interval(df: pl.DataFrame, confidence: float) -> pl.DataFrame:
    half = _t_quantiles(df["n_days"], confidence) * df["sd"] / df["n_days"].cast(pl.Float64).sqrt()
    return df.with_columns(
        (pl.col("mean") - half).clip(0, 10).alias("ci_low"),
        (pl.col("mean") + half).clip(0, 10).alias("ci_high"),
    )


def weekly_pain(
    diary_or_daily: pl.DataFrame,
    *,
    moment: str = "all",
    autocorrelation: str = "ignore",
    confidence: float = 0.95,
) -> pl.DataFrame:
    """Weekly (ISO, Monday–Sunday) means of the daily mean pain with a t interval over the days
    (each day weighs the same however many entries it has).

    ``diary_or_daily`` is a diary or a frame of :func:`daily_pain` (then ``moment`` must be
    ``"all"``). The interval is mean ± t(0.5 + confidence/2, n − 1) · sd/√n over the week's
    days, clipped to the NRS range 0–10 (null with fewer than 2 days). Daily pain is serially
    correlated, which makes that interval too narrow: a description, not a test.
    ``autocorrelation="ar1"`` widens it by √((1+ρ)/(1−ρ)), with ρ the participant's lag-1-day
    autocorrelation of daily pain around its weekly means (the AR(1) variance inflation of a
    mean; used only when ρ > 0). The ``interval`` column says which was computed.

    Columns (:data:`WEEKLY_SCHEMA`): participant, week_start, n_days, pain_mean, pain_sd, ci_low,
    ci_high, stiffness_mean, flare_days (days with a reported flare), interval."""
    if autocorrelation not in AUTOCORRELATION:
        raise ValueError(f"autocorrelation={autocorrelation!r} is not allowed: use one of "
                         f"{', '.join(AUTOCORRELATION)}")
    _check_confidence(confidence)
    daily = _as_daily(diary_or_daily, moment).with_columns(week_start().alias("week_start"))
    inflate = _ar1_inflation(daily) if autocorrelation == "ar1" else {}
    out = (
        daily.group_by("participant", "week_start")
        .agg(
            pl.len().cast(pl.Int64).alias("n_days"),
            pl.col("pain").mean().alias("pain_mean"),
            pl.col("pain").std().alias("pain_sd"),
            pl.col("stiffness").mean().alias("stiffness_mean"),
            pl.col("flare").fill_null(False).cast(pl.Int64).sum().alias("flare_days"),
        )
        .sort("participant", "week_start")
    )
    people = out["participant"].to_list()
    factor = pl.Series("factor", [inflate.get(p, 1.0) for p in people], dtype=pl.Float64)
    half = (_t_quantiles(out["n_days"], confidence) * out["pain_sd"]
            / out["n_days"].cast(pl.Float64).sqrt() * factor)
    label = [WEEKLY_INTERVAL_AR1 if inflate.get(p, 1.0) > 1.0 else WEEKLY_INTERVAL for p in people]
    return out.with_columns(
        (pl.col("pain_mean") - half).clip(0, 10).alias("ci_low"),
        (pl.col("pain_mean") + half).clip(0, 10).alias("ci_high"),
        pl.Series("interval", label, dtype=pl.String),
    ).select([pl.col(c).cast(t) for c, t in WEEKLY_SCHEMA.items()])


def _ar1_inflation(daily: pl.DataFrame) -> dict[str, float]:
    """Per participant √((1+ρ)/(1−ρ)), ρ = lag-1-day correlation of pain minus its weekly
    mean (pairs of consecutive calendar days; 0 with fewer than 5 pairs; at most 0.95)."""
    out = {}
    for (pid,), g in daily.sort("date").group_by(["participant"], maintain_order=True):
        g = g.with_columns((pl.col("pain") - pl.col("pain").mean().over("week_start")).alias("e"))
        prev = g.select((pl.col("date") + pl.duration(days=1)).alias("date"),
                        pl.col("e").alias("e0"))
        pairs = g.join(prev, on="date", how="inner")
        num = float((pairs["e"] * pairs["e0"]).sum()) if pairs.height else 0.0
        den = float((g["e"] ** 2).sum())
        rho = num / den if den > 0 and pairs.height >= 5 else 0.0
        rho = min(rho, 0.95)
        out[pid] = math.sqrt((1 + rho) / (1 - rho)) if rho > 0 else 1.0
    return out


def monthly_pain(diary: pl.DataFrame, month: str, *, confidence: float = 0.95) -> pl.DataFrame:
    """Mean daily pain this month and last month, and the change against the minimal important
    change (:func:`mic_reading` from last month's mean: 2 NRS points, or a 30% fall;
    Ostelo 2008). ``diary`` is a diary or a frame of :func:`daily_pain`.

    Columns: month, mean, sd, n_days, ci_low, ci_high — one row per month (this, previous) that
    has diary days — plus, on this month's row, change and verdict (better | worse | below MIC)."""
    _check_confidence(confidence)
    daily = _as_daily(diary, "all")
    rows = []
    for m in (month, previous_month(month)):
        d = in_month(daily, m)
        if d.height:
            rows.append(d.select(pl.lit(m).alias("month"), *_mean_sd_n(pl.col("pain"))))
    schema = {"month": pl.String, "mean": pl.Float64, "sd": pl.Float64, "n_days": pl.Int64}
    out = pl.concat(rows) if rows else pl.DataFrame(schema=schema)
    out = _add_t_interval(out.cast(schema), confidence)
    now = out.filter(pl.col("month") == month)["mean"]
    prev = out.filter(pl.col("month") == previous_month(month))["mean"]
    change = float(now[0] - prev[0]) if now.len() and prev.len() else None
    verdict = None if change is None else {"improvement": "better", "worsening": "worse"}.get(
        mic_reading(float(prev[0]), float(now[0]), norms.MIC_NRS_POINTS), "below MIC")
    is_now = pl.col("month") == month
    return out.with_columns(
        pl.when(is_now).then(pl.lit(change, dtype=pl.Float64)).alias("change"),
        pl.when(is_now).then(pl.lit(verdict, dtype=pl.String)).alias("verdict"),
    )


def flare_days(diary: pl.DataFrame) -> pl.DataFrame:
    """Days with a self-reported flare (Costa 2019: logged, not inferred from the pain score).
    ``diary`` is a diary or a frame of :func:`daily_pain`.

    Columns: participant, date, pain_max, n_entries."""
    daily = _as_daily(diary, "all")
    return daily.filter(pl.col("flare")).select("participant", "date", "pain_max", "n_entries")


# --- pain during sessions -----------------------------------------------------------------------


def pain_zones(
    sessions: pl.DataFrame,
    *,
    safe_max: float = norms.PAIN_SAFE_MAX,
    acceptable_max: float = norms.PAIN_ACCEPTABLE_MAX,
) -> pl.DataFrame:
    """Peak pain during each training day's sets, in the pain-monitoring zones (Thomeé 1997).

    Days without any set pain are left out. Columns: participant, date, peak_pain, sets_rated,
    zone (safe | acceptable | too much)."""
    if not 0 <= safe_max < acceptable_max <= 10:
        raise ValueError(f"safe_max={safe_max!r}, acceptable_max={acceptable_max!r} are not "
                         "allowed: give 0 ≤ safe_max < acceptable_max ≤ 10")
    require_columns(sessions, ["participant", "date", "pain"], "pain_zones")
    zone = (
        pl.when(pl.col("peak_pain") <= safe_max).then(pl.lit(ZONES[0]))
        .when(pl.col("peak_pain") <= acceptable_max).then(pl.lit(ZONES[1]))
        .otherwise(pl.lit(ZONES[2]))
    )
    return (
        sessions.filter(pl.col("pain").is_not_null())
        .group_by("participant", "date")
        .agg(pl.col("pain").max().alias("peak_pain"),
             pl.len().cast(pl.Int64).alias("sets_rated"))
        .with_columns(zone.alias("zone"))
        .sort("participant", "date")
    )


def zone_counts(zones: pl.DataFrame) -> pl.DataFrame:
    """Training days per pain-monitoring zone, every zone listed. Columns: zone, days, share."""
    counts = {z: 0 for z in ZONES}
    for z, n in zones.group_by("zone").len().iter_rows():
        counts[z] = int(n)
    total = sum(counts.values())
    return pl.DataFrame({
        "zone": list(ZONES),
        "days": list(counts.values()),
        "share": [(v / total) if total else None for v in counts.values()],
    }, schema={"zone": pl.String, "days": pl.Int64, "share": pl.Float64})


# --- training load ------------------------------------------------------------------------------

# --- Volume fallback when session RPE × minutes is missing (assumptions, not published norms) -----
# A controlled bodyweight back-extension repetition takes about 3 s (1.5 s up, 1.5 s down).
SECONDS_PER_REP = 3.0
# About one minute of rest follows each set in the protocol's 3-set blocks.
REST_SECONDS_PER_SET = 60.0
# When neither a session RPE nor any set RPE was logged: CR-10 "5" (hard), the protocol's usual effort.
ASSUMED_RPE = 5.0

LOAD_SOURCES = ("srpe", "volume_fallback", "missing")




def _col(df: pl.DataFrame, name: str, dtype: pl.DataType) -> pl.Expr:
    """The column if present, else a typed null column (optional columns of the sessions table)."""
    if name in df.columns:
        return pl.col(name).cast(dtype)
    return pl.lit(None, dtype=dtype).alias(name)


def session_loads(
    sessions: pl.DataFrame,
    *,
    seconds_per_rep: float = SECONDS_PER_REP,
    rest_seconds_per_set: float = REST_SECONDS_PER_SET,
    assumed_rpe: float = ASSUMED_RPE,
) -> pl.DataFrame:
    """One row per participant × date session with its training load (Foster 2001 session RPE).

    ``sessions`` holds one row per set (the canonical ``sessions`` table). ``session_rpe`` and
    ``duration_min`` are session-level: the first non-empty value of the day is used.

    Load, in arbitrary units (AU):

    - ``load_source = "srpe"``: ``session_rpe × duration_min`` (Foster 2001).
    - ``load_source = "volume_fallback"``: when either is missing, ``rpe × minutes`` where
      ``minutes = duration_min`` if logged, else ``(Σ hold_s + seconds_per_rep × Σ reps +
      rest_seconds_per_set × sets) / 60``; and ``rpe = session_rpe`` if logged, else the mean set
      ``rpe``, else ``assumed_rpe`` (CR-10 5). These are stated assumptions, not published values:
      a 3 s repetition, 60 s rest a set, RPE 5.
    - ``load_source = "missing"`` (load null): no duration and no reps or hold seconds were logged.

    Returns columns participant, date, n_sets, session_rpe, duration_min, rpe_used, minutes_used,
    load, load_source, sorted by participant and date.
    """
    require_columns(sessions, ["date"], "sessions")
    df = sessions.select(
        _col(sessions, "participant", pl.String()).fill_null(DEFAULT_PARTICIPANT),
        pl.col("date").cast(pl.Date()),
        _col(sessions, "reps", pl.Float64()),
        _col(sessions, "hold_s", pl.Float64()),
        _col(sessions, "rpe", pl.Float64()),
        _col(sessions, "session_rpe", pl.Float64()),
        _col(sessions, "duration_min", pl.Float64()),
    ).filter(pl.col("date").is_not_null())
    agg = (
        df.group_by("participant", "date")
        .agg(
            pl.len().alias("n_sets"),
            pl.col("session_rpe").drop_nulls().first().alias("session_rpe"),
            pl.col("duration_min").drop_nulls().first().alias("duration_min"),
            pl.col("rpe").mean().alias("set_rpe"),
            (pl.col("reps").fill_null(0).sum() * seconds_per_rep + pl.col("hold_s").fill_null(0).sum())
            .alias("active_s"),
        )
        .sort("participant", "date")
    )
    srpe = pl.col("session_rpe").is_not_null() & pl.col("duration_min").is_not_null()
    has_volume = pl.col("active_s") > 0
    minutes = (
        pl.when(pl.col("duration_min").is_not_null())
        .then(pl.col("duration_min"))
        .when(has_volume)
        .then((pl.col("active_s") + rest_seconds_per_set * pl.col("n_sets")) / 60.0)
        .otherwise(None)
    )
    rpe = pl.coalesce(pl.col("session_rpe"), pl.col("set_rpe"), pl.lit(float(assumed_rpe)))
    out = agg.with_columns(minutes.alias("minutes_used"), rpe.alias("rpe_used")).with_columns(
        (pl.col("rpe_used") * pl.col("minutes_used")).alias("load"),
        pl.when(srpe)
        .then(pl.lit("srpe"))
        .when(pl.col("minutes_used").is_not_null())
        .then(pl.lit("volume_fallback"))
        .otherwise(pl.lit("missing"))
        .alias("load_source"),
    )
    return out.select(
        "participant",
        "date",
        pl.col("n_sets").cast(pl.Int64()),
        "session_rpe",
        "duration_min",
        "rpe_used",
        "minutes_used",
        "load",
        "load_source",
    )


def daily_load(
    sessions: pl.DataFrame,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pl.DataFrame:
    """Daily training load, zero-filled: one row per participant and calendar day.

    ``sessions`` is either the per-set sessions table or the output of :func:`session_loads` (a
    frame with a ``load`` column). Sessions with a missing load count 0 and are counted in
    ``n_missing_load`` so the gap stays visible. Days run from ``start`` (default: the person's first
    session) to ``end`` (default: the last).

    Returns columns participant, day (date), load, n_sessions, n_missing_load.
    """
    sl = sessions if "load" in sessions.columns and "n_sets" in sessions.columns else None
    if sl is None:
        sl = session_loads(sessions)
    if "participant" not in sl.columns:
        sl = sl.with_columns(pl.lit(DEFAULT_PARTICIPANT).alias("participant"))
    schema = {"participant": pl.String(), "day": pl.Date(), "load": pl.Float64(),
              "n_sessions": pl.Int64(), "n_missing_load": pl.Int64()}
    if sl.height == 0 and (start is None or end is None):
        return pl.DataFrame(schema=schema)
    per_day = sl.group_by("participant", "date").agg(
        pl.col("load").fill_null(0.0).sum().alias("load"),
        pl.len().cast(pl.Int64()).alias("n_sessions"),
        pl.col("load").is_null().sum().cast(pl.Int64()).alias("n_missing_load"),
    ).rename({"date": "day"})
    people = sorted(per_day["participant"].unique().to_list()) or [DEFAULT_PARTICIPANT]
    frames = []
    for pid in people:
        mine = per_day.filter(pl.col("participant") == pid)
        lo = start or mine["day"].min()
        hi = end or mine["day"].max()
        if lo > hi:
            raise ValueError(f"daily_load: start {lo} is after end {hi}: give start ≤ end")
        days = pl.DataFrame({"day": pl.date_range(lo, hi, "1d", eager=True)})
        filled = days.join(mine.drop("participant"), on="day", how="left").with_columns(
            pl.col("load").fill_null(0.0),
            pl.col("n_sessions").fill_null(0),
            pl.col("n_missing_load").fill_null(0),
        )
        frames.append(filled.with_columns(pl.lit(pid).alias("participant")))
    return pl.concat(frames).select(list(schema)).cast(schema)


# --- helpers ------------------------------------------------------------------------------------


def _first_or_null(df: pl.DataFrame, col: str) -> pl.Expr:
    if col in df.columns:
        return pl.col(col).drop_nulls().first().alias(col)
    return pl.lit(None, dtype=pl.String).alias(col)


def _monday(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


def _check_target(target: float) -> None:
    if not isinstance(target, (int, float)) or not 0 < target <= 14 or math.isnan(target):
        raise ValueError(f"target={target!r} is not allowed: give sessions a week, > 0 and ≤ 14")


def _check_confidence(confidence: float) -> None:
    if not isinstance(confidence, float) or not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence!r} is not allowed: give a number between 0 and 1")
