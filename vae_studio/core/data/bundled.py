"""MNIST and Fashion-MNIST as shipped in the repository's ``resources/`` folder.

The files are the authors' original gzip-compressed IDX files, unchanged, so
the app works offline; ``tools/bundle_datasets.py`` copies and checks them.
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

from vae_studio.core.data.dataset import ImageDataset
from vae_studio.core.data.idx import load_idx_folder
from vae_studio.core.errors import DataError

#: Shipped file names and their published md5 sums, per data set.
BUNDLED_FILES: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}

CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "mnist": tuple(str(digit) for digit in range(10)),
    "fashion-mnist": (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
}


def resources_dir() -> Path:
    """The resources folder: ``$VAE_STUDIO_RESOURCES``, else the copy an installed wheel carries
    inside the package (see setup.py), else ``resources/`` at the repository root (a checkout or an
    editable install)."""
    if os.environ.get("VAE_STUDIO_RESOURCES"):
        return Path(os.environ["VAE_STUDIO_RESOURCES"]).expanduser()
    installed = importlib.resources.files("vae_studio") / "resources"
    if isinstance(installed, Path) and installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[3] / "resources"


def bundled_folder(name: str, resources: Path | None = None) -> Path:
    """The folder holding the shipped files of ``name`` ("mnist" or "fashion-mnist")."""
    return (resources or resources_dir()) / name


def missing_files(name: str, resources: Path | None = None) -> list[str]:
    """Shipped files of ``name`` that are absent from its folder."""
    folder = bundled_folder(name, resources)
    return [file for file in BUNDLED_FILES[name] if not (folder / file).is_file()]


def load_bundled(name: str, resources: Path | None = None) -> ImageDataset:
    """Load the shipped copy of ``name`` ("mnist" or "fashion-mnist") from ``resources`` (default: resources_dir())."""
    folder = bundled_folder(name, resources)
    missing = missing_files(name, resources)
    if missing:
        raise DataError(
            f"The bundled {name} files {', '.join(missing)} are missing from {folder}; "
            "run tools/bundle_datasets.py to restore them."
        )
    return load_idx_folder(folder, name=name, label_names=dict(enumerate(CLASS_NAMES[name])))
