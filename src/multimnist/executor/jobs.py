"""What a job is, and where jobs may run: `Job`, the `Executor` settings, and the back ends by name.

A job is a module-level function plus keyword arguments, so it can be shipped to another process or node.
Jobs must be idempotent: each writes its own output folder and skips work already finished, so a rerun after
a crash is safe, and so is a retry of a job lost with its worker.

Every back end is one module of this package, named in `RUNNERS`, that provides
`run(jobs, executor, n_jobs, log) -> results in job order` and, if several `run_jobs` calls should share one
connection, a `hold()` context manager. The modules import this one, never the other way round, and are
imported only when their back end is asked for, so a back end's extra (Ray) is needed only by its users.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from multimnist.errors import UserError

# kind -> the module that runs jobs there (see the module docstring); a new back end is one entry here, its
# module and its extra in pyproject.toml.
RUNNERS = {"local": "multimnist.executor.local", "ray": "multimnist.executor.ray"}
EXECUTORS = tuple(RUNNERS)  # the CLI's --executor choices
INPUTS = ("data",)  # keyword arguments naming a dataset folder a job reads
OUTPUTS = ("out", "run_dir", "data_dir")  # keyword arguments naming the one folder a job writes


@dataclass(frozen=True)
class Job:
    name: str  # shown in progress lines, unique within one run_jobs call
    fn: Callable[..., Any]  # a module-level function (picklable)
    kwargs: dict = field(default_factory=dict)
    num_cpus: float = 1  # cores the job uses: Ray reserves them, and the job's thread pools are pinned to them
    num_gpus: float = 0  # GPUs the job uses (Ray reserves them; 0 on CPU-only machines)
    # Which kwargs are folders: without a shared file system they are remapped to local ones on the worker.
    inputs: tuple[str, ...] = INPUTS
    outputs: tuple[str, ...] = OUTPUTS


@dataclass(frozen=True)
class Executor:
    """Where `run_jobs` runs jobs; the CLI's --executor, --address and --no-shared-fs."""

    kind: str = "local"  # "local": this machine; "ray": a Ray cluster
    address: str | None = None  # ray: None starts a local instance for the call, "auto" joins a running cluster
    shared_fs: bool = True  # ray: workers read and write the driver's paths; False: files travel with the jobs
    max_retries: int = 3  # ray: how often a job lost with its worker (killed, node down) is submitted again
    num_cpus: int | None = None  # ray, local instance only: CPUs it offers (None: every core of this machine)

    def __post_init__(self):
        if self.kind not in RUNNERS:
            raise UserError(f"unknown executor {self.kind!r}; choose from {', '.join(RUNNERS)}")
        if self.max_retries < 0:
            raise UserError(f"max_retries must be at least 0, got {self.max_retries}")
        if self.num_cpus is not None and self.num_cpus < 1:
            raise UserError(f"the Ray instance needs at least one CPU, got {self.num_cpus}")
        if self.kind == "local" and (self.address is not None or not self.shared_fs):
            raise UserError("--address and --no-shared-fs need --executor ray")


def thread_env(num_cpus: float) -> dict[str, str]:
    """Environment for a worker running one job on `num_cpus` cores: every thread pool sized to them.

    One-CPU jobs run XLA's Eigen kernels single-threaded; larger ones size the OpenMP/BLAS pools (XLA's own
    pool follows the machine, so give multi-CPU jobs whole nodes or accept some sharing).
    """
    n = max(1, math.ceil(num_cpus))
    xla = f"--xla_cpu_multi_thread_eigen={'false' if n == 1 else 'true'} intra_op_parallelism_threads={n}"
    env = {name: str(n) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                     "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")}
    return env | {"XLA_FLAGS": xla, "TF_CPP_MIN_LOG_LEVEL": "2"}
