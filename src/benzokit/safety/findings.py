"""Findings: safety concerns as values, each with a severity, a message a clinician reads, and its source.

Beside the prose a finding carries the numbers it is about, as fields software reads (never parse the
message): ``day`` (the plan day it concerns), ``from_mg`` and ``to_mg`` (daily doses, mg/day, of a
change) and ``fraction`` (the fall as a fraction of ``from_mg``, on findings that judge a reduction's
size; ``None`` elsewhere). Fields a finding is not about are ``None``. ``knowledge_version`` names the
knowledge base (:attr:`benzokit.knowledge.Knowledge.version`) the finding was judged by.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "critical": 2}[self.value]


NUMBER_FIELDS = ("day", "from_mg", "to_mg", "fraction")
"""The structured fields of a finding, in the order ``to_dict`` writes them."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One concern. ``code`` is stable (for software); ``message`` is for people; ``source`` cites it.

    ``day``, ``from_mg``, ``to_mg`` (mg/day) and ``fraction`` are the numbers the message states, when it
    is about a day or a change of dose (see the module docstring).
    """

    code: str
    severity: Severity
    message: str
    source: str
    action: str | None = None
    day: int | None = None
    from_mg: float | None = None
    to_mg: float | None = None
    fraction: float | None = None
    knowledge_version: str | None = None

    def with_numbers(
        self,
        *,
        day: int | None = None,
        from_mg: float | None = None,
        to_mg: float | None = None,
        fraction: float | None = None,
    ) -> Finding:
        """This finding carrying the numbers its message states."""
        return replace(self, day=day, from_mg=from_mg, to_mg=to_mg, fraction=fraction)

    def to_dict(self) -> dict[str, Any]:
        """The JSON view; ``action`` and the number fields appear when set."""
        data: dict[str, Any] = {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "source": self.source,
        }
        if self.action:
            data["action"] = self.action
        for name in NUMBER_FIELDS:
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        if self.knowledge_version is not None:
            data["knowledge_version"] = self.knowledge_version
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """The finding whose :meth:`to_dict` is ``data`` (KeyError/ValueError when malformed)."""
        day, from_mg, to_mg, fraction = (data.get(name) for name in NUMBER_FIELDS)
        return cls(
            code=str(data["code"]),
            severity=Severity(data["severity"]),
            message=str(data["message"]),
            source=str(data["source"]),
            action=data.get("action"),
            day=None if day is None else int(day),
            from_mg=None if from_mg is None else float(from_mg),
            to_mg=None if to_mg is None else float(to_mg),
            fraction=None if fraction is None else float(fraction),
            knowledge_version=data.get("knowledge_version"),
        )


def stamped(findings: Iterable[Finding], knowledge_version: str) -> tuple[Finding, ...]:
    """``findings`` marked with the knowledge base they were judged by (:attr:`Knowledge.version`)."""
    return tuple(replace(f, knowledge_version=knowledge_version) for f in findings)


def sort_findings(findings: list[Finding] | tuple[Finding, ...]) -> tuple[Finding, ...]:
    """Most severe first, then by code; duplicates (same code and message) removed."""
    unique = {(f.code, f.message): f for f in findings}
    return tuple(sorted(unique.values(), key=lambda f: (-f.severity.rank, f.code, f.message)))
