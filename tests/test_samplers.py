"""Latent samplers: each reproduces the moments it was fitted on, draws only from the generator it is given."""

from __future__ import annotations

from multimnist.errors import UserError
from multimnist.latent.samplers import SAMPLERS, STUDY_SAMPLERS, describe, make_sampler

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
    assert set(SAMPLERS) == {"uniform", "gaussian", "full-gaussian", "gmm", "empirical-box"}


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


@pytest.mark.parametrize("name", SAMPLERS)
def test_sampling_is_seeded(name, correlated):
    s = make_sampler(name).fit(correlated[:2000])
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
