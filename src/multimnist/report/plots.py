"""Plot functions: each takes data and matplotlib axes and returns what it drew. Saving happens elsewhere."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402


def image_grid(axes, images: np.ndarray, titles=None, cmap: str = "gray"):
    """Show images (N, H, W) on a grid of axes, one each; extra axes are blanked."""
    artists = []
    for i, ax in enumerate(np.ravel(axes)):
        ax.set_axis_off()
        if i < len(images):
            artists.append(ax.imshow(images[i], cmap=cmap, vmin=0, vmax=255 if images.dtype == np.uint8 else 1))
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=9)
    return artists


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


def study_colormap(n: int = 256, blank: int = 10, vmax: float | None = None) -> ListedColormap:
    """Viridis with its low end replaced by the background colour, as in the study's confusion matrices.

    With `vmax` given, the blanked share is blank / vmax of the range, so counts below `blank` vanish.
    """
    import matplotlib.pyplot as plt

    colors = plt.get_cmap("viridis")(np.linspace(0, 1, n))
    cut = int(np.ceil(n * blank / vmax)) if vmax else blank
    colors[: max(cut, 1)] = (1.0, 1.0, 1.0, 1.0)
    return ListedColormap(colors)
