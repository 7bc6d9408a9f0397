"""Fixtures shared by several test files."""

from __future__ import annotations

import pytest

from rehab.importers import import_file


@pytest.fixture
def import_twice(tmp_path_factory):
    """Import an export's text twice into a fresh project (weights in kg); check that each import
    accounts for every record, and return both results."""

    def run(text: str):
        root = tmp_path_factory.mktemp("proj")
        (root / "data" / "raw").mkdir(parents=True)
        (root / "rehab.toml").write_text('[units]\nweight = "kg"\n')
        src = root / "export.csv"
        src.write_text(text, encoding="utf-8")
        a = import_file(src, root=root)
        b = import_file(src, root=root)
        for r in (a, b):
            assert r.new + r.already_present + r.skipped + r.quarantined == r.records
        return a, b

    return run
