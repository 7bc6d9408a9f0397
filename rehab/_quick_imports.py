"""Import-time shortcuts for report kernels, where start-up time is most of a report's time.

Two libraries do work at import that no report uses:

- jsonschema imports ``rfc3987_syntax`` when it is installed (jupyter pulls it in), and that
  compiles a grammar: 1-4 s per process. Altair and nbformat never check IRI formats, and
  jsonschema falls back cleanly when the import fails.
- SciPy (1.15+) rewrites the docstring of each array-API-aware function at import, to append a
  table of supported backends: about 0.5 s for ``scipy.stats``. Docstrings are kept as written.

Both only skip documentation and format checks; results do not change. Call :func:`apply` before
the first import of jsonschema or scipy; later it does nothing.
"""

from __future__ import annotations

import sys


class _DocAsWritten:
    """Stands in for scipy's numpydoc parser: the docstring stays as written."""

    def __init__(self, func):
        self._doc = getattr(func, "__doc__", None) or ""
        self._notes: list[str] = []

    def __getitem__(self, section: str) -> list[str]:
        return self._notes

    def __str__(self) -> str:
        return "\n" + self._doc  # scipy drops the first line (a signature) of what it gets


def apply() -> None:
    """Both shortcuts (for a report kernel, which imports SciPy anyway)."""
    skip_iri_grammar()
    skip_scipy_doc_tables()


def skip_iri_grammar() -> None:
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


def skip_scipy_doc_tables() -> None:
    if "scipy.stats" not in sys.modules:
        try:
            from scipy._lib import _array_api
        except ImportError:  # another SciPy layout: nothing to skip
            return
        if hasattr(_array_api, "FunctionDoc"):
            _array_api.FunctionDoc = _DocAsWritten
