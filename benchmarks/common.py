"""Shared by the benchmark scripts: the machine's measured float32 matmul peak, and what a step costs."""

from __future__ import annotations

import time

import multimnist  # noqa: F401  (selects the JAX backend)


def matmul_peak_gflops(n: int | None = None, repeats: int = 10) -> float:
    """Best float32 GFLOP/s of an n x n matmul through JAX on this machine (2 n^3 flops each), at JAX's default
    precision (what training gets; TF32 on recent NVIDIA GPUs). n: 2048 on CPUs, 8192 on a GPU, which a smaller
    product leaves part idle."""
    import jax
    import jax.numpy as jnp

    n = n or (8192 if jax.devices()[0].platform == "gpu" else 2048)

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


def best_seconds(fn, *args, repeats: int = 5) -> float:
    """Best wall time of `repeats` calls of a jitted `fn(*args)`, after one call that compiles it."""
    import jax

    jax.block_until_ready(fn(*args))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - start)
    return best


def concurrent_peaks(processes: int, n: int = 2048, seconds: float = 3.0) -> list[float]:
    """Median matmul GFLOP/s of each of `processes` one-thread processes running at once (a local worker's setting:
    `thread_env(1)`). Their sum against `matmul_peak_gflops()` says whether the cores add up: on some virtual
    machines two vCPUs give no more than one does, and two workers then train no faster than one."""
    import os
    import subprocess
    import sys

    from multimnist.executor.jobs import thread_env

    start = time.time() + 8  # every process imports JAX and compiles first, then all measure together
    here = os.path.dirname(os.path.abspath(__file__))
    code = (f"import sys; sys.path.insert(0, {here!r}); from common import _timed_matmuls; "
            f"print(_timed_matmuls({n}, {start}, {seconds}))")
    env = os.environ | thread_env(1)
    workers = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
               for _ in range(processes)]
    return [float(w.communicate()[0].split()[-1]) for w in workers]


def _timed_matmuls(n: int, start: float, seconds: float) -> float:
    """Median GFLOP/s of n x n matmuls run from wall time `start` for `seconds` (see concurrent_peaks)."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), dtype=jnp.float32)
    f = jax.jit(jnp.matmul)
    f(a, a).block_until_ready()
    time.sleep(max(0.0, start - time.time()))
    times = []
    while not times or time.time() < start + seconds:
        t = time.perf_counter()
        f(a, a).block_until_ready()
        times.append(time.perf_counter() - t)
    return 2 * n**3 / float(np.median(times)) / 1e9


def dense_flops_per_sample(widths: list[int]) -> int:
    """Forward + backward flops of a dense stack per sample: ~6 per weight (2 forward, 4 backward)."""
    return sum(6 * a * b for a, b in zip(widths[:-1], widths[1:], strict=True))


def model_flops_per_sample(model, batch: int = 256) -> tuple[float, float]:
    """(training, inference) flops per sample of a Keras model, from XLA's cost analysis of one jitted step
    (forward and backward through the loss; forward only)."""
    import jax
    import jax.numpy as jnp

    x = jnp.zeros((batch, *model.inputs[0].shape[1:]), jnp.float32)
    params = [v.value for v in model.trainable_variables]
    state = [v.value for v in model.non_trainable_variables]

    def loss(params):
        out, _ = model.stateless_call(params, state, x, training=True)
        return sum(jnp.sum(o) for o in jax.tree.leaves(out))

    def forward(params):
        return model.stateless_call(params, state, x, training=False)[0]

    def flops(fn):
        cost = jax.jit(fn).lower(params).compile().cost_analysis()
        cost = cost[0] if isinstance(cost, list) else cost
        return float(cost.get("flops", 0.0)) / batch

    return flops(jax.grad(loss)), flops(forward)
