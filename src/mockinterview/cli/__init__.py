"""The command line (typer app and the rich terminal UI): ``mockinterview.cli.app``."""

from mockinterview.cli.app import main

__all__ = ["main"]
