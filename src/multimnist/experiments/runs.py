"""The run protocol every model kind follows, written once: open the run folders, keep the finished runs, cut the
rest into packs once, train each pack (as a job, where the executor says), record the metrics and finish the runs.

A model kind (classifier, autoencoder, reader) is a `Kind`: how its config loads, what its networks may vary within
one pack, and how one pack is built, trained and evaluated. Its module declares one and calls `run` or `train`:

    run(CLASSIFIER, [cfg_a, cfg_b], "data/", [Path("runs/a"), Path("runs/b")], n_jobs=2)

Configs travel as the dataclass objects they were loaded as (a job carries them to its worker); a run folder's
saved config.yaml is read back only to tell whether the folder holds this very run (training/run.py's open_run).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, is_dataclass
from pathlib import Path
from typing import Any

from multimnist.config import to_dict
from multimnist.data import Dataset
from multimnist.executor import Executor, Job, run_jobs
from multimnist.training.pack import default_pack_size, group_packs, pack_key
from multimnist.training.run import dataset_fingerprint, finish_run, open_run, versions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kind:
    """What the run protocol needs to know of one model kind. Every field is a module-level function (or data),
    so that a job can carry its kind to another process."""

    name: str  # "classifier": in log lines
    load: Callable[..., Any]  # load(config, overrides=(), seed=None, epochs=None) -> the kind's config dataclass
    train: Callable[[list, Dataset | None, list[Path]], list[dict]]  # build, train, evaluate one pack: its metrics
    per_network: tuple[str, ...] = ()  # model settings the pack trainer takes network by network (l1, l2, ...)
    pack_extra: Callable[[Any], dict] | None = None  # what else keeps configs apart (None: nothing)
    refresh: Callable[[Path, dict, Dataset, Any], dict] | None = None  # a finished run's metrics, brought up to date
    uses_data: bool = True  # False: the kind makes its own data (the reader's 00..99, in its run folder)

    def key(self, cfg) -> str:
        """Configs with equal keys may train in one pack (training/pack.py's pack_key decides)."""
        return pack_key(to_dict(cfg.model), cfg.training, self.per_network,
                        self.pack_extra(cfg) if self.pack_extra else None)

    def reload(self, path: Path):
        """A run folder's saved config.yaml as this kind's config, its seed as saved."""
        return self.load(path, seed=None)


def run(kind: Kind, cfgs: Sequence, data, out: Sequence[str | Path], n_jobs: int = 1,
        executor: Executor | None = None, replace: bool = False, pack: int | None = None) -> list[dict]:
    """Train config i into run folder out[i] (or keep it, or resume it): the configs cut into packs of at most
    `pack` networks (None: by device) of equal keys, each pack one job; each run's metrics, in the order of `cfgs`.

    `replace`: a folder holding a run of another config (or data) is replaced, not refused (see open_run)."""
    cfgs = list(cfgs)
    source = data if data is None or isinstance(data, Dataset) else str(data)
    packs = group_packs(range(len(cfgs)), lambda i: kind.key(cfgs[i]), pack or default_pack_size())
    jobs = [Job(pack_name([cfgs[i] for i in p]), train,
                {"kind": kind, "configs": [cfgs[i] for i in p], "data": source, "out": [str(out[i]) for i in p],
                 "replace": replace})
            for p in packs]
    results: list = [None] * len(cfgs)
    for indices, metrics in zip(packs, run_jobs(jobs, n_jobs, executor=executor), strict=True):
        for i, m in zip(indices, metrics, strict=True):
            results[i] = m
    return results


def train(kind: Kind, configs: Sequence, data, out: Sequence[str | Path], replace: bool = False) -> list[dict]:
    """In this process: each config's run folder opened, the finished runs kept, the others (one pack: their keys
    must be equal) trained together, each finished with its metrics; the metrics in the order of `configs`.

    `configs`: the kind's config objects, or anything its `load` takes (a name, a path, a mapping)."""
    cfgs = [c if is_dataclass(c) else kind.load(c) for c in configs]  # objects as they come
    ds, fingerprint = dataset_fingerprint(data) if kind.uses_data else (None, None)
    results: list[dict | None] = [None] * len(cfgs)
    pending = []
    for i, (cfg, folder) in enumerate(zip(cfgs, out, strict=True)):
        finished = open_run(folder, cfg, kind.reload, fingerprint["sha256"] if fingerprint else None, replace)
        if finished is None:
            pending.append(i)
        else:
            results[i] = kind.refresh(Path(folder), finished, ds, cfg) if kind.refresh else finished
    if not pending:
        return results
    keys = {kind.key(cfgs[i]) for i in pending}
    if len(keys) > 1:
        raise ValueError(f"{kind.name} runs of {len(keys)} pack keys given as one pack: cut packs with run()")
    trained = kind.train([cfgs[i] for i in pending], ds, [Path(out[i]) for i in pending])
    for i, metrics in zip(pending, trained, strict=True):
        metrics.update(versions=versions(), config=to_dict(cfgs[i]))
        if fingerprint is not None:
            metrics.update(data=fingerprint)
        results[i] = finish_run(out[i], metrics)
    return results


def pack_name(cfgs: Sequence) -> str:
    """A pack's name in progress lines: its runs, seeds of one config together (a/seed-0,1,2, b/seed-1)."""
    seeds: dict[str, list[int]] = {}
    for c in cfgs:
        seeds.setdefault(c.name, []).append(c.seed)
    return ", ".join(f"{n}/seed-{s[0]}" if len(s) == 1 else f"{n}/seed-{','.join(map(str, s))}"
                     for n, s in seeds.items())
