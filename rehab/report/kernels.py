"""Running report templates on Jupyter kernels: the template and its parameters (checked against
its ``parameters`` cell: papermill only warns), papermill's parameter injection, and a kernel kept
for many pages (:class:`Kernel`: started and warmed once, reset between pages, replaced when a
page hangs or kills it). Used by the monthly batch (:mod:`rehab.report.render`) and the comparison
page (:mod:`rehab.report.comparison`)."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from rehab.paths import ProjectPaths
from rehab.report import ReportError

TEMPLATE_NAME = "monthly-report.ipynb"
KIT_TEMPLATE = Path(__file__).resolve().parents[2] / "notebooks" / "templates" / TEMPLATE_NAME
KERNEL = "python3"
PAGE_TIMEOUT_S = 600.0  # a page still running after this is stopped and its kernel replaced
RECYCLE_PAGES = 250  # a kept kernel is replaced after this many pages: memory stays bounded
# Kernels kept between commands: after a command they wait this many idle seconds for the next
# one (a day's few new lines, a typo fixed and the report run again), then exit. 0: a command's
# kernels stop when it ends. Quarto keeps its Jupyter kernel daemon alive 300 s in the same way.
KEEP_S = 300.0
KEEP_ENV = "REHAB_KEEP_KERNELS"
MAX_KEPT = 16  # kept-kernel slots a project may use (commands at once × their jobs)
START_TIMEOUT_S = 60.0  # a kernel launched that has not written its connection file by then


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


# papermill imported by two threads at once can meet its own circular import (ImportError)
_PAPERMILL = threading.RLock()


def template_parameters(template: Path) -> dict[str, dict]:
    """The parameters declared in the template's cell tagged ``parameters`` (papermill's parser)."""
    _quick_jsonschema()
    with _PAPERMILL:
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
# A kernel renders one page at a time, and a batch runs one kernel a core: polars' and BLAS's own
# thread pools only add switching (one thread each: 10 % less CPU a page, the same pages).
# A value the user set is kept.
KERNEL_ENV = {"POLARS_MAX_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
              "MKL_NUM_THREADS": "1"}


def _kernel_env() -> dict[str, str]:
    env = {**KERNEL_ENV, **os.environ}
    env.pop("JPY_PARENT_PID", None)  # a kept kernel would exit with the command
    return env

# Between two pages on one kernel: every name the previous page defined goes, and the execution
# count starts again (the imported modules stay: that is what keeping the kernel is for).
RESET_CODE = "get_ipython().reset(new_session=True)"
def kernel_startup(lock: str, meta: str, files: list[str]) -> None:
    """Run in a kept kernel as it starts: watch its idle time (:func:`watch_idle`)."""
    threading.Thread(target=watch_idle, args=(lock, meta, files), daemon=True,
                     name="rehab-idle").start()


def startup_arguments(*lines: str) -> list[str]:
    """The kernel's arguments that run ``lines`` of code as it starts, before it answers any
    request. Code sent as a first request instead was lost when the command ended before the
    kernel had connected (a command with nothing to render): a kept kernel was then neither
    warm nor watching its idle time, and never exited."""
    return [f"--IPKernelApp.exec_lines={line}" for line in lines]


# The warm-up (rehab.report.warm), named here as code the kernel runs: this module runs kernels
# for any template and imports no page's modules
WARM_LINE = "from rehab.report.warm import warm_up as _rehab_w; _rehab_w(); del _rehab_w"


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
    with _PAPERMILL:
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


def keep_seconds(value: float | None = None) -> float:
    """The idle seconds a command's kernels are kept for the next command: ``value``, else
    ``$REHAB_KEEP_KERNELS``, else :data:`KEEP_S`. ValueError for a negative or non-number."""
    raw = value if value is not None else os.environ.get(KEEP_ENV, KEEP_S)
    try:
        keep = float(raw)
    except ValueError:
        raise ValueError(f"{KEEP_ENV}={raw!r} is not allowed: give idle seconds (0 stops a "
                         "command's kernels when it ends)") from None
    if not keep >= 0:
        raise ValueError(f"keeping kernels {raw!r} s is not allowed: give 0 or more seconds")
    return keep


def kit_digest() -> str:
    """Hash of the kit's code a page is made from: its version, modules and built-in protocols
    (:data:`KIT_FILES`)."""
    import rehab

    h = hashlib.sha256(rehab.__version__.encode())
    pkg = Path(rehab.__file__).resolve().parent
    for pattern in KIT_FILES:
        for f in sorted(pkg.glob(pattern)):
            if f.name not in KIT_SKIP:
                h.update(f"{f.relative_to(pkg)}\0".encode() + hashlib.sha256(f.read_bytes())
                         .digest())
    return h.hexdigest()


# What of the kit a page is made from: an edit to one re-renders (in a development install the
# version stays put) and replaces a kept kernel. The command line, the demo generator and the
# importers make no page.
KIT_FILES = ("*.py", "models/*.py", "report/*.py", "protocols/*.toml")
KIT_SKIP = frozenset({"cli.py", "__main__.py", "demo.py"})


def _kernel_identity() -> str:
    """What a kept kernel must share with the command reusing it: the kit's code, the interpreter
    and what it imports from, and the time zone and locale a page's dates are shown in."""
    import rehab

    env = {k: os.environ.get(k) for k in ("PYTHONPATH", "TZ", "LANG", "LC_ALL")}
    return hashlib.sha256(json.dumps([kit_digest(), sys.executable, rehab.__file__, env])
                          .encode()).hexdigest()


def _kept_dir(cwd: Path) -> Path:
    """``data/processed/.kernels/``: git-ignored with ``data/processed``, never read as a log."""
    return ProjectPaths(cwd).processed / ".kernels"


def _cmdline_has(pid: int, text: str) -> bool:
    """Whether process ``pid`` runs with ``text`` in its command line (Linux /proc): a kept
    kernel's pid is killed only when it is still that kernel, not a process that took its pid."""
    try:
        return text.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def watch_idle(lock: str, meta: str, files: list[str]) -> None:
    """Run in a kept kernel (on a daemon thread): exit once no command holds its lock and the
    last command released it more than its ``keep_s`` seconds ago (both in ``meta``), removing
    its connection files first. The lock is taken before deciding, so a command that has just
    attached the kernel is never left with a kernel that exits under it."""
    import fcntl

    while True:
        time.sleep(1.0)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # a command is using this kernel
            os.close(fd)
            continue
        try:
            info = json.loads(Path(meta).read_text(encoding="utf-8"))
            idle = time.time() - float(info.get("released") or time.time())
            done = info.get("pid") != os.getpid() or idle > float(info.get("keep_s", 0))
        except (OSError, ValueError):
            info, done = {}, True  # its record is gone: no command can find it any more
        if done:
            if info.get("pid") == os.getpid():  # else a newer kernel owns the slot's files
                for f in files:
                    with contextlib.suppress(OSError):
                        os.remove(f)
            os._exit(0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class _Slot:
    """One kept-kernel slot of a project: ``kernel-<i>.json`` (connection), ``.meta.json`` (pid,
    kit digest, when it was released, how long to keep it), ``.lock`` (held by the command
    using it, and by the kernel when it decides to exit)."""

    def __init__(self, folder: Path, i: int, fd: int) -> None:
        self.conn = folder / f"kernel-{i}.json"
        self.meta = folder / f"kernel-{i}.meta.json"
        self.lock = folder / f"kernel-{i}.lock"
        self.fd = fd

    @classmethod
    def at(cls, folder: Path, i: int) -> _Slot | None:
        """Slot ``i``, locked for this command, or None when another command holds it."""
        import fcntl

        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / f"kernel-{i}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        return cls(folder, i, fd)

    @classmethod
    def take(cls, folder: Path) -> _Slot | None:
        """The first slot no other command holds (locked for this one), or None."""
        return next(filter(None, (cls.at(folder, i) for i in range(MAX_KEPT))), None)

    def read(self) -> dict:
        try:
            return json.loads(self.meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def write(self, **info) -> None:
        from rehab.paths import atomic_write_text

        atomic_write_text(self.meta, json.dumps({**self.read(), **info}) + "\n")

    def release(self) -> None:
        import fcntl

        if self.fd >= 0:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = -1

    def forget(self) -> bool:
        """Stop the slot's old kernel if it is still that kernel (whether it was), and remove
        its files."""
        pid = self.read().get("pid")
        running = isinstance(pid, int) and _cmdline_has(pid, str(self.conn))
        if running:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for f in (self.conn, self.meta):
            with contextlib.suppress(OSError):
                f.unlink()
        return running


def stop_kept(cwd: Path) -> int:
    """Stop every kernel kept for the project at ``cwd`` that no command is using; return how
    many were stopped."""
    folder = _kept_dir(Path(cwd))
    stopped = 0
    for i in range(MAX_KEPT if folder.is_dir() else 0):
        slot = _Slot.at(folder, i)
        if slot is None:  # in use
            continue
        stopped += slot.forget()
        slot.release()
    return stopped


def _kept_manager_class():
    from jupyter_client.manager import AsyncKernelManager

    class KeptManager(AsyncKernelManager):
        """A kernel running on its own (started detached, or by an earlier command): alive while
        its process is (and still that kernel), stopped by a kill (it holds no state worth a
        graceful shutdown: a page's names are cleared anyway)."""

        pid: int = 0
        proc: subprocess.Popen | None = None  # when this command started it (reaped here)

        def _alive(self) -> bool:
            if self.proc is not None:
                return self.proc.poll() is None
            try:
                os.kill(self.pid, 0)
            except OSError:
                return False
            return _cmdline_has(self.pid, self.connection_file)

        @property
        def has_kernel(self) -> bool:
            return bool(self.pid) and self._alive()

        async def is_alive(self) -> bool:  # type: ignore[override]
            return self.has_kernel

        async def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
            if self.has_kernel:
                with contextlib.suppress(OSError):
                    os.kill(self.pid, signal.SIGKILL)
                if self.proc is not None:
                    self.proc.wait()
            self.pid, self.proc = 0, None

    return KeptManager


def _load_connection(km, timeout: float) -> str:
    """Load a kept kernel's connection file into ``km``, waiting up to ``timeout`` seconds for
    the kernel to write it as it starts (absent, or half written, until it has bound its
    ports): '' when loaded, else why not."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            km.load_connection_file()
            return ""
        except (OSError, ValueError):
            if not km.has_kernel:
                status = km.proc.poll() if km.proc is not None else None
                return f"the kernel exited as it started (status {status})"
            if time.monotonic() > deadline:
                return f"the kernel did not start in {timeout:g} s"
            time.sleep(0.01)


class Kernel:
    """One Jupyter kernel kept for many pages: started and warmed once, reset between pages,
    replaced when a page hangs or kills it, and after :data:`RECYCLE_PAGES` pages.

    With ``keep`` seconds (:func:`keep_seconds`, above 0), the kernel outlives the command: it
    is started detached in a slot of the project's ``data/processed/.kernels/``, and the next
    command that finds it free, alive and made from the same code (:func:`_kernel_identity`)
    uses it without starting or warming anything. It exits by itself after ``keep`` idle
    seconds.
    ``start=False``: only a kept kernel is used; without one, ``km`` is None."""

    def __init__(self, cwd: Path, *, warm: bool = True, keep: float | None = None,
                 start: bool = True) -> None:
        import asyncio

        self.cwd, self.warm, self.keep = Path(cwd), warm, keep
        self.loop = asyncio.new_event_loop()
        self.km = self.kc = None
        self.pages = 0
        self.slot: _Slot | None = None
        self.reused = False  # a kernel kept by an earlier command
        self._busy = False  # a page is running (a command stopped then: the kernel is not kept)
        self._reset: str | None = None  # a reset sent after the last page
        self._submitted: tuple | None = None  # code sent by submit(): (msg_id, what, done)
        # keep None: a kernel of its own; 0: a kept one if there is one, stopped at the end
        if keep is not None and (keep > 0 or _kept_dir(self.cwd).is_dir()):
            self.slot = _Slot.take(_kept_dir(self.cwd))  # None: all slots in use, not kept
            if self.slot is not None and self._attach():
                return
            if (keep == 0 or not start) and self.slot is not None:
                self.slot.release()
                self.slot = None
        if start:  # else only a kept kernel is used: ``km`` stays None without one
            self.start()

    def _run(self, coro):
        import asyncio

        asyncio.set_event_loop(self.loop)
        return self.loop.run_until_complete(coro)

    def start(self) -> None:
        """Launch the kernel without waiting for it: it warms up as it starts (:data:`WARM_LINE`)
        while the caller goes on (planning, fingerprints), and answers when it is done."""
        self.pages = 0
        self._reset = None
        if self.slot is not None:
            self._start_kept()
            return
        from jupyter_client.manager import AsyncKernelManager

        self.km = AsyncKernelManager(kernel_name=KERNEL)
        warm = startup_arguments(WARM_LINE) if self.warm else []
        self._run(self.km.start_kernel(cwd=str(self.cwd), extra_arguments=KERNEL_ARGS + warm,
                                       env=_kernel_env()))
        self.kc = self.km.client()
        # no heartbeat channel: liveness is the manager's (its process); the heartbeat's thread
        # made its socket after the channels were stopped now and then, and those added up
        self.kc.start_channels(hb=False)

    def _start_kept(self) -> None:
        """Start a detached kernel in this command's slot (its old kernel, if any, stopped):
        warmed, and watching its own idle time (:func:`watch_idle`). It is launched first and
        picks its own ports, writing the slot's connection file as it starts; jupyter_client is
        imported meanwhile (0.1 s of a day's first command), and the command connects when it
        first needs the kernel (:meth:`_connect`)."""
        slot = self.slot
        slot.forget()
        files = [str(slot.conn), str(slot.meta)]
        watch = (f"from rehab.report.kernels import kernel_startup as _rehab_s; "
                 f"_rehab_s({str(slot.lock)!r}, {str(slot.meta)!r}, {files!r}); del _rehab_s")
        proc = subprocess.Popen(
            [sys.executable, "-m", "ipykernel_launcher", "-f", str(slot.conn), *KERNEL_ARGS,
             *startup_arguments(watch, *([WARM_LINE] if self.warm else []))],
            cwd=self.cwd, env=_kernel_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)  # not stopped by the terminal's ^C
        slot.write(pid=proc.pid, identity=_kernel_identity(), keep_s=self.keep, released=None,
                   pages=0)
        self.km = _kept_manager_class()(connection_file=str(slot.conn))
        self.km.pid, self.km.proc = proc.pid, proc

    def _connect(self) -> None:
        """Open the channels to a kernel this command launched (:meth:`_start_kept`) once it
        has written its connection file; _CellFailure when it exits or hangs first."""
        if self.kc is not None or self.km is None:
            return
        error = _load_connection(self.km, START_TIMEOUT_S)
        if error:
            raise _CellFailure("setup", error)
        self.kc = self.km.client()
        self.kc.start_channels(hb=False)

    def _attach(self) -> bool:
        """Use the kernel an earlier command kept in this slot, if it is alive, answers within a
        few seconds and was made from the same code; else False (a kernel started in the slot
        then stops the old one: :meth:`_Slot.forget`)."""
        slot = self.slot
        info = slot.read()
        if info.get("identity") != _kernel_identity() or not isinstance(info.get("pid"), int):
            return False
        km = _kept_manager_class()(connection_file=str(slot.conn))
        km.pid = info["pid"]
        # a kernel still starting has not written its connection file yet
        if not km.has_kernel or _load_connection(km, 3.0):
            return False
        self.km, self.kc = km, km.client()
        self.kc.start_channels(hb=False)
        try:  # a kernel still busy with a page of a command that was stopped does not answer
            self._wait(self.kc.kernel_info(), 3.0, "answering")
        except _CellFailure:
            self.kc.stop_channels()
            self.km = self.kc = None
            return False
        slot.write(keep_s=self.keep, released=None)
        self.pages, self.reused = int(info.get("pages") or 0), True
        return True

    async def _reply(self, msg_id: str, timeout: float) -> dict:
        import queue

        deadline = time.monotonic() + timeout
        while True:
            try:  # in slices: a kernel that died is seen within a second, not at the deadline
                msg = await self.kc.get_shell_msg(
                    timeout=max(0.1, min(1.0, deadline - time.monotonic())))
            except queue.Empty:
                if time.monotonic() >= deadline or not self.km.has_kernel:
                    raise
                continue
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
        """Wait for what the kernel was given (:meth:`settle`; a kernel that cannot import the
        kit fails in the page), then clear the namespace (the reset sent after the last page
        does, unless code was submitted after it)."""
        clean = self._reset is not None and self._submitted is None
        self._connect()
        self.settle(timeout)
        if not clean:
            self._wait(self.kc.execute(RESET_CODE, silent=True, store_history=False), timeout,
                       "resetting its namespace")

    def submit(self, code: str, what: str, done, *, timeout: float = PAGE_TIMEOUT_S) -> None:
        """Send ``code`` to run after what the kernel was given, and go on: this process
        prepares the next page meanwhile. Its reply is awaited before the next page or call
        (:meth:`ready`), or by :meth:`settle`; ``done`` then gets None, or the error. One
        submission at a time: an earlier one is settled first."""
        if self._submitted is not None:
            self.settle(timeout)
        self._connect()
        self._submitted = (self.kc.execute(code, silent=True, store_history=False), what, done)

    def settle(self, timeout: float = PAGE_TIMEOUT_S) -> None:
        """Wait, in the order they were sent (a reply awaited drops those before it), for the
        reset after the last page and submitted code, telling the latter's ``done`` how it
        went."""
        if self._reset:
            msg_id, self._reset = self._reset, None
            try:
                self._wait(msg_id, timeout, "resetting its namespace")
            except _CellFailure as e:  # the submitted code's reply is not awaited: say so
                if self._submitted is not None:
                    (_, what, done), self._submitted = self._submitted, None
                    done(f"{what} was not awaited: {e.error}")
                raise
        if self._submitted is not None:
            (msg_id, what, done), self._submitted = self._submitted, None
            try:
                self._wait(msg_id, timeout, what)
            except _CellFailure as e:
                done(e.error)
            else:
                done(None)

    def _reset_soon(self) -> None:
        """Send the reset now, wait for it before the next page: it runs while this page is
        exported."""
        self._reset = self.kc.execute(RESET_CODE, silent=True, store_history=False)

    def run(self, template: Path, params: dict, *, timeout: float = PAGE_TIMEOUT_S,
            started=None):
        """Execute the template with ``params`` on this kernel and return the notebook.
        _CellFailure names a failing cell; a page past ``timeout`` seconds (or one that kills
        the kernel) fails and the kernel is replaced. ``started()`` is called once the kernel
        is ready and the page is going: this process is then idle until the page is done."""
        if self.pages >= RECYCLE_PAGES:
            self.settle(timeout)
            self.replace()
        deadline = time.monotonic() + timeout
        nb = _parameterized(template, params)
        return self._execute(nb, deadline, timeout,
                             lambda cell: _cell_name(template, cell.source if cell else ""),
                             started)

    def call(self, code: str, what: str, *, timeout: float = PAGE_TIMEOUT_S) -> str:
        """Run ``code`` on this kernel as a one-cell notebook (its namespace cleared first, as
        for a page) and return what it printed; _CellFailure names ``what`` when it fails.
        The whole-course pages and the index of a batch are written this way, on kernels
        that have everything they need imported and the data read."""
        _quick_jsonschema()  # before nbformat's import (see _execute)
        import nbformat

        deadline = time.monotonic() + timeout
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
        nb.metadata["kernelspec"] = {"name": KERNEL, "language": "python",
                                     "display_name": "Python 3"}
        nb = self._execute(nb, deadline, timeout, lambda cell: what)
        return "".join(o.get("text", "") for o in nb.cells[0].get("outputs", [])
                       if o.get("output_type") == "stream" and o.get("name") == "stdout")

    def _execute(self, nb, deadline: float, timeout: float, where, started=None):
        _quick_jsonschema()  # before nbclient imports nbformat: 1-4 s saved on a cold start
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

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
        self._busy = True
        if started is not None:
            started()
        try:
            self._run(client.async_execute())
        except CellExecutionError as e:
            self._busy = False  # the page failed, its kernel is fine
            evalue = re.sub(r"\x1b\[[0-9;]*m", "", str(e.evalue))
            raise _CellFailure(where(current.get("cell")), f"{e.ename}: {evalue}") from None
        except (CellTimeoutError, TimeoutError):
            self.replace()
            self._busy = False
            raise _CellFailure(where(current.get("cell")),
                               f"timed out: the page took longer than {timeout:g} s (its "
                               "kernel was stopped and replaced)") from None
        except DeadKernelError as e:
            self.replace()
            self._busy = False
            raise _CellFailure(where(current.get("cell")),
                               f"the kernel died ({e}); it was replaced") from None
        self._busy = False
        self._reset_soon()
        return nb

    def stop(self) -> None:
        if self._submitted is not None:  # its reply will never come
            (_, what, done), self._submitted = self._submitted, None
            done(f"the kernel was stopped before {what} was done")
        self._reset = None
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None and self.km.has_kernel:
            self._run(self.km.shutdown_kernel(now=True))
        self.km = self.kc = None

    def replace(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the kernel, or with ``keep`` leave it waiting for the next command (unless a
        page was cut short: a kernel left mid-page is no use to anyone)."""
        slot, self.slot = self.slot, None
        if slot is not None and (self.keep or 0) > 0 and not self._busy and self.km is not None \
                and self.km.has_kernel:
            slot.write(released=time.time(), keep_s=self.keep, pages=self.pages)
            if self.kc is not None:  # None: launched and left warm, never used
                self.kc.stop_channels()
            self.km = self.kc = None
        else:
            self.stop()
            if slot is not None:
                slot.forget()
        if slot is not None:
            slot.release()
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


