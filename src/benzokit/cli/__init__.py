"""The ``benzokit`` command line: thin Typer commands that compose the library."""
