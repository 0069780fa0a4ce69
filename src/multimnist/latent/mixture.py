"""A fitted sampler's distribution as a Gaussian mixture, when it is one: the form its parameters can travel in
(to the report's latent explorer, which samples it in the browser).

`as_mixture` reads any sampler whose parameters are a Gaussian mixture without the sampler knowing about it:
a sampler with its own `mixture()` method (the hook for new samplers), one holding a fitted scikit-learn
`GaussianMixture` as `model` (any covariance type), and the single Gaussians (`full-gaussian`, `gaussian`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from multimnist.errors import UserError
from multimnist.files import write_npz

import numpy as np


@dataclass
class Mixture:
    """sum_k weights[k] N(means[k], covariances[k]) over codes of size L."""

    weights: np.ndarray  # (K,), sums to 1
    means: np.ndarray  # (K, L)
    covariances: np.ndarray  # (K, L, L), symmetric positive definite

    def __post_init__(self):
        self.weights = np.asarray(self.weights, dtype=np.float64).reshape(-1)
        self.means = np.asarray(self.means, dtype=np.float64)
        self.covariances = np.asarray(self.covariances, dtype=np.float64)
        k, dim = len(self.weights), self.means.shape[-1]
        if self.means.shape != (k, dim) or self.covariances.shape != (k, dim, dim):
            raise UserError(f"a mixture needs weights (K,), means (K, L) and covariances (K, L, L); got "
                            f"{self.weights.shape}, {self.means.shape}, {self.covariances.shape}")
        if k == 0 or (self.weights < 0).any() or not np.isclose(self.weights.sum(), 1.0):
            raise UserError("a mixture's weights must be non-negative and sum to 1")

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def cholesky(self) -> np.ndarray:
        """Lower factors C_k with C_k C_k^T = covariances[k], (K, L, L): a draw is mean + C_k z, z ~ N(0, I)."""
        try:
            return np.linalg.cholesky(self.covariances)
        except np.linalg.LinAlgError:
            raise UserError("a mixture component's covariance is not positive definite") from None

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n codes (n, L): a component by its weight, then mean + C z."""
        k = rng.choice(len(self.weights), size=n, p=self.weights)
        z = rng.standard_normal((n, self.dim))
        return self.means[k] + np.einsum("nij,nj->ni", self.cholesky()[k], z)


def as_mixture(sampler) -> Mixture:
    """The fitted `sampler`'s distribution as a Mixture; a UserError for one that is not a Gaussian mixture."""
    name = getattr(sampler, "name", type(sampler).__name__)
    if callable(getattr(sampler, "mixture", None)):
        return sampler.mixture()
    model = getattr(sampler, "model", None)
    if all(hasattr(model, a) for a in ("weights_", "means_", "covariances_", "covariance_type")):
        return _from_sklearn(model)
    if hasattr(sampler, "mean") and hasattr(sampler, "cov"):  # full-gaussian
        return Mixture([1.0], sampler.mean[None], np.asarray(sampler.cov)[None])
    if hasattr(sampler, "mean") and hasattr(sampler, "std"):  # gaussian: independent dimensions
        return Mixture([1.0], sampler.mean[None], np.diag(np.square(sampler.std))[None])
    raise UserError(f"sampler {name!r} is not a Gaussian mixture (or is not fitted): its parameters cannot be "
                    "exported; use gmm, full-gaussian, gaussian or a sampler with a mixture() method")


def _from_sklearn(model) -> Mixture:
    """A fitted sklearn GaussianMixture's components, each covariance type expanded to full (K, L, L)."""
    means, cov, kind = np.asarray(model.means_), np.asarray(model.covariances_), model.covariance_type
    k, dim = means.shape
    if kind == "full":
        full = cov
    elif kind == "tied":  # one (L, L) for all
        full = np.broadcast_to(cov, (k, dim, dim))
    elif kind == "diag":  # (K, L)
        full = np.einsum("ki,ij->kij", cov, np.eye(dim))
    elif kind == "spherical":  # (K,)
        full = cov[:, None, None] * np.eye(dim)
    else:
        raise UserError(f"unknown covariance type {kind!r}")
    return Mixture(model.weights_, means, full)


@dataclass
class SavedMixture:
    """A sampler's fitted mixture as the generation step kept it (`keep_mixture`): sampled and exported as it was
    fitted and scored, never fitted again. `as_mixture` reads it through `mixture()`."""

    name: str
    fitted: str  # what was fitted, in words (latent/samplers.describe)
    kept: Mixture

    @property
    def dim(self) -> int:  # a fitted sampler has its dimension
        return self.kept.dim

    def mixture(self) -> Mixture:
        return self.kept


def keep_mixture(path, name: str, fitted: str, mixture: Mixture) -> None:
    """Write a fitted sampler's mixture to `path` (.npz), with its name and description."""
    write_npz(path, weights=mixture.weights, means=mixture.means, covariances=mixture.covariances,
              name=np.array(name), fitted=np.array(fitted))


def read_kept_mixture(path) -> SavedMixture:
    """A mixture `keep_mixture` wrote; a UserError naming a broken file."""
    try:
        with np.load(Path(path), allow_pickle=False) as f:
            return SavedMixture(str(f["name"].item()), str(f["fitted"].item()),  # (1,) or ()
                                Mixture(f["weights"], f["means"], f["covariances"]))
    except (OSError, KeyError, ValueError) as e:
        raise UserError(f"cannot read the kept mixture {path}: {e}") from None
