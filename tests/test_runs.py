"""The run protocol (experiments/runs.py), on a toy model kind: packs cut once by the kind's key, finished runs kept,
metrics recorded in one place, a folder of another config refused."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from multimnist.config import load_experiment
from multimnist.errors import UserError
from multimnist.experiments import runs
from multimnist.training.config import TrainConfig
from multimnist.training.run import start_run

import pytest


@dataclass
class ToyModel:
    width: int = 4
    l1: float = 0.0  # taken network by network, like a classifier's


@dataclass
class ToyConfig:
    name: str = "toy"
    seed: int = 0
    model: ToyModel = field(default_factory=ToyModel)
    training: TrainConfig = field(default_factory=TrainConfig)


def load_toy(config, overrides=(), seed=None, epochs=None) -> ToyConfig:
    return load_experiment(ToyConfig, "toy", config, overrides, seed, epochs)


TRAINED: list[list[tuple[str, int]]] = []  # each call of the kind's train: its runs


def train_toys(cfgs, data, out):
    TRAINED.append([(c.name, c.seed) for c in cfgs])
    for cfg, folder in zip(cfgs, out, strict=True):
        start_run(folder, cfg)
    return [{"name": c.name, "seed": c.seed, "pack_size": len(cfgs)} for c in cfgs]


TOY = runs.Kind("toy", load_toy, train_toys, per_network=("l1",), uses_data=False)


@pytest.fixture(autouse=True)
def _fresh():
    TRAINED.clear()


def _toys(*specs):
    """ToyConfigs from (name, seed, overrides)."""
    return [load_toy({"name": name}, overrides, seed=seed) for name, seed, overrides in specs]


def test_packs_are_cut_once_by_the_kinds_key(tmp_path):
    cfgs = _toys(*[("a", s, ["model.l1=0.001"] if s % 2 else []) for s in range(5)], ("wide", 0, ["model.width=8"]),
                 ("slow", 0, ["training.epochs=7"]))
    out = [tmp_path / c.name / f"seed-{c.seed}" for c in cfgs]
    metrics = runs.run(TOY, cfgs, None, out, pack=2)
    # L1 factors, seeds and epochs vary within a pack; the width keys its own; five at two a pack: 2, 2, 1
    assert TRAINED == [[("a", 0), ("a", 1)], [("a", 2), ("a", 3)], [("a", 4), ("slow", 0)], [("wide", 0)]]
    assert [(m["name"], m["seed"], m["pack_size"]) for m in metrics] == [
        ("a", 0, 2), ("a", 1, 2), ("a", 2, 2), ("a", 3, 2), ("a", 4, 2), ("wide", 0, 1), ("slow", 0, 2)]


def test_the_protocol_records_versions_and_config_and_keeps_finished_runs(tmp_path):
    cfgs = _toys(("a", 0, []), ("a", 1, []))
    out = [tmp_path / "a0", tmp_path / "a1"]
    runs.train(TOY, cfgs, None, out)
    saved = json.loads((out[1] / "metrics.json").read_text())
    assert saved["config"]["seed"] == 1 and saved["config"]["model"] == {"width": 4, "l1": 0.0}
    assert saved["versions"]["backend"] == "jax" and "data" not in saved  # the toy makes no use of data
    (out[0] / "metrics.json").unlink()  # unfinished: trained again, alone
    assert runs.train(TOY, cfgs, None, out)[1] == saved
    assert TRAINED == [[("a", 0), ("a", 1)], [("a", 0)]]


def test_one_pack_means_one_key_and_another_config_is_refused(tmp_path):
    with pytest.raises(ValueError, match="2 pack keys"):
        runs.train(TOY, _toys(("a", 0, []), ("b", 0, ["model.width=9"])), None, [tmp_path / "a", tmp_path / "b"])
    runs.train(TOY, _toys(("a", 0, [])), None, [tmp_path / "c"])
    with pytest.raises(UserError, match="holds a run of another config"):
        runs.train(TOY, _toys(("a", 0, ["model.width=9"])), None, [tmp_path / "c"])
    assert runs.train(TOY, _toys(("a", 0, ["model.width=9"])), None, [tmp_path / "c"], replace=True)[0]["seed"] == 0


def test_pack_names_group_the_seeds_of_a_config():
    assert runs.pack_name(_toys(("a", 0, []), ("a", 1, []), ("b", 3, []))) == "a/seed-0,1, b/seed-3"
