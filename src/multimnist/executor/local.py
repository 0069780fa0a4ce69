"""The local back end of `run_jobs`: jobs one after another in this process, or in local worker processes.

With n_jobs > 1 the workers are fresh processes ("spawn": JAX does not survive fork) that log like their
parent. A Ctrl-C or a failed job drops the queued jobs and ends the running ones at once.
"""

from __future__ import annotations

import logging
import multiprocessing
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from multimnist.executor.jobs import Executor, Job


def run(jobs: Sequence[Job], settings: Executor, n_jobs: int, log: Callable[[str], None]) -> list[Any]:
    """Run `jobs`, `n_jobs` at a time; results in the order of `jobs` (`settings` has nothing for this back
    end: it is there because every back end's `run` takes it)."""
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
    return [results[job.name] for job in jobs]


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
