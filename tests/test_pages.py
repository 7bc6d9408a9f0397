"""The pages rendered directly in Python (no kernel): the caseload index, the whole-course page,
and the monthly sections of issue 13 (what was done, questionnaires, how to read, the endurance
curve that is still rising), on the hand-made personas (tests/personas) copied to a temporary
folder. Expected values are counted in the tests from the raw CSV rows."""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from rehab.paths import ProjectPaths
from rehab.report.course import Project, write_course, write_courses
from rehab.report.index import write_index
from rehab.report.page import accessible_svg, offline_problems, table

PERSONAS = Path(__file__).parent / "personas"
TODAY = dt.date(2026, 6, 1)


def copy_persona(name: str, tmp_path: Path) -> Path:
    root = tmp_path / name
    shutil.copytree(PERSONAS / name, root)
    return root


def sessions_project(tmp_path: Path, name: str, sessions_csv: str) -> Path:
    """A project of one hand-written ``data/raw/sessions.csv``."""
    raw_dir = tmp_path / name / "data" / "raw"
    raw_dir.mkdir(parents=True)
    (raw_dir / "sessions.csv").write_text(sessions_csv, encoding="utf-8")
    return tmp_path / name


def rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def raw(root: Path, kind: str) -> list[dict]:
    out = []
    for f in sorted((root / "data" / "raw").rglob(f"{kind}*.csv")):
        for r in rows(f):
            r.setdefault("participant", "me")
            r["participant"] = r.get("participant") or "me"
            out.append(r)
    return out


def last_log(root: Path, person: str) -> dt.date:
    return max(dt.date.fromisoformat(r["date"]) for kind in ("sessions", "diary", "tests")
               for r in raw(root, kind) if r["participant"] == person)


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href"))


def hrefs(page: str) -> list[str]:
    p = Links()
    p.feed(page)
    return p.hrefs


def person_rows(page: str) -> dict[str, str]:
    """data-person -> the row's HTML."""
    return dict(re.findall(r'<div class="cl-row" role="row" data-person="([^"]+)" [^>]*>(.*?)'
                           r'</div></div>(?=<div class="cl-row"|\n)', page, re.S))


def fake_month_page(root: Path, person: str, month: str, *, demo: bool, source="data/raw"):
    folder = root / "reports" / person
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{month}.html").write_text("<html><body>month</body></html>", encoding="utf-8")
    (folder / f".{month}.json").write_text(
        f'{{"participant": "{person}", "month": "{month}", "demo": {str(demo).lower()}, '
        f'"source": "{source}"}}', encoding="utf-8")


@pytest.fixture(scope="module")
def clinic(tmp_path_factory) -> tuple[Path, Project]:
    root = copy_persona("clinic", tmp_path_factory.mktemp("pages"))
    fake_month_page(root, "p01", "2026-03", demo=False)
    fake_month_page(root, "p01", "2026-04", demo=True)  # made from the demo data: not listed
    fake_month_page(root, "ghost", "2026-04", demo=False)  # a person no longer in the data
    project = Project.load(ProjectPaths(root))
    write_courses(project.paths, project=project, today=TODAY)
    write_index(project=project, today=TODAY)
    return root, project


# --- the caseload index ---------------------------------------------------------------------------


def test_index_has_one_row_per_person_of_the_current_data_and_every_link_resolves(clinic):
    root, _ = clinic
    page = (root / "reports" / "index.html").read_text(encoding="utf-8")
    people = sorted({r["participant"] for k in ("sessions", "diary", "tests")
                     for r in raw(root, k)})
    assert people == [f"p0{i}" for i in range(1, 9)]
    assert sorted(re.findall(r'data-person="([^"]+)"', page)) == people
    assert "ghost" not in page  # removed people are not listed
    assert "DEMO DATA" not in page
    links = hrefs(page)
    assert "p01/2026-03.html" in links and "p01/2026-04.html" not in links
    for h in links:
        assert (root / "reports" / h).is_file(), h
    for p in people:  # each person's whole-course page is linked
        assert f"{p}/index.html" in links
    assert offline_problems(page) == [] and "<script" not in page


def test_index_figures_and_flags_equal_counts_from_the_raw_rows(clinic):
    root, _ = clinic
    page = (root / "reports" / "index.html").read_text(encoding="utf-8")
    found = person_rows(page)
    sessions = raw(root, "sessions")
    for person in found:
        last = last_log(root, person)
        w0 = last - dt.timedelta(days=27)
        days = {r["date"] for r in sessions if r["participant"] == person
                and w0 <= dt.date.fromisoformat(r["date"]) <= last}
        cells = re.sub(r"<[^>]+>", "|", found[person])
        # target: 2 a week (both protocols of the clinic) for each day of the four weeks under
        # the person's phase (p04 starts on 6 April, 4 days into its window: 2 × 24 / 7 = 6.9);
        # none for p07, who follows no protocol (no phases row): only a protocol gives a target
        ph = next((r for r in raw(root, "phases") if r["participant"] == person), None)
        if ph is None:
            want = f"|{len(days)} (no protocol set)"
        else:
            lo = max(w0, dt.date.fromisoformat(ph["start"]))
            hi = min(last, dt.date.fromisoformat(ph["end"])) if ph["end"] else last
            want = f"|{len(days)} / {round(2 * ((hi - lo).days + 1) / 7, 1):g}"
        assert want in cells, (person, cells)
        quiet = (TODAY - last).days
        assert (f"no log for {quiet} days" in cells) == (quiet >= 14), (person, cells)
    # p08 stops after three weeks: the last session on 18 April (the persona's README)
    assert "no log for" in re.sub(r"<[^>]+>", "|", found["p08"])


def test_index_sort_ranks_order_the_rows_like_a_sort_of_the_raw_dates(clinic):
    root, _ = clinic
    page = (root / "reports" / "index.html").read_text(encoding="utf-8")
    ranks = {p: int(r) for p, r in re.findall(
        r'data-person="([^"]+)" style="[^"]*--r-last-a:(\d+)', page)}
    by_last = sorted(ranks, key=lambda p: (last_log(root, p), p))
    assert sorted(ranks, key=ranks.get) == by_last
    # one radio button a column and direction; the default is most flags first
    assert re.search(r'id="sort-flags-d" checked', page)
    assert "#sort-last-a:checked ~ .caseload .cl-row { order: var(--r-last-a); }" in page


def test_index_after_real_data_arrives_shows_no_demo(tmp_path):
    from rehab import demo

    root = tmp_path / "proj"
    demo.generate(root / "data" / "sample")
    fake_month_page(root, "demo", "2026-05", demo=True, source="data/sample")
    first = write_index(root=root, today=TODAY).read_text(encoding="utf-8")
    assert "DEMO DATA" in first and 'data-person="demo"' in first
    assert "demo/2026-05.html" in first
    shutil.copytree(PERSONAS / "hand_typed" / "data" / "raw", root / "data" / "raw")
    after = write_index(root=root, today=TODAY).read_text(encoding="utf-8")
    assert "DEMO DATA" not in after
    assert re.findall(r'data-person="([^"]+)"', after) == ["me"]
    assert "demo/2026-05.html" not in after


def test_index_of_two_hundred_people(tmp_path):
    raw_dir = tmp_path / "many" / "data" / "raw"
    raw_dir.mkdir(parents=True)
    with open(raw_dir / "diary.csv", "w", encoding="utf-8") as f:
        f.write("participant,date,pain\n")
        for i in range(200):
            for d in range(20):
                f.write(f"p{i:03d},2026-05-{d + 1:02d},{(i + d) % 9}\n")
    with open(raw_dir / "sessions.csv", "w", encoding="utf-8") as f:
        f.write("participant,date,exercise,set,hold_s,pain\n")
        for i in range(200):
            for d in range(1, 20, 3 + i % 3):
                f.write(f"p{i:03d},2026-05-{d:02d},back_extension_hold,1,30,{i % 8}\n")
    t0 = time.perf_counter()
    page = write_index(root=tmp_path / "many", today=TODAY).read_text(encoding="utf-8")
    seconds = time.perf_counter() - t0
    assert len(re.findall(r'class="cl-row"', page)) == 200
    assert len(set(re.findall(r'--r-person-a:(\d+)', page))) == 200  # a rank each
    assert seconds < 10, seconds  # 0.6 s measured on the 2-core machine


# --- the whole-course page ------------------------------------------------------------------------


def test_course_page_latest_figures_first_from_the_raw_rows(clinic):
    root, _ = clinic
    page = (root / "reports" / "p01" / "index.html").read_text(encoding="utf-8")
    heads = re.findall(r"<h2[^>]*>([^<]+)</h2>", page)
    assert heads == ["Latest figures", "Tests", "Pain and flares", "Training days a week",
                     "Questionnaires", "Monthly pages"]
    tests = sorted((r for r in raw(root, "tests") if r["participant"] == "p01"
                    and r["test"] == "sorensen_hold"), key=lambda r: r["date"])
    first, latest = float(tests[0]["value"]), float(tests[-1]["value"])
    assert f"{latest:.0f} s on" in page and f"against {first:.0f} s at the first test" in page
    start = min(r["date"] for k in ("sessions", "diary", "tests") for r in raw(root, k)
                if r["participant"] == "p01")
    assert f"first log on {dt.date.fromisoformat(start):%d %b %Y}" in page
    assert '<a href="2026-03.html">March 2026</a>' in page and "2026-04.html" not in page
    for chart in ("course-tests", "course-pain", "course-sessions"):
        assert f'data-chart="{chart}"' in page
    assert 'role="img" aria-label="Hold tests since the first log' in page
    assert "No questionnaire scores are logged." in page
    assert offline_problems(page) == []


def test_course_page_questionnaires_with_their_important_change(tmp_path):
    root = copy_persona("hand_typed", tmp_path)
    # RMDQ 14 -> 8: 6 points down, at least the important change of 5 (Ostelo 2008);
    # ODI 30 -> 24: 6 points, below 10
    (root / "data" / "raw" / "questionnaires.csv").write_text(
        "date,instrument,score\n2026-03-18,rmdq,14\n2026-05-20,rmdq,8\n"
        "2026-03-18,odi,30\n2026-05-20,odi,24\n", encoding="utf-8")
    page = write_course(root, "me", today=TODAY).read_text(encoding="utf-8")
    q = page[page.index('id="questionnaires"'):page.index('id="months"')]
    rm = re.search(r"Roland-Morris.*?</tr>", q, re.S).group(0)
    od = re.search(r"Oswestry.*?</tr>", q, re.S).group(0)
    assert "8 (20 May)" in rm and "−6" in rm and "important improvement" in rm
    assert "24 (20 May)" in od and "−6" in od and "no important change" in od
    assert 'data-chart="course-scores"' in page
    latest = page[page.index('id="latest"'):page.index('id="tests"')]
    assert "Roland-Morris (RMDQ, 0–24, lower is better): 8, first 14: important improvement" \
        in latest


def test_course_page_has_no_phase_band_without_phases_and_names_protocols(clinic, tmp_path):
    root, _ = clinic
    page = (root / "reports" / "p01" / "index.html").read_text(encoding="utf-8")
    assert "S.H.I.T." in page  # the phase band is named by the protocol's name, not its id
    alone = copy_persona("hand_typed", tmp_path)
    solo = write_course(alone, "me", today=TODAY).read_text(encoding="utf-8")
    assert "S.H.I.T." not in solo


# --- monthly sections (no kernel) -----------------------------------------------------------------


def test_sets_text_by_hand():
    from rehab.report.monthly import sets_text

    def sets(*r):
        return pl.DataFrame(
            [dict(zip(("set", "side", "reps", "hold_s", "load_kg", "set_type"), x, strict=True))
             for x in r],
            schema={"set": pl.Int64, "side": pl.String, "reps": pl.Int64, "hold_s": pl.Float64,
                    "load_kg": pl.Float64, "set_type": pl.String})

    assert sets_text(sets(*[(i, None, 10, None, None, "normal") for i in (1, 2, 3)])) == \
        "3 × 10 reps"
    assert sets_text(sets((1, None, None, 30.0, 5.0, None), (2, None, None, 35.0, 5.0, None))) == \
        "30, 35 s @ 5 kg"
    assert sets_text(sets((1, "left", None, 55.0, None, None),
                          (1, "right", None, 55.0, None, None))) == \
        "1 × 55 s (left); 1 × 55 s (right)"
    # Strong's pounds: 10 lb stored as 4.536 kg, shown in the person's unit; the warm-up apart
    strong = sets((1, None, 8, None, None, "warmup"),
                  *[(i, None, 12, None, 4.536, "normal") for i in (2, 3, 4)])
    assert sets_text(strong, unit="lb") == "3 × 12 reps @ 10 lb (+ warm-up 1 × 8 reps)"
    assert sets_text(strong) == "3 × 12 reps @ 4.5 kg (+ warm-up 1 × 8 reps)"
    assert sets_text(sets((1, None, None, 70.0, None, "test"))) == "test 1 × 70 s"
    # sets with a load apart from those without: the load is not shown for all
    mixed = sets((1, None, 10, None, None, "normal"), (2, None, 10, None, None, "normal"),
                 *[(i, None, 12, None, 11.34, "normal") for i in (3, 4, 5)])
    assert sets_text(mixed) == "2 × 10 reps; 3 × 12 reps @ 11.3 kg"
    # FitNotes: 20 kg and 44 lb (19.958 kg) are the same load to 0.1 kg: shown once
    both = sets((1, None, 12, None, 20.0, "normal"), (2, None, 10, None, 19.958, "normal"))
    assert sets_text(both) == "12, 10 reps @ 20 kg"


def test_sessions_with_minutes_but_no_effort_are_said_to_lack_the_effort_only(tmp_path):
    """Hevy gives each workout's minutes, not an effort rating: the note said the sessions
    "logged no effort and minutes"."""
    from rehab.report.monthly import MonthReport

    root = sessions_project(
        tmp_path, "hevy", "date,exercise,set,reps,duration_min\n2026-03-02,back_extension,1,10,40\n"
        "2026-03-05,back_extension,1,10,35\n2026-03-09,back_extension,1,10,30\n")
    html = MonthReport.load("me", "2026-03", project_dir=str(root)).what_was_done().html
    assert ("3 of 3 session(s) lack what the load needs (3 without a session effort rating (session RPE)): "
            in html)


def test_what_was_done_shows_each_name_as_written_on_its_own_row(tmp_path):
    """Hevy's "Back Extension (Machine)" and "Hyperextension" both map to back_extension: each
    is a row of its own with its own sets and load (they were one row: "10, 12, 10, 12, 12 reps
    @ 11.3 kg", the bodyweight sets shown at the machine's load)."""
    from rehab.report.monthly import MonthReport

    root = sessions_project(
        tmp_path, "app", "date,exercise,set,reps,load_kg\n"
        "2026-03-02,Back Extension (Machine),1,12,11.34\n"
        "2026-03-02,Back Extension (Machine),2,12,11.34\n"
        "2026-03-02,Hyperextension,1,10,\n2026-03-02,Hyperextension,2,10,\n"
        "2026-03-02,back_extension,1,8,\n")
    r = MonthReport.load("me", "2026-03", project_dir=str(root))
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>",
                                                           r.what_was_done().html)]
    done = {cells[i + 1]: cells[i + 2] for i in range(0, len(cells) - 4, 5)}
    name = "Back extension, bodyweight reps (45° bench)"
    assert done == {f"{name} (logged as “Back Extension (Machine)”)": "2 × 12 reps @ 11.3 kg",
                    f"{name} (logged as “Hyperextension”)": "2 × 10 reps",
                    name: "1 × 8 reps"}


def test_weekly_volume_by_family_by_hand():
    from rehab.report.monthly import weekly_volume

    s = pl.DataFrame({
        "date": [dt.date(2026, 5, 4), dt.date(2026, 5, 4), dt.date(2026, 5, 6),
                 dt.date(2026, 5, 12), dt.date(2026, 4, 20)],
        "exercise": ["back_extension_hold", "trap3_raise", "back_extension", "hip_hike",
                     "plank"],
        "reps": [None, 12, 10, 8, None], "hold_s": [60.0, None, None, None, 30.0],
    })
    v = weekly_volume(s, dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    got = {(r["week_start"], r["family"]): (r["reps"], r["hold_s"]) for r in v.iter_rows(named=True)}
    assert got == {
        (dt.date(2026, 5, 4), "spinal extensors"): (10.0, 60.0),
        (dt.date(2026, 5, 4), "upper back"): (12.0, 0.0),
        (dt.date(2026, 5, 11), "hip and pelvis"): (8.0, 0.0),
    }


def _rising_project(tmp_path: Path) -> Path:
    """A person whose Sorensen hold rises in a near-straight line: 40 s to 110 s in 8 tests."""
    raw_dir = tmp_path / "rising" / "data" / "raw"
    raw_dir.mkdir(parents=True)
    days = [dt.date(2026, 3, 2) + dt.timedelta(days=7 * i) for i in range(8)]
    values = [40, 50, 61, 70, 80, 91, 100, 110]
    (raw_dir / "tests.csv").write_text("date,test,value\n" + "".join(
        f"{d},sorensen_hold,{v}\n" for d, v in zip(days, values, strict=True)), encoding="utf-8")
    (raw_dir / "sessions.csv").write_text("date,exercise,set,reps,hold_s,load_kg,pain\n" + "".join(
        f"{d + dt.timedelta(days=1)},back_extension_hold,{s},,{30 + s},,{s}\n"
        f"{d + dt.timedelta(days=1)},trap3_raise,{s},12,,1.5,\n"
        for d in days for s in (1, 2, 3)), encoding="utf-8")
    return tmp_path / "rising"


def test_still_rising_curve_gives_no_plateau_and_no_date(tmp_path):
    from rehab.models.endurance import STILL_RISING
    from rehab.report.monthly import MonthReport

    r = MonthReport.load("me", "2026-04", project_dir=str(_rising_project(tmp_path)))
    sec = r.endurance_model()
    assert STILL_RISING in sec.text
    assert "levels off at" not in sec.text and "levels off at" not in sec.html
    assert "when (95% interval)" not in sec.html  # no forecast table


def test_what_was_done_lists_each_exercise_as_sets_with_the_pain(tmp_path):
    from rehab.report.monthly import MonthReport

    r = MonthReport.load("me", "2026-04", project_dir=str(_rising_project(tmp_path)))
    html = r.what_was_done().html
    # tests on Mondays from 2 March (..., 30 March, 6, 13, 20 April), sessions the day after:
    # 7, 14 and 21 April in April (31 March is March's)
    assert "3 training day(s) in April 2026" in html
    assert html.count("31, 32, 33 s") == 3 and html.count("3 × 12 reps @ 1.5 kg") == 3
    days_table = html.split("<figure")[0]
    assert "Tue 07 Apr" in days_table and "Tue 21 Apr" in days_table
    assert "31 Mar" not in days_table
    assert "up to 3 / 10" in html and "not rated" in html
    assert 'data-chart="volume"' in html and 'data-chart="load"' in html
    # none has an effort rating or minutes
    assert ("3 of 3 session(s) lack what the load needs (3 without a session effort rating (session RPE), 3 "
            "without minutes)") in html
    assert r.questionnaires().text == "No questionnaire scores are logged."
    assert "feasible GLS" in r.how_to_read().text and "AU" in r.how_to_read().text


# --- page helpers ---------------------------------------------------------------------------------


def test_charts_are_one_labelled_image_and_table_cells_carry_their_column():
    svg = accessible_svg('<svg class="marks" width="10" height="5" viewBox="0 0 10 5"><g/></svg>',
                         'Pain "by" day')
    assert svg.startswith('<svg class="marks" width="10" height="5" viewBox="0 0 10 5" '
                          'role="img" aria-label="Pain &quot;by&quot; day">'
                          "<title>Pain &quot;by&quot; day</title>")
    t = table(["day", "pain"], [["1 May", "3"]])
    assert '<td data-label="day">1 May</td><td data-label="pain">3</td>' in t


def test_palette_is_okabe_ito():
    from rehab import plots

    # Okabe & Ito 2008, "Color Universal Design": the eight colours, in their order
    assert plots.OKABE_ITO == ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7",
                               "#56B4E9", "#F0E442", "#000000")
    assert set(plots.ZONE_COLOURS.values()) <= set(plots.OKABE_ITO)


def test_flags_pain_up_by_the_important_change_and_too_much_pain(tmp_path):
    """Made by hand: `up` rates pain 2 every day of the first two weeks and 5 every day of the
    last four (+3 points: at least the important change of 2, Ostelo 2008), and in 3 of its 4
    last sessions a set's pain is 7 (above the acceptable 5: too much in at least half); `calm`
    rates 3 throughout with set pain 1. Both log until the day before TODAY."""
    raw_dir = tmp_path / "flags" / "data" / "raw"
    raw_dir.mkdir(parents=True)
    first = TODAY - dt.timedelta(days=70)
    days = [first + dt.timedelta(days=i) for i in range(70)]
    diary = ["participant,date,pain"]
    for i, d in enumerate(days):
        diary.append(f"up,{d},{2 if i < 14 else 5 if i >= 42 else 3}")
        diary.append(f"calm,{d},3")
    sessions = ["participant,date,exercise,set,hold_s,pain"]
    last4 = [days[-1] - dt.timedelta(days=7 * k) for k in range(4)]
    for k, d in enumerate(last4):
        sessions.append(f"up,{d},back_extension_hold,1,30,{7 if k < 3 else 2}")
        sessions.append(f"calm,{d},back_extension_hold,1,30,1")
    (raw_dir / "diary.csv").write_text("\n".join(diary) + "\n", encoding="utf-8")
    (raw_dir / "sessions.csv").write_text("\n".join(sessions) + "\n", encoding="utf-8")
    page = write_index(root=tmp_path / "flags", today=TODAY).read_text(encoding="utf-8")
    found = {p: re.sub(r"<[^>]+>", "|", r) for p, r in person_rows(page).items()}
    assert "pain up by +3.0 points (important change)" in found["up"]
    assert "too much pain in 3 of 4 rated sessions" in found["up"]
    assert "2.0 → 5.0 (+3.0): important worsening" in found["up"]
    assert "|none|" in found["calm"] and "no log for" not in found["calm"]
    # most flags first by default: `up` ranks 1 in the default (flags, descending) order
    assert re.search(r'data-person="up" style="[^"]*--r-flags-d:1[;"]', page)


def test_the_index_pain_window_ends_at_the_last_log_and_waits_for_the_first_two_weeks(tmp_path):
    """Made by hand. `late` keeps a diary for 60 days (pain 6 on days 0-13, 5 on days 14-34, 3
    on days 35-59) and logs a session 10 days after it: the last four weeks end on that session
    (day 69), as the index's other figures, so they hold diary days 42-59 only (mean 3.0; ending
    on the last diary day they held days 32-59: 3.2). `new`
    has 9 diary days: the last four weeks are the first two, so the change is not judged (the
    monthly page says so too; the index said "no important change")."""
    raw_dir = tmp_path / "win" / "data" / "raw"
    raw_dir.mkdir(parents=True)
    first = TODAY - dt.timedelta(days=80)
    diary = ["participant,date,pain"]
    for i in range(60):
        diary.append(f"late,{first + dt.timedelta(days=i)},{6 if i < 14 else 5 if i < 35 else 3}")
    for i in range(9):
        diary.append(f"new,{first + dt.timedelta(days=i)},{3 + i % 2}")
    sessions = ["participant,date,exercise,set,hold_s",
                f"late,{first + dt.timedelta(days=69)},back_extension_hold,1,30"]
    (raw_dir / "diary.csv").write_text("\n".join(diary) + "\n", encoding="utf-8")
    (raw_dir / "sessions.csv").write_text("\n".join(sessions) + "\n", encoding="utf-8")
    page = write_index(root=tmp_path / "win", today=TODAY).read_text(encoding="utf-8")
    found = {p: re.sub(r"<[^>]+>", "|", r) for p, r in person_rows(page).items()}
    assert "6.0 → 3.0 (−3.0): important improvement" in found["late"], found["late"]
    new_mean = sum(3 + i % 2 for i in range(9)) / 9
    assert (f"{new_mean:.1f} → {new_mean:.1f} (+0.0): not judged yet: the last four weeks "
            "overlap the first two") in found["new"], found["new"]


def test_a_stale_months_pdf_moves_aside_with_its_page(tmp_path):
    from rehab.report.files import move_stale

    root = copy_persona("hand_typed", tmp_path)
    fake_month_page(root, "me", "2025-12", demo=False)  # a month the data no longer hold
    (root / "reports" / "me" / "2025-12.pdf").write_bytes(b"%PDF-1.4\n")
    moved, dest = move_stale(ProjectPaths(root), {("me", "2026-04")}, "data/raw")
    assert moved == ["me/2025-12.html"]
    assert not (root / "reports" / "me" / "2025-12.pdf").exists()
    assert (dest / "me" / "2025-12.pdf").is_file()


def test_report_modules_import_each_other_in_one_direction():
    """No circle among the report package's module-level imports (what runs at import time;
    an import inside a function runs when called)."""
    import ast

    pkg = Path(__file__).parents[1] / "rehab" / "report"
    graph: dict[str, set[str]] = {}
    for f in pkg.glob("*.py"):
        deps = set()
        for node in ast.parse(f.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.module:
                mod = node.module
                if mod == "rehab.report":
                    deps |= {a.name for a in node.names if (pkg / f"{a.name}.py").is_file()}
                elif mod.startswith("rehab.report."):
                    deps.add(mod.split(".")[2])
        graph[f.stem] = deps - {f.stem, "__init__"}
    seen: dict[str, int] = {}

    def visit(m: str, path: tuple[str, ...]) -> None:
        assert m not in path, " -> ".join((*path, m))
        if seen.get(m):
            return
        for d in graph.get(m, ()):
            visit(d, (*path, m))
        seen[m] = 1

    for m in graph:
        visit(m, ())


def test_course_pain_band_cut_at_the_scale_says_so(tmp_path):
    """Monday 4 May pain 0, Tuesday 5 May pain 9: a 2-day week whose t-interval (mean 4.5,
    SD 6.4, t(1) = 12.7) runs far past 0 and 10; the next weeks rate 3 every day (no band
    beyond the scale). The caption says one week's band is cut."""
    raw_dir = tmp_path / "cut" / "data" / "raw"
    raw_dir.mkdir(parents=True)
    rows_ = ["date,pain", "2026-05-04,0", "2026-05-05,9"]
    rows_ += [f"{dt.date(2026, 5, 11) + dt.timedelta(days=i)},3" for i in range(14)]
    (raw_dir / "diary.csv").write_text("\n".join(rows_) + "\n", encoding="utf-8")
    page = write_course(tmp_path / "cut", "me", today=TODAY).read_text(encoding="utf-8")
    assert "The band of 1 week(s) is cut at the ends of the 0–10 scale" in page


def test_pdf_header_names_person_month_and_demo(tmp_path):
    from rehab.report.pdf import page_header

    fake_month_page(tmp_path, "p01", "2026-03", demo=False)
    fake_month_page(tmp_path, "demo", "2026-05", demo=True)
    assert page_header(tmp_path / "reports" / "p01" / "2026-03.html") == \
        "p01 · March 2026 · monthly report"
    assert page_header(tmp_path / "reports" / "demo" / "2026-05.html") == \
        "demo · May 2026 · monthly report · DEMO DATA (made-up numbers)"
    assert page_header(tmp_path / "reports" / "p01" / "index.html") == "p01 · the whole course"


def test_a_protocol_named_in_rehab_toml_gives_the_course_page_and_index_their_target(tmp_path):
    """The strong_pounds persona has no phases file: its rehab.toml names the protocol
    (``[protocol] id = "shit"``, 2 a week), which the monthly page followed while the course
    page and the index said "no protocol set". Training days are the days with work sets (a day
    of warm-ups or of the test alone is none), counted here from the export's rows."""
    from rehab.importers import import_file

    root = copy_persona("strong_pounds", tmp_path)
    import_file(root / "exports" / "strong.csv", root=root)
    export = rows(root / "exports" / "strong.csv")
    work = {r["Date"][:10] for r in export if r["Exercise Name"] != "Back Extension Max Hold"
            and (r["Set Order"].isdigit() or r["Set Order"] in ("F", "D"))}
    logged = {r["Date"][:10] for r in export if r["Set Order"] not in ("Rest Timer", "Note")}
    logged |= {r["date"] for r in rows(root / "data" / "raw" / "diary.csv")}
    last = dt.date.fromisoformat(max(logged))
    w0 = (last - dt.timedelta(days=27)).isoformat()
    n = len({d for d in work if d >= w0})
    project = Project.load(ProjectPaths(root))
    course = write_course(root, "me", project=project, today=TODAY).read_text(encoding="utf-8")
    assert "no protocol is set" not in course
    assert "weeks reached the target of the protocol in force that week (2 training days)" in course
    index = write_index(project=project, today=TODAY).read_text(encoding="utf-8")
    cells = re.sub(r"<[^>]+>", "|", person_rows(index)["me"])
    assert f"|{n} / 8" in cells and "no protocol set" not in cells, cells


def test_the_weekly_volume_counts_whole_weeks_of_work_sets_and_shows_empty_weeks(tmp_path):
    """The week of Monday 28 September 2026 touches September and October: both pages count it
    whole (September's page left out 1 October), warm-ups are not volume, and October's two
    weeks without a set are on the chart's axis (a break showed as adjacent bars)."""
    from rehab.report.charts import volume_chart
    from rehab.report.monthly import MonthReport

    root = str(sessions_project(
        tmp_path, "gap", "date,exercise,set,set_type,reps\n"
        "2026-09-28,back_extension,1,warmup,5\n2026-09-28,back_extension,2,normal,10\n"
        "2026-10-01,back_extension,1,normal,12\n2026-10-06,back_extension,1,normal,8\n"
        "2026-10-27,back_extension,1,normal,9\n"))
    sep, sep_weeks = MonthReport.load("me", "2026-09", project_dir=root).volume()
    octo, oct_weeks = MonthReport.load("me", "2026-10", project_dir=root).volume()
    reps = {r["week_start"]: r["reps"] for r in octo.iter_rows(named=True)}
    week = dt.date(2026, 9, 28)
    assert reps[week] == 10 + 12  # the warm-up's 5 are not volume
    assert sep.filter(pl.col("week_start") == week)["reps"].item() == reps[week]
    assert oct_weeks == [week + dt.timedelta(days=7 * i) for i in range(5)]
    assert sep_weeks[0] == dt.date(2026, 8, 31) and sep_weeks[-1] == week
    x = volume_chart(octo, oct_weeks).to_dict()["hconcat"][0]["encoding"]["x"]
    assert x["scale"]["domain"] == ["28 Sep", "05 Oct", "12 Oct", "19 Oct", "26 Oct"]


def test_the_course_page_judges_each_week_by_the_protocol_in_force_then(tmp_path):
    """Made by hand: a baseline test on Sunday 1 March 2026, then traditional-core (2 a week)
    from Monday 2 March to Sunday 15 March and shit-3x (3 a week) from 16 March on; 2 training
    days in each of the first three weeks, 3 in the fourth, the last log on Sunday 5 April (a
    diary line), no session in the week of 30 March. Weeks of 2 and 9 March: 2 of 2, met; 16
    March: 2 of 3, below; 23 March: 3 of 3, met; 30 March: 0 of 3, below. The week of 23
    February holds only the baseline test: before the first phase, not judged (it was counted
    as missed, and every week against the last protocol's 3)."""
    from rehab.report.course import course_weeks, window_target

    raw_dir = tmp_path / "switch" / "data" / "raw"
    raw_dir.mkdir(parents=True)
    (raw_dir / "phases.csv").write_text(
        "participant,start,end,protocol,phase\nme,2026-03-02,2026-03-15,traditional-core,A\n"
        "me,2026-03-16,,shit-3x,B\n", encoding="utf-8")
    days = ["2026-03-03", "2026-03-05", "2026-03-10", "2026-03-12", "2026-03-17", "2026-03-19",
            "2026-03-23", "2026-03-25", "2026-03-27"]
    (raw_dir / "sessions.csv").write_text(
        "date,exercise,set,reps\n" + "".join(f"{d},back_extension,1,10\n" for d in days),
        encoding="utf-8")
    (raw_dir / "tests.csv").write_text("date,test,value\n2026-03-01,sorensen_hold,60\n",
                                       encoding="utf-8")
    (raw_dir / "diary.csv").write_text("date,pain\n2026-04-05,3\n", encoding="utf-8")
    root = tmp_path / "switch"
    project = Project.load(ProjectPaths(root))
    mine = project.ds.for_participant("me")
    weeks, rates = course_weeks(mine, project.cfg, root, start=dt.date(2026, 3, 1),
                                end=dt.date(2026, 4, 5))
    assert rates == [2.0, 3.0]
    got = [(w.week_start.isoformat(), w.sessions, w.target, w.status) for w in weeks]
    assert got == [("2026-02-23", 0, None, "before_start"), ("2026-03-02", 2, 2.0, "met"),
                   ("2026-03-09", 2, 2.0, "met"), ("2026-03-16", 2, 3.0, "below"),
                   ("2026-03-23", 3, 3.0, "met"), ("2026-03-30", 0, 3.0, "below")]
    # the index's last four weeks, 9 March to 5 April: 7 days at 2 a week and 21 at 3 a week
    # ask for 2 + 9 = 11 training days (it used the last protocol's 3 a week for all: 12);
    # 7 were done (10, 12, 17, 19, 23, 25, 27 March)
    assert window_target(mine, project.cfg, root, dt.date(2026, 4, 5)) == 11.0
    index = write_index(project=project, today=TODAY).read_text(encoding="utf-8")
    assert "|7 / 11 (64%)" in re.sub(r"<[^>]+>", "|", person_rows(index)["me"])
    page = write_course(root, "me", project=project, today=TODAY).read_text(encoding="utf-8")
    assert ("3 of 5 weeks reached the target of the protocol in force that week (2 or 3 "
            "training days); 9 training days in 6 weeks. Not judged: 1 before the first "
            "phase.") in page
