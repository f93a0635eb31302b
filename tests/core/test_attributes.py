"""Attribute vectors from a table beside the images (CelebA's list_attr_celeba.txt layout)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from attribute_folders import write_squares
from vae_studio.cli import run_cli
from vae_studio.core.attributes import (
    attribute_vectors,
    find_table,
    folder_attribute_table,
    read_table,
    table_images,
)
from vae_studio.core.checkpoint import load_checkpoint
from vae_studio.core.errors import DataError
from vae_studio.core.latent import encode


def test_table_reads_both_value_styles(tmp_path: Path) -> None:
    write_squares(tmp_path / "a", 10)
    write_squares(tmp_path / "b", 10, zero_one=True)
    a, b = read_table(find_table(tmp_path / "a")), read_table(find_table(tmp_path / "b"))
    assert a.names == ("Large", "Red") and len(a.files) == 10
    assert np.array_equal(a.values, b.values) and a.values.dtype == bool
    assert find_table(tmp_path) is None


def test_malformed_table_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "list_attr_celeba.txt"
    path.write_text("2\nLarge Red\na.png 1 -1\nb.png 1 2\n")
    with pytest.raises(DataError, match="line 4"):
        read_table(path)
    path.write_text("Large Red\na.png 1 -1\n")
    with pytest.raises(DataError, match="not an attribute table"):
        read_table(path)
    path.write_text("1\nLarge\na.png 1\n")
    with pytest.raises(DataError, match="No attribute 'Smiling'"):
        read_table(path).column("Smiling")


def test_rgb_folder_trains_on_conv_and_the_large_direction_enlarges(tmp_path: Path) -> None:
    folder = tmp_path / "squares"
    write_squares(folder, 600)
    model_path = tmp_path / "squares.vae"
    err = io.StringIO()
    code = run_cli(
        ["train", "--dataset", f"folder:{folder}", "--arch", "conv", "--channels", "3", "--image-size", "32",
         "--latent-dim", "4", "--epochs", "12", "--batch-size", "32", "--lr", "3e-3", "--device", "cpu",
         "--out", str(model_path)],
        io.StringIO(), err,
    )
    assert code == 0, err.getvalue()
    trained = load_checkpoint(model_path)
    assert trained.config.image_shape == (3, 32, 32)

    table = read_table(find_table(folder))
    images, values = table_images(folder, table, 32, 3, max_images=400)
    assert images.shape == (400, 3, 32, 32)
    vectors = attribute_vectors(trained.model, images, values, table.names)
    mu = encode(trained.model, images).mu
    large = values[:, 0]
    assert np.allclose(vectors.direction("Large"), mu[large].mean(0) - mu[~large].mean(0), atol=1e-5)

    strip = tmp_path / "strip.png"
    out = io.StringIO()
    code = run_cli(["attribute", str(model_path), "--attribute", "Large", "--n", "5", "--strengths", "0,1",
                    "--scale", "1", "--out", str(strip)], out, err)
    assert code == 0, err.getvalue()
    pixels = np.asarray(Image.open(strip).convert("RGB"), np.float64)
    # torchvision's grid: 2 px of padding around 32 px cells; 5 rows of 2 strengths.
    assert pixels.shape == (5 * 34 + 2, 2 * 34 + 2, 3)
    cells = [[pixels[2 + 34 * r : 34 * (r + 1), 2 + 34 * c : 34 * (c + 1)] for c in range(2)] for r in range(5)]
    ink = np.array([[(cell.max(axis=2) > 60).mean() for cell in row] for row in cells])
    assert (ink[:, 1] > 2 * ink[:, 0]).all(), ink  # adding "large" grows every small square
    # Colour survives the whole way: the squares come out red or blue, not grey.
    tints = [abs(cell[..., 0] - cell[..., 2])[cell.max(axis=2) > 60].mean() for row in cells for cell in row[1:]]
    assert max(tints) > 60, tints


def test_attribute_command_explains_a_missing_table(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    err = io.StringIO()
    model_path = tmp_path / "m.vae"
    assert run_cli(["train", "--dataset", "mnist", "--subset", "100", "--epochs", "1", "--device", "cpu",
                    "--out", str(model_path)], io.StringIO(), err) == 0
    assert run_cli(["attribute", str(model_path), "--attribute", "Smiling", "--out", str(tmp_path / "s.png")],
                   io.StringIO(), err) == 2
    assert "not on an image folder" in err.getvalue()
    assert run_cli(["attribute", str(model_path), "--attribute", "Smiling", "--folder", str(folder),
                    "--out", str(tmp_path / "s.png")], io.StringIO(), err) == 2
    assert "No attribute table" in err.getvalue()


def test_64_pixel_rgb_folder_trains_on_conv(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    write_squares(folder, 60, side=64)
    err = io.StringIO()
    code = run_cli(["train", "--dataset", f"folder:{folder}", "--arch", "conv", "--channels", "3", "--image-size",
                    "64", "--conv-channels", "16,32,32", "--epochs", "1", "--batch-size", "25", "--device", "cpu",
                    "--out", str(tmp_path / "big.vae")], io.StringIO(), err)
    assert code == 0, err.getvalue()
    trained = load_checkpoint(tmp_path / "big.vae")
    assert trained.config.image_shape == (3, 64, 64) and np.isfinite(trained.history.epoch_test_loss).all()


def test_celeba_offline_says_what_to_put_where(tmp_path: Path, monkeypatch) -> None:
    import urllib.error

    import torchvision.datasets

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torchvision.datasets, "CelebA", offline)
    err = io.StringIO()
    assert run_cli(["celeba", "--root", str(tmp_path)], io.StringIO(), err) == 2
    message = err.getvalue()
    assert "Could not download CelebA" in message and "name resolution" in message
    assert f"into {tmp_path / 'celeba'}" in message and "list_attr_celeba.txt" in message


def test_folder_attribute_table_follows_the_data_set_spec(tmp_path: Path) -> None:
    write_squares(tmp_path / "squares", 10)
    folder, table = folder_attribute_table(f"folder:{tmp_path / 'squares'}")
    assert folder == tmp_path / "squares" and table.names == ("Large", "Red")
    (tmp_path / "plain").mkdir()
    assert folder_attribute_table(f"folder:{tmp_path / 'plain'}") is None
    assert folder_attribute_table("mnist") is None
    assert folder_attribute_table(f"idx:{tmp_path / 'squares'}") is None
    (tmp_path / "plain" / "attributes.txt").write_text("Large\na.png 1\n")
    with pytest.raises(DataError, match="not an attribute table"):
        folder_attribute_table(f"folder:{tmp_path / 'plain'}")
