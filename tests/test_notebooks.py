"""Committed notebooks carry no outputs and stay thin; nbval runs them in `make test`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))
NOTEBOOKS = [p for p in NOTEBOOKS if ".ipynb_checkpoints" not in p.parts]


def test_there_are_notebooks():
    names = {p.name for p in NOTEBOOKS}
    assert {"01-explore-logs.ipynb", "monthly-report.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_outputs_and_no_function_definitions(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        assert not cell.get("outputs"), f"{path.name} cell {i} carries outputs: strip them"
        assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"
        src = "".join(cell["source"])
        assert not any(line.lstrip().startswith(("def ", "class ")) for line in src.splitlines()), (
            f"{path.name} cell {i} defines a function: move it into the rehab package"
        )


def test_makefile_runs_every_numbered_notebook_under_nbval():
    make = (ROOT / "Makefile").read_text()
    assert "--nbval-lax notebooks/0*.ipynb" in make
    assert any(p.name.startswith("0") for p in NOTEBOOKS)
