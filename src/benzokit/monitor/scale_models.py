"""The shape of a scale definition file: pydantic models that check items, options, totals and bands agree."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import (
    Field,
    ValidationInfo,
    model_validator,
)

from benzokit.drugs.models import Source
from benzokit.errors import InputError, UnknownNameError
from benzokit.types import FrozenModel, Sourced

LOINC_SYSTEM = "http://loinc.org"
_ID = r"^[a-z][a-z0-9_]*$"


class Code(FrozenModel):
    """A LOINC code, the source it was read in, and whether that source is primary."""

    code: str = Field(pattern=r"^[0-9]{1,7}-[0-9]$")
    display: str = ""
    source: str = Field(min_length=1)
    verified: bool = True
    note: str = ""


class Option(Sourced):
    """One response option: the value it scores and the label the patient reads."""

    value: int = Field(ge=0, le=100)
    label: str = Field(min_length=1)


class Item(Sourced):
    """One question. ``observer`` items are rated by a clinician and never part of a self-report."""

    id: str = Field(pattern=_ID)
    text: str = Field(min_length=3)
    loinc: Code | None = None
    observer: bool = False


class Range(FrozenModel):
    """The inclusive range of a total, ``low`` to ``high``, stated in the file (a total's range is
    checked against the items)."""

    low: int = Field(ge=0)
    high: int = Field(ge=0)
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


class Band(Range):
    """A severity band: totals ``low`` to ``high`` inclusive, and what such a total is called."""

    label: str = Field(min_length=1)


class Licence(FrozenModel):
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


class EscalationRule(FrozenModel):
    """An answer that always goes to the clinician: ``item`` answered above ``above``."""

    item: str = Field(pattern=_ID)
    above: int = Field(ge=0)
    reason: str = Field(min_length=10)
    source: str = Field(min_length=1)
    verified: bool = True


class Scale(FrozenModel):
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
    validated: bool = True  # False: not a validated instrument; said wherever it is shown
    validation_note: str = ""  # what a reader must know when it is not validated
    item_count: int | None = Field(default=None, ge=1)  # the published instrument's number of items

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [i.id for i in self.items]
        if self.item_count is not None and len(ids) != self.item_count:
            raise ValueError(
                f"'items' holds {len(ids)} item(s) but the instrument has {self.item_count} "
                f"('item_count'): {'an item is missing' if len(ids) < self.item_count else 'too many items'}"
            )
        if not self.validated and len(self.validation_note) < 10:
            raise ValueError("a scale that is not validated needs a 'validation_note' saying so")
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


class ScaleFile(FrozenModel):
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
