"""The trial specification file (TOML), validated with messages that name the file and the field.

Example: ``examples/trial-taper.toml``; the format is documented in the README ("Virtual trials").
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from benzokit.errors import InputError
from benzokit.plan.pacing import RULES, PolicyEntry
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


class PolicyRuleError(ValueError):
    """An inline policy's problem, with the rule (or field) of the policy it concerns."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


def _rule_of(message: str) -> str:
    """The rule a policy-level message names first (the policy's checks name the rule they refuse)."""
    named = [(message.find(rule), rule) for rule in RULES if rule in message]
    return min(named)[1] if named else "kind"


def inline_policy(table: dict[str, Any], strategy: str) -> PolicyEntry:
    """An inline ``policy = { ... }`` validated exactly as a ``pacing.toml`` policy (title and description
    default to naming the strategy); a problem is a :class:`PolicyRuleError` naming the rule."""
    data = {
        "title": f"inline policy of strategy {strategy}",
        "description": f"the pacing policy written in the trial spec for strategy {strategy}",
        **table,
    }
    try:
        return PolicyEntry.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        where = ".".join(str(part) for part in first["loc"])
        raise PolicyRuleError(where or _rule_of(message), message) from exc


class Strategy(_Strict):
    """What the subjects take: a regimen written out, or a taper the planner makes; with a ``policy``
    (a pacing policy's name from ``pacing.toml``, or an inline one) its steps are paced by symptoms."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    regimen: str | None = Field(None, min_length=1)
    plan: PlannedTaper | None = None
    policy: str | PolicyEntry | None = None
    description: str = ""

    @field_validator("policy", mode="before")
    @classmethod
    def _policy_as_written(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, dict):
            return inline_policy(value, str(info.data.get("name", "")))
        if isinstance(value, str) and not value:
            raise ValueError("a pacing policy's name (e.g. 'maudsley-symptom-guided')")
        return value

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
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, PolicyRuleError):
            field = f"{field}.{cause.rule}"
            value = _rule_value(value, cause.rule)
        shown = value if isinstance(value, str | int | float | bool) else "(the given entry)"
        message = first["msg"].removeprefix("Value error, ")
        raise InputError(f"{source}: {field}", shown, message) from exc


def _rule_value(table: object, rule: str) -> object:
    """The value an inline policy gave ``rule`` (e.g. ``hold_rise.value``), or the table."""
    value = table
    for part in rule.split("."):
        if not isinstance(value, dict) or part not in value:
            return table
        value = value[part]
    return value["value"] if isinstance(value, dict) and "value" in value else value


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
