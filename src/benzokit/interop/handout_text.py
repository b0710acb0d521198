"""The wording of the patient handout, loaded from ``interop/data/handout_text.toml``.

Every statement carries the key of its source; locales give the paper size, the clock style and the
crisis and emergency lines (real numbers only where sourced, clearly marked placeholders elsewhere).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator

from benzokit.drugs.models import Source
from benzokit.errors import UnknownNameError
from benzokit.knowledge import Knowledge, read_document
from benzokit.types import FrozenModel, Sourced


class Statement(Sourced):
    """One sentence for the patient and the key of the source it rests on."""

    text: str = Field(min_length=3)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9][0-9 -]{1,19}$")  # as dialled

    @model_validator(mode="after")
    def _phone_in_text(self) -> Self:
        if self.phone is not None and self.phone not in self.text:
            raise ValueError(f"'phone' {self.phone!r} must appear in 'text' as written there")
        return self


class Section(FrozenModel):
    title: str = Field(min_length=3)
    items: tuple[Statement, ...] = Field(min_length=1)


class Locale(FrozenModel):
    """What differs by country: paper, clock style, and where to get help."""

    name: str
    page_size: Literal["letter", "A4"]
    clock: Literal["12h", "24h"]
    crisis: tuple[Statement, ...] = Field(min_length=1)
    emergency: Statement


class HandoutText(FrozenModel):
    schema_version: Literal[1]
    data_version: str
    sources: dict[str, Source]
    key_messages: Section
    withdrawal: Section
    call_prescriber: Section
    get_help_now: Section
    locales: dict[str, Locale] = Field(min_length=1)

    @model_validator(mode="after")
    def _sources_resolve(self) -> Self:
        used = {s.source for s in self.statements()}
        missing = sorted(used - set(self.sources))
        if missing:
            raise ValueError(f"source key(s) {', '.join(missing)} are used but not under [sources]")
        return self

    def statements(self) -> list[Statement]:
        sections = (self.key_messages, self.withdrawal, self.call_prescriber, self.get_help_now)
        found = [s for section in sections for s in section.items]
        for locale in self.locales.values():
            found.extend((*locale.crisis, locale.emergency))
        return found

    def locale(self, code: str) -> Locale:
        """The locale ``code`` (e.g. ``en-US``), or an :class:`UnknownNameError` listing the known ones."""
        if code not in self.locales:
            raise UnknownNameError("locale", code, self.locales)
        return self.locales[code]


def load_handout_text_file(path: Path) -> HandoutText:
    """Load and validate a handout wording file; a problem is a :class:`DataError` naming its field."""
    return read_document(path, HandoutText)


def load_handout_text(knowledge: Knowledge | None = None) -> HandoutText:
    """The handout wording (``handout_text.toml``) of ``knowledge`` (default: shipped)."""
    return (knowledge or Knowledge.shipped()).load("handout_text.toml", load_handout_text_file)


def known_locales(knowledge: Knowledge | None = None) -> tuple[str, ...]:
    """The locales the handout wording of ``knowledge`` (default: shipped) has, sorted."""
    return tuple(sorted(load_handout_text(knowledge).locales))
