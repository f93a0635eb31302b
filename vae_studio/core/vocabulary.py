"""The named choices the core accepts, with the words people see for them, in one place for the
command line and the window.

Each vocabulary is a registry of :class:`Choice` (key, label, and where useful a short form, the
phrase used inside a sentence, and a line of help); the plain key tuples (``MODEL_KINDS``, …) are
derived from them. Data set specs (a built-in name, ``idx:PATH`` or ``folder:PATH``) are read by
:func:`parse_spec` and nowhere else.

Torch-free on purpose: the command line builds its parser (and answers ``--help``) from these
without importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath


@dataclass(frozen=True)
class Choice:
    key: str  # what configs, checkpoints and the command line use
    label: str  # what a menu shows
    short: str = ""  # in tight places such as model names (the label when empty)
    phrase: str = ""  # inside a sentence, "trained with ..." (the label when empty)
    help: str = ""

    @property
    def short_label(self) -> str:
        return self.short or self.label

    @property
    def in_sentence(self) -> str:
        return self.phrase or self.label


def choice(choices: tuple[Choice, ...], key: str) -> Choice:
    """The entry of ``choices`` for ``key``; ValueError naming the known keys when there is none."""
    for entry in choices:
        if entry.key == key:
            return entry
    raise ValueError(f"unknown choice {key!r}; expected one of {', '.join(c.key for c in choices)}")


MODEL_KIND_CHOICES: tuple[Choice, ...] = (
    Choice("ae", "AE"),
    Choice("vae", "VAE"),
    Choice("cvae", "Conditional VAE", short="CVAE"),
)
ARCH_CHOICES: tuple[Choice, ...] = (Choice("mlp", "MLP"), Choice("conv", "Conv"))
LIKELIHOOD_CHOICES: tuple[Choice, ...] = (Choice("bernoulli", "Bernoulli"), Choice("gaussian", "Gaussian"))
CORRUPTION_CHOICES: tuple[Choice, ...] = (
    Choice("none", "None", phrase="no corruption"),
    Choice("gaussian", "Gaussian noise", help="the noise's standard deviation (pixels are 0 to 1)"),
    Choice(
        "salt-pepper", "Salt and pepper", phrase="salt-and-pepper noise",
        help="the fraction of pixels set to black or white",
    ),
    Choice("block", "Masked block", phrase="masked blocks", help="the fraction of the image a black square covers"),
    Choice("rotation", "Rotation", phrase="random rotations", help="the largest angle, as a fraction of a half turn"),
)  # fmt: skip

MODEL_KINDS: tuple[str, ...] = tuple(c.key for c in MODEL_KIND_CHOICES)
ARCHS: tuple[str, ...] = tuple(c.key for c in ARCH_CHOICES)
LIKELIHOODS: tuple[str, ...] = tuple(c.key for c in LIKELIHOOD_CHOICES)
CORRUPTIONS: tuple[str, ...] = tuple(c.key for c in CORRUPTION_CHOICES)
BINARIZATIONS: tuple[str, ...] = ("none", "dynamic", "static")
DEVICE_CHOICES: tuple[str, ...] = ("auto", "cpu", "cuda", "mps")
# Training precisions: float32, or autocast to bfloat16 (CPU and GPU) or float16 (CUDA only).
PRECISIONS: tuple[str, ...] = ("32", "bf16", "fp16")

# Built-in data sets; ``idx:PATH`` and ``folder:PATH`` name data on disk.
BUILTIN_DATASETS: tuple[Choice, ...] = (
    Choice("mnist", "MNIST (digits)"),
    Choice("fashion-mnist", "Fashion-MNIST"),
    Choice("shapes", "Shapes (synthetic)"),
    Choice("kmnist", "KMNIST (Japanese)"),
    Choice("emnist-letters", "EMNIST letters"),
)
DATASET_CHOICES: tuple[str, ...] = tuple(c.key for c in BUILTIN_DATASETS)
SPEC_PREFIXES: tuple[str, ...] = ("idx:", "folder:")


def parse_spec(spec: str) -> tuple[str, str]:
    """A data set spec as (kind, path): ("idx", PATH), ("folder", PATH), or (the spec, "") for any other
    name (a built-in set, or a name load_dataset will refuse with its own message)."""
    prefix, _, path = spec.strip().partition(":")
    if f"{prefix.lower()}:" in SPEC_PREFIXES:
        return prefix.lower(), path.strip()
    return spec.strip(), ""


def spec_short(spec: str) -> str:
    """A data set spec in few characters: the built-in name, or the folder's own name for ``idx:``/``folder:``."""
    kind, path = parse_spec(spec)
    return (PurePath(path).name or path) if path else kind


def spec_label(spec: str) -> str:
    """A data set spec as a menu shows it: "MNIST (digits)", "IDX: digits", "Folder: photos"."""
    kind, path = parse_spec(spec)
    if path:
        return f"{'IDX' if kind == 'idx' else 'Folder'}: {spec_short(spec)}"
    return next((c.label for c in BUILTIN_DATASETS if c.key == kind), spec)

ANOMALY_SCORES: tuple[str, ...] = ("recon", "elbo")
SCORE_DESCRIPTIONS: dict[str, str] = {
    "recon": "reconstruction error (-log p(x|z) at the posterior mean, nats)",
    "elbo": "negative ELBO (reconstruction + KL, nats)",
}

CHECKPOINT_SUFFIX = ".vae"

# The fixed realism-confidence bar reported beside the calibrated one (and the default of the
# panel's and the CLI's threshold setting when a fixed bar is asked for).
FIXED_REALISM_THRESHOLD = 0.9
