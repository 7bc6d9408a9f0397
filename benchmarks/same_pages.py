"""Check that two renders of the same reports are the same, time stamps apart.

    .venv/bin/python benchmarks/same_pages.py BEFORE/reports AFTER/reports

Every page (``*.html``) and month summary (``*.json``; the hidden sidecars are skipped: they hold
when a page was rendered) under the first folder must be under the second with the same text once
dates with a time of day are masked. Used to check a speed change: render the demo cohort's
pages before and after it into two folders, then run this. Exit code 1 and the differing files
(with their first differing line) when anything differs.
"""

from __future__ import annotations

import difflib
import re
import sys
from pathlib import Path

# 2026-12-06T17:57:01, 2026-12-06 17:57 (with or without seconds): a time stamp, not a figure
STAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?")


def masked(path: Path) -> str:
    return STAMP.sub("<time>", path.read_text(encoding="utf-8"))


def pages(folder: Path) -> list[Path]:
    """The pages and summaries under a report folder (not the sidecars, not the stale pages)."""
    return sorted(p for ext in ("*.html", "*.json") for p in folder.rglob(ext)
                  if not p.name.startswith(".") and ".stale" not in p.parts)


def compare(before: Path, after: Path) -> list[str]:
    """What differs between two report folders: one line a file."""
    problems = []
    files = pages(before)
    if not files:
        return [f"{before}: no pages to compare"]
    for f in files:
        rel = f.relative_to(before)
        g = after / rel
        if not g.is_file():
            problems.append(f"{rel}: missing in {after}")
            continue
        a, b = masked(f), masked(g)
        if a != b:
            # pages are long lines: split at tags to show where they part
            la, lb = a.replace(">", ">\n").splitlines(), b.replace(">", ">\n").splitlines()
            diff = [d for d in difflib.unified_diff(la, lb, lineterm="", n=0)
                    if d[:1] in "+-" and d[:3] not in ("+++", "---")]
            problems.append(f"{rel}: differs ({len(diff)} lines), first: {diff[:2]}")
    return problems


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    before, after = Path(sys.argv[1]), Path(sys.argv[2])
    problems = compare(before, after)
    for p in problems:
        print(p)
    n = len(pages(before))
    print(f"{n} files compared: " + ("all the same" if not problems else f"{len(problems)} differ"))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
