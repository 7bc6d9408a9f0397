"""Running report templates on Jupyter kernels: the template and its parameters (checked against
its ``parameters`` cell: papermill only warns), papermill's parameter injection, and a kernel kept
for many pages (:class:`Kernel`: started and warmed once, reset between pages, replaced when a
page hangs or kills it). Used by the monthly batch (:mod:`rehab.report.render`) and the comparison
page (:mod:`rehab.report.comparison`)."""

from __future__ import annotations

import contextlib
import copy
import re
import time
from pathlib import Path

from rehab.paths import ProjectPaths
from rehab.report import ReportError

TEMPLATE_NAME = "monthly-report.ipynb"
KIT_TEMPLATE = Path(__file__).resolve().parents[2] / "notebooks" / "templates" / TEMPLATE_NAME
KERNEL = "python3"
PAGE_TIMEOUT_S = 600.0  # a page still running after this is stopped and its kernel replaced
RECYCLE_PAGES = 250  # a kept kernel is replaced after this many pages: memory stays bounded


class _CellFailure(Exception):
    def __init__(self, cell: str, error: str):
        super().__init__(f"{cell}: {error}")
        self.cell, self.error = cell, error


# --- the template and its parameters -------------------------------------------------------------


def template_path(paths: ProjectPaths, name: str = TEMPLATE_NAME) -> Path:
    """The project's own ``notebooks/templates/<name>`` (default ``monthly-report.ipynb``) if
    there is one, else the kit's."""
    own = paths.root / "notebooks" / "templates" / name
    kit = KIT_TEMPLATE.parent / name
    if own.is_file():
        return own
    if kit.is_file():
        return kit
    raise ReportError(f"the report template {name} was found neither in {own.parent} nor "
                      f"in {kit.parent}")


def template_parameters(template: Path) -> dict[str, dict]:
    """The parameters declared in the template's cell tagged ``parameters`` (papermill's parser)."""
    _quick_jsonschema()
    import papermill

    return dict(papermill.inspect_notebook(str(template)))


def check_parameters(template: Path, params: dict) -> None:
    """ReportError unless ``params`` names exactly the template's parameters."""
    declared = template_parameters(template)
    if not declared:
        raise ReportError(f"{template}: no cell tagged 'parameters' declares the report's "
                          "parameters")
    unknown = sorted(set(params) - set(declared))
    missing = sorted(set(declared) - set(params))
    if unknown or missing:
        msg = [f"{template.name}: parameters do not match the template's parameters cell"]
        if unknown:
            msg.append(f"unknown: {', '.join(unknown)}")
        if missing:
            msg.append(f"missing: {', '.join(missing)}")
        msg.append(f"declared: {', '.join(declared)}")
        raise ReportError("; ".join(msg))


# --- kernels -------------------------------------------------------------------------------------

# The kernel's own log (a loopback-TCP warning at start, a "KeyboardInterrupt caught" when
# jupyter_client interrupts it at shutdown) is noise on the user's terminal; a failing cell is
# reported from the notebook, a dead kernel by jupyter_client. No input history is kept (a page
# is not an interactive session: the history database only costs time).
KERNEL_ARGS = ["--IPKernelApp.log_level=CRITICAL", "--HistoryManager.enabled=False"]
# Between two pages on one kernel: every name the previous page defined goes, and the execution
# count starts again (the imported modules stay: that is what keeping the kernel is for).
RESET_CODE = "get_ipython().reset(new_session=True)"
# Run once when a kernel starts, while the caller plans the batch: the chart converter's
# JavaScript engine starts on a thread (about 0.4 s) while the modules a monthly page uses are
# imported (not statsmodels: no monthly section needs it, and its import, pandas included, took
# 0.6 s of every single page's time). What is imported is then left out of the garbage
# collector's passes (gc.freeze: the reset between pages collects, and went through every
# module's objects each time: 0.06 s of CPU a page; a page's own objects are collected as before).
WARM_CODE = """\
import threading as _rehab_t
import vl_convert as _rehab_v
_rehab_w = _rehab_t.Thread(target=_rehab_v.vegalite_to_svg, args=({
    "data": {"values": [{"x": 1}]}, "mark": "point",
    "encoding": {"x": {"field": "x", "type": "quantitative"}}},), daemon=True)
_rehab_w.start()
import rehab.report.monthly, rehab.adherence, rehab.compare, rehab.report.comparison
import altair, scipy.stats
_rehab_w.join()
import gc as _rehab_gc
_rehab_gc.freeze()
"""


def _quick_jsonschema() -> None:
    """Skip a grammar compiled at import that no notebook needs (see :mod:`rehab._quick_imports`)."""
    from rehab import _quick_imports

    _quick_imports.skip_iri_grammar()


def _cell_name(template: Path, source: str) -> str:
    """'section “Endurance tests”, cell 7: report.endurance()' for a failing cell's source (the
    cell's last line: where a short cell's error usually is)."""
    import nbformat

    nb = nbformat.read(template, as_version=4)
    heading = None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            m = re.search(r"^#+\s*(.+)$", cell.source, re.MULTILINE)
            heading = m.group(1).strip() if m else heading
        elif cell.source.strip() == (source or "").strip():
            last = cell.source.strip().splitlines()[-1].strip() if cell.source.strip() else ""
            where = f"section “{heading}”, " if heading else ""
            return f"{where}cell {i + 1}: {last}"
    lines = (source or "").strip().splitlines()
    return f"cell: {lines[-1].strip() if lines else '(empty)'}"


_templates: dict[tuple[str, int, frozenset], object] = {}


def _parameterized(template: Path, params: dict):
    """The template (read and its parameters checked once per process) with papermill's
    injected-parameters cell."""
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    key = (str(template), template.stat().st_mtime_ns, frozenset(params))
    if key not in _templates:
        check_parameters(template, params)
        _templates[key] = load_notebook_node(str(template))
    # a copy: papermill fills the notebook it is given, and pages run at once on several kernels
    nb = parameterize_notebook(copy.deepcopy(_templates[key]), params, kernel_name=KERNEL,
                               language="python")
    for cell in nb.cells:  # papermill gives its cell a random id, which the page would carry
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.id = "injected-parameters"
    return nb


class Kernel:
    """One Jupyter kernel kept for many pages: started and warmed once, reset between pages,
    replaced when a page hangs or kills it, and after :data:`RECYCLE_PAGES` pages."""

    def __init__(self, cwd: Path, *, warm: bool = True) -> None:
        import asyncio

        self.cwd, self.warm = Path(cwd), warm
        self.loop = asyncio.new_event_loop()
        self.km = self.kc = None
        self.pages = 0
        self._pending: str | None = None  # the warm-up's request
        self._reset: str | None = None  # a reset sent after the last page
        self.start()

    def _run(self, coro):
        import asyncio

        asyncio.set_event_loop(self.loop)
        return self.loop.run_until_complete(coro)

    def start(self) -> None:
        """Launch the kernel and send it the warm-up code without waiting for it: it runs while
        the caller goes on (planning, fingerprints)."""
        from jupyter_client.manager import AsyncKernelManager

        self.km = AsyncKernelManager(kernel_name=KERNEL)
        self._run(self.km.start_kernel(cwd=str(self.cwd), extra_arguments=KERNEL_ARGS))
        self.kc = self.km.client()
        self.kc.start_channels()
        self.pages = 0
        self._reset = None
        self._pending = self.kc.execute(WARM_CODE, silent=True, store_history=False) \
            if self.warm else None

    async def _reply(self, msg_id: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            msg = await self.kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg

    def _wait(self, msg_id: str, timeout: float, what: str) -> None:
        import queue

        try:
            reply = self._run(self._reply(msg_id, timeout))
        except (queue.Empty, TimeoutError):
            raise _CellFailure("setup", f"the kernel did not finish {what} in {timeout:g} s") \
                from None
        if reply["content"].get("status") != "ok":
            c = reply["content"]
            raise _CellFailure("setup", f"{what} failed: {c.get('ename')}: {c.get('evalue')}")

    def ready(self, timeout: float) -> None:
        """Wait for the warm-up (a kernel that cannot import the kit fails here), then clear
        the namespace."""
        if self._pending:  # a failing import shows again, and is reported, in the page itself
            msg_id, self._pending = self._pending, None
            with contextlib.suppress(_CellFailure):
                self._wait(msg_id, timeout, "its warm-up (importing the report modules)")
        msg_id, self._reset = self._reset, None
        self._wait(msg_id or self.kc.execute(RESET_CODE, silent=True, store_history=False),
                   timeout, "resetting its namespace")

    def _reset_soon(self) -> None:
        """Send the reset now, wait for it before the next page: it runs while this page is
        exported."""
        self._reset = self.kc.execute(RESET_CODE, silent=True, store_history=False)

    def run(self, template: Path, params: dict, *, timeout: float = PAGE_TIMEOUT_S):
        """Execute the template with ``params`` on this kernel and return the notebook.
        _CellFailure names a failing cell; a page past ``timeout`` seconds (or one that kills
        the kernel) fails and the kernel is replaced."""
        _quick_jsonschema()  # before nbclient imports nbformat: 1-4 s saved on a cold start
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

        if self.pages >= RECYCLE_PAGES:
            self.replace()
        deadline = time.monotonic() + timeout
        nb = _parameterized(template, params)
        self.ready(timeout)
        current: dict = {}
        client = NotebookClient(
            nb, km=self.km, kernel_name=KERNEL, interrupt_on_timeout=False,
            timeout_func=lambda cell: max(0.1, deadline - time.monotonic()),
            resources={"metadata": {"path": str(self.cwd)}},
            on_cell_execute=lambda **kw: current.update(kw),
        )
        client.kc = self.kc
        self.pages += 1
        try:
            self._run(client.async_execute())
        except CellExecutionError as e:
            evalue = re.sub(r"\x1b\[[0-9;]*m", "", str(e.evalue))
            cell = current.get("cell")
            raise _CellFailure(_cell_name(template, cell.source if cell else ""),
                               f"{e.ename}: {evalue}") from None
        except (CellTimeoutError, TimeoutError):
            cell = current.get("cell")
            self.replace()
            raise _CellFailure(_cell_name(template, cell.source if cell else ""),
                               f"timed out: the page took longer than {timeout:g} s (its "
                               "kernel was stopped and replaced)") from None
        except DeadKernelError as e:
            cell = current.get("cell")
            self.replace()
            raise _CellFailure(_cell_name(template, cell.source if cell else ""),
                               f"the kernel died ({e}); it was replaced") from None
        self._reset_soon()
        return nb

    def stop(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None and self.km.has_kernel:
            self._run(self.km.shutdown_kernel(now=True))
        self.km = self.kc = None

    def replace(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        if not self.loop.is_closed():
            self.loop.close()


def _execute(template: Path, params: dict, cwd: Path, *, timeout: float = PAGE_TIMEOUT_S):
    """Run a template once on a kernel of its own (no warm-up: it imports what it needs)."""
    _quick_jsonschema()
    kernel = Kernel(cwd, warm=False)
    try:
        return kernel.run(template, params, timeout=timeout)
    finally:
        kernel.close()


def execute_template(template: Path, params: dict, cwd: Path):
    """Run any report template with papermill's parameters (checked against its ``parameters``
    cell) and return the executed notebook; a failing cell raises :class:`ReportError` naming it.
    (Used by the comparison report, :mod:`rehab.report.comparison`.)"""
    try:
        return _execute(template, params, cwd)
    except _CellFailure as e:
        raise ReportError(f"{template.name}: failed in {e.cell}: {e.error}") from None


