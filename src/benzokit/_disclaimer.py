"""The decision-support statement shown wherever a person reads benzokit's output."""

DISCLAIMER = (
    "benzokit is decision support for clinicians. It does not replace a prescriber's judgement, "
    "is not medical advice, and never proposes stopping a benzodiazepine abruptly: any change in "
    "dose is made with a prescriber, gradually."
)
