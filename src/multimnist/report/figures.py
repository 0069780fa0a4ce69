"""Figures built from saved data and run folders, written atomically as PNG."""

from __future__ import annotations

from pathlib import Path

from multimnist.files import save_figure
from multimnist.report import plots

import matplotlib.pyplot as plt
import numpy as np


def sample_grid_figure(images: np.ndarray, titles, path: Path, cols: int = 8, title: str | None = None) -> Path:
    rows = max(1, int(np.ceil(len(images) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.25, rows * 1.05), squeeze=False)
    plots.image_grid(axes, images, titles)
    if title:
        fig.suptitle(title, fontsize=10, y=1.0 + 0.12 / rows)
    return save_figure(fig, path)


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
