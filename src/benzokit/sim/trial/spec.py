"""The trial specification file (TOML), validated with messages that name the file and the field.

Example: ``examples/trial-taper.toml``; the format is documented in the README ("Virtual trials").
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from benzokit.errors import InputError
from benzokit.sim.grid import MAX_DAYS

MAX_SUBJECTS = 100_000_000


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TrialSection(_Strict):
    name: str = Field(min_length=1)
    drug: str
    subjects: int = Field(ge=1, le=MAX_SUBJECTS)
    seed: int = Field(ge=0, lt=2**63)
    days: int = Field(ge=1, le=MAX_DAYS)
    chunk_size: int | None = Field(None, ge=64, le=10_000_000)


class PDSection(_Strict):
    occupancy_set: str | None = None
    tolerance_model: Literal["moderator", "turnover_feedback"] = "moderator"
    withdrawal_threshold: float | None = Field(None, ge=0.0, le=1.0)


class PlannedTaper(_Strict):
    """A taper made by the planner (``benzokit plan taper``), after a run-in at the starting dose."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True
    )

    strategy: Literal["label", "guideline", "hyperbolic"]
    from_dose: str = Field(alias="from", min_length=1)
    risk: Literal["low", "moderate", "high"] | None = None
    liquid: bool = False
    run_in_days: int = Field(28, ge=0, le=3650)


class Strategy(_Strict):
    """What the subjects take: a regimen written out, or a taper the planner makes."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    regimen: str | None = Field(None, min_length=1)
    plan: PlannedTaper | None = None
    description: str = ""

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.regimen is None) == (self.plan is None):
            raise ValueError(
                "give exactly one of 'regimen' (prescription text) or 'plan' (a planner taper)"
            )
        return self


class Outputs(_Strict):
    plots: bool = True
    band_subjects: int = Field(2000, ge=0, le=100_000)


class TrialSpec(_Strict):
    """A validated trial: who (population), what (strategies), how long, and which outputs."""

    trial: TrialSection
    population: dict[str, Any] = Field(default_factory=dict)
    pd: PDSection = PDSection()
    strategies: tuple[Strategy, ...] = Field(min_length=1)
    outputs: Outputs = Outputs()

    @field_validator("strategies")
    @classmethod
    def _unique_strategy_names(cls, strategies: tuple[Strategy, ...]) -> tuple[Strategy, ...]:
        names = [s.name for s in strategies]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"strategy names must be unique; repeated: {duplicates}")
        return strategies

    def with_overrides(self, *, subjects: int | None = None, seed: int | None = None) -> TrialSpec:
        """The spec with command-line overrides applied (re-validated)."""
        data = self.model_dump(by_alias=True)
        if subjects is not None:
            data["trial"]["subjects"] = subjects
        if seed is not None:
            data["trial"]["seed"] = seed
        return parse_trial_spec(data, source="command line")


def parse_trial_spec(data: dict[str, Any], *, source: str) -> TrialSpec:
    """Validate ``data``; the first problem becomes an :class:`InputError` naming ``source`` and field."""
    try:
        return TrialSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(top level)"
        value = first.get("input", "")
        shown = value if isinstance(value, str | int | float | bool) else "(the given entry)"
        message = first["msg"].removeprefix("Value error, ")
        raise InputError(f"{source}: {field}", shown, message) from exc


def load_trial_spec(path: Path) -> TrialSpec:
    """Read and validate a trial spec file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError("trial spec", str(path), "an existing TOML file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError("trial spec", str(path), f"valid TOML ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise InputError("trial spec", str(path), "a UTF-8 text file") from exc
    return parse_trial_spec(raw, source=str(path))
