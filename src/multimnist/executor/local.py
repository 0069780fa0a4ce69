"""The local back end of `run_jobs`: jobs one after another in this process, or in local worker processes.

With n_jobs > 1 the workers are fresh processes ("spawn": JAX does not survive fork) that log like their
parent, each with its share of the cores for its thread pools (two one-thread workers trained 18% more networks
per second than one two-thread process, packs of 8 classifiers on 2 cores). A Ctrl-C or a failed job drops the
queued jobs and ends the running ones at once.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from multimnist.executor.jobs import Executor, Job, thread_env


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
    cores = max(1, (os.cpu_count() or 1) // n_jobs)
    pool = ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx, initializer=_worker_setup, initargs=(level, cores))
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


def _worker_setup(level: int, cores: int) -> None:
    """A spawned worker sizes its thread pools to its share of the cores (before its first job imports JAX,
    unless the user set XLA_FLAGS) and logs like its parent: its progress lines reach the same stderr."""
    env = thread_env(cores)
    if "XLA_FLAGS" in os.environ:
        env.pop("XLA_FLAGS")
    os.environ.update({k: v for k, v in env.items() if k not in os.environ or k == "TF_CPP_MIN_LOG_LEVEL"})
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("multimnist")
    logger.addHandler(handler)
    logger.setLevel(level)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """End this worker when its parent is gone (killed without a chance to stop it): else it would train on
    into run folders a rerun of the same command also writes."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)
