"""Every ``benzokit`` command shown in the README runs (the typer habit): exit 0, no traceback.

The commands are read from the README's shell code blocks (continuation lines joined, comments dropped)
and run through Typer's CliRunner on the app, each in a fresh temporary folder that holds a link to the
repository's ``examples/`` (so ``examples/trial-taper.toml`` reads the real file, as from the repository
root, while the results are written to the temporary folder). Files a command is told to write
(``--plot``, ``--pdf``, ``--out`` ...) must exist afterwards.

Not run, with the reason: ``benzokit serve`` (a web server that runs until stopped; tests/cli/
test_cli_serve.py starts it in a subprocess), a worker that runs until stopped (``--every``) and
commands naming a Dask scheduler (tests/sim/test_trial_dask.py runs one). The ``benzokit admin``
commands share a database: they run in the README's order, in one test, with the placeholders ``URL``
/ ``URL2`` replaced by SQLite files.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from benzokit.cli.app import app

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
_CODE_BLOCK = re.compile(r"^```(?P<language>[a-z]*)\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)
_SHELL = {"sh", "bash", "shell", "console", ""}
# options whose value is a file or folder the command writes
_WRITES = ("--plot", "--pdf", "--ics", "--fhir", "--out")
_PASSWORD = "readme-test-password"  # answers the password prompts (twice: entry and confirmation)
_NOT_RUN = {
    "serve": "starts the web server, which runs until stopped (tests/cli/test_cli_serve.py runs it)",
    "--scheduler": "needs a Dask scheduler listening at the address (tests/sim/test_trial_dask.py)",
    "--every": "the worker runs until stopped (tests/service/test_notify_worker.py runs --once)",
}
# Long commands: the trials (14 s for the 10,000-subject example, 93 s for 200,000 subjects on a local
# cluster, on the loaded 2-core machine). This file is e2e, so make test-fast leaves it all out anyway.
_SLOW = {"trial": pytest.mark.slow}
_DASK = {"--workers": pytest.mark.dask}


@dataclass(frozen=True, slots=True)
class ReadmeCommand:
    """One command of the README: its arguments after ``benzokit``."""

    args: tuple[str, ...]

    @property
    def text(self) -> str:
        return shlex.join(("benzokit", *self.args))

    def writes(self) -> list[str]:
        """The files and folders the command is told to write."""
        return [
            value
            for option, value in zip(self.args, self.args[1:], strict=False)
            if option in _WRITES
        ]


def readme_commands(markdown: str) -> list[ReadmeCommand]:
    """The ``benzokit ...`` lines of the shell code blocks, in order."""
    commands = []
    for block in _CODE_BLOCK.finditer(markdown):
        if block["language"] not in _SHELL:
            continue
        for line in block["body"].replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["benzokit"]:
                commands.append(ReadmeCommand(tuple(words[1:])))
    return commands


COMMANDS = readme_commands(README.read_text(encoding="utf-8"))
ADMIN = [c for c in COMMANDS if c.args[:1] == ("admin",)]


def _param(command: ReadmeCommand) -> object:
    reasons = [reason for word, reason in _NOT_RUN.items() if word in command.args]
    marks = [mark for word, mark in {**_SLOW, **_DASK}.items() if word in command.args]
    if reasons:
        marks.append(pytest.mark.skip(reason=f"not run: {reasons[0]}"))
    return pytest.param(command, id=command.text.removeprefix("benzokit "), marks=marks)


def _invoke(args: tuple[str, ...] | list[str]) -> Result:
    return CliRunner().invoke(app, list(args), input=f"{_PASSWORD}\n{_PASSWORD}\n")


def _assert_ran(result: Result, text: str) -> None:
    assert "Traceback" not in result.output, f"{text}\n{result.output}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{text} raised {result.exception!r}") from result.exception
    assert result.exit_code == 0, f"{text} exited {result.exit_code}:\n{result.output}"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working folder that sees the repository's examples/."""
    (tmp_path / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_readme_shows_the_commands_of_every_section() -> None:
    shown = {c.args[0] for c in COMMANDS}
    assert {"simulate", "drugs", "drug", "trial", "plan", "check", "serve", "admin"} <= shown
    joined = [c for c in COMMANDS if "--pdf" in c.args]
    assert joined and "--fhir" in joined[0].args  # a command continued on the next line is one


@pytest.mark.parametrize("command", [_param(c) for c in COMMANDS if c not in ADMIN])
def test_a_readme_command_runs(command: ReadmeCommand, folder: Path) -> None:
    _assert_ran(_invoke(command.args), command.text)
    for written in command.writes():
        assert (folder / written).exists(), f"{command.text} did not write {written}"


def test_the_readme_admin_commands_run_in_order(folder: Path) -> None:
    databases = {
        "URL": f"sqlite:///{folder / 'clinic.db'}",
        "URL2": f"sqlite:///{folder / 'new.db'}",
    }
    assert ADMIN, "the README shows the admin commands"
    for command in ADMIN:
        args = [databases.get(word, word) for word in command.args]
        _assert_ran(_invoke(args), command.text)
    assert (folder / "clinic-backup.json").is_file()
    assert (folder / "new.db").is_file()
