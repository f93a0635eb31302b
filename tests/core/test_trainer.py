"""The training loop: learning, determinism, reports, stop/pause, divergence, warm-up and data options."""

from __future__ import annotations

import copy
import math
import threading
import time

import pytest
import torch

from vae_studio.core import trainer as trainer_module
from vae_studio.core.batches import fixed_binarization
from vae_studio.core.config import ModelConfig, TrainConfig
from vae_studio.core.data import ImageDataset
from vae_studio.core.history import History
from vae_studio.core.metrics import evaluate_loss
from vae_studio.core.models import AE, build_model
from vae_studio.core.recipe import new_trained_model, training_data
from vae_studio.core.run_control import EpochReport, RunControl, StepReport
from vae_studio.core.trainer import Trainer


def tiny_model(dataset: ImageDataset, kind: str = "vae", seed: int = 0, **kw) -> AE:
    config = ModelConfig(
        kind=kind,
        image_shape=dataset.image_shape,
        latent_dim=2,
        hidden_sizes=(64,),
        num_classes=dataset.num_classes if kind == "cvae" else 0,
        **kw,
    )
    return build_model(config, seed=seed)


def train_config(**kw) -> TrainConfig:
    options = {"epochs": 1, "batch_size": 50, "lr": 3e-3, "seed": 0, "device": "cpu"}
    options.update(kw)
    return TrainConfig(**options)


def weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_training_lowers_the_test_loss_on_mnist_subset() -> None:
    config = train_config(dataset="mnist", train_subset=2000, epochs=2, batch_size=100)
    dataset = training_data(config)
    assert len(dataset.train_images) == 2000
    trained = new_trained_model(dataset, config, "t", kind="vae", latent_dim=2, hidden_sizes=(64,))
    test_images = dataset.test_images[:1000]
    before = evaluate_loss(trained.model, test_images, seed=0)
    small = ImageDataset("mnist", dataset.train_images, test_images, dataset.train_labels, dataset.test_labels[:1000])
    result = Trainer(trained.model, small, config, history=trained.history).run()
    assert result.status == "finished" and result.epochs == 2 and result.steps == 40
    after = evaluate_loss(trained.model, test_images, seed=0)
    assert after.loss < before.loss - 250  # from ~545 nats per image at random weights
    assert trained.history.epoch_test_loss[1] < trained.history.epoch_test_loss[0]
    assert trained.history.epoch_test_loss[-1] == pytest.approx(after.loss, rel=0.02)
    assert not trained.model.training  # left in eval mode


def run_once(dataset: ImageDataset, config: TrainConfig, kind: str = "vae") -> tuple[History, dict, object]:
    model = tiny_model(dataset, kind, seed=3)
    history = History()
    result = Trainer(model, dataset, config, history=history).run()
    return history, weights(model), result


def test_same_seed_gives_identical_history_and_weights(tiny_mnist: ImageDataset) -> None:
    config = train_config(epochs=2, batch_size=100)
    h1, w1, r1 = run_once(tiny_mnist, config)
    torch.manual_seed(12345)  # the global RNG before the run must not matter
    h2, w2, r2 = run_once(tiny_mnist, config)
    assert r1 == r2
    assert h1 == h2
    assert same_weights(w1, w2)
    h3, w3, _ = run_once(tiny_mnist, train_config(epochs=2, batch_size=100, seed=1))
    assert h3.step_loss != h1.step_loss
    assert not same_weights(w1, w3)


def test_reports_are_consistent(tiny_mnist: ImageDataset) -> None:
    config = train_config(epochs=2, batch_size=64, beta=0.5)
    model = tiny_model(tiny_mnist)
    history = History()
    trainer = Trainer(model, tiny_mnist, config, history=history)
    steps: list[StepReport] = []
    epochs: list[EpochReport] = []
    trainer.on_step(steps.append)
    trainer.on_epoch(epochs.append)
    result = trainer.run()

    per_epoch = math.ceil(600 / 64)
    assert result.status == "finished" and result.steps == 2 * per_epoch and result.epochs == 2
    assert "2 epochs" in result.message
    assert [r.step for r in steps] == list(range(1, 2 * per_epoch + 1))
    assert all(r.total_steps == 2 * per_epoch for r in steps)
    assert [r.epoch for r in steps] == [1] * per_epoch + [2] * per_epoch
    assert all(r.beta == 0.5 for r in steps)
    assert all(r.loss == pytest.approx(r.recon + r.kl) and r.kl >= 0 and r.recon > 0 for r in steps)
    assert [r.loss for r in steps] == history.step_loss
    assert [r.recon for r in steps] == history.step_recon and [r.kl for r in steps] == history.step_kl
    assert all(r.samples_per_s > 0 and r.eta_s >= 0 for r in steps)
    assert steps[-1].eta_s == 0

    assert [r.epoch for r in epochs] == [1, 2]
    assert [r.train_loss for r in epochs] == history.epoch_train_loss
    assert [r.test.loss for r in epochs] == history.epoch_test_loss
    assert [r.test.recon for r in epochs] == history.epoch_test_recon
    assert [r.test.kl for r in epochs] == history.epoch_test_kl
    for r in epochs:
        assert r.test.images == 300
        assert r.test.loss == pytest.approx(r.test.recon + r.test.kl)
        assert r.seconds > 0
    # The epoch's train loss is the image-weighted mean of its step losses (the last batch is smaller).
    sizes = [64] * (per_epoch - 1) + [600 - 64 * (per_epoch - 1)]
    first = sum(s * r.loss for s, r in zip(sizes, steps[:per_epoch])) / 600
    assert epochs[0].train_loss == pytest.approx(first, rel=1e-9)
    # The test figures are the evaluation of the model as it was at the end of the epoch.
    final = evaluate_loss(model, tiny_mnist.test_images, seed=config.seed)
    assert final.loss == pytest.approx(epochs[-1].test.loss, rel=1e-5)


def test_history_continues_across_runs(tiny_mnist: ImageDataset) -> None:
    model = tiny_model(tiny_mnist)
    history = History()
    Trainer(model, tiny_mnist, train_config(batch_size=200), history=history).run()
    reports: list[EpochReport] = []
    trainer = Trainer(model, tiny_mnist, train_config(batch_size=200), history=history)
    trainer.on_epoch(reports.append)
    trainer.run()
    assert history.epochs == 2 and history.steps == 6
    assert reports[0].epoch == 2


def test_stop_from_another_thread_stops_between_batches(tiny_mnist: ImageDataset) -> None:
    control = RunControl()
    model = tiny_model(tiny_mnist)
    history = History()
    trainer = Trainer(model, tiny_mnist, train_config(epochs=3, batch_size=20), history=history, control=control)
    seen: list[int] = []

    def on_step(report: StepReport) -> None:
        seen.append(report.step)
        if report.step == 3:
            timer = threading.Timer(0.01, control.stop)
            timer.start()
            timer.join()  # the stop lands while batch 3 is still being reported
            assert control.stopped

    trainer.on_step(on_step)
    result = trainer.run()
    assert result.status == "stopped"
    assert result.steps == 3 and result.epochs == 0
    assert seen == [1, 2, 3]
    assert history.steps == 3 and history.epochs == 0
    assert "stop" in result.message.lower()
    assert not model.training


def run_in_thread(trainer: Trainer) -> tuple[threading.Thread, dict]:
    box: dict = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", trainer.run()), daemon=True)
    thread.start()
    return thread, box


def test_pause_blocks_until_resume(tiny_mnist: ImageDataset) -> None:
    control = RunControl()
    history = History()
    trainer = Trainer(tiny_model(tiny_mnist), tiny_mnist, train_config(batch_size=100), history=history, control=control)
    reached = threading.Event()

    def on_step(report: StepReport) -> None:
        if report.step == 2:
            control.pause()
            reached.set()

    trainer.on_step(on_step)
    thread, box = run_in_thread(trainer)
    assert reached.wait(30)
    assert control.paused
    time.sleep(0.3)
    assert thread.is_alive(), "a paused run must wait"
    assert history.steps == 2
    control.resume()
    thread.join(30)
    assert not thread.is_alive()
    assert box["result"].status == "finished" and box["result"].steps == 6
    assert history.steps == 6


def test_stop_while_paused_ends_the_run(tiny_mnist: ImageDataset) -> None:
    control = RunControl()
    trainer = Trainer(tiny_model(tiny_mnist), tiny_mnist, train_config(batch_size=100), control=control)
    reached = threading.Event()
    trainer.on_step(lambda r: (control.pause(), reached.set()) if r.step == 1 else None)
    thread, box = run_in_thread(trainer)
    assert reached.wait(30)
    time.sleep(0.1)
    assert thread.is_alive()
    threading.Timer(0.01, control.stop).start()
    thread.join(30)
    assert not thread.is_alive()
    assert box["result"].status == "stopped" and box["result"].steps == 1


def all_finite(model: torch.nn.Module) -> bool:
    return all(torch.isfinite(v).all() for v in model.state_dict().values())


def test_huge_learning_rate_diverges_cleanly(tiny_mnist: ImageDataset) -> None:
    model = tiny_model(tiny_mnist)
    start = weights(model)
    result = Trainer(model, tiny_mnist, train_config(epochs=3, batch_size=20, lr=1e6)).run()
    assert result.status == "diverged"
    assert "learning rate" in result.message and "step" in result.message
    assert all_finite(model)
    # Divergence comes within the first snapshot interval, so the weights are the initial ones.
    assert result.steps < trainer_module.SNAPSHOT_EVERY_STEPS
    assert same_weights(weights(model), start)


class NanAtCall:
    """Wraps reconstruction_nll in the trainer so that its ``k``-th call returns NaN."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.calls = 0
        self.real = trainer_module.reconstruction_nll

    def __call__(self, logits, target, config):
        self.calls += 1
        out = self.real(logits, target, config)
        return out * float("nan") if self.calls == self.k else out


def test_diverging_run_restores_the_end_of_epoch_snapshot(tiny_mnist: ImageDataset, monkeypatch) -> None:
    # 600 images / 100 per batch = 6 steps an epoch; NaN at step 9, in epoch 2.
    monkeypatch.setattr(trainer_module, "reconstruction_nll", NanAtCall(9))
    model = tiny_model(tiny_mnist)
    history = History()
    trainer = Trainer(model, tiny_mnist, train_config(epochs=3, batch_size=100), history=history)
    snapshots: list[dict] = []
    trainer.on_epoch(lambda r: snapshots.append(weights(model)))
    result = trainer.run()
    assert result.status == "diverged"
    assert result.steps == 8 and result.epochs == 1
    assert "nan" in result.message and "step 9" in result.message and "step 6" in result.message
    assert all_finite(model)
    assert len(snapshots) == 1 and same_weights(weights(model), snapshots[0])
    assert history.steps == 8 and history.epochs == 1
    assert all(math.isfinite(v) for v in history.step_loss)
    assert not model.training


def test_diverging_run_restores_the_periodic_snapshot(tiny_mnist: ImageDataset, monkeypatch) -> None:
    monkeypatch.setattr(trainer_module, "SNAPSHOT_EVERY_STEPS", 5)
    monkeypatch.setattr(trainer_module, "reconstruction_nll", NanAtCall(13))
    model = tiny_model(tiny_mnist)
    trainer = Trainer(model, tiny_mnist, train_config(epochs=1, batch_size=20))
    at_step: dict[int, dict] = {}
    trainer.on_step(lambda r: at_step.__setitem__(r.step, weights(model)))
    result = trainer.run()
    assert result.status == "diverged" and result.steps == 12
    assert "step 10" in result.message
    assert same_weights(weights(model), at_step[10])
    assert not same_weights(weights(model), at_step[12])


def test_kl_warmup_ramps_beta_from_zero(tiny_mnist: ImageDataset) -> None:
    config = train_config(epochs=2, batch_size=100, beta=2.0, warmup_epochs=4.0)
    trainer = Trainer(tiny_model(tiny_mnist), tiny_mnist, config)
    betas: list[float] = []
    trainer.on_step(lambda r: betas.append(r.beta))
    trainer.run()
    assert betas[0] == 0.0
    assert all(b2 > b1 for b1, b2 in zip(betas, betas[1:]))
    # beta = 2 * (epochs done) / 4, with the epoch fraction measured at the batch's start.
    expected = [2.0 * (e + i / 6) / 4.0 for e in range(2) for i in range(6)]
    assert betas == pytest.approx(expected)
    assert max(betas) < 1.0


def test_kl_warmup_reaches_beta_and_stays(tiny_mnist: ImageDataset) -> None:
    config = train_config(epochs=3, batch_size=200, beta=1.0, warmup_epochs=1.0)
    trainer = Trainer(tiny_model(tiny_mnist), tiny_mnist, config)
    betas: list[float] = []
    trainer.on_step(lambda r: betas.append(r.beta))
    trainer.run()
    assert betas[:3] == pytest.approx([0.0, 1 / 3, 2 / 3])
    assert betas[3:] == [1.0] * 6


class Spy:
    """Records what the trainer passes to a function it imported, and calls the real one."""

    def __init__(self, real) -> None:
        self.real = real
        self.calls: list[tuple] = []
        self.results: list = []

    def __call__(self, *args):
        self.calls.append(args)
        out = self.real(*args)
        self.results.append(out)
        return out


def test_denoising_corrupts_the_input_but_not_the_target(tiny_mnist: ImageDataset, monkeypatch) -> None:
    corrupt_spy = Spy(trainer_module.corrupt)
    recon_spy = Spy(trainer_module.reconstruction_nll)
    monkeypatch.setattr(trainer_module, "corrupt", corrupt_spy)
    monkeypatch.setattr(trainer_module, "reconstruction_nll", recon_spy)
    config = train_config(batch_size=100, corruption="salt-pepper", noise_level=0.3)
    result = Trainer(tiny_model(tiny_mnist), tiny_mnist, config).run()
    assert result.status == "finished"
    assert len(corrupt_spy.calls) == 6
    for (clean, kind, level, _generator), noisy, (_, target, _) in zip(
        corrupt_spy.calls, corrupt_spy.results, recon_spy.calls
    ):
        assert kind == "salt-pepper" and level == 0.3
        assert torch.equal(target, clean)  # the loss compares with the clean image
        changed = (noisy != clean).float().mean().item()
        assert 0.1 < changed < 0.3  # ~30 % set to 0 or 1, minus those already at that value


@pytest.mark.parametrize("corruption", ["gaussian", "block", "rotation"])
def test_other_denoising_configs_run(tiny_mnist: ImageDataset, corruption: str) -> None:
    config = train_config(batch_size=200, corruption=corruption, noise_level=0.2)
    history = History()
    result = Trainer(tiny_model(tiny_mnist), tiny_mnist, config, history=history).run()
    assert result.status == "finished" and all(math.isfinite(v) for v in history.step_loss)


def row_sums(targets: list[torch.Tensor]) -> list[float]:
    return sorted(torch.cat(targets).flatten(1).sum(1).tolist())


def test_dynamic_binarisation_draws_new_binary_targets_each_epoch(tiny_mnist: ImageDataset, monkeypatch) -> None:
    recon_spy = Spy(trainer_module.reconstruction_nll)
    monkeypatch.setattr(trainer_module, "reconstruction_nll", recon_spy)
    config = train_config(epochs=2, batch_size=200, binarize="dynamic")
    history = History()
    result = Trainer(tiny_model(tiny_mnist), tiny_mnist, config, history=history).run()
    assert result.status == "finished" and all(math.isfinite(v) for v in history.epoch_test_loss)
    targets = [call[1] for call in recon_spy.calls]
    assert all(torch.all((t == 0) | (t == 1)) for t in targets)
    assert row_sums(targets[:3]) != row_sums(targets[3:])


def test_static_binarisation_uses_one_fixed_binarisation(tiny_mnist: ImageDataset, monkeypatch) -> None:
    recon_spy = Spy(trainer_module.reconstruction_nll)
    monkeypatch.setattr(trainer_module, "reconstruction_nll", recon_spy)
    config = train_config(epochs=2, batch_size=200, binarize="static")
    result = Trainer(tiny_model(tiny_mnist), tiny_mnist, config).run()
    assert result.status == "finished"
    targets = [call[1] for call in recon_spy.calls]
    assert all(torch.all((t == 0) | (t == 1)) for t in targets)
    expected = row_sums([fixed_binarization(tiny_mnist.train_images, config.seed)])
    assert row_sums(targets[:3]) == expected
    assert row_sums(targets[3:]) == expected


def test_autoencoder_kl_is_zero(tiny_mnist: ImageDataset) -> None:
    history = History()
    epochs: list[EpochReport] = []
    trainer = Trainer(tiny_model(tiny_mnist, "ae"), tiny_mnist, train_config(batch_size=100), history=history)
    trainer.on_epoch(epochs.append)
    result = trainer.run()
    assert result.status == "finished"
    assert history.step_kl == [0.0] * 6
    assert history.epoch_test_kl == [0.0]
    assert epochs[0].test.kl == 0.0 and epochs[0].test.loss == epochs[0].test.recon
    assert history.step_loss == history.step_recon


def test_conditional_vae_trains_with_labels(tiny_mnist: ImageDataset) -> None:
    model = tiny_model(tiny_mnist, "cvae")
    before = copy.deepcopy(weights(model))
    history = History()
    result = Trainer(model, tiny_mnist, train_config(batch_size=100), history=history).run()
    assert result.status == "finished" and history.epochs == 1
    assert not same_weights(before, weights(model))
    assert math.isfinite(history.epoch_test_loss[0])


def test_empty_training_set_is_an_error(tiny_mnist: ImageDataset) -> None:
    empty = ImageDataset("empty", tiny_mnist.train_images[:0], tiny_mnist.test_images)
    with pytest.raises(ValueError, match="no training images"):
        Trainer(tiny_model(tiny_mnist), empty, train_config()).run()
