"""One interface for the study's independent jobs (seeds x configs, compression factors).

`run_jobs` runs a list of `Job`s and returns their results in order, on one of the back ends of
`jobs.RUNNERS`, each one module:

- local (`local.py`, the default): sequentially in this process, or in `n_jobs` local worker processes;
- ray (`ray.py`): on a Ray cluster (a local instance started for the call, or a running cluster), scheduled by
  the CPUs and GPUs each job declares, with `staging.py` moving files when workers do not share this
  machine's file system; see docs/scaling.md. Ray is imported only then.

This module is the dispatcher: it looks the back end up by `Executor.kind` and imports its module on first
use, so importing `multimnist.executor` never imports Ray.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any

from multimnist.executor.jobs import EXECUTORS, INPUTS, OUTPUTS, RUNNERS, Executor, Job

__all__ = ["EXECUTORS", "INPUTS", "OUTPUTS", "RUNNERS", "Executor", "Job", "run_jobs", "runner", "session"]

logger = logging.getLogger(__name__)


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
    if not jobs:  # nothing to run: no back end is loaded (no Ray started for nothing)
        return []
    return runner(executor.kind).run(jobs, executor, n_jobs, log)


def runner(kind: str) -> ModuleType:
    """The back-end module of `kind` (see `jobs.RUNNERS`), imported on first use."""
    return importlib.import_module(RUNNERS[kind])


@contextlib.contextmanager
def session(executor: Executor | None) -> Iterator[None]:
    """Several `run_jobs` calls (the study's steps) on one connection: on Ray, a local instance is started by
    the first call that needs it, not once per call, and shut down when the block ends. A back end without a
    `hold()` (local) needs nothing."""
    hold = getattr(runner(executor.kind), "hold", None) if executor is not None else None
    if hold is None:
        yield
        return
    with hold():
        yield
