"""``vae-studio attribute``: the latent direction of a listed attribute, and a strip adding it to images."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

import numpy as np

from ..core.attributes import add_attribute, attribute_vectors, find_table, read_table, table_images
from ..core.errors import DataError
from ..core.interpolation import save_png
from ..core.latent import encode
from .loading import load_model


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    trained = load_model(args.checkpoint, args.device)
    folder = args.folder or _training_folder(trained.train_config.dataset)
    table_path = find_table(folder)
    if table_path is None:
        raise DataError(f"No attribute table (list_attr_celeba.txt or attributes.txt) in {folder}.")
    table = read_table(table_path)
    table.column(args.attribute)  # a clear error for a name the table does not list
    channels, size, _ = trained.config.image_shape
    images, values = table_images(folder, table, size, channels, args.max_images, args.seed)
    vectors = attribute_vectors(trained.model, images, values, table.names)
    direction = vectors.direction(args.attribute)
    has = values[:, table.names.index(args.attribute)]
    lacking = np.flatnonzero(~has)[: args.n]
    codes = encode(trained.model, images[lacking]).mu
    rows = [add_attribute(trained.model, vectors, args.attribute, z, args.strengths).images for z in codes]
    path = save_png(np.stack(rows), args.out, scale=args.scale)
    err.write(
        f"{args.attribute}: direction of length {np.linalg.norm(direction):.2f} from {vectors.images} images "
        f"({int(has.sum())} with it); strengths "
        f"{', '.join(f'{s:g}' for s in args.strengths)} added to {len(rows)} images without it\n"
    )
    out.write(f"wrote {path}\n")
    return 0


def _training_folder(spec: str) -> Path:
    prefix, _, path = spec.partition(":")
    if prefix.lower() != "folder" or not path.strip():
        raise DataError(
            f"The model was trained on {spec!r}, not on an image folder; give the folder with its attribute "
            "table with --folder PATH."
        )
    return Path(path.strip()).expanduser()
