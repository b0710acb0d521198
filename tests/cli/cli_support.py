"""Helpers for the CLI tests: the real console script in a subprocess, and Typer's CliRunner."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from benzokit.cli.app import app

BENZOKIT = Path(sys.executable).parent / "benzokit"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_BOX_CHARS = re.compile(r"[│┃╭╮╰╯─━┏┓┗┛┡┩┠┨┯┷╇╈╋┼├┤┌┐└┘]")
SUBPROCESS_TIMEOUT_S = 60


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one CLI invocation did: exit code, stdout and stderr (and any uncaught exception)."""

    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None


def normalise(text: str) -> str:
    """Drop Rich's box-drawing characters and collapse whitespace, so wrapped text can be searched."""
    return " ".join(_BOX_CHARS.sub(" ", text).split())


def run_benzokit(args: Sequence[str], cwd: Path, columns: int = 100) -> Outcome:
    """Run the installed ``benzokit`` console script end to end."""
    env = {**os.environ, "COLUMNS": str(columns), "MPLBACKEND": "Agg"}
    env.pop("FORCE_COLOR", None)
    completed = subprocess.run(
        [str(BENZOKIT), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=env,
        timeout=SUBPROCESS_TIMEOUT_S,
        check=False,
    )
    return Outcome(completed.returncode, completed.stdout, completed.stderr)


def invoke_benzokit(args: Sequence[str]) -> Outcome:
    """Run the Typer app in-process (fast); an uncaught exception is kept, not raised."""
    result = CliRunner().invoke(app, list(args))
    exception = result.exception
    if isinstance(exception, SystemExit):
        exception = None
    return Outcome(result.exit_code, result.stdout, result.stderr, exception)
