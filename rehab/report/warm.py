"""What a report kernel imports as it starts (:data:`rehab.report.kernels.WARM_LINE`), while the
command plans the batch: the modules a monthly page, a whole-course page and the index use, and
the chart converter's engine.

The JavaScript engine starts on a thread (about 0.4 s) while the modules are imported (not
statsmodels: no monthly section needs it, and its import, pandas included, took 0.6 s of every
single page's time). What is imported is then left out of the garbage collector's passes
(gc.freeze: the reset between pages collects, and went through every module's objects each time:
0.06 s of CPU a page; a page's own objects are collected as before).
"""

from __future__ import annotations

import threading

_SPEC = {"data": {"values": [{"x": 1}]}, "mark": "point",
         "encoding": {"x": {"field": "x", "type": "quantitative"}}}


def warm_up() -> None:
    """Import what the report pages need and start the chart engine."""
    import gc

    import vl_convert

    from rehab import _quick_imports

    engine = threading.Thread(target=vl_convert.vegalite_to_svg, args=(_SPEC,), daemon=True)
    engine.start()
    _quick_imports.apply()  # before altair's import: about 1 s (see the module)
    import rehab.adherence  # noqa: F401
    import rehab.compare  # noqa: F401
    import rehab.report.comparison  # noqa: F401
    import rehab.report.monthly  # noqa: F401

    engine.join()
    gc.freeze()
