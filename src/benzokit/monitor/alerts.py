"""Alerts from a patient's record: rules and clinic-policy settings as data (``monitor/data/alerts.toml``).

Each rule is a pure function of the record (check-ins, dose logs, the course) and the day; it returns
:class:`~benzokit.monitor.records.Alert` values. Urgent alerts carry guidance the patient sees at once.
The software suggests (pause, slow, contact); the clinician decides.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field

from benzokit.drugs.models import Source
from benzokit.knowledge import Knowledge, read_document
from benzokit.monitor.course import Course
from benzokit.monitor.records import Alert, AlertLevel, CheckIn, DoseLog, DoseStatus
from benzokit.monitor.scales import ScaleSet, escalation_rules, load_scales
from benzokit.types import FrozenModel


class Setting(FrozenModel):
    """A number of the alert rules; ``policy`` marks a clinic setting rather than clinical evidence."""

    value: int = Field(ge=1)
    source: str
    policy: bool = False


class AlertRule(FrozenModel):
    code: str = Field(pattern=r"^MON-[A-Z0-9-]+$")
    level: AlertLevel
    source: str
    message: str
    suggestion: str
    patient_guidance: str | None = None
    help_first: Literal["emergency", "crisis"] | None = (
        None  # which help line the patient sees first
    )


class WithdrawalRisingRule(AlertRule):
    consecutive_checkins: Setting
    cut_lookback_days: Setting
    scales: tuple[str, ...] = Field(min_length=1)


class MissedDosesRule(AlertRule):
    missed: Setting
    window_days: Setting


class NoCheckinRule(AlertRule):
    days: Setting


class ActionDefaults(FrozenModel):
    slow_factor: Setting


class RecordPolicy(FrozenModel):
    """How far back a patient may record doses and check-ins (days, today included)."""

    catch_up_days: Setting


class AlertRules(FrozenModel):
    schema_version: Literal[1]
    data_version: str
    sources: dict[str, Source]
    seizure: AlertRule
    self_harm: AlertRule
    withdrawal_rising: WithdrawalRisingRule
    missed_doses: MissedDosesRule
    no_checkin: NoCheckinRule
    actions: ActionDefaults
    records: RecordPolicy

    def citation(self, key: str) -> str:
        return self.sources[key].citation if key in self.sources else key


def load_alert_rule_file(path: Path) -> AlertRules:
    """Load and validate an alert-rule file; a problem is a :class:`DataError` naming its field."""
    return read_document(path, AlertRules)


def load_alert_rules(knowledge: Knowledge | None = None) -> AlertRules:
    """The alert rules (``alerts.toml``) of ``knowledge`` (default: shipped)."""
    return (knowledge or Knowledge.shipped()).load("alerts.toml", load_alert_rule_file)


def _alert(rules: AlertRules, rule: AlertRule, at: datetime, key: str, **values: object) -> Alert:
    return Alert(
        code=rule.code,
        level=rule.level,
        message=rule.message.format(**values),
        source=rules.citation(rule.source),
        raised_at=at,
        suggestion=rule.suggestion,
        patient_guidance=rule.patient_guidance,
        key=key,
    )


def checkin_alerts(
    name: str,
    checkin: CheckIn,
    history: Sequence[CheckIn],
    course: Course | None,
    day: date,
    *,
    rules: AlertRules | None = None,
    scales: ScaleSet | None = None,
) -> list[Alert]:
    """Alerts raised by a new ``checkin`` (``history``: the earlier ones, oldest first)."""
    rules = rules or load_alert_rules()
    scales = scales or load_scales()
    at = checkin.when
    found: list[Alert] = []
    if checkin.seizures > 0:
        found.append(
            _alert(
                rules,
                rules.seizure,
                at,
                f"seizure:{at.isoformat()}",
                name=name,
                count=checkin.seizures,
                day=day.isoformat(),
            )
        )
    for score in checkin.scales:
        for rule in escalation_rules(score, scales=scales):
            found.append(
                _alert(
                    rules,
                    rules.self_harm,
                    at,
                    f"escalate:{score.scale}:{rule.item}:{at.isoformat()}",
                    name=name,
                    scale=scales.get(score.scale).name,
                    item=rule.item.replace("item", "item "),
                    value=score.answer(rule.item),
                    reason=rule.reason,
                    day=day.isoformat(),
                )
            )
    if course is not None:
        found.extend(
            _withdrawal_rising(rules, name, [*history, checkin], course, day, scales=scales)
        )
    return found


def rising_possible(
    checkin: CheckIn, history: Sequence[CheckIn], *, rules: AlertRules | None = None
) -> bool:
    """Whether the rising-withdrawal rule could fire for a new ``checkin`` after ``history``, whatever
    the course: the watched scale's scores must hold a strictly rising run of the rule's length, in
    order though not necessarily adjacent (the check-ins since the last cut are some of these). When
    it is False, :func:`checkin_alerts` raises no rising alert with any course (the caller need not
    read the course to know)."""
    rule = (rules or load_alert_rules()).withdrawal_rising
    watched = next((s for s in rule.scales if checkin.scale(s) is not None), None)
    if watched is None:
        return False
    scores = [s.total for c in [*history, checkin] if (s := c.scale(watched)) is not None]
    return _longest_rising(scores) >= rule.consecutive_checkins.value


def _longest_rising(values: Sequence[int]) -> int:
    """The length of the longest strictly rising subsequence of ``values`` (0 when empty)."""
    longest: list[int] = []  # longest[i]: the longest rising run ending at values[i]
    for i, value in enumerate(values):
        longest.append(1 + max((longest[j] for j in range(i) if values[j] < value), default=0))
    return max(longest, default=0)


def _withdrawal_rising(
    rules: AlertRules,
    name: str,
    checkins: Sequence[CheckIn],
    course: Course,
    day: date,
    *,
    scales: ScaleSet,
) -> list[Alert]:
    """Scores rising over the policy's number of check-ins since the last cut, on the one scale
    watched: the first of the rule's scales (in order of preference) that the new check-in holds."""
    rule = rules.withdrawal_rising
    cut = course.last_cut_before(day, lookback_days=rule.cut_lookback_days.value)
    watched = next((s for s in rule.scales if checkins[-1].scale(s) is not None), None)
    if cut is None or watched is None:
        return []
    since_cut = [c for c in checkins if c.when.date() >= cut]
    scores = [s.total for c in since_cut if (s := c.scale(watched)) is not None]
    recent = scores[-rule.consecutive_checkins.value :]
    if len(recent) < rule.consecutive_checkins.value or not all(
        b > a for a, b in itertools.pairwise(recent)
    ):
        return []
    return [
        _alert(
            rules,
            rule,
            checkins[-1].when,
            f"withdrawal-rising:{watched}:{cut}",
            name=name,
            scale=scales.get(watched).name if watched in scales.scales else watched,
            count=len(recent),
            scores=" → ".join(map(str, recent)),
            cut_day=cut.isoformat(),
        )
    ]


def daily_alerts(
    name: str,
    dose_logs: Sequence[DoseLog],
    last_checkin: datetime | None,
    enrolled: datetime,
    now: datetime,
    *,
    rules: AlertRules | None = None,
) -> list[Alert]:
    """Alerts from patterns over days: missed doses in the window, no check-in for too long."""
    rules = rules or load_alert_rules()
    return [
        *missed_dose_alerts(name, dose_logs, now, rules=rules),
        *no_checkin_alerts(name, last_checkin, enrolled, now, rules=rules),
    ]


def missed_dose_alerts(
    name: str, dose_logs: Sequence[DoseLog], now: datetime, *, rules: AlertRules | None = None
) -> list[Alert]:
    """Too many doses recorded as missed in the window (days up to ``now``'s): a pattern of records,
    so it changes only when a dose is recorded."""
    rules = rules or load_alert_rules()
    missed_rule = rules.missed_doses
    window = missed_rule.window_days.value
    since = now.date() - timedelta(days=window - 1)
    missed = sorted(
        (d for d in dose_logs if d.status is DoseStatus.MISSED and d.day >= since),
        key=lambda d: (d.day, d.time),
    )
    if len(missed) < missed_rule.missed.value:
        return []
    return [
        _alert(
            rules,
            missed_rule,
            now,
            f"missed:{missed[-1].day.isoformat()}:{missed[-1].time}",
            name=name,
            count=len(missed),
            days=window,
        )
    ]


def no_checkin_alerts(
    name: str,
    last_checkin: datetime | None,
    enrolled: datetime,
    now: datetime,
    *,
    rules: AlertRules | None = None,
) -> list[Alert]:
    """No check-in for the policy's number of days (since the last one, or since enrolment): raised
    at the moment it fell due, so the same silence is the same alert on every day it lasts."""
    rules = rules or load_alert_rules()
    quiet_rule = rules.no_checkin
    reference = last_checkin or enrolled
    quiet = (now - reference).days
    if quiet < quiet_rule.days.value:
        return []
    return [
        _alert(
            rules,
            quiet_rule,
            reference + timedelta(days=quiet_rule.days.value),
            f"quiet:{reference.date().isoformat()}",
            name=name,
            days=quiet,
            last=last_checkin.date().isoformat() if last_checkin else "never",
        )
    ]
