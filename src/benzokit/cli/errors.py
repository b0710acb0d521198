"""Turning errors into short messages and exit codes: never a traceback for a user."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, TypeVar

from rich.console import Console

from benzokit.cli.context import is_overlay_file
from benzokit.errors import BenzokitError, DataError, InputError

EXIT_INPUT = 2
EXIT_DATA = 3
T = TypeVar("T")

_stderr = Console(stderr=True, highlight=False, soft_wrap=True)


# library fields of the service, the store and the trial runner in the CLI's words: their options
# (the planner's fields are worded by ``benzokit plan``'s own table, ``cli/plan.py``)
OPTION_OF_FIELD = {
    "database_url": "--database",
    "timezone": "--timezone",
    "results_folder": "--out",
    "smtp_host": "--smtp-host",
    "smtp_port": "--smtp-port",
    "smtp_security": "--smtp-security",
    "smtp_sender": "--smtp-sender",
    "smtp_username": "--smtp-username",
    "smtp_password": "BENZOKIT_SMTP_PASSWORD",
    "smtp_timeout": "--smtp-timeout",
    "clinic_phone": "--clinic-phone",
    "session_idle": "--session-idle",
}


def fail(error: BenzokitError) -> NoReturn:
    """Print ``error`` for a person and exit: 2 for bad input, 3 for a broken knowledge base."""
    if isinstance(error, InputError) and error.field in OPTION_OF_FIELD:
        error = InputError(OPTION_OF_FIELD[error.field], error.value, error.allowed)
    kind = "input error" if isinstance(error, InputError) else "error"
    _stderr.print(f"[bold red]{kind}:[/] {error}", markup=True)
    if isinstance(error, DataError):
        if is_overlay_file(error):
            _stderr.print(
                "The folder given with --knowledge (or BENZOKIT_KNOWLEDGE) has this problem; fix it."
            )
        elif not _is_shipped(error.path):  # a file the user gave (e.g. a scale to import)
            _stderr.print("The file given has this problem; nothing was changed. Fix it and retry.")
            sys.exit(EXIT_INPUT)
        else:
            _stderr.print(
                "The knowledge base shipped with benzokit is damaged; please report this."
            )
        sys.exit(EXIT_DATA)
    sys.exit(EXIT_INPUT)


def _is_shipped(path: str) -> bool:
    """Whether ``path`` is a data file inside the installed benzokit package."""
    package = Path(__file__).resolve().parents[1]
    return not Path(path).is_absolute() or Path(path).resolve().is_relative_to(package)


def guarded(action: Callable[[], T]) -> T:
    """Run ``action``; a :class:`BenzokitError` becomes a message and an exit code."""
    try:
        return action()
    except BenzokitError as error:
        fail(error)


def in_options(action: Callable[[], T], option_for: Callable[[str], str]) -> T:
    """Run ``action``; an :class:`InputError` naming a library field is re-worded with the command's
    option for it (``option_for(field)``, which returns the field itself when the command has none)."""
    try:
        return action()
    except InputError as error:
        option = option_for(error.field)
        if option == error.field:
            raise
        raise InputError(option, error.value, error.allowed) from error
