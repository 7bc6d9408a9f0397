"""Tidy features from the canonical tables: sessions per day and week, month filters, calendar-strip
data, test series with month-on-month change, daily and weekly pain, flare days, pain-monitoring
zones. Small functions: a polars DataFrame in, a polars DataFrame out.

Statistics and their sources:

- **Session rate** per week with an exact Poisson interval (Garwood 1936): ``χ²(α/2, 2k)/2`` to
  ``χ²(1−α/2, 2k+2)/2`` sessions, divided by the weeks observed. Planned sessions are more regular
  than a Poisson process, so the interval is on the wide (cautious) side.
- **Month-on-month test change**: this month's best minus last month's best. Its 95% interval is
  ``change ± SRC`` with the smallest real change ``SRC = 1.96·√2·SEM`` (Latimer 1999): the spread
  of a difference of two single measurements. A change inside ``±SRC`` is called noise. Only tests
  with a published SEM are judged (the Sorensen hold, by pain group); the others are shown unjudged.
  A best of several attempts is biased upwards a little; both months share that bias.
- **Weekly pain**: mean of the daily means (each day weighs the same however many entries it has)
  with a t interval. Daily pain is serially correlated, so the interval is too narrow; it is a
  description, not a test.
- **Pain-monitoring zones** (Thomeé 1997; Silbernagel 2007): peak pain during a session's sets
  ``≤ safe_max`` safe, ``≤ acceptable_max`` acceptable, above that too much (bands from settings).
- **Month-on-month pain change**: difference of the monthly means of daily pain, compared with the
  minimal important change of 2 NRS points (Ostelo 2008).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math

import polars as pl
from scipy import special

from rehab import norms
from rehab.paths import check_month

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
    _need(df, [column], "in_month")
    return df.filter(pl.col(column).is_between(first, last))


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

    Load comes from :func:`rehab.models.load.session_loads` (session RPE × minutes, Foster 2001).
    Columns: participant, date, n_sets, minutes_used, load, load_source, protocol, phase."""
    from rehab.models.load import session_loads

    _need(sessions, ["participant", "date"], "sessions_per_day")
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
    target: float = 2.0,
    until: dt.date | None = None,
) -> pl.DataFrame:
    """One row per day of the ISO weeks covering ``month``, for a calendar strip.

    ``sessions`` and ``diary`` hold one participant; ``until`` is the last day the logs cover (the
    days after it are not yet logged, not missed). Columns: date, week_start, weekday (Monday 1),
    in_month, observed, trained, n_sets, flare (a self-reported flare that day), week_sessions
    (training days that week, whole week), target, week_complete (every day observed), week_met
    (target reached; null while an incomplete week has not reached it)."""
    _check_target(target)
    first, last = month_range(month)
    lo, hi = _monday(first), _monday(last) + dt.timedelta(days=6)
    days = pl.DataFrame({"date": pl.date_range(lo, hi, "1d", eager=True)})
    sets = (
        sessions.filter(pl.col("date").is_between(lo, hi))
        .group_by("date").agg(pl.len().cast(pl.Int64).alias("n_sets"))
    )
    out = days.join(sets, on="date", how="left").with_columns(pl.col("n_sets").fill_null(0))
    if diary is not None and "flare" in diary.columns:
        fl = diary.filter(pl.col("date").is_between(lo, hi)).group_by("date").agg(
            pl.col("flare").fill_null(False).any().alias("flare")
        )
        out = out.join(fl, on="date", how="left")
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.Boolean).alias("flare"))
    observed = pl.lit(True) if until is None else pl.col("date") <= until
    out = out.with_columns(
        week_start().alias("week_start"),
        pl.col("date").dt.weekday().cast(pl.Int64).alias("weekday"),
        pl.col("date").is_between(first, last).alias("in_month"),
        observed.alias("observed"),
        (pl.col("n_sets") > 0).alias("trained"),
        pl.col("flare").fill_null(False),
    ).with_columns(
        pl.col("trained").cast(pl.Int64).sum().over("week_start").alias("week_sessions"),
        pl.col("observed").all().over("week_start").alias("week_complete"),
    ).with_columns(
        pl.lit(float(target)).alias("target"),
        pl.when(pl.col("week_sessions") >= target).then(True)
        .when(pl.col("week_complete")).then(False).otherwise(None).alias("week_met"),
    )
    return out.select("date", "week_start", "weekday", "in_month", "observed", "trained", "n_sets",
                      "flare", "week_sessions", "target", "week_complete", "week_met").sort("date")


def session_rate(
    n_sessions: int, days: int, *, target: float = 2.0, confidence: float = 0.95
) -> pl.DataFrame:
    """Sessions per week over ``days`` days with an exact Poisson interval (Garwood 1936).

    Columns: term (sessions_per_week), estimate, ci_low, ci_high, target, n_sessions, weeks."""
    if not isinstance(n_sessions, int) or n_sessions < 0:
        raise ValueError(f"n_sessions={n_sessions!r} is not allowed: give a whole number ≥ 0")
    if not isinstance(days, int) or days < 1:
        raise ValueError(f"days={days!r} is not allowed: give a whole number of days ≥ 1")
    _check_confidence(confidence)
    _check_target(target)
    weeks = days / 7.0
    a = 1.0 - confidence
    # χ²(q, 2k)/2 is the q-quantile of a Gamma(k) variable: gammaincinv(k, q) (lighter than
    # importing scipy.stats in every report kernel)
    lo = 0.0 if n_sessions == 0 else special.gammaincinv(n_sessions, a / 2)
    hi = special.gammaincinv(n_sessions + 1, 1 - a / 2)
    return pl.DataFrame({
        "term": ["sessions_per_week"],
        "estimate": [n_sessions / weeks],
        "ci_low": [float(lo) / weeks],
        "ci_high": [float(hi) / weeks],
        "target": [float(target)],
        "n_sessions": [n_sessions],
        "weeks": [weeks],
    })


# --- endurance tests ----------------------------------------------------------------------------


def test_series(tests: pl.DataFrame, *, test_ids: list[str] | None = None) -> pl.DataFrame:
    """Test results over time, one row per test and day (the day's best attempt).

    Columns: participant, date, test, unit, value, attempts, bench_angle_deg, month."""
    _need(tests, ["participant", "date", "test", "value"], "test_series")
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


def monthly_best(
    tests: pl.DataFrame, month: str, *, src_group: str = norms.DEFAULT_SRC_GROUP
) -> pl.DataFrame:
    """Per test done this month: this month's best, last month's best and the change, judged
    against the smallest real change (see the module docstring).

    Columns: test, unit, best, attempts, best_date, previous_best, change, src, ci_low, ci_high,
    verdict (improved | declined | noise | no previous month | not judged)."""
    _need(tests, ["date", "test", "value"], "monthly_best")
    prev = previous_month(month)
    unit = pl.col("unit") if "unit" in tests.columns else pl.lit(None, dtype=pl.String)
    df = tests.with_columns(unit.alias("unit"))
    now = (
        in_month(df, month).sort("value", descending=True)
        .group_by("test", maintain_order=True)
        .agg(pl.col("unit").drop_nulls().first(), pl.col("value").first().alias("best"),
             pl.len().cast(pl.Int64).alias("attempts"), pl.col("date").first().alias("best_date"))
    )
    before = in_month(df, prev).group_by("test").agg(pl.col("value").max().alias("previous_best"))
    out = now.join(before, on="test", how="left").with_columns(
        (pl.col("best") - pl.col("previous_best")).alias("change"),
        pl.col("test").map_elements(lambda t: test_src(t, src_group=src_group),
                                    return_dtype=pl.Float64).alias("src"),
    )
    # a change at least as large as the SRC is real; 1e-9 keeps 132.1 − 100 (= 32.0999…) real
    real = pl.col("src") - 1e-9
    verdict = (
        pl.when(pl.col("previous_best").is_null()).then(pl.lit("no previous month"))
        .when(pl.col("src").is_null()).then(pl.lit("not judged"))
        .when(pl.col("change") >= real).then(pl.lit("improved"))
        .when(pl.col("change") <= -real).then(pl.lit("declined"))
        .otherwise(pl.lit("noise"))
    )
    return out.with_columns(
        (pl.col("change") - pl.col("src")).alias("ci_low"),
        (pl.col("change") + pl.col("src")).alias("ci_high"),
        verdict.alias("verdict"),
    ).select("test", "unit", "best", "attempts", "best_date", "previous_best", "change", "src",
             "ci_low", "ci_high", "verdict").sort("test")


# --- pain ---------------------------------------------------------------------------------------


def daily_pain(diary: pl.DataFrame) -> pl.DataFrame:
    """One row per participant and diary day.

    Columns: participant, date, pain_mean, pain_max, entries, flare (any entry says flare),
    spasm (any entry says spasm)."""
    _need(diary, ["participant", "date", "pain"], "daily_pain")
    flag = {c: (pl.col(c).fill_null(False).any() if c in diary.columns else pl.lit(False))
            for c in ("flare", "spasm")}
    return (
        diary.filter(pl.col("pain").is_not_null())  # entries of mood or sleep alone carry no pain
        .group_by("participant", "date")
        .agg(pl.col("pain").mean().alias("pain_mean"), pl.col("pain").max().alias("pain_max"),
             pl.len().cast(pl.Int64).alias("entries"),
             flag["flare"].alias("flare"), flag["spasm"].alias("spasm"))
        .sort("participant", "date")
    )


def _mean_sd_n(values: pl.Expr) -> list[pl.Expr]:
    """mean, sd and n as expressions; the t interval is added after aggregation."""
    n = values.count()
    sd = values.std()
    return [values.mean().alias("mean"), sd.alias("sd"), n.cast(pl.Int64).alias("n_days")]


def _add_t_interval(df: pl.DataFrame, confidence: float) -> pl.DataFrame:
    q = [float(special.stdtrit(n - 1, 0.5 + confidence / 2)) if n and n > 1 else None
         for n in df["n_days"].to_list()]
    half = pl.Series("q", q, dtype=pl.Float64) * df["sd"] / df["n_days"].cast(pl.Float64).sqrt()
    return df.with_columns(
        (pl.col("mean") - half).clip(0, 10).alias("ci_low"),
        (pl.col("mean") + half).clip(0, 10).alias("ci_high"),
    )


def weekly_pain(diary: pl.DataFrame, *, confidence: float = 0.95) -> pl.DataFrame:
    """Mean daily pain per ISO week with a t interval over the days (see the module docstring).

    Columns: participant, week_start, mean, sd, n_days, ci_low, ci_high, flare_days."""
    _check_confidence(confidence)
    daily = diary if "pain_mean" in diary.columns else daily_pain(diary)
    out = (
        daily.group_by("participant", week_start().alias("week_start"))
        .agg(*_mean_sd_n(pl.col("pain_mean")),
             pl.col("flare").cast(pl.Int64).sum().alias("flare_days"))
        .sort("participant", "week_start")
    )
    return _add_t_interval(out, confidence).select(
        "participant", "week_start", "mean", "sd", "n_days", "ci_low", "ci_high", "flare_days")


def monthly_pain(diary: pl.DataFrame, month: str, *, confidence: float = 0.95) -> pl.DataFrame:
    """Mean daily pain this month and last month, and the change against the minimal important
    change (2 NRS points, Ostelo 2008).

    Columns: month, mean, sd, n_days, ci_low, ci_high — one row per month (this, previous) that
    has diary days — plus, on this month's row, change and verdict (better | worse | below MIC)."""
    _check_confidence(confidence)
    daily = diary if "pain_mean" in diary.columns else daily_pain(diary)
    rows = []
    for m in (month, previous_month(month)):
        d = in_month(daily, m)
        if d.height:
            rows.append(d.select(pl.lit(m).alias("month"), *_mean_sd_n(pl.col("pain_mean"))))
    schema = {"month": pl.String, "mean": pl.Float64, "sd": pl.Float64, "n_days": pl.Int64}
    out = pl.concat(rows) if rows else pl.DataFrame(schema=schema)
    out = _add_t_interval(out.cast(schema), confidence)
    now = out.filter(pl.col("month") == month)["mean"]
    prev = out.filter(pl.col("month") == previous_month(month))["mean"]
    change = float(now[0] - prev[0]) if now.len() and prev.len() else None
    if change is None:
        verdict = None
    elif change <= -norms.MIC_NRS_POINTS:
        verdict = "better"
    elif change >= norms.MIC_NRS_POINTS:
        verdict = "worse"
    else:
        verdict = "below MIC"
    is_now = pl.col("month") == month
    return out.with_columns(
        pl.when(is_now).then(pl.lit(change, dtype=pl.Float64)).alias("change"),
        pl.when(is_now).then(pl.lit(verdict, dtype=pl.String)).alias("verdict"),
    )


def flare_days(diary: pl.DataFrame) -> pl.DataFrame:
    """Days with a self-reported flare (Costa 2019: logged, not inferred from the pain score).

    Columns: participant, date, pain_max, entries."""
    daily = daily_pain(diary)
    return daily.filter(pl.col("flare")).select("participant", "date", "pain_max", "entries")


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
    _need(sessions, ["participant", "date", "pain"], "pain_zones")
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


# --- helpers ------------------------------------------------------------------------------------


def _need(df: pl.DataFrame, cols: list[str], what: str) -> None:
    if not isinstance(df, pl.DataFrame):
        raise ValueError(f"{what}: expected a polars DataFrame, got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: column(s) {', '.join(missing)} missing; it needs "
                         f"{', '.join(cols)} (has {', '.join(df.columns) or 'none'})")


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
