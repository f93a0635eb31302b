"""The training loop. It knows nothing of Qt: it reports through callbacks (the CLI prints them,
the GUI turns them into signals) and checks a thread-safe stop/pause flag between batches.

The loss figures of each step stay on the device and are read back together every ``sync_every``
steps (and at each epoch's end), so a GPU is never made to wait for the host between batches; the
divergence check looks at them then, and rolls back to the last snapshot taken from checked figures.
Under torchrun the same loop runs on every rank (see :mod:`vae_studio.core.distributed`).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from .batches import binarize, fixed_binarization, to_float
from .config import TrainConfig
from .corruption import corrupt
from .data.dataset import ImageDataset
from .distributed import SINGLE_PROCESS, DistContext, all_reduce_mean, per_rank_batch, shard, wrap
from .errors import ConfigError
from .history import History
from .losses import kl_divergence, reconstruction_nll
from .metrics import evaluate_loss
from .models import AE, ForwardResult
from .run_control import EpochCallback, EpochReport, RunControl, Status, StepCallback, StepReport, TrainResult
from .vocabulary import PRECISIONS

# Weights are copied this often so a diverging run can fall back to recent good ones
# without paying for a copy on every step.
SNAPSHOT_EVERY_STEPS = 100
# Steps between reads of the loss figures on an accelerator: each read waits for the queued work,
# so reading every step would stall the GPU at every batch; 50 keeps reports a fraction of a second apart.
SYNC_EVERY_ACCELERATOR = 50


@dataclass
class _TrainingData:
    """The training split as the loop reads it: on the device when it fits, else streamed by batch."""

    images: torch.Tensor  # uint8; on the training device, or on the host (possibly memory-mapped)
    static: torch.Tensor | None  # the one fixed binarisation of ``binarize="static"``
    labels: torch.Tensor | None
    device: torch.device
    streamed: bool

    def rows(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """uint8 (or static binary) images and labels of ``idx``, on the training device."""
        source = self.static if self.static is not None else self.images
        # index_select copies whole rows; advanced indexing (images[idx]) gathers element by
        # element, which was ~150 us of a ~4 ms MNIST step (index_select: ~30 us, same values).
        rows = source.index_select(0, idx)
        labels = None if self.labels is None else self.labels.index_select(0, idx)
        if self.streamed:
            if self.device.type == "cuda":
                # Page-locked rows let the copy to the GPU overlap with the work already queued.
                rows = rows.pin_memory()
            rows = rows.to(self.device, non_blocking=True)
            labels = None if labels is None else labels.to(self.device, non_blocking=True)
        return rows, labels


@dataclass
class _Run:
    """Everything one call of :meth:`Trainer.run` works with, and where it stands."""

    forward: Callable[..., ForwardResult]  # the model, under DDP and/or torch.compile when asked
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    amp_dtype: torch.dtype | None
    data: _TrainingData
    order_generator: torch.Generator
    # The reparameterisation noise: the same stream on every rank (see _step).
    eps_generator: torch.Generator
    noise_generator: torch.Generator
    local_batch: int
    total_steps: int
    sync_every: int
    first_epoch: int
    start_time: float
    good_state: dict[str, torch.Tensor]
    good_step: int = 0
    steps_read: int = 0  # steps whose figures are in the history
    epochs_done: int = 0
    epoch_loss_sum: float = 0.0
    epoch_start: float = 0.0
    # (recon, kl) of each step not read back yet, still on the device, with its global batch size and beta.
    pending: list[tuple[torch.Tensor, int, float]] = field(default_factory=list)


class Trainer:
    """Trains any model with ``encode``/``decode_logits`` on an ImageDataset with Adam.

    Options beyond the TrainConfig (they change how fast a run goes, not what it computes):
    ``precision`` "32", "bf16" or "fp16" (autocast; fp16 needs CUDA and uses a gradient scaler);
    ``compile`` wraps the model in torch.compile; ``sync_every`` is how many steps pass between
    reads of the loss figures from the device (default: every step on the CPU, where a read costs
    nothing, SYNC_EVERY_ACCELERATOR steps on a GPU, where each read stalls the queue);
    ``max_memory`` (bytes) is the most the training images may take on the device before batches
    are streamed from the host copy instead; ``dist`` places this process in a torchrun group.
    """

    def __init__(
        self,
        model: AE,
        dataset: ImageDataset,
        config: TrainConfig,
        *,
        history: History | None = None,
        control: RunControl | None = None,
        device: torch.device | None = None,
        precision: str = "32",
        compile: bool = False,
        sync_every: int | None = None,
        max_memory: int | None = None,
        dist: DistContext = SINGLE_PROCESS,
    ) -> None:
        self.model = model
        self.dataset = dataset
        self.config = config
        self.history = history if history is not None else History()
        self.control = control or RunControl()
        self.device = device or model.device
        if precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
        if precision == "fp16" and self.device.type != "cuda":
            raise ConfigError("fp16 training needs a CUDA GPU; on this device use --precision bf16 or 32")
        self.precision = precision
        self.compile = compile
        default_sync = 1 if self.device.type == "cpu" else SYNC_EVERY_ACCELERATOR
        self.sync_every = max(1, sync_every or default_sync)
        self.max_memory = max_memory
        self.dist = dist
        self._step_callbacks: list[StepCallback] = []
        self._epoch_callbacks: list[EpochCallback] = []

    def on_step(self, callback: StepCallback) -> None:
        self._step_callbacks.append(callback)

    def on_epoch(self, callback: EpochCallback) -> None:
        self._epoch_callbacks.append(callback)

    def _beta(self, epochs_into_run: float) -> float:
        if self.config.warmup_epochs <= 0:
            return self.config.beta
        return self.config.beta * min(1.0, epochs_into_run / self.config.warmup_epochs)

    def run(self) -> TrainResult:
        run = self._start()
        for epoch_index in range(self.config.epochs):
            outcome = self._train_epoch(run, epoch_index)
            if outcome is not None:
                return outcome
            self._end_epoch(run, run.first_epoch + epoch_index)
        done = run.epochs_done
        return self._finish("finished", f"Trained {done} epoch{'s' if done != 1 else ''}.", run)

    def _start(self) -> _Run:
        cfg = self.config
        model = self.model.to(self.device)
        model.train()
        data = self._training_data()
        local_batch = per_rank_batch(cfg.batch_size, self.dist)
        shard_size = len(shard(torch.arange(len(data.images)), self.dist))
        forward: Callable[..., ForwardResult] = wrap(model, self.dist, self.device)
        if self.compile:
            forward = torch.compile(forward)
        return _Run(
            forward=forward,
            optimizer=torch.optim.Adam(model.parameters(), lr=cfg.lr, **_fast_adam_options(self.device)),
            scaler=torch.amp.GradScaler(self.device.type, enabled=self.precision == "fp16"),
            amp_dtype={"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision),
            data=data,
            order_generator=torch.Generator().manual_seed(cfg.seed),
            eps_generator=torch.Generator(device=self.device).manual_seed(cfg.seed),
            noise_generator=torch.Generator(device=self.device).manual_seed(cfg.seed + 1 + self.dist.rank),
            local_batch=local_batch,
            total_steps=math.ceil(shard_size / local_batch) * cfg.epochs,
            sync_every=self.sync_every,
            first_epoch=self.history.epochs + 1,
            start_time=time.perf_counter(),
            good_state=copy.deepcopy(model.state_dict()),
        )

    def _training_data(self) -> _TrainingData:
        cfg = self.config
        images = self.dataset.train_images
        if len(images) == 0:
            raise ValueError(f"the data set {self.dataset.name!r} has no training images")
        labels = self.dataset.train_labels if self.model.config.conditional else None
        streamed = not fits_on_device(images, self.device, self.max_memory)
        if streamed and cfg.binarize == "static":
            raise ConfigError(
                "static binarisation keeps a float copy of the whole training set, which does not fit in "
                "the memory budget; use --binarize dynamic or raise --max-memory"
            )
        if not streamed:
            images = images.to(self.device)
            labels = None if labels is None else labels.to(self.device)
        static = fixed_binarization(images, cfg.seed) if cfg.binarize == "static" else None
        return _TrainingData(images, static, labels, self.device, streamed)

    def _train_epoch(self, run: _Run, epoch_index: int) -> TrainResult | None:
        """One pass over this rank's shard; a TrainResult when the run ends early."""
        cfg, n = self.config, len(run.data.images)
        epoch = run.first_epoch + epoch_index
        run.epoch_loss_sum, run.epoch_start = 0.0, time.perf_counter()
        order = shard(torch.randperm(n, generator=run.order_generator), self.dist)
        if not run.data.streamed:
            order = order.to(self.device)
        batches = range(0, len(order), run.local_batch)
        for i, batch_start in enumerate(batches):
            # A single process pauses and stops between any two batches, showing every step taken
            # first; ranks stop together at a read-back.
            if self.control.paused and not self.dist.active and (outcome := self._read_back(run, epoch)):
                return outcome
            self.control.wait_while_paused()
            if self.control.stopped and not self.dist.active:
                return self._read_back(run, epoch)
            idx = order[batch_start : batch_start + run.local_batch]
            self._step(run, idx, self._beta(epoch_index + i * cfg.batch_size / n))
            if len(run.pending) >= run.sync_every or i == len(batches) - 1:
                outcome = self._read_back(run, epoch)
                if outcome is not None:
                    return outcome
        return None

    def _step(self, run: _Run, idx: torch.Tensor, beta: float) -> None:
        """One optimiser step on the batch ``idx``; its loss figures stay on the device."""
        cfg = self.config
        rows, y = run.data.rows(idx)
        if run.data.static is not None:
            target = rows
        else:
            # Converting only the batch to float keeps the data set in uint8.
            target = to_float(rows)
            if cfg.binarize == "dynamic":
                target = binarize(target, run.noise_generator)
        x_in = corrupt(target, cfg.corruption, cfg.noise_level, run.noise_generator)
        eps = None
        if self.model.variational:
            # Every rank draws the noise of the whole global batch and keeps the rows of its images
            # (its shard is every world_size-th image), so N processes use exactly the noise of one.
            world = self.dist.world_size
            eps = torch.randn((len(idx) * world, self.model.config.latent_dim), generator=run.eps_generator,
                              device=self.device)[self.dist.rank :: world]
        with torch.autocast(self.device.type, dtype=run.amp_dtype or torch.float32, enabled=run.amp_dtype is not None):
            out = run.forward(x_in, y, eps=eps)
        # The loss terms in float32 whatever the precision of the forward pass (sums over many pixels).
        logvar = None if out.logvar is None else out.logvar.float()
        recon = reconstruction_nll(out.logits.float(), target, self.model.config).mean()
        kl = kl_divergence(out.mu.float(), logvar).mean()
        loss = recon + beta * kl
        run.optimizer.zero_grad(set_to_none=True)
        run.scaler.scale(loss).backward()
        run.scaler.step(run.optimizer)
        run.scaler.update()
        run.pending.append((torch.stack([recon.detach(), kl.detach()]), len(idx) * self.dist.world_size, beta))

    def _read_back(self, run: _Run, epoch: int) -> TrainResult | None:
        """Bring the pending figures to the host in one read (all-reduced over the ranks), record and
        report them; a TrainResult when the loss went non-finite or a stop was asked for."""
        figures = [f for f, _, _ in run.pending]
        packet = torch.cat([*figures, torch.tensor([float(self.control.stopped)], device=self.device)])
        values = all_reduce_mean(packet, self.dist).tolist()
        stop = values.pop() > 0  # any rank asked to stop
        pending, run.pending = run.pending, []
        for k, (_, size, beta) in enumerate(pending):
            recon_value, kl_value = values[2 * k], values[2 * k + 1]
            loss_value = recon_value + kl_value
            if not math.isfinite(loss_value):
                return self._diverged(run, loss_value, epoch)
            run.steps_read += 1
            self.history.step_loss.append(loss_value)
            self.history.step_recon.append(recon_value)
            self.history.step_kl.append(kl_value)
            run.epoch_loss_sum += loss_value * size
            self._report_step(run, epoch, loss_value, recon_value, kl_value, beta)
        # Snapshots only from figures just checked, so a rollback never lands after a bad step.
        if run.steps_read - run.good_step >= SNAPSHOT_EVERY_STEPS:
            run.good_state, run.good_step = copy.deepcopy(self.model.state_dict()), run.steps_read
        if stop:
            return self._finish("stopped", "Stopped by the user.", run)
        return None

    def _report_step(self, run: _Run, epoch: int, loss: float, recon: float, kl: float, beta: float) -> None:
        if not self._step_callbacks:
            return
        elapsed = time.perf_counter() - run.start_time
        step = run.steps_read
        report = StepReport(
            step=step,
            total_steps=run.total_steps,
            epoch=epoch,
            loss=loss,
            recon=recon,
            kl=kl,
            beta=beta,
            samples_per_s=step * self.config.batch_size / elapsed if elapsed > 0 else 0.0,
            eta_s=elapsed / step * (run.total_steps - step),
        )
        for callback in self._step_callbacks:
            callback(report)

    def _diverged(self, run: _Run, loss_value: float, epoch: int) -> TrainResult:
        self.model.load_state_dict(run.good_state)
        message = (
            f"The loss became {loss_value} at step {run.steps_read + 1} (epoch {epoch}); training stopped "
            f"and the weights from step {run.good_step} were kept. Try a lower learning rate."
        )
        return self._finish("diverged", message, run)

    def _end_epoch(self, run: _Run, epoch: int) -> None:
        """Rank 0 evaluates and records the epoch; every rank decays its learning rate."""
        cfg = self.config
        run.good_state, run.good_step = copy.deepcopy(self.model.state_dict()), run.steps_read
        run.epochs_done += 1
        for group in run.optimizer.param_groups:
            group["lr"] *= cfg.lr_decay
        if not self.dist.is_main:
            return
        test = evaluate_loss(
            self.model, self.dataset.test_images, self._test_labels(), binarize=cfg.binarize, seed=cfg.seed
        )
        self.model.train()
        train_loss = run.epoch_loss_sum / (len(run.data.images) - len(run.data.images) % self.dist.world_size)
        self.history.epoch_train_loss.append(train_loss)
        self.history.epoch_test_loss.append(test.loss)
        self.history.epoch_test_recon.append(test.recon)
        self.history.epoch_test_kl.append(test.kl)
        self.history.epoch_end_step.append(self.history.steps)
        report = EpochReport(epoch, train_loss, test, time.perf_counter() - run.epoch_start)
        for callback in self._epoch_callbacks:
            callback(report)

    def _test_labels(self) -> torch.Tensor | None:
        return self.dataset.test_labels if self.model.config.conditional else None

    def _finish(self, status: Status, message: str, run: _Run) -> TrainResult:
        self.model.eval()
        return TrainResult(status, message, run.steps_read, run.epochs_done)


def fits_on_device(images: torch.Tensor, device: torch.device, max_memory: int | None) -> bool:
    """Whether the uint8 training images may live on ``device``: within ``max_memory`` bytes (no
    limit when None) and, on a GPU, within half of its free memory (the rest is for the model)."""
    size = images.numel() * images.element_size()
    if max_memory is not None and size > max_memory:
        return False
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return size <= free // 2
    return True


def _fast_adam_options(device: torch.device) -> dict[str, bool]:
    """The fused Adam kernel is several times faster than the per-tensor loop where torch has it."""
    return {"fused": True} if device.type in ("cpu", "cuda", "mps") else {}
