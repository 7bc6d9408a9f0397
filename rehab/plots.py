"""Altair charts for the monthly report and the notebooks, and a static-SVG export.

Every chart is an Altair chart (``chart.to_dict()`` works, data inline, no remote URLs; its
layers written as Vega-Lite dicts, see :func:`mark_chart`) with titles and axis labels carrying
units. Dates are strings ``YYYY-MM-DD`` on UTC time scales, so a chart drawn on a machine in any
time zone shows the same days. :func:`to_svg` draws a chart to static SVG through vl-convert (no
JavaScript, no network) for self-contained HTML reports.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re

from rehab import _quick_imports

_quick_imports.apply()  # before altair (jsonschema) and scipy: see the module

import altair as alt  # noqa: E402
import polars as pl  # noqa: E402

from rehab import norms  # noqa: E402
from rehab.features import ZONES, month_range  # noqa: E402


def _reuse_schema_table() -> None:
    """Altair builds its table from schema hash to class anew at every ``from_dict`` (each
    ``encode`` channel given as a string or dict): about 570 schemas dumped to JSON and hashed
    each time, 0.1 s of a monthly page's 1 s. The table depends only on the classes, which are
    fixed once altair is imported, so it is built once per set of classes and reused (the
    charts, and their SVG, are the same). Called by :func:`to_svg` (nothing runs on import):
    every chart made after a page's first conversion gains, which in a kept report kernel is all
    but the first page's first chart. An altair without this private class is left alone."""
    from altair.utils import schemapi

    init = getattr(getattr(schemapi, "_FromDict", None), "__init__", None)
    if init is None or getattr(init, "_rehab_reused", False):
        return
    tables: dict[tuple, dict] = {}

    def reused(self, wrapper_classes, /) -> None:
        key = tuple(wrapper_classes)
        table = tables.get(key)
        if table is None:
            init(self, key)
            tables[key] = self.class_dict
        else:
            # looking up a missing hash adds an empty list (a defaultdict): harmless to share
            self.class_dict = table

    reused._rehab_reused = True
    reused._rehab_original = init  # altair's own, for the tests
    schemapi._FromDict.__init__ = reused


WIDTH = 620
# Okabe & Ito (2008), "Color Universal Design": eight colours told apart with every common colour
# vision deficiency. Categorical charts use them in this order (set in to_svg); named colours below.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
             "#000000")
ZONE_COLOURS = {"safe": "#009E73", "acceptable": "#E69F00", "too much": "#D55E00"}
ZONE_FILLS = {"safe": "#dff2ec", "acceptable": "#fcefd4", "too much": "#f8e0d2"}
SESSION_COLOURS = {"session": "#0072B2", "no session": "#e8e8e8", "not logged yet": "#f6efdc",
                   "before the start": "#f7f7f7", "other month": "#ffffff"}
FLARE_COLOUR = "#D55E00"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

_ids = itertools.count(1)


TEST_LABELS = {
    "sorensen_hold": "Sorensen hold",
    "back_extension_hold": "back-extension hold",
    "back_extension_reps": "back-extension reps",
    "side_bridge_left": "side bridge, left",
    "side_bridge_right": "side bridge, right",
    "flexor_hold": "flexor hold",
    "split_squat_hold_left": "split-squat hold, left",
    "split_squat_hold_right": "split-squat hold, right",
}


def test_label(test: str, bench_angle_deg: float | None = None) -> str:
    """A readable name for a test id (custom ids: underscores become spaces), with its bench
    angle when inclined."""
    label = TEST_LABELS.get(test, test.replace("_", " "))
    if bench_angle_deg:
        label += f" ({bench_angle_deg:g}°)"
    return label


def _iso(col: str) -> pl.Expr:
    return pl.col(col).dt.strftime("%Y-%m-%d").alias(col)


# --- building blocks ----------------------------------------------------------------------------
# A layer's mark and channels are Vega-Lite dicts inside altair's chart classes, and layers are
# put together in one step (no ``+``, ``.properties`` or ``transform_*`` chains): altair
# deep-copies every nested channel object (axis, scale, legend ...) at each layering or
# concatenation and matches a condition against the whole schema at ``encode``: a third of a
# monthly page's chart time, the calendar alone 0.05 s. Dicts copy cheaply. The charts stay
# altair charts, and the tests check every one against the Vega-Lite schema (``to_dict()``
# validates).

_TYPES = {"Q": "quantitative", "T": "temporal", "O": "ordinal", "N": "nominal"}


def field(shorthand: str, **props) -> dict:
    """A Vega-Lite field channel from altair's shorthand ``"name:T"`` (Q, T, O or N) and its
    properties: ``field("date:T", title="day")``."""
    name, _, kind = shorthand.rpartition(":")
    return {"field": name, "type": _TYPES[kind], **props}


def mark_chart(data: pl.DataFrame | None, mark: dict | str, **channels) -> alt.Chart:
    """One layer: ``mark`` (``"bar"``, ``{"type": "rect", ...}``) drawn from ``data`` (None: the
    data of the chart it is layered in) with ``channels`` (see :func:`field`). Give it only the
    columns it draws: altair embeds every column of the frame in the spec."""
    return alt.Chart(alt.Undefined if data is None else data, mark=mark,
                     encoding=alt.FacetedEncoding(**channels))


def kit_labels(*, legends: bool = True) -> dict:
    """Chart config saying the axis (and legend) labels are the kit's own words, dates and
    numbers: no length limit. Vega cuts an axis label at 180 px and a legend label at 160 px, and
    measures every label once more to check, up to a fifth of the time to draw a chart; labels
    like these never come near the limit, so the chart is drawn the same, faster.
    ``legends=False`` where a legend shows names from the person's data (custom tests,
    protocols), which keep the limit."""
    config: dict = {"axis": {"labelLimit": 0}}
    if legends:
        config["legend"] = {"labelLimit": 0}
    return config


def _x_date(fld: str, title: str, month: str | None = None, **kw) -> dict:
    """A date x axis on a UTC scale (the month's range when given). A UTC scale also formats its
    labels in UTC (an explicit ``formatType="utc"`` would make Vega drop ``format``)."""
    scale = {"type": "utc"}
    if month is not None:
        first, last = month_range(month)
        scale["domain"] = [first.isoformat(), (last + dt.timedelta(days=1)).isoformat()]
    return field(f"{fld}:T", title=title, scale=scale,
                 axis={"format": "%d %b", "labelOverlap": True}, **kw)


# --- sessions -----------------------------------------------------------------------------------


def calendar_chart(strip: pl.DataFrame, *, title: str | None = None) -> alt.HConcatChart:
    """The month as a calendar: a row per week, a cell per day, training days filled, flare days
    marked, and each week's training days against the target on the right.

    ``strip`` comes from :func:`rehab.features.calendar_strip`."""
    # no target (no protocol set): weeks are counted, not judged; days before the start: not missed
    target = (float(strip["target"][0]) if strip.height and strip["target"][0] is not None
              else None)
    started = pl.col("started") if "started" in strip.columns else pl.lit(True)
    df = strip.with_columns(
        pl.col("week_start").dt.strftime("%d %b").alias("week"),  # the week's Monday
        pl.col("weekday").replace_strict(dict(enumerate(WEEKDAYS, 1))).alias("day"),
        pl.col("date").dt.day().cast(pl.String).alias("day_of_month"),
        pl.when(~pl.col("in_month")).then(pl.lit("other month"))
        .when(pl.col("trained")).then(pl.lit("session"))
        .when(~started).then(pl.lit("before the start"))
        .when(~pl.col("observed")).then(pl.lit("not logged yet"))
        .otherwise(pl.lit("no session")).alias("status"),
    )
    weeks = df["week"].unique(maintain_order=True).to_list()
    x = field("day:O", sort=list(WEEKDAYS), title=None,
              axis={"orient": "top", "ticks": False, "domain": False, "labelAngle": 0})
    y = field("week:O", sort=weeks, title="week of",
              axis={"labelPadding": 6, "ticks": False, "domain": False})
    cells = mark_chart(None, {"type": "rect", "stroke": "#bbbbbb", "strokeWidth": 1}, x=x, y=y,
                       color=field("status:N", title="day",
                                   scale={"domain": list(SESSION_COLOURS),
                                          "range": list(SESSION_COLOURS.values())},
                                   legend={"orient": "bottom", "symbolStrokeColor": "#bbbbbb",
                                           "columns": 2}))
    numbers = mark_chart(
        None, {"type": "text", "fontSize": 12, "dx": -10, "dy": -9}, x=x, y=y,
        text=field("day_of_month:N"),
        color={"condition": {"test": "datum.status == 'session'", "value": "white"},
               "value": "#555555"},
        opacity={"condition": {"test": "datum.in_month", "value": 1.0}, "value": 0.35},
    )
    flare_days = df.filter(pl.col("flare") & pl.col("in_month")).select(
        "day", "week", pl.lit("flare day").alias("flare_mark"))
    flares = mark_chart(
        flare_days, {"type": "point", "shape": "triangle-up", "filled": True, "size": 70,
                     "color": FLARE_COLOUR, "yOffset": 6}, x=x, y=y,
        shape=field("flare_mark:N", title=None,
                    scale={"domain": ["flare day"], "range": ["triangle-up"]},
                    legend={"orient": "bottom"}))
    grid = alt.LayerChart(df.select("day", "week", "day_of_month", "status", "in_month"),
                          layer=[cells, numbers, flares], width=7 * 44, height=len(weeks) * 44)
    # a week whose Thursday lies in the next (or last) month is judged on that month's page: here
    # it is counted, in grey, so the month's weeks are the ones its table lists
    of_month = (pl.col("week_of_month") if "week_of_month" in strip.columns else pl.lit(True))
    per_week = df.group_by("week", maintain_order=True).agg(
        pl.col("week_sessions").first(), pl.col("week_met").first(), pl.col("observed").any(),
        started.any().alias("started"), of_month.first().alias("of_month"),
    ).select(
        "week",
        pl.when(pl.col("observed"))
        .then(pl.col("week_sessions").cast(pl.String)
              + pl.lit(f" of {target:g}" if target is not None else ""))
        .otherwise(pl.lit("–")).alias("label"),
        pl.when(~pl.col("started")).then(pl.lit("before the start"))
        .when(~pl.col("of_month")).then(pl.lit("judged in the other month"))
        .when(pl.lit(target is None)).then(pl.lit("no target"))
        .when(pl.col("week_met")).then(pl.lit("target met"))
        .when(pl.col("week_met").is_null()).then(pl.lit("not logged to its end"))
        .otherwise(pl.lit("below target")).alias("met"),
    )
    totals = mark_chart(
        per_week, {"type": "text", "align": "left", "fontSize": 12, "dx": -16},
        y=field("week:O", sort=weeks, axis=None), text=field("label:N"),
        color=field("met:N", title="week",
                    scale={"domain": ["target met", "below target", "not logged to its end", "no target",
                                      "before the start", "judged in the other month"],
                           "range": ["#009E73", "#D55E00", "#777777", "#333333", "#aaaaaa",
                                     "#aaaaaa"]},
                    legend={"orient": "bottom", "columns": 1}),
    ).properties(width=72, height=len(weeks) * 44,
                 title={"text": "sessions / week", "fontSize": 11, "fontWeight": "normal"})
    return alt.HConcatChart(
        hconcat=[grid, totals], spacing=4, resolve={"scale": {"color": "independent"}},
        title=title or (f"Training days against the target of {target:g} a week"
                        if target is not None else "Training days (no target: no protocol set)"),
        config={**kit_labels(), "view": {"stroke": None}},
    )


# --- endurance tests ----------------------------------------------------------------------------


def test_series_chart(
    series: pl.DataFrame,
    *,
    month: str | None = None,
    unit: str = "s",
    title: str | None = None,
    goal_s: float | None = norms.PROTOCOL_HOLD_GOAL_S,
) -> alt.LayerChart:
    """Each test's best result per test day over time (one line per test), the report month
    shaded, and for holds the protocol's 2-minute goal as a dashed line.

    ``series`` comes from :func:`rehab.features.test_series`; only rows in ``unit`` are drawn."""
    if unit not in ("s", "reps"):
        raise ValueError(f"unit={unit!r} is not allowed: use 's' or 'reps'")
    df = series.filter(pl.col("unit") == unit)
    angle = df.group_by("test").agg(pl.col("bench_angle_deg").drop_nulls().first())
    labels = {r["test"]: test_label(r["test"], r["bench_angle_deg"])
              for r in angle.iter_rows(named=True)}
    df = df.select(_iso("date"), "value",
                   pl.col("test").replace_strict(labels, default=pl.col("test")))
    what = "hold time (s)" if unit == "s" else "repetitions"
    layers = []
    if month is not None:
        first, last = month_range(month)
        band = pl.DataFrame({"start": [first.isoformat()],
                             "end": [(last + dt.timedelta(days=1)).isoformat()]})
        layers.append(mark_chart(band, {"type": "rect", "color": "#fff3bf", "opacity": 0.8},
                                 x=field("start:T", scale={"type": "utc"}), x2={"field": "end"}))
    if unit == "s" and goal_s is not None:
        goal = pl.DataFrame({"goal": [goal_s], "label": [f"{goal_s:g} s hold goal"]})
        layers.append(mark_chart(goal, {"type": "rule", "strokeDash": [6, 4],
                                        "color": "#555555"}, y=field("goal:Q")))
        layers.append(mark_chart(goal, {"type": "text", "align": "left", "dx": 4, "dy": -6,
                                        "color": "#555555", "fontSize": 11},
                                 y=field("goal:Q"), text=field("label:N"), x={"value": 0}))
    line = {
        "x": field("date:T", title="test date", scale={"type": "utc"},
                   axis={"format": "%b %Y", "labelOverlap": True,
                         "tickCount": {"interval": "month", "step": 1}}),
        "y": field("value:Q", title=what, scale={"zero": True}),
        "color": field("test:N", title="test", legend={"orient": "right"}),
    }
    layers += [mark_chart(df, {"type": "line", "strokeWidth": 1.5}, **line),
               mark_chart(df, {"type": "point", "filled": True, "size": 40}, **line)]
    return alt.LayerChart(
        layer=layers, width=WIDTH - 140, height=260,
        title=title or ("Endurance tests: best hold per test day" if unit == "s"
                        else "Repetition tests: best per test day"),
        config=kit_labels(legends=False),  # test names: custom ones may be long
    )


# --- pain ---------------------------------------------------------------------------------------


def pain_chart(
    daily: pl.DataFrame,
    weekly: pl.DataFrame,
    *,
    month: str,
    title: str | None = None,
) -> alt.LayerChart:
    """Daily mean pain (dots), weekly means with their 95% interval (thick lines and bands), and
    flare days (red triangles) over the month. From :func:`rehab.features.daily_pain` and
    :func:`rehab.features.weekly_pain`."""
    first, last = month_range(month)
    d = daily.filter(pl.col("date").is_between(first, last))
    days = d.select(_iso("date"), "pain")
    flare_days = d.filter(pl.col("flare")).select(_iso("date"))
    w = weekly.filter(
        (pl.col("week_start") + pl.duration(days=6) >= first) & (pl.col("week_start") <= last)
    ).select(
        pl.max_horizontal(pl.col("week_start"), pl.lit(first)).dt.strftime("%Y-%m-%d")
        .alias("from"),
        (pl.min_horizontal(pl.col("week_start") + pl.duration(days=6), pl.lit(last))
         + pl.duration(days=1)).dt.strftime("%Y-%m-%d").alias("to"),
        "ci_low", "ci_high", "pain_mean", pl.lit("weekly mean (95% CI)").alias("what"),
    )
    y_scale = {"domain": [0, 10]}
    day_x = _x_date("date", "day", month, bandPosition=0.5)
    pain_y = field("pain:Q", title="pain (NRS 0–10)", scale=y_scale)
    # one shared legend for dots and flare triangles: same domain and ranges in both layers
    marks = ["daily mean", "flare day"]
    shape = field("mark:N", title=None, legend={"orient": "bottom"},
                  scale={"domain": marks, "range": ["circle", "triangle-down"]})
    colour = field("mark:N", title=None, legend={"orient": "bottom"},
                   scale={"domain": marks, "range": ["#3182bd", FLARE_COLOUR]})
    week_x = {"x": field("from:T", scale={"type": "utc"}), "x2": {"field": "to"}}
    layers = [
        mark_chart(w, {"type": "rect", "color": "#08519c", "opacity": 0.14}, **week_x,
                   y=field("ci_low:Q", scale=y_scale), y2={"field": "ci_high"}),
        mark_chart(days, {"type": "line", "color": "#6baed6", "strokeWidth": 1, "opacity": 0.6},
                   x=day_x, y=pain_y),
        mark_chart(days.with_columns(pl.lit("daily mean").alias("mark")),
                   {"type": "point", "filled": True, "size": 36}, x=day_x, y=pain_y,
                   shape=shape, color=colour),
        mark_chart(w, {"type": "rule", "color": "#08519c", "strokeWidth": 3}, **week_x,
                   y=field("pain_mean:Q", scale=y_scale),
                   strokeDash=field("what:N", title=None, legend={"orient": "bottom"})),
        mark_chart(flare_days.with_columns(pl.lit("flare day").alias("mark")),
                   {"type": "point", "filled": True, "size": 70}, x=day_x, y={"datum": 9.6},
                   shape=shape, color=colour),
    ]
    return alt.LayerChart(
        layer=layers, width=WIDTH, height=220,
        title=title or "Pain by day (daily mean of diary entries) and weekly means",
        config=kit_labels(),
    )


def pain_zones_chart(
    zones: pl.DataFrame,
    *,
    month: str,
    safe_max: float = norms.PAIN_SAFE_MAX,
    acceptable_max: float = norms.PAIN_ACCEPTABLE_MAX,
    title: str | None = None,
) -> alt.LayerChart:
    """Peak pain during each training day's sets against the pain-monitoring zones (Thomeé 1997):
    shaded bands safe / acceptable / too much, one dot per training day.

    ``zones`` comes from :func:`rehab.features.pain_zones`."""
    first, last = month_range(month)
    z = zones.filter(pl.col("date").is_between(first, last)).select(
        _iso("date"), "peak_pain", "zone")
    bands = pl.DataFrame({
        "zone": list(ZONES),
        "low": [0.0, safe_max, acceptable_max],
        "high": [safe_max, acceptable_max, 10.0],
        "label": [f"safe (0–{safe_max:g})", f"acceptable (≤ {acceptable_max:g})",
                  f"too much (> {acceptable_max:g})"],
    }).with_columns(((pl.col("low") + pl.col("high")) / 2).alias("mid"))  # the labels' height
    y_scale = {"domain": [0, 10]}
    fill = mark_chart(bands, {"type": "rect"}, y=field("low:Q", scale=y_scale),
                      y2={"field": "high"},
                      color=field("zone:N", legend=None,
                                  scale={"domain": list(ZONES),
                                         "range": [ZONE_FILLS[k] for k in ZONES]}))
    # zone names right of the plot, where no dot can hide them
    labels = mark_chart(bands, {"type": "text", "align": "left", "baseline": "middle", "dx": 6,
                                "fontSize": 11, "color": "#555555"},
                        y=field("mid:Q", scale=y_scale), text=field("label:N"),
                        x={"value": WIDTH - 120})
    dots = mark_chart(z, {"type": "point", "filled": True, "size": 80, "stroke": "#333333",
                          "strokeWidth": 0.6},
                      x=_x_date("date", "training day", month),
                      y=field("peak_pain:Q", title="peak pain during the sets (NRS 0–10)",
                              scale=y_scale),
                      color=field("zone:N", title="zone", legend={"orient": "bottom"},
                                  scale={"domain": list(ZONES),
                                         "range": [ZONE_COLOURS[k] for k in ZONES]}))
    return alt.LayerChart(
        layer=[fill, labels, dots], width=WIDTH - 120, height=200,
        resolve={"scale": {"color": "independent"}},
        title=title or "Pain during training: peak set pain per training day",
        config=kit_labels(),
    )


# --- static SVG ---------------------------------------------------------------------------------

_ID_ATTR = re.compile(r'\bid="([^"]+)"')


def to_svg(chart: alt.TopLevelMixin, *, prefix: str | None = None) -> str:
    """The chart drawn as a static SVG string by vl-convert (no JavaScript, no network).

    Element ids inside the SVG (clip paths, gradients) get a unique ``prefix`` so several charts
    inlined in one HTML page do not pick up each other's clip paths."""
    import vl_convert as vlc

    _reuse_schema_table()
    # the spec is not validated again here: that takes longer than drawing it, and the tests
    # validate every chart the kit makes
    spec = chart.to_dict(validate=False)
    # the colour-blind-safe palette for every categorical colour the chart does not set itself
    spec.setdefault("config", {}).setdefault("range", {}).setdefault("category", list(OKABE_ITO))
    svg = vlc.vegalite_to_svg(spec)
    prefix = prefix or f"c{next(_ids)}"
    ids = set(_ID_ATTR.findall(svg))
    for i in sorted(ids, key=len, reverse=True):
        new = f"{prefix}-{i}"
        svg = (svg.replace(f'id="{i}"', f'id="{new}"')
               .replace(f"url(#{i})", f"url(#{new})")
               .replace(f'href="#{i}"', f'href="#{new}"'))
    return svg
