"""run_jobs: results come back in job order, sequentially or in worker processes; errors propagate; back-end
settings; the Ray back end's file handling, which needs no Ray (Ray itself: test_ray.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from multimnist.data import read_dataset
from multimnist.errors import UserError
from multimnist.executor import RUNNERS, Executor, Job, run_jobs, runner, session
from multimnist.executor.jobs import thread_env
from multimnist.executor.staging import describe_input, map_files, map_paths, materialize, read_folder, write_folder
from multimnist.files import sha256_arrays

import pytest


def square_slowly(x: int, delay: float = 0.0) -> tuple[int, int]:
    """Module-level, so spawned workers can import it."""
    time.sleep(delay)
    return x * x, os.getpid()


def fail(message: str):
    raise ValueError(message)


def thread_settings() -> tuple[str | None, str | None]:
    return os.environ.get("XLA_FLAGS"), os.environ.get("OMP_NUM_THREADS")


def test_sequential_in_order():
    lines = []
    jobs = [Job(f"job{i}", square_slowly, {"x": i}) for i in range(4)]
    results = run_jobs(jobs, n_jobs=1, log=lines.append)
    assert [r[0] for r in results] == [0, 1, 4, 9]
    assert {r[1] for r in results} == {os.getpid()}
    assert lines == ["[1/4] job0", "[2/4] job1", "[3/4] job2", "[4/4] job3"]


@pytest.mark.slow
def test_parallel_in_job_order_even_when_finishing_out_of_order():
    lines = []
    # The first job is the slowest: it normally finishes last, yet its result comes first.
    jobs = [Job("slow", square_slowly, {"x": 3, "delay": 1.0}), Job("fast", square_slowly, {"x": 5}),
            Job("fast2", square_slowly, {"x": 7})]
    results = run_jobs(jobs, n_jobs=2, log=lines.append)
    assert [r[0] for r in results] == [9, 25, 49]
    assert os.getpid() not in {r[1] for r in results}  # ran in worker processes
    assert sorted(line.split()[1] for line in lines) == ["fast", "fast2", "slow"]  # "[k/3] NAME done (t s)"


@pytest.mark.slow
def test_local_workers_share_the_cores_between_them(monkeypatch):
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    share = max(1, (os.cpu_count() or 1) // 2)
    results = run_jobs([Job(f"j{i}", thread_settings) for i in range(2)], n_jobs=2, log=lambda _: None)
    assert results == [(thread_env(share)["XLA_FLAGS"], str(share))] * 2
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/nowhere")  # the user's own flags are kept
    assert run_jobs([Job(f"j{i}", thread_settings) for i in range(2)], n_jobs=2)[0][0] == "--xla_dump_to=/nowhere"


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_errors_propagate(n_jobs):
    jobs = [Job("ok", square_slowly, {"x": 1}), Job("bad", fail, {"message": "job failed on purpose"})]
    with pytest.raises(ValueError, match="job failed on purpose"):
        run_jobs(jobs, n_jobs=n_jobs, log=lambda _: None)


def test_names_must_be_unique():
    with pytest.raises(ValueError, match="unique"):
        run_jobs([Job("a", square_slowly, {"x": 1}), Job("a", square_slowly, {"x": 2})])


def test_no_jobs():
    assert run_jobs([], n_jobs=2) == []


# --- back-end settings, and the Ray back end's pieces that need no Ray ---

def test_ray_missing_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(UserError, match=r"^the Ray back end needs Ray: pip install -e '\.\[ray\]' in the multimnist "
                                        r"clone$"):
        run_jobs([Job("a", square_slowly, {"x": 1})], executor="ray")


@pytest.mark.parametrize(("settings", "message"), [
    ({"kind": "dask"}, "unknown executor 'dask'"),
    ({"address": "auto"}, "need --executor ray"),
    ({"shared_fs": False}, "need --executor ray"),
    ({"kind": "ray", "max_retries": -1}, "max_retries"),
])
def test_bad_executor_settings(settings, message):
    with pytest.raises(UserError, match=message):
        Executor(**settings)


def test_session_needs_nothing_locally_and_ray_when_asked_for(monkeypatch):
    with session(None), session(Executor()):
        assert run_jobs([Job("a", square_slowly, {"x": 2})], log=lambda _: None)[0][0] == 4
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(UserError, match="needs Ray"), session(Executor("ray")):
        pass


def test_local_executor_by_name_or_settings():
    jobs = [Job(f"job{i}", square_slowly, {"x": i}) for i in range(3)]
    assert [r[0] for r in run_jobs(jobs, executor="local", log=lambda _: None)] == [0, 1, 4]
    assert [r[0] for r in run_jobs(jobs, executor=Executor(), log=lambda _: None)] == [0, 1, 4]


def run(jobs, settings, n_jobs, log):
    """A back end for the test below: every job inline, its result tagged with the back end's kind."""
    return [(settings.kind, job.fn(**job.kwargs)) for job in jobs]


def test_a_back_end_is_one_module_named_in_runners(monkeypatch):
    monkeypatch.setitem(RUNNERS, "inline", __name__)  # this test module provides run()
    results = run_jobs([Job("a", square_slowly, {"x": 3})], executor="inline")
    assert results[0][0] == "inline" and results[0][1][0] == 9
    with session(Executor("inline")):  # no hold(): nothing to keep open
        pass


def test_every_back_end_is_a_module_of_the_package_with_run():
    for kind, module in RUNNERS.items():
        assert module.startswith("multimnist.executor.") and callable(runner(kind).run), kind


def test_importing_the_executor_does_not_import_ray():
    code = "import sys, multimnist.executor, multimnist.executor.ray; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_thread_env_pins_one_cpu_jobs_to_one_thread():
    env = thread_env(1)
    assert env["OMP_NUM_THREADS"] == "1" and "--xla_cpu_multi_thread_eigen=false" in env["XLA_FLAGS"]
    assert thread_env(3)["OMP_NUM_THREADS"] == "3" and thread_env(0.5)["OMP_NUM_THREADS"] == "1"


def test_folder_round_trip_writes_markers_last_and_drops_stale_files(tmp_path, monkeypatch):
    src = tmp_path / "src"
    (src / "backup").mkdir(parents=True)
    (src / "backup" / "state").write_bytes(b"epoch 3")
    (src / "history.csv").write_text("epoch\n0\n")
    files = read_folder(src)
    assert files == {"backup/state": b"epoch 3", "history.csv": b"epoch\n0\n"}
    assert read_folder(tmp_path / "none") == {}

    dst = tmp_path / "dst"
    write_folder(dst, files)
    assert read_folder(dst) == files
    written = []
    monkeypatch.setattr("multimnist.executor.staging.write_bytes", lambda path, data: written.append(Path(path).name)
                        or Path(path).parent.mkdir(parents=True, exist_ok=True) or Path(path).write_bytes(data))
    finished = {"metrics.json": b"{}", "history.csv": b"epoch\n0\n1\n", "model.keras": b"zip"}
    write_folder(dst, finished)  # the finished run: backup/ is gone, metrics.json written last
    assert written[-1] == "metrics.json" and read_folder(dst) == finished
    assert not (dst / "backup").exists()
    write_folder(dst, {})  # a job that left nothing does not wipe what the driver holds
    assert read_folder(dst) == finished


def test_worker_paths_are_mapped_back():
    to_driver = {"/tmp/w/out0/seed-0": "runs/seed-0", "/tmp/w/data": "data"}
    result = {"data": {"path": "/tmp/w/data"}, "runs": ["/tmp/w/out0/seed-0/model.keras"], "n": 3}
    assert map_paths(result, to_driver) == {"data": {"path": "data"}, "runs": ["runs/seed-0/model.keras"], "n": 3}
    files = map_files({"metrics.json": b'{"path": "/tmp/w/data"}', "model.keras": b"/tmp/w/data"}, to_driver)
    assert files == {"metrics.json": b'{"path": "data"}', "model.keras": b"/tmp/w/data"}  # binary files untouched


def test_worker_rebuilds_the_dataset_and_checks_its_hash(small_dataset, small_dataset_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MULTIMNIST_CACHE", str(tmp_path / "cache"))
    ds = small_dataset
    digest = sha256_arrays(ds.x_train, ds.y_train, ds.x_test, ds.y_test)
    source = describe_input(small_dataset_dir)  # a recipe: no files travel
    assert source == {"sha256": digest, "meta": json.loads((small_dataset_dir / "meta.json").read_text())}
    folder = materialize(source)
    rebuilt = read_dataset(folder)
    assert sha256_arrays(rebuilt.x_train, rebuilt.y_train, rebuilt.x_test, rebuilt.y_test) == digest
    assert materialize(source) == folder  # once per node
    with pytest.raises(UserError, match="differs from the driver's"):
        materialize({"sha256": "0" * 64, "meta": source["meta"]})


def test_cli_ray_options_without_ray_and_without_ray_executor(small_dataset_dir, tmp_path, monkeypatch, capsys):
    from multimnist.cli import main

    sweep = ["sweep", "compression", "--factors", "20", "--epochs", "1", "--data", str(small_dataset_dir)]
    assert main([*sweep, "--out", str(tmp_path / "a"), "--address", "auto"]) != 0
    assert capsys.readouterr().err.strip().splitlines()[-1] == \
        "multimnist: error: --address and --no-shared-fs need --executor ray"
    monkeypatch.setitem(sys.modules, "ray", None)
    assert main([*sweep, "--out", str(tmp_path / "b"), "--executor", "ray"]) != 0
    assert capsys.readouterr().err.strip().splitlines()[-1] == \
        "multimnist: error: the Ray back end needs Ray: pip install -e '.[ray]' in the multimnist clone"
    assert not (tmp_path / "b" / "cf-20").exists()  # nothing trained


def test_ctrl_c_stops_parallel_jobs_at_once(tmp_path):
    """Ctrl-C (SIGINT to the parent) ends the running workers and drops the queued jobs, instead of waiting
    for every queued job as a plain ProcessPoolExecutor shutdown would."""
    script = tmp_path / "jobs.py"
    script.write_text("import os, signal, sys, time\n"
                      "from pathlib import Path\n"
                      "from multimnist.executor import Job, run_jobs\n\n"
                      "def nap(seconds, marker):\n"
                      "    Path(marker).write_text(str(os.getpid()))\n"
                      "    time.sleep(seconds)\n\n"
                      "if __name__ == '__main__':\n"
                      "    signal.signal(signal.SIGINT, signal.default_int_handler)  # as on a terminal\n"
                      "    run_jobs([Job(f'j{i}', nap, {'seconds': 60, 'marker': f'{sys.argv[1]}/started-{i}'})\n"
                      "              for i in range(4)], n_jobs=2)\n")
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path)], stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while len(list(tmp_path.glob("started-*"))) < 2 and time.time() < deadline:
        time.sleep(0.1)  # until both workers run their first job
    assert len(list(tmp_path.glob("started-*"))) == 2
    proc.send_signal(signal.SIGINT)
    start = time.time()
    proc.wait(timeout=30)
    assert proc.returncode != 0 and time.time() - start < 20
    assert "KeyboardInterrupt" in proc.stderr.read().decode()
    assert len(list(tmp_path.glob("started-*"))) == 2  # the queued jobs never started


@pytest.mark.slow  # its subject is a killed parent process and its spawned workers
def test_workers_end_when_their_parent_is_killed(tmp_path):
    """A parent killed outright (SIGKILL, or a plain SIGTERM) cannot stop its workers: they notice and exit,
    instead of training on into run folders that a rerun of the same command writes too."""
    script = tmp_path / "jobs.py"
    script.write_text("import os, sys, time\n"
                      "from pathlib import Path\n"
                      "from multimnist.executor import Job, run_jobs\n\n"
                      "def nap(seconds, marker):\n"
                      "    Path(marker).write_text(str(os.getpid()))\n"
                      "    time.sleep(seconds)\n\n"
                      "if __name__ == '__main__':\n"
                      "    run_jobs([Job(f'j{i}', nap, {'seconds': 120, 'marker': f'{sys.argv[1]}/started-{i}'})\n"
                      "              for i in range(2)], n_jobs=2)\n")
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path)])
    deadline = time.time() + 60
    while len(list(tmp_path.glob("started-*"))) < 2 and time.time() < deadline:
        time.sleep(0.1)
    workers = [int(p.read_text()) for p in tmp_path.glob("started-*")]
    assert len(workers) == 2
    proc.kill()
    proc.wait()
    deadline = time.time() + 20
    while any(_alive(pid) for pid in workers) and time.time() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie (exited, not yet reaped) counts as gone
        return f.read().split(")")[-1].split()[0] != "Z"
