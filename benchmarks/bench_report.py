"""Benchmark: monthly reports, the kit against the chain a user would type by hand.

    .venv/bin/python benchmarks/bench_report.py [--repeat 3] [--months 12] [--jobs 2]

Everything runs in a temporary project folder holding the demo data (generated there, 12 months);
nothing is written to the repository. Measured in the same run:

1. One demo report, wall time of ``rehab report --month M --participant demo --force`` as a new
   process (start-up, kernel start, execution, export), median of ``--repeat`` runs; target ≤ 5 s.
   Baseline: ``papermill template out.ipynb -p …`` then ``jupyter nbconvert --to html --no-input``.
2. A batch of ``--months`` months: ``rehab report --all --jobs N --force`` against the hand
   chain run once per month, one after the other (as typed by hand).
3. The same batch again with nothing changed (every report skipped from its fingerprint).

It prints each figure and the ratio kit ÷ hand chain (below 1 = the kit is faster), and how many
remote loads (CDN scripts) each way's page carries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
TARGET_S = 5.0


def run(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"failed ({res.returncode}): {' '.join(cmd)}\n{res.stdout}\n{res.stderr}")
    return dt


def hand_chain(template: Path, root: Path, month: str, out: Path, env: dict) -> float:
    """papermill, then nbconvert without inputs: what a user would type for one month."""
    nb = out / f"demo-{month}.ipynb"
    t = run([str(BIN / "papermill"), str(template), str(nb), "-k", "python3", "--no-progress-bar",
             "-p", "participant", "demo", "-p", "month", month, "-p", "project_dir", str(root),
             "-p", "data_dir", ""], env)
    t += run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(nb)], env)
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs of the single-report timing")
    ap.add_argument("--months", type=int, default=12, help="months in the batch")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes of the kit's batch")
    args = ap.parse_args()

    from rehab import demo
    from rehab.report.page import offline_problems
    from rehab.report.render import KIT_TEMPLATE

    with tempfile.TemporaryDirectory(prefix="rehab-bench-") as tmp:
        root = Path(tmp) / "project"
        # start 2 Feb: months - 1 whole months plus the first day of the last one
        demo.generate(root / "data" / "sample", months=args.months - 1)
        out = Path(tmp) / "hand"
        out.mkdir()
        env = dict(os.environ, REHAB_HOME=str(root))
        month = "2026-05"
        rehab = [str(BIN / "rehab"), "report"]

        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
        print(f"\n1. one report ({month}), median of {args.repeat} (new process each time)")
        kit = [run([*rehab, "--month", month, "--participant", "demo", "--force"], env)
               for _ in range(args.repeat)]
        hand = [hand_chain(KIT_TEMPLATE, root, month, out, env) for _ in range(args.repeat)]
        k1, h1 = statistics.median(kit), statistics.median(hand)
        runs = {"kit": ", ".join(f"{x:.2f}" for x in kit),
                "hand": ", ".join(f"{x:.2f}" for x in hand)}
        print(f"   rehab report          {k1:6.2f} s   (runs: {runs['kit']})")
        print(f"   papermill + nbconvert {h1:6.2f} s   (runs: {runs['hand']})")
        print(f"   ratio kit / hand      {k1 / h1:6.2f}")
        print(f"   target ≤ {TARGET_S:g} s: {'met' if k1 <= TARGET_S else 'MISSED'}")
        kit_page = (root / "reports" / "demo" / f"{month}.html").read_text(encoding="utf-8")
        hand_page = (out / f"demo-{month}.html").read_text(encoding="utf-8")
        print(f"   remote loads in the page: kit {len(offline_problems(kit_page))}, "
              f"hand chain {len(offline_problems(hand_page))}")
        print(f"   page size: kit {len(kit_page) / 1024:.0f} KiB, hand chain "
              f"{len(hand_page) / 1024:.0f} KiB")

        pdf_and_course(root, month, h1, args.repeat)

        from rehab.report.render import plan

        pairs, _ = plan(root=root)
        print(f"\n2. batch of {len(pairs)} months")
        kb = run([*rehab, "--all", "--jobs", str(args.jobs), "--force"], env)
        t0 = time.perf_counter()
        for _, m in pairs:
            hand_chain(KIT_TEMPLATE, root, m, out, env)
        hb = time.perf_counter() - t0
        n = len(pairs)
        print(f"   rehab report --all --jobs {args.jobs}   {kb:6.2f} s  ({kb / n:.2f} s a month)")
        print(f"   papermill + nbconvert, per month  {hb:6.2f} s  ({hb / n:.2f} s a month)")
        print(f"   ratio kit / hand                  {kb / hb:6.2f}")

        print("\n3. the same batch again, nothing changed")
        kc = run([*rehab, "--all", "--jobs", str(args.jobs)], env)
        print(f"   rehab report --all (all skipped)  {kc:6.2f} s   ratio to the hand batch "
              f"{kc / hb:.3f}")


def pdf_and_course(root: Path, month: str, hand_s: float, repeat: int = 3) -> None:
    """The whole-course page (rendered in Python, no kernel) and the PDFs of the month's page:
    seconds, seconds a PDF page (target: the PDF adds at most 1 s a page), against the same
    run's papermill + nbconvert chain for one month (``hand_s``)."""
    import pypdf

    from rehab.report.course import write_course
    from rehab.report.pdf import Printer, print_pdfs

    page = root / "reports" / "demo" / f"{month}.html"
    write_course(root, "demo")  # warm: imports, the first chart
    tc = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        course_page = write_course(root, "demo")
        tc.append(time.perf_counter() - t0)
    out = page.with_suffix(".pdf")
    t0 = time.perf_counter()
    print_pdfs([(page, out, "demo")])  # one month: the browser's start included
    cold = time.perf_counter() - t0
    with Printer() as p:  # a batch: one browser kept open
        warm = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            p.print(page, out, header="demo")
            warm.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        p.print(course_page, course_page.with_name("course.pdf"), header="demo")
        course_pdf = time.perf_counter() - t0
    n = len(pypdf.PdfReader(str(out)).pages)
    nc = len(pypdf.PdfReader(str(course_page.with_name("course.pdf"))).pages)
    w, c = statistics.median(warm), statistics.median(tc)
    print(f"\n4. whole-course page and PDFs ({month}), median of {repeat}")
    print(f"   whole-course page (Python, no kernel) {c:6.2f} s   ratio to papermill + nbconvert "
          f"{c / hand_s:.2f}")
    print(f"   month PDF, {n} pages, browser open     {w:6.2f} s   ({w / n:.2f} s a page; "
          f"target ≤ 1 s a page: {'met' if w / n <= 1 else 'MISSED'})")
    print(f"   month PDF, browser started for it     {cold:6.2f} s   ({cold / n:.2f} s a page)")
    print(f"   whole-course PDF, {nc} pages           {course_pdf:6.2f} s")
    print(f"   ratio month PDF / papermill + nbconvert {w / hand_s:.2f}")


if __name__ == "__main__":
    main()
