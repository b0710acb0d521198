"""Shared fixtures and hypothesis profiles."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings

# Build matplotlib's font cache once, before any test (and any CLI subprocess, which inherits the
# variable): on a fresh machine the first import logs "building the font cache" to stderr.
os.environ.setdefault("MPLCONFIGDIR", str(Path(tempfile.gettempdir()) / "benzokit-test-mplconfig"))
import matplotlib.font_manager  # noqa: F401

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
