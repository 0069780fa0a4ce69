"""Leads for the pack trainer's speed (issue 20), measured in isolation: figures only, nothing in src/ uses them.

1. The classifier's first layer (256 x 1092 @ 1092 x 80, forward and weight gradient) for a pack of 8: each network
   with its own batch (what `vmap` runs today) against one batch shared by all, as one wide matmul.
2. The whole classifier step (pure JAX, SGD, 8 networks, a scan of 32 steps): own batches, one shared batch
   through `vmap`, and the shared batch with the first layer written as one explicit wide matmul.
3. Keras' Adam (`stateless_apply`) against a hand-written Adam of the same formula, in one network's epoch of the
   classifier and of the autoencoder: whether the weights come out bit-identical, and the time a step.

Each timing is the best of 5 calls, and sections 2 and 3 run every variant twice, alternating, so a noisy
machine shows as two different figures for one variant.

    .venv/bin/python benchmarks/probe_pack_step.py
"""

from __future__ import annotations

from multimnist.models.autoencoder import build_autoencoder
from multimnist.models.classifier import ModelConfig, build_classifier
from multimnist.training.seeding import seed_everything

import jax
import jax.numpy as jnp
import keras
import numpy as np
from common import best_seconds, matmul_peak_gflops  # benchmarks/common.py, beside this script
from jax import lax

B, D, H1, H2, C, M = 256, 1092, 80, 70, 50, 8  # batch, input, the classifier's widths, classes, networks a pack
RNG = np.random.default_rng(0)


def uniform(*shape) -> jax.Array:
    return jnp.asarray(RNG.uniform(size=shape).astype(np.float32))


def first_layer(peak: float, steps: int = 64) -> None:
    xs, w, g = uniform(steps, M, B, D), uniform(M, D, H1), uniform(M, B, H1)
    wide_w, wide_g = w.transpose(1, 0, 2).reshape(D, M * H1), g.transpose(1, 0, 2).reshape(B, M * H1)
    own = lambda x: jnp.sum(jnp.einsum("mbd,mdh->mbh", x, w)) + jnp.sum(jnp.einsum("mbd,mbh->mdh", x, g))  # noqa: E731
    shared = lambda x: jnp.sum(x[0] @ wide_w) + jnp.sum(x[0].T @ wide_g)  # noqa: E731
    flops = 2 * 2 * M * B * D * H1 * steps
    print(f"1. first layer, forward + weight gradient, {M} networks (peak {peak:.0f} GFLOP/s):")
    for name, body in (("own batches", own), ("one shared batch, wide", shared)):
        seconds = best_seconds(jax.jit(lambda xs, body=body: lax.scan(lambda c, x: (c + body(x), None), 0.0, xs)[0]),
                               xs)
        print(f"   {name:28s} {seconds / steps * 1e3:6.2f} ms a step, {flops / seconds / 1e9 / peak:4.0%} of peak")


def _dense_loss(p, x, y):
    h = jax.nn.sigmoid(x @ p[0] + p[1])
    h = jax.nn.sigmoid(h @ p[2] + p[3])
    return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(h @ p[4] + p[5]), -1))


def _wide_loss(p, x, y):
    """`_dense_loss` of every network at once, on one batch, the first layer one (B, D) @ (D, M * H1) matmul."""
    h = jax.nn.sigmoid((x @ p[0].transpose(1, 0, 2).reshape(D, M * H1)).reshape(B, M, H1).transpose(1, 0, 2)
                       + p[1][:, None])
    h = jax.nn.sigmoid(jnp.einsum("mbh,mhk->mbk", h, p[2]) + p[3][:, None])
    z = jnp.einsum("mbh,mhk->mbk", h, p[4]) + p[5][:, None]
    return -jnp.sum(jnp.mean(jnp.sum(y[None] * jax.nn.log_softmax(z), -1), -1))


def whole_step(n: int = 8192) -> None:
    steps = n // B
    x, y = uniform(n, D), jnp.asarray(np.eye(C, dtype=np.float32)[RNG.integers(0, C, n)])
    one_order = jnp.asarray(RNG.permutation(n).reshape(steps, B).astype(np.int32))
    own_orders = jnp.asarray(np.stack([RNG.permutation(n) for _ in range(M)]).reshape(M, steps, B)
                             .transpose(1, 0, 2).astype(np.int32))
    shapes = [(D, H1), (H1,), (H1, H2), (H2,), (H2, C), (C,)]
    params = [jnp.asarray(RNG.normal(scale=0.05, size=(M, *s)).astype(np.float32)) for s in shapes]

    def sgd(p, grads):
        return [w - 0.01 * g for w, g in zip(p, grads, strict=True)]

    def one(p, i):
        return sgd(p, jax.grad(_dense_loss)(p, x[i], y[i]))

    variants = {
        "own batches (vmap)": (lambda p, i: jax.vmap(one)(p, i), own_orders),
        "one shared batch (vmap)": (lambda p, i: jax.vmap(one, in_axes=(0, None))(p, i), one_order),
        "one shared batch, wide layer 1": (lambda p, i: sgd(p, jax.grad(_wide_loss)(p, x[i], y[i])), one_order),
    }
    print(f"2. whole classifier step, {M} networks, SGD, {steps} steps a scan (ms a step, two alternating runs):")
    times = {name: [] for name in variants}
    for _ in range(2):
        for name, (step, order) in variants.items():
            epoch = jax.jit(lambda p, order, step=step: lax.scan(lambda p, i: (step(p, i), None), p, order)[0])
            times[name].append(best_seconds(epoch, params, order) / steps * 1e3)
    for name, ms in times.items():
        print(f"   {name:32s} {ms[0]:6.2f} {ms[1]:6.2f}")


def _hand_adam(opt, grads, params, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Keras' Adam update (keras/src/optimizers/adam.py) on its own variables: iteration, learning rate, then a
    momentum and a velocity per weight."""
    iteration, lr = opt[0], opt[1]
    step = (iteration + 1).astype(jnp.float32)
    alpha = lr * jnp.sqrt(1 - jnp.power(jnp.float32(beta_2), step)) / (1 - jnp.power(jnp.float32(beta_1), step))
    new_opt, new_params = [iteration + 1, lr], []
    for w, g, m, v in zip(params, grads, opt[2::2], opt[3::2], strict=True):
        m = m + (g - m) * (1 - beta_1)
        v = v + (jnp.square(g) - v) * (1 - beta_2)
        new_opt += [m, v]
        new_params.append(w - (m * alpha) / (jnp.sqrt(v) + epsilon))
    return new_opt, new_params


def optimizer(kind: str, n: int = 4096) -> None:
    seed_everything(0)
    model = build_classifier(ModelConfig()) if kind == "classifier" else build_autoencoder().autoencoder
    steps = n // B
    x, order = uniform(n, D), jnp.asarray(RNG.permutation(n).reshape(steps, B).astype(np.int32))
    y = x if kind == "autoencoder" else jnp.asarray(np.eye(C, dtype=np.float32)[RNG.integers(0, C, n)])
    loss = keras.losses.binary_crossentropy if kind == "autoencoder" else keras.losses.categorical_crossentropy
    keras_adam = keras.optimizers.Adam(1e-3)
    keras_adam.build(model.trainable_variables)
    params, state = [v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables]
    opt = [v.value for v in keras_adam.variables]

    def objective(p, s, xb, yb):
        y_pred, s = model.stateless_call(p, s, xb, training=True)
        return jnp.mean(loss(yb, y_pred)), s

    def epoch_with(update):
        def step(carry, i):
            p, s, o = carry
            (_, s), grads = jax.value_and_grad(objective, has_aux=True)(p, s, x[i], y[i])
            o, p = update(o, grads, p)
            return (p, s, o), None
        return jax.jit(lambda p, s, o: lax.scan(step, (p, s, o), order)[0])

    variants = {"Keras' Adam": epoch_with(lambda o, g, p: keras_adam.stateless_apply(o, g, p)[::-1]),
                "hand-written Adam": epoch_with(_hand_adam)}
    same = all(bool(jnp.array_equal(a, b)) for a, b in
               zip(*(variants[k](params, state, opt)[0] for k in variants), strict=True))
    times = {name: [] for name in variants}
    for _ in range(2):
        for name, epoch in variants.items():
            times[name].append(best_seconds(epoch, params, state, opt) / steps * 1e3)
    print(f"3. {kind} ({model.count_params():,} parameters), one network, {steps} steps: weights after them "
          f"{'bit-identical' if same else 'different'}; ms a step, two alternating runs:")
    for name, ms in times.items():
        print(f"   {name:20s} {ms[0]:6.2f} {ms[1]:6.2f}")


def main() -> None:
    first_layer(matmul_peak_gflops())
    whole_step()
    optimizer("classifier")
    optimizer("autoencoder")


if __name__ == "__main__":
    main()
