"""What a CLI invocation runs with: the knowledge base chosen by ``benzokit --knowledge DIR``.

The CLI is the edge where this is decided, once per process, before a command runs; commands call
:func:`knowledge` and pass the result down to the library, which never reaches for it itself.
"""

from __future__ import annotations

from pathlib import Path

from benzokit.errors import DataError
from benzokit.knowledge import Knowledge

_chosen: list[Knowledge] = []
_overlay: list[Path] = []


def choose_knowledge(overlay: Path | None) -> Knowledge:
    """Set the knowledge base of this invocation (``None``: the shipped one) and return it."""
    _overlay[:] = [] if overlay is None else [overlay]
    chosen = Knowledge.with_overlay(overlay)
    _chosen[:] = [chosen]
    return chosen


def knowledge() -> Knowledge:
    """The knowledge base of this invocation (the shipped one unless ``--knowledge`` chose another)."""
    return _chosen[0] if _chosen else Knowledge.shipped()


def is_overlay_file(error: DataError) -> bool:
    """Whether ``error`` is about a file of the clinic's overlay (not a file shipped with benzokit)."""
    return bool(_overlay) and Path(error.path).resolve().is_relative_to(_overlay[0].resolve())
