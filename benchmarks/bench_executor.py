"""What running the study's jobs through Ray costs against the local executor, on this machine.

Prints, for `multimnist.executor.run_jobs`:

1. fixed costs: starting and shutting down a local Ray instance, and a fresh Ray worker's first training job
   (it imports JAX and Keras once; later jobs on that worker do not);
2. dispatch overhead per job: --jobs-n empty jobs through the local executor (in this process, and in 2 spawned
   processes), Ray with a shared file system, and Ray without one returning a --folder-mb run folder;
3. real jobs: --train-jobs tiny autoencoder trainings (1 epoch, 2,000 training images): locally one after
   another; on Ray, each job declaring every CPU (one at a time: what Ray adds per job), and each declaring one
   (pinned to one thread, as many at once as there are CPUs: the default).

    .venv/bin/python benchmarks/bench_executor.py [--jobs-n 40] [--folder-mb 5] [--train-jobs 3]

Ray instances are started as `--executor ray` starts them (`multimnist.executor.ray.connect`). Figures only, no
assertions; docs/notes/scaling.md quotes them.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

from multimnist.executor import Executor, Job, run_jobs
from multimnist.executor.ray import connect

import ray


def empty(i: int) -> int:
    return i


def write_folder_job(out: str, megabytes: float) -> int:
    """A run folder of the given size: a model-sized binary file plus small text files, metrics.json last."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.keras").write_bytes(os.urandom(int(megabytes * 1e6)))
    (folder / "history.csv").write_text("epoch,loss\n0,1.0\n")
    (folder / "metrics.json").write_text('{"loss": 1.0}\n')
    return os.getpid()


def import_training() -> float:
    """Seconds to import the training stack (JAX, Keras) in this process."""
    start = time.perf_counter()
    import multimnist.training.pack  # noqa: F401

    return time.perf_counter() - start


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def quiet(_: str) -> None:
    pass


def dispatch(n: int, megabytes: float, root: Path) -> None:
    jobs = [Job(f"empty-{i}", empty, {"i": i}) for i in range(n)]
    local = timed(lambda: run_jobs(jobs, 1, log=quiet))
    spawned = timed(lambda: run_jobs(jobs, 2, log=quiet))
    print(f"  local, in this process:      {1e3 * local / n:8.2f} ms/job")
    print(f"  local, 2 spawned processes:  {1e3 * spawned / n:8.2f} ms/job (pool start-up included)")
    connect(Executor("ray", num_cpus=2))
    try:
        run_jobs(jobs[:4], executor=Executor("ray"), log=quiet)  # start the workers first
        warm = timed(lambda: run_jobs(jobs, executor=Executor("ray"), log=quiet))
        folder_jobs = [Job(f"folder-{i}", write_folder_job, {"out": str(root / f"run-{i}"), "megabytes": megabytes})
                       for i in range(n // 4)]
        shared = timed(lambda: run_jobs(folder_jobs, executor=Executor("ray"), log=quiet))
        nsfs = timed(lambda: run_jobs(folder_jobs, executor=Executor("ray", shared_fs=False), log=quiet))
    finally:
        ray.shutdown()
    print(f"  ray, 2 warm workers:         {1e3 * warm / n:8.2f} ms/job")
    print(f"  ray, a {megabytes:g} MB run folder:    {1e3 * shared / len(folder_jobs):8.2f} ms/job shared file system, "
          f"{1e3 * nsfs / len(folder_jobs):.2f} ms/job returned to the driver (--no-shared-fs)")


def training(n: int, root: Path) -> None:
    from multimnist.data import GeneratorConfig
    from multimnist.experiments.autoencoder import train_autoencoder
    from multimnist.experiments.data import make_data

    cpus = os.cpu_count() or 1
    data = make_data(root / "data", GeneratorConfig(train_size=2000), seed=0)

    def jobs(tag, num_cpus=1):
        return [Job(f"cf-{20 + i}", train_autoencoder, {"config": "autoencoder", "data": str(data), "epochs": 1,
                                                         "out": str(root / tag / f"cf-{20 + i}"),
                                                         "overrides": [f"model.compression_factor={20 + i}"]},
                    num_cpus=num_cpus) for i in range(n)]

    run_jobs(jobs("local-warm-up")[:1], 1, log=quiet)  # imports and XLA caches, as a warm Ray worker has them
    local = timed(lambda: run_jobs(jobs("local"), 1, log=quiet))
    connect(Executor("ray", num_cpus=cpus))
    try:
        run_jobs(jobs("ray-warm-up", cpus), executor=Executor("ray"), log=quiet)
        whole = timed(lambda: run_jobs(jobs("ray-whole", cpus), executor=Executor("ray"), log=quiet))
        run_jobs(jobs("ray-warm-up-1"), executor=Executor("ray"), log=quiet)
        single = timed(lambda: run_jobs(jobs("ray-single"), executor=Executor("ray"), log=quiet))
    finally:
        ray.shutdown()
    print(f"  local, one after another:           {local / n:6.2f} s/job (XLA on every core)")
    print(f"  ray, {cpus}-CPU jobs, one at a time:     {whole / n:6.2f} s/job, warm worker: "
          f"{whole / n - local / n:+.2f} s/job against local")
    print(f"  ray, 1-CPU jobs, {cpus} at a time:        {single / n:6.2f} s/job (one thread each; throughput)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs-n", type=int, default=40, help="empty jobs for the dispatch overhead")
    parser.add_argument("--folder-mb", type=float, default=5.0, help="size of the run folder a job writes")
    parser.add_argument("--train-jobs", type=int, default=3, help="tiny training jobs (0: skip)")
    args = parser.parse_args()
    # Ray starts its processes with fork+exec after JAX has run here: the exec makes the warning moot.
    warnings.filterwarnings("ignore", message="os.fork", category=RuntimeWarning)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"{os.cpu_count()} CPUs (load average {load}: other work skews every figure), Ray {ray.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print("fixed costs:")
        up = timed(lambda: connect(Executor("ray", num_cpus=2)))
        try:
            remote = ray.remote(import_training)
            first = timed(lambda: ray.get(remote.remote()))
            again = timed(lambda: ray.get(remote.remote()))
        finally:
            down = timed(ray.shutdown)
        print(f"  local Ray instance: {up:.2f} s to start, {down:.2f} s to shut down")
        print(f"  a fresh worker's first job importing JAX/Keras: {first:.2f} s (a second job: {again:.2f} s)")
        print(f"dispatch overhead ({args.jobs_n} empty jobs):")
        dispatch(args.jobs_n, args.folder_mb, root)
        if args.train_jobs:
            print(f"real jobs ({args.train_jobs} tiny autoencoder trainings, 1 epoch, 2,000 images):")
            training(args.train_jobs, root)


if __name__ == "__main__":
    main()
