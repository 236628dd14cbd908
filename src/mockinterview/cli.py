"""The command line: the only module that prints to the user or exits.

Library code raises :mod:`mockinterview.errors`; :func:`main` turns them into one line on stderr
and exit status 2, so a broken file or device never shows a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from .errors import MockInterviewError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="A voice-driven mock interviewer for ML, data-science and GenAI roles.")
console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def main() -> None:
    try:
        app()
    except MockInterviewError as e:
        err_console.print(f"[bold red]error:[/] {str(e).splitlines()[0]}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
