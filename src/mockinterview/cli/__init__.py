"""The command line (typer app and the rich terminal UI)."""

from mockinterview.cli.app import app, main

__all__ = ["app", "main"]
