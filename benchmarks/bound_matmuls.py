"""The most of the matmul peak a training step can reach at the networks' own shapes: its matmuls alone.

A training step of a dense network is, in arithmetic, its matmuls: per layer the forward product (batch x in @ in x
out), the weight gradient (in x batch @ batch x out) and, past the first layer, the input gradient (batch x out @
out x in). This script times exactly those, for the classifier and the autoencoder at batch 256, for a pack of M
networks each with its own batch (what the pack trainer's `vmap` runs), and for comparison the first layer of a
pack sharing one batch as one wide matmul. Nothing else runs: no activation, loss, optimizer, gather or
bookkeeping, so the share printed is a ceiling on what the trainer (benchmarks/bench_pack.py) can reach at these
shapes, whatever its program does around the matmuls. Each figure is the best of --repeats calls of one jitted
step (a call's dispatch, some tens of microseconds, counts against it), the peak the best 2048 x 2048 matmul
(benchmarks/common.py), measured in the same run, before and after. Figures only, no assertions.

    .venv/bin/python benchmarks/bound_matmuls.py [--packs 1 3 8 16] [--repeats 30]
"""

from __future__ import annotations

import argparse

from multimnist.models.autoencoder import build_autoencoder
from multimnist.models.classifier import ModelConfig, build_classifier
from multimnist.training.seeding import seed_everything

import jax
import jax.numpy as jnp
import numpy as np
from common import best_seconds, matmul_peak_gflops  # benchmarks/common.py, beside this script

BATCH = 256


def dense_shapes(model) -> list[tuple[int, int]]:
    """(in, out) of each Dense kernel, in order."""
    return [tuple(v.shape) for v in model.trainable_variables if len(v.shape) == 2]


def step_matmuls(shapes: list[tuple[int, int]], m: int, shared_first: bool = False):
    """(jitted step, its arguments, its flops): every matmul of one training step of m networks."""
    rng = np.random.default_rng(0)

    def arr(*shape):
        return jnp.asarray(rng.uniform(-1, 1, size=shape).astype(np.float32))

    xs = [arr(m, BATCH, i) for i, _ in shapes]  # each layer's input, per network
    ws = [arr(m, i, o) for i, o in shapes]
    dys = [arr(m, BATCH, o) for _, o in shapes]  # the gradient at each layer's output
    flops = sum(2 * m * BATCH * i * o * (2 if k == 0 else 3) for k, (i, o) in enumerate(shapes))
    if shared_first:  # one batch for the pack: the first layer as (B, in) @ (in, m * out) and its transpose
        i, o = shapes[0]
        xs[0] = arr(BATCH, i)
        ws[0], dys[0] = arr(i, m * o), arr(BATCH, m * o)

    def step(xs, ws, dys):
        out = []
        for k, (x, w, dy) in enumerate(zip(xs, ws, dys, strict=True)):
            if shared_first and k == 0:
                out += [x @ w, x.T @ dy]
                continue
            out += [jnp.einsum("mbi,mio->mbo", x, w), jnp.einsum("mbi,mbo->mio", x, dy)]
            if k:
                out.append(jnp.einsum("mbo,mio->mbi", dy, w))
        return out

    return jax.jit(step), (xs, ws, dys), flops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packs", nargs="+", type=int, default=[1, 3, 8, 16])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    peak = matmul_peak_gflops()
    seed_everything(0)
    kinds = {"classifier": dense_shapes(build_classifier(ModelConfig())),
             "autoencoder": dense_shapes(build_autoencoder().autoencoder)}
    rows = []
    for kind, shapes in kinds.items():
        for m in args.packs:
            for shared in (False, True) if kind == "classifier" and m > 1 else (False,):
                fn, fn_args, flops = step_matmuls(shapes, m, shared)
                seconds = best_seconds(fn, *fn_args, repeats=args.repeats)
                rows.append((kind, m, "one shared batch, wide layer 1" if shared else "own batches", seconds, flops))
    after = matmul_peak_gflops()
    print(f"{jax.devices()[0].platform}: matmul peak {peak:.0f} GFLOP/s before, {after:.0f} after; shares below "
          f"against the higher; batch {BATCH}")
    for kind, shapes in kinds.items():
        print(f"{kind}: layers {' '.join(f'{i}x{o}' for i, o in shapes)}")
    print(f"{'network':12s} {'pack':>4s} {'batches':32s} {'ms a step':>9s} {'GFLOP/s':>8s} {'of peak':>8s}")
    for kind, m, label, seconds, flops in rows:
        rate = flops / seconds / 1e9
        print(f"{kind:12s} {m:4d} {label:32s} {seconds * 1e3:9.2f} {rate:8.0f} {rate / max(peak, after):8.1%}")


if __name__ == "__main__":
    main()
