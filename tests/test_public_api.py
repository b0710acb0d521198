"""The public API is pinned: adding or removing a name is a deliberate change."""

from __future__ import annotations

import benzokit

EXPECTED = {
    "DISCLAIMER", "BenzokitError", "ComputeError", "DataError", "DoseEvent", "Drug", "InputError",
    "ModelError",
    "Patient", "PlaceholderValueError", "Regimen", "Route", "SimulationResult", "TimeGrid",
    "UnknownNameError", "__version__", "list_drugs", "load_drug", "parse_regimen", "simulate",
}  # fmt: skip


def test_public_names_are_pinned() -> None:
    assert set(benzokit.__all__) == EXPECTED
    for name in EXPECTED:
        assert hasattr(benzokit, name)


def test_every_error_is_a_benzokit_error() -> None:
    for name in (
        "DataError",
        "InputError",
        "ModelError",
        "PlaceholderValueError",
        "UnknownNameError",
    ):
        assert issubclass(getattr(benzokit, name), benzokit.BenzokitError)


def test_the_disclaimer_says_decision_support_and_never_abrupt() -> None:
    text = benzokit.DISCLAIMER.lower()
    assert "decision support" in text and "abruptly" in text
