"""Folders of ordinary image files, written with Pillow per test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vae_studio.core.data import load_dataset
from vae_studio.core.data.folder import load_image_folder
from vae_studio.core.errors import ConfigError, DataError

FORMATS = ("png", "jpg", "bmp", "gif", "webp")


def save(path: Path, colour: tuple[int, int, int] = (200, 200, 200), size: tuple[int, int] = (40, 30)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)


def class_folder(root: Path, counts: dict[str, int]) -> Path:
    for name, count in counts.items():
        for i in range(count):
            save(root / name / f"{i:03d}.{FORMATS[i % len(FORMATS)]}", colour=(i * 7 % 256, 80, 160))
    return root


def test_class_subfolders(tmp_path: Path) -> None:
    root = class_folder(tmp_path / "pets", {"dogs": 12, "cats": 6, "birds": 3})
    ds = load_image_folder(root, image_size=16)
    assert ds.name == "pets"
    assert ds.class_names == ("birds", "cats", "dogs")  # sorted folder names
    assert ds.image_shape == (1, 16, 16) and ds.train_images.dtype == torch.uint8
    assert ds.skipped_files == 0 and ds.notes == ()
    # A sixth of each class (rounded half up) is held out.
    assert torch.bincount(ds.test_labels, minlength=3).tolist() == [1, 1, 2]
    assert torch.bincount(ds.train_labels, minlength=3).tolist() == [2, 5, 10]
    assert ds.train_labels.dtype == torch.int64


def test_split_is_seeded(tmp_path: Path) -> None:
    root = tmp_path / "flat"
    for i in range(30):
        save(root / f"{i:02d}.png", colour=(i * 8, i * 8, i * 8))
    a = load_image_folder(root, seed=1)
    assert torch.equal(a.test_images, load_image_folder(root, seed=1).test_images)
    assert not torch.equal(a.test_images, load_image_folder(root, seed=2).test_images)


def test_flat_folder_is_unlabelled(tmp_path: Path) -> None:
    for i in range(12):
        save(tmp_path / f"img{i}.png")
    ds = load_image_folder(tmp_path)
    assert not ds.labelled and ds.train_labels is None and ds.class_names == ()
    assert len(ds.train_images) == 10 and len(ds.test_images) == 2
    assert ds.image_shape == (1, 28, 28)


def test_rgb(tmp_path: Path) -> None:
    for i in range(6):
        save(tmp_path / "red" / f"{i}.png", colour=(255, 0, 0))
    ds = load_image_folder(tmp_path, image_size=8, channels=3)
    assert ds.image_shape == (3, 8, 8)
    assert (ds.train_images[:, 0] == 255).all() and (ds.train_images[:, 1:] == 0).all()


def test_grayscale_conversion_uses_luma(tmp_path: Path) -> None:
    save(tmp_path / "a.png", colour=(255, 0, 0))
    ds = load_image_folder(tmp_path, image_size=4)
    assert int(ds.train_images.max()) == 76  # Pillow's ITU-R 601 weight for red


def test_sixteen_bit_images_are_scaled(tmp_path: Path) -> None:
    values = np.linspace(0, 65535, 64).astype(np.uint16).reshape(8, 8)
    Image.fromarray(values).save(tmp_path / "deep.png")
    ds = load_image_folder(tmp_path, image_size=8)
    np.testing.assert_allclose(ds.train_images[0, 0].numpy(), values / 257, atol=1)


def test_transparency_becomes_black(tmp_path: Path) -> None:
    image = Image.new("RGBA", (10, 10), (255, 255, 255, 0))
    image.paste((255, 255, 255, 255), (0, 0, 5, 10))
    image.save(tmp_path / "half.png")
    ds = load_image_folder(tmp_path, image_size=10)
    pixels = ds.train_images[0, 0]
    assert (pixels[:, :4] == 255).all() and (pixels[:, 6:] == 0).all()


def test_skipped_files_counted(tmp_path: Path) -> None:
    class_folder(tmp_path, {"a": 6, "b": 6})
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    (tmp_path / "b" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (tmp_path / "b" / ".DS_Store").write_bytes(b"hidden clutter is ignored")
    (tmp_path / "loose.png").write_bytes(b"")
    ds = load_image_folder(tmp_path)
    assert ds.skipped_files == 3
    assert len(ds.train_images) + len(ds.test_images) == 12
    notes = " ".join(ds.notes)
    assert "Skipped 2 files" in notes and "notes.txt" in notes and "broken.png" in notes
    assert "Ignored 1 files" in notes


def test_nested_files_and_empty_class(tmp_path: Path) -> None:
    save(tmp_path / "a" / "deeper" / "x.png")
    save(tmp_path / "a" / "y.png")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "readme.md").write_text("no images here")
    ds = load_image_folder(tmp_path)
    assert ds.class_names == ("a",) and ds.skipped_files == 1
    assert any("'b'" in note for note in ds.notes)


def test_load_dataset_folder_spec(tmp_path: Path) -> None:
    class_folder(tmp_path / "set", {"x": 6, "y": 6})
    spec = f"folder:{tmp_path / 'set'}"
    ds = load_dataset(spec, image_size=20, channels=3, seed=4)
    assert ds.image_shape == (3, 20, 20) and ds.class_names == ("x", "y")
    assert ds.name == spec  # a checkpoint's TrainConfig.dataset must reload the same data


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found") as info:
        load_image_folder(tmp_path / "absent")
    assert "absent" in str(info.value)


def test_path_is_a_file(tmp_path: Path) -> None:
    save(tmp_path / "one.png")
    with pytest.raises(DataError, match="one.png"):
        load_image_folder(tmp_path / "one.png")


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty") as info:
        load_image_folder(tmp_path / "empty")
    assert str(tmp_path / "empty") in str(info.value)


def test_empty_class_folders(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with pytest.raises(DataError, match="empty"):
        load_image_folder(tmp_path)


def test_no_readable_images(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("text")
    (tmp_path / "b.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match="No readable images") as info:
        load_image_folder(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_bad_channels(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_image_folder(tmp_path, channels=2)
