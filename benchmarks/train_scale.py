"""Training samples/s on each device present, per precision, and for 1 versus 2 gloo processes on the CPU.

Run on demand (it is not a test)::

    python benchmarks/train_scale.py                 # devices, then 1 vs 2 processes
    python benchmarks/train_scale.py --skip-processes --steps 400
    python benchmarks/train_speed.py --scale         # the same, after train_speed's own figures

The model is train_speed's classic 784-400-20 MLP VAE on the bundled MNIST, batch 128, through our
``Trainer`` (so with its read-back of the loss figures every step on the CPU, every 50 on a GPU).
Each device figure is the rate after ``--warmup`` steps, over ``--steps`` more. The process figures
run ``torchrun --standalone`` with 1 and with 2 workers of one thread each (so a 2-core machine can
show the scaling), global batch 128, and report rank 0's rate over the global batch. Other
processes on the machine change every figure: the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from vae_studio.core.config import ModelConfig, TrainConfig  # noqa: E402
from vae_studio.core.data import load_dataset  # noqa: E402
from vae_studio.core.distributed import SINGLE_PROCESS, init_from_env, launched_by_torchrun, shutdown  # noqa: E402
from vae_studio.core.models import build_model  # noqa: E402
from vae_studio.core.run_control import RunControl  # noqa: E402
from vae_studio.core.trainer import Trainer  # noqa: E402

BATCH_SIZE = 128
PROCESS_TIMEOUT_S = 600


def devices_present() -> list[torch.device]:
    devices = [torch.device("cpu")]
    devices += [torch.device("cuda", i) for i in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        devices.append(torch.device("mps"))
    return devices


def samples_per_s(device: torch.device, precision: str, warmup: int, steps: int, dist=SINGLE_PROCESS) -> float:
    """Trainer samples/s over ``steps`` steps after ``warmup`` steps (global batch over all ranks).

    Reports come when the figures are read back (every 50 steps on a GPU); with ``warmup`` and
    ``steps`` multiples of 50, the marked steps are read-back points, so the interval is exact.
    """
    dataset = load_dataset("mnist")
    model = build_model(ModelConfig(latent_dim=20, hidden_sizes=(400,)), seed=1)
    config = TrainConfig(epochs=100, batch_size=BATCH_SIZE, seed=1, device=str(device))
    control = RunControl()
    trainer = Trainer(model, dataset, config, control=control, device=device, precision=precision, dist=dist)
    marks: dict[int, float] = {}

    def on_step(report) -> None:
        if report.step in (warmup, warmup + steps):
            marks[report.step] = time.perf_counter()
        if report.step >= warmup + steps:
            control.stop()

    trainer.on_step(on_step)
    trainer.run()
    return steps * BATCH_SIZE / (marks[warmup + steps] - marks[warmup])


def load() -> str:
    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def measure_devices(warmup: int, steps: int) -> None:
    for device in devices_present():
        precisions = ["32", "bf16"] + (["fp16"] if device.type == "cuda" else [])
        for precision in precisions:
            rate = samples_per_s(device, precision, warmup, steps)
            print(f"{str(device):>8} {precision:>5}: {rate:10,.0f} samples/s   ({load()})", flush=True)


def measure_processes(warmup: int, steps: int) -> dict[int, float]:
    """samples/s of 1 and of 2 single-threaded gloo processes, each run under torchrun."""
    rates = {}
    for nproc in (1, 2):
        command = [
            sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
            __file__, "--worker", "--warmup", str(warmup), "--steps", str(steps),
        ]
        env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
        done = subprocess.run(command, capture_output=True, text=True, timeout=PROCESS_TIMEOUT_S, env=env)
        lines = [line for line in done.stdout.splitlines() if line.startswith("samples/s ")]
        if done.returncode != 0 or not lines:
            print(f"{nproc} process(es) failed:\n{done.stderr[-2000:]}")
            continue
        rates[nproc] = float(lines[-1].split()[1])
        print(f"{nproc} gloo process(es), 1 thread each: {rates[nproc]:10,.0f} samples/s   ({load()})", flush=True)
    if len(rates) == 2:
        print(f"2 processes / 1 process: {rates[2] / rates[1]:.2f}x")
    return rates


def worker(warmup: int, steps: int) -> None:
    """One torchrun worker: rank 0 prints the rate."""
    torch.set_num_threads(1)
    ctx, device = init_from_env(torch.device("cpu"))
    try:
        rate = samples_per_s(device, "32", warmup, steps, dist=ctx)
        if ctx.is_main:
            print(f"samples/s {rate:.1f}", flush=True)
    finally:
        shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warmup", type=int, default=50, help="steps before timing (default 50)")
    parser.add_argument("--steps", type=int, default=300, help="timed steps (default 300)")
    parser.add_argument("--skip-devices", action="store_true")
    parser.add_argument("--skip-processes", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker or launched_by_torchrun():
        worker(args.warmup, args.steps)
        return 0
    print(f"torch {torch.__version__}; devices: {', '.join(map(str, devices_present()))}; {load()}")
    if not args.skip_devices:
        print("\n== samples/s per device and precision ==", flush=True)
        measure_devices(args.warmup, args.steps)
    if not args.skip_processes:
        print("\n== 1 versus 2 gloo processes on the CPU ==", flush=True)
        measure_processes(args.warmup, args.steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
