"""Runs grouped into packs (training/pack.py), each pack one job for the executor, results back in run order."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from multimnist.executor import Executor, Job, run_jobs
from multimnist.training.pack import default_pack_size, group_packs


def run_in_packs(cfgs: Sequence, key: Callable, job: Callable[[list[int]], Job], n_jobs: int = 1,
                 executor: Executor | None = None, pack: int | None = None) -> list:
    """Group `cfgs` by `key` into packs of at most `pack` (default: by device), run `job(indices)` for each
    pack, and return each config's result (the pack's job returns one per config) in the order of `cfgs`."""
    packs = group_packs(range(len(cfgs)), lambda i: key(cfgs[i]), pack or default_pack_size())
    results: list = [None] * len(cfgs)
    for indices, metrics in zip(packs, run_jobs([job(p) for p in packs], n_jobs, executor=executor), strict=True):
        for i, m in zip(indices, metrics, strict=True):
            results[i] = m
    return results
