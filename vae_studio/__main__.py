"""``vae-studio`` and ``python -m vae_studio``: the GUI with no arguments (or with files to open),
the command line otherwise."""

from __future__ import annotations

import sys
from pathlib import Path


def _wants_gui(argv: list[str]) -> bool:
    """No arguments, or only existing files/folders to open (``vae-studio model.vae``)."""
    from .cli import COMMANDS

    if not argv:
        return True
    if argv[0] in COMMANDS or argv[0].startswith("-"):
        return False
    return all(Path(arg).exists() for arg in argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if _wants_gui(argv):
        from .gui.app import run_app

        return run_app(argv)
    from .cli import run_cli

    return run_cli(argv)


if __name__ == "__main__":
    sys.exit(main())
