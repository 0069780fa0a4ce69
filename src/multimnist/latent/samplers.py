"""Distributions over the latent space, fitted on encodings and sampled to feed the decoder (study 5.4).

Each sampler has `fit(encodings, labels=None, val=None, val_labels=None) -> self` and
`sample(n, rng, numbers=None) -> (n, L) float32`; sampling draws only from the `numpy.random.Generator` it is
given, so a seed fixes the images. The study tried `uniform` first, then `gaussian` (its Algorithm 2); the others
model what Algorithm 2 leaves out (correlations, several modes, the observed range), and the last ones learn more
of the density: a mixture chosen on held-out likelihood, a mixture per number, and a latent diffusion model
(latent/diffusion.py), unconditional or conditioned on the number.

A sampler that chooses something (a number of components, the kept weights of a learned density) chooses it on
the validation codes `val` (the autoencoder's own validation split); given none, it holds out a seeded tenth of
the encodings. A *conditional* sampler (`conditional = True`) is fitted with each code's number (`labels`) and
draws codes of the numbers asked (`numbers`: one per code, or one for all); asked for numbers, any other sampler
refuses in one line.
"""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path

from multimnist.errors import UserError

import numpy as np

log = logging.getLogger(__name__)

STUDY_SAMPLERS = ("uniform", "gaussian")  # in the order the study tried them; SAMPLERS (below) lists them first
VAL_SHARE = 0.1  # of the encodings held out for the choices when no validation codes are given


class Sampler:
    name = ""
    conditional = False  # draws codes of a requested number

    def fit(self, encodings: np.ndarray, labels=None, val=None, val_labels=None) -> Sampler:
        """Fit on (N, L) encodings; `labels` (N,) their numbers (conditional samplers need them); `val`,
        `val_labels` the validation codes the choices are made on."""
        encodings = _codes(self.name, encodings)
        self.dim = encodings.shape[1]
        if self.conditional and labels is None:
            raise UserError(f"{self.name}: a conditional sampler needs the number of every encoding")
        labels = None if labels is None else _labels(self.name, labels, len(encodings))
        if val is not None:
            val = _codes(self.name, val)
            if val.shape[1] != self.dim:
                raise UserError(f"{self.name}: validation codes have {val.shape[1]} dimensions, encodings {self.dim}")
            val_labels = None if val_labels is None else _labels(self.name, val_labels, len(val))
            if self.conditional and val_labels is None:
                raise UserError(f"{self.name}: a conditional sampler needs the number of every validation code")
        self._fit(encodings, labels, val, val_labels)
        return self

    def sample(self, n: int, rng: np.random.Generator, numbers=None) -> np.ndarray:
        """n codes; `numbers` (an int, or one per code) asks a conditional sampler for those numbers."""
        if not hasattr(self, "dim"):
            raise RuntimeError(f"{self.name} sampler used before fit")
        n = int(n)
        if numbers is None:
            return np.asarray(self._sample(n, rng), dtype=np.float32)
        if not self.conditional:
            raise _unconditional(self.name)
        numbers = np.asarray(numbers, dtype=np.int64)
        if numbers.ndim > 1 or numbers.size not in (1, n):
            raise UserError(f"{self.name}: ask one number for all {n} codes or one per code, got {numbers.size}")
        numbers = np.broadcast_to(numbers.reshape(-1), (n,))
        unknown = sorted(set(numbers.tolist()) - set(self.classes.tolist()))
        if unknown:
            raise UserError(f"{self.name} was fitted on the numbers {_span(self.classes)}; it cannot draw "
                            f"{', '.join(map(str, unknown[:5]))}")
        return np.asarray(self._sample_numbers(numbers, rng), dtype=np.float32)

    def _fit(self, x: np.ndarray, labels, val, val_labels) -> None:
        pass


def _codes(name: str, x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2 or not np.isfinite(x).all():
        raise UserError(f"{name}: need finite encodings of shape (N >= 2, L), got {x.shape}")
    return x


def _labels(name: str, labels, n: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        raise UserError(f"{name}: need one integer number per encoding ({n}), got shape {labels.shape}")
    return labels.astype(np.int64)


def _span(classes: np.ndarray) -> str:
    c = classes.tolist()
    return f"{c[0]}..{c[-1]}" if c == list(range(c[0], c[-1] + 1)) else ", ".join(map(str, c))


def held_out(x: np.ndarray, labels, val, val_labels, seed: int):
    """(train, train labels, val, val labels): the validation codes given, or a seeded VAL_SHARE of x."""
    if val is not None:
        return x, labels, val, val_labels
    order = np.random.default_rng([seed, 2]).permutation(len(x))
    k = max(1, int(round(VAL_SHARE * len(x))))
    tr, va = np.sort(order[k:]), np.sort(order[:k])
    if labels is None:
        return x[tr], None, x[va], None
    return x[tr], labels[tr], x[va], labels[va]


def subset(x: np.ndarray, labels, most: int, seed: int):
    """At most `most` of the rows (a fixed random subset, in order), with their labels."""
    if len(x) <= most:
        return x, labels
    i = np.sort(np.random.default_rng(seed).choice(len(x), most, replace=False))
    return x[i], None if labels is None else labels[i]


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

    def _fit(self, x, labels, val, val_labels):
        self.mean, self.std = x.mean(axis=0), x.std(axis=0)

    def _sample(self, n, rng):
        return rng.normal(self.mean, self.std, size=(n, self.dim))


class FullGaussian(Sampler):
    """One multivariate normal with the encodings' full covariance (keeps correlations between dimensions)."""

    name = "full-gaussian"

    def _fit(self, x, labels, val, val_labels):
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

    def _fit(self, x, labels, val, val_labels):
        from sklearn.mixture import GaussianMixture

        x, _ = subset(x, None, self.max_fit, self.seed)  # a fixed random subset: plenty for 54 dims, and affordable
        options = [self.n_components] if self.n_components else [k for k in self.candidates if k <= len(x) // 2]
        self.bic, best = {}, None
        for k in options:
            model = _fit_em(GaussianMixture(k, covariance_type="full", reg_covar=1e-5, random_state=self.seed), x,
                         self.name)
            self.bic[k] = float(model.bic(x))
            if best is not None and self.bic[k] >= self.bic[best.n_components]:
                break
            best = model
        self.model, self.chosen = best, best.n_components

    def _sample(self, n, rng):
        return _draw(self.model, n, rng)


class EmpiricalBox(Sampler):
    """Uniform within each dimension's observed min..max: the uniform try, moved onto the encodings' range."""

    name = "empirical-box"

    def _fit(self, x, labels, val, val_labels):
        self.low, self.high = x.min(axis=0), x.max(axis=0)

    def _sample(self, n, rng):
        return rng.uniform(self.low, self.high, size=(n, self.dim))


def _mixture(k: int, covariance: str, seed: int):
    from sklearn.mixture import GaussianMixture

    return GaussianMixture(k, covariance_type=covariance, reg_covar=1e-4, random_state=seed, max_iter=100)


def _fit_em(model, x: np.ndarray, name: str):
    """`model.fit(x)`, saying in one log line, not in a warning's traceback-like text, when EM ran out of
    iterations before converging (the fit is kept: its validation likelihood or BIC judges it like any other)."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x)
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            log.info("%s: %d %s components stopped at EM's %d iterations before converging; kept as fitted", name,
                     model.n_components, model.covariance_type, model.max_iter)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return model


def _draw(model, n: int, rng: np.random.Generator) -> np.ndarray:
    """n draws of a fitted scikit-learn mixture, seeded from rng and shuffled (it returns them by component)."""
    model.random_state = int(rng.integers(2**31 - 1))
    x, _ = model.sample(n)
    return x[rng.permutation(n)]


class ValidatedGMM(Sampler):
    """A Gaussian mixture whose number of components and covariance type are chosen on the mean log-likelihood
    of the validation codes (not BIC, which a probe found stops at 4 components while held-out likelihood and
    readability still rise). For each covariance type the candidates are tried in increasing order until the
    validation likelihood falls."""

    name = "gmm-val"

    def __init__(self, candidates=(1, 2, 4, 8, 16, 32), covariances=("full", "diag"), max_fit: int = 10000,
                 seed: int = 0):
        self.candidates, self.covariances = tuple(candidates), tuple(covariances)
        self.max_fit, self.seed = max_fit, seed

    def _fit(self, x, labels, val, val_labels):
        x, _, val, _ = held_out(x, None, val, None, self.seed)
        x, _ = subset(x, None, self.max_fit, self.seed)
        self.val_loglik, best = {}, None
        for cov in self.covariances:
            last = -np.inf
            for k in (k for k in self.candidates if k <= len(x) // 2):
                start = time.perf_counter()
                model = _fit_em(_mixture(k, cov, self.seed), x, self.name)
                ll = float(model.score(val))
                self.val_loglik[f"{k} {cov}"] = ll
                log.info("gmm-val: %d %s components, validation log-likelihood %.3f (%.0f s)", k, cov, ll,
                         time.perf_counter() - start)
                if best is None or ll > best[0]:
                    best = (ll, model)
                if ll < last:
                    break
                last = ll
        self.model = best[1]
        self.chosen = (self.model.n_components, self.model.covariance_type)

    def _sample(self, n, rng):
        return _draw(self.model, n, rng)


class ClassGMM(Sampler):
    """One Gaussian mixture per number (full covariances), the same number of components for every number,
    chosen on the validation codes' summed log-likelihood under their own number's mixture. Unconditional draws
    pick the number with its share of the training codes."""

    name = "class-gmm"
    conditional = True

    def __init__(self, candidates=(1, 2, 3, 4), seed: int = 0):
        self.candidates, self.seed = tuple(candidates), seed

    def _fit(self, x, labels, val, val_labels):
        x, labels, val, val_labels = held_out(x, labels, val, val_labels, self.seed)
        classes, counts = np.unique(labels, return_counts=True)
        if (counts < 2).any():  # a mixture needs two codes: such a number cannot be drawn
            log.warning("class-gmm: numbers %s have fewer than 2 codes and cannot be drawn",
                        ", ".join(map(str, classes[counts < 2])))
            keep = np.isin(labels, classes[counts >= 2])
            x, labels = x[keep], labels[keep]
            classes, counts = classes[counts >= 2], counts[counts >= 2]
        if not len(classes):
            raise UserError("class-gmm: no number has 2 codes or more")
        self.classes, self.weights = classes, counts / counts.sum()
        self.val_loglik, best = {}, None
        for k in self.candidates:
            if k > 1 and k > counts.min() // 2:  # a number with few codes: one Gaussian (reg_covar keeps it proper)
                break
            start = time.perf_counter()
            models = {c: _fit_em(_mixture(k, "full", self.seed), x[labels == c], self.name) for c in self.classes}
            ll = sum(float(models[c].score_samples(val[val_labels == c]).sum()) for c in self.classes
                     if (val_labels == c).any()) / len(val)
            self.val_loglik[k] = ll
            log.info("class-gmm: %d components per number, validation log-likelihood %.3f (%.0f s)", k, ll,
                     time.perf_counter() - start)
            if best is not None and ll <= best[0]:
                break
            best = (ll, models)
        self.models = best[1]
        self.chosen = next(iter(self.models.values())).n_components

    def _sample(self, n, rng):
        return self._sample_numbers(self.classes[rng.choice(len(self.classes), n, p=self.weights)], rng)

    def _sample_numbers(self, numbers, rng):
        out = np.empty((len(numbers), self.dim))
        for c in np.unique(numbers):
            where = np.flatnonzero(numbers == c)
            out[where] = _draw(self.models[int(c)], len(where), rng)
        return out


class Diffusion(Sampler):
    """A latent diffusion model (latent/diffusion.py): an MLP denoiser trained on the codes by a compiled JAX
    loop, its weights kept at the chunk of lowest validation denoising loss. `checkpoint`: a file to resume from
    (and to load a finished fit from). Options other than seed and checkpoint go to DiffusionConfig."""

    name = "diffusion"

    def __init__(self, seed: int = 0, checkpoint: str | Path | None = None, guidance: float = 0.0, **config):
        from multimnist.latent.diffusion import DiffusionConfig

        self.seed, self.checkpoint, self.guidance = seed, checkpoint, guidance
        try:
            self.config = DiffusionConfig(**config)
        except (TypeError, ValueError) as e:
            raise UserError(f"{self.name}: {e}") from None

    def _fit(self, x, labels, val, val_labels):
        from multimnist.latent.diffusion import LatentDiffusion

        x, labels, val, val_labels = held_out(x, labels, val, val_labels, self.seed)
        if self.conditional:
            self.classes, counts = np.unique(labels, return_counts=True)
            self.weights = counts / counts.sum()
            c, c_val = np.searchsorted(self.classes, labels) + 1, np.searchsorted(self.classes, val_labels) + 1
            unseen = ~np.isin(val_labels, self.classes)
            c_val[unseen] = 0  # a validation number with no training code: judged unconditionally
        else:
            self.classes, c, c_val = np.zeros(0, np.int64), None, None
        self.model = LatentDiffusion(self.config, self.seed, self.checkpoint).fit(
            x, c, val, c_val, classes=len(self.classes), conditional=self.conditional)

    def _sample(self, n, rng):
        return self.model.sample(np.zeros(n, np.int32), rng)

    def _sample_numbers(self, numbers, rng):
        return self.model.sample(np.searchsorted(self.classes, numbers) + 1, rng, guidance=self.guidance)


# class-diffusion's guidance w, chosen on an autoencoder trained for the choice and used for nothing else (study
# preset, seed 100; docs/notes/scripts/select_sampler.py), by a rule fixed before scoring: the highest readable share
# whose Frechet distance is at most twice the reconstructions'. w = 0, 0.5, 1, 2, 3 read 51/78/91/93/91% with
# Frechet 2.9/1.6/2.1/4.1/5.5x the reconstructions' (docs/generation.md).
GUIDANCE = 0.5


class ClassDiffusion(Diffusion):
    """The latent diffusion model with the number as a one-hot input (dropped for `class_dropout` of the
    training codes, so one network also draws unconditionally: there it picks the number with its share of the
    training codes). `guidance` w > 0 sharpens the conditional draws (classifier-free guidance: more images
    readable as the number asked, at a growing cost in Frechet distance: docs/generation.md)."""

    name = "class-diffusion"
    conditional = True

    def __init__(self, seed: int = 0, checkpoint: str | Path | None = None, guidance: float = GUIDANCE, **config):
        super().__init__(seed, checkpoint, guidance, **config)

    def _sample(self, n, rng):
        return self._sample_numbers(self.classes[rng.choice(len(self.classes), n, p=self.weights)], rng)


# Every sampler by name: a new one is its class above and its entry here.
_CLASSES = {c.name: c for c in (Uniform, Gaussian, FullGaussian, GMM, EmpiricalBox, ValidatedGMM, ClassGMM,
                                 Diffusion, ClassDiffusion)}
SAMPLERS = tuple(_CLASSES)  # the names, the study's first
CONDITIONAL = tuple(name for name, c in _CLASSES.items() if c.conditional)  # those that draw a requested number
SEEDED = ("gmm-val", "class-gmm", "diffusion", "class-diffusion")  # fitted with the generation seed
LEARNED = ("diffusion", "class-diffusion")  # trained by gradient steps: fits take minutes, and can resume


def make_sampler(name: str, **options) -> Sampler:
    """A fresh sampler by name (see SAMPLERS); options go to its constructor (e.g. gmm's n_components)."""
    if name not in _CLASSES:
        raise UserError(f"unknown sampler {name!r}; choose from {', '.join(SAMPLERS)}")
    return _CLASSES[name](**options)


def numbers_asked(numbers, sampler: str) -> list[int]:
    """A number or a list of them, as asked of `sampler`: the list, each in 0..99 and asked once, of a sampler that
    can draw a requested number; anything else refused in one line (before anything is loaded or fitted)."""
    if sampler not in _CLASSES:
        raise UserError(f"unknown sampler {sampler!r}; choose from {', '.join(SAMPLERS)}")
    if sampler not in CONDITIONAL:
        raise _unconditional(sampler)
    out = [int(k) for k in np.atleast_1d(numbers)]
    if not out or min(out) < 0 or max(out) > 99:
        raise UserError(f"numbers asked must lie in 0..99 (two digits: the numbers run from 0 to 99), got "
                        f"{', '.join(map(str, out[:5])) or 'none'}")
    if len(set(out)) != len(out):
        raise UserError("numbers asked: a number is asked twice")
    return out


def _unconditional(sampler: str) -> UserError:
    return UserError(f"sampler {sampler} cannot draw a requested number; conditional samplers: "
                     f"{', '.join(CONDITIONAL)}")


def describe(sampler: Sampler) -> str:
    """One line on what was fitted, for tables and logs."""
    if isinstance(sampler, GMM):
        return f"gmm, {sampler.chosen} components" + (" (by BIC)" if not sampler.n_components else "")
    if isinstance(sampler, ValidatedGMM):
        return f"gmm-val, {sampler.chosen[0]} {sampler.chosen[1]} components (by validation likelihood)"
    if isinstance(sampler, ClassGMM):
        return f"class-gmm, {sampler.chosen} full components per number (by validation likelihood)"
    if isinstance(sampler, Diffusion):
        guided = f", guidance {sampler.guidance:g}" if sampler.conditional and sampler.guidance else ""
        return (f"{sampler.name}, MLP {sampler.config.depth}x{sampler.config.width}, {sampler.config.steps} steps "
                f"(validation loss {sampler.model.best_loss:.4f}){guided}")
    return sampler.name
