"""Plot functions: each takes data and matplotlib axes and returns what it drew. Saving happens elsewhere."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402


def unit_images(images: np.ndarray) -> np.ndarray:
    """Images on [0, 1], whether stored as bytes (0..255) or floats."""
    return images / 255.0 if images.dtype == np.uint8 else np.asarray(images, dtype=float)


def image_mosaic(ax, images: np.ndarray, titles=None, cols: int = 8, cmap: str = "gray"):
    """Show images (N, H, W) as one picture on one axes, `cols` a row, each with its title above it.

    One image and N texts draw in a fraction of the time of N axes (matplotlib lays out every axes' title)."""
    n, h, w = images.shape
    rows = max(1, -(-n // cols))
    gap_x, gap_y = 3, (9 if titles is not None else 3)  # room for a 9-point title above each row
    mosaic = np.full((gap_y + rows * (h + gap_y), cols * (w + gap_x) - gap_x), np.nan)
    for i, image in enumerate(unit_images(images)):
        r, c = divmod(i, cols)
        top, left = gap_y + r * (h + gap_y), c * (w + gap_x)
        mosaic[top:top + h, left:left + w] = image
    colormap = matplotlib.colormaps[cmap].with_extremes(bad="white")
    artist = ax.imshow(mosaic, cmap=colormap, vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if titles is not None:
        for i, text in enumerate(titles[:n]):
            r, c = divmod(i, cols)
            ax.text(c * (w + gap_x) + w / 2, gap_y + r * (h + gap_y) - 1, str(text), ha="center", va="bottom",
                    fontsize=9)
    return artist


def class_histogram(ax, classes, counts, mean: float | None = None, std: float | None = None):
    """Bars of samples per class, with the mean and mean +- std marked (study figure 2)."""
    bars = ax.bar(classes, counts, color="#4c72b0", width=0.8, zorder=3)
    if mean is not None:
        ax.axhline(mean, color="#c44e52", lw=1.5, label=f"mean {mean:.0f}")
        if std is not None:
            ax.axhspan(mean - std, mean + std, color="#c44e52", alpha=0.12, label=f"mean ± std ({std:.0f})")
        ax.legend(loc="upper right", fontsize=8)
    ax.set_xlabel("class (number)")
    ax.set_ylabel("samples")
    ax.set_xticks(list(classes)[:: max(1, len(classes) // 25)])
    return bars


def study_colormap(n: int = 256, blank: int = 10) -> ListedColormap:
    """Viridis in `n` colours whose first `blank` are the background, as in the study's confusion matrices.

    With one colour per count (n = max count + 1), counts 0 .. blank-1 vanish.
    """
    import matplotlib.pyplot as plt

    colors = plt.get_cmap("viridis")(np.linspace(0, 1, n))
    colors[: max(blank, 1)] = (1.0, 1.0, 1.0, 1.0)
    return ListedColormap(colors)


def training_curves(ax, history: dict, metric: str = "loss", best_epoch: int | None = None):
    """Train vs validation `metric` per epoch (study figures 5, 6, 9, 10); the kept epoch marked."""
    epochs = np.arange(1, len(history[metric]) + 1)
    lines = ax.plot(epochs, history[metric], label="train", color="#4c72b0")
    if f"val_{metric}" in history:
        lines += ax.plot(epochs, history[f"val_{metric}"], label="validation", color="#dd8452")
    if best_epoch is not None and best_epoch < len(epochs):
        ax.axvline(best_epoch, color="grey", ls="--", lw=1, label=f"weights kept (epoch {best_epoch})")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("_", " "))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return lines


def confusion_matrix(ax, cm: np.ndarray, classes, threshold: int = 10):
    """The K x K test confusion matrix (study figures 7, 11): rows true, columns predicted, every class labelled.

    Viridis with counts below `threshold` drawn as background (`study_colormap`), so only real confusions show.
    """
    vmax = max(int(cm.max()), threshold)
    # One colour per count (range -0.5 .. vmax + 0.5), so exactly the counts 0 .. threshold - 1 are blank.
    image = ax.imshow(cm, cmap=study_colormap(n=vmax + 1, blank=threshold), vmin=-0.5, vmax=vmax + 0.5,
                      interpolation="nearest")
    ticks = np.arange(len(classes))
    size = 8 if len(classes) <= 20 else 5
    ax.set_xticks(ticks, [str(c) for c in classes], rotation=90, fontsize=size)
    ax.set_yticks(ticks, [str(c) for c in classes], fontsize=size)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    return image


def accuracy_vs_frequency(ax, counts, accuracy, classes, rho: float | None = None):
    """Per-class test accuracy against training samples per class, each point labelled with its class."""
    points = ax.scatter(counts, accuracy, s=18, color="#4c72b0", zorder=3)
    for c, n, a in zip(classes, counts, accuracy, strict=True):
        ax.annotate(str(c), (n, a), fontsize=6, xytext=(2, 2), textcoords="offset points")
    ax.set_xlabel("training samples of the class")
    ax.set_ylabel("test accuracy of the class")
    if rho is not None:
        ax.set_title(f"Spearman rank correlation {rho:+.2f}", fontsize=9)
    ax.grid(alpha=0.3)
    return points


# --- autoencoder and generation plots ---

def latent_boxes(ax, encodings: np.ndarray, uniform: tuple[float, float] = (0.0, 1.0)):
    """One box per latent dimension (whiskers at the 1st and 99th percentiles), the U(0,1) range shaded (fig. 18)."""
    band = ax.axhspan(*uniform, color="#55a868", alpha=0.15, zorder=0, label=f"U({uniform[0]:g}, {uniform[1]:g}) range")
    # Drawn as three collections rather than ax.boxplot's several artists per box: the same picture, in a
    # fraction of the time for a latent space of 50-odd dimensions.
    dims = encodings.shape[1]
    low, q1, median, q3, high = np.percentile(encodings, [1, 25, 50, 75, 99], axis=0)
    x = np.arange(1, dims + 1)
    ax.vlines(x, low, q1, color="black", lw=0.8)
    ax.vlines(x, q3, high, color="black", lw=0.8)
    ax.hlines(np.concatenate([low, high]), np.tile(x - 0.15, 2), np.tile(x + 0.15, 2), color="black", lw=0.8)
    boxes = ax.bar(x, q3 - q1, bottom=q1, width=0.6, color="#4c72b0", alpha=0.7, edgecolor="black", lw=0.8)
    ax.hlines(median, x - 0.3, x + 0.3, color="#c44e52", lw=1.2)
    ax.set_xlim(0.4, dims + 0.6)
    ax.set_xticks(range(1, dims + 1, max(1, dims // 27)), [str(i) for i in range(dims)][:: max(1, dims // 27)],
                  fontsize=7)
    ax.set_xlabel("latent dimension")
    ax.set_ylabel("encoded value")
    ax.legend(handles=[band], loc="upper right", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return boxes


def curves_by_label(ax, curves: dict, ylabel: str, logy: bool = False):
    """One line per label, each a per-epoch series (e.g. validation MSE of every compression factor, fig. 12)."""
    cmap = matplotlib.colormaps["viridis"]
    lines = []
    for i, (label, values) in enumerate(curves.items()):
        color = cmap(i / max(1, len(curves) - 1))
        lines += ax.plot(np.arange(1, len(values) + 1), values, label=str(label), color=color, lw=1.3)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return lines


def errorbar_series(ax, x, mean, std, xlabel: str, ylabel: str, highlight=None):
    """Means with +- std error bars against x (fig. 13); `highlight` marks one x value."""
    bars = ax.errorbar(x, mean, yerr=std, fmt="o-", color="#4c72b0", capsize=3, lw=1.3)
    if highlight is not None and highlight in list(x):
        i = list(x).index(highlight)
        ax.plot([x[i]], [mean[i]], "o", color="#c44e52", ms=9, mfc="none", mew=2, label=f"{xlabel} {highlight}")
        ax.legend(fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xticks(list(x))
    ax.grid(alpha=0.3)
    return bars


def number_counts(ax, counts, label: str = "", study_range: tuple[int, int] = (1, 50)):
    """Bars of how often each number 0..99 was read, the study's range shaded."""
    band = ax.axvspan(study_range[0] - 0.5, study_range[1] + 0.5, color="#55a868", alpha=0.12, zorder=0)
    bars = ax.bar(np.arange(len(counts)), counts, color="#4c72b0", width=0.8, zorder=3)
    ax.set_xlim(-1, len(counts))
    ax.set_xticks(range(0, len(counts), 10))
    ax.set_ylabel("images")
    if label:
        ax.set_title(label, fontsize=9, loc="left")
    ax.grid(axis="y", alpha=0.3)
    return bars, band


# --- the regime study ---

def grouped_gains(ax, groups: list[str], series: dict[str, tuple[list, list]], ylabel: str):
    """Bars per group (x) and series (colour), each with an error bar; series maps name -> (values, errors).

    A missing value (None) leaves its slot empty. A line at 0 marks "no gain".
    """
    width = 0.8 / max(1, len(series))
    x = np.arange(len(groups))
    artists = []
    for i, (name, (values, errors)) in enumerate(series.items()):
        v = np.array([np.nan if a is None else a for a in values], dtype=float)
        e = np.array([0.0 if a is None else a for a in errors], dtype=float)
        artists.append(ax.bar(x + (i - (len(series) - 1) / 2) * width, v, width, yerr=e, capsize=2, label=name,
                              zorder=3))
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, groups)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3, zorder=0)
    ax.legend(fontsize=8, ncol=2)
    return artists


def train_val_curves(ax, train: np.ndarray, val: np.ndarray, title: str):
    """Mean training and validation accuracy per epoch, in %."""
    epochs = np.arange(1, len(train) + 1)
    lines = ax.plot(epochs, 100 * train, label="train") + ax.plot(epochs, 100 * val, label="validation")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy %")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return lines


def estimates_by_regime(ax, names: list[str], estimates: list[dict | None], difference: bool = True):
    """One row per regime: an estimate (report/criteria.py `estimate`) with its 95% interval (a bare point without
    one), the claimed effect as a dashed tick, zero dotted for a difference; a regime without it stays empty."""
    artists = []
    for i, e in enumerate(estimates):
        if e is None or e.get("value") is None:
            continue
        lo, hi = e.get("interval") or (e["value"], e["value"])
        artists.append(ax.errorbar([e["value"]], [i], xerr=[[max(0.0, e["value"] - lo)], [max(0.0, hi - e["value"])]],
                                   fmt="o", color=f"C{i}", ms=4, capsize=2, lw=1.2))
        if e.get("claimed") is not None:
            artists += ax.plot([e["claimed"]] * 2, [i - 0.35, i + 0.35], "--", color="black", lw=1)
    if difference:
        artists.append(ax.axvline(0, ls=":", color="grey", lw=0.8))
    ax.set_yticks(range(len(names)), names, fontsize=6)
    ax.set_ylim(len(names) - 0.4, -0.6)  # the first regime on top
    ax.tick_params(axis="x", labelsize=6)
    return artists
