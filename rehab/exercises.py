"""Canonical exercise ids and the alias table that maps names as written to them.

Matching is on a normalised name (lower case, punctuation and extra spaces removed). Users add
aliases in ``rehab.toml`` under ``[aliases]``; unknown names are kept as written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

# id: (pillar, family, aliases)
EXERCISES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "back_extension": ("S,I", "spinal extensors", (
        "back extension", "back extensions", "hyperextension", "hyperextensions",
        "back extension (machine)", "back extension machine", "hyperextension (machine)",
        "roman chair", "roman chair back extension", "roman chair extension",
        "45 back extension", "45° back extension", "45 degree back extension",
        "45-degree hyperextension", "back extension (bodyweight)", "back hyperextension",
        "bodyweight back extension", "hyperextension (bodyweight)",
        "back extension (weighted)", "hyperextension (weighted)", "back extension (hyperextension)",
        "back extension (weighted hyperextension)",
    )),
    "back_extension_hold": ("S,I", "spinal extensors", (
        "back extension hold", "back extension isometric", "isometric back extension",
        "roman chair hold", "hyperextension hold", "45 back extension hold",
        "45° back extension hold", "superman hold",
    )),
    "sorensen_hold": ("I", "spinal extensors", (
        "sorensen", "sorensen hold", "sorensen test", "biering-sorensen", "biering sorensen",
        "biering-sørensen", "sørensen",
    )),
    "trap3_raise": ("S", "upper back", (
        "trap 3 raise", "trap3 raise", "trap-3 raise", "y raise", "y-raise", "prone y raise",
        "incline y raise", "trap 3", "y raise (dumbbell)",
        "trap 3 raise (dumbbell)", "dumbbell y raise",
    )),
    "split_squat_hold": ("H", "hip and pelvis", (
        "split squat hold", "split squat iso hold", "split squat isometric", "bottom split squat hold",
        "split squat (hold)", "isometric split squat",
    )),
    "split_squat": ("H", "hip and pelvis", ("split squat", "bulgarian split squat", "split squat (dumbbell)")),
    "hip_hike": ("H", "hip and pelvis", ("hip hike", "hip hikes", "hip hitch", "pelvic drop")),
    "outer_hip_drop_set": ("T", "squeeze then stretch", (
        "outer hip drop set", "outer-hip drop set", "squeeze then stretch", "hip squeeze stretch",
    )),
    "plank": ("core", "front", (
        "plank", "front plank", "forearm plank", "planks", "plank hold", "plank (bodyweight)",
        "elbow plank",
    )),
    "side_plank": ("core", "side", (
        "side plank", "side planks", "side bridge", "side plank (left)", "side plank (right)",
        "side plank (bodyweight)", "side plank left", "side plank right", "side plank (l)",
        "side plank (r)", "left side plank", "right side plank", "side bridge (left)",
        "side bridge (right)",
    )),
    "dead_bug": ("core", "front", ("dead bug", "dead bugs", "deadbug", "dead bug (bodyweight)")),
    "bird_dog": ("core", "front", (
        "bird dog", "bird dogs", "birddog", "bird-dog", "bird dog (bodyweight)", "quadruped bird dog",
    )),
    "glute_bridge": ("core", "hip", (
        "glute bridge", "bridge", "hip bridge", "glute bridges", "glute bridge (bodyweight)",
    )),
}

_norm_space = re.compile(r"[\s_\-]+")
_norm_drop = re.compile(r"[^\w\s°()-]")


def normalise(name: str) -> str:
    """Lower case, accents folded (ø kept as o), runs of space/_/- made one space."""
    s = unicodedata.normalize("NFKD", name.replace("ø", "o").replace("Ø", "O"))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = _norm_drop.sub("", s.lower())
    return _norm_space.sub(" ", s).strip()


def alias_table(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Normalised name → canonical id; ``extra`` (from rehab.toml) wins over the built-ins."""
    table: dict[str, str] = {}
    for ex_id, (_, _, aliases) in EXERCISES.items():
        table[normalise(ex_id)] = ex_id
        for a in aliases:
            table[normalise(a)] = ex_id
    for k, v in (extra or {}).items():
        table[normalise(k)] = v
    return table


def canonical(name: str, table: Mapping[str, str] | None = None) -> str | None:
    """The canonical id of ``name``, or None when it is not known."""
    table = table if table is not None else alias_table()
    return table.get(normalise(name))
