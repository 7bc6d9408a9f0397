"""Property: whatever bytes a file holds, a reader gives a clear error or a full accounting."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rehab.io as rio
from rehab.io import ReadError, read_diary, read_sessions

SESSIONS_OK = (
    b"date,exercise,set,reps,hold_s,pain,notes\n"
    b'2026-03-01,Back extension,1,10,,2,"felt ok, ""pump"""\n'
    b"2026-03-01,Back extension,2,10,,3,\n"
    b"2026-03-03,plank,1,,45,1,\n"
)
DIARY_OK = b"date,moment,pain,flare\n2026-03-01,morning,3,no\n2026-03-01,evening,2,yes\n"


@st.composite
def mutated(draw, base: bytes):
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "dup_line"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=4) | st.sampled_from(
                [b",", b";", b'"', b"\n", b"\r\n", b"\xef\xbb\xbf", b"11", b"-1", b"yes"]))
        elif op == "delete":
            del data[i : i + draw(st.integers(1, 5))]
        else:
            lines = bytes(data).split(b"\n")
            k = draw(st.integers(0, len(lines) - 1))
            lines.insert(k, lines[k])
            data = bytearray(b"\n".join(lines))
    return bytes(data)


def _check(tmp_path, name, data, reader):
    p = tmp_path / name
    p.write_bytes(data)
    try:
        r = reader(p)
    except ReadError as e:
        assert str(p) in str(e)  # the error names the file
        return
    assert r.records == r.accepted + r.quarantined + r.duplicates
    assert r.records >= 0 and r.data.height == r.accepted
    assert r.quarantine["reason"].null_count() == 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated(SESSIONS_OK))
def test_mutated_sessions_never_crash(tmp_path, data):
    _check(tmp_path, "sessions.csv", data, read_sessions)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated(DIARY_OK))
def test_mutated_diary_never_crash(tmp_path, data):
    _check(tmp_path, "diary.csv", data, read_diary)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated(SESSIONS_OK * 1))
def test_mutated_fast_path_never_crash(tmp_path, data):
    with pytest.MonkeyPatch.context() as m:
        m.setattr(rio, "FAST_PATH_BYTES", 0)
        _check(tmp_path, "sessions.csv", data, read_sessions)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.integers(0, 12), st.integers(-2, 12)), min_size=1, max_size=30))
def test_counts_match_the_rule(tmp_path, rows):
    """Pain outside 0-10 is quarantined, the rest accepted, duplicates counted once."""
    text = "date,pain,stiffness\n" + "".join(f"2026-03-01,{a},{b}\n" for a, b in rows)
    p = tmp_path / "diary.csv"
    p.write_text(text)
    r = read_diary(p)
    bad = [x for x in rows if not (0 <= x[0] <= 10 and 0 <= x[1] <= 10)]
    good = [x for x in rows if x not in bad]
    assert r.quarantined == len(bad)
    assert r.accepted == len(set(good)) and r.duplicates == len(good) - len(set(good))
