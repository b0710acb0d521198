"""``benzokit``: simulate, and look up the knowledge base. Decision support only."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from benzokit._disclaimer import DISCLAIMER
from benzokit.cli.check import check_command
from benzokit.cli.context import choose_knowledge
from benzokit.cli.demo import demo
from benzokit.cli.drugs import drug, drugs
from benzokit.cli.errors import guarded
from benzokit.cli.knowledge import knowledge_command
from benzokit.cli.plan import plan_app
from benzokit.cli.serve import admin_app, serve_command
from benzokit.cli.simulate import simulate_command
from benzokit.cli.trial import trial_command
from benzokit.cli.worker import worker_command

app = typer.Typer(
    name="benzokit",
    help=f"benzokit — clonazepam and benzodiazepine therapy toolkit.\n\n{DISCLAIMER}",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _options(
    knowledge: Annotated[
        Path | None,
        typer.Option(
            "--knowledge",
            envvar="BENZOKIT_KNOWLEDGE",
            help="A folder of the clinic's adjusted knowledge-base files (e.g. rules.toml), laid "
            "over the shipped ones and validated the same way; `benzokit knowledge` shows what is in use.",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """benzokit — clonazepam and benzodiazepine therapy toolkit."""
    chosen = guarded(lambda: choose_knowledge(knowledge))
    if knowledge is not None:  # a clinic's files are validated whole before any command uses them
        from benzokit.knowledge_check import check_knowledge  # every loader: only when asked for

        guarded(lambda: check_knowledge(chosen))


def _register(name: str, command: Callable[..., None]) -> None:
    """Add ``command``; its --help ends with the decision-support statement."""
    summary = inspect.getdoc(command) or ""
    app.command(name, help=f"{summary}\n\n{DISCLAIMER}", short_help=summary)(command)


_register("simulate", simulate_command)
_register("drugs", drugs)
_register("drug", drug)
_register("knowledge", knowledge_command)
_register("demo", demo)
_register("trial", trial_command)
app.add_typer(plan_app, name="plan")
_register("check", check_command)
_register("serve", serve_command)
_register("worker", worker_command)
app.add_typer(admin_app, name="admin")


def main() -> None:
    """Console-script entry point."""
    app()
