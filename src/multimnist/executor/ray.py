"""The Ray back end of `run_jobs`: each job a Ray task, scheduled by the CPUs and GPUs it declares.

Imported only when `--executor ray` is asked for; Ray itself only when a function here needs it. The driver
(this process) connects to a cluster, or starts a local Ray instance for the call and shuts it down after;
submits every job; writes results as they come back; and on an error or Ctrl-C cancels what is still running.

- Threads: a job's worker gets OMP/BLAS thread counts and XLA flags for its `num_cpus` through Ray's
  runtime_env, so they are set before JAX is imported there and N one-CPU jobs on N cores do not
  oversubscribe them.
- Faults: a task whose worker dies (killed, node lost) is submitted again, up to `max_retries` times. Jobs are
  idempotent, so the retry resumes from the run folder's backup when the folder is shared, or restarts.
- Files (`staging.py`): with the shared file system (the default) a job reads and writes the driver's paths,
  relative ones from the driver's working directory. Without it (`shared_fs=False`) a job's input dataset is
  rebuilt on the worker from its meta.json and checked against the driver's hash (or, for a dataset without a
  recipe, its files travel through Ray's object store), its output folder is a local temporary one seeded with
  whatever the driver already holds there, and the finished folder's files come back to the driver, which
  writes them atomically with the completion marker (metrics.json) last. Paths in the returned text files and
  results are mapped back to the driver's.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from multimnist.errors import UserError
from multimnist.executor.jobs import Executor, Job, thread_env
from multimnist.executor.staging import (
    describe_input,
    enter_driver_cwd,
    materialize,
    read_folder,
    run_in_scratch,
    write_folder,
)
from multimnist.extras import install_hint

log = logging.getLogger(__name__)

RAY_MISSING = f"the Ray back end needs Ray: {install_hint('ray')}"
AUTH_LOGGER = "ray._private.authentication.authentication_token_setup"


def import_ray():
    """The ray module, or a one-line UserError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UserError(RAY_MISSING) from None
    return ray


def run(jobs: Sequence[Job], settings: Executor, n_jobs: int, log_line: Callable[[str], None]) -> list:
    """Run `jobs` as Ray tasks; results in the order of `jobs`. See the module docstring."""
    ray, started = connect(settings, n_jobs)
    if started and _HELD["depth"]:  # inside session(): the session shuts it down
        _HELD["owned"], started = True, False
    try:
        return _run(ray, jobs, settings, log_line)
    finally:
        if started:
            ray.shutdown()


_HELD = {"depth": 0, "owned": False}  # open hold() blocks; whether one of their run calls connected


@contextlib.contextmanager
def hold() -> Iterator[None]:
    """Keep a connection that `run` opens inside the block until the block ends (`executor.session`)."""
    import_ray()  # a missing Ray is one clear line before any work, not at the first step with jobs
    _HELD["depth"] += 1
    try:
        yield
    finally:
        _HELD["depth"] -= 1
        if not _HELD["depth"] and _HELD["owned"]:
            _HELD["owned"] = False
            import_ray().shutdown()


def connect(settings: Executor, n_jobs: int = 1):
    """Connect this process to Ray unless it already is: (the ray module, whether the connection is ours to close).

    Without an address a local instance is started, with `settings.num_cpus` CPUs, else `n_jobs` if above 1,
    else all of this machine's."""
    ray = import_ray()
    if ray.is_initialized():
        return ray, False
    if settings.address is None:  # "local": a new instance even if a cluster runs here (ray.init's default joins it)
        num_cpus = settings.num_cpus or (n_jobs if n_jobs > 1 else None)
        # Workers at normal priority, as the local executor's: Ray's default (nice 15) starves them on a machine
        # that does other work (measured: a tiny training twice as long while others ran).
        kwargs = {"address": "local", "num_cpus": num_cpus, "include_dashboard": False,
                  "_system_config": {"worker_niceness": 0}}
        # Its token is made, kept and used on this machine only: no need to tell the user about it.
        logging.getLogger(AUTH_LOGGER).setLevel(logging.ERROR)
    else:
        kwargs = {"address": settings.address}
    try:
        ray.init(logging_level=logging.WARNING, log_to_driver=True, **kwargs)
    except (ConnectionError, ValueError, RuntimeError) as e:
        where = settings.address or "a local instance"
        raise UserError(f"cannot start or join Ray at {where}: {str(e).splitlines()[0]}") from None
    log.info("Ray: %s CPUs, %s GPUs (%s)", ray.cluster_resources().get("CPU", 0),
             ray.cluster_resources().get("GPU", 0), settings.address or "local instance")
    return ray, True


def _run(ray, jobs: Sequence[Job], settings: Executor, log_line: Callable[[str], None]) -> list:
    remote = ray.remote(execute)
    inputs: dict[str, dict] = {}  # one description per dataset folder, shared by its jobs
    pending = {}
    for job in jobs:
        plan = _plan(ray, job, settings, inputs)
        ref = remote.options(
            name=job.name, num_cpus=job.num_cpus, num_gpus=job.num_gpus, max_retries=settings.max_retries,
            retry_exceptions=False, runtime_env={"env_vars": thread_env(job.num_cpus)},
        ).remote(job.fn, job.kwargs, plan)
        pending[ref] = job
    start, results = time.time(), {}
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            job = pending.pop(ready[0])
            result, files = _get(ray, ready[0], job)
            for key, folder in files.items():
                if isinstance(folder, list):  # a pack's run folders
                    for path, one in zip(job.kwargs[key], folder, strict=True):
                        write_folder(path, one)
                else:
                    write_folder(job.kwargs[key], folder)
            results[job.name] = result
            log_line(f"[{len(results)}/{len(jobs)}] {job.name} done ({time.time() - start:.0f} s)")
    except BaseException:  # an error or Ctrl-C: stop what still runs (cancelled tasks are not retried)
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    return [results[job.name] for job in jobs]


def _get(ray, ref, job: Job):
    """The task's value; a job's own exception is raised as itself (a UserError stays one line)."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as e:
        cause = getattr(e, "cause", None)
        if isinstance(cause, Exception):
            raise cause from None
        raise
    except ray.exceptions.RayError as e:
        raise RuntimeError(f"job {job.name} failed on Ray: {str(e).splitlines()[0]}") from e


# --- what a task needs to know, prepared on the driver ---

def _plan(ray, job: Job, settings: Executor, inputs: dict[str, dict]) -> dict:
    if settings.shared_fs:
        return {"shared_fs": True, "cwd": os.getcwd(), "node": socket.gethostname(), "inputs": list(job.inputs)}
    plan = {"shared_fs": False, "inputs": {}, "outputs": {}}
    for key in job.inputs:
        path = job.kwargs.get(key)
        if isinstance(path, (str, os.PathLike)):
            if str(path) not in inputs:
                inputs[str(path)] = describe_input(Path(path), ray.put)
            plan["inputs"][key] = inputs[str(path)]
    for key in job.outputs:
        path = job.kwargs.get(key)
        if isinstance(path, (str, os.PathLike)):
            plan["outputs"][key] = read_folder(Path(path))  # what a rerun finds there: finished, or nothing
        elif isinstance(path, list):  # a pack's run folders
            plan["outputs"][key] = [read_folder(Path(p)) for p in path]
    return plan


# --- on the worker ---

def execute(fn: Callable[..., Any], kwargs: dict, plan: dict) -> tuple[Any, dict[str, dict[str, bytes]]]:
    """The Ray task: run one job; returns its result and, without a shared file system, its output folders."""
    if plan["shared_fs"]:
        enter_driver_cwd(kwargs, plan)
        return fn(**kwargs), {}
    inputs = {key: materialize(_fetched(source)) for key, source in plan["inputs"].items()}
    return run_in_scratch(fn, kwargs, inputs, plan["outputs"])


def _fetched(source: dict) -> dict:
    """`source` with files left in the object store (`describe_input` on the driver) fetched."""
    files = source.get("files")
    if files is None:
        return source
    ray = import_ray()
    return {**source, "files": ray.get(files) if isinstance(files, ray.ObjectRef) else files}
