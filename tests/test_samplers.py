"""Latent samplers: each reproduces the moments it was fitted on, draws only from the generator it is given."""

from __future__ import annotations

from multimnist.errors import UserError
from multimnist.latent.samplers import (
    CONDITIONAL,
    LEARNED,
    SAMPLERS,
    STUDY_SAMPLERS,
    describe,
    make_sampler,
)

import numpy as np
import pytest

N = 20000


@pytest.fixture(scope="module")
def correlated():
    """(N, 4) correlated Gaussian encodings, positive-ish like LeakyReLU codes."""
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.8, 0.0, 0.2], [0.8, 1.0, 0.0, 0.0], [0.0, 0.0, 0.25, 0.1], [0.2, 0.0, 0.1, 0.5]])
    return rng.multivariate_normal([2.0, 3.0, 0.5, 1.0], cov, size=N)


def test_the_study_samplers_come_first():
    assert SAMPLERS[: len(STUDY_SAMPLERS)] == ("uniform", "gaussian")
    assert set(SAMPLERS) == {"uniform", "gaussian", "full-gaussian", "gmm", "empirical-box", "gmm-val", "class-gmm",
                             "diffusion", "class-diffusion"}
    assert set(CONDITIONAL) == {"class-gmm", "class-diffusion"}


def test_uniform_ignores_the_encodings(correlated):
    x = make_sampler("uniform").fit(correlated).sample(N, np.random.default_rng(1))
    assert x.shape == (N, 4) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_allclose(x.mean(axis=0), 0.5, atol=0.02)


def test_gaussian_matches_per_dimension_moments_but_not_correlations(correlated):
    x = make_sampler("gaussian").fit(correlated).sample(N, np.random.default_rng(1))
    np.testing.assert_allclose(x.mean(axis=0), correlated.mean(axis=0), atol=0.03)
    np.testing.assert_allclose(x.std(axis=0), correlated.std(axis=0), rtol=0.03)
    assert abs(np.corrcoef(x[:, 0], x[:, 1])[0, 1]) < 0.05  # Algorithm 2 drops the 0.8 correlation


def test_full_gaussian_matches_mean_and_covariance(correlated):
    x = make_sampler("full-gaussian").fit(correlated).sample(N, np.random.default_rng(1))
    np.testing.assert_allclose(x.mean(axis=0), correlated.mean(axis=0), atol=0.03)
    np.testing.assert_allclose(np.cov(x, rowvar=False), np.cov(correlated, rowvar=False), atol=0.05)


def test_gmm_finds_two_modes_by_bic_and_matches_moments():
    rng = np.random.default_rng(0)
    data = np.concatenate([rng.normal(-3, 0.5, size=(4000, 3)), rng.normal(3, 1.0, size=(6000, 3))])
    sampler = make_sampler("gmm").fit(data)
    assert sampler.chosen == 2 and "2 components (by BIC)" in describe(sampler)
    x = sampler.sample(N, np.random.default_rng(1))
    np.testing.assert_allclose(x.mean(axis=0), data.mean(axis=0), atol=0.08)
    np.testing.assert_allclose(np.cov(x, rowvar=False), np.cov(data, rowvar=False), rtol=0.05, atol=0.05)
    assert 0.37 < (x[:, 0] < 0).mean() < 0.43  # the 40/60 weights survive
    assert make_sampler("gmm", n_components=3).fit(data).chosen == 3


def test_empirical_box_stays_in_the_observed_range(correlated):
    x = make_sampler("empirical-box").fit(correlated).sample(N, np.random.default_rng(1))
    lo, hi = correlated.min(axis=0), correlated.max(axis=0)
    assert (x >= lo - 1e-5).all() and (x <= hi + 1e-5).all()
    np.testing.assert_allclose(x.mean(axis=0), (lo + hi) / 2, atol=0.1)


TINY_DIFFUSION = {"steps": 200, "chunk": 100, "width": 32, "depth": 2, "noise_levels": 50}


def _tiny(name):
    return TINY_DIFFUSION if name in LEARNED else {}


@pytest.mark.parametrize("name", SAMPLERS)
def test_sampling_is_seeded(name, correlated):
    labels = np.arange(2000) % 3 + 1
    s = make_sampler(name, **_tiny(name)).fit(correlated[:2000], labels)
    a, b = s.sample(50, np.random.default_rng(7)), s.sample(50, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, s.sample(50, np.random.default_rng(8)))


def test_mistakes_are_user_errors(correlated):
    with pytest.raises(UserError, match="unknown sampler"):
        make_sampler("vae")
    with pytest.raises(UserError, match="finite encodings"):
        make_sampler("gaussian").fit(np.full((10, 3), np.nan))
    with pytest.raises(UserError, match="finite encodings"):
        make_sampler("gaussian").fit(np.ones(10))


# --- issue 32: densities chosen on validation codes, conditional on the number, learned ---

def _clusters(n=3000, seed=0):
    """Codes of numbers 1, 2, 3, each a tight cluster far from the others: (codes (n, 4), numbers (n,))."""
    rng = np.random.default_rng(seed)
    numbers = rng.integers(1, 4, size=n)
    centres = np.array([[0, 0, 0, 0], [4, -4, 8, 2], [8, 0, -4, -2], [-4, 8, 4, 6]], dtype=float)
    return centres[numbers] + 0.3 * rng.normal(size=(n, 4)), numbers, centres


def _nearest_centre(x, centres):
    return np.argmin(((x[:, None, :] - centres[None, 1:, :]) ** 2).sum(axis=2), axis=1) + 1


def test_gmm_val_chooses_components_on_the_validation_codes():
    x, numbers, _ = _clusters()
    s = make_sampler("gmm-val", candidates=(1, 2, 3, 4, 5)).fit(x[:2000], val=x[2000:])
    assert s.chosen[0] == 3 and "by validation likelihood" in describe(s)
    assert max(s.val_loglik, key=s.val_loglik.get) == f"{s.chosen[0]} {s.chosen[1]}"
    assert s.val_loglik["1 full"] < s.val_loglik["2 full"] < s.val_loglik["3 full"]
    # no validation codes given: a seeded tenth is held out, with the same outcome
    assert make_sampler("gmm-val", candidates=(1, 2, 3, 4, 5)).fit(x).chosen[0] == 3
    with pytest.raises(UserError, match="dimensions"):
        make_sampler("gmm-val").fit(x, val=x[:, :3])


def test_an_em_fit_that_runs_out_of_iterations_says_so_in_one_log_line(caplog):
    import logging
    import warnings

    from multimnist.latent.samplers import _fit_em

    from sklearn.mixture import GaussianMixture

    x, _, _ = _clusters()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning reaching the caller would fail here
        with caplog.at_level(logging.INFO):
            model = _fit_em(GaussianMixture(5, max_iter=1, random_state=0), x[:2000], "gmm-val")
    assert model.n_iter_ == 1 and not model.converged_
    assert "gmm-val: 5 full components stopped at EM's 1 iterations before converging" in caplog.text


def test_class_gmm_draws_the_number_asked(correlated):
    x, numbers, centres = _clusters()
    s = make_sampler("class-gmm").fit(x[:2000], numbers[:2000], x[2000:], numbers[2000:])
    assert s.classes.tolist() == [1, 2, 3] and s.chosen == 1 and "per number" in describe(s)
    for k in (1, 2, 3):
        drawn = s.sample(200, np.random.default_rng(k), numbers=k)
        assert drawn.shape == (200, 4) and (_nearest_centre(drawn, centres) == k).all()
    asked = np.array([3, 1, 2, 2] * 25)
    assert (_nearest_centre(s.sample(100, np.random.default_rng(0), numbers=asked), centres) == asked).all()
    free = _nearest_centre(s.sample(3000, np.random.default_rng(1)), centres)  # unconditional: the numbers' shares
    np.testing.assert_allclose(np.bincount(free, minlength=4)[1:] / 3000, np.bincount(numbers[:2000])[1:] / 2000,
                               atol=0.03)
    with pytest.raises(UserError, match="cannot draw 7"):
        s.sample(5, np.random.default_rng(0), numbers=7)
    with pytest.raises(UserError, match="one number for all 5 codes or one per code, got 2"):
        s.sample(5, np.random.default_rng(0), numbers=[1, 2])
    with pytest.raises(UserError, match="needs the number of every encoding"):
        make_sampler("class-gmm").fit(x)
    with pytest.raises(UserError, match="one integer number per encoding"):
        make_sampler("class-gmm").fit(x, numbers[:10])


@pytest.mark.parametrize("name", ["gaussian", "gmm-val", "diffusion"])
def test_a_sampler_that_cannot_condition_says_so(name, correlated):
    s = make_sampler(name, **_tiny(name)).fit(correlated[:500])
    with pytest.raises(UserError, match=f"sampler {name} cannot draw a requested number; conditional samplers: "
                                        "class-gmm, class-diffusion"):
        s.sample(5, np.random.default_rng(0), numbers=37)


LEARNING = {**TINY_DIFFUSION, "steps": 2000, "chunk": 1000, "width": 64}  # enough to separate three modes


@pytest.mark.slow
def test_diffusion_learns_the_modes_and_is_seeded():
    x, numbers, centres = _clusters()
    s = make_sampler("diffusion", **LEARNING).fit(x[:2000], val=x[2000:])
    drawn = s.sample(900, np.random.default_rng(0))
    assert drawn.shape == (900, 4) and drawn.dtype == np.float32 and np.isfinite(drawn).all()
    near = _nearest_centre(drawn, centres)
    shares = np.bincount(near, minlength=4)[1:] / len(near)
    assert (shares > 0.2).all()  # all three modes, none dropped
    dist = np.sqrt(((drawn - centres[near]) ** 2).sum(axis=1))
    assert np.median(dist) < 1.5  # near a mode (sd 0.3 a coordinate: 0.6 typical), not smeared between them
    assert len(s.model.history) == 2 and s.model.best_loss == min(h[2] for h in s.model.history)
    tiny = [make_sampler("diffusion", seed=seed, **TINY_DIFFUSION).fit(x[:500]) for seed in (0, 0, 1)]
    a, b, c = (t.sample(50, np.random.default_rng(0)) for t in tiny)
    np.testing.assert_array_equal(a, b)  # same seed, same bytes
    assert not np.array_equal(a, c)


@pytest.mark.slow
def test_class_diffusion_draws_the_number_asked():
    x, numbers, centres = _clusters()
    s = make_sampler("class-diffusion", **LEARNING).fit(
        x[:2000], numbers[:2000], x[2000:], numbers[2000:])
    asked = np.repeat([1, 2, 3], 100)
    hits = _nearest_centre(s.sample(300, np.random.default_rng(0), numbers=asked), centres) == asked
    assert hits.mean() > 0.95
    with pytest.raises(UserError, match="cannot draw 9"):
        s.sample(3, np.random.default_rng(0), numbers=9)


@pytest.mark.slow
def test_diffusion_resumes_from_its_checkpoint_to_the_same_bytes(tmp_path, monkeypatch):
    from multimnist.latent import diffusion

    x, _, _ = _clusters(600)
    whole = make_sampler("diffusion", **TINY_DIFFUSION).fit(x)
    saves, save = [], diffusion.LatentDiffusion._save

    def interrupted(self, state, fingerprint):
        save(self, state, fingerprint)
        saves.append(state["step"])
        if len(saves) == 1:
            raise KeyboardInterrupt  # as if stopped after the first chunk

    monkeypatch.setattr(diffusion.LatentDiffusion, "_save", interrupted)
    ckpt = tmp_path / "fit.npz"
    with pytest.raises(KeyboardInterrupt):
        make_sampler("diffusion", checkpoint=ckpt, **TINY_DIFFUSION).fit(x)
    resumed = make_sampler("diffusion", checkpoint=ckpt, **TINY_DIFFUSION).fit(x)
    assert saves == [100, 200]  # the second fit ran only the second chunk
    for a, b in zip(whole.model.params, resumed.model.params, strict=True):
        np.testing.assert_array_equal(a, b)
    loaded = make_sampler("diffusion", checkpoint=ckpt, **TINY_DIFFUSION).fit(x)  # finished: loaded, not trained
    assert saves == [100, 200]
    np.testing.assert_array_equal(loaded.sample(20, np.random.default_rng(3)),
                                  whole.sample(20, np.random.default_rng(3)))
    other = make_sampler("diffusion", checkpoint=ckpt, **{**TINY_DIFFUSION, "width": 16}).fit(x)  # other settings
    assert saves == [100, 200, 100, 200] and other.model.params[0].shape[1] == 16


def test_diffusion_options_are_checked():
    with pytest.raises(UserError, match="steps must be positive"):
        make_sampler("diffusion", steps=0)
    with pytest.raises(UserError, match="unexpected keyword"):
        make_sampler("diffusion", depht=3)
