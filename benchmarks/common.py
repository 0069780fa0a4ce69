"""Shared by the benchmark scripts: the machine's measured float32 matmul peak."""

from __future__ import annotations

import time

import multimnist  # noqa: F401  (selects the JAX backend)


def matmul_peak_gflops(n: int = 2048, repeats: int = 10) -> float:
    """Best float32 GFLOP/s of an n x n matmul through JAX on this machine (2 n^3 flops each)."""
    import jax
    import jax.numpy as jnp

    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), dtype=jnp.float32)
    b = jax.random.normal(jax.random.PRNGKey(1), (n, n), dtype=jnp.float32)
    f = jax.jit(jnp.matmul)
    f(a, b).block_until_ready()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        f(a, b).block_until_ready()
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def dense_flops_per_sample(widths: list[int]) -> int:
    """Forward + backward flops of a dense stack per sample: ~6 per weight (2 forward, 4 backward)."""
    return sum(6 * a * b for a, b in zip(widths[:-1], widths[1:], strict=True))


def package_fit_seconds(model, x, y, x_val, y_val, train_cfg) -> float:
    """Median seconds per epoch of a compiled model through multimnist.training.fit (validation included),
    the first epoch (XLA compilation) left out."""
    import tempfile

    from multimnist.training.fit import EpochTimer, fit

    import numpy as np

    timer = EpochTimer()
    with tempfile.TemporaryDirectory() as run:
        fit(model, x, y, x_val, y_val, train_cfg, run, verbose=0, callbacks=[timer])
    return float(np.median(timer.times[1:]))
