"""``benzokit knowledge``: which knowledge base is in use, every file validated."""

from __future__ import annotations

from rich.console import Console

from benzokit.cli.context import knowledge
from benzokit.cli.errors import guarded
from benzokit.knowledge import Knowledge


def knowledge_command() -> None:
    """Validate the knowledge base in use and show its version and the files a clinic's overlay changes."""
    from benzokit.knowledge_check import check_knowledge  # every loader: only for this command

    in_use = knowledge()
    report = guarded(lambda: check_knowledge(in_use))
    console = Console(highlight=False)
    console.print(f"knowledge base {report.version}: {report.files} files, all valid")
    if in_use.overlay is None:
        console.print("the files shipped with benzokit (no --knowledge folder)")
        return
    console.print(f"overlay folder {in_use.overlay}:")
    shipped = Knowledge.shipped().names()
    for name in report.overlaid:
        console.print(f"  {name}: " + ("replaces the shipped file" if name in shipped else "added"))
