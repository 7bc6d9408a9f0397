"""Scoring of the Oswestry Disability Index (ODI 2.1a) and the Roland-Morris questionnaire (RMDQ-24).

The questionnaire texts are licensed and are not shipped: this module holds only the scoring rules.

Input format (one row per item answer), a polars frame with the columns

==============  ============================================================================
participant     participant id (``me`` when the column is absent)
date            date the questionnaire was filled in (polars Date or ``YYYY-MM-DD`` text)
instrument      ``odi`` or ``rmdq`` (case-insensitive)
item            item number: 1-10 for the ODI (its ten sections), 1-24 for the RMDQ
answer          ODI: the section's score 0-5 (the 1st statement scores 0, the 6th scores 5);
                RMDQ: yes/no (also accepted: true/false, y/n, 1/0); empty = not answered
==============  ============================================================================

Scoring (reference: ``docs/SCIENCE.md``, "Pain and function"):

* ODI 2.1a (Fairbank & Pynsent 2000): ten sections scored 0-5;
  ODI% = sum ÷ (5 × sections answered) × 100. Bands from :data:`rehab.norms.ODI_BANDS`
  (0-20 minimal, 21-40 moderate, 41-60 severe, 61-80 crippled, 81-100 bed-bound; upper bounds
  inclusive). With fewer than ``odi_min_answered`` (default 8) sections answered no score is given
  and the note says so.
* RMDQ-24 (Roland & Morris 1983): the number of "yes" answers, 0-24, higher is worse. By default all
  24 items must be answered; with ``rmdq_min_answered`` < 24 the score is pro-rated
  (yes ÷ answered × 24) and the note says so. The kit's reference holds no RMDQ severity bands, so
  none are invented: the band column says only whether the score is in Kamper 2010's "recovered"
  range (≤ 2, :data:`rehab.norms.RECOVERED_ROLAND_MORRIS_MAX`).

Minimal important change (Ostelo 2008): ODI 10 points, RMDQ 5 points, or 30% from baseline
(:data:`rehab.norms.MIC_OSWESTRY`, :data:`~rehab.norms.MIC_ROLAND_MORRIS`,
:data:`~rehab.norms.MIC_RELATIVE`).

Answers that are not allowed (an ODI answer of 7, an RMDQ answer "maybe", an item number outside
1-10 / 1-24) are not counted and are listed in the row's note; a repeated item on the same form
keeps its last answer and is noted too. A frame without the required columns, or an unknown
instrument name, raises :class:`QuestionnaireError`.
"""

from __future__ import annotations

import polars as pl

from rehab import norms

# the pure scoring lives below the readers, which check a questionnaire table's item answers too
from rehab.instruments import (  # noqa: F401 (re-exported)
    ODI_ITEMS,
    ODI_MAX_ANSWER,
    ODI_MIN_ANSWERED,
    RMDQ_ITEMS,
    RMDQ_MIN_ANSWERED,
    QuestionnaireError,
    _yes_no,
    score_odi,
    score_rmdq,
)
from rehab.schema import DEFAULT_PARTICIPANT

INSTRUMENTS = ("odi", "rmdq")
COLUMNS = ("participant", "date", "instrument", "item", "answer")

SCORES_SCHEMA = {
    "participant": pl.String(),
    "date": pl.Date(),
    "instrument": pl.String(),
    "score": pl.Float64(),
    "score_max": pl.Float64(),
    "unit": pl.String(),
    "n_answered": pl.Int64(),
    "n_items": pl.Int64(),
    "band": pl.String(),
    "mic": pl.Float64(),
    "status": pl.String(),
    "note": pl.String(),
}


def odi_band(percent: float) -> str:
    """ODI 2.1a band for a percentage (upper bounds inclusive, :data:`rehab.norms.ODI_BANDS`)."""
    if not 0 <= percent <= 100:
        raise QuestionnaireError(f"ODI percentage {percent!r} is outside 0-100")
    for upper, name in norms.ODI_BANDS:
        if percent <= upper:
            return name
    return norms.ODI_BANDS[-1][1]  # pragma: no cover - 100 is the last upper bound


def rmdq_band(score: float) -> str:
    """Whether an RMDQ score lies in Kamper 2010's recovered range (≤ 2): no severity bands exist
    in the kit's reference."""
    if not 0 <= score <= RMDQ_ITEMS:
        raise QuestionnaireError(f"RMDQ score {score!r} is outside 0-24")
    return "recovered_range" if score <= norms.RECOVERED_ROLAND_MORRIS_MAX else "above_recovered_range"


def _conform(answers: pl.DataFrame) -> pl.DataFrame:
    if not isinstance(answers, pl.DataFrame):
        raise QuestionnaireError(f"expected a polars DataFrame, got {type(answers).__name__}")
    df = answers
    if "participant" not in df.columns:
        df = df.with_columns(pl.lit(DEFAULT_PARTICIPANT).alias("participant"))
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise QuestionnaireError(
            f"questionnaire frame lacks column(s) {', '.join(missing)}; "
            f"required: {', '.join(COLUMNS[1:])} (participant optional)"
        )
    if df.schema["date"] != pl.Date:
        try:
            df = df.with_columns(pl.col("date").cast(pl.String).str.to_date("%Y-%m-%d"))
        except pl.exceptions.PolarsError as e:
            raise QuestionnaireError(f"questionnaire dates must be YYYY-MM-DD: {e}") from e
    df = df.with_columns(
        pl.col("participant").cast(pl.String),
        pl.col("instrument").cast(pl.String).str.strip_chars().str.to_lowercase(),
        pl.col("item").cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False).alias("item"),
        pl.col("answer").cast(pl.String).str.strip_chars().str.to_lowercase().alias("answer"),
    )
    bad = sorted(set(df["instrument"].drop_nulls().to_list()) - set(INSTRUMENTS))
    if bad or df["instrument"].null_count():
        shown = ", ".join(repr(b) for b in bad) or "an empty instrument"
        raise QuestionnaireError(f"unknown instrument {shown}: allowed are {', '.join(INSTRUMENTS)}")
    return df.select(COLUMNS)


def score_questionnaires(
    answers: pl.DataFrame,
    *,
    odi_min_answered: int = ODI_MIN_ANSWERED,
    rmdq_min_answered: int = RMDQ_MIN_ANSWERED,
) -> pl.DataFrame:
    """Score every form (participant × date × instrument) in an item-answer frame.

    Returns one row per form with the columns of :data:`SCORES_SCHEMA`: ``score`` (ODI % or RMDQ
    points; null when too few items were answered, with ``status`` = ``too_few_items``),
    ``score_max`` (100 or 24), ``unit``, ``n_answered``, ``n_items``, ``band`` (ODI band, or for the
    RMDQ whether the score is in the recovered range), ``mic`` (Ostelo 2008 minimal important
    change in the score's unit), ``status`` (``scored`` | ``too_few_items``) and ``note``.
    """
    if not 1 <= odi_min_answered <= ODI_ITEMS:
        raise QuestionnaireError(f"odi_min_answered={odi_min_answered} must be 1-{ODI_ITEMS}")
    if not 1 <= rmdq_min_answered <= RMDQ_ITEMS:
        raise QuestionnaireError(f"rmdq_min_answered={rmdq_min_answered} must be 1-{RMDQ_ITEMS}")
    df = _conform(answers)
    rows = []
    for (pid, day, inst), form in df.sort("participant", "date", "instrument").group_by(
        ["participant", "date", "instrument"], maintain_order=True
    ):
        rows.append(
            _score_form(
                pid, day, inst, form,
                odi_min_answered if inst == "odi" else rmdq_min_answered,
            )
        )
    return pl.DataFrame(rows, schema=SCORES_SCHEMA, orient="row")


def _score_form(pid, day, inst, form: pl.DataFrame, min_answered: int) -> tuple:
    n_items = ODI_ITEMS if inst == "odi" else RMDQ_ITEMS
    notes: list[str] = []
    values: dict[int, int] = {}
    for item, answer in form.select("item", "answer").iter_rows():
        if item is None or item != int(item) or not 1 <= item <= n_items:
            notes.append(f"item {item!r} is not an item number 1-{n_items}: ignored")
            continue
        item = int(item)
        if answer is None or answer == "":
            continue
        if inst == "odi":
            try:
                v = float(answer)
            except ValueError:
                v = -1.0
            if v != int(v) or not 0 <= v <= ODI_MAX_ANSWER:
                notes.append(f"item {item}: answer {answer!r} is not 0-5: not counted")
                continue
            value = int(v)
        else:
            yn = _yes_no(answer)
            if yn is None:
                notes.append(f"item {item}: answer {answer!r} is not yes/no: not counted")
                continue
            value = yn
        if item in values:
            notes.append(f"item {item} answered twice: the last answer is used")
        values[item] = value
    n = len(values)
    if n < min_answered:
        notes.insert(0, f"only {n} of {n_items} items answered (fewer than {min_answered}): not scored")
        score = band = None
        status = "too_few_items"
    elif inst == "odi":
        score = sum(values.values()) / (ODI_MAX_ANSWER * n) * 100.0
        band = odi_band(score)
        status = "scored"
        if n < n_items:
            notes.insert(0, f"{n} of {n_items} sections answered: ODI% over the answered ones")
    else:
        score = sum(values.values()) * RMDQ_ITEMS / n
        band = rmdq_band(score)
        status = "scored"
        if n < n_items:
            notes.insert(0, f"{n} of {n_items} items answered: score pro-rated to 24")
    mic = norms.MIC_OSWESTRY if inst == "odi" else norms.MIC_ROLAND_MORRIS
    return (
        pid, day, inst, score, 100.0 if inst == "odi" else float(RMDQ_ITEMS),
        "%" if inst == "odi" else "points", n, n_items, band, mic, status,
        "; ".join(notes) or None,
    )
