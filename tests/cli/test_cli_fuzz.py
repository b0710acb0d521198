"""No input gives a traceback: generated option values for the planner and the simulator.

Each run must end in exit 0 (a plan or a simulation) or exit 2 with an input error naming one of the
options given, never an uncaught exception. The values mix well-formed doses, regimens and step lists
with near misses (fractions no product makes, zero, huge numbers, stray units, empty text).
"""

from __future__ import annotations

import re

from cli_support import invoke_benzokit, normalise
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

DOSES = [
    "1 mg bid",
    "0.5 mg/day",
    "2 mg/day",
    "1.33 mg/day",
    "0 mg/day",
    "3 mg tid",
    "0.125 mg qhs",
]
DOSES += ["1 mg at 08:00 and 0.5 mg at 22:00 daily", "1e9 mg/day", "mg", "", "1 mg bid x 3 days"]
STEPS = [
    "1.33 mg/day x 14 days",
    "0.5 mg/day x 0 days",
    "0.25 mg bid x 7 days, then 0.125 mg/day x 7 days",
]
STEPS += ["x 14 days", "0.5 mg/day", "-1 mg/day x 3 days", "0.5 mg/day x 99999 days", ""]
NUMBERS = ["0", "1", "7", "14", "-3", "2.5", "1000", "ten", ""]
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=24)


def _values(pool: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(pool), TEXT)


TAPER_OPTIONS = {
    "--from": _values(DOSES),
    "--strategy": st.sampled_from(["guideline", "hyperbolic", "label", "custom", "diazepam", "x"]),
    "--steps": _values(STEPS),
    "--interval-days": _values(NUMBERS),
    "--reduction": _values(["10", "25", "50", "0", "100", "5.5", "-10", ""]),
    "--hold-days": _values(NUMBERS),
    "--risk": st.sampled_from(["low", "standard", "high", "extreme"]),
}


@st.composite
def taper_arguments(draw: st.DrawFn) -> list[str]:
    chosen = draw(st.lists(st.sampled_from(sorted(TAPER_OPTIONS)), unique=True, max_size=4))
    args = ["plan", "taper", draw(st.sampled_from(["clonazepam", "lorazepam", "nosuchdrug"]))]
    args += ["--from", draw(TAPER_OPTIONS["--from"])]
    for option in chosen:
        if option != "--from":
            args += [option, draw(TAPER_OPTIONS[option])]
    return args


def _assert_clean(args: list[str]) -> None:
    outcome = invoke_benzokit(args)
    assert outcome.exception is None, f"{args!r} raised {outcome.exception!r}"
    assert outcome.exit_code in (0, 2), (args, outcome.exit_code, outcome.stderr)
    assert "Traceback" not in outcome.stderr + outcome.stdout
    if outcome.exit_code == 2:
        message = normalise(outcome.stderr)
        options = {a.removeprefix("--") for a in args if a.startswith("--")}
        named = options | {"drug", "Usage"}
        if "custom" in args:  # the custom strategy without --steps names the option it needs
            named.add("steps")
        assert any(re.search(re.escape(name), message) for name in named), (args, message)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(
    [
        "plan",
        "taper",
        "clonazepam",
        "--from",
        "1 mg bid",
        "--strategy",
        "custom",
        "--steps",
        "1.33 mg/day x 14 days",
    ]
)
@given(taper_arguments())
def test_no_taper_input_gives_a_traceback(args: list[str]) -> None:
    _assert_clean(args)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    regimen=_values(DOSES + STEPS),
    days=st.one_of(st.none(), _values(NUMBERS)),
    weight=st.one_of(st.none(), _values(["70kg", "154lb", "0kg", "-5kg", "70", "300kg"])),
)
def test_no_simulate_input_gives_a_traceback(
    regimen: str, days: str | None, weight: str | None
) -> None:
    args = ["simulate", "clonazepam", "--regimen", regimen, "--json"]
    args += [] if days is None else ["--days", days]
    args += [] if weight is None else ["--weight", weight]
    _assert_clean(args)
