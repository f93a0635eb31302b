"""``vae-studio train`` options for bigger machines: --nproc, --precision, --compile, --max-memory."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from vae_studio.cli import run_cli
from vae_studio.cli.parser import build_parser
from vae_studio.cli.train import _command_args
from vae_studio.core.checkpoint import load_checkpoint


def parse(*argv: str):
    return build_parser().parse_args(["train", *argv, "--out", "m.vae"])


def test_memory_sizes_and_process_counts_are_read() -> None:
    assert parse("--max-memory", "512M").max_memory == 512 * 2**20
    assert parse("--max-memory", "1.5GiB").max_memory == int(1.5 * 2**30)
    assert parse("--max-memory", "2000").max_memory == 2000
    args = parse()
    assert (args.nproc, args.precision, args.compile, args.max_memory) == (1, "32", False, None)
    for bad in (["--max-memory", "lots"], ["--max-memory", "0"], ["--nproc", "0"], ["--precision", "fp8"]):
        with pytest.raises(SystemExit):
            parse(*bad)


def test_each_worker_gets_the_same_command_less_nproc() -> None:
    args = parse("--dataset", "mnist", "--hidden", "64,32", "--compile", "--nproc", "4", "--max-memory", "1G")
    argv = _command_args(args)
    assert argv[0] == "train" and "--nproc" not in argv
    assert argv[argv.index("--hidden") + 1] == "64,32" and "--compile" in argv
    again = build_parser().parse_args(argv)
    assert vars(again) == {**vars(args), "nproc": 1}


def test_fp16_on_the_cpu_is_a_clear_error(tmp_path: Path) -> None:
    err = io.StringIO()
    code = run_cli(["train", "--subset", "100", "--device", "cpu", "--precision", "fp16", "--out",
                    str(tmp_path / "m.vae")], io.StringIO(), err)
    assert code == 2 and "fp16 training needs a CUDA GPU" in err.getvalue()
    assert not (tmp_path / "m.vae").exists()


def test_over_the_memory_budget_training_streams_from_the_cache(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("VAE_STUDIO_CACHE", str(tmp_path / "cache"))
    err = io.StringIO()
    code = run_cli(["train", "--subset", "600", "--epochs", "1", "--device", "cpu", "--precision", "bf16",
                    "--max-memory", "100K", "--out", str(tmp_path / "m.vae")], io.StringIO(), err)
    assert code == 0, err.getvalue()
    entries = list((tmp_path / "cache" / "arrays").iterdir())
    assert len(entries) == 1 and (entries[0] / "train.u8").stat().st_size == 600 * 784
    assert load_checkpoint(tmp_path / "m.vae").history.epochs == 1
