"""Figures built from saved data and run folders, written atomically as PNG."""

from __future__ import annotations

from pathlib import Path

from multimnist.figures import plots
from multimnist.files import save_figure

import matplotlib.pyplot as plt
import numpy as np


def sample_grid_figure(images: np.ndarray, titles, path: Path, cols: int = 8, title: str | None = None) -> Path:
    rows = max(1, int(np.ceil(len(images) / cols)))
    fig, ax = plt.subplots(figsize=(cols * 1.25, rows * 1.05))
    plots.image_mosaic(ax, images, titles, cols)
    if title:
        ax.set_title(title, fontsize=10)
    return save_figure(fig, path)


def one_per_number_figure(images: np.ndarray, asked: np.ndarray, read: np.ndarray, readable: np.ndarray, path: Path,
                          title: str, cols: int = 10) -> Path | None:
    """The first image asked of each number, in the numbers' order, titled 'asked>read' ('?' where the reader is
    not confident): a conditional sampler's images on one page. None when no image was asked of any number."""
    numbers = np.unique(asked)
    if not len(numbers):
        return None
    first = np.array([np.flatnonzero(asked == k)[0] for k in numbers])
    titles = [f"{a:02d}>{r:02d}" if ok else f"{a:02d}>?" for a, r, ok in
              zip(asked[first], read[first], readable[first], strict=True)]
    return sample_grid_figure(images[first], titles, path, cols=cols, title=title)


def class_histogram_figure(stats: dict, path: Path, title: str) -> Path:
    fig, ax = plt.subplots(figsize=(10, 3.6))
    classes = list(stats["counts"])
    plots.class_histogram(ax, classes, list(stats["counts"].values()), stats["mean"], stats["std"])
    ax.set_title(title, fontsize=10)
    return save_figure(fig, path)


def curves_figure(history: dict, metric: str, path: Path, title: str, best_epoch: int | None = None) -> Path:
    """Train vs validation loss or accuracy of one run, per epoch."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    plots.training_curves(ax, history, metric, best_epoch)
    ax.set_title(title, fontsize=10)
    return save_figure(fig, path)


def confusion_figure(cm: np.ndarray, classes, path: Path, title: str, threshold: int = 10) -> Path:
    """The test confusion matrix with the study's colormap and a colour bar."""
    fig, ax = plt.subplots(figsize=(8.2, 7.2))
    image = plots.confusion_matrix(ax, cm, classes, threshold)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03, label=f"test samples (below {threshold}: blank)")
    ax.set_title(title, fontsize=10)
    return save_figure(fig, path)


def accuracy_frequency_figure(counts, accuracy, classes, path: Path, title: str, rho: float | None = None) -> Path:
    """Per-class test accuracy against class frequency in the training set."""
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    plots.accuracy_vs_frequency(ax, counts, accuracy, classes, rho)
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)


# --- autoencoder and generation figures ---

def history_panels_figure(history: dict, metrics, path: Path, title: str) -> Path:
    """Train vs validation curves side by side, one panel per metric (e.g. BCE loss and MSE)."""
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        plots.training_curves(ax, history, metric)
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)


def reconstruction_figure(originals: np.ndarray, reconstructions: np.ndarray, path: Path, title: str) -> Path:
    """Originals on the top row, their reconstructions below (study figure 15)."""
    n = len(originals)
    fig, ax = plt.subplots(figsize=(n * 1.2, 2.3))
    plots.image_mosaic(ax, np.concatenate([plots.unit_images(originals), plots.unit_images(reconstructions)]), cols=n)
    ax.set_title(title, fontsize=10)
    return save_figure(fig, path)


def latent_figure(encodings: np.ndarray, path: Path, title: str) -> Path:
    fig, ax = plt.subplots(figsize=(max(6.0, encodings.shape[1] * 0.2), 3.8))
    plots.latent_boxes(ax, encodings)
    ax.set_title(title, fontsize=10)
    return save_figure(fig, path)


def curves_figure_by_label(curves: dict, path: Path, title: str, ylabel: str, logy: bool = False) -> Path:
    fig, ax = plt.subplots(figsize=(6.5, 4))
    plots.curves_by_label(ax, curves, ylabel, logy)
    ax.set_title(title, fontsize=10)
    return save_figure(fig, path)


def errorbar_figure(x, mean, std, path: Path, title: str, xlabel: str, ylabel: str, highlight=None) -> Path:
    fig, ax = plt.subplots(figsize=(6.5, 4))
    plots.errorbar_series(ax, x, mean, std, xlabel, ylabel, highlight)
    ax.set_title(title, fontsize=10)
    return save_figure(fig, path)


def number_counts_figure(counts_by_label: dict, path: Path, title: str) -> Path:
    """One bar chart of read numbers 0..99 per label (sampler), stacked, the study's 1..50 shaded."""
    rows = len(counts_by_label)
    fig, axes = plt.subplots(rows, 1, figsize=(10, 1.6 * rows + 0.6), sharex=True, squeeze=False, layout="constrained")
    for ax, (label, counts) in zip(axes[:, 0], counts_by_label.items(), strict=True):
        plots.number_counts(ax, counts, label)
    axes[-1, 0].set_xlabel("number read (confident reads only; 1..50 shaded)")
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)


# --- the regime study ---

def regime_gain_figure(groups: list[str], series: dict[str, tuple[list, list]], path: Path, title: str) -> Path:
    fig, ax = plt.subplots(figsize=(8, 4.2))
    plots.grouped_gains(ax, groups, series, "test accuracy gain over unregularized (points)")
    ax.set_title(title, fontsize=10)
    return save_figure(fig, path)


def regime_curves_figure(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: Path, title: str) -> Path:
    """One panel per preset: the unregularized network's mean train and validation accuracy per epoch."""
    fig, axes = plt.subplots(1, len(curves), figsize=(4 * len(curves), 3.4), squeeze=False, sharey=True,
                             layout="constrained")
    for ax, (name, (train, val)) in zip(axes[0], curves.items(), strict=True):
        plots.train_val_curves(ax, train, val, name)
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)


def effects_figure(matrix: dict, path: Path, cols: int = 4) -> Path | None:
    """One panel per test of every claim with estimates (report/across.py's matrix): each regime's estimate with
    its 95% interval; None (and no file) when no cell has an estimate."""
    regimes = [r["name"] for r in matrix["regimes"]]
    panels: dict[tuple[str, int], dict] = {}
    for cell in matrix["cells"]:
        for e in cell["estimates"]:
            panel = panels.setdefault((cell["key"], e["part"]), {"what": e["what"], "quantity": e["quantity"],
                                                                 "unit": e["unit"], "by": {}})
            panel["by"][cell["regime"]] = e
    if not panels:
        return None
    rows = int(np.ceil(len(panels) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 3.6, rows * (0.5 + 0.28 * len(regimes))), squeeze=False)
    for ax, ((key, part), p) in zip(axes.flat, panels.items(), strict=False):
        plots.estimates_by_regime(ax, regimes, [p["by"].get(r) for r in regimes], difference=" - " in p["what"])
        ax.set_title(f"{key} ({part}): {p['what']}", fontsize=7)
        ax.set_xlabel(f"{p['quantity']}" + (f" ({p['unit']})" if p["unit"] else ""), fontsize=6)
    for ax in axes.flat[len(panels):]:
        ax.set_axis_off()
    fig.tight_layout()
    return save_figure(fig, path)
