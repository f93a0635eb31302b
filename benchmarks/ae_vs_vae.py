"""How long the AE-vs-VAE lesson takes, and how far apart the two models score (issue 9's target).
Run on demand (it is not a test)::

    python benchmarks/ae_vs_vae.py                       # the defaults, seeds 1 and 2
    python benchmarks/ae_vs_vae.py --seeds 1 2 3 --latent-dim 2 --threads 1

Runs core.ae_vs_vae.run_experiment, the experiment of the app's AE-vs-VAE panel and of ``vae-studio
compare --train``, with its defaults unless told otherwise, once per seed, and prints per run the
wall time, the process's CPU time, the machine's load average, each stage's start and both models'
continuity and completeness. Targets at the defaults: the pair trains and scores in <= 90 s on a
2-core machine, and the VAE's completeness beats the AE's by >= 25 percentage points. The realism
classifier is trained once per data set and cached (in ``VAE_STUDIO_CACHE``): give a fresh cache
folder to time that first use too.

The machine may be shared: the load average is printed beside each figure, and on a busy machine
the CPU time of a one-thread run (``--threads 1``) is the better guide to an idle machine's wall time.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace

import torch

from vae_studio.core.ae_vs_vae import PairSettings, run_experiment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--latent-dim", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--subset", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    changes = {"latent_dim": args.latent_dim, "epochs": args.epochs, "train_subset": args.subset}
    base = replace(PairSettings(), **{k: v for k, v in changes.items() if v is not None})
    print(
        f"z={base.latent_dim}, {base.epochs} epochs on {base.train_subset or 'all'} {base.dataset} images, "
        f"{base.arch}, grid {base.grid_size}, {torch.get_num_threads()} torch thread(s)"
    )
    for seed in args.seeds:
        start, cpu = time.perf_counter(), time.process_time()
        stages: dict[str, float] = {}

        def progress(stage: str, _fraction: float, _eta: float) -> None:
            stages.setdefault(stage, time.perf_counter() - start)

        result = run_experiment(replace(base, seed=seed), progress=progress)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        ae, vae = result.summaries()
        print(
            f"seed {seed}: {wall:.1f} s wall, {cpu:.1f} s CPU, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        print("  stages start at " + ", ".join(f"{name} {t:.1f} s" for name, t in stages.items()))
        for r in (ae, vae):
            print(f"  {r['kind']:>3}: completeness {r['completeness']:.1%}, continuity {r['continuity']:.3f}")
        print(f"  VAE - AE completeness: {100 * (vae['completeness'] - ae['completeness']):+.1f} points")


if __name__ == "__main__":
    main()
