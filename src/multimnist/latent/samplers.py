"""Distributions over the latent space, fitted on encodings and sampled to feed the decoder (study 5.4).

Each sampler has `fit(encodings) -> self` and `sample(n, rng) -> (n, L) float32`; sampling draws only from
the `numpy.random.Generator` it is given, so a seed fixes the images. The study tried `uniform` first, then
`gaussian` (its Algorithm 2); the others model what Algorithm 2 leaves out (correlations, several modes,
the observed range).
"""

from __future__ import annotations

from multimnist.errors import UserError

import numpy as np

STUDY_SAMPLERS = ("uniform", "gaussian")  # in the order the study tried them; SAMPLERS (below) lists them first


class Sampler:
    name = ""

    def fit(self, encodings: np.ndarray) -> Sampler:
        encodings = np.asarray(encodings, dtype=np.float64)
        if encodings.ndim != 2 or len(encodings) < 2 or not np.isfinite(encodings).all():
            raise UserError(f"{self.name}: need finite encodings of shape (N >= 2, L), got {encodings.shape}")
        self.dim = encodings.shape[1]
        self._fit(encodings)
        return self

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if not hasattr(self, "dim"):
            raise RuntimeError(f"{self.name} sampler used before fit")
        return np.asarray(self._sample(int(n), rng), dtype=np.float32)

    def _fit(self, x: np.ndarray) -> None:
        pass


class Uniform(Sampler):
    """U(low, high) in every dimension, whatever the encodings look like: the study's first try."""

    name = "uniform"

    def __init__(self, low: float = 0.0, high: float = 1.0):
        self.low, self.high = low, high

    def _sample(self, n, rng):
        return rng.uniform(self.low, self.high, size=(n, self.dim))


class Gaussian(Sampler):
    """Algorithm 2: an independent N(mean_j, std_j) per latent dimension j."""

    name = "gaussian"

    def _fit(self, x):
        self.mean, self.std = x.mean(axis=0), x.std(axis=0)

    def _sample(self, n, rng):
        return rng.normal(self.mean, self.std, size=(n, self.dim))


class FullGaussian(Sampler):
    """One multivariate normal with the encodings' full covariance (keeps correlations between dimensions)."""

    name = "full-gaussian"

    def _fit(self, x):
        self.mean, self.cov = x.mean(axis=0), np.cov(x, rowvar=False).reshape(self.dim, self.dim)

    def _sample(self, n, rng):
        return rng.multivariate_normal(self.mean, self.cov, size=n, method="eigh")


class GMM(Sampler):
    """A scikit-learn Gaussian mixture (full covariances); components set, or chosen by BIC.

    The BIC search tries the candidates in increasing order and stops once BIC gets worse, so it fits only
    one mixture past the best.
    """

    name = "gmm"

    def __init__(self, n_components: int | None = None, candidates=(1, 2, 4, 8, 16, 32), max_fit: int = 10000,
                 seed: int = 0):
        self.n_components, self.candidates, self.max_fit, self.seed = n_components, tuple(candidates), max_fit, seed

    def _fit(self, x):
        from sklearn.mixture import GaussianMixture

        if len(x) > self.max_fit:  # a fixed random subset keeps fitting affordable; it is plenty for 54 dims
            x = x[np.sort(np.random.default_rng(self.seed).choice(len(x), self.max_fit, replace=False))]
        options = [self.n_components] if self.n_components else [k for k in self.candidates if k <= len(x) // 2]
        self.bic, best = {}, None
        for k in options:
            model = GaussianMixture(k, covariance_type="full", reg_covar=1e-5, random_state=self.seed).fit(x)
            self.bic[k] = float(model.bic(x))
            if best is not None and self.bic[k] >= self.bic[best.n_components]:
                break
            best = model
        self.model, self.chosen = best, best.n_components

    def _sample(self, n, rng):
        self.model.random_state = int(rng.integers(2**31 - 1))
        x, _ = self.model.sample(n)  # comes back grouped by component: shuffle
        return x[rng.permutation(n)]


class EmpiricalBox(Sampler):
    """Uniform within each dimension's observed min..max: the uniform try, moved onto the encodings' range."""

    name = "empirical-box"

    def _fit(self, x):
        self.low, self.high = x.min(axis=0), x.max(axis=0)

    def _sample(self, n, rng):
        return rng.uniform(self.low, self.high, size=(n, self.dim))


# Every sampler by name: a new one is its class above and its entry here.
_CLASSES = {c.name: c for c in (Uniform, Gaussian, FullGaussian, GMM, EmpiricalBox)}
SAMPLERS = tuple(_CLASSES)  # the names, the study's first


def make_sampler(name: str, **options) -> Sampler:
    """A fresh sampler by name (see SAMPLERS); options go to its constructor (e.g. gmm's n_components)."""
    if name not in _CLASSES:
        raise UserError(f"unknown sampler {name!r}; choose from {', '.join(SAMPLERS)}")
    return _CLASSES[name](**options)


def describe(sampler: Sampler) -> str:
    """One line on what was fitted, for tables and logs."""
    if isinstance(sampler, GMM):
        return f"gmm, {sampler.chosen} components" + (" (by BIC)" if not sampler.n_components else "")
    return sampler.name
