"""The Ray back end on a local Ray instance started inside the tests (2 CPUs, no dashboard, no outside service):
the same sweep through both back ends writes the same metrics, a worker killed mid-job is retried, a job's error
arrives as itself, and no Ray process outlives the instance."""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from multimnist.errors import UserError
from multimnist.executor import Executor, Job, run_jobs, session

import pytest

pytestmark = pytest.mark.slow  # every test here starts a Ray instance (seconds) or runs on one
ray = pytest.importorskip("ray", reason="Ray is not installed: pip install -e '.[ray]' (CI installs it)")
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this test module
RAY = Executor("ray")
TIMING = {"seconds_per_epoch"}  # the only figure of metrics.json allowed to differ between two runs


def ray_processes() -> set[int]:
    """Ray's processes on this machine: GCS, raylet, agents, monitors, workers."""
    pids = set()
    for proc in Path("/proc").iterdir():
        try:
            comm = (proc / "comm").read_text().strip()
            cmdline = (proc / "cmdline").read_bytes()
        except (OSError, NotADirectoryError):
            continue
        if comm in ("raylet", "gcs_server") or comm.startswith("ray::") or b"site-packages/ray/" in cmdline:
            pids.add(int(proc.name))
    return pids


def quiet(_: str) -> None:
    pass


def left_running(pids: set[int], timeout: float = 20.0) -> set[int]:
    """Which of `pids` still run after up to `timeout` seconds."""
    deadline = time.time() + timeout
    while pids and time.time() < deadline:
        time.sleep(0.2)
        pids = {p for p in pids if Path(f"/proc/{p}").exists() and
                "zombie" not in Path(f"/proc/{p}/status").read_text(errors="replace").lower()}
    return pids


# --- jobs (module-level, shipped to the workers by value) ---

def environment(x: int) -> dict:
    return {"x": x, "pid": os.getpid(), "omp": os.environ.get("OMP_NUM_THREADS"), "xla": os.environ.get("XLA_FLAGS")}


def sleep_unless_retried(marker: str, seconds: float) -> tuple[int, int]:
    """Appends its pid to `marker`; the first attempt then sleeps (to be killed), a retry returns at once."""
    path = Path(marker)
    attempts = path.read_text().split() if path.exists() else []
    path.write_text(" ".join([*attempts, str(os.getpid())]))
    if not attempts:
        time.sleep(seconds)
    return len(attempts) + 1, os.getpid()


def refuse(message: str):
    raise UserError(message)


def write_here(out: str) -> str:
    Path(out).mkdir(parents=True)
    (Path(out) / "done.txt").write_text("yes")
    return os.getcwd()


# --- a Ray instance of our own: started for the call, shut down after (first: before the shared one below) ---

@pytest.mark.skipif(not Path("/proc").is_dir(), reason="counts Ray's processes through /proc")
def test_run_jobs_starts_and_stops_its_own_instance():
    if ray.is_initialized():
        pytest.skip("a Ray instance is already running in this process")
    before = ray_processes()
    lines = []
    results = run_jobs([Job(f"job{i}", environment, {"x": i}) for i in range(3)],
                       executor=Executor("ray", num_cpus=2), log=lines.append)
    assert [r["x"] for r in results] == [0, 1, 2]  # in job order
    assert os.getpid() not in {r["pid"] for r in results}
    assert {r["omp"] for r in results} == {"1"}  # one-CPU jobs: one thread each
    assert all("--xla_cpu_multi_thread_eigen=false" in r["xla"] for r in results)
    assert sorted(line.split()[1] for line in lines) == ["job0", "job1", "job2"]
    assert not ray.is_initialized()
    assert left_running(ray_processes() - before) == set()

    # session(): one instance for several calls (reproduce's steps), started by the first, stopped at the end.
    with session(Executor("ray", num_cpus=2)):
        assert not ray.is_initialized()
        first = run_jobs([Job(f"job{i}", environment, {"x": i}) for i in range(3)], executor="ray", log=quiet)
        assert ray.is_initialized()
        second = run_jobs([Job(f"job{i}", environment, {"x": i}) for i in range(3)], executor="ray", log=quiet)
    assert {r["pid"] for r in first} & {r["pid"] for r in second}  # the same workers served both calls
    assert not ray.is_initialized()
    assert left_running(ray_processes() - before) == set()


# --- one shared instance for the rest, as a user's `ray.init` would be ---

@pytest.fixture(scope="module")
def ray_instance(tmp_path_factory):
    before = ray_processes() if Path("/proc").is_dir() else set()
    saved = os.environ.get("MULTIMNIST_CACHE")
    os.environ["MULTIMNIST_CACHE"] = str(tmp_path_factory.mktemp("cache"))  # workers inherit it: rebuilt data
    ray.init(num_cpus=2, include_dashboard=False)
    try:
        yield
    finally:
        ray.shutdown()
        if saved is None:
            os.environ.pop("MULTIMNIST_CACHE", None)
        else:
            os.environ["MULTIMNIST_CACHE"] = saved
        if Path("/proc").is_dir():
            assert left_running(ray_processes() - before) == set(), "Ray processes outlived ray.shutdown()"


def _run_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _weights(model: bytes, tmp_path: Path) -> dict[str, bytes]:
    """A .keras file's weight arrays, as bytes (the file's metadata holds the save time, its config Python object
    ids, its HDF5 file timestamps)."""
    import h5py

    path = tmp_path / "model.keras"
    path.write_bytes(model)
    with zipfile.ZipFile(path) as zf, h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r") as h5:
        arrays = {}
        h5.visititems(lambda name, obj: arrays.update({name: obj[()].tobytes()}) if isinstance(obj, h5py.Dataset)
                      else None)
    assert arrays
    return arrays


def test_sweep_writes_the_same_metrics_through_both_back_ends(ray_instance, small_dataset_dir, tmp_path):
    from multimnist.experiments.autoencoder import sweep_compression

    outs = {"local": tmp_path / "local", "ray": tmp_path / "ray", "ray-no-shared-fs": tmp_path / "ray-nsfs"}
    executors = {"local": None, "ray": RAY, "ray-no-shared-fs": Executor("ray", shared_fs=False)}
    rows = {k: sweep_compression([20, 21], small_dataset_dir, outs[k], epochs=1, executor=executors[k])
            for k in outs}
    table = {k: json.dumps(r, sort_keys=True) for k, r in rows.items()}  # one seed: std is NaN, which != itself
    assert table["ray"] == table["local"] == table["ray-no-shared-fs"]
    files = {k: _run_files(out) for k, out in outs.items()}
    for kind in ("ray", "ray-no-shared-fs"):
        assert files[kind].keys() == files["local"].keys()
        for name, data in files["local"].items():
            if name.endswith("metrics.json"):
                mine, theirs = json.loads(files[kind][name]), json.loads(data)
                assert {k: v for k, v in mine.items() if k not in TIMING} == \
                       {k: v for k, v in theirs.items() if k not in TIMING}, (kind, name)
            elif name.endswith(".keras"):
                assert _weights(files[kind][name], tmp_path) == _weights(data, tmp_path), (kind, name)
            else:
                assert files[kind][name] == data, (kind, name)  # same bytes: history, encodings, figures, tables
    # A rerun (a driver started again) finds every run finished: nothing is trained again.
    again = sweep_compression([20, 21], small_dataset_dir, outs["ray-no-shared-fs"], epochs=1,
                              executor=executors["ray-no-shared-fs"])
    assert json.dumps(again, sort_keys=True) == table["local"]
    assert _run_files(outs["ray-no-shared-fs"]) == files["ray-no-shared-fs"]


def test_killed_worker_is_retried(ray_instance, tmp_path):
    marker = tmp_path / "pids"
    jobs = [Job("victim", sleep_unless_retried, {"marker": str(marker), "seconds": 120}),
            Job("bystander", environment, {"x": 7})]
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(run_jobs, jobs, executor=RAY, log=quiet)
        deadline = time.time() + 60
        while not marker.exists() and time.time() < deadline:
            time.sleep(0.1)
        first = int(marker.read_text().split()[0])
        os.kill(first, signal.SIGKILL)  # the worker dies mid-job
        (attempts, pid), bystander = future.result(timeout=60)
    assert attempts == 2 and pid != first  # retried in a fresh worker, which finished it
    assert bystander["x"] == 7


def test_a_jobs_error_arrives_as_itself(ray_instance):
    jobs = [Job("fine", environment, {"x": 1}), Job("bad", refuse, {"message": "bad data in job"})]
    with pytest.raises(UserError, match=r"^bad data in job$"):
        run_jobs(jobs, executor=RAY, log=quiet)


def test_shared_fs_jobs_see_the_drivers_working_directory(ray_instance, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    [cwd] = run_jobs([Job("relative", write_here, {"out": "runs/a"})], executor=RAY, log=quiet)
    assert cwd == str(tmp_path) and (tmp_path / "runs" / "a" / "done.txt").read_text() == "yes"


def test_no_shared_fs_returns_the_folder_to_the_driver(ray_instance, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    executor = Executor("ray", shared_fs=False)
    [cwd] = run_jobs([Job("relative", write_here, {"out": "runs/b"})], executor=executor, log=quiet)
    assert cwd != str(tmp_path)  # the job ran elsewhere, yet its folder is here
    assert (tmp_path / "runs" / "b" / "done.txt").read_text() == "yes"
