"""Where the default bank and prompts live: inside the installed package, or in the clone.

A wheel carries the top-level ``rubrics/`` and ``prompts/`` as ``mockinterview/_shipped/rubrics``
and ``mockinterview/_shipped/prompts`` (hatchling's ``force-include``: one copy in git, the top
level a coach edits). An editable install from a clone has no such folder, so the same files are
read where they are, two levels above this package. A coach's own folders are chosen with
``--rubrics`` / ``--prompts``, the config file or ``MOCKINTERVIEW_RUBRICS`` / ``_PROMPTS``.
"""

from __future__ import annotations

import shutil
from importlib import metadata
from pathlib import Path
from typing import Literal

from mockinterview.errors import MockInterviewError

Kind = Literal["rubrics", "prompts"]
PACKAGE = Path(__file__).resolve().parent


def shipped(kind: Kind) -> Path:
    """The folder of the shipped ``rubrics`` or ``prompts``."""
    packaged = PACKAGE / "_shipped" / kind
    if packaged.is_dir():
        return packaged
    clone = PACKAGE.parents[1] / kind
    if clone.is_dir():
        return clone
    raise MockInterviewError(f"the shipped {kind} are missing from {packaged} "
                             "(a broken install: reinstall mockinterview)")


def copy_shipped(kind: Kind, dest: Path) -> int:
    """Copy the shipped ``kind`` into ``dest`` for a coach to edit; returns the files copied.

    Refuses a ``dest`` that exists and is not empty, so nobody's edits are overwritten.
    """
    dest = Path(dest).expanduser()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise MockInterviewError(f"{dest}: exists and is not an empty folder")
    src = shipped(kind)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src, dest, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return sum(1 for p in dest.rglob("*") if p.is_file())


def version() -> str:
    """The installed distribution's version (pyproject.toml is the one source)."""
    try:
        return metadata.version("mockinterview")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from an unbuilt tree
        return "0+unknown"
