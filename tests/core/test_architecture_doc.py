"""docs/ARCHITECTURE.md names every module under vae_studio/, so the map of the code matches the code."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "ARCHITECTURE.md"
PACKAGE = ROOT / "vae_studio"


def documented_paths(text: str) -> set[str]:
    """Paths of the tree in the doc's first code block: each level indented two spaces, a folder ends in "/"."""
    block = text.split("```", 2)[1]
    folders: list[str] = []
    paths: set[str] = set()
    for line in block.splitlines():
        match = re.match(r"( *)([\w.]+/|[\w.]+\.py)(\s|$)", line)
        if match is None:
            continue
        depth = len(match[1]) // 2
        name = match[2]
        del folders[depth:]
        if name.endswith("/"):
            folders.append(name)
        else:
            paths.add("".join(folders) + name)
    return paths


def modules() -> set[str]:
    return {
        "vae_studio/" + path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if path.name != "__init__.py"  # a package is named by its folder
    }


def test_every_module_is_named_in_architecture_md() -> None:
    missing = sorted(modules() - documented_paths(DOC.read_text(encoding="utf-8")))
    assert not missing, "docs/ARCHITECTURE.md does not name: " + ", ".join(missing)


def test_architecture_md_names_no_module_that_is_gone() -> None:
    gone = sorted(documented_paths(DOC.read_text(encoding="utf-8")) - modules())
    assert not gone, "docs/ARCHITECTURE.md names modules that do not exist: " + ", ".join(gone)
