"""Charts of the report pages that only those pages draw: the whole course (tests with the goal
and the curve, weekly pain with flares, sessions a week, phases shaded, questionnaires) and the
monthly "what was done" part (weekly volume by exercise family, training load with fitness and
fatigue), and the endurance curve drawn over the tested range only.

Altair charts built like those of :mod:`rehab.plots` (layers as Vega-Lite dicts, its palette,
widths and date conventions: ISO date strings on UTC scales); :func:`rehab.report.page.figure`
draws them to SVG.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from rehab import norms
from rehab.plots import (
    FLARE_COLOUR,
    OKABE_ITO,
    WIDTH,
    alt,
    field,
    kit_labels,
    mark_chart,
    test_label,
)

PHASE_FILLS = ("#e8f1f8", "#fdf0dc", "#e6f4ef", "#f7e6ef")  # light Okabe-Ito tints
MARKER = OKABE_ITO[0]


SHORT_SPAN_DAYS = 150  # a shorter course labels its axis by day, a longer one by month


def _utc(fld: str, title: str | None, *, fmt: str | None = None, domain=None) -> dict:
    scale = {"type": "utc"}
    if domain is not None:
        scale["domain"] = [d.isoformat() for d in domain]
        if fmt is None and (domain[1] - domain[0]).days < SHORT_SPAN_DAYS:
            fmt = "%d %b"
    fmt = fmt or "%b %Y"
    axis = {"format": fmt, "labelOverlap": True}
    if fmt == "%b %Y":  # a month label once a month (not "Apr 2026" at every tick Vega picks)
        axis["tickCount"] = {"interval": "month", "step": 1}
    return field(f"{fld}:T", title=title, scale=scale, axis=axis)


def _iso(*cols: str) -> list[pl.Expr]:
    return [pl.col(c).dt.strftime("%Y-%m-%d").alias(c) for c in cols]


def phase_layer(phases: pl.DataFrame, start: dt.date, end: dt.date) -> alt.LayerChart | None:
    """Phases as light bands behind a time chart, named at the top; None without phases."""
    ph = phases.filter(pl.col("start") <= end) if phases.height else phases
    if ph.height == 0:
        return None
    if "protocol_name" in ph.columns:
        ph = ph.with_columns(pl.col("protocol_name").alias("protocol"))
    names = ph["protocol"].unique(maintain_order=True).to_list()
    df = ph.sort("start").select(
        pl.max_horizontal(pl.col("start"), pl.lit(start)).dt.strftime("%Y-%m-%d").alias("from"),
        (pl.min_horizontal(pl.col("end").fill_null(end), pl.lit(end)) + pl.duration(days=1))
        .dt.strftime("%Y-%m-%d").alias("to"),
        (pl.col("protocol") + pl.when(pl.col("phase").is_not_null())
         .then(pl.lit(" (") + pl.col("phase") + pl.lit(")")).otherwise(pl.lit("")))
        .alias("phase_label"),
        pl.col("protocol"),
    )
    fills = [PHASE_FILLS[i % len(PHASE_FILLS)] for i in range(len(names))]
    x = field("from:T", scale={"type": "utc"})
    # fill, not color: the data layers keep the colour scale (and its one legend) to themselves
    band = mark_chart(None, {"type": "rect", "opacity": 1.0},
                      x=x, x2={"field": "to"},
                      fill=field("protocol:N", title="phase",
                                 scale={"domain": names, "range": fills},
                                 legend={"orient": "bottom", "symbolStrokeColor": "#999999"}))
    label = mark_chart(None, {"type": "text", "align": "left", "baseline": "top", "dx": 3,
                              "dy": 2, "fontSize": 10, "color": "#57606a"},
                       x=x, y={"value": 2}, text=field("phase_label:N"))
    return alt.LayerChart(df, layer=[band, label])


def _layered(layers: list, phases_layer, **props) -> alt.LayerChart:
    all_layers = ([phases_layer] if phases_layer is not None else []) + layers
    # the legends name phases (the user's protocol names) and tests: they keep the label limit
    return alt.LayerChart(layer=all_layers, width=WIDTH, config=kit_labels(legends=False),
                          **props)


# --- whole course -------------------------------------------------------------------------------


def course_tests_chart(series: pl.DataFrame, phases: pl.DataFrame, *, start: dt.date,
                       end: dt.date, curve: pl.DataFrame | None = None,
                       goal_s: float = norms.PROTOCOL_HOLD_GOAL_S) -> alt.LayerChart:
    """Every hold test's best per test day since the first log, the goal as a dashed line,
    phases shaded, and the Sorensen curve (``curve``: date, estimate over the tested range)."""
    df = series.filter(pl.col("unit") == "s")
    angle = df.group_by("test").agg(pl.col("bench_angle_deg").drop_nulls().first())
    labels = {r["test"]: test_label(r["test"], r["bench_angle_deg"])
              for r in angle.iter_rows(named=True)}
    df = df.select(*_iso("date"), "value",
                   pl.col("test").replace_strict(labels, default=pl.col("test")))
    x = _utc("date", "test date", domain=(start, end + dt.timedelta(days=1)))
    y = field("value:Q", title="hold time (s)", scale={"zero": True})
    goal = pl.DataFrame({"goal": [goal_s], "label": [f"goal: {goal_s:g} s hold"]})
    layers = [
        mark_chart(goal, {"type": "rule", "strokeDash": [6, 4], "color": "#333333"},
                   y=field("goal:Q")),
        mark_chart(goal, {"type": "text", "align": "right", "dy": -6, "fontSize": 11,
                          "color": "#333333"},
                   y=field("goal:Q"), text=field("label:N"), x={"value": WIDTH - 4}),
    ]
    if curve is not None and curve.height:
        c = curve.select(*_iso("date"), "estimate",
                         pl.lit("Sorensen curve (fitted)").alias("what"))
        layers.append(mark_chart(c, {"type": "line", "color": "#555555", "strokeWidth": 2,
                                     "opacity": 0.8},
                                 x=x, y=field("estimate:Q"),
                                 strokeDash=field("what:N", title=None,
                                                  legend={"orient": "bottom"})))
    colour = field("test:N", title="test", legend={"orient": "bottom", "columns": 3},
                   scale={"range": list(OKABE_ITO)})
    layers += [mark_chart(df, {"type": "line", "strokeWidth": 1.5}, x=x, y=y, color=colour),
               mark_chart(df, {"type": "point", "filled": True, "size": 45}, x=x, y=y,
                          color=colour)]
    return _layered(layers, phase_layer(phases, start, end), height=260,
                    title="Hold tests since the first log: best per test day")


def weekly_pain_chart(weekly: pl.DataFrame, phases: pl.DataFrame, *, start: dt.date,
                      end: dt.date) -> alt.LayerChart:
    """Weekly mean pain with its 95% band since the first log, flare weeks marked (one
    triangle a week with flares, its number of flare days as a label), phases shaded."""
    w = weekly.select(*_iso("week_start"), "pain_mean", "ci_low", "ci_high", "flare_days")
    x = _utc("week_start", "week", domain=(start, end + dt.timedelta(days=1)))
    y = field("pain_mean:Q", title="pain (NRS 0–10)", scale={"domain": [0, 10]})
    layers = [
        mark_chart(w.select("week_start", "ci_low", "ci_high"),
                   {"type": "area", "color": MARKER, "opacity": 0.15},
                   x=x, y=field("ci_low:Q", scale={"domain": [0, 10]}),
                   y2={"field": "ci_high"}),
        mark_chart(w.select("week_start", "pain_mean"),
                   {"type": "line", "color": MARKER, "strokeWidth": 2, "point": True}, x=x, y=y),
    ]
    fl = w.filter(pl.col("flare_days") > 0).select(
        "week_start", "flare_days", pl.lit("week with flares").alias("m"))
    if fl.height:
        layers.append(mark_chart(fl, {"type": "point", "shape": "triangle-down", "filled": True,
                                      "size": 80, "color": FLARE_COLOUR},
                                 x=x, y={"datum": 9.6},
                                 shape=field("m:N", title=None, legend={"orient": "bottom"},
                                             scale={"range": ["triangle-down"]})))
        layers.append(mark_chart(fl, {"type": "text", "dy": -10, "fontSize": 9,
                                      "color": FLARE_COLOUR},
                                 x=x, y={"datum": 9.6}, text=field("flare_days:Q")))
    return _layered(layers, phase_layer(phases, start, end), height=220,
                    title="Pain by week: mean of the daily means and its 95% band")


READINGS = {"met": "target met", "below": "below target", "not_over": "not logged to its end",
            "no_target": "no target", "before_start": "no target"}


def sessions_week_chart(weeks: list, phases: pl.DataFrame, *, start: dt.date,
                        end: dt.date) -> alt.LayerChart:
    """Training days in each ISO week (``weeks``: :class:`rehab.summary.WeekSummary`, judged
    as the month pages judge them) against the target in force that week (dashed), phases
    shaded; weeks with no target in one colour."""
    df = pl.DataFrame({
        "week_start": [w.week_start.isoformat() for w in weeks],
        "week_end": [(w.week_start + dt.timedelta(days=6)).isoformat() for w in weeks],
        "n_sessions": [w.sessions for w in weeks],
        "target": [w.target for w in weeks],
        "reading": [READINGS[w.status] for w in weeks]},
        schema={"week_start": pl.String, "week_end": pl.String, "n_sessions": pl.Int64,
                "target": pl.Float64, "reading": pl.String})
    x = _utc("week_start", "week", domain=(start, end + dt.timedelta(days=1)))
    # a day's headroom above the tallest bar or target: the phases' names sit at the top
    top = max([1.0, *(w.sessions for w in weeks), *(w.target or 0 for w in weeks)]) + 1
    y = field("n_sessions:Q", title="training days", scale={"domain": [0, top]})
    bars = mark_chart(df.drop("target"), {"type": "rect", "stroke": "white", "strokeWidth": 0.5},
                      x=x, x2={"field": "week_end"}, y=y, y2={"datum": 0},
                      color=field("reading:N", title=None, legend={"orient": "bottom"},
                                  scale={"domain": ["target met", "below target",
                                                    "not logged to its end", "no target"],
                                         "range": [OKABE_ITO[0], OKABE_ITO[1], "#bbbbbb",
                                                   OKABE_ITO[2]]}))
    layers = [bars]
    tg = df.filter(pl.col("target").is_not_null()).select("week_start", "week_end", "target")
    if tg.height:
        layers.append(mark_chart(tg, {"type": "rule", "strokeDash": [6, 4], "color": "#333333"},
                                 x=x, x2={"field": "week_end"},
                                 y=field("target:Q", scale={"domain": [0, top]})))
    title = ("Training days a week against the target in force" if tg.height
             else "Training days a week (no protocol in force: no target)")
    return _layered(layers, phase_layer(phases, start, end), height=180, title=title)


def questionnaire_chart(scores: pl.DataFrame, mic: dict[str, float]) -> alt.Chart:
    """One panel per instrument: each score over time, with the band of the important change
    around the first score (inside it: no important change yet)."""
    df = scores.select("instrument", *_iso("date"), "score")
    first = scores.sort("date").group_by("instrument", maintain_order=True).agg(
        pl.col("score").first().alias("first"))
    bands = first.with_columns(
        pl.col("instrument").replace_strict(mic, default=None, return_dtype=pl.Float64)
        .alias("mic")).filter(pl.col("mic").is_not_null()).select(
        "instrument", (pl.col("first") - pl.col("mic")).alias("low"),
        (pl.col("first") + pl.col("mic")).alias("high"))
    return _questionnaire_panels(df, bands)


def _questionnaire_panels(df: pl.DataFrame, bands: pl.DataFrame) -> alt.HConcatChart:
    panels = []
    for inst in df["instrument"].unique(maintain_order=True).to_list():
        d = df.filter(pl.col("instrument") == inst).drop("instrument")
        b = bands.filter(pl.col("instrument") == inst).drop("instrument")
        x = _utc("date", "date")
        y = field("score:Q", title=f"{inst.upper()} score", scale={"zero": True})
        layers = []
        if b.height:
            layers.append(mark_chart(b, {"type": "rect", "color": "#999999", "opacity": 0.18},
                                     y=field("low:Q"), y2={"field": "high"}))
        layers += [mark_chart(d, {"type": "line", "color": MARKER}, x=x, y=y),
                   mark_chart(d, {"type": "point", "filled": True, "size": 50,
                                  "color": MARKER}, x=x, y=y)]
        panels.append(alt.LayerChart(layer=layers, width=260, height=150, title=inst.upper()))
    return alt.HConcatChart(
        hconcat=panels, config=kit_labels(),
        title="Questionnaires; grey band: within the important change of the first score")


# --- what was done ------------------------------------------------------------------------------


def volume_chart(volume: pl.DataFrame, weeks: list[dt.date] | None = None) -> alt.HConcatChart:
    """Weekly volume by exercise family: repetitions (left) and hold seconds (right), stacked.
    ``volume``: week_start, family, reps, hold_s; ``weeks``: every week to show (Mondays), those
    without a set too, so a break shows as a gap (default: the weeks in ``volume``)."""
    df = volume.with_columns(pl.col("week_start").dt.strftime("%d %b").alias("week"))
    starts = sorted(set(weeks or []) | set(df["week_start"].to_list()))
    weeks = [f"{w:%d %b}" for w in starts]
    fams = sorted(df["family"].unique().to_list())
    colour = field("family:N", title="exercise family", legend={"orient": "bottom"},
                   scale={"domain": fams, "range": list(OKABE_ITO)})
    x = field("week:O", sort=weeks, scale={"domain": weeks}, title="week of",
              axis={"labelAngle": 0})
    size = {"width": WIDTH // 2 - 50, "height": 180}
    reps = mark_chart(df.filter(pl.col("reps") > 0).select("week", "family", "reps"), "bar",
                      x=x, y=field("reps:Q", aggregate="sum", title="repetitions"),
                      color=colour).properties(**size, title="Repetitions a week")
    hold = mark_chart(df.filter(pl.col("hold_s") > 0).select("week", "family", "hold_s"), "bar",
                      x=x, y=field("hold_s:Q", aggregate="sum", title="hold time (s)"),
                      color=colour).properties(**size, title="Hold seconds a week")
    # families are the kit's (rehab.exercises) or "other"
    return alt.HConcatChart(hconcat=[reps, hold], resolve={"scale": {"color": "shared"}},
                            config=kit_labels())


def load_chart(loads: pl.DataFrame, ff: pl.DataFrame, *, first: dt.date,
               last: dt.date) -> alt.LayerChart:
    """Each session's training load (bars, session RPE × minutes) and the fitness (42-day) and
    fatigue (7-day) averages of the daily load over the month."""
    dom = (first, last + dt.timedelta(days=1))
    x = _utc("date", "day", fmt="%d %b", domain=dom)
    s = loads.filter(pl.col("date").is_between(first, last)).select(*_iso("date"), "load")
    f = ff.filter(pl.col("day").is_between(first, last)).select(
        pl.col("day").dt.strftime("%Y-%m-%d").alias("date"),
        pl.col("ctl").alias(f"fitness ({norms.CTL_DAYS:g}-day average)"),
        pl.col("atl").alias(f"fatigue ({norms.ATL_DAYS:g}-day average)"),
    ).unpivot(index="date", variable_name="series", value_name="value")
    bars = mark_chart(s, {"type": "bar", "color": "#bbbbbb", "size": 6},
                      x=x, y=field("load:Q", title="training load (AU)"))
    lines = mark_chart(f, {"type": "line", "strokeWidth": 2}, x=x, y=field("value:Q"),
                       color=field("series:N", title=None, legend={"orient": "bottom"},
                                   scale={"range": [OKABE_ITO[0], OKABE_ITO[3]]}),
                       strokeDash=field("series:N", legend=None))
    return alt.LayerChart(
        layer=[bars, lines], width=WIDTH, height=200, config=kit_labels(),
        title="Training load: each session (bars), fitness and fatigue")


# --- endurance curve ----------------------------------------------------------------------------


def curve_chart(points: pl.DataFrame, pred: pl.DataFrame | None, *, title: str,
                targets: tuple[tuple[str, float], ...] = (), y_max: float | None = None,
                ) -> alt.LayerChart:
    """Tests (dots) and the fitted curve with its 95% band over the tested range only (no
    extrapolation). With ``y_max`` the band is cut at that height (the caller says why)."""
    pts = points.select(*_iso("date"), "value")
    x = field("date:T", title="test date", scale={"type": "utc"},
              axis={"format": "%b %Y", "labelOverlap": True,
                    "tickCount": {"interval": "month", "step": 1}})
    yscale = {"zero": True, **({"domain": [0, y_max]} if y_max else {})}
    layers = []
    if pred is not None and pred.height:
        p = pred.select(*_iso("date"), "estimate", "ci_low", "ci_high")
        if y_max:
            p = p.with_columns(pl.col("ci_high").clip(upper_bound=y_max),
                               pl.col("ci_low").clip(upper_bound=y_max))
        layers.append(mark_chart(p.select("date", "ci_low", "ci_high"),
                                 {"type": "area", "opacity": 0.2, "color": MARKER},
                                 x=x, y=field("ci_low:Q", title="hold time (s)", scale=yscale),
                                 y2={"field": "ci_high"}))
        layers.append(mark_chart(p.select("date", "estimate"), {"type": "line", "color": MARKER},
                                 x=x, y=field("estimate:Q", scale=yscale)))
    layers.append(mark_chart(pts, {"type": "point", "filled": True, "size": 60, "color": "black"},
                             x=x, y=field("value:Q", title="hold time (s)", scale=yscale)))
    shown = [(lab, v) for lab, v in targets if y_max is None or v <= y_max]
    if shown:
        tg = pl.DataFrame({"label": [lab for lab, _ in shown], "target": [v for _, v in shown]})
        layers.append(mark_chart(tg, {"type": "rule", "strokeDash": [4, 4], "color": "#555555"},
                                 y=field("target:Q", scale=yscale)))
        layers.append(mark_chart(tg, {"type": "text", "align": "left", "dx": 4, "dy": -6,
                                      "color": "#555555"},
                                 y=field("target:Q", scale=yscale), text=field("label:N"),
                                 x={"value": 0}))
    return alt.LayerChart(layer=layers, width=WIDTH - 60, height=260, title=title,
                          config=kit_labels())
