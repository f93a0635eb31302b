"""Data sets fetched on first use with torchvision's own dataset classes.

torchvision downloads into ``<cache>/<ClassName>/raw/`` and, once the
uncompressed IDX files are there, reads them without touching the network. So
a user without internet access can put the files there by hand; the error we
raise when a download fails says exactly where and which.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from vae_studio.core.data.build import labelled_dataset
from vae_studio.core.data.dataset import ImageDataset
from vae_studio.core.errors import DataError


@dataclass(frozen=True)
class _Source:
    title: str
    class_name: str  # torchvision.datasets class, also the folder torchvision creates
    files: tuple[str, ...]  # what torchvision reads from its raw folder
    origin: str
    options: dict[str, str] = field(default_factory=dict)


_MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

SOURCES: dict[str, _Source] = {
    "kmnist": _Source(
        "Kuzushiji-MNIST", "KMNIST", _MNIST_FILES, "the .gz files from http://codh.rois.ac.jp/kmnist/, unpacked"
    ),
    "emnist-letters": _Source(
        "EMNIST letters",
        "EMNIST",
        tuple(
            f"emnist-letters-{split}-{kind}-ubyte"
            for split in ("train", "test")
            for kind in ("images-idx3", "labels-idx1")
        ),
        "from the gzip folder inside https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip, unpacked",
        {"split": "letters"},
    ),
    "fashion-mnist": _Source(
        "Fashion-MNIST",
        "FashionMNIST",
        _MNIST_FILES,
        "the .gz files from https://github.com/zalandoresearch/fashion-mnist, unpacked",
    ),
}


def default_cache_dir() -> Path:
    """Where downloads go: ``$VAE_STUDIO_CACHE``, else ``$XDG_CACHE_HOME/vae-studio``, else ``~/.cache/vae-studio``."""
    if os.environ.get("VAE_STUDIO_CACHE"):
        return Path(os.environ["VAE_STUDIO_CACHE"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "vae-studio"
    return Path.home() / ".cache" / "vae-studio"


def raw_folder(name: str, cache_dir: Path | None = None) -> Path:
    """The folder torchvision reads the ``name`` data set's files from (mirrors its ``raw_folder``)."""
    return (cache_dir or default_cache_dir()) / SOURCES[name].class_name / "raw"


def load_download(name: str, cache_dir: Path | None = None) -> ImageDataset:
    """Load a downloadable data set (a key of SOURCES), downloading it into the cache on first use."""
    # torchvision is imported here rather than at module level: it adds about a
    # second to start-up and most sessions never download anything.
    import torchvision.datasets

    source = SOURCES[name]
    root = cache_dir or default_cache_dir()
    dataset_class = getattr(torchvision.datasets, source.class_name)
    folder = raw_folder(name, root)
    try:
        train = dataset_class(str(root), train=True, download=True, **source.options)
        test = dataset_class(str(root), train=False, download=True, **source.options)
    # Offline, torchvision raises URLError (an OSError) or RuntimeError after trying
    # its mirrors; a cut-off download leaves a bad zip; a full disk or read-only cache
    # raises OSError. Its IDX reader rejects malformed files with assert, TypeError or
    # ValueError, so those mean the files in place are bad.
    except (OSError, RuntimeError, zipfile.BadZipFile, AssertionError, TypeError, ValueError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__  # torchvision's messages span lines
        if all((folder / file).is_file() for file in source.files):
            raise DataError(
                f"Could not read {source.title} from {folder}: {reason}. "
                "The files there are damaged or not IDX files; delete them to download them again."
            ) from exc
        raise DataError(
            f"Could not download {source.title}: {reason}\n"
            f"To use it offline, put the files {', '.join(source.files)} ({source.origin}) "
            f"into the folder {folder}"
        ) from exc

    notes: tuple[str, ...] = ()
    train_images, test_images = train.data, test.data
    if name == "emnist-letters":
        # EMNIST stores each image transposed relative to MNIST.
        train_images, test_images = train_images.transpose(1, 2), test_images.transpose(1, 2)
        notes = ("EMNIST images are stored transposed; they were turned upright.",)
    label_names = dict(enumerate(train.classes))
    return labelled_dataset(name, train_images, train.targets, test_images, test.targets, label_names, notes)
