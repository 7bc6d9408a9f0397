"""Benchmark: monthly reports of a caseload, the kit against the chain a user would type by hand.

    .venv/bin/python benchmarks/bench_report.py [--participants 6] [--jobs 2] [--hand 4]

Everything runs in a temporary project holding the demo cohort (``rehab demo --participants N``,
about ten months each: 60 monthly pages for six people); nothing is written to the repository.
Measured in the same run, each figure printed with its target:

1. The by-hand chain: ``papermill template out.ipynb -p …`` then ``jupyter nbconvert --to html
   --no-input``, one page after another, for ``--hand`` pages spread over the cohort (the per-page
   figure; the whole batch by hand would take minutes).
2. ``rehab report --all --jobs N --force --quiet``: wall time a page (target ≤ 0.5 s) and the
   ratio to the hand chain a page (target ≥ 10× faster); the peak memory of the whole process
   tree (CLI, workers, kernels), sampled every 50 ms with psutil (target ≤ 1.5 GB).
3. Nothing changed: ``rehab report --all`` (every page skipped).
4. One diary line appended for one person in their last month, then ``rehab report --all``
   (target ≤ 3 s in all): with the kernels the batch left waiting (the default, 300 s idle),
   and with none kept (``--keep-kernels 0`` after they were stopped: a day's first command);
   then a late line for an earlier month (that person's months from it on).
5. One page on its own, ``rehab report --month M --participant P --force`` in a new process
   (median of ``--repeat``; target ≤ 2 s), with a kernel kept and with none; and the least a
   command with no kernel kept can take (a kernel started, warmed and given that one page).
6. Where a warm page's time goes: each section of one page in this process (after a first page
   has warmed the imports), the charts' SVG conversion, and the HTML export.
7. The whole-course page (Python, no kernel) and the PDF of one month's page, in seconds a PDF
   page (target: the PDF adds at most 1 s a page), against the hand chain's time a page.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BIN = Path(sys.executable).parent
TARGETS = {"one_line_s": 3.0, "batch_s_per_page": 0.5, "batch_speedup": 10.0, "one_page_s": 2.0,
           "peak_gb": 1.5}


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


class PeakRSS:
    """Peak resident memory of a process and all its descendants, sampled on a thread."""

    def __init__(self, pid: int, every_s: float = 0.05) -> None:
        import psutil

        self.proc, self.every, self.peak = psutil.Process(pid), every_s, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                total = 0
                for p in procs:
                    with contextlib.suppress(psutil.Error):
                        total += p.memory_info().rss
                self.peak = max(self.peak, total)
            except psutil.Error:
                return
            time.sleep(self.every)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def cpu_of_children() -> float:
    """CPU seconds (user + system) of every finished child process and their waited-for
    descendants (a batch's kernels included)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(cmd: list[str], env: dict, *, memory: bool = False) -> tuple[float, int]:
    """Wall time of a command (and the peak RSS of its process tree when ``memory``)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    sampler = PeakRSS(proc.pid) if memory else None
    out, err = proc.communicate()
    dt = time.perf_counter() - t0
    peak = sampler.stop() if sampler else 0
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{out}\n{err}")
    return dt, peak


def hand_chain(template: Path, root: Path, who: str, month: str, out: Path, env: dict) -> float:
    """papermill, then nbconvert without inputs: what a user would type for one page."""
    nb = out / f"{who}-{month}.ipynb"
    t, _ = run([str(BIN / "papermill"), str(template), str(nb), "-k", "python3",
                "--no-progress-bar", "-p", "participant", who, "-p", "month", month,
                "-p", "project_dir", str(root), "-p", "data_dir", ""], env)
    t += run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(nb)], env)[0]
    return t


def kernel_floor(root: Path, who: str, month: str) -> float:
    """Seconds from launching a kernel (in this process, the modules a command needs already
    imported) to one monthly page executed on it: its start, the warm-up imports and the page.
    A command with no kept kernel pays at least this, plus its own start, reading the project,
    the export and the index."""
    from rehab.paths import ProjectPaths
    from rehab.report.kernels import Kernel, _parameterized, template_path
    from rehab.report.render import _params

    paths = ProjectPaths(root)
    template = template_path(paths)
    params = _params(paths, who, month, None)
    _parameterized(template, params)  # papermill imported, the template read: not timed
    t0 = time.perf_counter()
    kernel = Kernel(root)  # its own kernel, stopped at the end
    try:
        kernel.run(template, params)
        return time.perf_counter() - t0
    finally:
        kernel.close()


def count(root: Path, env: dict, args: list[str]) -> tuple[float, str]:
    """Wall time of ``rehab report ARGS`` and its summary line."""
    t0 = time.perf_counter()
    res = subprocess.run([str(BIN / "rehab"), "report", *args], env=env, capture_output=True,
                         text=True)
    dt = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"rehab report {' '.join(args)} failed:\n{res.stdout}\n{res.stderr}")
    return dt, res.stdout.strip().splitlines()[-1]


def profile_page(root: Path, who: str, months: list[str]) -> None:
    """Each cell of the template for a warm page, run in this process by IPython (the second of
    two pages), with the charts' SVG conversion and the HTML export apart."""
    import copy

    from IPython.core.interactiveshell import InteractiveShell
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    from rehab import plots
    from rehab.report.kernels import KIT_TEMPLATE
    from rehab.report.page import export_html

    svg = {"s": 0.0, "n": 0}
    real = plots.to_svg

    def timed(chart, *, prefix=None):
        t = time.perf_counter()
        try:
            return real(chart, prefix=prefix)
        finally:
            svg["s"] += time.perf_counter() - t
            svg["n"] += 1

    plots.to_svg = timed
    shell = InteractiveShell.instance()
    template = load_notebook_node(str(KIT_TEMPLATE))
    times: dict[str, float] = {}
    for m in months[:2]:
        svg.update(s=0.0, n=0)
        shell.reset(new_session=True)
        nb = parameterize_notebook(copy.deepcopy(template), {
            "participant": who, "month": m, "project_dir": str(root), "data_dir": ""},
            kernel_name="python3", language="python")
        times = {}
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            t = time.perf_counter()
            shell.run_cell(cell.source, silent=True)
            times[cell.source.strip().splitlines()[-1][:48]] = time.perf_counter() - t
    plots.to_svg = real
    import nbformat

    page = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("x")])
    export_html(page, title="warm-up")
    t = time.perf_counter()
    export_html(page, title="x")
    total = sum(times.values())
    print(f"   a warm page's cells, {who} {months[1]} (in-process, {total:.2f} s in all):")
    for name, sec in sorted(times.items(), key=lambda kv: -kv[1])[:12]:
        print(f"     {name:<50} {sec:6.3f} s")
    print(f"     of which SVG conversion (vl-convert, {svg['n']} charts)      {svg['s']:6.3f} s")
    print(f"     HTML export of a near-empty notebook (nbconvert)     "
          f"{time.perf_counter() - t:6.3f} s")


def pdf_and_course(root: Path, who: str, month: str, hand_s: float, repeat: int = 3) -> None:
    """7.: the whole-course page of ``who`` and the PDFs of their ``month`` page (browser kept
    open, and started for it), against the hand chain's seconds a page (``hand_s``)."""
    import pypdf

    from rehab.report.course import write_course
    from rehab.report.pdf import Printer, print_pdfs

    page = root / "reports" / who / f"{month}.html"
    write_course(root, who)  # warm: imports, the first chart
    tc = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        course_page = write_course(root, who)
        tc.append(time.perf_counter() - t0)
    out = page.with_suffix(".pdf")
    t0 = time.perf_counter()
    print_pdfs([(page, out, who)])  # one page: the browser's start included
    cold = time.perf_counter() - t0
    with Printer() as p:  # a batch: one browser kept open
        warm = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            p.print(page, out, header=who)
            warm.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        p.print(course_page, course_page.with_name("course.pdf"), header=who)
        course_pdf = time.perf_counter() - t0
    n = len(pypdf.PdfReader(str(out)).pages)
    nc = len(pypdf.PdfReader(str(course_page.with_name("course.pdf"))).pages)
    w, c = statistics.median(warm), statistics.median(tc)
    print(f"\n7. whole-course page and PDFs ({who} {month}), median of {repeat}")
    print(f"   whole-course page (Python, no kernel) {c:6.2f} s: {hand_s / c:.0f}× faster than "
          "a page by hand")
    print(f"   month PDF, {n} pages, browser open     {w:6.2f} s ({w / n:.2f} s a page): target "
          f"≤ 1 s a page {verdict(w / n <= 1)}")
    print(f"   month PDF, browser started for it     {cold:6.2f} s ({cold / n:.2f} s a page)")
    print(f"   whole-course PDF, {nc} pages           {course_pdf:6.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--participants", type=int, default=6, help="people in the demo cohort")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes of the kit's batch")
    ap.add_argument("--hand", type=int, default=4, help="pages rendered by the hand chain")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the one-page timing")
    args = ap.parse_args()

    from rehab.report.kernels import KIT_TEMPLATE, stop_kept
    from rehab.report.page import offline_problems
    from rehab.report.render import plan

    with tempfile.TemporaryDirectory(prefix="rehab-bench-") as tmp:
        root = Path(tmp) / "project"
        root.mkdir()
        (root / "rehab.toml").write_text("", encoding="utf-8")
        env = dict(os.environ, REHAB_HOME=str(root), COLUMNS="200")
        run([str(BIN / "rehab"), "demo", "--participants", str(args.participants)], env)
        pairs, _ = plan(root=root)
        n = len(pairs)
        out = Path(tmp) / "hand"
        out.mkdir()
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
              f"demo cohort of {args.participants}: {n} monthly pages")

        step = max(1, n // args.hand)
        sample = pairs[::step][: args.hand]
        print(f"\n1. by hand (papermill CLI + jupyter nbconvert), {len(sample)} pages one after "
              "another")
        cpu0 = cpu_of_children()
        hand = [hand_chain(KIT_TEMPLATE, root, p, m, out, env) for p, m in sample]
        h1 = statistics.mean(hand)
        hand_cpu = (cpu_of_children() - cpu0) / len(sample)
        print(f"   {h1:.2f} s a page (runs: {', '.join(f'{x:.2f}' for x in hand)}), "
              f"{hand_cpu:.2f} CPU seconds a page")

        print(f"\n2. rehab report --all --jobs {args.jobs} --force ({n} pages)")
        cpu0 = cpu_of_children()
        # kernels that are not kept are this command's children: their CPU is counted
        kb, peak = run([str(BIN / "rehab"), "report", "--all", "--jobs", str(args.jobs),
                        "--force", "--quiet", "--keep-kernels", "0"], env, memory=True)
        per, cpu = kb / n, (cpu_of_children() - cpu0) / n
        print(f"   {kb:.2f} s in all, {per:.3f} s wall a page: target ≤ "
              f"{TARGETS['batch_s_per_page']} s {verdict(per <= TARGETS['batch_s_per_page'])}")
        print(f"   {cpu:.2f} CPU seconds a page (all processes: kernels, export, course pages): "
              f"{3600 / cpu:.0f} pages an hour a core; on {args.jobs} idle cores "
              f"{cpu / args.jobs:.2f} s wall a page (the wall figure above is on a shared machine)")
        print(f"   {h1 / per:.1f}× faster a page than by hand: target ≥ "
              f"{TARGETS['batch_speedup']:g}× {verdict(h1 / per >= TARGETS['batch_speedup'])}")
        print(f"   peak memory of the process tree {peak / 1e9:.2f} GB: target ≤ "
              f"{TARGETS['peak_gb']} GB {verdict(peak / 1e9 <= TARGETS['peak_gb'])}")
        who, last = pairs[-1]
        kit_page = (root / "reports" / who / f"{last}.html").read_text(encoding="utf-8")
        hp, hm = sample[-1]
        hand_page = (out / f"{hp}-{hm}.html").read_text(encoding="utf-8")
        print(f"   remote loads in a page: kit {len(offline_problems(kit_page))}, hand chain "
              f"{len(offline_problems(hand_page))}")

        print("\n3. nothing changed: rehab report --all")
        t, summary = count(root, env, ["--all", "--quiet"])
        print(f"   {t:.2f} s ({summary})")

        print(f"\n4. one diary line for {who} in {last}, then rehab report --all")
        diary = root / "data" / "sample" / "diary.csv"
        header = diary.read_text(encoding="utf-8").splitlines()[0].split(",")
        day = iter(range(1, 29))

        def one_line(month: str, pain: str) -> None:
            row = {c: "" for c in header}
            row.update(participant=who, date=f"{month}-{next(day):02d}", pain=pain)
            with diary.open("a", encoding="utf-8") as f:
                f.write(",".join(row[c] for c in header) + "\n")

        stop_kept(root)
        one_line(last, "5")  # no kernel kept: the day's first command, which keeps its kernel
        t, summary = count(root, env, ["--all", "--quiet"])
        print(f"   no kernel kept (the day's first command): {t:.2f} s in all ({summary}): "
              f"target ≤ {TARGETS['one_line_s']} s {verdict(t <= TARGETS['one_line_s'])}")
        one_line(last, "4")
        t, summary = count(root, env, ["--all", "--quiet"])
        print(f"   kernel kept from the command before: {t:.2f} s in all: target ≤ "
              f"{TARGETS['one_line_s']} s {verdict(t <= TARGETS['one_line_s'])}")
        first = [m for p, m in pairs if p == who][1]
        one_line(first, "3")
        t, summary = count(root, env, ["--all", "--quiet"])
        print(f"   a late line for {who} in {first}: {t:.2f} s ({summary})")

        p1, m1 = pairs[len(pairs) // 2]
        print(f"\n5. one page on its own ({p1} {m1}, --force, a new process), median of "
              f"{args.repeat}")
        page = ["--month", m1, "--participant", p1, "--force", "--quiet"]
        count(root, env, page)  # a kept kernel that has served this process's code
        kept = [count(root, env, page)[0] for _ in range(args.repeat)]
        cold = []
        for _ in range(args.repeat):
            stop_kept(root)
            cold.append(count(root, env, [*page, "--keep-kernels", "0"])[0])
        for label, runs in (("kernel kept from the command before", kept),
                            ("no kernel kept", cold)):
            o1 = statistics.median(runs)
            print(f"   {label}: {o1:.2f} s (runs: {', '.join(f'{x:.2f}' for x in runs)}): "
                  f"target ≤ {TARGETS['one_page_s']} s {verdict(o1 <= TARGETS['one_page_s'])}")
        stop_kept(root)
        floor = [kernel_floor(root, p1, m1) for _ in range(args.repeat)]
        print(f"   the least a command without a kept kernel can take: a new kernel started, "
              f"warmed and given this one page, nothing else (no command, export or index): "
              f"{statistics.median(floor):.2f} s (runs: {', '.join(f'{x:.2f}' for x in floor)})")

        print("\n6. where a warm page's time goes")
        months = [m for p, m in pairs if p == p1]
        profile_page(root, p1, months[len(months) // 2:])

        pdf_and_course(root, p1, m1, h1, args.repeat)
        stop_kept(root)


if __name__ == "__main__":
    main()
