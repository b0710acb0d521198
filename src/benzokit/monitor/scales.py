"""Validated symptom scales and their scoring: ``monitor/data/scales.toml`` plus optional ``scale_*.toml``.

A scale file gives each instrument's wording, response options, bands, licence, LOINC codes and escalation
rules, every statement with the key of its source (see the header of ``scales.toml``). Files are validated
on load; a malformed file raises :class:`~benzokit.errors.DataError` naming the file and the field.
Instruments whose licence is not confirmed ship as optional files (``optional = true``); anything marked
``placeholder = true`` is listed but raises :class:`~benzokit.errors.PlaceholderValueError` when used.

Answers come from web forms and JSON: :func:`score_scale` accepts whole numbers (``2``, ``"2"``, ``2.0``)
and refuses booleans, fractions, values outside the options, missing and unknown items, each with an
:class:`~benzokit.errors.InputError` whose field is ``"<scale>.<item>"``. Observer-rated items are not
part of a self-report: they are excluded from the patient's total, and the full-scale bands are not applied
to that partial total unless the file gives self-report bands.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import (
    ValidationError,
)

from benzokit.drugs.models import Source
from benzokit.errors import DataError, InputError, PlaceholderValueError, UnknownNameError
from benzokit.knowledge import Knowledge, read_toml, validation_to_data_error
from benzokit.monitor.records import ScaleScore
from benzokit.monitor.scale_models import (
    EscalationRule,
    Scale,
    ScaleFile,
)

MAIN_FILE = "scales.toml"
OPTIONAL_FILES = "scale_*.toml"
_DIGITS = re.compile(r"[0-9]{1,6}")


@dataclass(frozen=True)
class ScaleSet:
    """Every loaded scale (display order), the sources they cite, and the file each came from."""

    scales: Mapping[str, Scale]
    sources: Mapping[str, Source]
    files: Mapping[str, str]

    @classmethod
    def from_files(cls, files: Iterable[tuple[Path, ScaleFile]]) -> ScaleSet:
        """Merge validated files; a scale defined twice or a source key with two meanings: DataError."""
        scales: dict[str, Scale] = {}
        sources: dict[str, Source] = {}
        origin: dict[str, str] = {}
        cited: dict[str, str] = {}
        for path, loaded in files:
            for key, source in loaded.sources.items():
                if key in sources and sources[key] != source:
                    raise DataError(
                        str(path),
                        f"sources.{key}",
                        f"differs from the source {key!r} of {cited[key]}",
                    )
                sources[key], cited[key] = source, cited.get(key, str(path))
            for key, scale in loaded.scales.items():
                if key in scales:
                    raise DataError(
                        str(path), f"scales.{key}", f"is already defined in {origin[key]}"
                    )
                scales[key], origin[key] = scale, str(path)
        ordered = dict(sorted(scales.items(), key=lambda kv: (kv[1].order, kv[0])))
        return cls(ordered, sources, origin)

    def ids(self) -> tuple[str, ...]:
        return tuple(self.scales)

    def get(self, scale_id: str) -> Scale:
        """The definition of ``scale_id`` (for display too: placeholders included)."""
        if scale_id not in self.scales:
            raise UnknownNameError("scale", scale_id, self.scales)
        return self.scales[scale_id]

    def usable(self, scale_id: str) -> Scale:
        """The scale ``scale_id`` for use (scoring, a check-in); refuses one holding placeholders."""
        scale = self.get(scale_id)
        holes = scale.placeholders()
        if holes:
            raise PlaceholderValueError(
                self.files[scale_id],
                f"scales.{scale_id}.{holes[0]}",
                f"is a placeholder, not the published {scale.name} ({len(holes)} placeholder(s)); "
                "the scale cannot be used until its definition is completed",
            )
        return scale

    def patient_scales(self, *, include_optional: bool = True) -> tuple[Scale, ...]:
        """The usable scales a patient self-completes in a check-in, in display order."""
        return tuple(
            s
            for s in self.scales.values()
            if s.patient and not s.placeholders() and (include_optional or not s.optional)
        )

    def citation(self, key: str) -> str:
        """The citation text of a source key (with its DOI or URL when the file gives one)."""
        if key not in self.sources:
            raise UnknownNameError("source", key, self.sources)
        source = self.sources[key]
        link = f", doi {source.doi}" if source.doi else (f", {source.url}" if source.url else "")
        return source.citation + link


def load_scale_file(path: Path) -> ScaleFile:
    """Load and validate one scale file; any problem raises :class:`DataError` with file and field."""
    raw = read_toml(path)
    sources = raw.get("sources")
    context = {"source_keys": set(sources) if isinstance(sources, dict) else set()}
    try:
        return ScaleFile.model_validate(raw, context=context)
    except ValidationError as exc:
        raise validation_to_data_error(path, exc) from exc


def load_scale_dir(directory: Path) -> ScaleSet:
    """``scales.toml`` of ``directory`` plus every optional ``scale_*.toml`` there (not cached)."""
    return _scale_set_of(directory / MAIN_FILE, sorted(directory.glob(OPTIONAL_FILES)))


def _scale_set_of(main: Path, optional: list[Path]) -> ScaleSet:
    loaded = [(main, load_scale_file(main))]
    if loaded[0][1].optional:
        raise DataError(
            str(main), "optional", f"{MAIN_FILE} holds the core scales and cannot be optional"
        )
    loaded += [(p, load_scale_file(p)) for p in optional]
    return ScaleSet.from_files(loaded)


def load_scales(knowledge: Knowledge | None = None) -> ScaleSet:
    """The scales of ``knowledge`` (default: shipped): ``scales.toml`` plus every ``scale_*.toml``."""
    return (knowledge or Knowledge.shipped()).cached(_scale_set)


def _scale_set(knowledge: Knowledge) -> ScaleSet:
    main = knowledge.path(MAIN_FILE)
    optional = [knowledge.path(n) for n in knowledge.names("benzokit.monitor", OPTIONAL_FILES)]
    return _scale_set_of(main, optional)


def score_scale(
    scale_id: str, answers: Mapping[str, object], *, scales: ScaleSet | None = None
) -> ScaleScore:
    """Score a patient's answers to ``scale_id`` (self-rated items only): each answer, the total, the band."""
    scale = (scales or load_scales()).usable(scale_id)
    if not isinstance(answers, Mapping):
        raise InputError(scale_id, answers, "a mapping of item id to answer")
    self_items = scale.self_report_items
    wanted = {i.id for i in self_items}
    for key in sorted(answers, key=str):
        if key in wanted:
            continue
        field = f"{scale_id}.{key}"
        observer = [i.id for i in scale.items if i.observer]
        if key in observer:
            raise InputError(
                field, answers[key], "is rated by a clinician, not part of the self-report"
            )
        raise InputError(
            field, answers[key], "known items are: " + ", ".join(i.id for i in self_items)
        )
    scored: list[tuple[str, int]] = []
    for item in self_items:
        field = f"{scale_id}.{item.id}"
        if item.id not in answers:
            raise InputError(
                field, None, f"{scale.allowed_answers} is needed (the item is missing)"
            )
        given = answers[item.id]
        value = _whole_number(given)
        if value is None or value not in scale.values:
            raise InputError(field, given, scale.allowed_answers)
        scored.append((item.id, value))
    total = sum(v for _, v in scored)
    return ScaleScore(scale.id, scale.version, tuple(scored), total, scale.band_of(total))


def _whole_number(value: object) -> int | None:
    """An answer as an int: ints, digit strings and integral floats; never booleans."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        return int(text) if _DIGITS.fullmatch(text) else None
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    try:
        return operator.index(value)  # type: ignore[arg-type]  # int, and numpy's integers
    except TypeError:
        return None


def escalation_rules(
    score: ScaleScore, *, scales: ScaleSet | None = None
) -> tuple[EscalationRule, ...]:
    """The escalation rules of the score's scale that its answers trigger (data-driven)."""
    scale = (scales or load_scales()).get(score.scale)
    answers = dict(score.answers)
    triggered = []
    for rule in scale.escalate:
        if rule.item not in answers:
            raise InputError(
                f"{score.scale}.{rule.item}", None, "the score must hold this item's answer"
            )
        if answers[rule.item] > rule.above:
            triggered.append(rule)
    return tuple(triggered)


def escalates(score: ScaleScore, *, scales: ScaleSet | None = None) -> bool:
    """Whether the score must go to the clinician at once (e.g. PHQ-9 item 9 above 0)."""
    return bool(escalation_rules(score, scales=scales))
