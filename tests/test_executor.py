"""run_jobs: results come back in job order, sequentially or in worker processes; errors propagate."""

from __future__ import annotations

import os
import time

from multimnist.executor import Job, run_jobs

import pytest


def square_slowly(x: int, delay: float = 0.0) -> tuple[int, int]:
    """Module-level, so spawned workers can import it."""
    time.sleep(delay)
    return x * x, os.getpid()


def fail(message: str):
    raise ValueError(message)


def test_sequential_in_order():
    lines = []
    jobs = [Job(f"job{i}", square_slowly, {"x": i}) for i in range(4)]
    results = run_jobs(jobs, n_jobs=1, log=lines.append)
    assert [r[0] for r in results] == [0, 1, 4, 9]
    assert {r[1] for r in results} == {os.getpid()}
    assert lines == ["[1/4] job0", "[2/4] job1", "[3/4] job2", "[4/4] job3"]


def test_parallel_in_job_order_even_when_finishing_out_of_order():
    lines = []
    # The first job is the slowest: it normally finishes last, yet its result comes first.
    jobs = [Job("slow", square_slowly, {"x": 3, "delay": 1.0}), Job("fast", square_slowly, {"x": 5}),
            Job("fast2", square_slowly, {"x": 7})]
    results = run_jobs(jobs, n_jobs=2, log=lines.append)
    assert [r[0] for r in results] == [9, 25, 49]
    assert os.getpid() not in {r[1] for r in results}  # ran in worker processes
    assert sorted(line.split()[1] for line in lines) == ["fast", "fast2", "slow"]  # "[k/3] NAME done (t s)"


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
