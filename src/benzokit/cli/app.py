"""``benzokit``: simulate, and look up the knowledge base. Decision support only."""

from __future__ import annotations

import typer

from benzokit._disclaimer import DISCLAIMER
from benzokit.cli.demo import demo
from benzokit.cli.drugs import drug, drugs
from benzokit.cli.simulate import simulate_command

app = typer.Typer(
    name="benzokit",
    help=f"benzokit — clonazepam and benzodiazepine therapy toolkit.\n\n{DISCLAIMER}",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("simulate")(simulate_command)
app.command("drugs")(drugs)
app.command("drug")(drug)
app.command("demo")(demo)


def main() -> None:
    """Console-script entry point."""
    app()
