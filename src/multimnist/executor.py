"""One interface for the study's independent jobs (seeds x configs, compression factors).

`run_jobs` runs a list of `Job`s and returns their results in order, on one of two back ends:

- local (the default): sequentially in this process, or in `n_jobs` local worker processes;
- ray: on a Ray cluster (a local instance started for the call, or a running cluster), scheduled by the CPUs
  and GPUs each job declares; see `multimnist.executor_ray` and docs/scaling.md. Ray is imported only then.

A job is a module-level function plus keyword arguments, so it can be shipped to another process or node.
Jobs must be idempotent: each writes its own output folder and skips work already finished, so a rerun after
a crash is safe, and so is a retry of a job lost with its worker.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from multimnist.errors import UserError

logger = logging.getLogger(__name__)

EXECUTORS = ("local", "ray")
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
        if self.kind not in EXECUTORS:
            raise UserError(f"unknown executor {self.kind!r}; choose from {', '.join(EXECUTORS)}")
        if self.max_retries < 0:
            raise UserError(f"max_retries must be at least 0, got {self.max_retries}")
        if self.num_cpus is not None and self.num_cpus < 1:
            raise UserError(f"the Ray instance needs at least one CPU, got {self.num_cpus}")
        if self.kind == "local" and (self.address is not None or not self.shared_fs):
            raise UserError("--address and --no-shared-fs need --executor ray")


LOCAL = Executor()


def run_jobs(jobs: Sequence[Job], n_jobs: int = 1, log: Callable[[str], None] | None = None,
             executor: Executor | str | None = None, address: str | None = None,
             shared_fs: bool = True) -> list[Any]:
    """Run `jobs`, `n_jobs` at a time; results come back in the order of `jobs`.

    `executor` is an `Executor`, or a back-end name with `address` and `shared_fs` beside it. Locally, with
    n_jobs > 1 the workers are fresh processes ("spawn"): JAX does not survive fork. On Ray, jobs run as the
    cluster's CPUs allow (a local instance gets `n_jobs` CPUs when n_jobs > 1). An exception in a job is
    raised here once the other jobs are stopped (locally: queued ones dropped, running ones ended; on Ray:
    cancelled). A stopped run resumes from its last finished epoch.
    """
    log = log or logger.info
    if not isinstance(executor, Executor):
        executor = Executor(executor or "local", address, shared_fs)
    names = [j.name for j in jobs]
    if len(set(names)) != len(names):
        raise ValueError("job names must be unique")
    if executor.kind == "ray":
        if not jobs:
            return []
        from multimnist.executor_ray import run_jobs_ray

        return run_jobs_ray(jobs, executor, n_jobs, log)
    start = time.time()
    if n_jobs <= 1 or len(jobs) <= 1:
        results = []
        for i, job in enumerate(jobs, 1):
            log(f"[{i}/{len(jobs)}] {job.name}")
            results.append(job.fn(**job.kwargs))
        return results
    results: dict[str, Any] = {}
    ctx = multiprocessing.get_context("spawn")
    level = logging.getLogger("multimnist").getEffectiveLevel()
    pool = ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx, initializer=_worker_logging, initargs=(level,))
    try:
        futures = {pool.submit(job.fn, **job.kwargs): job.name for job in jobs}
        for done, future in enumerate(as_completed(futures), 1):
            name = futures[future]
            results[name] = future.result()
            log(f"[{done}/{len(jobs)}] {name} done ({time.time() - start:.0f} s)")
    except BaseException:
        _stop(pool)  # Ctrl-C, or a failed job: the queued jobs are dropped, the running ones stopped
        raise
    pool.shutdown()
    return [results[n] for n in names]


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel the queued jobs and end the workers now. A worker turns a Ctrl-C into its job's result and takes
    the next job, and shutting down waits for the running ones; a killed run resumes from its last epoch."""
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in multiprocessing.active_children():
        worker.terminate()
    for worker in multiprocessing.active_children():
        worker.join(timeout=10)


def _worker_logging(level: int) -> None:
    """A spawned worker logs like its parent: its progress and Keras' epoch lines reach the same stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("multimnist")
    logger.addHandler(handler)
    logger.setLevel(level)


@contextlib.contextmanager
def session(executor: Executor | None) -> Iterator[None]:
    """Several `run_jobs` calls (the study's steps) on one Ray connection: a local instance is started by the
    first call that needs it, not once per call, and shut down when the block ends. Nothing to do locally."""
    if executor is None or executor.kind != "ray":
        yield
        return
    from multimnist.executor_ray import hold

    with hold():
        yield
