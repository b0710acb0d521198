"""The guideline taper pace as one value: the worst fall of the daily dose in any window of days.

:class:`PaceRule` is the one implementation used by the planner (``plan/taper.py``: no cut faster), the
schedule check (``safety/schedule.py``: ``BZK-TAPER-RATE``) and the plan-change check
(``monitor/change_check.py``: ``BZK-CHANGE-PACE``). Its figures are one data entry, ``[taper_pace]`` in
``safety/data/rules.toml``; :func:`guideline_pace` reads it from a :class:`~benzokit.knowledge.Knowledge`,
so a clinic's overlay changes all three together. ``str(rule)`` is the rule's own sentence ("not more
than 25 % every 14 days"), which the findings' messages quote.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from benzokit.errors import InputError
from benzokit.knowledge import Knowledge
from benzokit.safety.dosing import RELATIVE_TOLERANCE
from benzokit.safety.rules import RuleSet, load_rules


@dataclass(frozen=True, slots=True)
class DoseSpan:
    """Days ``[start_day, end_day)`` at ``daily_dose_mg`` mg/day."""

    start_day: int
    end_day: int
    daily_dose_mg: float


@dataclass(frozen=True, slots=True)
class Fall:
    """The daily dose falling from ``from_mg`` (mg/day, last taken on ``from_day``) to ``to_mg``
    (mg/day, first taken on ``to_day``)."""

    from_day: int
    from_mg: float
    to_day: int
    to_mg: float

    @property
    def fraction(self) -> float:
        """The fall as a fraction of ``from_mg`` (0.25: a quarter of the dose)."""
        return 1.0 - self.to_mg / self.from_mg


@dataclass(frozen=True, slots=True)
class PaceRule:
    """No fall of more than ``fraction`` of the daily dose between two days at most ``window_days``
    apart. ``source`` is the citation of the figures.

    Falls to zero are not judged here: a stop is the abrupt-stop rule's business.
    """

    fraction: float
    window_days: int
    source: str

    def __post_init__(self) -> None:
        if not 0 < self.fraction <= 1:
            raise InputError(
                "pace fraction", self.fraction, "a fraction of the dose, above 0, at most 1"
            )
        if self.window_days < 1:
            raise InputError(
                "pace window_days", self.window_days, "a whole number of days, at least 1"
            )

    def __str__(self) -> str:
        return f"not more than {self.fraction * 100:g} % every {self.window_days:g} days"

    def worst_fall(
        self, spans: Sequence[DoseSpan], *, after: Sequence[DoseSpan] | None = None
    ) -> Fall | None:
        """The largest fall between two days at most ``window_days`` apart, both doses above zero.

        ``spans`` are in day order. With ``after`` (the spans that follow a change), only falls from a
        day of ``spans`` to a day of ``after`` count: the change judged with the doses before it.
        None when the dose never falls (or only to zero).
        """
        worst: Fall | None = None
        for earlier, later in self._pairs_in_window(spans, after):
            if not 0 < later.daily_dose_mg < earlier.daily_dose_mg:
                continue  # not a fall, or a fall to zero (a stop)
            fraction = 1.0 - later.daily_dose_mg / earlier.daily_dose_mg
            if worst is None or fraction > worst.fraction:
                worst = Fall(
                    earlier.end_day - 1, earlier.daily_dose_mg, later.start_day, later.daily_dose_mg
                )
        return worst

    def _pairs_in_window(
        self, spans: Sequence[DoseSpan], after: Sequence[DoseSpan] | None
    ) -> Iterator[tuple[DoseSpan, DoseSpan]]:
        """(earlier, later) spans whose closest days are at most ``window_days`` apart."""
        if after is not None:
            for earlier, later in itertools.product(spans, after):
                if later.start_day - (earlier.end_day - 1) <= self.window_days:
                    yield earlier, later
            return
        for index, earlier in enumerate(spans):
            for later in spans[index + 1 :]:
                if later.start_day - (earlier.end_day - 1) > self.window_days:
                    break  # day order: every later span is further away
                yield earlier, later

    def allows(self, fall: Fall | None) -> bool:
        """Whether ``fall`` (None: no fall) is within the rule."""
        return fall is None or fall.fraction <= self.fraction + RELATIVE_TOLERANCE

    def is_satisfied_by(
        self, spans: Sequence[DoseSpan], *, after: Sequence[DoseSpan] | None = None
    ) -> bool:
        """Whether no fall in ``spans`` (or from ``spans`` into ``after``) is faster than the rule."""
        return self.allows(self.worst_fall(spans, after=after))

    def lowest_cut_mg(self, from_mg: float) -> float:
        """The lowest daily dose (mg/day) one cut from ``from_mg`` may go to."""
        return from_mg * (1.0 - self.fraction)


def pace_of(rules: RuleSet) -> PaceRule:
    """The guideline pace of a rule set (its ``[taper_pace]`` entry)."""
    entry = rules.taper_pace
    return PaceRule(
        fraction=entry.max_reduction_fraction.require("taper_pace.max_reduction_fraction"),
        window_days=int(entry.window_days.require("taper_pace.window_days")),
        source=rules.source_citation(entry.max_reduction_fraction.source),
    )


def _guideline_pace(knowledge: Knowledge) -> PaceRule:
    return pace_of(load_rules(knowledge))


def guideline_pace(knowledge: Knowledge | None = None) -> PaceRule:
    """The guideline taper pace of ``knowledge`` (default: shipped), built once per knowledge base."""
    return (knowledge or Knowledge.shipped()).cached(_guideline_pace)
