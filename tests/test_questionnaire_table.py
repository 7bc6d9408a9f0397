"""The questionnaires table: a hand-written file, every record's fate counted by hand.

Scores computed by hand from the published rules (ODI 2.1a: sum ÷ (5 × answered) × 100; RMDQ-24:
yes answers; PSFS: mean of the activities; NRS: the rating); minimal important changes from
Ostelo 2008 (ODI 10, RMDQ 5, NRS 2) and the PSFS's quoted 2 points.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from rehab import instruments
from rehab.cli import app
from rehab.io import ReadError, load_project, read_any, read_questionnaires

# (line of the file, fate): fate is None for an accepted record, else (column, words of the reason)
ROWS = [
    ("2026-03-01,odi,42,1 2 3 0 5 4 2 1 0 3,",  # 21 / 50 = 42 %
     None),
    ("2026-03-01,ODI,21,1 2 3 0 5 4 2 1 0 3,raw sum written",  # 21 is the sum, not the %
     ("score", "raw sum out of 50")),
    ("2026-03-02,odi,40,2 2 2 2 2 2 2 2 2 -,nine sections",  # 18 / 45 = 40 %
     None),
    ("2026-03-02,odi,40,2 2 2 2 2 2 - - - -,",  # 6 answered, 8 needed
     ("items", "only 6 item(s) answered, 8 needed")),
    ("2026-03-03,odi,40,2 2 7 2 2 2 2 2 2 2,",  # a section answer of 7
     ("items", "whole number 0-5")),
    ("2026-03-03,odi,101,,",  # beyond 100 %
     ("score", "out of range for odi: use a number from 0 to 100")),
    ("2026-03-04,rmdq,5,,",  # a score alone is fine
     None),
    ("2026-03-04,rmdq,25,,",
     ("score", "out of range for rmdq: use a number from 0 to 24")),
    ("2026-03-05,rmdq,3,y n y n y n n n n n n n n n n n n n n n n n n n,",  # 3 yes
     None),
    ("2026-03-05,rmdq,4,yes no yes no yes no no no no no no no no no no no no no no no no no no no,",
     ("score", "which score 3")),
    ("2026-03-06,rmdq,3,y n maybe n y n n n n n n n n n n n n n n n n n n n,",
     ("items", "'maybe' is not allowed")),
    ('2026-03-06,psfs,3.7,"3,4,4",',  # (3 + 4 + 4) / 3 = 3.67, written rounded
     None),
    ("2026-03-07,psfs,6,3 4 4,",  # they give 3.67
     ("score", "which score 3.667")),
    ("2026-03-07,psfs,11,,",
     ("score", "out of range for psfs: use a number from 0 to 10")),
    ("2026-03-08,nrs,4,4,",
     None),
    ("2026-03-08,nrs,-1,,",
     ("score", "out of range for nrs: use a number from 0 to 10")),
    ("2026-03-09,sf36,40,,",  # not an instrument the kit knows
     ("instrument", "use one of odi, rmdq, psfs, nrs")),
    ("2026-02-30,nrs,3,,",  # no such day
     ("date", "not a valid date")),
    ("2026-03-10,nrs,,,",  # the score is required
     ("score", "a required value is empty")),
]


def write(path: Path, rows=ROWS, header="date,instrument,score,items,notes") -> Path:
    path.write_text(header + "\n" + "".join(line + "\n" for line, _ in rows), encoding="utf-8")
    return path


def test_every_record_accepted_or_quarantined_with_its_reason(tmp_path):
    f = write(tmp_path / "questionnaires.csv")
    r = read_questionnaires(f)
    expected_bad = {i + 1: fate for i, (_, fate) in enumerate(ROWS) if fate is not None}
    assert r.records == len(ROWS) == 19
    assert (r.accepted, r.quarantined, r.duplicates) == (len(ROWS) - len(expected_bad), len(expected_bad), 0)
    assert (r.accepted, r.quarantined) == (6, 13)
    q = {row["record"]: row for row in r.quarantine.iter_rows(named=True)}
    assert set(q) == set(expected_bad)
    for rec, (column, words) in expected_bad.items():
        assert q[rec]["column"] == column, (rec, q[rec])
        assert words in q[rec]["reason"], (rec, q[rec]["reason"])
        assert q[rec]["file"] == str(f) and q[rec]["line"] == rec + 1  # the header is line 1
    got = [(str(d), i, s) for d, i, s in r.data.select("date", "instrument", "score").rows()]
    assert got == [("2026-03-01", "odi", 42.0), ("2026-03-02", "odi", 40.0),
                   ("2026-03-04", "rmdq", 5.0), ("2026-03-05", "rmdq", 3.0),
                   ("2026-03-06", "psfs", 3.7), ("2026-03-08", "nrs", 4.0)]  # fmt: skip
    assert set(r.data["participant"]) == {"me"}  # no participant column: the default


def test_items_scored_by_hand():
    assert instruments.score_items("odi", "1 2 3 0 5 4 2 1 0 3") == pytest.approx(42.0)
    assert instruments.score_items("odi", "2,2,2,2,2,2,2,2,2,") == pytest.approx(40.0)  # 18/45
    assert instruments.score_items("odi", "5 5 5 5 5 5 5 5 - -") == pytest.approx(100.0)
    assert instruments.score_items("rmdq", " ".join(["1"] * 7 + ["0"] * 17)) == 7.0
    assert instruments.score_items("psfs", "2 5") == pytest.approx(3.5)
    assert instruments.score_items("psfs", "10 - 4") == pytest.approx(7.0)  # one not rated
    assert instruments.score_items("nrs", "6") == 6.0
    for inst, items in [("odi", "1 2 3"), ("rmdq", "y n"), ("psfs", "1 2 3 4 5 6"),
                        ("nrs", "3 4"), ("psfs", "11"), ("nrs", "x")]:  # fmt: skip
        with pytest.raises(instruments.QuestionnaireError, match=f"{inst} items are"):
            instruments.score_items(inst, items)


def test_minimal_important_change_per_instrument():
    # Ostelo 2008 (Spine 33:90): ODI 10, RMDQ 5, NRS 2; PSFS 2 points (quoted)
    assert instruments.MIC == {"odi": 10.0, "rmdq": 5.0, "psfs": 2.0, "nrs": 2.0}


def test_semicolons_decimal_commas_and_participants(tmp_path):
    f = tmp_path / "questionnaires-clinic.csv"
    f.write_text("participant;date;instrument;score;items\n"
                 "ann;2026-03-01;psfs;3,5;3 4\n"  # (3 + 4) / 2 = 3.5
                 "bob;2026-03-01;nrs;7;\n"
                 "bob;2026-03-01;nrs;7;\n",  # an exact duplicate: kept once
                 encoding="utf-8")  # fmt: skip
    r = read_any(f)
    assert r.kind == "questionnaires"
    assert (r.records, r.accepted, r.quarantined, r.duplicates) == (3, 2, 0, 1)
    assert r.data.select("participant", "score").rows() == [("ann", 3.5), ("bob", 7.0)]


def test_a_required_column_missing_is_an_error_naming_it(tmp_path):
    f = tmp_path / "questionnaires.csv"
    f.write_text("date,instrument\n2026-03-01,odi\n", encoding="utf-8")
    with pytest.raises(ReadError, match=r"required column\(s\) missing: score"):
        read_questionnaires(f)


def project_with_questionnaires(root: Path) -> Path:
    raw = root / "data" / "raw"
    raw.mkdir(parents=True)
    (root / "rehab.toml").write_text("", encoding="utf-8")
    (raw / "diary.csv").write_text("participant,date,pain\nann,2026-03-01,4\n", encoding="utf-8")
    write(raw / "questionnaires.csv", ROWS,
          header="date,instrument,score,items,notes")  # fmt: skip
    (raw / "questionnaires-cleo.csv").write_text(
        "participant,date,instrument,score\ncleo,2026-03-02,rmdq,12\ncleo,2026-04-02,rmdq,6\n",
        encoding="utf-8")  # fmt: skip
    return root


def test_load_project_gives_questionnaires(tmp_path):
    root = project_with_questionnaires(tmp_path / "p")
    ds = load_project(root)
    accepted = sum(1 for _, fate in ROWS if fate is None) + 2
    assert ds.questionnaires.height == accepted
    assert ds.questionnaires.columns == ["participant", "date", "instrument", "score", "items", "notes"]
    assert ds.participants == ["ann", "cleo", "me"]  # cleo has questionnaires only
    cleo = ds.for_participant("cleo")
    assert cleo.questionnaires["score"].to_list() == [12.0, 6.0] and cleo.diary.height == 0
    bad = sum(1 for _, fate in ROWS if fate is not None)
    assert ds.quarantine.height == bad


def test_validate_handles_questionnaires(tmp_path):
    root = project_with_questionnaires(tmp_path / "p")
    res = CliRunner().invoke(app, ["validate", str(root / "data" / "raw"), "--json"],
                             env={"REHAB_HOME": str(root)})  # fmt: skip
    assert res.exit_code == 1, res.output  # records quarantined
    doc = json.loads(res.stdout)
    files = {Path(f["path"]).name: f for f in doc["files"]}
    q = files["questionnaires.csv"]
    bad = sum(1 for _, fate in ROWS if fate is not None)
    assert (q["kind"], q["records"], q["accepted"], q["quarantined"]) == (
        "questionnaires", len(ROWS), len(ROWS) - bad, bad)
    assert files["questionnaires-cleo.csv"]["quarantined"] == 0
    saved = pl.read_csv(root / "data" / "quarantine" / "questionnaires.quarantine.csv")
    assert saved.height == bad and set(saved["column"]) == {"score", "items", "instrument", "date"}


def test_the_readers_import_no_model():
    """The scoring moved below the readers: reading a questionnaire file imports no model (the
    models package pulls in statsmodels), and the models use the very same functions."""
    code = ("import sys, rehab.io; "
            "print(sorted(m for m in sys.modules if m.startswith(('rehab.models', 'statsmodels'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    from rehab.models import questionnaires as models_q

    assert models_q.score_odi is instruments.score_odi
    assert models_q.score_rmdq is instruments.score_rmdq
