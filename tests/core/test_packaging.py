"""What an installed copy needs: the bundled data found inside the package, the declared entry points
and licence, and a --version that answers before torch is imported (see also .ci/run, which builds,
installs and runs the wheel)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from vae_studio.core.data import bundled

REPO = Path(__file__).resolve().parents[2]


def test_an_installed_copy_reads_its_own_resources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A wheel carries the data as vae_studio/resources (setup.py copies it there).
    (tmp_path / "resources").mkdir()
    monkeypatch.delenv("VAE_STUDIO_RESOURCES", raising=False)
    monkeypatch.setattr(bundled.importlib.resources, "files", lambda package: tmp_path)
    assert bundled.resources_dir() == tmp_path / "resources"


def test_a_checkout_reads_the_repository_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VAE_STUDIO_RESOURCES", raising=False)
    assert bundled.resources_dir() == REPO / "resources"


def test_the_build_puts_the_resources_into_the_package(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(tmp_path)],
        cwd=REPO, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    for name, files in bundled.BUNDLED_FILES.items():
        for file in files:
            assert (tmp_path / "vae_studio" / "resources" / name / file).is_file()
    assert (tmp_path / "vae_studio" / "core" / "data" / "bundled.py").is_file()
    assert "graft resources" in (REPO / "MANIFEST.in").read_text()  # the sdist carries them too


def test_entry_points_and_licence() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["vae-studio"] == "vae_studio.__main__:main"
    assert project["gui-scripts"]["vae-studio-gui"] == "vae_studio.__main__:main"
    assert project["license"] == "MIT" and (REPO / "LICENSE").read_text().startswith("MIT License")
