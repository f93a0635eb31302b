"""The named choices the core accepts, in one place for the command line and the window.

Torch-free on purpose: the command line builds its parser (and answers ``--help``) from these
without importing torch.
"""

from __future__ import annotations

MODEL_KINDS: tuple[str, ...] = ("ae", "vae", "cvae")
ARCHS: tuple[str, ...] = ("mlp", "conv")
LIKELIHOODS: tuple[str, ...] = ("bernoulli", "gaussian")
CORRUPTIONS: tuple[str, ...] = ("none", "gaussian", "salt-pepper", "block", "rotation")
BINARIZATIONS: tuple[str, ...] = ("none", "dynamic", "static")
DEVICE_CHOICES: tuple[str, ...] = ("auto", "cpu", "cuda", "mps")
# Training precisions: float32, or autocast to bfloat16 (CPU and GPU) or float16 (CUDA only).
PRECISIONS: tuple[str, ...] = ("32", "bf16", "fp16")

# Built-in data set names; ``idx:PATH`` and ``folder:PATH`` name data on disk.
DATASET_CHOICES: tuple[str, ...] = ("mnist", "fashion-mnist", "shapes", "kmnist", "emnist-letters")
SPEC_PREFIXES: tuple[str, ...] = ("idx:", "folder:")

ANOMALY_SCORES: tuple[str, ...] = ("recon", "elbo")
SCORE_DESCRIPTIONS: dict[str, str] = {
    "recon": "reconstruction error (-log p(x|z) at the posterior mean, nats)",
    "elbo": "negative ELBO (reconstruction + KL, nats)",
}

CHECKPOINT_SUFFIX = ".vae"

# The fixed realism-confidence bar reported beside the calibrated one (and the default of the
# panel's and the CLI's threshold setting when a fixed bar is asked for).
FIXED_REALISM_THRESHOLD = 0.9
