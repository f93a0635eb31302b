"""The command line under bad input and accidents: bounded arguments at parse time, one ``error:`` line
with the right exit status for every failure, Ctrl-C, and training that never loses or overwrites work."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from checkpoint_files import small_checkpoint
from PIL import Image

from vae_studio.__main__ import main
from vae_studio.cli import build_parser, run_cli
from vae_studio.cli import train as train_command
from vae_studio.core.checkpoint import load_checkpoint
from vae_studio.core.run_control import TrainResult

REPO = Path(__file__).resolve().parents[2]
TINY_RUN = (
    "train", "--dataset", "mnist", "--subset", "300", "--hidden", "16", "--batch-size", "100", "--device", "cpu",
)  # fmt: skip


def cli(*argv: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_cli([str(a) for a in argv], out, err)
    return code, out.getvalue(), err.getvalue()


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith(("note:", "Training", "epoch"))]
    assert "Traceback" not in err and len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


# --- parse time ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv,fragment",
    [
        ("sample m.vae --out s.png --n 0", "between 1 and 4,096"),
        ("sample m.vae --out s.png --n -3", "between 1 and 4,096"),
        ("sample m.vae --out s.gifx", "must end in one of"),
        ("sample m.vae --out {tmp}", "is a folder"),
        ("encode m.vae --out {tmp}", "is a folder"),
        ("sample m.vae --out s.png --temperature nan", "[0, 10]"),
        ("train --out m.vae --subset 0", "between 1 and 100,000,000"),
        ("train --out m.vae --subset -5", "between 1 and 100,000,000"),
        ("train --out m.vae --hidden 0", "each between 1 and 4096"),
        ("train --out m.vae --hidden 1000000", "each between 1 and 4096"),
        ("train --out m.vae --beta nan", "[0, 10000]"),
        ("train --out m.vae --beta inf", "[0, 10000]"),
        ("train --out m.vae --image-size 20000", "between 8 and 256"),
        ("train --out m.vae --lr 0", "(0, 1e+06]"),
        ("train --out m.vae --lr inf", "(0, 1e+06]"),
        ("train --out m.vae --epochs 0", "between 1 and 10,000"),
        ("train --out m.vae --seed -1", "between 0 and"),
        ("train --out m.vae --save-every 0", "between 1 and 10,000"),
        ("evaluate m.vae --iw-samples 0", "between 1 and 100,000"),
        ("compare a.vae --grid 1", "between 2 and 100"),
    ],
)
def test_bad_arguments_are_refused_when_parsing(argv: str, fragment: str, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(argv.format(tmp=tmp_path).split())
    assert exit_info.value.code == 2
    assert fragment in capsys.readouterr().err


def test_help_shows_defaults(capsys) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    text = capsys.readouterr().out
    assert "(default: 128)" in text and "(default: 400)" in text and "(default: 20000)" in text


def test_version_answers_without_importing_torch() -> None:
    code = (
        "import sys\nfrom vae_studio.__main__ import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.stdout.split() == ["vae-studio", _version(), "False"], proc.stderr


def _version() -> str:
    from vae_studio import __version__

    return __version__


def test_a_missing_file_is_named(tmp_path: Path, capsys) -> None:
    assert main([str(tmp_path / "missing.vae")]) == 2
    assert f"{tmp_path / 'missing.vae'} does not exist" in one_error_line(capsys.readouterr().err)


# --- run time: one line, the right status ---------------------------------------------------------------


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_checkpoint(tmp_path_factory.mktemp("model"))


@pytest.mark.parametrize("command", ["sample", "encode"])
def test_os_errors_are_one_line_and_status_1(model: Path, command: str) -> None:
    suffix = ".png" if command == "sample" else ".csv"
    code, _, err = cli(command, model, "--out", f"/proc/nope/x{suffix}")
    assert code == 1
    assert "/proc/nope" in one_error_line(err)


def test_debug_shows_the_traceback(model: Path) -> None:
    code, _, err = cli("sample", model, "--out", "/proc/nope/x.png", "--debug")
    assert code == 1 and "Traceback" in err and err.rstrip().splitlines()[-1].startswith("error: ")


def test_a_bug_is_one_line_and_status_1(model: Path, monkeypatch) -> None:
    from vae_studio.cli import sample

    monkeypatch.setattr(sample, "load_model", lambda *_: {}["boom"])
    code, _, err = cli("sample", model, "--out", "x.png")
    assert code == 1 and "unexpected KeyError" in one_error_line(err) and "--debug" in err


def test_ctrl_c_while_starting_exits_130_without_traceback(monkeypatch, capsys) -> None:
    import vae_studio.cli

    def interrupted(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(vae_studio.cli, "run_cli", interrupted)
    assert main(["train", "--out", "x.vae"]) == 130
    assert "Traceback" not in capsys.readouterr().err


# --- training never loses work ----------------------------------------------------------------------------


def test_out_is_checked_before_training() -> None:
    code, _, err = cli(*TINY_RUN, "--out", "/proc/nope/m.vae")
    assert code == 2 and "Cannot save to /proc/nope/m.vae" in one_error_line(err)
    assert "Training" not in err


def test_save_every_saves_during_the_run(tmp_path: Path) -> None:
    out = tmp_path / "m.vae"
    code, _, err = cli(*TINY_RUN, "--epochs", "2", "--save-every", "1", "--out", out)
    assert code == 0, err
    assert f"saved {out} after epoch 1" in err and f"saved {out} after epoch 2" in err
    assert load_checkpoint(out).history.epochs == 2


def test_ctrl_c_during_training_saves_and_exits_130(tmp_path: Path, monkeypatch) -> None:
    # The printer's step callback sends the real signal at the third step, as a terminal would.
    def step(self, report) -> None:
        if report.step == 3:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(train_command.ProgressPrinter, "step", step)
    out = tmp_path / "m.vae"
    code, stdout, err = cli(*TINY_RUN, "--epochs", "5", "--out", out)
    assert code == 130, err
    assert load_checkpoint(out).history.steps == 3 and stdout.strip() == f"saved {out}"


def fake_run(status: str, train: bool):
    """A Trainer.run that changes the weights (or not) and ends with ``status``."""

    def run(self) -> TrainResult:
        if train:
            with torch.no_grad():
                next(self.model.parameters()).add_(0.01)
        return TrainResult(status, f"fake {status}", 1 if train else 0, 0)

    return run


def test_an_untrained_model_never_replaces_a_file(tmp_path: Path, monkeypatch) -> None:
    out = small_checkpoint(tmp_path, "m")
    before = out.read_bytes()
    monkeypatch.setattr(train_command.Trainer, "run", fake_run("diverged", train=False))
    code, _, err = cli(*TINY_RUN, "--out", out)
    assert code == 1 and "Traceback" not in err
    assert err.splitlines()[-1].startswith("error: no training step was kept, so there is nothing to save")
    assert out.read_bytes() == before


def test_a_diverged_run_is_saved_beside_an_existing_file(tmp_path: Path, monkeypatch) -> None:
    out = small_checkpoint(tmp_path, "m")
    before = out.read_bytes()
    monkeypatch.setattr(train_command.Trainer, "run", fake_run("diverged", train=True))
    code, _, err = cli(*TINY_RUN, "--out", out)
    assert code == 1 and "m.diverged.vae" in err
    assert out.read_bytes() == before and (tmp_path / "m.diverged.vae").is_file()


def test_a_diverged_run_with_no_file_to_protect_saves_to_out(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "m.vae"
    monkeypatch.setattr(train_command.Trainer, "run", fake_run("diverged", train=True))
    code, _, _ = cli(*TINY_RUN, "--out", out)
    assert code == 1 and out.is_file()


def test_folder_file_limit_and_progress(tmp_path: Path) -> None:
    for i in range(12):
        Image.fromarray(np.full((8, 8), i * 20, np.uint8)).save(tmp_path / f"{i}.png")
    code, _, err = cli("train", "--dataset", f"folder:{tmp_path}", "--max-files", "10", "--out", tmp_path / "m.vae")
    assert code == 2 and "more than 10 files" in one_error_line(err) and "--max-files" in err


def test_run_cli_returns_2_for_a_bad_argument_and_writes_to_its_streams() -> None:
    code, out, err = cli("sample", "m.vae", "--out", "s.png", "--n", "0")
    assert code == 2 and out == "" and "argument --n: must be between 1 and 4,096" in err
