"""Files for jobs that run where the driver's folders are not: run folders as bytes, datasets, path mapping.

Needs no Ray: the Ray back end (`ray.py`) ships what these functions read and calls them on its workers.

- Driver: `describe_input` says how a worker gets a dataset folder (rebuilt from its recipe, or its files);
  `read_folder` takes what an output folder already holds, so a rerun resumes; `write_folder` writes a
  finished folder back atomically, its completion marker (metrics.json, meta.json, fidelity.json) last.
- Worker: `materialize` makes the dataset folder on the node once; `run_in_scratch` runs a job on local
  folders and returns its result and files with worker paths mapped back to the driver's (`map_paths`).
- Shared file system: `enter_driver_cwd` makes relative paths mean what they mean on the driver.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from multimnist.data import ensure_dataset, read_dataset
from multimnist.data.store import recipe
from multimnist.datasets import cache_root
from multimnist.errors import UserError
from multimnist.files import sha256_arrays, write_bytes
from multimnist.layout import DATA_META, METRICS

log = logging.getLogger(__name__)

MARKERS = (METRICS, DATA_META, "fidelity.json")  # written last: each marks its folder complete
TEXT_SUFFIXES = (".json", ".yaml", ".yml", ".csv", ".md", ".txt", ".html")  # where worker paths are mapped back
DATA_CACHE = "ray-data"  # under the multimnist cache folder of each worker node: datasets rebuilt there


# --- run folders as bytes ---

def read_folder(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by its relative path ({} if there is no folder)."""
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def write_folder(folder: str | os.PathLike, files: dict[str, bytes]) -> None:
    """Make `folder` hold exactly `files`: each written atomically, stale files removed, markers last."""

    folder = Path(folder)
    if not files:  # the job left nothing there: nothing to replace what the driver holds
        return
    last = [name for name in files if Path(name).name in MARKERS]
    for name in [n for n in files if n not in last] + last:
        if name in last:  # before the marker goes in, nothing stale may remain
            _remove_stale(folder, set(files))
        write_bytes(folder / name, files[name])
    _remove_stale(folder, set(files))


def _remove_stale(folder: Path, keep: set[str]) -> None:
    if not folder.is_dir():
        return
    for p in sorted(folder.rglob("*"), reverse=True):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and rel not in keep:
            p.unlink()
        elif p.is_dir() and not any(p.iterdir()):
            p.rmdir()


# --- datasets: described on the driver, made on the worker ---

def _inline(files: dict[str, bytes]) -> dict[str, bytes]:
    return files


def describe_input(path: Path, put: Callable[[dict[str, bytes]], Any] = _inline) -> dict:
    """How a worker gets the dataset folder `path`: rebuilt from its recipe (meta.json) and checked against the
    hash of the driver's arrays, or, without a recipe it can follow, its files, handed to `put` (Ray's object
    store; by default they travel inline)."""

    ds = read_dataset(path)
    digest = sha256_arrays(ds.x_train, ds.y_train, ds.x_test, ds.y_test)
    meta = ds.meta
    if meta.get("generator") is not None and "seed" in meta and meta.get("mnist", {}).get("source") == "vendored":
        return {"sha256": digest, "meta": meta}
    log.info("%s has no recipe a worker can follow (vendored MNIST, generator, seed): its files travel", path)
    return {"sha256": digest, "files": put(read_folder(path))}


def materialize(source: dict) -> Path:
    """The dataset folder of `source` (from `describe_input`, files already fetched) on this node: made once
    per node into the multimnist cache, from the driver's files or rebuilt from the recipe and checked against
    the driver's hash. The one place a worker makes a dataset."""

    folder = cache_root() / DATA_CACHE / source["sha256"][:32]
    if "files" not in source:  # a recipe: the dataset store makes it (once, under its lock) or finds it there
        config, seed = recipe(source["meta"])
        ds = ensure_dataset(folder, config, seed, replace=True).dataset
        digest = sha256_arrays(ds.x_train, ds.y_train, ds.x_test, ds.y_test)
        if digest != source["sha256"]:
            shutil.rmtree(folder, ignore_errors=True)
            raise UserError(f"the dataset rebuilt on Ray node {socket.gethostname()} differs from the driver's "
                            f"(hash {digest[:12]}, expected {source['sha256'][:12]}): install the same multimnist "
                            "and numpy on every node")
        return folder
    if (folder / DATA_META).is_file():  # written last: its presence marks a complete dataset
        return folder
    build = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(build, ignore_errors=True)
    write_folder(build, source["files"])
    try:
        os.replace(build, folder)
    except OSError:  # another worker of this node finished it first
        shutil.rmtree(build, ignore_errors=True)
    return folder


# --- running a job on the worker ---

def run_in_scratch(fn: Callable[..., Any], kwargs: dict, inputs: dict[str, Path],
                   outputs: dict[str, dict[str, bytes]]) -> tuple[Any, dict[str, dict[str, bytes]]]:
    """Run `fn(**kwargs)` with the folders of this node instead of the driver's: each input key on its local
    folder (`inputs`), each output key on a temporary folder seeded with `outputs[key]` (what the driver holds,
    so a rerun resumes). Returns the result and every output folder's files, worker paths mapped back."""
    work = Path(tempfile.mkdtemp(prefix="multimnist-job-"))
    try:
        local, to_driver = dict(kwargs), {}
        for key, folder in inputs.items():
            local[key] = str(folder)
            to_driver[local[key]] = str(kwargs[key])
        for i, (key, files) in enumerate(outputs.items()):
            if isinstance(files, list):  # a pack's run folders, one each
                local[key] = [_seeded(work / f"out{i}-{j}", path, one, to_driver)
                              for j, (path, one) in enumerate(zip(kwargs[key], files, strict=True))]
            else:
                local[key] = _seeded(work / f"out{i}", kwargs[key], files, to_driver)
        result = fn(**local)
        back = {key: [map_files(read_folder(Path(p)), to_driver) for p in local[key]] if isinstance(local[key], list)
                else map_files(read_folder(Path(local[key])), to_driver) for key in outputs}
        return map_paths(result, to_driver), back
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _seeded(scratch: Path, driver_path, files: dict[str, bytes], to_driver: dict[str, str]) -> str:
    """A worker folder for the driver's output folder `driver_path`, holding what the driver holds (`files`)."""
    folder = scratch / (Path(driver_path).name or "out")
    write_folder(folder, files)
    to_driver[str(folder)] = str(driver_path)
    return str(folder)


def enter_driver_cwd(kwargs: dict, plan: dict) -> None:
    """Relative paths mean what they mean on the driver; a path this node cannot see is one clear error."""
    if os.path.isdir(plan["cwd"]):
        os.chdir(plan["cwd"])
    for key in plan["inputs"]:
        path = kwargs.get(key)
        if isinstance(path, (str, os.PathLike)) and not os.path.exists(path):
            raise UserError(f"{path} is not reachable from Ray node {socket.gethostname()} (the driver runs on "
                            f"{plan['node']}): put the output folder on a shared file system or pass --no-shared-fs")


# --- paths: worker folders named in results and text files become the driver's ---

def map_files(files: dict[str, bytes], to_driver: dict[str, str]) -> dict[str, bytes]:
    """`files` with worker paths in the text ones (TEXT_SUFFIXES) replaced by the driver's; binaries as they are."""
    out = {}
    for name, data in files.items():
        if name.endswith(TEXT_SUFFIXES):
            try:
                data = map_paths(data.decode("utf-8"), to_driver).encode("utf-8")
            except UnicodeDecodeError:
                pass
        out[name] = data
    return out


def map_paths(value, to_driver: dict[str, str]):
    """Worker folders named in `value` (strings within dicts, lists, tuples) replaced by the driver's."""
    if isinstance(value, str):
        for local in sorted(to_driver, key=len, reverse=True):
            value = value.replace(local, to_driver[local])
        return value
    if isinstance(value, dict):
        return {k: map_paths(v, to_driver) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(map_paths(v, to_driver) for v in value)
    return value
