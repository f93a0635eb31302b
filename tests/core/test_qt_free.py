"""The core package must not depend on Qt: it is imported by the CLI, scripts and tests without a screen.

Two checks, like napari's mechanical check of its Qt-free model layer: importing every core module
in a fresh interpreter loads no Qt binding, and no core source file mentions an import of one.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import vae_studio.core

QT_MODULES = ("PySide6", "pyqtgraph", "PyQt5", "PyQt6")
CORE_DIR = Path(vae_studio.core.__file__).resolve().parent
REPO = CORE_DIR.parents[1]

IMPORT_ALL = f"""
import importlib, json, pkgutil, sys
import vae_studio.core as core
names = ["vae_studio.core"]
for info in pkgutil.walk_packages(core.__path__, "vae_studio.core."):
    importlib.import_module(info.name)
    names.append(info.name)
qt = sorted(m for m in sys.modules if m.split(".")[0] in {QT_MODULES!r})
print(json.dumps({{"modules": names, "qt": qt}}))
"""


def test_importing_every_core_module_loads_no_qt() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    modules = set(report["modules"])
    # The walk really covered the package, subpackages included.
    expected = {p.stem for p in CORE_DIR.glob("*.py") if p.stem != "__init__"}
    assert {f"vae_studio.core.{name}" for name in expected} <= modules
    assert "vae_studio.core.data.shapes" in modules and "vae_studio.core.vocabulary" in modules
    assert report["qt"] == [], f"core modules pulled in Qt: {report['qt']}"


def imported_qt(source: str, filename: str) -> list[str]:
    """Qt modules imported anywhere in ``source`` (also inside functions, or via importlib/__import__)."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            func_name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if func_name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                names = [node.args[0].value]
        found += [f"{filename}:{node.lineno}: {name}" for name in names if name.split(".")[0] in QT_MODULES]
    return found


def test_no_core_source_imports_qt() -> None:
    sources = sorted(CORE_DIR.rglob("*.py"))
    assert len(sources) >= 20
    offenders = [hit for path in sources for hit in imported_qt(path.read_text(encoding="utf-8"), str(path))]
    assert offenders == []


def test_the_static_check_catches_qt_imports() -> None:
    # The checker itself must flag every way of importing Qt, or the test above proves nothing.
    samples = [
        "import PySide6",
        "from PySide6.QtCore import QObject",
        "import pyqtgraph as pg",
        "def f():\n    from PyQt5 import QtWidgets",
        "import importlib\nimportlib.import_module('PyQt6.QtGui')",
        "__import__('pyqtgraph')",
    ]
    for sample in samples:
        assert imported_qt(sample, "sample.py"), sample
    assert imported_qt("import numpy\nfrom .models import AE\nx = 'PySide6'", "ok.py") == []
