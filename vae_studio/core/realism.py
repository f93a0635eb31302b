"""A small classifier that judges whether a decoded image "looks like real data".

Completeness (see :mod:`comparison`) asks whether decodings of arbitrary latent points look
like the data set. Following the idea behind the Inception Score (Salimans et al. 2016,
"Improved techniques for training GANs"), a classifier trained on the real images is used as
the judge: a decoding it assigns to one class with high confidence looks like a real example,
a blurry mixture or noise does not. A two-layer CNN trained for two epochs on CPU is enough on
MNIST-like data (about 98% test accuracy on MNIST); it is also taught to be unsure of images
that are clearly not data (outlier exposure, see :func:`train_classifier`).

Training takes seconds to a minute, so each trained classifier is kept in memory and in the
user cache folder (safetensors, no pickle) under a fingerprint of the data set's training
images and labels and of the training settings: it is trained once per data set.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from torch import nn
from torch.nn import functional as F

from .batch_progress import ProgressCallback, StopCheck, checkpoint
from .batches import to_float
from .checkpoint import write_safetensors_atomically
from .data import ImageDataset
from .data.downloads import default_cache_dir
from .errors import DataError

# Bump when the architecture or the training recipe changes, so stale cache files are not used.
CLASSIFIER_VERSION = 1
FORMAT_MARKER = "vae-studio-realism-classifier"
# Training uses at most this many images (a seeded random subset): 20k MNIST images give ~98%
# test accuracy in two epochs; the full 60k would triple the time for little gain.
MAX_TRAIN_IMAGES = 20_000
EPOCHS = 2
# Small data sets get more passes: at least this many updates (about 95% on a 5k MNIST subset).
MIN_STEPS = 300
BATCH_SIZE = 64
LEARNING_RATE = 2e-3
OUTLIER_WEIGHT = 0.5  # Hendrycks et al. 2019 use 0.5 for vision classifiers
ACCURACY_IMAGES = 2_000  # test images used to measure the classifier's accuracy
PREDICT_BATCH = 1_000

_memory: dict[str, RealismClassifier] = {}
_memory_lock = threading.Lock()


class RealismClassifier(nn.Module):
    """Two 3x3 conv + max-pool blocks (16 and 32 channels) and a 64-unit hidden layer: a LeNet-style
    network (LeCun et al. 1998) small enough to train on CPU in seconds."""

    def __init__(
        self, image_shape: tuple[int, int, int], num_classes: int, test_accuracy: float = float("nan")
    ) -> None:
        super().__init__()
        c, h, w = image_shape
        self.image_shape = (int(c), int(h), int(w))
        self.num_classes = int(num_classes)
        # Accuracy on the data set's test split, so a result can say how far to trust the judge.
        self.test_accuracy = float(test_accuracy)
        self.net = nn.Sequential(
            nn.Conv2d(c, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * (h // 4) * (w // 4), 64),
            nn.ReLU(),
            nn.Linear(64, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] (N, C, H, W) -> class logits (N, num_classes)."""
        return self.net(x)


def train_classifier(
    images: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    *,
    epochs: int = EPOCHS,
    min_steps: int = MIN_STEPS,
    batch_size: int = BATCH_SIZE,
    lr: float = LEARNING_RATE,
    outlier_weight: float = OUTLIER_WEIGHT,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> RealismClassifier:
    """Train a classifier on uint8 images (N, C, H, W) and int labels (N,) with Adam, on CPU, for
    ``epochs`` passes or as many more as it takes to make ``min_steps`` updates.

    With outlier exposure (Hendrycks et al. 2019, "Deep anomaly detection with outlier
    exposure"): each batch also holds half as many images that are not data, uniform noise and
    training images with their pixels shuffled, and the loss adds ``outlier_weight`` times their
    cross-entropy to the uniform distribution. A plain classifier can be confidently wrong on
    such images (Nguyen et al. 2015, "Deep neural networks are easily fooled"), which would count
    a decoder of noise as complete.
    """
    if len(images) == 0:
        raise DataError("the realism classifier needs training images")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        classifier = RealismClassifier(tuple(images.shape[1:]), num_classes)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(classifier.parameters(), lr=lr)
    labels = labels.long()
    n = len(images)
    batches = -(-n // batch_size)
    epochs = max(epochs, -(-min_steps // batches))
    total = epochs * batches
    done = 0
    classifier.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            x = to_float(images[idx])
            loss = F.cross_entropy(classifier(x), labels[idx])
            if outlier_weight > 0:
                outliers = _outliers(x, generator)
                loss = loss - outlier_weight * F.log_softmax(classifier(outliers), dim=1).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            done += 1
            checkpoint(done, total, progress, should_stop)
    classifier.eval()
    return classifier


def _outliers(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Half as many non-data images as ``x`` holds: uniform noise, then images of ``x`` with their
    pixel positions shuffled (the same grey levels, none of the structure)."""
    quarter = max(1, len(x) // 4)
    noise = torch.rand((quarter, *x.shape[1:]), generator=generator)
    flat = x[:quarter].flatten(1)
    shuffled = flat[:, torch.randperm(flat.shape[1], generator=generator)].view(quarter, *x.shape[1:])
    return torch.cat([noise, shuffled])


@torch.inference_mode()
def predict_proba(classifier: RealismClassifier, images: np.ndarray | torch.Tensor) -> np.ndarray:
    """Softmax class probabilities (N, K) for images: float in [0, 1] (numpy or torch) or uint8 torch."""
    x = torch.as_tensor(images)
    if x.dtype == torch.uint8:
        x = to_float(x)
    x = x.float()
    out = [F.softmax(classifier(x[s : s + PREDICT_BATCH]), dim=1) for s in range(0, len(x), PREDICT_BATCH)]
    return torch.cat(out).numpy() if out else np.zeros((0, classifier.num_classes), np.float32)


def classify(classifier: RealismClassifier, images: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(predicted class (N,) int64, max softmax confidence (N,) float32) for each image."""
    probs = predict_proba(classifier, images)
    return probs.argmax(axis=1).astype(np.int64), probs.max(axis=1).astype(np.float32)


def accuracy(classifier: RealismClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of uint8 images whose predicted class is the label."""
    predicted, _ = classify(classifier, images)
    return float((predicted == labels.numpy()).mean()) if len(labels) else float("nan")


def _fingerprint(dataset: ImageDataset, seed: int) -> str:
    """A digest of everything the classifier depends on: the training images and labels, the class
    names, and the recipe (so a subset or class selection gets its own classifier)."""
    digest = hashlib.blake2b(digest_size=12)
    recipe = [CLASSIFIER_VERSION, MAX_TRAIN_IMAGES, EPOCHS, MIN_STEPS, BATCH_SIZE, LEARNING_RATE, OUTLIER_WEIGHT, seed]
    digest.update(json.dumps([recipe, list(dataset.class_names)]).encode())
    digest.update(str(tuple(dataset.train_images.shape)).encode())
    digest.update(dataset.train_images.contiguous().numpy().tobytes())
    digest.update(dataset.train_labels.contiguous().numpy().tobytes())
    return digest.hexdigest()


def _cache_path(dataset: ImageDataset, key: str, cache_dir: Path | None) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", dataset.name)[:40] or "dataset"
    return (cache_dir or default_cache_dir()) / "realism" / f"{slug}-{key}.safetensors"


def _read(path: Path) -> RealismClassifier | None:
    """The classifier stored at ``path``, or None when there is none or it cannot be used."""
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            metadata = handle.metadata() or {}
            if metadata.get("format") != FORMAT_MARKER:
                return None
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
        info = json.loads(metadata["info"])
        classifier = RealismClassifier(tuple(info["image_shape"]), info["num_classes"], info["test_accuracy"])
        classifier.load_state_dict(tensors)
    # A missing, truncated or foreign file only means training again.
    except (OSError, SafetensorError, KeyError, TypeError, ValueError, RuntimeError):
        return None
    return classifier.eval()


def _write(classifier: RealismClassifier, path: Path) -> None:
    """Store atomically (temporary file + rename); a cache that cannot be written is skipped, since it
    only saves time."""
    info = {
        "image_shape": list(classifier.image_shape),
        "num_classes": classifier.num_classes,
        "test_accuracy": classifier.test_accuracy,
    }
    metadata = {"format": FORMAT_MARKER, "info": json.dumps(info)}
    tensors = {k: v.detach().contiguous() for k, v in classifier.state_dict().items()}
    try:
        write_safetensors_atomically(tensors, path, metadata)
    except (OSError, SafetensorError):
        pass


def realism_classifier(
    dataset: ImageDataset,
    *,
    cache_dir: Path | None = None,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> RealismClassifier:
    """The realism classifier for a labelled data set: from memory, else the cache folder
    (``cache_dir``, default the user cache, see ``default_cache_dir``), else trained now on up to
    MAX_TRAIN_IMAGES of its training images and stored in both. Safe to call from any thread.
    """
    if not dataset.labelled:
        raise DataError(f"The data set {dataset.name!r} has no labels, so no classifier can judge its images.")
    key = _fingerprint(dataset, seed)
    with _memory_lock:
        cached = _memory.get(key)
    if cached is not None:
        return cached
    path = _cache_path(dataset, key, cache_dir)
    classifier = _read(path)
    if classifier is None:
        n = len(dataset.train_images)
        keep = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:MAX_TRAIN_IMAGES]
        classifier = train_classifier(
            dataset.train_images[keep],
            dataset.train_labels[keep],
            dataset.num_classes,
            epochs=EPOCHS,
            min_steps=MIN_STEPS,
            batch_size=BATCH_SIZE,
            lr=LEARNING_RATE,
            outlier_weight=OUTLIER_WEIGHT,
            seed=seed,
            progress=progress,
            should_stop=should_stop,
        )
        if dataset.test_labels is not None and len(dataset.test_labels):
            # A random sample, since some test splits are stored sorted by class.
            test = torch.randperm(len(dataset.test_labels), generator=torch.Generator().manual_seed(seed))
            test = test[:ACCURACY_IMAGES]
            classifier.test_accuracy = accuracy(classifier, dataset.test_images[test], dataset.test_labels[test])
        _write(classifier, path)
    with _memory_lock:
        _memory[key] = classifier
    return classifier
