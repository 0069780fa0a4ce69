"""A small latent diffusion model: a denoiser MLP learns the density of the autoencoder's codes.

Denoising diffusion (Ho et al., 2020) on standardized codes, the way latent diffusion (Rombach et al., 2022)
runs it in an autoencoder's latent space: a Keras MLP predicts the noise added to a code at one of `T` noise
levels (a cosine schedule, Nichol and Dhariwal 2021), and sampling walks from pure noise back to a code with
the ancestral DDPM rule. A one-hot class input (index 0: "no class") makes the model conditional on the number;
trained with the class dropped `class_dropout` of the time, the same network also draws unconditionally and
supports classifier-free guidance (Ho and Salimans, 2022).

Training is one compiled JAX program per chunk of steps (`lax.scan` over `keras.Model.stateless_call` and
`optimizer.stateless_apply`), seeded by `seed` alone, so the same seed and codes give the same weights byte for
byte. Every chunk ends with the denoising loss on fixed draws of the validation codes, and the weights of the
best chunk are kept. With a `checkpoint` path the state is written after every chunk (to a temporary name,
then renamed) and a later fit with the same settings and codes resumes from it, or loads it when it finished.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from multimnist.files import write_npz

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DiffusionConfig:
    """The denoiser and its training; the defaults fit 66,840 codes of 54 numbers in about 2 minutes on 2 cores."""

    width: int = 256  # units of each hidden layer
    depth: int = 4  # hidden layers (each after the first adds a residual connection)
    steps: int = 6000  # optimizer steps
    batch_size: int = 256
    learning_rate: float = 2e-3  # Adam's, decayed to zero along a cosine
    noise_levels: int = 200  # T, the diffusion steps of training and sampling
    time_features: int = 32  # sinusoidal features of the noise level
    chunk: int = 500  # steps per compiled call; the validation loss and a checkpoint after each
    class_dropout: float = 0.1  # conditional models: share of training codes shown with no class
    val_draws: int = 4  # noise draws per validation code in the validation loss

    def __post_init__(self):
        for name in ("width", "depth", "steps", "batch_size", "noise_levels", "time_features", "chunk", "val_draws"):
            if getattr(self, name) < 1:
                raise ValueError(f"DiffusionConfig.{name} must be positive, got {getattr(self, name)}")
        if not 0.0 <= self.class_dropout < 1.0:
            raise ValueError(f"DiffusionConfig.class_dropout must be in [0, 1), got {self.class_dropout}")


def cosine_schedule(levels: int) -> np.ndarray:
    """alpha-bar at levels 1..T (float64): the share of the code's signal power left at each noise level."""
    s = 0.008
    t = np.arange(levels + 1) / levels
    f = np.cos((t + s) / (1 + s) * np.pi / 2) ** 2
    abar = f / f[0]
    betas = np.clip(1 - abar[1:] / abar[:-1], 0.0, 0.999)
    return np.cumprod(1 - betas)


def time_embedding(t, features: int):
    """Sinusoidal features of the noise level t in [0, 1]: (B,) -> (B, features)."""
    import jax.numpy as jnp

    half = features // 2
    freqs = jnp.exp(-math.log(10000.0) * jnp.arange(half) / half)
    angles = 1000.0 * t[:, None] * freqs[None, :]  # (B, half): t in thousandths, as transformers count positions
    return jnp.concatenate([jnp.sin(angles), jnp.cos(angles)], axis=1)


def build_denoiser(dim: int, classes: int, cfg: DiffusionConfig):
    """The MLP eps(x_t, t, class): inputs (B, dim), (B, time_features), (B, classes + 1) -> (B, dim)."""
    import keras

    x = keras.Input((dim,), name="code")
    t = keras.Input((cfg.time_features,), name="time")
    c = keras.Input((classes + 1,), name="number")
    h = keras.layers.Dense(cfg.width, activation="silu")(keras.layers.Concatenate()([x, t, c]))
    for _ in range(cfg.depth - 1):
        h = keras.layers.Add()([h, keras.layers.Dense(cfg.width, activation="silu")(h)])
    return keras.Model([x, t, c], keras.layers.Dense(dim)(h), name="denoiser")


class LatentDiffusion:
    """Fit on standardized codes (with class indices 1..C, or 0 for none), sample codes back in the code units."""

    def __init__(self, cfg: DiffusionConfig | None = None, seed: int = 0, checkpoint: str | Path | None = None):
        self.cfg, self.seed = cfg or DiffusionConfig(), int(seed)
        self.checkpoint = Path(checkpoint) if checkpoint else None

    # --- training ---

    def fit(self, x: np.ndarray, c: np.ndarray, x_val: np.ndarray, c_val: np.ndarray, classes: int,
            conditional: bool) -> LatentDiffusion:
        """x: (N, L) codes, c: (N,) class indices 1..classes (ignored unless `conditional`); the same for the
        validation codes, whose denoising loss picks the kept weights."""
        import jax
        import jax.numpy as jnp
        import keras

        cfg = self.cfg
        self.mean, self.std = x.mean(axis=0), x.std(axis=0) + 1e-6
        self.classes, self.conditional, self.dim = int(classes), bool(conditional), x.shape[1]
        self.abar = cosine_schedule(cfg.noise_levels)
        z = ((x - self.mean) / self.std).astype(np.float32)
        zv = ((x_val - self.mean) / self.std).astype(np.float32)
        c = (np.asarray(c) if conditional else np.zeros(len(x))).astype(np.int32)
        cv = (np.asarray(c_val) if conditional else np.zeros(len(x_val))).astype(np.int32)
        keras.utils.set_random_seed(self.seed)  # the denoiser's initial weights
        self.model = build_denoiser(self.dim, self.classes, cfg)
        optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(cfg.learning_rate, cfg.steps))
        optimizer.build(self.model.trainable_variables)
        fingerprint = self._fingerprint(z, c, zv, cv)
        state = self._resume(fingerprint)
        if state is not None:  # the file keeps scalars as (1,): back to each variable's own shape
            state["opt"] = [np.reshape(a, v.shape) for a, v in zip(state["opt"], optimizer.variables, strict=True)]
            for k in ("params", "best"):
                state[k] = [np.reshape(a, v.shape)
                            for a, v in zip(state[k], self.model.trainable_variables, strict=True)]
        else:
            state = {"params": [v.value for v in self.model.trainable_variables],
                     "opt": [v.value for v in optimizer.variables],
                     "key": jax.random.key_data(jax.random.PRNGKey(self.seed)), "step": 0,
                     "best": None, "best_loss": np.inf, "history": []}
        chunk, validate = self._programs(optimizer)
        data = (jnp.asarray(z), jnp.asarray(c))
        val = self._validation_draws(zv, cv)
        start = time.perf_counter()
        while state["step"] < cfg.steps:
            length = min(cfg.chunk, cfg.steps - state["step"])
            params, opt, key, losses = chunk(state["params"], state["opt"], state["key"], *data, length)
            val_loss = float(validate(params, *val))
            state.update(params=params, opt=opt, key=key, step=state["step"] + length)
            state["history"].append([state["step"], float(np.mean(losses)), val_loss])
            if val_loss < state["best_loss"]:
                state["best"], state["best_loss"] = [np.asarray(p) for p in params], val_loss
            log.info("latent diffusion: step %d/%d, training loss %.4f, validation loss %.4f (%.0f s)",
                     state["step"], cfg.steps, float(np.mean(losses)), val_loss, time.perf_counter() - start)
            self._save(state, fingerprint)
        self.params = [np.asarray(p) for p in state["best"]]
        self.best_loss, self.history = float(state["best_loss"]), state["history"]
        return self

    def _programs(self, optimizer):
        """(chunk, validate): `chunk` runs `length` training steps from a state; `validate` is the denoising loss
        on fixed (code, level, noise) draws."""
        import jax
        import jax.numpy as jnp

        cfg, model = self.cfg, self.model
        abar = jnp.asarray(self.abar, jnp.float32)
        eye = jnp.eye(self.classes + 1, dtype=jnp.float32)
        non_trainable = [v.value for v in model.non_trainable_variables]

        def loss_fn(params, z0, cls, level, noise):
            a = abar[level][:, None]
            zt = jnp.sqrt(a) * z0 + jnp.sqrt(1 - a) * noise
            temb = time_embedding((level + 1) / cfg.noise_levels, cfg.time_features)
            eps, _ = model.stateless_call(params, non_trainable, [zt, temb, eye[cls]])
            return jnp.mean((eps - noise) ** 2)

        def step(carry, _, z, c):
            params, opt, key = carry
            key, k_idx, k_level, k_noise, k_drop = jax.random.split(key, 5)
            idx = jax.random.randint(k_idx, (cfg.batch_size,), 0, z.shape[0])
            level = jax.random.randint(k_level, (cfg.batch_size,), 0, cfg.noise_levels)
            noise = jax.random.normal(k_noise, (cfg.batch_size, z.shape[1]))
            dropped = jax.random.uniform(k_drop, (cfg.batch_size,)) < cfg.class_dropout
            cls = jnp.where(dropped, 0, c[idx])
            loss, grads = jax.value_and_grad(loss_fn)(params, z[idx], cls, level, noise)
            params, opt = optimizer.stateless_apply(opt, grads, params)
            return (params, opt, key), loss

        def chunk(params, opt, key_data, z, c, length):
            (params, opt, key), losses = jax.lax.scan(lambda carry, _: step(carry, _, z, c),
                                                      (params, opt, jax.random.wrap_key_data(key_data)), None,
                                                      length=length)
            return params, opt, jax.random.key_data(key), losses

        return jax.jit(chunk, static_argnums=5), jax.jit(loss_fn)

    def _validation_draws(self, zv, cv):
        """The fixed noise levels and noises of the validation loss (seeded; `val_draws` per validation code)."""
        import jax.numpy as jnp

        rng = np.random.default_rng([self.seed, 1])
        k = self.cfg.val_draws
        level = rng.integers(0, self.cfg.noise_levels, size=len(zv) * k).astype(np.int32)
        noise = rng.standard_normal((len(zv) * k, zv.shape[1])).astype(np.float32)
        return jnp.asarray(np.tile(zv, (k, 1))), jnp.asarray(np.tile(cv, k)), jnp.asarray(level), jnp.asarray(noise)

    # --- checkpoints ---

    def _fingerprint(self, *arrays) -> str:
        h = hashlib.sha256(json.dumps({**asdict(self.cfg), "seed": self.seed, "classes": self.classes,
                                       "conditional": self.conditional}, sort_keys=True).encode())
        for a in arrays:
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()

    def _save(self, state: dict, fingerprint: str) -> None:
        if self.checkpoint is None:
            return
        arrays = {f"params_{i}": np.asarray(p) for i, p in enumerate(state["params"])}
        arrays |= {f"opt_{i}": np.asarray(p) for i, p in enumerate(state["opt"])}
        arrays |= {f"best_{i}": np.asarray(p) for i, p in enumerate(state["best"])}
        write_npz(self.checkpoint, compress=False, **arrays, key=np.asarray(state["key"]),
                  step=np.asarray(state["step"]), best_loss=np.asarray(state["best_loss"]),
                  history=np.asarray(state["history"], dtype=np.float64).reshape(-1, 3),
                  fingerprint=np.asarray(fingerprint))

    def _resume(self, fingerprint: str) -> dict | None:
        if self.checkpoint is None or not self.checkpoint.exists():
            return None
        try:
            with np.load(self.checkpoint, allow_pickle=False) as f:
                if str(f["fingerprint"].reshape(-1)[0]) != fingerprint:  # write_npz stores scalars as (1,)
                    log.info("%s holds another fit (other settings or codes): starting afresh", self.checkpoint)
                    return None
                n = sum(k.startswith("params_") for k in f.files)
                n_opt = sum(k.startswith("opt_") for k in f.files)
                state = {"params": [f[f"params_{i}"] for i in range(n)],
                         "opt": [f[f"opt_{i}"] for i in range(n_opt)], "best": [f[f"best_{i}"] for i in range(n)],
                         "key": f["key"], "step": int(f["step"].reshape(-1)[0]),
                         "best_loss": float(f["best_loss"].reshape(-1)[0]), "history": f["history"].tolist()}
        except (OSError, KeyError, ValueError) as e:
            log.warning("cannot resume from %s (%s): starting afresh", self.checkpoint, e)
            return None
        log.info("latent diffusion: resuming from %s at step %d", self.checkpoint, state["step"])
        return state

    # --- sampling ---

    def sample(self, classes: np.ndarray, rng: np.random.Generator, guidance: float = 0.0) -> np.ndarray:
        """One code (float64, code units) per class index in `classes` (n,) (0: unconditional), by ancestral DDPM
        sampling; every random draw comes from a key taken from `rng`. `guidance` w mixes the conditional and
        unconditional noise predictions as (1 + w) eps_c - w eps_0."""
        import jax
        import jax.numpy as jnp

        cfg, model = self.cfg, self.model
        abar = np.asarray(self.abar)
        abar_prev = np.concatenate([[1.0], abar[:-1]])
        betas = 1 - abar / abar_prev
        post_var = betas * (1 - abar_prev) / (1 - abar)
        consts = jnp.asarray(np.stack([abar, abar_prev, betas, post_var], axis=1), jnp.float32)  # (T, 4)
        eye = jnp.eye(self.classes + 1, dtype=jnp.float32)
        non_trainable = [v.value for v in model.non_trainable_variables]
        params = [jnp.asarray(p) for p in self.params]
        cls = jnp.asarray(np.asarray(classes, dtype=np.int32))

        def eps(z, level):
            temb = time_embedding(jnp.full((z.shape[0],), (level + 1) / cfg.noise_levels), cfg.time_features)
            e, _ = model.stateless_call(params, non_trainable, [z, temb, eye[cls]])
            if guidance:
                e0, _ = model.stateless_call(params, non_trainable, [z, temb, eye[jnp.zeros_like(cls)]])
                e = (1 + guidance) * e - guidance * e0
            return e

        def back(z, inputs):
            level, key = inputs
            a, a_prev, beta, var = consts[level]
            e = eps(z, level)
            z0 = jnp.clip((z - jnp.sqrt(1 - a) * e) / jnp.sqrt(a), -10.0, 10.0)  # codes stay within 10 sd
            mean = (jnp.sqrt(a_prev) * beta / (1 - a)) * z0 + (jnp.sqrt(1 - beta) * (1 - a_prev) / (1 - a)) * z
            noise = jax.random.normal(key, z.shape)
            return mean + jnp.where(level > 0, jnp.sqrt(var), 0.0) * noise, None

        @jax.jit
        def run(key):
            k0, k_steps = jax.random.split(key)
            z = jax.random.normal(k0, (len(cls), self.dim))
            levels = jnp.arange(cfg.noise_levels - 1, -1, -1)
            z, _ = jax.lax.scan(back, z, (levels, jax.random.split(k_steps, cfg.noise_levels)))
            return z

        z = np.asarray(run(jax.random.PRNGKey(int(rng.integers(2**31 - 1)))), dtype=np.float64)
        return z * self.std + self.mean
