"""``vae-studio celeba``: fetch CelebA's faces and attribute table, ready for ``train`` and ``attribute``."""

from __future__ import annotations

import argparse
from typing import TextIO

from ..core.attributes import fetch_celeba


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    folder = fetch_celeba(args.root)
    out.write(f"CelebA is in {folder}\n")
    err.write(
        f"Train on it with: vae-studio train --dataset folder:{folder} --channels 3 --image-size 64 --arch conv "
        "--conv-channels 32,64,128 --latent-dim 64 --likelihood gaussian --out faces.vae\n"
        "then: vae-studio attribute faces.vae --attribute Smiling --out smile.png\n"
    )
    return 0
