"""Study section 5 as steps: train the autoencoder and sweep its compression factor.

A run folder holds config.yaml, history.csv (BCE loss and MSE, train and validation, per epoch),
model.keras, loss.png, reconstructions.png (fig. 15), latent.png (fig. 18), encodings.npz and metrics.json
(written last). Training is idempotent: a finished folder with the same config and data is returned as it
is, an unfinished one resumes from its last epoch, and a folder holding another config is refused.
Generation and the digit-pair reader live in `experiments.generation` and `experiments.reader`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from multimnist.config import load_experiment
from multimnist.data import Dataset, Prepared, prepare
from multimnist.data.config import HEIGHT, WIDTH
from multimnist.errors import UserError
from multimnist.executor import Executor
from multimnist.experiments import runs
from multimnist.figures.png import (
    curves_figure_by_label,
    errorbar_figure,
    history_panels_figure,
    latent_figure,
    reconstruction_figure,
)
from multimnist.files import write_json, write_npz, write_text
from multimnist.formatting import csv_text
from multimnist.layout import HISTORY, read_history
from multimnist.models.autoencoder import Autoencoder, AutoencoderModelConfig, build_autoencoder, latent_size
from multimnist.training.config import TrainConfig
from multimnist.training.inference import predict
from multimnist.training.pack import Member, Task, TrainResult, train_pack
from multimnist.training.run import start_run
from multimnist.training.seeding import seed_everything

import keras
import numpy as np

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
SHOWN = 10  # test images in reconstructions.png


@dataclass
class AutoencoderDataConfig:
    val_fraction: float = 0.2  # share of the training images held out for validation (study section 2)
    split_seed: int = 0  # fixed, so runs of any seed or factor see the same split


@dataclass
class AutoencoderConfig:
    """One autoencoder experiment; the defaults are the study's final network (cf 20 -> latent 54)."""

    name: str = "autoencoder"
    seed: int = 0  # weights and data order
    data: AutoencoderDataConfig = field(default_factory=AutoencoderDataConfig)
    model: AutoencoderModelConfig = field(default_factory=AutoencoderModelConfig)
    training: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=30))


def load_autoencoder_config(config="autoencoder", overrides=(), seed: int | None = None,
                            epochs: int | None = None) -> AutoencoderConfig:
    """An AutoencoderConfig from a built-in name, a YAML path, a mapping or an AutoencoderConfig, then overrides."""
    return load_experiment(AutoencoderConfig, "autoencoder", config, overrides, seed, epochs)


def train_autoencoder(config="autoencoder", data="data", out="run", seed: int | None = 0, epochs: int | None = None,
                      overrides=(), replace: bool = False) -> dict:
    """Train (or resume, or reuse) one autoencoder in the run folder `out`; returns its metrics.json content.

    `replace`: a run of another config in `out` is replaced (see open_run)."""
    cfg = load_autoencoder_config(config, overrides, seed, epochs)
    return runs.train(AUTOENCODER, [cfg], data, [out], replace)[0]


def _train_pack(cfgs: list[AutoencoderConfig], ds: Dataset, out: list[Path]) -> list[dict]:
    """Build, train and evaluate autoencoders that share one pack; their metrics (the run protocol adds the data's
    fingerprint, the versions and the config)."""
    splits: dict[tuple, Prepared] = {}  # runs of one split share its arrays
    members, parts, arrays = [], [], []
    for cfg, folder in zip(cfgs, out, strict=True):
        key = (cfg.data.val_fraction, cfg.data.split_seed)
        if key not in splits:
            splits[key] = prepare(ds, cfg.data.val_fraction, seed=cfg.data.split_seed)
        arrays.append(splits[key])
        seed_everything(cfg.seed)
        parts.append(build_autoencoder(cfg.model))
        start_run(folder, cfg)
        log.info("%s (latent %d, seed %d): %s parameters, %s training images, writing to %s", cfg.name,
                 cfg.model.latent_size, cfg.seed, f"{parts[-1].autoencoder.count_params():,}",
                 f"{len(arrays[-1].x_train):,}", folder)
        members.append(Member(parts[-1].autoencoder, arrays[-1].x_train, None, arrays[-1].x_val, None, cfg.training,
                              folder, cfg.seed, f"{cfg.name}/seed-{cfg.seed}"))
    trained = train_pack(members, autoencoder_task(cfgs[0].model.loss), runs.pack_name(cfgs))
    results = []
    for cfg, member, part, split, result in zip(cfgs, members, parts, arrays, trained, strict=True):
        codes = encode_splits(part, split)
        recon = predict(part.decoder, codes["test"])
        metrics = evaluate_autoencoder(part, split, codes, recon, result, cfg)
        write_npz(member.run_dir / "encodings.npz", **codes, train_idx=split.train_idx, val_idx=split.val_idx)
        write_autoencoder_figures(member.run_dir, result.history, split.x_test[:SHOWN], recon[:SHOWN],
                                  codes["test"], cfg)
        log.info("%s: test MSE %.5f, BCE %.4f after %d epochs (%.2f s/epoch)", cfg.name, metrics["test_mse"],
                 metrics["test_bce"], metrics["epochs_run"], metrics["seconds_per_epoch"])
        results.append(metrics)
    return results


def autoencoder_task(loss_name: str = "binary_crossentropy") -> Task:
    """The configured Keras loss per image (the study's binary cross-entropy), and the reconstruction MSE."""
    per_image = keras.losses.get(loss_name)

    def metrics(x, x_pred):
        return {"mse": keras.ops.mean(keras.ops.square(x - x_pred), axis=-1)}

    return Task(f"autoencoder({loss_name})", lambda x, x_pred: per_image(x, x_pred), metrics, ("mse",))


# The autoencoder on the run protocol (experiments/runs.py): its model settings are all the program's.
AUTOENCODER = runs.Kind("autoencoder", load_autoencoder_config, _train_pack)


def encode_splits(parts: Autoencoder, arrays: Prepared) -> dict[str, np.ndarray]:
    """The encodings of every split, from one encoder pass over all of them."""
    flat = predict(parts.encoder, np.concatenate([getattr(arrays, f"x_{s}") for s in SPLITS]))
    bounds = np.cumsum([len(getattr(arrays, f"x_{s}")) for s in SPLITS[:-1]])
    return dict(zip(SPLITS, np.split(flat, bounds), strict=True))


def evaluate_autoencoder(parts: Autoencoder, arrays: Prepared, codes: dict, recon: np.ndarray, result: TrainResult,
                         cfg: AutoencoderConfig) -> dict:
    """Test MSE and BCE of the reconstructions `recon` of the test images, and how the encodings spread."""
    clipped = np.clip(recon, 1e-7, 1 - 1e-7)
    test_bce = float(-np.mean(arrays.x_test * np.log(clipped) + (1 - arrays.x_test) * np.log(1 - clipped)))
    h, test = result.history, codes["test"]
    return {
        "name": cfg.name, "seed": cfg.seed, "latent_size": cfg.model.latent_size,
        "compression_factor": cfg.model.compression_factor if cfg.model.latent is None else None,
        "test_mse": float(np.mean((recon - arrays.x_test) ** 2)), "test_bce": test_bce,
        "train_mse": h["mse"][result.best_epoch - 1], "val_mse": h["val_mse"][result.best_epoch - 1],
        "epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
        "seconds_per_epoch": result.seconds_per_epoch, "n_params": int(parts.autoencoder.count_params()),
        # Figure 18's point: how far the encodings are from the U(0, 1) the study first sampled from.
        "latent_values_outside_unit_share": float(np.mean((test < 0) | (test > 1))),
        "latent_mean": test.mean(axis=0).tolist(), "latent_std": test.std(axis=0).tolist(),
    }


def write_autoencoder_figures(out: Path, history: dict, originals: np.ndarray, recon: np.ndarray,
                              test_codes: np.ndarray, cfg: AutoencoderConfig) -> None:
    """loss.png, reconstructions.png (fig. 15) and latent.png (fig. 18)."""
    title = f"{cfg.name}, latent {cfg.model.latent_size}, seed {cfg.seed}"
    history_panels_figure(history, ("loss", "mse"), out / "loss.png", f"Binary cross-entropy and MSE ({title})")
    reconstruction_figure(originals.reshape(-1, HEIGHT, WIDTH), recon.reshape(-1, HEIGHT, WIDTH),
                          out / "reconstructions.png", f"Test images (top) and their reconstructions ({title})")
    latent_figure(test_codes, out / "latent.png", f"Test-set encodings per latent dimension ({title})")


# --- the compression sweep (figures 12, 13) ---

def sweep_compression(factors, data, out, seeds: Sequence[int] | Mapping[int, Sequence[int]] = (0,),
                      epochs: int | None = None, n_jobs: int = 1,
                      config="autoencoder", executor: Executor | None = None, replace: bool = False,
                      pack: int | None = None) -> list[dict]:
    """One autoencoder per compression factor and seed, into OUT/cf-F/seed-S; then figures and a table.

    Writes mse_epochs.png (validation MSE per epoch, every factor), mse_factor.png (test MSE against factor,
    error bars over seeds), sweep.csv and sweep.md (factor, latent size, test MSE mean +- std) and
    verdict.txt (whether the error bars support 'cf 20 best' and 'not monotone'). Returns the table rows.
    `seeds`: the same for every factor, or by factor.
    """
    factors, out = [int(f) for f in factors], Path(out)
    by_factor = {f: [int(s) for s in (seeds.get(f, ()) if isinstance(seeds, Mapping) else seeds)] for f in factors}
    if not factors or not all(by_factor.values()):
        raise UserError("the sweep needs at least one compression factor and one seed for each")
    if not isinstance(data, Dataset) and not Path(data).exists():
        raise UserError(f"dataset not found: {data}")
    base = load_autoencoder_config(config, epochs=epochs)
    cfgs = [load_autoencoder_config(base, [f"model.compression_factor={f}", "model.latent=null", f"name=cf-{f}"],
                                    seed=s) for f in factors for s in by_factor[f]]
    log.info("compression sweep: %d run(s) under %s", len(cfgs), out)
    results = iter(runs.run(AUTOENCODER, cfgs, data, [out / c.name / f"seed-{c.seed}" for c in cfgs], n_jobs,
                            executor, replace, pack))
    rows, curves = [], {}
    for f in factors:
        metrics = [next(results) for _ in by_factor[f]]
        mse = np.array([m["test_mse"] for m in metrics])
        size = latent_size(f)
        rows.append({"factor": f, "latent_size": size, "n_seeds": len(metrics),
                     "test_mse_mean": float(mse.mean()), "test_mse_std": float(mse.std(ddof=1)) if len(mse) > 1
                     else float("nan"), "test_mse": mse.tolist()})
        histories = [read_history(out / f"cf-{f}" / f"seed-{s}" / HISTORY)["val_mse"] for s in by_factor[f]]
        length = min(len(h) for h in histories)
        curves[f"cf {f} (L={size})"] = np.mean([h[:length] for h in histories], axis=0)
    verdict = sweep_verdict(rows)
    _write_sweep_table(rows, verdict, out)
    counts = sorted({len(s) for s in by_factor.values()})
    seeds_note = ("one seed" if counts == [1] else f"mean over {counts[0]} seeds" if len(counts) == 1
                  else f"mean over {counts[0]}-{counts[-1]} seeds")
    curves_figure_by_label(curves, out / "mse_epochs.png", f"Validation MSE per epoch ({seeds_note})",
                           "validation MSE")
    errorbar_figure([r["factor"] for r in rows], [r["test_mse_mean"] for r in rows],
                    [0.0 if np.isnan(r["test_mse_std"]) else r["test_mse_std"] for r in rows],
                    out / "mse_factor.png", f"Test MSE against compression factor ({seeds_note}, ± std)",
                    "compression factor", "test MSE", highlight=20)
    return rows


def sweep_verdict(rows: list[dict]) -> str:
    """Do the error bars (mean +- std over seeds) support the study's 'cf 20 best' and 'not monotone'?

    'cf 20 best' is supported when cf 20's bar lies wholly below every other factor's; 'not monotone' when
    some larger factor (smaller latent) has a bar wholly below a smaller factor's.
    """
    by = {r["factor"]: r for r in rows}
    if min(r["n_seeds"] for r in rows) < 2:
        best = min(by, key=lambda f: by[f]["test_mse_mean"])
        return (f"One seed per factor, so there are no error bars: the lowest test MSE is at cf {best}, but "
                "neither 'cf 20 best' nor 'not monotone' can be told apart from seed noise.")
    hi = {f: r["test_mse_mean"] + r["test_mse_std"] for f, r in by.items()}
    lo = {f: r["test_mse_mean"] - r["test_mse_std"] for f, r in by.items()}
    best = min(by, key=lambda f: by[f]["test_mse_mean"])
    if 20 not in by:
        best_text = f"cf 20 was not run; the lowest mean test MSE is at cf {best}."
    elif all(hi[20] < lo[f] for f in by if f != 20):
        best_text = "The error bars support 'cf 20 best': its mean ± std lies below every other factor's."
    else:
        overlap = sorted(f for f in by if f != 20 and hi[20] >= lo[f])
        best_text = (f"The error bars do not support 'cf 20 best': the lowest mean is at cf {best}, and cf 20's "
                     f"mean ± std overlaps that of cf {', '.join(map(str, overlap))}.")
    factors = sorted(by)
    inversions = [(a, b) for i, a in enumerate(factors) for b in factors[i + 1:] if hi[b] < lo[a]]
    if inversions:
        a, b = inversions[0]
        mono_text = (f"They support 'not monotone': e.g. cf {b} (latent {by[b]['latent_size']}) reconstructs better "
                     f"than cf {a} (latent {by[a]['latent_size']}) beyond one std ({len(inversions)} such pair(s)).")
    else:
        mono_text = ("They do not support 'not monotone': no larger factor is better than a smaller one beyond the "
                     "error bars, so the wiggles are within seed noise.")
    n = min(r["n_seeds"] for r in rows)
    return f"{best_text} {mono_text} ({n} seeds per factor.)"


def _write_sweep_table(rows: list[dict], verdict: str, out: Path) -> None:
    keys = ("factor", "latent_size", "n_seeds", "test_mse_mean", "test_mse_std")
    write_text(out / "sweep.csv", csv_text([{k: r[k] for k in keys} for r in rows]))
    md = ["| compression factor | latent size | test MSE (mean ± std) | seeds |", "|---:|---:|---|---:|"]
    for r in rows:
        std = "" if np.isnan(r["test_mse_std"]) else f" ± {r['test_mse_std']:.5f}"
        md.append(f"| {r['factor']} | {r['latent_size']} | {r['test_mse_mean']:.5f}{std} | {r['n_seeds']} |")
    write_text(out / "sweep.md", "\n".join(md) + "\n\n" + verdict + "\n")
    write_text(out / "verdict.txt", verdict + "\n")
    write_json(out / "sweep.json", {"rows": rows, "verdict": verdict})
