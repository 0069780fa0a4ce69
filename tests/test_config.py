"""Config files into nested dataclasses: dotted overrides, unknown keys refused, validation as UserError."""

from __future__ import annotations

from dataclasses import dataclass, field

from multimnist.config import apply_overrides, from_dict, load_experiment, read_config, to_dict
from multimnist.errors import UserError

import pytest


@dataclass
class Optimizer:
    name: str = "adam"
    lr: float = 1e-3

    def __post_init__(self):
        if self.lr <= 0:
            raise ValueError(f"learning rate must be positive, got {self.lr}")


@dataclass
class Experiment:
    name: str = "base"
    layers: tuple[int, ...] = (80, 70)
    optimizer: Optimizer = field(default_factory=Optimizer)
    fallback: Optimizer | None = None


@dataclass
class Training:
    epochs: int = 50


@dataclass
class Run:
    name: str = ""
    seed: int = 0
    training: Training = field(default_factory=Training)


def test_load_experiment_sets_seed_and_epochs_as_values_after_the_overrides():
    config = {"kind": "run", "name": "r", "training": {"epochs": 9}}
    run = load_experiment(Run, "run", config, ["seed=1", "training.epochs=2"], seed=7, epochs=3)
    assert run == Run("r", 7, Training(3))
    assert load_experiment(Run, "run", config, ["seed=1"]) == Run("r", 1, Training(9))
    assert config == {"kind": "run", "name": "r", "training": {"epochs": 9}}  # the caller's mapping is untouched
    with pytest.raises(UserError, match="seed"):
        load_experiment(Run, "run", config, seed="7")  # a value is checked, not parsed


def test_from_dict_fills_nested_dataclasses():
    exp = from_dict(Experiment, {"name": "dropout", "optimizer": {"lr": 0.01}, "fallback": {"name": "sgd"}})
    assert exp.name == "dropout" and exp.layers == (80, 70)
    assert isinstance(exp.optimizer, Optimizer) and exp.optimizer == Optimizer("adam", 0.01)
    assert isinstance(exp.fallback, Optimizer) and exp.fallback.name == "sgd"
    assert from_dict(Experiment, None) == Experiment()


def test_from_dict_rejects_unknown_keys():
    with pytest.raises(UserError, match="config: unknown setting.* epochs"):
        from_dict(Experiment, {"epochs": 5})
    with pytest.raises(UserError, match=r"config\.optimizer: unknown setting.* momentum"):
        from_dict(Experiment, {"optimizer": {"momentum": 0.9}})


def test_from_dict_validation_becomes_user_error():
    with pytest.raises(UserError, match="optimizer: learning rate must be positive"):
        from_dict(Experiment, {"optimizer": {"lr": -1}})


def test_apply_overrides_dotted_keys_and_yaml_values():
    base = {"name": "base", "optimizer": {"lr": 0.001}}
    out = apply_overrides(base, ["optimizer.lr=0.01", "layers=[10, 20]", "name=dropout", "model.dropout=0.5",
                                 "flag=true", "model.units=80"])
    assert out == {"name": "dropout", "optimizer": {"lr": 0.01}, "layers": [10, 20],
                   "model": {"dropout": 0.5, "units": 80}, "flag": True}
    assert base == {"name": "base", "optimizer": {"lr": 0.001}}  # the input is not changed


def test_overrides_into_dataclass_read_exponents_as_numbers():
    """YAML 1.1 reads 1e-2 (no dot) as a string; a float field still gets the number."""
    data = apply_overrides({"name": "base"}, ["optimizer.lr=1e-2", "layers=[10, 20]"])
    exp = from_dict(Experiment, data)
    assert exp.optimizer.lr == 0.01 and isinstance(exp.optimizer.lr, float) and exp.layers == (10, 20)
    with pytest.raises(UserError, match="optimizer.lr"):
        from_dict(Experiment, apply_overrides({}, ["optimizer.lr=fast"]))


@pytest.mark.parametrize(
    "override, message",
    [("no-equals-sign", "key=value"), ("=5", "key=value"), ("name.sub=1", "name is not a group"),
     ("x=[1, 2", "cannot read value")],
)
def test_apply_overrides_errors(override, message):
    with pytest.raises(UserError, match=message):
        apply_overrides({"name": "base"}, [override])


def test_to_dict_round_trip():
    exp = Experiment(layers=(5, 6), fallback=Optimizer("sgd", 0.1))
    data = to_dict(exp)
    assert data == {"name": "base", "layers": [5, 6], "optimizer": {"name": "adam", "lr": 0.001},
                    "fallback": {"name": "sgd", "lr": 0.1}}
    assert from_dict(Experiment, data).fallback == exp.fallback


def test_read_config_file(tmp_path):
    (tmp_path / "mine.yaml").write_text("name: mine\noptimizer:\n  lr: 0.5\n")
    name, data = read_config(tmp_path / "mine.yaml")
    assert name == "mine" and data == {"name": "mine", "optimizer": {"lr": 0.5}}
    (tmp_path / "empty.yaml").write_text("")
    assert read_config(tmp_path / "empty.yaml") == ("empty", {})


@pytest.mark.parametrize(
    "text, message",
    [("name: [unclosed\n", "not valid YAML"), ("- a\n- b\n", "must be a mapping")],
)
def test_read_config_bad_files(tmp_path, text, message):
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(UserError, match=message):
        read_config(tmp_path / "bad.yaml")


def test_read_config_missing(tmp_path):
    with pytest.raises(UserError, match="config file not found"):
        read_config(tmp_path / "missing.yaml")
    with pytest.raises(UserError, match="no built-in config 'surely-not-a-config'"):
        read_config("surely-not-a-config")
