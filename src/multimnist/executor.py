"""One interface for the study's independent jobs (seeds x configs, compression factors).

`run_jobs` runs a list of `Job`s sequentially (the default) or in `n_jobs` local worker processes, and
returns their results in order. A job is a module-level function plus keyword arguments, so it can be
shipped to another process (or, later, to a Ray cluster: see docs/scaling.md). Jobs must be idempotent:
each writes its own output folder and skips work already finished, so a rerun after a crash is safe.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Job:
    name: str  # shown in progress lines, unique within one run_jobs call
    fn: Callable[..., Any]  # a module-level function (picklable)
    kwargs: dict = field(default_factory=dict)


def run_jobs(jobs: Sequence[Job], n_jobs: int = 1, log=print) -> list[Any]:
    """Run `jobs`, `n_jobs` at a time; results come back in the order of `jobs`.

    With n_jobs > 1 the workers are fresh processes ("spawn"): JAX does not survive fork.
    An exception in a job is raised here after the other running jobs finish.
    """
    names = [j.name for j in jobs]
    if len(set(names)) != len(names):
        raise ValueError("job names must be unique")
    start = time.time()
    if n_jobs <= 1 or len(jobs) <= 1:
        results = []
        for i, job in enumerate(jobs, 1):
            log(f"[{i}/{len(jobs)}] {job.name}")
            results.append(job.fn(**job.kwargs))
        return results
    results: dict[str, Any] = {}
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx) as pool:
        futures = {pool.submit(job.fn, **job.kwargs): job.name for job in jobs}
        for done, future in enumerate(as_completed(futures), 1):
            name = futures[future]
            results[name] = future.result()
            log(f"[{done}/{len(jobs)}] {name} done ({time.time() - start:.0f} s)")
    return [results[n] for n in names]


def default_log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
