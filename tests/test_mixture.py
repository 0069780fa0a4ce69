"""A fitted sampler as a Gaussian mixture (latent/mixture.py): every form that is one is read, the rest refused."""

from __future__ import annotations

from multimnist.errors import UserError
from multimnist.latent.mixture import Mixture, as_mixture
from multimnist.latent.samplers import GMM, make_sampler

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture


@pytest.fixture(scope="module")
def two_clusters():
    """(600, 3) codes from two well-separated correlated clusters, 1:2."""
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.6, 0.0], [0.6, 1.0, 0.2], [0.0, 0.2, 0.5]])
    return np.concatenate([rng.multivariate_normal([-6, 0, 1], cov, 200),
                           rng.multivariate_normal([6, 2, 0], cov * 0.5, 400)])


def test_a_gmm_sampler_travels_as_its_own_components(two_clusters):
    fitted = GMM(n_components=2).fit(two_clusters)
    m = as_mixture(fitted)
    np.testing.assert_allclose(m.weights, fitted.model.weights_)
    np.testing.assert_allclose(m.means, fitted.model.means_)
    np.testing.assert_allclose(m.covariances, fitted.model.covariances_)
    assert sorted(np.round(m.weights, 2).tolist()) == [0.33, 0.67]


@pytest.mark.parametrize("kind", ["full", "tied", "diag", "spherical"])
def test_every_sklearn_covariance_type_becomes_full_covariances(two_clusters, kind):
    """A sampler holding a fitted GaussianMixture of any covariance type (as new samplers may) is read alike:
    the full matrices reproduce the model's own log-likelihood."""
    from scipy.stats import multivariate_normal

    class Chosen:  # a stand-in for a sampler that picks its covariance type on held-out likelihood
        name = "chosen"
        model = GaussianMixture(2, covariance_type=kind, random_state=0).fit(two_clusters)

    m = as_mixture(Chosen())
    assert m.covariances.shape == (2, 3, 3)
    density = sum(w * multivariate_normal(mu, c).pdf(two_clusters[:5])
                  for w, mu, c in zip(m.weights, m.means, m.covariances, strict=True))
    np.testing.assert_allclose(np.log(density), Chosen.model.score_samples(two_clusters[:5]), rtol=1e-6)


def test_single_gaussians_are_one_component(two_clusters):
    full = as_mixture(make_sampler("full-gaussian").fit(two_clusters))
    np.testing.assert_allclose(full.covariances[0], np.cov(two_clusters, rowvar=False))
    diag = as_mixture(make_sampler("gaussian").fit(two_clusters))
    np.testing.assert_allclose(np.diag(diag.covariances[0]), two_clusters.var(axis=0))
    assert diag.covariances[0][0, 1] == 0 and full.weights.tolist() == diag.weights.tolist() == [1.0]


def test_a_sampler_with_a_mixture_method_is_taken_at_its_word():
    class Own:
        name = "own"

        def mixture(self):
            return Mixture([0.5, 0.5], [[0.0], [1.0]], [[[1.0]], [[2.0]]])

    assert as_mixture(Own()).means.tolist() == [[0.0], [1.0]]


@pytest.mark.parametrize("name", ["uniform", "empirical-box"])
def test_samplers_that_are_no_gaussian_mixture_are_refused_in_one_line(two_clusters, name):
    with pytest.raises(UserError, match=f"{name}.*not a Gaussian mixture"):
        as_mixture(make_sampler(name).fit(two_clusters))
    with pytest.raises(UserError, match="not a Gaussian mixture"):  # unfitted: nothing to export yet
        as_mixture(GMM())


def test_mixture_checks_its_parameters():
    with pytest.raises(UserError, match="sum to 1"):
        Mixture([0.5, 0.2], [[0.0], [1.0]], [[[1.0]], [[1.0]]])
    with pytest.raises(UserError, match=r"\(K, L, L\)"):
        Mixture([1.0], [[0.0, 1.0]], [[[1.0]]])
    with pytest.raises(UserError, match="positive definite"):
        Mixture([1.0], [[0.0, 0.0]], [[[1.0, 2.0], [2.0, 1.0]]]).cholesky()


def test_sampling_through_cholesky_factors_reproduces_the_mixture(two_clusters):
    m = as_mixture(GMM(n_components=2).fit(two_clusters))
    x = m.sample(40000, np.random.default_rng(1))
    left = x[:, 0] < 0
    np.testing.assert_allclose(left.mean(), m.weights[np.argmin(m.means[:, 0])], atol=0.01)
    k = np.argmin(m.means[:, 0])
    np.testing.assert_allclose(np.cov(x[left], rowvar=False), m.covariances[k], atol=0.05)
    np.testing.assert_array_equal(m.sample(7, np.random.default_rng(3)), m.sample(7, np.random.default_rng(3)))


def test_a_kept_mixture_comes_back_as_fitted(tmp_path):
    """The generation step keeps each mixture sampler's fit; the explorer reads it back, not fitting again."""
    from multimnist.latent.mixture import keep_mixture, read_kept_mixture

    x = np.random.default_rng(0).normal(size=(200, 3))
    fitted = make_sampler("gmm", n_components=2).fit(x)
    keep_mixture(tmp_path / "m.npz", "gmm", "gmm, 2 components", as_mixture(fitted))
    kept = read_kept_mixture(tmp_path / "m.npz")
    assert (kept.name, kept.fitted, kept.dim) == ("gmm", "gmm, 2 components", 3)
    np.testing.assert_array_equal(as_mixture(kept).covariances, as_mixture(fitted).covariances)
    (tmp_path / "bad.npz").write_text("not an archive")
    with pytest.raises(UserError, match="cannot read the kept mixture"):
        read_kept_mixture(tmp_path / "bad.npz")
