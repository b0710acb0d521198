"""Findings: safety concerns as values, each with a severity, a message a clinician reads, and its source."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "critical": 2}[self.value]


@dataclass(frozen=True, slots=True)
class Finding:
    """One concern. ``code`` is stable (for software); ``message`` is for people; ``source`` cites it."""

    code: str
    severity: Severity
    message: str
    source: str
    action: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "source": self.source,
        }
        if self.action:
            data["action"] = self.action
        return data


def sort_findings(findings: list[Finding] | tuple[Finding, ...]) -> tuple[Finding, ...]:
    """Most severe first, then by code; duplicates (same code and message) removed."""
    unique = {(f.code, f.message): f for f in findings}
    return tuple(sorted(unique.values(), key=lambda f: (-f.severity.rank, f.code, f.message)))
