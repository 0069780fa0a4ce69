"""Calibrating the generator to the study's learning curves (docs/calibration.md): score a dataset, search
a grid of generator settings, pick the closest.

Every score trains the study's unregularized network (configs/unregularized.yaml) once per calibration seed
and reads its curves with `evaluation.fidelity`. Calibration seeds (100-102) and the data seed (1000) are
used for nothing else, and test accuracy is never computed here: the choice is made on training and
validation figures only.

A search folder:

    OUT/search-config.json            train size, epochs and data seed: a rerun must use the same
    OUT/settings/ID/setting.json      the setting's knobs (ID: a hash of them)
    OUT/settings/ID/data/             its dataset (meta.json last: marks it complete)
    OUT/settings/ID/seed-S/           the training run; fidelity.json (written last, atomically) marks it done
    OUT/search.json, OUT/search.csv   one row per finished setting, best score first; search.json also keeps
                                      each run's per-epoch curves (`runs`), so a change of targets rescores
                                      without retraining (`rescore_rows`)

A rerun after a kill skips every finished dataset and (setting, seed); an unfinished run resumes from its
last finished epoch. Finished runs are always scored again from their stored history with today's targets.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from multimnist.data import ensure_dataset, read_dataset
from multimnist.data.config import KNOBS, GeneratorConfig, knobs
from multimnist.errors import UserError
from multimnist.evaluation.fidelity import TARGETS, fidelity, summarize
from multimnist.evaluation.noise import Welch, welch
from multimnist.executor import Executor, Job, run_jobs
from multimnist.experiments.classifier import classifier_task, load_classifier_config, seeded_classifier
from multimnist.files import finite, write_json, write_text
from multimnist.formatting import csv_text
from multimnist.layout import DATA_META, read_json
from multimnist.training.inference import accuracy
from multimnist.training.pack import Member, train_pack

log = logging.getLogger(__name__)

CALIBRATION_SEEDS = (100, 101, 102)  # training seeds used for calibration and nothing else
DATA_SEED = 1000  # the searched datasets' seed; the report's data uses seed 0
STUDY_NETWORK = "unregularized"  # the built-in config whose curves the study describes
EPOCHS = 50
FIDELITY, SETTING, SEARCH_CONFIG = "fidelity.json", "setting.json", "search-config.json"

# The built-in grid (52 settings): each block is expanded as a product; the union is searched. The one-seed
# probes in docs/notes/calibration.md say why: fewer source digits make the network memorize, vertical jitter moves
# the validation-loss minimum earlier, brighter digits buy back accuracy.
BUILTIN_GRID: list[dict[str, list]] = [
    {"intensity": [[0.05, 1.0], [0.3, 1.0], [0.5, 1.0]], "jitter": [0, 1, 2, 3], "train_pool": [None, 25_000]},
    {"offset_min": [8, 5], "intensity": [[0.05, 1.0], [0.3, 1.0]], "jitter": [0, 2]},
    {"train_pool": [15_000, 10_000], "intensity": [[0.05, 1.0], [0.3, 1.0]], "jitter": [0, 2]},
    {"blend": ["sum"], "intensity": [[0.05, 1.0], [0.3, 1.0]], "jitter": [0, 2]},
    {"intensity_mode": ["shared"], "intensity": [[0.05, 1.0], [0.3, 1.0]], "jitter": [0, 2]},
    {"intensity": [[0.01, 1.0], [0.15, 1.0]], "jitter": [0, 2]},
]


# --- one dataset, one seed: the only call into the training path -----------------------------------------------

def train_study_network(data: str | Path, run_dir: str | Path, seed: int, epochs: int = EPOCHS) -> dict:
    """Train the study's unregularized network on `data` in `run_dir`; its history and, measured after the
    last epoch in inference mode on the training split, its training accuracy. No test figure is computed."""

    cfg = load_classifier_config(STUDY_NETWORK, seed=seed, epochs=epochs)
    model, inputs = seeded_classifier(read_dataset(data), cfg)
    member = Member(model, inputs.x_fit, inputs.y_fit, inputs.arrays.x_val, inputs.arrays.y_val, cfg.training,
                    Path(run_dir), cfg.seed, f"calibration/seed-{seed}")
    result = train_pack([member], classifier_task(cfg.training.label_smoothing))[0]
    return {"history": result.history,
            "train_accuracy_evaluated": accuracy(model, inputs.arrays.x_train, inputs.arrays.y_train),
            "seconds_per_epoch": result.seconds_per_epoch}


def score_run(data: str, run_dir: str, seed: int, epochs: int = EPOCHS) -> dict:
    """Fidelity of one seed's run on `data`: read from RUN_DIR/fidelity.json if it is there, else train and
    write it (atomically, last)."""

    done = Path(run_dir) / FIDELITY
    if done.is_file():
        return rescore(read_json(done), done)
    trained = train_study_network(data, run_dir, seed, epochs)
    result = fidelity(trained["history"], trained["train_accuracy_evaluated"])
    result.update(seed=int(seed), data=str(data), history=trained["history"],
                  train_accuracy_evaluated=trained["train_accuracy_evaluated"],
                  seconds_per_epoch=trained["seconds_per_epoch"])
    result = finite(result)
    write_json(done, result)
    return result


def rescore(stored: dict, source: str | Path = "a run") -> dict:
    """A stored run (fidelity.json, or a search.json run) scored again from its history with today's targets:
    the targets it was written with may have changed since. No training."""
    if not stored.get("history") or stored.get("train_accuracy_evaluated") is None:
        raise UserError(f"{source} holds no history and evaluated training accuracy to rescore")
    return {**stored, **fidelity(stored["history"], stored["train_accuracy_evaluated"])}


def score_dataset(data: str | Path, out: str | Path, seeds: Sequence[int] = CALIBRATION_SEEDS,
                  epochs: int = EPOCHS, n_jobs: int = 1, executor: Executor | None = None) -> dict:
    """Train the study network on `data` once per seed (OUT/seed-S), then OUT/score.json: every target's mean
    and std over seeds, the score, and each seed's readings."""

    read_dataset(data)  # a broken dataset is one clear error before any job starts
    out = Path(out)
    jobs = [Job(f"seed-{s}", score_run, {"data": str(data), "run_dir": str(out / f"seed-{s}"), "seed": int(s),
                                         "epochs": int(epochs)}) for s in seeds]
    results = run_jobs(jobs, n_jobs, log=log.info, executor=executor)
    summary = summarize(results)
    summary.update(data=str(data), seeds=[int(s) for s in seeds], epochs=int(epochs),
                   runs=[{k: v for k, v in r.items() if k != "history"} for r in results])
    write_json(out / "score.json", summary)
    return summary


# --- settings and grids -------------------------------------------------------------------------------------------

def normalize(setting: dict) -> dict:
    """A setting's knobs, checked by GeneratorConfig and written in full (defaults included), JSON-able."""
    unknown = sorted(set(setting) - set(KNOBS))
    if unknown:
        raise UserError(f"unknown generator knob(s) {', '.join(unknown)}; known: {', '.join(KNOBS)}")
    full = knobs(GeneratorConfig(**setting))
    return json.loads(json.dumps(full))  # tuples -> lists, as they come back from JSON


def setting_id(setting: dict) -> str:
    return hashlib.sha256(json.dumps(normalize(setting), sort_keys=True).encode()).hexdigest()[:10]


def setting_label(setting: dict) -> str:
    """The knobs that differ from the defaults, e.g. 'intensity=0.2-1 train_pool=25000' ('defaults' if none)."""
    full, default = normalize(setting), normalize({})
    parts = []
    for k in KNOBS:
        if full[k] != default[k]:
            v = full[k]
            parts.append(f"{k}={v[0]:g}-{v[1]:g}" if isinstance(v, list) else f"{k}={v}")
    return " ".join(parts) or "defaults"


def expand_grid(blocks: Iterable[dict], settings: Iterable[dict] = ()) -> list[dict]:
    """Each block's product, then the explicit settings; normalized, first occurrence kept."""
    out, seen = [], set()
    candidates = []
    for block in blocks:
        if not isinstance(block, dict):
            raise UserError(f"a grid block must map knobs to lists of values, got {block!r}")
        choices = [_choices(k, v) for k, v in block.items()]
        candidates += [dict(zip(block, combo, strict=True)) for combo in itertools.product(*choices)]
    candidates += list(settings)
    for s in candidates:
        full = normalize(s)
        key = setting_id(full)
        if key not in seen:
            seen.add(key)
            out.append(full)
    return out


def _choices(knob: str, value) -> list:
    """A block's values for one knob: a list of choices, or one bare value (an intensity is itself a pair)."""
    if knob == "intensity":
        return value if value and isinstance(value[0], (list, tuple)) else [value]
    return value if isinstance(value, list) else [value]


def load_grid(path: str | Path | None) -> list[dict]:
    """The built-in grid (path None) or a YAML file: `grid:` a block or a list of blocks, each mapping knobs to
    lists of values (expanded as a product), and/or `settings:` a list of explicit settings."""
    if path is None:
        return expand_grid(BUILTIN_GRID)
    import yaml

    path = Path(path)
    try:
        spec = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise UserError(f"grid file not found: {path}") from None
    except (OSError, yaml.YAMLError) as e:
        raise UserError(f"cannot read grid {path}: {str(e).splitlines()[0]}") from None
    if not isinstance(spec, dict) or not set(spec) <= {"grid", "settings"} or not spec:
        raise UserError(f"{path}: expected a mapping with 'grid' and/or 'settings'")
    blocks = spec.get("grid") or []
    blocks = [blocks] if isinstance(blocks, dict) else blocks
    settings = spec.get("settings") or []
    if not isinstance(blocks, list) or not isinstance(settings, list):
        raise UserError(f"{path}: 'grid' must be a mapping or a list of them, 'settings' a list")
    grid = expand_grid(blocks, settings)
    if not grid:
        raise UserError(f"{path}: the grid holds no setting")
    return grid


# --- the search -----------------------------------------------------------------------------------------------------

def make_setting_data(setting: dict, data_dir: str, train_size: int | None, data_seed: int) -> str:
    """Job: the setting's dataset in `data_dir`, unless it is already complete there (the folder is the
    search's own: what a killed job left unfinished is made again)."""
    ensure_dataset(data_dir, GeneratorConfig(**setting, train_size=train_size), data_seed, replace=True)
    return data_dir


def run_search(out: str | Path, grid: Sequence[dict] | None = None, seeds: Sequence[int] = CALIBRATION_SEEDS,
               train_size: int | None = None, epochs: int = EPOCHS, n_jobs: int = 1,
               data_seed: int = DATA_SEED, executor: Executor | None = None) -> list[dict]:
    """Make each setting's data, train the study network per seed, score; returns the table (best first) and
    writes OUT/search.json and OUT/search.csv. Finished work in OUT is kept (see the module docstring)."""
    out = Path(out)
    grid = [normalize(s) for s in (load_grid(None) if grid is None else grid)]
    _check_search_config(out, {"train_size": train_size, "epochs": int(epochs), "data_seed": int(data_seed)})
    dirs = {}
    for s in grid:
        d = out / "settings" / setting_id(s)
        write_json(d / SETTING, {"knobs": s, "label": setting_label(s)})
        dirs[setting_id(s)] = d
    todo = [(s, seed) for s in grid for seed in seeds
            if not (dirs[setting_id(s)] / f"seed-{seed}" / FIDELITY).is_file()]
    needed = {setting_id(s): s for s, _ in todo}  # a setting whose seeds are all done needs no data
    data_jobs = [Job(f"data {setting_label(s)}", make_setting_data,
                     {"setting": s, "data_dir": str(dirs[sid] / "data"), "train_size": train_size,
                      "data_seed": int(data_seed)})
                 for sid, s in needed.items() if not (dirs[sid] / "data" / DATA_META).is_file()]
    log.info("search: %d setting(s) x %d seed(s) under %s; %d run(s) to train (%d done), %d dataset(s) to make",
             len(grid), len(seeds), out, len(todo), len(grid) * len(seeds) - len(todo), len(data_jobs))
    run_jobs(data_jobs, n_jobs, log=log.info, executor=executor)
    train_jobs = [Job(f"{setting_label(s)} seed {seed}", score_run,
                      {"data": str(dirs[setting_id(s)] / "data"), "run_dir": str(dirs[setting_id(s)] / f"seed-{seed}"),
                       "seed": int(seed), "epochs": int(epochs)})
                  for s, seed in todo]
    try:
        run_jobs(train_jobs, n_jobs, log=log.info, executor=executor)
    finally:
        rows = write_search_table(out, seeds)  # what is finished, even after a failure
    return rows


def _check_search_config(out: Path, wanted: dict) -> None:
    path = out / SEARCH_CONFIG
    if path.is_file():
        held = read_json(path)
        differ = sorted(k for k in wanted if held.get(k) != wanted[k])
        if differ:
            raise UserError(f"{out} holds a search with other {', '.join(differ)} "
                            f"({', '.join(f'{k}={held.get(k)}' for k in differ)}): choose another --out")
    else:
        write_json(path, wanted)


def search_rows(out: str | Path, seeds: Sequence[int] | None = None) -> list[dict]:
    """One row per setting under OUT with every (requested) seed finished, best score first; each run is
    scored from its stored history with today's targets."""
    rows = []
    for d in sorted((Path(out) / "settings").glob("*/")):
        if not (d / SETTING).is_file():
            continue
        setting = read_json(d / SETTING)
        done = {int(p.parent.name.removeprefix("seed-")): p for p in d.glob(f"seed-*/{FIDELITY}")}
        use = sorted(done) if seeds is None else [s for s in seeds if s in done]
        if not use or (seeds is not None and len(use) < len(seeds)):
            continue
        results = [rescore(read_json(done[s]), done[s]) for s in use]
        rows.append(_row(d.name, setting, use, results))
    return sorted(rows, key=lambda r: (r["score_mean"], r["id"]))


def rescore_rows(rows: Sequence[dict]) -> list[dict]:
    """A search.json's rows scored again from the curves they keep (`runs`) with today's targets, best first:
    the next change of targets needs no retraining."""
    out = []
    for row in rows:
        if not row.get("runs"):
            raise UserError(f"row {row.get('label', '?')} keeps no runs' curves: it predates stored histories")
        setting = {"knobs": {k: row[k] for k in KNOBS}, "label": row["label"]}
        results = [rescore({"history": _history(run), **run}, f"row {row['label']}") for run in row["runs"]]
        out.append(_row(row["id"], setting, [int(run["seed"]) for run in row["runs"]], results))
    return sorted(out, key=lambda r: (r["score_mean"], r["id"]))


def _row(sid: str, setting: dict, seeds: list[int], results: list[dict]) -> dict:
    summary = summarize(results)
    row = {"id": sid, "label": setting["label"], **setting["knobs"], "seeds": seeds,
           "score_mean": summary["score_mean"], "score_std": summary["score_std"]}
    for t in summary["targets"]:
        row[f"{t['name']}_mean"] = t["value_mean"]
        row[f"{t['name']}_std"] = t["value_std"]
        row[f"{t['name']}_passed"] = t["passed_share"]
    row["runs"] = [_compact(seed, r) for seed, r in zip(seeds, results, strict=True)]
    return row


# A run's curves kept in search.json: enough to score it again (history keys, as fit writes them).
CURVES = ("accuracy", "val_accuracy", "val_loss")


def _compact(seed: int, result: dict) -> dict:
    """One run in a search.json row: its seed, score, evaluated training accuracy and per-epoch curves
    (6 significant digits: the file stays small, the score unchanged to ~1e-4)."""
    history = result["history"]
    if not isinstance(history, dict):  # rows, as an older history may be held
        history = {k: [r[k] for r in history] for k in CURVES}
    return {"seed": int(seed), "score": result["score"],
            "train_accuracy_evaluated": result["train_accuracy_evaluated"],
            **{k: [float(f"{v:.6g}") for v in history[k]] for k in CURVES if k in history}}


def _history(run: dict) -> dict:
    return {k: run[k] for k in CURVES if k in run}


def write_search_table(out: str | Path, seeds: Sequence[int] | None = None) -> list[dict]:
    """OUT/search.json (every row with its runs' curves) and OUT/search.csv (the rows without them)."""
    rows = search_rows(out, seeds)
    write_table(out, rows)
    return rows


def write_table(out: str | Path, rows: Sequence[dict]) -> None:
    out = Path(out)
    write_json(out / "search.json", {"rows": list(rows), "targets": [t.goal for t in TARGETS],
                                     "std": "sample std over seeds (ddof 1)"})
    if rows:
        cols = [c for c in rows[0] if c != "runs"]
        write_text(out / "search.csv", csv_text([cols, *[[_cell(r[c]) for c in cols] for r in rows]]))


def _cell(v):
    if isinstance(v, list):
        return "-".join(f"{x:g}" if isinstance(x, float) else str(x) for x in v)
    if isinstance(v, float):
        return f"{v:.4f}"
    return "" if v is None else v


def read_tables(paths: Sequence[str | Path]) -> list[dict]:
    """The rows of one or more search.json files, rescored from their runs' curves (`rescore_rows`), best
    first; a setting in several files (a control repeated in a later stage) is kept from the first file."""
    rows, seen = [], set()
    for path in paths:
        try:
            held = read_json(path)["rows"]
        except KeyError:
            raise UserError(f"{path} is not a search table (no 'rows')") from None
        for row in held:
            if row["id"] not in seen:
                seen.add(row["id"])
                rows.append(row)
    return rescore_rows(rows)


def versus(rows: Sequence[dict], reference_id: str) -> dict[str, Welch]:
    """Welch's test of each row's per-seed scores against the reference row's (diff = row - reference;
    negative is closer to the study). The reference itself is left out."""
    ref = next((r for r in rows if r["id"] == reference_id), None)
    if ref is None:
        raise UserError(f"the reference setting (id {reference_id}) is not among the rows")
    base = [run["score"] for run in ref["runs"]]
    return {r["id"]: welch([run["score"] for run in r["runs"]], base) for r in rows if r["id"] != reference_id}


def pick(out: str | Path) -> dict:
    """The best-scoring setting of a search (lowest mean score; validation figures only)."""
    out = Path(out)
    rows = search_rows(out) if (out / "settings").is_dir() else []
    if not rows:
        raise UserError(f"{out} holds no finished setting: run `multimnist calibrate search --out {out}` first")
    return rows[0]
