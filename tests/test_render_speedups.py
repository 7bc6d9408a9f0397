"""The report's speed-ups change nothing a page shows: altair's reused schema table is altair's
own, the shortcuts in a day's set description give the texts written out by hand, and a kernel's
warm-up imports what a monthly page uses and nothing more."""

from __future__ import annotations

import subprocess
import sys

import polars as pl


def test_reused_schema_table_is_altairs_own():
    import altair as alt
    from altair.utils import schemapi

    from rehab import plots

    plots._reuse_schema_table()  # to_svg installs it at its first chart
    init = schemapi._FromDict.__init__
    assert getattr(init, "_rehab_reused", False)
    classes = tuple(schemapi.SchemaBase._default_wrapper_classes())
    fresh = object.__new__(schemapi._FromDict)
    init._rehab_original(fresh, classes)  # built anew, as altair does at every from_dict
    # a chart whose channels go through from_dict, twice: the second uses the kept table
    for _ in range(2):
        spec = (alt.Chart(alt.Data(values=[{"d": "2026-05-04", "v": 3}])).mark_line()
                .encode(x="d:T", y=alt.Y("v:Q", title="pain (0–10)"), color="v:N")
                .to_dict(validate=False))
        assert spec["encoding"] == {
            "x": {"field": "d", "type": "temporal"},
            "y": {"field": "v", "type": "quantitative", "title": "pain (0–10)"},
            "color": {"field": "v", "type": "nominal"},
        }
    kept = schemapi._FromDict(classes).class_dict
    assert {k: v for k, v in kept.items() if v} == dict(fresh.class_dict)


def _sets(*rows):
    return pl.DataFrame(
        [dict(zip(("set", "side", "reps", "hold_s", "load_kg", "set_type"), r, strict=True))
         for r in rows],
        schema={"set": pl.Int64, "side": pl.String, "reps": pl.Int64, "hold_s": pl.Float64,
                "load_kg": pl.Float64, "set_type": pl.String})


def test_sets_text_one_side_and_kinds_by_hand():
    from rehab.report.monthly import sets_text

    # one side, logged out of order: sorted by set, the warm-up apart, the side named last
    assert sets_text(_sets((2, "left", 12, None, None, "normal"),
                           (1, "left", 8, None, None, "warmup"))) == \
        "1 × 12 reps (+ warm-up 1 × 8 reps) (left)"
    # no normal set: only the named kinds, in SET_KINDS' order (failure before drop)
    assert sets_text(_sets((2, None, 6, None, None, "drop"),
                           (1, None, 10, None, None, "failure"))) == \
        "to failure 1 × 10 reps; drop set 1 × 6 reps"
    # two sides: in the order their first set comes
    assert sets_text(_sets((2, "left", 10, None, None, None),
                           (1, "right", 10, None, None, None),
                           (3, "right", 10, None, None, None))) == \
        "2 × 10 reps (right); 1 × 10 reps (left)"


def test_warm_up_imports_no_statsmodels_and_freezes():
    from rehab.report.kernels import WARM_LINE

    code = WARM_LINE + "\nimport gc, sys\nprint(any(m.startswith('statsmodels') for m in " \
                       "sys.modules), 'rehab.report.monthly' in sys.modules, gc.get_freeze_count() > 0)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         check=True).stdout.split()
    assert out == ["False", "True", "True"]


def test_the_report_command_reaches_its_kernel_before_any_data_library():
    """``rehab report`` starts (or attaches) its kernel at the top of render_all, and the kernel
    boots while the command imports polars and reads the data: the modules on the way there
    import no data library (a new process, so nothing is imported already)."""
    code = ("import sys, rehab.cli, rehab.report.render, rehab.report.kernels, rehab.paths\n"
            "print(sorted(m for m in ('polars', 'numpy', 'pandas', 'scipy', 'altair') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout.strip()
    assert out == "[]"
