"""The Ray back end of `run_jobs`: each job a Ray task, scheduled by the CPUs and GPUs it declares.

Imported only when `--executor ray` is asked for. The driver (this process) connects to a cluster, or starts
a local Ray instance for the call and shuts it down after; submits every job; writes results as they come
back; and on an error or Ctrl-C cancels what is still running.

- Threads: a job's worker gets OMP/BLAS thread counts and XLA flags for its `num_cpus` through Ray's
  runtime_env, so they are set before JAX is imported there and N one-CPU jobs on N cores do not
  oversubscribe them.
- Faults: a task whose worker dies (killed, node lost) is submitted again, up to `max_retries` times. Jobs are
  idempotent, so the retry resumes from the run folder's backup when the folder is shared, or restarts.
- Files: with the shared file system (the default) a job reads and writes the driver's paths, relative ones
  from the driver's working directory. Without it (`shared_fs=False`) a job's input dataset is rebuilt on the
  worker from its meta.json and checked against the driver's hash (or, for a dataset without a recipe, its
  files travel through Ray's object store), its output folder is a local temporary one seeded with whatever
  the driver already holds there, and the finished folder's files come back to the driver, which writes them
  atomically with the completion marker (metrics.json) last. Paths in the returned text files and results
  are mapped back to the driver's.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from multimnist.data import GeneratorConfig, load_dataset, load_mnist, make_dataset, save_dataset
from multimnist.datasets import cache_root
from multimnist.errors import UserError
from multimnist.executor import Executor, Job
from multimnist.files import sha256_arrays, write_bytes

log = logging.getLogger(__name__)

RAY_MISSING = "the Ray back end needs Ray: pip install 'multimnist[ray]'"
MARKERS = ("metrics.json", "meta.json", "fidelity.json")  # written last: each marks its folder complete
TEXT_SUFFIXES = (".json", ".yaml", ".yml", ".csv", ".md", ".txt", ".html")  # where worker paths are mapped back
AUTH_LOGGER = "ray._private.authentication.authentication_token_setup"
DATA_CACHE = "ray-data"  # under the multimnist cache folder of each worker node: datasets rebuilt there


def import_ray():
    """The ray module, or a one-line UserError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UserError(RAY_MISSING) from None
    return ray


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


def run_jobs_ray(jobs: Sequence[Job], settings: Executor, n_jobs: int, log_line: Callable[[str], None]) -> list:
    """Run `jobs` as Ray tasks; results in the order of `jobs`. See the module docstring."""
    ray, started = connect(settings, n_jobs)
    if started and _HELD["depth"]:  # inside session(): the session shuts it down
        _HELD["owned"], started = True, False
    try:
        return _run(ray, jobs, settings, log_line)
    finally:
        if started:
            ray.shutdown()


_HELD = {"depth": 0, "owned": False}  # open hold() blocks; whether one of their run_jobs calls connected


@contextlib.contextmanager
def hold() -> Iterator[None]:
    """Keep a connection that `run_jobs_ray` opens inside the block until the block ends (`executor.session`)."""
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
                inputs[str(path)] = describe_input(ray, Path(path))
            plan["inputs"][key] = inputs[str(path)]
    for key in job.outputs:
        path = job.kwargs.get(key)
        if isinstance(path, (str, os.PathLike)):
            plan["outputs"][key] = read_folder(Path(path))  # what a rerun finds there: finished, or nothing
    return plan


def describe_input(ray, path: Path) -> dict:
    """How a worker gets the dataset folder `path`: rebuilt from its recipe (meta.json) and checked against the
    hash of the driver's arrays, or, without a recipe it can follow, its files through the object store."""

    ds = load_dataset(path)
    digest = sha256_arrays(ds.x_train, ds.y_train, ds.x_test, ds.y_test)
    meta = ds.meta
    if meta.get("generator") is not None and "seed" in meta and meta.get("mnist", {}).get("source") == "vendored":
        return {"sha256": digest, "meta": meta}
    log.info("%s has no recipe a worker can follow (vendored MNIST, generator, seed): its files travel", path)
    return {"sha256": digest, "files": ray.put(read_folder(path))}


def read_folder(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by its relative path ({} if there is no folder)."""
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def write_folder(folder: str | os.PathLike, files: dict[str, bytes]) -> None:
    """Make `folder` hold exactly `files`: each written atomically, stale files removed, markers last."""

    folder = Path(folder)
    if not files:  # the job left nothing there: nothing to replace what the driver holds
        return
    last = [name for name in files if Path(name).name in MARKERS]
    for name in [n for n in files if n not in last] + last:
        if name in last:  # before the marker goes in, nothing stale may remain
            _remove_stale(folder, set(files))
        write_bytes(folder / name, files[name])
    _remove_stale(folder, set(files))


def _remove_stale(folder: Path, keep: set[str]) -> None:
    if not folder.is_dir():
        return
    for p in sorted(folder.rglob("*"), reverse=True):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and rel not in keep:
            p.unlink()
        elif p.is_dir() and not any(p.iterdir()):
            p.rmdir()


# --- on the worker ---

def execute(fn: Callable[..., Any], kwargs: dict, plan: dict) -> tuple[Any, dict[str, dict[str, bytes]]]:
    """The Ray task: run one job; returns its result and, without a shared file system, its output folders."""
    if plan["shared_fs"]:
        _enter_driver_cwd(kwargs, plan)
        return fn(**kwargs), {}
    work = Path(tempfile.mkdtemp(prefix="multimnist-job-"))
    try:
        local, to_driver = dict(kwargs), {}
        for key, source in plan["inputs"].items():
            local[key] = str(materialize(source))
            to_driver[local[key]] = str(kwargs[key])
        for i, (key, files) in enumerate(plan["outputs"].items()):
            folder = work / f"out{i}" / (Path(kwargs[key]).name or "out")
            write_folder(folder, files)
            local[key] = str(folder)
            to_driver[local[key]] = str(kwargs[key])
        result = fn(**local)
        back = {key: map_files(read_folder(Path(local[key])), to_driver) for key in plan["outputs"]}
        return map_paths(result, to_driver), back
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _enter_driver_cwd(kwargs: dict, plan: dict) -> None:
    """Relative paths mean what they mean on the driver; a path this node cannot see is one clear error."""
    if os.path.isdir(plan["cwd"]):
        os.chdir(plan["cwd"])
    for key in plan["inputs"]:
        path = kwargs.get(key)
        if isinstance(path, (str, os.PathLike)) and not os.path.exists(path):
            raise UserError(f"{path} is not reachable from Ray node {socket.gethostname()} (the driver runs on "
                            f"{plan['node']}): put the output folder on a shared file system or pass --no-shared-fs")


def materialize(source: dict) -> Path:
    """The dataset folder on this node: rebuilt once per node into the multimnist cache, checked by hash."""

    folder = cache_root() / DATA_CACHE / source["sha256"][:32]
    if (folder / "meta.json").is_file():  # written last: its presence marks a complete dataset
        return folder
    build = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(build, ignore_errors=True)
    if "files" in source:
        import ray

        files = source["files"]
        write_folder(build, ray.get(files) if isinstance(files, ray.ObjectRef) else files)
    else:
        _rebuild(source, build)
    try:
        os.replace(build, folder)
    except OSError:  # another worker of this node finished it first
        shutil.rmtree(build, ignore_errors=True)
    return folder


def _rebuild(source: dict, build: Path) -> None:

    meta = source["meta"]
    try:
        config = GeneratorConfig(**meta["generator"])
    except TypeError as e:
        raise UserError(f"the dataset was made by another multimnist version ({e}): install the driver's "
                        "version on every node") from None
    ds = make_dataset(load_mnist(None), config, seed=meta["seed"])
    digest = sha256_arrays(ds.x_train, ds.y_train, ds.x_test, ds.y_test)
    if digest != source["sha256"]:
        raise UserError(f"the dataset rebuilt on Ray node {socket.gethostname()} differs from the driver's (hash "
                        f"{digest[:12]}, expected {source['sha256'][:12]}): install the same multimnist and numpy "
                        "on every node")
    ds.meta = meta  # the driver's meta.json, byte for byte in content
    save_dataset(ds, build)


def map_files(files: dict[str, bytes], to_driver: dict[str, str]) -> dict[str, bytes]:
    out = {}
    for name, data in files.items():
        if name.endswith(TEXT_SUFFIXES):
            try:
                data = map_paths(data.decode("utf-8"), to_driver).encode("utf-8")
            except UnicodeDecodeError:
                pass
        out[name] = data
    return out


def map_paths(value, to_driver: dict[str, str]):
    """Worker folders named in `value` (strings within dicts, lists, tuples) replaced by the driver's."""
    if isinstance(value, str):
        for local in sorted(to_driver, key=len, reverse=True):
            value = value.replace(local, to_driver[local])
        return value
    if isinstance(value, dict):
        return {k: map_paths(v, to_driver) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(map_paths(v, to_driver) for v in value)
    return value
