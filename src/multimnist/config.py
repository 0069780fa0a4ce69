"""Experiment configs: small YAML files that override dataclass defaults.

A config is named (a built-in file in multimnist/configs/, e.g. `unregularized`) or given as a path. Its
nested mappings fill nested dataclasses; unknown keys are errors, not silently ignored. `--set key=value`
overrides (dotted keys, YAML values: `--set training.epochs=5 --set model.dropout=[0.1,0.1]`) apply last.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from multimnist.errors import UserError

import yaml

T = TypeVar("T")


def builtin_configs() -> list[str]:
    """Names of the config files shipped in multimnist/configs/."""
    folder = resources.files("multimnist") / "configs"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def read_config(name_or_path: str | Path) -> tuple[str, dict]:
    """(name, mapping) for a built-in config name or a YAML file path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise UserError(f"config file not found: {path}")
        name, text = path.stem, path.read_text()
    else:
        ref = resources.files("multimnist") / "configs" / f"{name_or_path}.yaml"
        if not ref.is_file():
            raise UserError(f"no built-in config {name_or_path!r}; built-in: {', '.join(builtin_configs())}")
        name, text = str(name_or_path), ref.read_text()
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise UserError(f"config {name_or_path} is not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise UserError(f"config {name_or_path} must be a mapping of settings")
    return name, data


def apply_overrides(data: dict, overrides: list[str] | tuple[str, ...]) -> dict:
    """Return a copy of `data` with each 'dotted.key=yaml value' applied."""
    data = _deepcopy(data)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UserError(f"--set expects key=value, got {item!r}")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            raise UserError(f"--set {key}: cannot read value {raw!r}") from None
        node = data
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise UserError(f"--set {key}: {p} is not a group of settings")
        node[leaf] = value
    return data


def from_dict(cls: type[T], data: dict | None, where: str = "config") -> T:
    """Build dataclass `cls` from a mapping, recursing into dataclass-typed fields; unknown keys are errors.

    A dataclass may list renamed settings as a class attribute `RENAMED = {old: new}`.
    """
    data = dict(data or {})
    for old, new in getattr(cls, "RENAMED", {}).items():  # settings saved under an earlier name still load
        if old in data and new not in data:
            data[new] = data.pop(old)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise UserError(f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(fields)}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in data.items():
        sub = _dataclass_in(hints[key])
        if sub is not None and isinstance(value, dict):
            value = from_dict(sub, value, f"{where}.{key}")
        elif isinstance(value, str) and _accepts_float(hints[key]):
            value = _float(value, f"{where}.{key}")  # YAML reads 1e-3 (no dot) as a string
        kwargs[key] = value
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise UserError(f"{where}: {e}") from None


def to_dict(obj: Any) -> Any:
    """Dataclasses (nested) -> plain mappings, tuples -> lists: what config.yaml stores."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def _dataclass_in(hint) -> type | None:
    """The dataclass inside a hint like `X`, `X | None` or `Optional[X]`, if any."""
    if dataclasses.is_dataclass(hint):
        return hint
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            if dataclasses.is_dataclass(arg):
                return arg
    return None


def _accepts_float(hint) -> bool:
    """Whether a field typed `hint` takes a float (float, float | None, float | tuple...)."""
    return hint is float or float in typing.get_args(hint)


def _float(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UserError(f"{where}: expected a number, got {text!r}") from None


def _deepcopy(data):
    if isinstance(data, dict):
        return {k: _deepcopy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deepcopy(v) for v in data]
    return data


def kind_config(config: Any, kind: str) -> tuple[str, dict]:
    """(name, settings) of a config given as a name, a path, a mapping or a dataclass, without its `kind:` key.

    A config file whose `kind` is another (e.g. a classifier config passed to `train autoencoder`) is refused.
    """
    if isinstance(config, dict):
        name, data = config.get("name") or "custom", config
    elif dataclasses.is_dataclass(config):
        name, data = getattr(config, "name", "custom"), to_dict(config)
    else:
        name, data = read_config(config)
    data = dict(data)
    found = data.pop("kind", kind)
    if found != kind:
        raise UserError(f"config {name!r} is a {found} config, not a {kind} config")
    return name, data


def load_experiment(cls: type[T], kind: str, config: Any, overrides=(), seed: int | None = None,
                    epochs: int | None = None) -> T:
    """An experiment config of `kind` (built-in name, YAML path, mapping or dataclass), then `overrides`.

    `seed` and `epochs`, when given, replace the config's own (`seed`, `training.epochs`); an empty `name`
    becomes the config's file name.
    """
    name, data = kind_config(config, kind)
    extra = [f"seed={seed}"] if seed is not None else []
    extra += [f"training.epochs={epochs}"] if epochs is not None else []
    cfg = from_dict(cls, apply_overrides(data, [*overrides, *extra]), name)
    cfg.name = cfg.name or name
    return cfg
