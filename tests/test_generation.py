"""Generated-image scores (pure functions), and generate / score_samplers end to end on tiny runs."""

from __future__ import annotations

import csv
import json

from multimnist.data import GeneratorConfig, load_mnist, make_dataset, save_dataset
from multimnist.errors import UserError
from multimnist.evaluation.generation import (
    entropy_bits,
    frechet_distance,
    nearest_distances,
    number_histogram,
    read_numbers,
)
from multimnist.experiments.autoencoder import train_autoencoder
from multimnist.experiments.generation import generate, score_samplers
from multimnist.experiments.reader import train_reader
from multimnist.latent.samplers import SAMPLERS

import numpy as np
import pytest

TINY_READER = ["model.conv=[]", "model.kernels=[]", "model.dense=[32]", "training.batch_size=180"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("generation")
    data = save_dataset(make_dataset(load_mnist(), GeneratorConfig(train_size=300), seed=0), root / "data")
    train_autoencoder("autoencoder", data, root / "ae", epochs=1)
    train_reader(root / "reader", epochs=1, train_size=200, overrides=TINY_READER)
    return data, root / "ae", root / "reader"


def _probs(digits, confidence):
    p = np.full((len(digits), 10), (1 - confidence) / 9)
    p[np.arange(len(digits)), digits] = confidence
    return p


def test_read_numbers_needs_both_heads_confident():
    tens, units = _probs([9, 0, 4], 0.95), _probs([8, 7, 2], 0.95)
    units[2] = _probs([2], 0.5)[0]
    numbers, readable = read_numbers(tens, units)
    assert numbers.tolist() == [98, 7, 42] and readable.tolist() == [True, True, False]


def test_entropy_and_histogram():
    assert entropy_bits(number_histogram(np.arange(100))) == pytest.approx(np.log2(100))
    assert entropy_bits(number_histogram([7, 7, 7])) == 0.0
    assert entropy_bits(np.zeros(100)) == 0.0
    assert number_histogram([3, 3, 99]).tolist()[3] == 2


def test_frechet_distance():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 5))
    a -= a.mean(axis=0)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(a, a + 2.0) == pytest.approx(5 * 4.0, rel=1e-6)  # only the means differ
    assert frechet_distance(a, 3 * a) == pytest.approx(np.trace(np.cov(a, rowvar=False)) * 4, rel=1e-6)
    dead = np.concatenate([a, np.zeros((4000, 3))], axis=1)  # ReLU units that never fire: singular covariances
    assert np.isfinite(frechet_distance(dead, dead + 0.1))


def test_nearest_distances_find_copies():
    rng = np.random.default_rng(0)
    train = rng.random((50, 1092))
    idx, dist = nearest_distances(np.stack([train[7], train[3] + 0.1]), train)
    assert idx.tolist() == [7, 3] and dist[0] == pytest.approx(0.0, abs=1e-6) and dist[1] == pytest.approx(0.1)


def test_generate_writes_seeded_images(runs, tmp_path):
    _, ae, _ = runs
    out = generate(ae, "gaussian", 12, tmp_path / "a", seed=3)
    with np.load(out / "images.npz", allow_pickle=False) as f:
        images, codes = f["images"], f["codes"]
    assert images.shape == (12, 28, 39) and images.dtype == np.uint8 and codes.shape == (12, 54)
    assert (out / "grid.png").is_file() and json.loads((out / "generate.json").read_text())["seed"] == 3
    with np.load(generate(ae, "gaussian", 12, tmp_path / "b", seed=3) / "images.npz", allow_pickle=False) as f:
        np.testing.assert_array_equal(f["images"], images)
    generate(ae, "uniform", 5, tmp_path / "c", fit_on="test")
    with pytest.raises(UserError, match="fit_on"):
        generate(ae, "gaussian", 5, tmp_path / "d", fit_on="val")
    with pytest.raises(UserError, match="no finished autoencoder"):
        generate(tmp_path, "gaussian", 5, tmp_path / "e")


def test_score_table_on_tiny_runs(runs, tmp_path):
    data, ae, reader = runs
    rows = score_samplers(ae, reader, data, tmp_path, n=40)
    assert [r["sampler"] for r in rows] == [*SAMPLERS, "real"]
    assert rows[-1]["kind"] == "reference" and rows[0]["kind"] == "sampler"
    for r in rows:
        assert 0.0 <= r["readable_share"] <= 1.0 and r["frechet_distance"] >= 0 and r["nn_distance_mean"] > 0
        assert r["n"] == 40
    with open(tmp_path / "scores.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [t["sampler"] for t in table] == [r["sampler"] for r in rows]
    assert {"readable_share", "outside_1_50_share", "distinct_numbers", "entropy_bits", "frechet_distance",
            "nn_distance_mean", "near_copy_share"} <= set(table[0])
    for name in ("scores.md", "scores.json", "histograms.csv", "read_numbers.png",
                 *[f"{s}.png" for s in SAMPLERS], *[f"{s}.npz" for s in SAMPLERS], "real.png"):
        assert (tmp_path / name).is_file(), name
    assert "Algorithm 2" in (tmp_path / "scores.md").read_text()
    assert rows[-1]["near_copy_share"] <= 0.05  # by construction: the 1st percentile of real images


def test_sampler_verdict_weighs_the_readable_share_against_its_noise():
    from multimnist.experiments.generation import sampler_verdict

    def row(name, fd, readable):
        return {"sampler": name, "kind": "sampler", "n": 1000, "frechet_distance": fd, "readable_share": readable}

    text = sampler_verdict([row("gaussian", 55.0, 0.20), row("gmm", 30.0, 0.30), row("full-gaussian", 45.0, 0.205),
                            row("uniform", 130.0, 0.07)])
    assert "beyond 2 standard errors): gmm" in text and "within noise of Algorithm 2's: full-gaussian" in text
    assert "Lowest Frechet distance: gmm" in text
    assert "no sampler" in sampler_verdict([row("gaussian", 55.0, 0.2), row("uniform", 130.0, 0.07)])
