"""Questionnaire instruments: the scoring of item answers, as plain functions.

Shared by the questionnaires table's reader (:mod:`rehab.io` checks that a record's item answers
give its score) and by :mod:`rehab.models.questionnaires` (which scores item-answer frames): it
sits below both, depending only on :mod:`rehab.norms` and :mod:`rehab.schema`.

Scoring (the important changes and their sources: :mod:`rehab.norms`):

* ODI 2.1a (Fairbank & Pynsent 2000): ten sections scored 0-5;
  ODI% = sum ÷ (5 × sections answered) × 100; at least 8 sections answered.
* RMDQ-24 (Roland & Morris 1983): the number of "yes" answers of 24, all answered by default
  (pro-rated × 24 ÷ answered when ``min_answered`` allows fewer).
* PSFS (Stratford 1995): the mean of the 1-5 activities' ratings, each 0-10 (10 = able to do
  the activity as before), higher is better.
* NRS: one pain rating 0-10.

In a questionnaires file the ``items`` field holds the answers in item order, separated by
spaces, or by commas (then quote the field); ``-`` (or nothing between commas) marks an item
not answered. A score agrees with its items when it is within :data:`AGREE_WITHIN` of theirs (a
score written rounded to a whole number agrees).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rehab import norms
from rehab.schema import QUESTIONNAIRE_INSTRUMENTS, SCORE_RANGES

ODI_ITEMS = 10
ODI_MAX_ANSWER = 5
RMDQ_ITEMS = 24
ODI_MIN_ANSWERED = 8
RMDQ_MIN_ANSWERED = 24
PSFS_MAX_ACTIVITIES = 5
AGREE_WITHIN = 0.5

_YES = {"yes", "y", "true", "1", "1.0", "ja", "oui"}
_NO = {"no", "n", "false", "0", "0.0", "nein", "non"}

# Minimal important change in each instrument's unit (Ostelo 2008 for ODI, RMDQ and NRS; PSFS:
# quoted, primary source not read, see rehab.norms)
MIC = {
    "odi": norms.MIC_OSWESTRY,
    "rmdq": norms.MIC_ROLAND_MORRIS,
    "psfs": norms.MIC_PSFS_UNVERIFIED,
    "nrs": norms.MIC_NRS_POINTS,
}
HIGHER_IS_BETTER = frozenset({"psfs"})

# What the items field holds, per instrument (for messages)
ITEMS_RULE = {
    "odi": "10 section scores, each a whole number 0-5 (at least 8 answered)",
    "rmdq": "24 answers, each yes/no (or 1/0), all answered",
    "psfs": f"1-{PSFS_MAX_ACTIVITIES} activity ratings, each 0-10 (the score is their mean)",
    "nrs": "one rating 0-10",
}
SCORE_RULE = {
    "odi": "ODI% = sum ÷ (5 × sections answered) × 100",
    "rmdq": "the number of yes answers",
    "psfs": "the mean of the activity ratings",
    "nrs": "the rating",
}


class QuestionnaireError(ValueError):
    """A questionnaire frame or answer list that cannot be scored as given."""


def score_odi(answers: Sequence[float | None], *, min_answered: int = ODI_MIN_ANSWERED) -> float | None:
    """ODI% from the ten section scores (None = not answered): sum ÷ (5 × answered) × 100.

    Returns None when fewer than ``min_answered`` sections are answered.
    """
    if len(answers) != ODI_ITEMS:
        raise QuestionnaireError(f"the ODI has {ODI_ITEMS} sections; got {len(answers)} answers")
    given = [a for a in answers if a is not None]
    for a in given:
        if a not in range(ODI_MAX_ANSWER + 1):
            raise QuestionnaireError(f"ODI section answer {a!r} is not allowed: a whole number 0-5")
    if len(given) < min_answered:
        return None
    return sum(given) / (ODI_MAX_ANSWER * len(given)) * 100.0


def score_rmdq(
    answers: Sequence[bool | int | str | None], *, min_answered: int = RMDQ_MIN_ANSWERED
) -> float | None:
    """RMDQ-24 score: the number of "yes" answers (pro-rated × 24 ÷ answered when fewer than 24 are
    answered and ``min_answered`` allows it). Returns None below ``min_answered``."""
    if len(answers) != RMDQ_ITEMS:
        raise QuestionnaireError(f"the RMDQ has {RMDQ_ITEMS} items; got {len(answers)} answers")
    parsed = []
    for a in answers:
        if a is None:
            continue
        yes = _yes_no(a)
        if yes is None:
            raise QuestionnaireError(f"RMDQ answer {a!r} is not allowed: yes/no, true/false, 1/0")
        parsed.append(yes)
    if len(parsed) < min_answered or not parsed:
        return None
    return sum(parsed) * RMDQ_ITEMS / len(parsed)


def score_psfs(ratings: Sequence[float | None]) -> float | None:
    """PSFS score: the mean of the activities' ratings (0-10 each; None = not rated).

    Returns None when no activity is rated."""
    if not 1 <= len(ratings) <= PSFS_MAX_ACTIVITIES:
        raise QuestionnaireError(
            f"the PSFS rates 1-{PSFS_MAX_ACTIVITIES} activities; got {len(ratings)} ratings")
    given = [r for r in ratings if r is not None]
    for r in given:
        if not 0 <= r <= 10:
            raise QuestionnaireError(f"PSFS rating {r!r} is not allowed: a number 0-10")
    return sum(given) / len(given) if given else None


def score_nrs(ratings: Sequence[float | None]) -> float | None:
    """NRS score: the one rating 0-10 (None when it is not given)."""
    if len(ratings) != 1:
        raise QuestionnaireError(f"the NRS is one rating; got {len(ratings)}")
    r = ratings[0]
    if r is not None and not 0 <= r <= 10:
        raise QuestionnaireError(f"NRS rating {r!r} is not allowed: a number 0-10")
    return r


def _yes_no(a: object) -> int | None:
    if isinstance(a, bool):
        return int(a)
    s = str(a).strip().lower()
    if s in _YES:
        return 1
    if s in _NO:
        return 0
    return None


def split_items(text: str) -> list[str | None]:
    """The answers of an items field: split at commas if it has any, else at spaces; ``-`` or
    nothing is an item not answered."""
    text = text.strip()
    parts = text.split(",") if "," in text else text.split()
    return [p.strip() if p.strip() not in ("", "-") else None for p in parts]


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def _numbers(parts: list[str | None], what: str) -> list[float | None]:
    out: list[float | None] = []
    for i, p in enumerate(parts, 1):
        if p is not None and not _NUMBER.match(p):
            raise QuestionnaireError(f"{what} {i} ({p!r}) is not a number")
        out.append(None if p is None else float(p))
    return out


def score_items(instrument: str, items: str) -> float:
    """The score of an items field (see the module doc); :class:`QuestionnaireError` saying what
    is wrong and what the instrument takes when the answers cannot be scored."""
    if instrument not in QUESTIONNAIRE_INSTRUMENTS:
        raise QuestionnaireError(f"unknown instrument {instrument!r}: use one of "
                                 f"{', '.join(QUESTIONNAIRE_INSTRUMENTS)}")
    parts = split_items(items)
    rule = f"{instrument} items are {ITEMS_RULE[instrument]}, separated by spaces or commas"
    if instrument in ("odi", "psfs"):
        rule += " ('-' for one not answered)"
    try:
        if instrument == "odi":
            values = _numbers(parts, "section")
            bad = [v for v in values if v is not None and v != int(v)]
            if bad:
                raise QuestionnaireError(f"section answer {bad[0]:g} is not a whole number 0-5")
            score = score_odi([None if v is None else int(v) for v in values])
            n, need = sum(v is not None for v in values), ODI_MIN_ANSWERED
        elif instrument == "rmdq":
            score = score_rmdq(parts)
            n, need = sum(p is not None for p in parts), RMDQ_MIN_ANSWERED
        elif instrument == "psfs":
            values = _numbers(parts, "activity")
            score, n, need = score_psfs(values), sum(v is not None for v in values), 1
        else:
            values = _numbers(parts, "rating")
            score, n, need = score_nrs(values), sum(v is not None for v in values), 1
    except QuestionnaireError as e:
        raise QuestionnaireError(f"{e}; {rule}") from None
    if score is None:
        raise QuestionnaireError(f"only {n} item(s) answered, {need} needed to score; {rule}")
    return score


def items_problem(instrument: str | None, items: str | None) -> str | None:
    """Why an items field cannot be scored, or None (also when there is nothing to check)."""
    if instrument not in SCORE_RANGES or items is None or not items.strip():
        return None
    try:
        score_items(instrument, items)
    except QuestionnaireError as e:
        return f"cannot be scored: {e}"
    return None


def score_problem(instrument: str | None, items: str | None, score: float | None) -> str | None:
    """Why a score disagrees with its items' score, or None (also when either is missing or the
    items cannot be scored: :func:`items_problem` says so)."""
    if instrument not in SCORE_RANGES or score is None or items is None or not items.strip():
        return None
    try:
        theirs = score_items(instrument, items)
    except QuestionnaireError:
        return None
    if abs(score - theirs) <= AGREE_WITHIN + 1e-9:
        return None
    hint = ""
    if instrument == "odi" and abs(score * 2 - theirs) <= AGREE_WITHIN + 1e-9:
        hint = " (a raw sum out of 50? the ODI score is a percentage)"
    return (f"does not agree with the items, which score {theirs:.4g} ({SCORE_RULE[instrument]}){hint}; "
            f"allowed: within {AGREE_WITHIN:g} of it: correct the score or the items")
