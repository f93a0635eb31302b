"""The argument parser of every command. Torch-free, so ``vae-studio --help`` answers at once."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from .. import __version__
from ..core.config import (
    DEFAULT_MAX_FOLDER_FILES,
    MAX_BATCH_SIZE,
    MAX_BETA,
    MAX_CLASSES,
    MAX_CONV_CHANNELS,
    MAX_CONV_LAYERS,
    MAX_EPOCHS,
    MAX_FOLDER_FILES,
    MAX_IMAGE_SIZE,
    MAX_LATENT_DIM,
    MAX_LAYERS,
    MAX_LR,
    MAX_SEED,
    MAX_SUBSET,
    MAX_WIDTH,
    TrainConfig,
)
from ..core.vocabulary import (
    ANOMALY_SCORES,
    ARCHS,
    BINARIZATIONS,
    CHECKPOINT_SUFFIX,
    CORRUPTIONS,
    DATASET_CHOICES,
    DEVICE_CHOICES,
    FIXED_REALISM_THRESHOLD,
    LIKELIHOODS,
    MODEL_KINDS,
    PRECISIONS,
)

# Each command's module under vae_studio.cli, imported only when that command runs.
COMMANDS: tuple[str, ...] = ("train", "evaluate", "anomaly", "sample", "encode", "compare", "attribute", "celeba")


FORMATTER = argparse.ArgumentDefaultsHelpFormatter  # every help text shows the defaults


def _float_list(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
MAX_SAMPLES = 4096
MAX_IW_SAMPLES = 100_000
MAX_POINTS = 100_000
MAX_GRID = 100
MAX_PROCESSES = 1024
MAX_THREADS = 1024


_SIZE_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def _byte_size(text: str) -> int:
    """A memory size such as 512M, 4G or 1500000 (bytes), as a number of bytes."""
    number, unit = text.strip().lower().removesuffix("b").removesuffix("i"), ""
    if number and number[-1] in _SIZE_UNITS:
        number, unit = number[:-1], number[-1]
    try:
        value = float(number) * _SIZE_UNITS[unit]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a size such as 512M or 4G, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"the size must be positive, got {text!r}")
    return int(value)


def _add_scale_options(p: argparse.ArgumentParser) -> None:
    """Options for bigger machines: several processes, lower precision, compilation, data over memory."""
    p.add_argument("--nproc", type=_bounded_int(1, MAX_PROCESSES), default=1,
                   help="train in this many processes on this machine (starts torchrun; one per GPU)")
    p.add_argument("--precision", choices=PRECISIONS, default="32",
                   help="32 (float32), bf16 (autocast; CPU or GPU) or fp16 (autocast; CUDA only)")
    p.add_argument("--compile", action="store_true", help="compile the model with torch.compile")
    p.add_argument("--max-memory", type=_byte_size, default=None, metavar="SIZE",
                   help="most memory the training images may take on the device, e.g. 2G; larger data is "
                        "cached as a memory-mapped file and streamed by batch")


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:,} and {high:,}; got {text}")
        return value

    return parse


def _grid_side(text: str) -> int:
    """A grid side for completeness: 0 (no grid) or 2 to MAX_GRID; one point is no grid."""
    value = _bounded_int(0, MAX_GRID)(text)
    if value == 1:
        raise argparse.ArgumentTypeError(f"must be 0 (no grid) or between 2 and {MAX_GRID:,}; got 1")
    return value


def _bounded_float(low: float, high: float, low_open: bool = False) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        # NaN fails both comparisons, infinity the upper bound.
        if not (low < value if low_open else low <= value) or not value <= high:
            interval = f"{'(' if low_open else '['}{low:g}, {high:g}]"
            raise argparse.ArgumentTypeError(f"must be a number in {interval}; got {text}")
        return value

    return parse


def _sizes(most: int, layers: int) -> Callable[[str], tuple[int, ...]]:
    def parse(text: str) -> tuple[int, ...]:
        try:
            sizes = tuple(int(part) for part in text.split(",") if part.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}") from None
        if not 1 <= len(sizes) <= layers or not all(1 <= size <= most for size in sizes):
            raise argparse.ArgumentTypeError(f"expected 1 to {layers} sizes, each between 1 and {most}; got {text!r}")
        return sizes

    return parse


def _output_file(suffixes: tuple[str, ...] = ()) -> Callable[[str], Path]:
    """A file to write: not a folder, and with one of ``suffixes`` when given."""

    def parse(text: str) -> Path:
        path = Path(text).expanduser()
        if not text.strip() or path.is_dir():
            raise argparse.ArgumentTypeError(f"{text!r} is a folder; give a file name")
        if suffixes and path.suffix.lower() not in suffixes:
            raise argparse.ArgumentTypeError(f"{text!r} must end in one of {', '.join(suffixes)}")
        return path

    return parse


def _add_train_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("train", help="train a model and write one checkpoint file", parents=[common],
                       formatter_class=FORMATTER)
    d = TrainConfig()
    p.add_argument("--dataset", default=d.dataset, help=f"{', '.join(DATASET_CHOICES)}, idx:PATH or folder:PATH")
    p.add_argument("--model", choices=MODEL_KINDS, default="vae", help="ae, vae or conditional vae")
    p.add_argument("--arch", choices=ARCHS, default="mlp", help="fully connected (mlp) or convolutional")
    p.add_argument("--latent-dim", type=_bounded_int(1, MAX_LATENT_DIM), default=2,
                   help=f"size of the latent space (1 to {MAX_LATENT_DIM})")
    p.add_argument("--hidden", type=_sizes(MAX_WIDTH, MAX_LAYERS), default="400",
                   help=f"MLP hidden widths, e.g. 512,256 (up to {MAX_LAYERS} layers of at most {MAX_WIDTH})")
    p.add_argument("--conv-channels", type=_sizes(MAX_CONV_CHANNELS, MAX_CONV_LAYERS), default="32,64",
                   help=f"channels of each stride-2 convolution (up to {MAX_CONV_LAYERS} of at most "
                        f"{MAX_CONV_CHANNELS})")
    p.add_argument("--likelihood", choices=LIKELIHOODS, default="bernoulli", help="decoder likelihood p(x|z)")
    p.add_argument("--beta", type=_bounded_float(0, MAX_BETA), default=d.beta,
                   help=f"KL weight (beta-VAE), 0 to {MAX_BETA:g}")
    p.add_argument("--warmup", type=_bounded_float(0, MAX_EPOCHS), default=d.warmup_epochs,
                   help="epochs of linear KL warm-up")
    p.add_argument("--epochs", type=_bounded_int(1, MAX_EPOCHS), default=d.epochs, help=f"1 to {MAX_EPOCHS:,}")
    p.add_argument("--batch-size", type=_bounded_int(1, MAX_BATCH_SIZE), default=d.batch_size,
                   help=f"1 to {MAX_BATCH_SIZE:,}")
    p.add_argument("--lr", type=_bounded_float(0, MAX_LR, low_open=True), default=d.lr,
                   help=f"Adam learning rate, above 0 and at most {MAX_LR:g}")
    p.add_argument("--lr-decay", type=_bounded_float(0, 1, low_open=True), default=d.lr_decay,
                   help="learning rate factor per epoch, e.g. 0.98")
    p.add_argument("--seed", type=_bounded_int(0, MAX_SEED), default=d.seed, help="seed of the weights and batch order")
    p.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help="where to train")
    p.add_argument("--corruption", choices=CORRUPTIONS, default="none", help="denoising: corrupt the input")
    p.add_argument("--noise-level", type=_bounded_float(0, 1), default=0.0, help="strength of the corruption, 0 to 1")
    p.add_argument("--binarize", choices=BINARIZATIONS, default="none", help="binarize the pixels for training")
    p.add_argument("--classes", default=None, help="train on these classes only, e.g. 0-8")
    p.add_argument("--subset", type=_bounded_int(1, MAX_SUBSET), default=None,
                   help=f"train on this many random training images (1 to {MAX_SUBSET:,}; default: all)")
    p.add_argument("--image-size", type=_bounded_int(8, MAX_IMAGE_SIZE), default=28,
                   help=f"image side in pixels, 8 to {MAX_IMAGE_SIZE}")
    p.add_argument("--channels", type=int, choices=(1, 3), default=1, help="1 (grayscale) or 3 (RGB)")
    p.add_argument("--max-files", type=_bounded_int(1, MAX_FOLDER_FILES), default=DEFAULT_MAX_FOLDER_FILES,
                   help="folder data sets: stop scanning past this many files")
    p.add_argument("--name", default=None, help="the model's name in the app (default: the file name)")
    p.add_argument("--save-every", type=_bounded_int(1, MAX_EPOCHS), default=None, metavar="N",
                   help="also save the checkpoint after every N epochs (default: only at the end)")
    p.add_argument("--out", required=True, type=_output_file(), help=f"checkpoint file to write (*{CHECKPOINT_SUFFIX})")
    _add_scale_options(p)


def _checkpoint_parser(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser, name: str, help_text: str
) -> argparse.ArgumentParser:
    """A command on one checkpoint file, run on a device of the user's choice."""
    p = sub.add_parser(name, help=help_text, parents=[common], formatter_class=FORMATTER)
    p.add_argument("checkpoint", type=Path, help=f"a checkpoint file (*{CHECKPOINT_SUFFIX})")
    p.add_argument("--device", choices=DEVICE_CHOICES, default="cpu", help="where to run the model")
    return p


def _add_evaluate_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """vae-studio evaluate: the test-split figures, optionally the importance-weighted NLL."""
    p = _checkpoint_parser(sub, common, "evaluate", "test-split reconstruction loss, KL and negative ELBO per image")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--iw-samples", type=_bounded_int(1, MAX_IW_SAMPLES), default=None, metavar="K",
                   help="also estimate -log p(x) with K importance samples (Burda et al. 2016; 5000 is usual; "
                        f"at most {MAX_IW_SAMPLES:,})")
    p.add_argument("--seed", type=_bounded_int(0, MAX_SEED), default=0, help="seed of the sampling noise")


def _add_anomaly_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """vae-studio anomaly: outliers against the normal test images."""
    p = _checkpoint_parser(
        sub, common, "anomaly", "anomaly detection: AUC of telling outliers from the normal test images"
    )
    p.add_argument("--outliers", required=True, metavar="DATASET_OR_CLASSES",
                   help="held-out classes of the model's data set (e.g. 9 or 8-9) or another data set")
    p.add_argument("--score", choices=ANOMALY_SCORES, default="recon",
                   help="recon: reconstruction error; elbo: negative ELBO (VAEs)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _add_sample_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """vae-studio sample: a grid of prior samples."""
    p = _checkpoint_parser(sub, common, "sample", "write a grid of decoded samples from the prior")
    p.add_argument("--n", type=_bounded_int(1, MAX_SAMPLES), default=64, help=f"number of samples, 1 to {MAX_SAMPLES}")
    p.add_argument("--temperature", type=_bounded_float(0, 10), default=1.0, help="scale of the prior's sigma, 0 to 10")
    p.add_argument("--seed", type=_bounded_int(0, MAX_SEED), default=0, help="seed of the samples")
    p.add_argument("--label", type=_bounded_int(0, MAX_CLASSES - 1), default=None,
                   help="class to generate (conditional models)")
    p.add_argument("--out", type=_output_file(IMAGE_SUFFIXES), required=True,
                   help=f"image file to write ({', '.join(IMAGE_SUFFIXES)})")


def _add_encode_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """vae-studio encode: the codes of a split as CSV."""
    p = _checkpoint_parser(sub, common, "encode", "write the posterior mean (and log variance) of each image as CSV")
    p.add_argument("--split", choices=("train", "test"), default="test", help="which split to encode")
    p.add_argument("--out", type=_output_file(), required=True, help="CSV file to write")


def _add_attribute_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """vae-studio attribute: an attribute's latent direction added to images."""
    p = _checkpoint_parser(
        sub, common, "attribute", "an attribute's latent direction (images with it minus without) added to images"
    )
    p.add_argument("--attribute", required=True, help="a column of the attribute table, e.g. Smiling")
    p.add_argument("--folder", type=Path, default=None,
                   help="image folder with list_attr_celeba.txt (default: the folder the model was trained on)")
    p.add_argument("--strengths", type=_float_list, default="0,0.5,1,1.5",
                   help="multiples of the direction, one column each (0: the plain reconstruction)")
    p.add_argument("--n", type=_bounded_int(1, MAX_SAMPLES), default=6,
                   help="images without the attribute, one row each")
    p.add_argument("--max-images", type=_bounded_int(1, MAX_POINTS), default=2000,
                   help="images the mean codes are taken over")
    p.add_argument("--scale", type=_bounded_int(1, 16), default=2, help="pixels per image pixel in the strip")
    p.add_argument("--seed", type=_bounded_int(0, MAX_SEED), default=0, help="which listed images are used")
    p.add_argument("--out", type=_output_file(IMAGE_SUFFIXES), required=True, help="image file to write")


def _add_celeba_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """vae-studio celeba: CelebA's download."""
    p = sub.add_parser("celeba", help="download CelebA's faces and attribute table with torchvision",
                       parents=[common], formatter_class=FORMATTER)
    p.add_argument("--root", type=Path, default=Path("~/vae-studio-data"),
                   help="folder to download into (about 1.4 GB); CelebA lands in ROOT/celeba")


def _add_compare_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """vae-studio compare: continuity and completeness of checkpoints or a trained AE/VAE pair."""
    p = sub.add_parser(
        "compare",
        help="continuity and completeness of each model's latent space (AE versus VAE)",
        description="Score the given checkpoints, or with --train train an AE and a VAE alike with the app's "
        "AE-vs-VAE defaults and score both. Sizes left out are the app's defaults.",
        parents=[common],
        formatter_class=FORMATTER,
    )
    p.add_argument("checkpoints", type=Path, nargs="*", help=f"checkpoint files (*{CHECKPOINT_SUFFIX})")
    p.add_argument("--train", action="store_true",
                   help="train the AE/VAE pair as the app's AE-vs-VAE panel does, instead of reading checkpoints")
    p.add_argument("--dataset", default=None, help=f"with --train: {', '.join(DATASET_CHOICES)}, idx:PATH or folder:PATH")
    p.add_argument("--latent-dim", type=_bounded_int(1, MAX_LATENT_DIM), default=None,
                   help="with --train: latent size of both models")
    p.add_argument("--arch", choices=ARCHS, default=None, help="with --train: the architecture both models share")
    p.add_argument("--epochs", type=_bounded_int(1, MAX_EPOCHS), default=None,
                   help="with --train: training passes for each model")
    p.add_argument("--subset", type=_bounded_int(1, MAX_SUBSET), default=None,
                   help="with --train: train both on this many random images")
    p.add_argument("--device", choices=DEVICE_CHOICES, default=None,
                   help="default: cpu for checkpoints; with --train auto, as the app")
    p.add_argument("--points", type=_bounded_int(2, MAX_POINTS), default=None,
                   help="test images whose codes continuity is measured around")
    p.add_argument("--samples", type=_bounded_int(1, MAX_POINTS), default=None,
                   help="prior samples judged for completeness")
    p.add_argument("--grid", type=_grid_side, default=None,
                   help="side of the grid over the region the codes occupy (the middle 98%% on each axis); "
                        "0: prior samples only")
    p.add_argument("--threshold", type=_bounded_float(0, 1, low_open=True), default=None,
                   help="a fixed classifier confidence from which a decoding counts as real (default: calibrated per "
                        "model, the level 95%% of its reconstructions of test images reach, at least 50%%; the "
                        f"figures at a fixed {FIXED_REALISM_THRESHOLD:.0%}% are shown too)")
    p.add_argument("--seed", type=_bounded_int(0, MAX_SEED), default=None, help="seed of the sampling (with --train: also of the training)")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per model in order (AE first)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vae-studio",
        description="See how autoencoders and variational autoencoders work. With no command, opens the app; "
        "with checkpoint files or a data folder, opens them in the app.",
        formatter_class=FORMATTER,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    # Every command takes --debug too; SUPPRESS keeps a command's default from hiding the main one.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command")
    for add in (
        _add_train_parser, _add_evaluate_parser, _add_anomaly_parser, _add_sample_parser, _add_encode_parser,
        _add_attribute_parser, _add_celeba_parser, _add_compare_parser,
    ):  # fmt: skip
        add(sub, common)
    for command in sub.choices.values():  # torch's CPU threads, on every command (core/threads.py)
        command.add_argument("--threads", type=_bounded_int(0, MAX_THREADS), default=None, metavar="N",
                             help="CPU threads for torch (default or 0: the cores other programs leave free)")
    return parser
