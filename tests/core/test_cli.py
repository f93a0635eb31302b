"""The command line, end to end on a tiny MNIST run, through run_cli and once through ``python -m``."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from vae_studio.core.checkpoint import load_checkpoint
from vae_studio.cli import run_cli

REPO = Path(__file__).resolve().parents[2]


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_cli([str(a) for a in argv], out, err)
    return code, out.getvalue(), err.getvalue()


def assert_user_error(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == 2
    assert "Traceback" not in err and "Traceback" not in out
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    path = tmp_path_factory.mktemp("cli") / "tiny.vae"
    code, out, err = cli(
        "train",
        "--dataset", "mnist",
        "--subset", "500",
        "--epochs", "1",
        "--arch", "mlp",
        "--latent-dim", "2",
        "--hidden", "64",
        "--batch-size", "100",
        "--device", "cpu",
        "--out", path,
    )  # fmt: skip
    assert code == 0, err
    return path, out, err


def test_train_writes_a_checkpoint_and_reports_epochs(trained) -> None:
    path, out, err = trained
    assert path.is_file()
    assert out.strip() == f"saved {path}"
    assert "epoch 1: train loss" in err and "test loss" in err
    assert "Trained 1 epoch." in err
    assert "500 train / 10000 test" in err
    assert "0 epochs so far, for 1 more epoch (" in err  # what the run adds, not a model's count of 0
    model = load_checkpoint(path)
    assert model.name == "tiny"
    assert model.config.kind == "vae" and model.config.latent_dim == 2 and model.config.hidden_sizes == (64,)
    assert model.train_config.train_subset == 500 and model.train_config.epochs == 1
    assert model.history.epochs == 1 and model.history.steps == 5


def evaluate_json(path: Path) -> dict:
    code, out, err = cli("evaluate", path, "--json")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


@pytest.fixture(scope="module")
def evaluated(trained) -> dict:
    return evaluate_json(trained[0])


def test_evaluate_json(evaluated: dict) -> None:
    result = evaluated
    for key in ("recon", "kl", "loss"):
        assert isinstance(result[key], float) and math.isfinite(result[key])
    assert result["loss"] == pytest.approx(result["recon"] + result["kl"], rel=1e-12)
    assert result["kl"] > 0
    # Five steps of training already beat predicting 0.5 for every pixel (784 ln 2 nats).
    assert 100 < result["loss"] < 784 * math.log(2)
    assert result["images"] == 10000 and result["dataset"] == "mnist"


def test_evaluate_text(trained) -> None:
    path, _, _ = trained
    code, out, _ = cli("evaluate", path)
    assert code == 0
    assert "VAE mlp z=2 on mnist" in out and "loss (-ELBO)" in out


def test_sample_writes_a_png(trained, tmp_path: Path) -> None:
    path, _, _ = trained
    png = tmp_path / "out" / "samples.png"
    code, out, err = cli("sample", path, "--n", "16", "--out", png, "--seed", "3")
    assert code == 0, err
    assert "16 samples" in out
    with Image.open(png) as image:
        assert image.format == "PNG"
        # 4 x 4 tiles of 28 pixels with 2-pixel padding around each.
        assert image.size == (4 * 30 + 2, 4 * 30 + 2)
        low, high = image.convert("L").getextrema()
        assert high > 100  # not a blank picture
    again = tmp_path / "again.png"
    cli("sample", path, "--n", "16", "--out", again, "--seed", "3")
    assert again.read_bytes() == png.read_bytes()


def test_encode_writes_a_csv(trained, tmp_path: Path) -> None:
    path, _, _ = trained
    out_csv = tmp_path / "codes.csv"
    code, out, err = cli("encode", path, "--out", out_csv)
    assert code == 0, err
    with open(out_csv, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["index", "label", "mu_1", "mu_2", "logvar_1", "logvar_2"]
    body = rows[1:]
    assert len(body) == 10000
    assert [int(r[0]) for r in body[:3]] == [0, 1, 2] and int(body[-1][0]) == 9999
    assert {int(r[1]) for r in body} == set(range(10))
    values = [float(v) for r in body[:100] for v in r[2:]]
    assert all(math.isfinite(v) for v in values)
    assert "10000 codes" in out


def test_encode_train_split_uses_the_subset(trained, tmp_path: Path) -> None:
    path, _, _ = trained
    out_csv = tmp_path / "train.csv"
    assert cli("encode", path, "--split", "train", "--out", out_csv)[0] == 0
    assert len(out_csv.read_text().splitlines()) == 1 + 500


def test_missing_checkpoint(tmp_path: Path) -> None:
    missing = tmp_path / "missing.vae"
    assert_user_error(*cli("evaluate", missing, "--json"), str(missing))
    assert_user_error(*cli("sample", missing, "--out", tmp_path / "s.png"), str(missing))
    assert_user_error(*cli("encode", missing, "--out", tmp_path / "c.csv"), str(missing))
    assert not (tmp_path / "s.png").exists() and not (tmp_path / "c.csv").exists()


def test_corrupt_checkpoint(tmp_path: Path) -> None:
    bad = tmp_path / "bad.vae"
    bad.write_bytes(b"\x00\x01garbage" * 100)
    code, out, err = cli("evaluate", bad, "--json")
    assert_user_error(code, out, err, str(bad))
    assert out == ""


def test_unknown_dataset(tmp_path: Path) -> None:
    out_path = tmp_path / "x.vae"
    assert_user_error(*cli("train", "--dataset", "no-such-set", "--epochs", "1", "--out", out_path), "no-such-set")
    assert not out_path.exists()


@pytest.mark.parametrize("classes", ["abc", "5-2", "3,42"])
def test_bad_classes(tmp_path: Path, classes: str) -> None:
    out_path = tmp_path / "x.vae"
    code, out, err = cli("train", "--dataset", "mnist", "--classes", classes, "--subset", "50", "--out", out_path)
    assert_user_error(code, out, err)
    assert not out_path.exists()


def test_python_dash_m_entry_point(trained, evaluated: dict) -> None:
    path, _, _ = trained
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, "-m", "vae_studio", "evaluate", str(path), "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    expected = evaluated  # deterministic: the same figures in another process
    assert result.keys() == expected.keys()
    for key in ("recon", "kl", "loss"):
        assert result[key] == pytest.approx(expected[key], rel=1e-5)


def test_python_dash_m_user_error_exit_code(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "vae_studio", "evaluate", str(tmp_path / "none.vae")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
