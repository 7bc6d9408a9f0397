"""Fixtures shared by several test files."""

from __future__ import annotations

import os

import pytest

# Report kernels are not kept after a test's command (hundreds of test projects would each keep
# theirs for five minutes); the tests of kept kernels ask for them (test_kept_kernels.py).
os.environ["REHAB_KEEP_KERNELS"] = "0"

from rehab.importers import import_file


def kg_project(root):
    """An empty project at ``root`` whose rehab.toml sets weights in kg (for exports without a unit)."""
    (root / "data" / "raw").mkdir(parents=True)
    (root / "rehab.toml").write_text('[units]\nweight = "kg"\n', encoding="utf-8")
    return root


@pytest.fixture
def project(tmp_path):
    """A fresh project for imports (:func:`kg_project`). Test files that need another kind of
    project define their own ``project`` fixture, which pytest prefers to this one."""
    return kg_project(tmp_path / "proj")


@pytest.fixture
def import_twice(tmp_path_factory):
    """Import an export's text twice into a fresh project (weights in kg); check that each import
    accounts for every record, and return both results."""

    def run(text: str):
        root = kg_project(tmp_path_factory.mktemp("proj"))
        src = root / "export.csv"
        src.write_text(text, encoding="utf-8")
        a = import_file(src, root=root)
        b = import_file(src, root=root)
        for r in (a, b):
            assert r.new + r.already_present + r.skipped + r.quarantined == r.records
        return a, b

    return run
