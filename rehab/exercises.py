"""Canonical exercise ids, and the matcher that maps names as written (by apps or by hand) to them.

A name is matched in three steps:

1. exactly, on its normalised form (lower case, accents folded, punctuation made spaces), against
   the ids, the built-in aliases, a protocol's aliases and the user's ``[aliases]`` (rehab.toml);
2. as a bag of words, against the same names: case, punctuation, parentheses, plural, word order
   and equipment words (barbell, dumbbell, cable, machine, weighted, bodyweight, band, smith,
   kettlebell ...) do not count, so ``Hyperextensions - Back Extensions``,
   ``Bulgarian Split Squat (Dumbbell)`` or ``Cable Y Raise`` find their exercise;
3. by *family*: each canonical exercise has word signatures (``{back, extension}``,
   ``{y, raise}`` ...) and words that may stand beside them without changing the exercise
   (positions, sides, ``bulgarian`` for a split squat ...). A name maps to a family only when
   exactly one family fits: the most specific signature the name holds wins (``back extension
   hold`` is the hold, not the reps), two unrelated signatures (``plank to bird dog``) or a word no
   family allows (``reverse hyperextension``: a hip extension, the legs move on a fixed trunk;
   ``good morning``: a loaded hip hinge) leave it unmapped.

Unmapped names are kept as written; :func:`suggest` gives the closest ids, for the user to map
under ``[aliases]``.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# id: (pillar, family, aliases) — the aliases are names as seen in logs and apps; the family
# signatures below match their variants
EXERCISES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "back_extension": ("S,I", "spinal extensors", (
        "back extension", "hyperextension", "roman chair", "roman chair back extension",
        "45° back extension", "45-degree hyperextension", "back hyperextension",
        "back extension (weighted hyperextension)", "back extensions - hyperextensions",
    )),
    "back_extension_hold": ("S,I", "spinal extensors", (
        "back extension hold", "isometric back extension", "roman chair hold",
        "hyperextension hold", "45° back extension hold", "superman hold",
    )),
    "sorensen_hold": ("I", "spinal extensors", (
        "sorensen", "sorensen test", "biering-sorensen", "biering-sørensen",
    )),
    "trap3_raise": ("S", "upper back", (
        "trap 3 raise", "trap3 raise", "y raise", "prone y raise", "incline y raise", "trap 3",
    )),
    "split_squat_hold": ("H", "hip and pelvis", (
        "split squat hold", "split squat iso hold", "bottom split squat hold",
        "isometric split squat",
    )),
    "split_squat": ("H", "hip and pelvis", ("split squat", "bulgarian split squat")),
    "hip_hike": ("H", "hip and pelvis", ("hip hike", "hip hitch", "pelvic drop")),
    "outer_hip_drop_set": ("T", "squeeze then stretch", (
        "outer hip drop set", "squeeze then stretch", "hip squeeze stretch",
    )),
    "plank": ("core", "front", ("plank", "front plank", "forearm plank", "elbow plank")),
    "side_plank": ("core", "side", ("side plank", "side bridge")),
    "dead_bug": ("core", "front", ("dead bug", "deadbug")),
    "bird_dog": ("core", "front", ("bird dog", "birddog", "quadruped bird dog")),
    "glute_bridge": ("core", "hip", ("glute bridge", "bridge", "hip bridge")),
}

# Words that name equipment or loading, not the exercise: dropped before any word match
EQUIPMENT = frozenset({
    "barbell", "bb", "dumbbell", "dumbell", "db", "cable", "machine", "weighted", "weight",
    "bodyweight", "bw", "band", "banded", "resistance", "smith", "kettlebell", "kb", "plate",
    "ez", "bar", "trx", "suspension", "ball", "stability", "swiss", "bosu", "landmine",
    "lever", "sled", "hammer", "strength", "loaded", "free", "body",
})  # fmt: skip
# Words that carry no meaning here ("on a roman chair", "squeeze then stretch")
_STOP = frozenset({"a", "an", "the", "on", "with", "and", "then", "to", "of", "in", "for", "w",
                   "degree"})  # "45°", "45 degree" and "45" are one bench
# Words any family allows beside its signature: sides, counts, positions, test and hold words
_ANY = frozenset({
    "left", "right", "l", "r", "both", "single", "one", "arm", "leg", "alternating",
    "test", "max", "maximum", "hold", "static", "floor", "bench", "incline", "decline", "slow",
    "tempo", "paused", "pause", "partial", "assisted", "x",
})  # fmt: skip
# Words rewritten before matching: compounds split, synonyms made one word
_REWRITE: dict[str, tuple[str, ...]] = {
    "hyperextension": ("back", "extension"),
    "hyperextention": ("back", "extension"),
    "hyper": ("back", "extension"),
    "backextension": ("back", "extension"),
    "extention": ("extension",),
    "deadbug": ("dead", "bug"),
    "birddog": ("bird", "dog"),
    "trap3": ("trap", "3"),
    "yraise": ("y", "raise"),
    "isometric": ("hold",),
    "iso": ("hold",),
    "isometrics": ("hold",),
    "holding": ("hold",),
    "sørensen": ("sorensen",),
    "sorenson": ("sorensen",),
    "glutes": ("glute",),
    "gluteal": ("glute",),
    "squeez": ("squeeze",),
    "degrees": ("degree",),
    "deg": ("degree",),
}
_NO_PLURAL = frozenset({"press", "cross", "glutes", "abs", "biceps", "triceps", "this"})


@dataclass(frozen=True)
class Family:
    """The signatures (word sets) that name an exercise, and the extra words it allows."""

    id: str
    signatures: tuple[frozenset[str], ...]
    allows: frozenset[str] = frozenset()


def _fam(ex_id: str, sigs: Iterable[str], allows: str = "") -> Family:
    return Family(ex_id, tuple(frozenset(s.split()) for s in sigs), frozenset(allows.split()))


_BACK = "45 roman chair prone lower high low pad"
FAMILIES: dict[str, Family] = {f.id: f for f in (
    _fam("back_extension", ["back extension", "roman chair"], _BACK),
    _fam("back_extension_hold", ["back extension hold", "roman chair hold", "superman hold"], _BACK),
    _fam("sorensen_hold", ["sorensen"], "biering"),
    _fam("trap3_raise", ["trap 3 raise", "trap 3", "y raise"], "prone lying chest supported"),
    _fam("split_squat", ["split squat"], "bulgarian rear foot elevated front"),
    _fam("split_squat_hold", ["split squat hold"], "bulgarian rear foot elevated front bottom"),
    _fam("hip_hike", ["hip hike", "hip hitch", "pelvic drop"], "standing step"),
    _fam("outer_hip_drop_set", ["outer hip drop set", "squeeze stretch", "hip squeeze stretch"]),
    _fam("plank", ["plank", "front plank"], "forearm elbow low high straight"),
    _fam("side_plank", ["side plank", "side bridge"], "forearm elbow low high straight"),
    _fam("dead_bug", ["dead bug"]),
    _fam("bird_dog", ["bird dog"], "quadruped"),
    _fam("glute_bridge", ["glute bridge", "bridge", "hip bridge", "hip raise"], ""),
)}  # fmt: skip

# Names that hold a family's words but are other exercises: never mapped to that family, and
# not suggested for it (the note says why)
_EXTENSION = ("back_extension", "back_extension_hold", "sorensen_hold")
NOT_A: tuple[tuple[frozenset[str], tuple[str, ...], str], ...] = (
    (frozenset({"reverse"}), _EXTENSION,
     "a reverse hyperextension is a hip extension (the legs move on a fixed trunk), "
     "not a back extension"),
    (frozenset({"good", "morning"}), _EXTENSION,
     "a good morning is a loaded hip hinge, not a back extension"),
)

_norm_space = re.compile(r"[\s_\-]+")
_norm_drop = re.compile(r"[^\w\s°()-]")
_split = re.compile(r"[^\w°]+")


def normalise(name: str) -> str:
    """Lower case, accents folded (ø kept as o), runs of space/_/- made one space."""
    s = unicodedata.normalize("NFKD", name.replace("ø", "o").replace("Ø", "O"))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = _norm_drop.sub("", s.lower())
    return _norm_space.sub(" ", s).strip()


def _singular(w: str) -> str:
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss") and w not in _NO_PLURAL:
        return w[:-1]
    return w


def words(name: str) -> frozenset[str]:
    """The words that identify an exercise: normalised, singular, rewritten, equipment and
    filler words dropped (``Back Extensions - Hyperextensions (Machine)`` → back, extension)."""
    out: set[str] = set()
    for raw in _split.split(normalise(name).replace("°", " degree ")):
        if not raw:
            continue
        # a number glued to letters: "45deg", "trap3" (kept whole when rewritten as such)
        parts = [raw] if raw in _REWRITE else re.findall(r"\d+|[^\d]+", raw)
        for p in parts:
            p = _singular(p)
            for w in _REWRITE.get(p, (p,)):
                if w not in EQUIPMENT and w not in _STOP:
                    out.add(w)
    return frozenset(out)


def words_key(name: str) -> tuple[str, ...]:
    """The sorted words of a name: equal for names that differ only in order, case, plural,
    punctuation or equipment."""
    return tuple(sorted(words(name)))


@dataclass(frozen=True)
class Match:
    """How a name was matched: ``id`` (None when unmapped), ``how`` (exact | words | family |
    ambiguous | unknown | excluded), the ``suggestions`` (closest ids) and a ``note``."""

    name: str
    id: str | None
    how: str
    suggestions: tuple[str, ...] = ()
    note: str = ""


def _excluded(w: frozenset[str]) -> list[tuple[str, str]]:
    """(family, why) for each family a :data:`NOT_A` rule bars for these words."""
    return [(fam, why) for need, fams, why in NOT_A if need <= w for fam in fams]


def match_family(name: str, families: Mapping[str, Family] | None = None) -> Match:
    """Step 3 of the module docstring: the one family whose signature fits, else None."""
    fams = FAMILIES if families is None else families
    w = words(name)
    if not w:
        return Match(name, None, "unknown")
    barred = {fam for fam, _ in _excluded(w)}
    held = [(f.id, s) for f in fams.values() for s in f.signatures if s <= w and f.id not in barred]
    # the most specific: a signature inside another one the name holds gives way
    top = [(i, s) for i, s in held if not any(s < t for _, t in held)]
    ids = sorted({i for i, _ in top})
    if len(ids) > 1:
        return Match(name, None, "ambiguous", tuple(ids),
                     "the name holds the words of " + " and ".join(ids))
    if not ids:
        note = "; ".join(dict.fromkeys(why for _, why in _excluded(w)))
        return Match(name, None, "excluded" if note else "unknown", note=note)
    fam = fams[ids[0]]
    rest = w - frozenset().union(*(s for _, s in top)) - fam.allows - _ANY
    if rest:
        return Match(name, None, "unknown", (fam.id,),
                     f"{', '.join(sorted(rest))}: not a known variant of {fam.id}")
    return Match(name, fam.id, "family")


class AliasTable(dict):
    """Normalised name → canonical id, with the word and family matchers behind the exact keys.

    A plain dict to its callers (``table[key] = id`` adds an alias, later ones win), but a name
    that is not a key is looked up as a bag of words (:func:`words_key`) and then by family:
    ``table.get(normalise(name))`` and ``in`` find ``Cable Y Raise`` as ``trap3_raise``."""

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self._by_words: dict[tuple[str, ...], str] | None = None
        self._cache: dict[str, Match] = {}

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key, value)
        self._by_words = None
        self._cache = {}

    def update(self, *args, **kw) -> None:  # through __setitem__: the caches are reset
        for k, v in dict(*args, **kw).items():
            self[k] = v

    def _words_index(self) -> dict[tuple[str, ...], str]:
        if self._by_words is None:
            index: dict[tuple[str, ...], str] = {}
            for k, v in dict.items(self):  # in insertion order: a later alias wins
                key = words_key(k)
                if key:
                    index[key] = v
            self._by_words = index
        return self._by_words

    def match(self, name: str) -> Match:
        """The :class:`Match` of a name (as written or normalised)."""
        key = normalise(name)
        hit = dict.get(self, key)
        if hit is not None:
            return Match(name, hit, "exact")
        if key in self._cache:
            m = self._cache[key]
            return m if m.name == name else Match(name, m.id, m.how, m.suggestions, m.note)
        w = words(key)
        hit = self._words_index().get(tuple(sorted(w)))
        if hit is not None:  # the built-in aliases hold no barred name: a hit is the user's
            m = Match(name, hit, "words")
        else:
            m = match_family(key)
            if m.id is None:
                m = Match(name, None, m.how, suggest(name, self, _first=m.suggestions), m.note)
            else:
                m = Match(name, m.id, m.how)
        self._cache[key] = m
        return m

    def __missing__(self, key: str) -> str:
        m = self.match(key)
        if m.id is None:
            raise KeyError(key)
        return m.id

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def copy(self) -> AliasTable:
        return AliasTable(dict.items(self))


def alias_table(extra: Mapping[str, str] | None = None) -> AliasTable:
    """Normalised name → canonical id; ``extra`` (from rehab.toml) wins over the built-ins.

    Names that are not keys are matched by words and by family (see :class:`AliasTable`)."""
    table = AliasTable()
    for ex_id, (_, _, aliases) in EXERCISES.items():
        table[normalise(ex_id)] = ex_id
        for a in aliases:
            table[normalise(a)] = ex_id
    for k, v in (extra or {}).items():
        table[normalise(k)] = v
    return table


def canonical(name: str, table: Mapping[str, str] | None = None) -> str | None:
    """The canonical id of ``name``, or None when it is not known (see :class:`AliasTable`)."""
    table = table if table is not None else alias_table()
    if isinstance(table, AliasTable):
        return table.match(name).id
    hit = table.get(normalise(name))
    return hit if hit is not None else alias_table().match(name).id


def match(name: str, table: Mapping[str, str] | None = None) -> Match:
    """The :class:`Match` of ``name`` against ``table`` (default: the built-in one)."""
    t = table if isinstance(table, AliasTable) else alias_table(table)
    return t.match(name)


def suggest(
    name: str, table: Mapping[str, str] | None = None, *, n: int = 3, _first: Iterable[str] = ()
) -> tuple[str, ...]:
    """The ids closest to ``name``, best first (at most ``n``): ids sharing the most words with
    it (against the ids, aliases and family signatures), then by spelling (difflib), leaving out
    the families a :data:`NOT_A` rule bars."""
    w = words(name)
    barred = {fam for fam, _ in _excluded(w)}
    w = w - {"test", "max", "maximum"}  # shared by every test: no likeness of exercises
    candidates: dict[str, str] = {}  # a name to compare with → its id
    for ex_id in FAMILIES:
        candidates[ex_id.replace("_", " ")] = ex_id
        for s in FAMILIES[ex_id].signatures:
            candidates[" ".join(sorted(s))] = ex_id
    for k, v in (table or {}).items():
        candidates[k] = v
    score: dict[str, float] = {}
    for text, ex_id in candidates.items():
        if ex_id in barred:
            continue
        cw = words(text) - {"test", "max", "maximum"}
        overlap = len(w & cw) / len(w | cw) if (w or cw) else 0.0
        spelled = difflib.SequenceMatcher(None, normalise(name), normalise(text)).ratio()
        # a shared word, or a close spelling (a typo), not a loose likeness of letters
        s = max(overlap, 0.8 * spelled if spelled >= 0.75 else 0.0)
        if s > score.get(ex_id, 0.0):
            score[ex_id] = s
    ranked = [i for i in _first if i not in barred]
    ranked += [i for i, s in sorted(score.items(), key=lambda kv: (-kv[1], kv[0]))
               if s > 0 and i not in ranked]  # fmt: skip
    return tuple(ranked[:n])
