"""Monitoring: the patient's record as values (dose confirmations, check-ins, alerts) and symptom scales.

The scales are data (``monitor/data/scales.toml`` and optional ``scale_*.toml``), validated on load;
:func:`score_scale` turns a patient's answers into a :class:`ScaleScore`, and :func:`escalates` says when
one must go to the clinician at once.
"""

from benzokit.monitor.records import (
    Alert,
    AlertLevel,
    CheckIn,
    DoseLog,
    DoseStatus,
    PatientSummary,
    ScaleScore,
)
from benzokit.monitor.scale_models import (
    Band,
    Code,
    EscalationRule,
    Item,
    Licence,
    Option,
    Range,
    Scale,
    ScaleFile,
)
from benzokit.monitor.scales import (
    ScaleSet,
    escalates,
    escalation_rules,
    load_scale_dir,
    load_scale_file,
    load_scales,
    score_scale,
)

__all__ = [
    "Alert",
    "AlertLevel",
    "Band",
    "CheckIn",
    "Code",
    "DoseLog",
    "DoseStatus",
    "EscalationRule",
    "Item",
    "Licence",
    "Option",
    "PatientSummary",
    "Range",
    "Scale",
    "ScaleFile",
    "ScaleScore",
    "ScaleSet",
    "escalates",
    "escalation_rules",
    "load_scale_dir",
    "load_scale_file",
    "load_scales",
    "score_scale",
]
