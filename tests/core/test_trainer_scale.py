"""The trainer's options for bigger machines: deferred loss reads, precision, compile and streamed data."""

from __future__ import annotations

import math
import threading

import pytest
import torch

from vae_studio.core import trainer as trainer_module
from vae_studio.core.data import ImageDataset
from vae_studio.core.errors import ConfigError
from vae_studio.core.history import History
from vae_studio.core.run_control import RunControl, StepReport
from vae_studio.core.trainer import Trainer

from test_trainer import NanAtCall, same_weights, tiny_model, train_config, weights


def run(dataset: ImageDataset, config=None, **options) -> tuple[History, dict, object, list[StepReport]]:
    model = tiny_model(dataset, seed=3)
    history = History()
    trainer = Trainer(model, dataset, config or train_config(epochs=2, batch_size=64), history=history, **options)
    reports: list[StepReport] = []
    trainer.on_step(reports.append)
    result = trainer.run()
    return history, weights(model), result, reports


def test_reading_figures_every_few_steps_changes_nothing(tiny_mnist: ImageDataset) -> None:
    h1, w1, r1, s1 = run(tiny_mnist)
    h7, w7, r7, s7 = run(tiny_mnist, sync_every=7)
    assert r1 == r7 and h1 == h7 and same_weights(w1, w7)
    assert [r.step for r in s7] == [r.step for r in s1] == list(range(1, 21))
    assert [r.loss for r in s7] == h7.step_loss


def test_deferred_divergence_check_keeps_only_the_good_steps(tiny_mnist: ImageDataset, monkeypatch) -> None:
    # 6 steps an epoch; figures read every 4 steps; NaN at step 9, read back at step 10 or 12.
    monkeypatch.setattr(trainer_module, "reconstruction_nll", NanAtCall(9))
    model = tiny_model(tiny_mnist)
    history = History()
    trainer = Trainer(model, tiny_mnist, train_config(epochs=3, batch_size=100), history=history, sync_every=4)
    snapshots: list[dict] = []
    trainer.on_epoch(lambda r: snapshots.append(weights(model)))
    result = trainer.run()
    assert result.status == "diverged" and result.steps == 8 and result.epochs == 1
    assert "step 9" in result.message and "step 6" in result.message
    assert history.steps == 8 and all(math.isfinite(v) for v in history.step_loss)
    assert same_weights(weights(model), snapshots[0])  # the optimiser stepped on the NaN; rolled back


def test_periodic_snapshot_only_from_checked_figures(tiny_mnist: ImageDataset, monkeypatch) -> None:
    monkeypatch.setattr(trainer_module, "SNAPSHOT_EVERY_STEPS", 5)
    monkeypatch.setattr(trainer_module, "reconstruction_nll", NanAtCall(13))
    model = tiny_model(tiny_mnist)
    trainer = Trainer(model, tiny_mnist, train_config(epochs=1, batch_size=20), sync_every=4)
    at_step: dict[int, dict] = {}
    trainer.on_step(lambda r: at_step.__setitem__(r.step, weights(model)))
    result = trainer.run()
    # Reads at steps 4, 8, 12, 16: snapshots at 8 (>= 5 steps after 0) and not at 12 (4 after 8).
    assert result.status == "diverged" and result.steps == 12
    assert "weights from step 8" in result.message


def test_bf16_autocast_trains_on_the_cpu(tiny_mnist: ImageDataset) -> None:
    h32, _, _, _ = run(tiny_mnist)
    h16, w16, result, _ = run(tiny_mnist, precision="bf16")
    assert result.status == "finished"
    assert all(torch.isfinite(v).all() for v in w16.values())
    assert all(v.dtype == torch.float32 for v in w16.values())  # autocast leaves the weights in float32
    assert h16.step_loss != h32.step_loss  # the forward pass really ran in bfloat16 ...
    assert h16.epoch_test_loss[-1] == pytest.approx(h32.epoch_test_loss[-1], rel=0.05)  # ... to the same end


def test_fp16_needs_cuda_and_unknown_precision_is_refused(tiny_mnist: ImageDataset) -> None:
    with pytest.raises(ConfigError, match="CUDA"):
        Trainer(tiny_model(tiny_mnist), tiny_mnist, train_config(), precision="fp16", device=torch.device("cpu"))
    with pytest.raises(ConfigError, match="precision"):
        Trainer(tiny_model(tiny_mnist), tiny_mnist, train_config(), precision="64")


def test_streaming_over_the_memory_budget_takes_the_same_steps(tiny_mnist: ImageDataset) -> None:
    budget = tiny_mnist.train_images.numel() // 2
    config = train_config(epochs=2, batch_size=64, binarize="dynamic")
    h_mem, w_mem, _, _ = run(tiny_mnist, config)
    h_str, w_str, result, _ = run(tiny_mnist, config, max_memory=budget)
    assert result.status == "finished"
    assert h_mem == h_str and same_weights(w_mem, w_str)


def test_static_binarisation_cannot_stream(tiny_mnist: ImageDataset) -> None:
    trainer = Trainer(tiny_model(tiny_mnist), tiny_mnist, train_config(binarize="static"), max_memory=1000)
    with pytest.raises(ConfigError, match="static"):
        trainer.run()


def test_compiled_model_trains(tiny_mnist: ImageDataset, monkeypatch) -> None:
    # The eager backend checks the wiring (the loop calls the compiled module, snapshots use the plain
    # one) without a C++ toolchain; inductor itself is torch's to test.
    compiled: list[object] = []
    real_compile = torch.compile

    def eager_compile(module, **kw):
        compiled.append(module)
        return real_compile(module, backend="eager")

    monkeypatch.setattr(torch, "compile", eager_compile)
    history, _, result, _ = run(tiny_mnist, train_config(batch_size=100), compile=True)
    assert result.status == "finished" and len(compiled) == 1 and history.steps == 6


def test_a_pause_reads_back_pending_figures_before_waiting(tiny_mnist: ImageDataset) -> None:
    control = RunControl()
    history = History()
    trainer = Trainer(tiny_model(tiny_mnist), tiny_mnist, train_config(batch_size=50), history=history,
                      control=control, sync_every=5)
    steps_at_pause: list[int] = []
    original = trainer._step

    def step_then_maybe_pause(run, idx, beta) -> None:
        original(run, idx, beta)
        if len(history.step_loss) == 5 and len(run.pending) == 2:  # 7 steps taken, 2 not read back
            control.pause()
            threading.Timer(0.3, lambda: (steps_at_pause.append(history.steps), control.resume())).start()

    trainer._step = step_then_maybe_pause
    result = trainer.run()
    assert result.status == "finished"
    assert steps_at_pause == [7]  # while paused, the history already held all 7 steps
