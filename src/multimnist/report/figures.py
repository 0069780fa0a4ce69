"""Figures built from saved data and run folders, written atomically as PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from multimnist.files import save_figure
from multimnist.report import plots


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
