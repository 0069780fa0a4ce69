"""Experiment configs: small YAML files that override dataclass defaults.

A config is named (a built-in file in multimnist/configs/, e.g. `unregularized`) or given as a path. Its
nested mappings fill nested dataclasses; unknown keys are errors, not silently ignored, and every value is
checked against its field's type (`batch_size: 1.5` is one line naming the setting, not a traceback later).
`--set key=value` overrides (dotted keys, YAML values: `--set training.epochs=5 --set model.dropout=[0.1,0.1]`)
apply last.
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
        _put(data, key, value)
    return data


def _put(data: dict, key: str, value: Any) -> None:
    """Set the setting named by the dotted `key` in `data`, making the groups on the way."""
    node = data
    *parents, leaf = key.split(".")
    for p in parents:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise UserError(f"--set {key}: {p} is not a group of settings")
    node[leaf] = value


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
        else:
            value = checked(value, hints[key], f"{where}.{key}")
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


class _Mismatch(Exception):
    """A value that does not fit a type hint (internal: becomes one UserError naming the setting)."""


def checked(value: Any, hint: Any, where: str) -> Any:
    """`value` as a field typed `hint` takes it (ints as floats, lists as tuples), or a UserError naming `where`.

    Checks int, float, bool, str, None, unions, tuples, lists, mappings and Literal; other hints pass values through.
    """
    try:
        return _fit(value, hint)
    except _Mismatch:
        raise UserError(f"{where}: expected {_describe(hint)}, got {value!r}") from None


def _fit(value: Any, hint: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is type(None) or hint is None:
        if value is None:
            return None
    elif origin in (typing.Union, types.UnionType):
        for arg in sorted(args, key=lambda a: a is not type(None)):  # None first: null never becomes "None"
            try:
                return _fit(value, arg)
            except _Mismatch:
                continue
    elif origin is typing.Literal:
        if value in args:
            return value
    elif hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML reads 1e-3 (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
    elif hint is str:
        if isinstance(value, str):
            return value
    elif hint in (tuple, list) or origin in (tuple, list):
        if isinstance(value, (list, tuple)):
            if origin is tuple and args and args[-1] is not Ellipsis:
                if len(value) != len(args):
                    raise _Mismatch
                return tuple(_fit(v, a) for v, a in zip(value, args, strict=True))
            items = [_fit(v, args[0]) for v in value] if args else list(value)
            return tuple(items) if tuple in (hint, origin) else items
    elif hint is dict or origin is dict:
        if isinstance(value, dict):
            return value
    elif dataclasses.is_dataclass(hint):
        pass  # a dataclass field given something other than a mapping
    else:
        return value  # a hint this check does not know: the dataclass validates it
    raise _Mismatch


def _describe(hint: Any) -> str:
    """A type hint in words: 'an integer', 'a list of numbers', 'a number or a list of numbers'."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is type(None) or hint is None:
        return "null"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args)
    if origin is typing.Literal:
        return "one of " + ", ".join(map(repr, args))
    if origin is tuple and args and args[-1] is not Ellipsis:
        return f"a list of {len(args)} values ({', '.join(_describe(a) for a in args)})"
    if hint in (tuple, list) or origin in (tuple, list):
        return f"a list of {_plural(args[0])}" if args else "a list"
    if dataclasses.is_dataclass(hint):
        return "a group of settings"
    return {bool: "true or false", int: "an integer", float: "a number", str: "text", dict: "a mapping"}.get(
        hint, getattr(hint, "__name__", str(hint)))


def _plural(hint: Any) -> str:
    return {int: "integers", float: "numbers", str: "texts", bool: "true/false values"}.get(hint, _describe(hint))


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
    data = apply_overrides(data, overrides)
    for key, value in (("seed", seed), ("training.epochs", epochs)):
        if value is not None:  # a value, set as it is: from_dict checks its type like any other setting's
            _put(data, key, value)
    cfg = from_dict(cls, data, name)
    cfg.name = cfg.name or name
    return cfg
