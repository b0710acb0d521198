"""Importing a clinic's licensed scale file (e.g. the published CIWA-B) into its knowledge overlay.

The file is validated whole before anything is written: its own schema (items, options, totals, bands,
sources), no placeholders, the item count of the instrument it replaces, and the scale set it joins
(no scale defined twice). Only then is it copied, atomically, into the overlay folder, where
``benzokit --knowledge DIR serve`` picks it up. Every problem names the file and the field.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

from benzokit.errors import DataError, InputError
from benzokit.files import write_atomically
from benzokit.knowledge import SCALE_FILES, Knowledge
from benzokit.monitor.scale_models import Scale, ScaleFile
from benzokit.monitor.scales import MAIN_FILE, ScaleSet, load_scale_file, load_scales


def import_scale(file: Path, into: Path) -> ScaleFile:
    """Validate the scale file ``file`` and copy it into the overlay folder ``into``; returns it."""
    if not fnmatch.fnmatchcase(file.name, SCALE_FILES):
        raise InputError("FILE", file.name, f"a scale file named like {SCALE_FILES}")
    if not file.is_file():
        raise InputError("FILE", str(file), "an existing scale file")
    if not into.is_dir():
        raise InputError("--into", str(into), "an existing folder (the clinic's knowledge overlay)")
    loaded = load_scale_file(file)
    current = Knowledge.with_overlay(into)
    before = load_scales(current)
    for key, scale in loaded.scales.items():
        _no_placeholders(file, key, scale)
        if key in before.scales:
            _same_instrument(file, key, scale, before)
    _joins(file, loaded, current)
    write_atomically(into / file.name, file.read_bytes())
    return loaded


def _no_placeholders(file: Path, key: str, scale: Scale) -> None:
    holes = scale.placeholders()
    if holes:
        raise DataError(
            str(file),
            f"scales.{key}.{holes[0]}",
            "is a placeholder: a scale is imported with the published wording only",
        )


def _same_instrument(file: Path, key: str, scale: Scale, before: ScaleSet) -> None:
    """A scale replacing one already defined keeps its number of items; a missing item is named."""
    known = before.get(key)
    expected = known.item_count or len(known.items)
    if len(scale.items) == expected:
        return
    ids = {i.id for i in scale.items}
    missing = [i.id for i in known.items if i.id not in ids]
    named = f" (missing: {', '.join(missing)})" if missing and len(missing) < expected else ""
    raise DataError(
        str(file),
        f"scales.{key}.items",
        f"holds {len(scale.items)} item(s); {known.name} has {expected}{named}",
    )


def _joins(file: Path, loaded: ScaleFile, current: Knowledge) -> None:
    """The scale set with ``file`` in place of the file of its name: no scale defined twice."""
    others = [
        (current.path(name), load_scale_file(current.path(name)))
        for name in current.names("benzokit.monitor", SCALE_FILES)
        if name != file.name
    ]
    main = current.path(MAIN_FILE)
    ScaleSet.from_files([(main, load_scale_file(main)), *others, (file, loaded)])
