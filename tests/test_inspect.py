"""Dataset inspection (study figures 1-3): sample grid, class histogram, hard samples, stats.json."""

from __future__ import annotations

import json

from multimnist.data import Dataset, Digits
from multimnist.data.inspect import band_ink_share, first_unique, hardness, ink_overlap
from multimnist.experiments.data import inspect_data

import matplotlib.image
import numpy as np
import pytest

FIGURES = ("samples.png", "histogram.png", "hard.png")


@pytest.fixture(scope="module")
def inspected(small_dataset_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("inspect")
    return out, inspect_data(small_dataset_dir, out)


@pytest.mark.slow
def test_writes_readable_figures_and_stats(inspected):
    out, stats = inspected
    for name in FIGURES:
        image = matplotlib.image.imread(out / name)
        assert image.shape[0] > 100 and image.shape[1] > 300, name
        assert image[..., :3].std() > 0.05, f"{name} is blank"
    assert json.loads((out / "stats.json").read_text())["train"]["total"] == stats["train"]["total"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


@pytest.mark.slow
def test_stats_match_the_class_counts(inspected, small_dataset):
    out, _ = inspected
    stats = json.loads((out / "stats.json").read_text())
    for split in ("train", "test"):
        y = getattr(small_dataset, f"y_{split}")
        counts = np.bincount(y, minlength=51)[1:]
        s = stats[split]
        assert s["counts"] == {str(c): int(n) for c, n in zip(range(1, 51), counts, strict=True)}
        assert s["total"] == len(y) and s["n_classes"] == 50
        assert s["mean"] == pytest.approx(counts.mean()) and s["std"] == pytest.approx(counts.std())
        assert s["min_count"] == counts.min() and s["max_count"] == counts.max()
        assert counts[s["min_class"] - 1] == counts.min() and counts[s["max_class"] - 1] == counts.max()
    assert stats["train"]["min_class"] == 43 and stats["train"]["max_class"] == 11


@pytest.mark.slow
def test_hard_samples_sorted_by_ink_overlap(inspected, small_dataset, digits):
    _, stats = inspected
    assert stats["hardness_measure"].startswith("ink overlap")
    hard = stats["hard_samples"]
    assert len(hard) == 16
    scores = [h["score"] for h in hard]
    assert scores == sorted(scores, reverse=True)
    all_scores = ink_overlap(small_dataset, digits)
    assert scores[0] == pytest.approx(float(all_scores.max()))
    assert scores[-1] >= np.sort(all_scores)[-16] - 1e-6
    for h in hard:
        assert small_dataset.y_test[h["index"]] == h["label"]
        assert all_scores[h["index"]] == pytest.approx(h["score"])
    assert 0.0 <= all_scores.min() and all_scores.max() <= 1.0
    assert stats["hardness_mean"] == pytest.approx(float(all_scores.mean()), rel=1e-5)


def test_first_unique():
    y = np.array([5, 5, 3, 5, 2, 3, 9, 1])
    assert first_unique(y, 3).tolist() == [0, 2, 4]
    assert first_unique(y, 16).tolist() == [0, 2, 4, 6, 7]


def test_sample_grid_has_16_distinct_labels(small_dataset):
    first = first_unique(small_dataset.y_train, 16)
    labels = small_dataset.y_train[first]
    assert len(first) == 16 and len(set(labels.tolist())) == 16
    for position, label in zip(first, labels, strict=True):  # each is its label's first appearance
        assert np.flatnonzero(small_dataset.y_train == label)[0] == position
    # and no other label appears for the first time before the last one shown
    _, firsts = np.unique(small_dataset.y_train, return_index=True)
    assert (firsts < first[-1]).sum() == 15


def _toy(left_cols, right_cols, intensity=(1.0, 1.0)):
    """One test image from two hand-made digits: ink (255) in the given columns of each 28x28 digit."""
    x = np.zeros((10, 28, 28), np.uint8)
    x[0][:, left_cols] = 255
    x[1][:, right_cols] = 255
    digits = Digits(x, np.arange(10, dtype=np.uint8), x, np.arange(10, dtype=np.uint8), source="toy")
    ds = Dataset(np.zeros((1, 28, 39), np.uint8), np.array([1]), np.zeros((1, 28, 39), np.uint8), np.array([1]),
                 classes=(1,), src_test=np.array([[0, 1]]), intensity_test=np.array([intensity], np.float32),
                 meta={"mnist": {"sha256": digits.sha256}})
    return ds, digits


def test_ink_overlap_hand_made():
    # Left ink at column 20 of the canvas; right digit's column 9 lands on canvas column 20: fully covered.
    assert ink_overlap(*_toy([20], [9])) == pytest.approx([1.0])
    # Left ink only in columns 0..10, which the right digit never reaches.
    assert ink_overlap(*_toy([2, 5, 10], [0, 9, 27])) == pytest.approx([0.0])
    # The share is of the fainter digit's ink: all of a one-column digit lying under a two-column one.
    assert ink_overlap(*_toy([20], [9, 20])) == pytest.approx([1.0])
    assert ink_overlap(*_toy([20, 21], [9])) == pytest.approx([1.0])
    # Equal ink, one column of two crossing (canvas column 20; the right digit's other lands on 11).
    assert ink_overlap(*_toy([20, 3], [9, 0])) == pytest.approx([0.5])
    # A dim digit under a bright one: min(L, R) is the dim ink, which is all of the fainter digit.
    assert ink_overlap(*_toy([20], [9], (0.5, 1.0))) == pytest.approx([1.0])


def test_hardness_falls_back_without_sources():
    ds, digits = _toy([20], [9])
    assert hardness(ds, digits)[1].startswith("ink overlap")
    assert hardness(ds, None)[1].startswith("share of ink")
    ds.meta = {"mnist": {"sha256": "another MNIST"}}
    assert hardness(ds, digits)[1].startswith("share of ink")


def test_band_ink_share():
    x = np.zeros((2, 28, 39), np.uint8)
    x[0, :, 5] = 100  # outside the shared columns 11..27
    x[1, :, 5] = 100
    x[1, :, 15] = 100  # inside
    np.testing.assert_allclose(band_ink_share(x), [0.0, 0.5])


def test_inspect_user_dataset_without_sources(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "mine"
    folder.mkdir()
    for split, n in (("train", 120), ("test", 40)):
        np.savez(folder / f"{split}.npz", x=rng.random((n, 1092)), y=np.arange(n) % 20)
    stats = inspect_data(folder, tmp_path / "out")
    assert stats["hardness_measure"].startswith("share of ink")
    assert stats["train"]["counts"] == {c: 6 for c in range(20)}
    for name in (*FIGURES, "stats.json"):
        assert (tmp_path / "out" / name).is_file()


def test_the_grids_title_each_image_by_its_two_digit_number(tmp_path, monkeypatch):
    """Numbers 1..9 are drawn with a leading 0 (compose.split_label: 7 -> (0, 7)), so the grids say "07", not "7"."""
    from multimnist.figures import png as figures

    y = np.array([2, 5, 9, 12, 2, 5, 9, 12, 2, 5])
    np.savez(tmp_path / "d.npz", x_train=np.zeros((10, 28, 39), np.uint8), y_train=y,
             x_test=np.zeros((10, 28, 39), np.uint8), y_test=y)
    titled = []
    monkeypatch.setattr(figures, "sample_grid_figure", lambda images, titles, path, **kw: titled.append(titles))
    monkeypatch.setattr(figures, "class_histogram_figure", lambda *a, **kw: None)
    inspect_data(tmp_path / "d.npz", tmp_path / "f")
    samples, hard = titled
    assert samples == ["02", "05", "09", "12"]
    assert sorted(t.split(" ")[0] for t in hard) == sorted(f"{v:02d}" for v in y)


def test_one_image_of_each_number_asked_first_come_titled_asked_and_read(monkeypatch, tmp_path):
    from multimnist.figures import png as figures

    shown = []
    monkeypatch.setattr(figures, "sample_grid_figure",
                        lambda images, titles, path, **kw: shown.append((images.tolist(), titles)) or path)
    asked, read = np.array([7, 3, 7, 50, 3]), np.array([7, 8, 7, 50, 3])
    images = np.arange(5).reshape(5, 1, 1)
    path = figures.one_per_number_figure(images, asked, read, np.array([True, True, True, False, True]),
                                         tmp_path / "f.png", "t")
    assert path == tmp_path / "f.png"
    assert shown == [([[[1]], [[0]], [[3]]], ["03>08", "07>07", "50>?"])]  # the first of each, in number order
    assert figures.one_per_number_figure(images[:0], asked[:0], read[:0], asked[:0] > 0, tmp_path / "g.png",
                                         "t") is None
