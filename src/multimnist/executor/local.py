"""The local back end of `run_jobs`: jobs one after another in this process, or in local worker processes.

With n_jobs > 1 the workers are fresh processes ("spawn": JAX does not survive fork) that log like their
parent, each with its share of the cores: pinned to them (CPU affinity, which XLA's CPU runtime sizes its thread
pool from) and its thread pools sized to them. Without the pinning each worker of this jaxlib ran two busy threads
whatever XLA_FLAGS said, and two workers on 2 cores trained a pack of 3 autoencoders at 34.9 s an epoch each,
against 10-11 s for one pinned worker alone. A Ctrl-C or a failed job drops the queued jobs and ends the running
ones at once.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
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
    slots = ctx.Queue()  # each worker takes one set of cores to pin itself to
    for slot in core_slots(n_jobs):
        slots.put(slot)
    pool = ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx, initializer=_worker_setup,
                               initargs=(level, cores, slots))
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


def core_slots(n_jobs: int) -> list[list[int]]:
    """Disjoint sets of this process's allowed cores, one per worker; none where there are fewer cores than
    workers, or no way to pin (then the workers share every core, as before)."""
    if not hasattr(os, "sched_getaffinity"):
        return []
    allowed = sorted(os.sched_getaffinity(0))
    per = len(allowed) // n_jobs
    return [allowed[i * per:(i + 1) * per] for i in range(n_jobs)] if per else []


def _worker_setup(level: int, cores: int, slots=None) -> None:
    """A spawned worker pins itself to its own cores and sizes its thread pools to them (before its first job
    imports JAX, unless the user set XLA_FLAGS), and logs like its parent: its progress lines reach the same
    stderr."""
    try:
        slot = slots.get_nowait() if slots is not None else None
    except queue.Empty:  # a worker started in place of one that died: its cores are not known, it shares all
        slot = None
    if slot:
        os.sched_setaffinity(0, slot)
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
