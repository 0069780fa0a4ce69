"""Generated-image scores (pure functions), their comparison on equal footing on synthetic reads, and
generate / score_samplers end to end on tiny runs."""

from __future__ import annotations

import csv
import json

from multimnist.data import GeneratorConfig, load_mnist, make_dataset, save_dataset
from multimnist.errors import UserError
from multimnist.evaluation.generation import (
    CONFIDENT,
    DIVERSITY_N,
    ROW_KEYS,
    as_requested,
    below_half,
    compare_rows,
    diversity,
    diversity_test,
    entropy_bits,
    equal_footing,
    frechet_distance,
    intervals_overlap,
    memorization,
    nearest_distances,
    number_histogram,
    read_numbers,
    requested_share,
    score_table,
    subsample_diversity,
)
from multimnist.evaluation.noise import ALPHA, proportion_test, wilson_interval
from multimnist.experiments.autoencoder import train_autoencoder
from multimnist.experiments.generation import draw_numbers, generate, score_reads, score_samplers
from multimnist.experiments.reader import train_reader
from multimnist.experiments.scores import scores_markdown
from multimnist.files import write_json
from multimnist.latent.samplers import CONDITIONAL, LEARNED, SAMPLERS, Sampler, make_sampler

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


@pytest.mark.slow
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


@pytest.mark.slow
def test_draw_numbers_in_python(runs):
    data, ae, _ = runs
    with np.load(data / "train.npz", allow_pickle=False) as f:
        common = sorted(np.argsort(-np.bincount(f["y"]))[:2].tolist())
    images = draw_numbers(ae, common, n=3, sampler="class-gmm", data=data, seed=4)
    assert list(images) == common and all(v.shape == (3, 28, 39) and v.dtype == np.uint8 for v in images.values())
    again = draw_numbers(ae, common, n=3, sampler="class-gmm", data=data, seed=4)
    assert all(np.array_equal(images[k], again[k]) for k in common)  # same seed, same images
    with pytest.raises(UserError, match="sampler gmm cannot draw a requested number"):
        draw_numbers(ae, 37, sampler="gmm", data=data)
    with pytest.raises(UserError, match="0..99"):
        draw_numbers(ae, [5, 120], sampler="class-gmm", data=data)


@pytest.mark.slow
def test_score_table_on_tiny_runs(runs, tmp_path):
    data, ae, reader = runs
    tiny = {"steps": 100, "chunk": 100, "width": 16, "depth": 2, "noise_levels": 20}
    rows = score_samplers(ae, reader, data, tmp_path, n=40, options=dict.fromkeys(LEARNED, tiny))
    assert [r["sampler"] for r in rows] == [*SAMPLERS, "reconstruction", "real"]
    by = {r["sampler"]: r for r in rows}
    assert by["real"]["nn_ratio"] == 1.0 and by["real"]["code_nn_ratio"] == 1.0  # held-out against itself
    assert by["reconstruction"]["nn_vs_reconstruction"] == 1.0 and by["gmm"]["nn_vs_reconstruction"] > 0
    for name in CONDITIONAL:
        assert by[name]["as_requested_numbers"] > 1 and 0.0 <= by[name]["as_requested_share"] <= 1.0
        assert (tmp_path / f"{name}-numbers.png").is_file()
    assert by["gaussian"]["as_requested_share"] is None and by["reconstruction"]["as_requested_share"] is not None
    assert rows[-1]["kind"] == "real" and rows[0]["kind"] == "sampler" and rows[-2]["kind"] == "reconstruction"
    for r in rows:
        assert 0.0 <= r["readable_share"] <= 1.0 and r["frechet_distance"] >= 0 and r["nn_distance_mean"] > 0
        assert r["n"] == 40 and list(r) == list(ROW_KEYS)
        lo, hi = r["readable_share_ci"]
        assert lo <= r["readable_share"] <= hi
        assert (r["outside_1_50_ci"] is None) == (r["readable"] == 0)  # the real row's too
    with open(tmp_path / "scores.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [t["sampler"] for t in table] == [r["sampler"] for r in rows]
    assert {"readable", "readable_share", "readable_share_ci_lo", "readable_share_ci_hi", "outside_1_50_share",
            "outside_1_50_ci_lo", "distinct_numbers", "distinct_numbers_ci_hi", "entropy_bits", "frechet_distance",
            "nn_distance_mean", "near_copy_share"} <= set(table[0])
    scores = _strict_json(tmp_path / "scores.json")
    assert {"readable_threshold", "n", "equal_n", "draws", "interval", "rows", "histograms"} <= set(scores)
    assert scores["readable_threshold"] == CONFIDENT and scores["n"] == 40 and len(scores["histograms"]) == len(rows)
    assert set(scores["as_requested"]) == {*CONDITIONAL, "reconstruction", "real"}
    assert scores["autoencoder_seed"] == 0
    assert [r["sampler"] for r in scores["rows"]] == [r["sampler"] for r in rows]
    for name in ("scores.md", "scores.json", "histograms.csv", "read_numbers.png",
                 *[f"{s}.png" for s in SAMPLERS], *[f"{s}.npz" for s in SAMPLERS], "real.png",
                 "reconstruction.png"):
        assert (tmp_path / name).is_file(), name

    # Scored again with the same autoencoder, reader and settings (a later look adding autoencoder seeds): kept,
    # nothing drawn or fitted again; another setting scores again.
    stamp = (tmp_path / "scores.json").stat().st_mtime_ns
    assert score_samplers(ae, reader, data, tmp_path, n=40, options=dict.fromkeys(LEARNED, tiny)) == rows
    assert (tmp_path / "scores.json").stat().st_mtime_ns == stamp
    again = score_samplers(ae, reader, data, tmp_path, n=40, samplers=["gaussian"])
    assert [r["sampler"] for r in again] == ["gaussian", "reconstruction", "real"]
    stamp = (tmp_path / "scores.json").stat().st_mtime_ns
    (tmp_path / "gaussian.npz").unlink()  # a file gone: scored again
    assert score_samplers(ae, reader, data, tmp_path, n=40, samplers=["gaussian"])[0]["sampler"] == "gaussian"
    assert (tmp_path / "scores.json").stat().st_mtime_ns != stamp and (tmp_path / "gaussian.npz").is_file()
    md = (tmp_path / "scores.md").read_text()
    equal_n = "none" if scores["equal_n"] is None else scores["equal_n"]  # a 1-epoch reader may read nothing
    assert "claims table" in md and f"Readable threshold: {CONFIDENT}" in md and f"equal_n: {equal_n}" in md
    assert rows[-1]["near_copy_share"] <= 0.05  # by construction: the 1st percentile of real images


# --- memorization and numbers asked: pure functions ---

class _Copier(Sampler):
    """A sampler that returns training codes: what memorization must flag."""

    name = "copier"

    def _fit(self, x, labels, val, val_labels):
        self.x = x

    def _sample(self, n, rng):
        return self.x[rng.choice(len(self.x), n)]


def test_memorization_flags_a_sampler_that_returns_training_codes():
    rng = np.random.default_rng(0)
    train, held_out = rng.normal(size=(3000, 8)), rng.normal(size=(300, 8))
    held_nn = nearest_distances(held_out, train)[1]
    copies = _Copier().fit(train).sample(300, np.random.default_rng(1))
    fresh = make_sampler("full-gaussian").fit(train).sample(300, np.random.default_rng(1))
    copied = memorization(nearest_distances(copies, train)[1], held_nn)
    new = memorization(nearest_distances(fresh, train)[1], held_nn)
    assert copied["ratio"] == pytest.approx(0.0, abs=1e-6) and copied["p_closer"] < 1e-10
    assert 0.85 < new["ratio"] < 1.15 and new["p_closer"] > ALPHA
    # half copies, half new: closer than held-out beyond noise still
    mixed = np.concatenate([copies[:150], fresh[:150]])
    assert memorization(nearest_distances(mixed, train)[1], held_nn)["p_closer"] < 1e-6


def test_memorization_reaches_the_scores_row():
    rng = np.random.default_rng(0)
    tens, units = _probs_of(rng.integers(10, 50, 100), np.ones(100, bool))
    r = {"tens": tens, "units": units, "features": rng.normal(size=(100, 4))}
    held = rng.uniform(0.5, 1.0, 100)
    copy = score_reads("copier", "copier", r, np.zeros((100, 1092)), rng.normal(size=(200, 4)), np.zeros(100),
                       copy_below=0.01, real_nn=held, code_nn=np.zeros(100), real_code_nn=held)
    assert copy.row["nn_ratio"] == 0.0 and copy.row["code_closer_p"] < 1e-10
    fresh = score_reads("fresh", "fresh", r, np.zeros((100, 1092)), rng.normal(size=(200, 4)), held[::-1].copy(),
                        copy_below=0.01, real_nn=held, code_nn=held[::-1].copy(), real_code_nn=held)
    assert fresh.row["nn_ratio"] == 1.0 and fresh.row["code_closer_p"] > 0.4


def test_the_share_read_as_the_number_asked():
    asked = np.array([5] * 4 + [7] * 2)
    numbers = np.array([5, 5, 6, 5, 7, 7])
    readable = np.array([True, True, True, False, True, False])
    by = as_requested(numbers, readable, asked)
    assert by == {5: [2, 4], 7: [1, 2]}
    assert requested_share(by) == pytest.approx((2 / 4 + 1 / 2) / 2)  # each number weighs the same
    assert requested_share({}) is None
    reference = {5: [9, 10], 7: [9, 10], 8: [10, 10]}
    assert below_half({5: [4, 10], 7: [5, 10]}, reference) == 1  # 40% < 45%, 50% is not
    assert below_half({5: [1, 2]}, reference) is None  # too few images to say


def _strict_json(path):
    def refuse(constant):
        raise ValueError(f"{path} holds {constant}: not strict JSON")
    return json.loads(path.read_text(), parse_constant=refuse)


# --- equal footing: synthetic reads, no training ---

ZIPF = 1 / np.arange(1, 101) ** 1.1 / (1 / np.arange(1, 101) ** 1.1).sum()  # many rare numbers: counts keep growing


def test_wilson_interval_matches_published_values():
    # Newcombe (1998), Statistics in Medicine 17:857, table I, method 3 (score interval without correction)
    for (k, n), (lo, hi) in {(81, 263): (0.2553, 0.3662), (15, 148): (0.0624, 0.1605), (0, 20): (0.0, 0.1611),
                             (1, 29): (0.0061, 0.1718)}.items():
        assert wilson_interval(k, n) == pytest.approx([lo, hi], abs=5e-5)
    assert wilson_interval(0, 0) is None
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)


def test_proportion_test_separates_shares_beyond_noise_only():
    assert proportion_test(5, 1000, 5, 1000) == pytest.approx(1.0)
    assert proportion_test(5, 1000, 30, 1000) < 1e-3  # the reader's 0.5% on real images vs a sampler's 3%
    assert proportion_test(5, 1000, 8, 1000) > ALPHA
    assert proportion_test(30, 1000, 5, 1000) == pytest.approx(proportion_test(5, 1000, 30, 1000))
    assert proportion_test(0, 0, 3, 10) is None


def test_diversity_of_subsets_matches_the_histogram():
    rng = np.random.default_rng(0)
    samples = rng.choice(100, (7, 60), p=ZIPF)
    distinct, entropy = diversity(samples)
    for row, d, e in zip(samples, distinct, entropy, strict=True):
        counts = number_histogram(row)
        assert d == (counts > 0).sum() and e == pytest.approx(entropy_bits(counts))


def test_equal_footing_does_not_favour_a_sampler_for_reading_more_images():
    """Two samplers reading numbers from the same distribution, one with 100 readable images, one with 600."""
    raw, equal, alarms = [], [], 0
    for s in range(20):
        rng = np.random.default_rng(s)
        few, many = rng.choice(100, 100, p=ZIPF), rng.choice(100, 600, p=ZIPF)
        m, fig = equal_footing({"few": few, "many": many}, seed=s, min_readable=100)
        assert m == 100 and fig["few"]["distinct_numbers_ci"][0] == fig["few"]["distinct_numbers_ci"][1]  # all kept
        raw.append(len(set(many)) - len(set(few)))
        equal.append(fig["many"]["distinct_numbers"] - fig["few"]["distinct_numbers"])
        tests = diversity_test(many, few, m, seed=s)
        alarms += any(t["p_value"] < ALPHA for t in tests.values())
        if s == 0:
            assert intervals_overlap(fig["few"]["distinct_numbers_ci"], fig["many"]["distinct_numbers_ci"])
            assert intervals_overlap(fig["few"]["entropy_bits_ci"], fig["many"]["entropy_bits_ci"])
    assert min(raw) >= 25  # counted on all readable images, the larger set always shows far more numbers
    assert abs(np.mean(equal)) < 2.5  # on equal footing, no systematic gap
    assert alarms <= 3  # of 20, both measures: false alarms near the tests' level, not a systematic verdict


def test_diversity_test_separates_different_distributions():
    rng = np.random.default_rng(0)
    wide, narrow = rng.choice(np.arange(1, 51), 300), rng.choice(np.arange(1, 11), 300)
    tests = diversity_test(wide, narrow, 300)
    assert tests["distinct_numbers"]["difference"] == pytest.approx(40.0)
    assert tests["entropy_bits"]["difference"] > 2 and all(t["p_value"] < 0.01 for t in tests.values())


def test_equal_footing_needs_enough_readable_images():
    rng = np.random.default_rng(0)
    m, fig = equal_footing({"a": rng.choice(100, 300), "b": rng.choice(100, 50), "c": rng.choice(100, 19)})
    assert m == DIVERSITY_N and fig["c"]["distinct_numbers"] is None and fig["c"]["entropy_bits_ci"] is None
    assert "19 readable images" in fig["c"]["diversity_note"] and fig["a"]["diversity_note"] is None
    m, fig = equal_footing({"a": rng.choice(100, 5)})
    assert m is None and fig["a"]["distinct_numbers"] is None


def test_subsampling_is_seeded():
    read = np.random.default_rng(0).choice(100, 400, p=ZIPF)
    assert subsample_diversity(read, 50, seed=3) == subsample_diversity(read, 50, seed=3)
    assert subsample_diversity(read, 50, seed=3) != subsample_diversity(read, 50, seed=4)
    assert diversity_test(read, read[:200], 50, seed=1) == diversity_test(read, read[:200], 50, seed=1)


def _probs_of(numbers, readable):
    """Reader outputs that read `numbers`, confidently where `readable`."""
    confidence = np.where(readable, 0.95, 0.5)
    tens, units = (np.full((len(numbers), 10), ((1 - confidence) / 9)[:, None]) for _ in range(2))
    tens[np.arange(len(numbers)), numbers // 10] = confidence
    units[np.arange(len(numbers)), numbers % 10] = confidence
    return tens, units


def _synthetic_set(name, rng, n, readable, numbers, outside, feature_shift):
    """n images of which `readable` are read with confidence: `numbers` drawn among them, `outside` read as 98."""
    read = rng.choice(numbers, n)
    read[:outside] = 98  # among the first `readable` images, which the reader is sure of
    tens, units = _probs_of(read, np.arange(n) < readable)
    r = {"tens": tens, "units": units, "features": rng.normal(feature_shift, 1.0, (n, 4))}
    return score_reads(name, name, r, np.zeros((n, 1092)), np.zeros((1, 4)) + rng.normal(size=(500, 4)),
                       rng.random(n), copy_below=0.01)


def _synthetic_table(seed=0):
    rng = np.random.default_rng(7)
    one_to_fifty = np.arange(1, 51)
    scored = {"uniform": _synthetic_set("uniform", rng, 1000, 60, one_to_fifty, 2, 2.0),
              "gaussian": _synthetic_set("gaussian", rng, 1000, 400, one_to_fifty, 12, 1.0),
              "gmm": _synthetic_set("gmm", rng, 1000, 600, one_to_fifty, 4, 0.2),
              "narrow": _synthetic_set("narrow", rng, 1000, 500, np.arange(1, 6), 0, 0.1),
              "real": _synthetic_set("real", rng, 1000, 950, one_to_fifty, 5, 0.0)}
    return score_table(scored, 1000, seed)


def test_score_table_puts_every_row_on_equal_footing(tmp_path):
    table = _synthetic_table()
    by = {r["sampler"]: r for r in table["rows"]}
    assert table["equal_n"] == DIVERSITY_N and table["readable_threshold"] == CONFIDENT and table["n"] == 1000
    assert [r["kind"] for r in table["rows"]] == ["sampler"] * 4 + ["real"]
    real = by["real"]
    assert real["readable"] == 950 and real["outside_1_50"] == 5
    assert real["outside_1_50_share"] == pytest.approx(5 / 950)
    assert real["outside_1_50_ci"] == pytest.approx(wilson_interval(5, 950))  # the reader's own error, bounded
    # Fisher: the gaussian's 12 of 400 lie beyond the reader's 5 of 950, the gmm's 4 of 600 do not
    tests = {(c["sampler"], c["against"], c["measure"]): c for c in table["comparisons"]}
    assert tests["gaussian", "real", "outside_1_50_share"]["beyond_noise"]
    assert not tests["gmm", "real", "outside_1_50_share"]["beyond_noise"]
    assert not tests["gmm", "gaussian", "distinct_numbers"]["beyond_noise"]  # same numbers, more readable images
    assert tests["narrow", "gaussian", "distinct_numbers"]["difference"] < 0
    assert tests["narrow", "gaussian", "distinct_numbers"]["beyond_noise"]
    assert by["narrow"]["distinct_numbers"] == pytest.approx(5.0, abs=0.1)  # 20 of 5 numbers: nearly always all
    write_json(tmp_path / "scores.json", table)
    scores = _strict_json(tmp_path / "scores.json")
    assert set(scores) == {"readable_threshold", "n", "equal_n", "min_readable", "draws", "interval", "alpha",
                           "rows", "comparisons", "as_requested"}
    for row in scores["rows"]:
        assert list(row) == sorted(ROW_KEYS)  # write_json sorts keys
        for k in ("readable_share_ci", "distinct_numbers_ci", "entropy_bits_ci", "outside_1_50_ci"):
            assert len(row[k]) == 2 and row[k][0] <= row[k][1]
    assert json.dumps(_synthetic_table(), sort_keys=True) == json.dumps(table, sort_keys=True)  # same seed
    assert _synthetic_table(seed=1)["rows"] != table["rows"]


def test_scores_markdown_states_the_footing_and_leaves_the_verdict_to_the_claims():
    md = scores_markdown(_synthetic_table())
    head, table_and_verdict = md.split("| sampler", 1)
    assert f"Readable threshold: {CONFIDENT}" in head and f"equal_n: {DIVERSITY_N}" in head and "Wilson" in head
    assert "| gmm |" in table_and_verdict and "| real |" in table_and_verdict
    verdict = md.strip().splitlines()[-1]
    assert "claims table compares the samplers across autoencoder seeds" in verdict


def _row(name, fd, readable, n=1000, kind="sampler", outside=0):
    k = round(readable * n)
    return {"sampler": name, "kind": kind, "n": n, "readable": k, "readable_share": k / n,
            "readable_share_ci": wilson_interval(k, n), "frechet_distance": fd, "distinct_numbers": None,
            "diversity_note": "not measured", "outside_1_50": outside, "outside_1_50_share": outside / k,
            "outside_1_50_ci": wilson_interval(outside, k)}


def test_compare_rows_tests_each_sampler_against_algorithm_2_and_the_controls():
    rows = [_row("gaussian", 55.0, 0.2, outside=3), _row("gmm", 30.0, 0.3),
            _row("reconstruction", 20.0, 0.7, kind="reconstruction", outside=6), _row("real", 0.0, 0.95, kind="real",
                                                                                      outside=5)]
    tests = {(c["sampler"], c["against"], c["measure"]) for c in compare_rows(rows)}
    assert ("gmm", "gaussian", "readable_share") in tests
    assert ("gaussian", "reconstruction", "outside_1_50_share") in tests
    assert ("gaussian", "real", "readable_share") in tests
    assert not any(s in ("real", "reconstruction") for s, _, _ in tests)  # controls are references, not samplers
