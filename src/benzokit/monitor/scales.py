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
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from benzokit.drugs.loader import read_toml, validation_to_data_error
from benzokit.drugs.models import Source
from benzokit.errors import DataError, InputError, PlaceholderValueError, UnknownNameError
from benzokit.monitor.records import ScaleScore

MAIN_FILE = "scales.toml"
OPTIONAL_FILES = "scale_*.toml"
LOINC_SYSTEM = "http://loinc.org"
_ID = r"^[a-z][a-z0-9_]*$"
_DIGITS = re.compile(r"[0-9]{1,6}")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Code(_Frozen):
    """A LOINC code, the source it was read in, and whether that source is primary."""

    code: str = Field(pattern=r"^[0-9]{1,7}-[0-9]$")
    display: str = ""
    source: str = Field(min_length=1)
    verified: bool = True
    note: str = ""

    @property
    def system(self) -> str:
        return LOINC_SYSTEM


class Option(_Frozen):
    """One response option: the value it scores and the label the patient reads."""

    value: int = Field(ge=0, le=100)
    label: str = Field(min_length=1)
    source: str = Field(min_length=1)
    verified: bool = True
    placeholder: bool = False
    note: str = ""


class Item(_Frozen):
    """One question. ``observer`` items are rated by a clinician and never part of a self-report."""

    id: str = Field(pattern=_ID)
    text: str = Field(min_length=3)
    source: str = Field(min_length=1)
    loinc: Code | None = None
    observer: bool = False
    verified: bool = True
    placeholder: bool = False
    note: str = ""


class Range(_Frozen):
    """The inclusive range of a total, stated in the file and checked against the items."""

    low: int = Field(ge=0)
    high: int = Field(ge=0)
    source: str = Field(min_length=1)
    verified: bool = True
    note: str = ""


class Band(_Frozen):
    """A severity band: totals ``low`` to ``high`` inclusive."""

    low: int = Field(ge=0)
    high: int = Field(ge=0)
    label: str = Field(min_length=1)
    source: str = Field(min_length=1)
    verified: bool = True
    note: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.low > self.high:
            raise ValueError(f"'low' ({self.low}) is above 'high' ({self.high})")
        return self

    def contains(self, total: int) -> bool:
        return self.low <= total <= self.high


class Licence(_Frozen):
    """The terms an instrument may be used under, as far as a source confirms them."""

    status: Literal["free", "unconfirmed", "restricted"]
    statement: str = ""
    source: str = Field(min_length=1)
    verified: bool = True
    note: str = ""

    @model_validator(mode="after")
    def _stated(self) -> Self:
        if self.status == "free" and not self.statement:
            raise ValueError("a free licence needs the 'statement' that grants it")
        if self.status == "unconfirmed" and not self.note:
            raise ValueError("an unconfirmed licence needs a 'note' on its status")
        return self


class EscalationRule(_Frozen):
    """An answer that always goes to the clinician: ``item`` answered above ``above``."""

    item: str = Field(pattern=_ID)
    above: int = Field(ge=0)
    reason: str = Field(min_length=10)
    source: str = Field(min_length=1)
    verified: bool = True


class Scale(_Frozen):
    """One instrument, validated: items, options, totals and bands agree with each other."""

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=2)
    title: str = Field(min_length=3)
    version: str = Field(min_length=1)
    order: int
    patient: bool
    optional: bool = False
    stem: str = Field(min_length=3)
    stem_source: str = Field(min_length=1)
    attribution: str = Field(min_length=3)
    licence: Licence
    total: Range
    self_report_total: Range | None = None
    panel: Code | None = None
    total_code: Code | None = None
    options: tuple[Option, ...] = Field(min_length=2)
    items: tuple[Item, ...] = Field(min_length=1)
    bands: tuple[Band, ...] = ()
    self_report_bands: tuple[Band, ...] | None = None
    escalate: tuple[EscalationRule, ...] = ()
    placeholder: bool = False
    verified: bool = True
    note: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [i.id for i in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError(
                f"item ids repeat: {', '.join(sorted({i for i in ids if ids.count(i) > 1}))}"
            )
        if list(self.values) != sorted(set(self.values)):
            raise ValueError("option values must be distinct and in ascending order")
        _check_range("total", self.total, self.items, self.values)
        _check_bands("bands", self.bands, self.total)
        self_items = self.self_report_items
        if len(self_items) == len(self.items):
            if self.self_report_total is not None or self.self_report_bands is not None:
                raise ValueError(
                    "'self_report_total'/'self_report_bands' are only for scales with observer items"
                )
        else:
            if self.self_report_total is None or self.self_report_bands is None:
                raise ValueError(
                    "a scale with observer items needs 'self_report_total' and 'self_report_bands'"
                )
            _check_range("self_report_total", self.self_report_total, self_items, self.values)
            _check_bands("self_report_bands", self.self_report_bands, self.self_report_total)
        if self.patient and not self_items:
            raise ValueError("a patient scale needs at least one self-rated item")
        known = {i.id: i for i in self.items}
        for rule in self.escalate:
            if rule.item not in known or known[rule.item].observer:
                raise ValueError(
                    f"escalation item {rule.item!r} is not a self-rated item of this scale"
                )
            if rule.above >= self.values[-1]:
                raise ValueError(
                    f"escalation above {rule.above} can never trigger (highest option {self.values[-1]})"
                )
        return self

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(o.value for o in self.options)

    @property
    def self_report_items(self) -> tuple[Item, ...]:
        """The items a patient answers, in the instrument's order (all items but the observer ones)."""
        return tuple(i for i in self.items if not i.observer)

    @property
    def scored_range(self) -> Range:
        """The range of the total :func:`score_scale` computes (the self-report total if it differs)."""
        return self.self_report_total or self.total

    @property
    def scoring_bands(self) -> tuple[Band, ...]:
        """The bands of that total ("" where none: e.g. a partial self-report total)."""
        return self.bands if self.self_report_bands is None else self.self_report_bands

    @property
    def allowed_answers(self) -> str:
        """The answers an item accepts, in words: ``an answer 0, 1, 2 or 3``."""
        text = [str(v) for v in self.values]
        return f"an answer {', '.join(text[:-1])} or {text[-1]}"

    def item(self, item_id: str) -> Item:
        """The item ``item_id``, or an :class:`UnknownNameError` listing this scale's items."""
        for found in self.items:
            if found.id == item_id:
                return found
        raise UnknownNameError(f"{self.id}.item", item_id, (i.id for i in self.items))

    def band_of(self, total: int) -> str:
        """The severity band of a total as :func:`score_scale` computes it; "" where no band applies."""
        scored = self.scored_range
        if (
            isinstance(total, bool)
            or not isinstance(total, int)
            or not scored.low <= total <= scored.high
        ):
            raise InputError(
                f"{self.id}.total", total, f"a whole number from {scored.low} to {scored.high}"
            )
        return next((b.label for b in self.scoring_bands if b.contains(total)), "")

    def placeholders(self) -> tuple[str, ...]:
        """Field paths (within the scale) of everything marked as a placeholder."""
        found = ["placeholder"] if self.placeholder else []
        found += [f"options.{n}" for n, o in enumerate(self.options) if o.placeholder]
        found += [f"items.{n}" for n, i in enumerate(self.items) if i.placeholder]
        return tuple(found)

    def source_refs(self) -> tuple[tuple[str, str], ...]:
        """Every source key the scale cites, with the field that cites it (``items.3.source``)."""
        refs = [("stem_source", self.stem_source), ("licence.source", self.licence.source)]
        for name in ("total", "self_report_total", "panel", "total_code"):
            part = getattr(self, name)
            if part is not None:
                refs.append((f"{name}.source", part.source))
        for name in ("options", "items", "bands", "self_report_bands", "escalate"):
            for n, part in enumerate(getattr(self, name) or ()):
                refs.append((f"{name}.{n}.source", part.source))
        refs += [
            (f"items.{n}.loinc.source", i.loinc.source) for n, i in enumerate(self.items) if i.loinc
        ]
        return tuple(refs)

    @model_validator(mode="after")
    def _sources_defined(self, info: ValidationInfo) -> Self:
        """With the file's source keys in the validation context, every cited key must be one."""
        defined = (info.context or {}).get("source_keys")
        if defined is not None:
            undefined = [
                f"{where} cites {key!r}" for where, key in self.source_refs() if key not in defined
            ]
            if undefined:
                raise ValueError(
                    "undefined source key(s) (define them under [sources]): " + "; ".join(undefined)
                )
        return self


def _check_range(
    name: str, stated: Range, items: tuple[Item, ...], values: tuple[int, ...]
) -> None:
    expected = (len(items) * values[0], len(items) * values[-1])
    if (stated.low, stated.high) != expected:
        raise ValueError(
            f"'{name}' {stated.low}-{stated.high} does not match the items: "
            f"expected {expected[0]}-{expected[1]}"
        )


def _check_bands(name: str, bands: tuple[Band, ...], within: Range) -> None:
    for n, band in enumerate(bands):
        if band.low < within.low or band.high > within.high:
            raise ValueError(
                f"{name}.{n} ({band.low}-{band.high}) lies outside the total {within.low}-{within.high}"
            )
        if n and band.low != bands[n - 1].high + 1:
            raise ValueError(
                f"{name}.{n} must start at {bands[n - 1].high + 1}, right after {name}.{n - 1}"
            )


class ScaleFile(_Frozen):
    """One scale file: its sources and scales (each scale's ``id`` is its table name)."""

    schema_version: Literal[1]
    data_version: str = Field(min_length=1)
    optional: bool = False
    sources: dict[str, Source]
    scales: dict[str, Scale] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _ids_from_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("scales"), dict):
            optional = data.get("optional", False)
            scales = {}
            for key, raw in data["scales"].items():
                scales[key] = (
                    {"id": key, "optional": optional, **raw} if isinstance(raw, dict) else raw
                )
            data = {**data, "scales": scales}
        return data

    @model_validator(mode="after")
    def _keys_and_sources(self) -> Self:
        for key, scale in self.scales.items():
            if scale.id != key:
                raise ValueError(f"scales.{key}: 'id' {scale.id!r} differs from the table name")
            if scale.optional != self.optional:
                raise ValueError(
                    f"scales.{key}: 'optional' must be that of the file ({self.optional})"
                )
            missing = sorted({k for _, k in scale.source_refs()} - set(self.sources))
            if missing:
                raise ValueError(
                    f"scales.{key} cites {', '.join(missing)}, not defined under [sources]"
                )
        return self


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
    main = directory / MAIN_FILE
    loaded = [(main, load_scale_file(main))]
    if loaded[0][1].optional:
        raise DataError(
            str(main), "optional", f"{MAIN_FILE} holds the core scales and cannot be optional"
        )
    loaded += [(p, load_scale_file(p)) for p in sorted(directory.glob(OPTIONAL_FILES))]
    return ScaleSet.from_files(loaded)


@cache
def load_scales() -> ScaleSet:
    """The scales shipped with benzokit (cached)."""
    return load_scale_dir(Path(str(resources.files("benzokit.monitor").joinpath("data"))))


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
