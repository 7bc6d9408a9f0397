"""load_project keeps the last project read (a kept report kernel reads the same files for every
page) and reads again whenever a file's bytes change, even when its size and time stay the same."""

from __future__ import annotations

import os

from rehab.io import load_project

DIARY_HEAD = "participant,date,pain\n"


def project(tmp_path):
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "rehab.toml").write_text("", encoding="utf-8")
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    diary = raw / "diary.csv"
    diary.write_text(DIARY_HEAD + "p001,2026-03-02,4\n", encoding="utf-8")
    return diary


def test_same_files_give_the_same_dataset(tmp_path):
    project(tmp_path)
    first = load_project(tmp_path)
    assert load_project(tmp_path) is first


def test_a_changed_byte_is_read_again_even_with_the_same_size_and_time(tmp_path):
    diary = project(tmp_path)
    first = load_project(tmp_path)
    stat = diary.stat()
    diary.write_text(DIARY_HEAD + "p001,2026-03-02,7\n", encoding="utf-8")  # same length
    os.utime(diary, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert diary.stat().st_size == stat.st_size
    again = load_project(tmp_path)
    assert again is not first
    assert again.diary["pain"].to_list() == [7]
    assert first.diary["pain"].to_list() == [4]  # what an earlier page holds is not altered


def test_a_new_file_other_aliases_or_another_project_are_read_again(tmp_path):
    diary = project(tmp_path / "a")
    project(tmp_path / "b")
    a = load_project(tmp_path / "a")
    assert load_project(tmp_path / "b") is not a
    (diary.parent / "diary-2.csv").write_text(DIARY_HEAD + "p002,2026-03-03,2\n",
                                              encoding="utf-8")
    assert sorted(load_project(tmp_path / "a").participants) == ["p001", "p002"]
    plain = load_project(tmp_path / "a")
    assert load_project(tmp_path / "a", aliases={"hyperextension": "back_extension"}) \
        is not plain


def test_writing_the_quarantine_always_reads(tmp_path):
    project(tmp_path)
    first = load_project(tmp_path)
    assert load_project(tmp_path, write_quarantine=True) is not first
