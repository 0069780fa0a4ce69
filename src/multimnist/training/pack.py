"""The one training path: a pack of networks of one architecture trained together in one compiled JAX program.

Each network (a `Member`) is a Keras model built by the usual builders, with its own data, seed, run folder and
numeric settings. The pack stacks the members' weights, optimizer state and random state on a leading axis and
runs one jitted epoch for all of them: `jax.vmap` over the networks, `lax.scan` over the epoch's batches, Keras'
stateless API (`stateless_call`, `optimizer.stateless_apply`) inside. A pack of one is the ordinary case.

What may differ inside a pack, network by network: the data (same shapes apart from the number of samples), the
seed (initial weights, shuffling, dropout masks), the learning rate, the L1/L2 kernel penalties, the rates of its
Dropout layers, the number of epochs and the early-stopping settings. Everything else (layers, activations,
optimizer, batch size, loss) is compiled into the program and must match: `pack_signature` says what must.

Per network, as `model.fit` gave it: a history row per epoch (training figures averaged over the epoch's
batches, validation after the epoch), early stopping with the best weights restored (a stopped network freezes
while the others go on), and a checkpoint after every epoch (RUN/backup/state.npz, with the history), so a killed
pack resumes from its last finished epoch and ends with the same bytes as an uninterrupted one. Each network's
batches come from its own seed and epoch, and a step on a padded (empty) batch changes nothing, so a network's
figures do not depend on its pack mates, up to float rounding (tests/test_pack.py states the tolerance).
"""

from __future__ import annotations

import json
import logging
import math
import time
import zipfile
from collections.abc import Callable, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from multimnist.backend import require_jax
from multimnist.config import to_dict
from multimnist.errors import UserError
from multimnist.files import atomic_path, write_npz, write_text
from multimnist.formatting import csv_text
from multimnist.layout import BACKUP, HISTORY, MODEL
from multimnist.training.config import TrainConfig, make_optimizer

import jax
import jax.numpy as jnp
import keras
import numpy as np

log = logging.getLogger(__name__)

STATE = "state.npz"  # RUN/backup/STATE: a network's whole training state after its last finished epoch
EVAL_BATCH = 1024  # validation batch: any size gives the same figures up to rounding


@dataclass
class Task:
    """What the networks learn, as per-sample figures the trainer averages (it knows nothing else of them).

    `loss(y, y_pred)` is the per-sample loss minimized; `metrics(y, y_pred)` more per-sample figures by name.
    The history's columns are loss, each metric, and the same with a `val_` prefix.
    """

    name: str  # part of the compiled program's identity
    loss: Callable
    metrics: Callable
    metric_names: tuple[str, ...]  # the keys `metrics` returns


@dataclass
class Member:
    """One network of a pack: its built model (seeded), data, settings and run folder."""

    model: keras.Model  # holds the initial weights; holds the kept weights when training ends
    x: np.ndarray  # training inputs (N, ...)
    y: object  # training targets: an array (N, ...), a dict of them, or None for "the inputs themselves"
    x_val: np.ndarray
    y_val: object
    cfg: TrainConfig
    run_dir: Path
    seed: int  # shuffling; the model's own random state (dropout) was seeded when it was built
    name: str = ""  # in progress lines
    # Rows of x/y (x_val/y_val) this network trains (validates) on; None: all of them. Networks handed the very
    # same arrays share one copy on the device, each drawing its own rows from it.
    index: np.ndarray | None = None
    val_index: np.ndarray | None = None

    @property
    def n_train(self) -> int:
        return len(self.x) if self.index is None else len(self.index)


@dataclass
class TrainResult:
    history: dict[str, list[float]]  # per epoch, as in history.csv
    epochs_run: int
    best_epoch: int  # 1-based epoch whose weights the model holds at the end
    seconds_per_epoch: float  # the pack's wall time per epoch (validation, checkpoint included) / its size
    pack_size: int = 1
    epoch_seconds: list[float] = field(default_factory=list)  # each epoch's, as above (the first compiles)
    checkpoint_seconds: list[float] = field(default_factory=list)  # of which writing the checkpoints, per network


@dataclass
class _Progress:
    """A network's training state between epochs, on the host: what a checkpoint holds."""

    params: list[np.ndarray]
    state: list[np.ndarray]  # non-trainable variables: random state, normalization statistics
    opt: list[np.ndarray]
    epoch: int = 0  # epochs finished
    history: dict[str, list[float]] = field(default_factory=dict)
    best: float = math.inf  # early stopping: best monitored value so far, its epoch (0-based), epochs waited
    best_epoch: int = -1
    wait: int = 0
    stopped: bool = False
    best_params: list[np.ndarray] | None = None
    best_state: list[np.ndarray] | None = None


def train_pack(members: Sequence[Member], task: Task, label: str = "") -> list[TrainResult]:
    """Train `members` together; each run folder gets history.csv and model.keras (the kept weights).

    A member whose RUN/backup/state.npz matches its model resumes from it; the pack runs until every member has
    run its epochs or stopped early."""
    members = list(members)
    if not members:
        return []
    require_jax()
    optimizers = [make_optimizer(m.cfg, m.n_train) for m in members]
    for m, opt in zip(members, optimizers, strict=True):
        opt.build(m.model.trainable_variables)
    signature = _check_packable(members, optimizers, task)
    factors = jnp.asarray(np.stack([_penalty_factors(m.model) for m in members]))  # (M, variables, 2): l1, l2
    # (M, dropout layers), float32: what Keras' Python float `1.0 - rate` becomes beside float32 inputs
    keep_prob = jnp.asarray(np.array([_keep_probabilities(m.model) for m in members], np.float32))
    progress = [_resume(m, opt) for m, opt in zip(members, optimizers, strict=True)]
    penalized = bool(np.any(np.asarray(factors)))  # else every step would sum |w| and w^2 times zero
    # A network alone drops through Keras' own Dropout layers, its rates compiled in (as an array, XLA would round
    # a lone network's scaling differently: not the bits of multimnist 0.3.0, nor of Keras); they key its program.
    own_rates = tuple(_keep_probabilities(members[0].model)) if len(members) == 1 else None
    train_fn, eval_fn, penalty_fn = _programs(signature, members[0].model, optimizers[0], task, penalized, own_rates)
    pool = _Pool()
    rows = [pool.place(m.x, m.y, m.index) for m in members]  # each network's training rows in the pool
    val_rows = [pool.place(m.x_val, m.y_val, m.val_index) for m in members]
    x, y = pool.arrays()
    val_idx, val_weight = _eval_batches(val_rows)
    plan = _epoch_plan([len(r) for r in rows], members[0].cfg.batch_size, members[0].model)
    steps = plan[0][0]
    chunk = steps_per_call(members[0].model, steps)
    val_chunk = 1 if chunk < steps else val_idx.shape[1]
    params, state, opt = (_device_stack([getattr(p, k) for p in progress]) for k in ("params", "state", "opt"))
    label = label or (members[0].name if len(members) == 1 else f"pack of {len(members)}")
    seconds, saving = [[] for _ in members], [[] for _ in members]
    names = ("n", "loss", *task.metric_names)
    while True:
        active = np.array([_wants_epoch(p, m.cfg) for p, m in zip(progress, members, strict=True)])
        if not active.any():
            break
        start = time.perf_counter()
        train = {k: jnp.zeros(len(members), jnp.float32) for k in names}
        for idx, weight in _batches(members, rows, progress, active, plan):
            for c in range(0, idx.shape[1], chunk):
                params, state, opt, train = train_fn(params, state, opt, train, x, y, idx[:, c:c + chunk],
                                                     weight[:, c:c + chunk], active, factors, keep_prob)
        val = {k: jnp.zeros(len(members), jnp.float32) for k in names}
        for c in range(0, val_idx.shape[1], val_chunk):
            val = eval_fn(params, state, val, x, y, val_idx[:, c:c + val_chunk], val_weight[:, c:c + val_chunk])
        val["penalty"] = penalty_fn(params, factors)
        host = jax.device_get((params, state, opt, train, val))
        computed = time.perf_counter()
        for i in np.flatnonzero(active):
            _record(progress[i], members[i], [[a[i] for a in part] for part in host[:3]],
                    {k: v[i] for k, v in host[3].items()}, {k: v[i] for k, v in host[4].items()})
        elapsed = time.perf_counter() - start  # checkpoints included
        for i in np.flatnonzero(active):
            seconds[i].append(elapsed / len(members))
            saving[i].append((start + elapsed - computed) / len(members))
        _log_epoch(label, progress, members, active, elapsed)
    results = []
    for p, m, s, c in zip(progress, members, seconds, saving, strict=True):
        results.append(_finish(p, m, s, c, len(members)))
    return results


# --- what may differ inside a pack, and what must not ---

def pack_signature(model: keras.Model, optimizer, task: Task, batch_size: int) -> str:
    """What the compiled program bakes in: the layers (without their L1/L2 factors and dropout rates), the
    optimizer (without its learning rate, unless a schedule sets it), the task and the batch size. Networks pack
    only if theirs match."""
    layers = json.dumps(_without(_without_rates(model.get_config()),
                                 ("kernel_regularizer", "bias_regularizer", "activity_regularizer",
                                  "kernel_initializer", "bias_initializer", "seed")), sort_keys=True, default=str)
    # Layer names count by position only (Keras numbers unnamed layers per process: dense_3, dense_4, ...).
    for i, name in enumerate([model.name, *(layer.name for layer in model._flatten_layers(include_self=False))]):
        layers = layers.replace(json.dumps(name), f'"#{i}"')
    opt = {k: v for k, v in optimizer.get_config().items()
           if k != "name" and (k != "learning_rate" or isinstance(v, dict))}
    shapes = [tuple(v.shape) for v in (*model.trainable_variables, *model.non_trainable_variables)]
    return json.dumps({"model": layers, "optimizer": opt, "task": task.name, "batch": int(batch_size),
                       "shapes": shapes}, sort_keys=True, default=str)


def _without(obj, keys):
    if isinstance(obj, dict):
        return {k: _without(v, keys) for k, v in obj.items() if k not in keys}
    if isinstance(obj, (list, tuple)):
        return [_without(v, keys) for v in obj]
    return obj


def _without_rates(obj):
    """A model config without the rates of its plain Dropout layers (those `_dropout_layers` takes per network);
    a Dropout of rate 0 has no random state, so the variables' shapes still tell it from one that drops."""
    if isinstance(obj, dict):
        if obj.get("class_name") == "Dropout" and obj.get("config", {}).get("noise_shape") is None:
            return {**obj, "config": {k: v for k, v in obj["config"].items() if k != "rate"}}
        return {k: _without_rates(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_without_rates(v) for v in obj]
    return obj


def _check_packable(members, optimizers, task) -> str:
    signatures = [pack_signature(m.model, o, task, m.cfg.batch_size) for m, o in zip(members, optimizers, strict=True)]
    if len(set(signatures)) > 1:
        odd = next(m.name for m, s in zip(members, signatures, strict=True) if s != signatures[0])
        raise ValueError(f"{odd} cannot share a pack with {members[0].name}: the architecture, optimizer, loss or "
                         "batch size differ")
    return signatures[0]


def _penalty_factors(model: keras.Model) -> np.ndarray:
    """(l1, l2) of each trainable variable, from its layer's kernel regularizer (Keras' L1, L2 or L1L2)."""
    factors = {}
    for layer in model._flatten_layers(include_self=False):
        for kind in ("bias_regularizer", "activity_regularizer"):
            if getattr(layer, kind, None) is not None:
                raise ValueError(f"layer {layer.name}: the pack trainer supports kernel regularizers only")
        reg = getattr(layer, "kernel_regularizer", None)
        if reg is None:
            continue
        if not isinstance(reg, (keras.regularizers.L1, keras.regularizers.L2, keras.regularizers.L1L2)):
            raise ValueError(f"layer {layer.name}: the pack trainer supports L1/L2 kernel penalties only")
        factors[id(layer.kernel)] = (float(getattr(reg, "l1", 0.0)), float(getattr(reg, "l2", 0.0)))
    return np.array([factors.get(id(v), (0.0, 0.0)) for v in model.trainable_variables], dtype=np.float32)


def _dropout_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's plain Dropout layers that drop (rate > 0, no noise shape): their rates are per network."""
    return [layer for layer in model._flatten_layers(include_self=False)
            if type(layer) is keras.layers.Dropout and layer.rate > 0 and layer.noise_shape is None]


def _keep_probabilities(model: keras.Model) -> list[float]:
    """1 - rate of each of `_dropout_layers`, as Keras' dropout computes it (`1.0 - rate` in Python)."""
    return [1.0 - layer.rate for layer in _dropout_layers(model)]


@contextmanager
def _dropping(model: keras.Model, keep):
    """While tracing: the model's Dropout layers keep each unit with probability `keep[i]` (this network's, a
    traced array) by Keras' own formula (`keras.src.backend.jax.random.dropout`), so a rate handed in as an array
    draws the very masks the rate compiled in would."""
    layers = _dropout_layers(model)

    def call(layer, k, inputs, training=False):
        if not training:
            return inputs
        mask = jax.random.bernoulli(layer.seed_generator.next(), p=k, shape=inputs.shape)
        return jax.lax.select(mask, inputs / k, jnp.zeros_like(inputs))

    for i, layer in enumerate(layers):
        object.__setattr__(layer, "call", partial(call, layer, keep[i]))  # Layer.__call__ calls self.call
    try:
        yield
    finally:
        for layer in layers:
            object.__delattr__(layer, "call")


# --- the compiled program: one epoch of every network, and their validation ---

_PROGRAMS: dict[str, tuple[Callable, Callable, Callable]] = {}


def _programs(signature: str, model: keras.Model, optimizer, task: Task, penalized: bool = True,
              own_rates: tuple[float, ...] | None = None) -> tuple[Callable, Callable, Callable]:
    """The jitted training, validation and penalty functions for this signature (compiled once per shapes).
    `own_rates`: the keep probabilities of `model`'s Dropout layers when its own layers drop (a network alone)."""
    key = f"{signature} penalized={penalized} own_rates={own_rates}"
    if key not in _PROGRAMS:
        _PROGRAMS[key] = _build_programs(model, optimizer, task, penalized, own_rates is not None)
    return _PROGRAMS[key]


def _build_programs(model: keras.Model, optimizer, task: Task, penalized: bool = True,
                    own_rates: bool = False) -> tuple[Callable, Callable, Callable]:
    """(train, evaluate, penalty), each over every network of a pack. `train` runs a chunk of an epoch's steps
    (`steps_per_call`), `evaluate` a chunk of validation batches; both add to running sums they are handed. The
    dropout layers keep each unit with the probabilities `train` is handed per network, or, with `own_rates`, with
    the rates `model`'s layers have (compiled in: the program serves only networks of those rates)."""

    def penalty(params, factors):
        total = jnp.zeros((), jnp.float32)
        if not penalized:  # no network of the pack has an L1/L2 factor
            return total
        for i, p in enumerate(params):
            total = total + factors[i, 0] * jnp.sum(jnp.abs(p)) + factors[i, 1] * jnp.sum(jnp.square(p))
        return total

    def train(params, state, opt, sums, x, y, idx, weight, active, factors, keep_prob):
        def step(carry, batch):
            params, state, opt, sums = carry
            b_idx, b_weight = batch
            xb = x[b_idx]
            yb = xb if y is None else jax.tree.map(lambda a: a[b_idx], y)
            count = jnp.sum(b_weight)

            def objective(params):
                with nullcontext() if own_rates else _dropping(model, keep_prob):
                    y_pred, new_state = model.stateless_call(params, state, xb, training=True)
                data = jnp.sum(task.loss(yb, y_pred) * b_weight) / jnp.maximum(count, 1.0)
                return data + penalty(params, factors), (new_state, y_pred)

            (loss, (new_state, y_pred)), grads = jax.value_and_grad(objective, has_aux=True)(params)
            new_params, new_opt = optimizer.stateless_apply(opt, grads, params)
            take = active & (count > 0)  # an empty batch, or a stopped network: nothing changes

            def keep(new, old):
                return jax.tree.map(lambda a, b: jnp.where(take, a, b), new, old)

            figures = {"n": count, "loss": loss * count,
                       **{k: jnp.sum(v * b_weight) for k, v in task.metrics(yb, y_pred).items()}}
            sums = {k: sums[k] + v for k, v in figures.items()}
            return (keep(new_params, params), keep(new_state, state), keep(new_opt, opt), sums), None

        return _steps(step, (params, state, opt, sums), (idx, weight))

    def evaluate(params, state, sums, x, y, idx, weight):
        def step(sums, batch):
            b_idx, wb = batch
            xb = x[b_idx]
            yb = xb if y is None else jax.tree.map(lambda a: a[b_idx], y)
            y_pred, _ = model.stateless_call(params, state, xb, training=False)
            figures = {"n": jnp.sum(wb), "loss": jnp.sum(task.loss(yb, y_pred) * wb),
                       **{k: jnp.sum(v * wb) for k, v in task.metrics(yb, y_pred).items()}}
            return {k: sums[k] + v for k, v in figures.items()}, None

        return _steps(step, sums, (idx, weight))

    # x and y (the pool) are shared by every network; everything else has a leading network axis.
    return (_over_members(train, shared=(4, 5)), _over_members(evaluate, shared=(3, 4)),
            _over_members(penalty))


def _steps(step: Callable, carry, batches):
    """`step` over the leading axis of `batches`: a plain call for one, else `lax.scan`."""
    if len(jax.tree.leaves(batches)[0]) == 1:
        return step(carry, jax.tree.map(lambda a: a[0], batches))[0]
    return jax.lax.scan(step, carry, batches)[0]


def steps_per_call(model: keras.Model, steps: int) -> int:
    """Training steps per compiled call: the whole epoch in one `lax.scan` for dense networks; one for networks
    with convolutions, which XLA runs 10-17x slower inside a loop on CPUs (the reader: 14-24 s per epoch in a
    scan, 1.4 s step by step, measured on 2 cores)."""
    convolutional = any("Conv" in type(layer).__name__ for layer in model._flatten_layers(include_self=False))
    return 1 if convolutional else steps


def _over_members(fn: Callable, shared: tuple[int, ...] = ()) -> Callable:
    """`fn` of one network mapped over the leading axis of every argument but the `shared` ones, jitted. A pack
    of one skips the map: vmapped convolutions become grouped ones, which XLA runs several times slower on CPUs."""

    def axes(n: int) -> tuple:
        return tuple(None if i in shared else 0 for i in range(n))

    packed = {}

    @jax.jit
    def alone(*args):
        one = [a if i in shared else jax.tree.map(lambda v: v[0], a) for i, a in enumerate(args)]
        return jax.tree.map(lambda a: a[None], fn(*one))

    def call(*args):
        if len(args[-1]) == 1:  # the last argument has a network axis in every program here
            return alone(*args)
        if len(args) not in packed:
            packed[len(args)] = jax.jit(jax.vmap(fn, in_axes=axes(len(args))))
        return packed[len(args)](*args)

    return call


# --- data on the device: one pool of rows, each network drawing its own ---

class _Pool:
    """The arrays the networks of a pack read, each copied to the device once however many networks read it."""

    def __init__(self):
        self.parts: list[tuple[np.ndarray, object]] = []
        self.offsets: list[int] = []

    def place(self, x: np.ndarray, y, index: np.ndarray | None) -> np.ndarray:
        """The pool rows of `x[index]` (all of x if index is None), x (with its targets y) added if new."""
        offset = next((o for (px, py), o in zip(self.parts, self.offsets, strict=True) if px is x and py is y),
                      None)
        if offset is None:
            offset = sum(len(px) for px, _ in self.parts)
            self.parts.append((x, y))
            self.offsets.append(offset)
        local = np.arange(len(x)) if index is None else np.asarray(index)
        return (offset + local).astype(np.int32)

    def arrays(self):
        """(x, y) on the device: every part's rows one after another; y None when the inputs are the targets."""
        xs, ys = [px for px, _ in self.parts], [py for _, py in self.parts]
        if all(t is None for t in ys):
            y = None
        elif any(t is None for t in ys):
            raise ValueError("the networks of a pack must all learn their inputs, or all learn targets")
        elif isinstance(ys[0], dict):
            y = {k: _joined([t[k] for t in ys]) for k in ys[0]}
        else:
            y = _joined(ys)
        return _joined(xs), y


def _joined(arrays: list[np.ndarray]) -> jax.Array:
    return jnp.asarray(arrays[0] if len(arrays) == 1 else np.concatenate(arrays))


def _eval_batches(rows: list[np.ndarray]) -> tuple[jax.Array, jax.Array]:
    """Each network's validation rows as (M, batches, EVAL_BATCH) pool indices with 0/1 weights."""
    batches = max(1, math.ceil(max(len(r) for r in rows) / EVAL_BATCH))
    idx = np.zeros((len(rows), batches * EVAL_BATCH), np.int32)
    weight = np.zeros((len(rows), batches * EVAL_BATCH), np.float32)
    for i, r in enumerate(rows):
        idx[i, :len(r)], weight[i, :len(r)] = r, 1.0
    shape = (len(rows), batches, EVAL_BATCH)
    return jnp.asarray(idx.reshape(shape)), jnp.asarray(weight.reshape(shape))


def _device_stack(parts: list[list[np.ndarray]]) -> list[jax.Array]:
    return [jnp.asarray(np.stack(column)) for column in zip(*parts, strict=True)]


def _epoch_plan(sizes: list[int], batch: int, model: keras.Model) -> list[tuple[int, int]]:
    """An epoch's batches as [(count, size)]: networks with equal data take `n // batch` full batches and one
    of the rest, as `model.fit` does; networks of unequal data pad the shorter ones' last batches (weight 0),
    which only a layer that mixes the samples of a batch (batch normalization) could tell, so it is refused."""
    if len(set(sizes)) == 1:
        full, rest = divmod(sizes[0], batch)
        return [(full, batch), (1, rest)] if full and rest else [(full, batch)] if full else [(1, rest)]
    if any(isinstance(layer, keras.layers.BatchNormalization) for layer in model._flatten_layers()):
        raise ValueError("networks with batch normalization share a pack only with as many training samples each")
    return [(math.ceil(max(sizes) / batch), batch)]


def _batches(members, rows, progress, active, plan) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each network's batches for its next epoch, per (count, size) of `plan`: (M, count, size) pool indices
    and 0/1 weights.

    A network's order comes from its seed and epoch only; its batches come first, padded ones (weight 0) after,
    so where it sits and whom it is packed with change nothing."""
    total = sum(count * size for count, size in plan)
    idx = np.zeros((len(members), total), np.int32)
    weight = np.zeros((len(members), total), np.float32)
    for i in np.flatnonzero(active):
        n = len(rows[i])
        order = (np.random.default_rng([members[i].seed, progress[i].epoch]).permutation(n)
                 if members[i].cfg.shuffle else np.arange(n))
        idx[i, :n], weight[i, :n] = rows[i][order], 1.0
    parts, start = [], 0
    for count, size in plan:
        stop = start + count * size
        parts.append((idx[:, start:stop].reshape(len(members), count, size),
                      weight[:, start:stop].reshape(len(members), count, size)))
        start = stop
    return parts


# --- per network, on the host: history, early stopping, checkpoints ---

def _wants_epoch(p: _Progress, cfg: TrainConfig) -> bool:
    return p.epoch < cfg.epochs and not p.stopped


def _record(p: _Progress, m: Member, arrays, train: dict, val: dict) -> None:
    """Append the epoch to `p`'s history, apply early stopping (Keras' rules), checkpoint."""
    p.params, p.state, p.opt = arrays
    n, n_val = float(train["n"]), float(val["n"])
    row = {"loss": float(train["loss"]) / n,
           "val_loss": float(val["loss"]) / n_val + float(val["penalty"])}
    row.update({k: float(v) / n for k, v in train.items() if k not in ("n", "loss")})
    row.update({f"val_{k}": float(v) / n_val for k, v in val.items() if k not in ("n", "loss", "penalty")})
    for k, v in row.items():
        p.history.setdefault(k, []).append(v)
    es = m.cfg.early_stopping
    if es is not None:
        _early_stopping(p, es, row)
    p.epoch += 1
    _checkpoint(p, m.run_dir)


def _early_stopping(p: _Progress, es, row: dict) -> None:
    """keras.callbacks.EarlyStopping.on_epoch_end, for one network (mode from the monitored name)."""
    if es.monitor not in row:
        raise UserError(f"early stopping monitors {es.monitor!r}, which is not among {', '.join(sorted(row))}")
    maximize = "accuracy" in es.monitor
    current = row[es.monitor] * (-1 if maximize else 1)  # minimized either way
    if es.restore_best_weights and p.best_params is None:
        p.best_params, p.best_state, p.best_epoch = p.params, p.state, p.epoch
    p.wait += 1
    if current + es.min_delta < p.best:  # Keras: monitor - min_delta improves on the best
        p.best, p.best_epoch, p.wait = current, p.epoch, 0
        if es.restore_best_weights:
            p.best_params, p.best_state = p.params, p.state
        return
    if p.wait >= es.patience and p.epoch > 0:
        p.stopped = True


def _checkpoint(p: _Progress, run_dir: Path) -> None:
    """RUN/backup/state.npz (the whole state, history included), then history.csv from it."""
    arrays = {f"p{i}": a for i, a in enumerate(p.params)}
    arrays.update({f"s{i}": a for i, a in enumerate(p.state)})
    arrays.update({f"o{i}": a for i, a in enumerate(p.opt)})
    if p.best_params is not None:
        arrays.update({f"bp{i}": a for i, a in enumerate(p.best_params)})
        arrays.update({f"bs{i}": a for i, a in enumerate(p.best_state)})
    columns = sorted(p.history)
    arrays.update(counts=np.array([len(p.params), len(p.state), len(p.opt), p.epoch, p.best_epoch, p.wait,
                                   int(p.stopped), int(p.best_params is not None)], np.int64),
                  best=np.array([p.best], np.float64), columns=np.array(columns, dtype=str),
                  history=np.array([p.history[c] for c in columns], np.float64).T.reshape(p.epoch, len(columns)))
    write_npz(run_dir / BACKUP / STATE, compress=False, **arrays)  # rewritten every epoch: speed over size
    _write_history(run_dir / HISTORY, p.history)


def _write_history(path: Path, history: dict[str, list[float]]) -> None:
    """history.csv as Keras' CSVLogger wrote it: epoch (0-based), then the columns in sorted order."""
    columns = sorted(history)
    epochs = len(history[columns[0]]) if columns else 0
    rows = [[e, *(repr(history[c][e]) for c in columns)] for e in range(epochs)]
    write_text(path, csv_text([["epoch", *columns], *rows]))


def _resume(m: Member, opt) -> _Progress:
    """The network's state from RUN/backup/state.npz if it is there and fits its model; else its initial one."""
    fresh = _Progress([np.asarray(v) for v in m.model.trainable_variables],
                      [np.asarray(v) for v in m.model.non_trainable_variables], [np.asarray(v) for v in opt.variables])
    path = Path(m.run_dir) / BACKUP / STATE
    if not path.is_file():
        return fresh
    try:
        with np.load(path, allow_pickle=False) as saved:
            n_p, n_s, n_o, epoch, best_epoch, wait, stopped, has_best = (int(v) for v in saved["counts"])
            p = _Progress([saved[f"p{i}"] for i in range(n_p)], [saved[f"s{i}"] for i in range(n_s)],
                          [saved[f"o{i}"] for i in range(n_o)], epoch, best=float(saved["best"][0]),
                          best_epoch=best_epoch, wait=wait, stopped=bool(stopped))
            if has_best:
                p.best_params = [saved[f"bp{i}"] for i in range(n_p)]
                p.best_state = [saved[f"bs{i}"] for i in range(n_s)]
            history = saved["history"].reshape(epoch, -1)
            p.history = {str(c): history[:, j].tolist() for j, c in enumerate(saved["columns"])}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
        log.warning("cannot resume %s (%s): training afresh", m.run_dir, str(e).splitlines()[0])
        path.unlink(missing_ok=True)
        return fresh
    same = (len(p.params), len(p.state), len(p.opt)) == (len(fresh.params), len(fresh.state), len(fresh.opt)) and all(
        a.size == b.size and a.dtype == b.dtype for a, b in
        zip([*p.params, *p.state, *p.opt], [*fresh.params, *fresh.state, *fresh.opt], strict=True))
    if not same:
        log.warning("cannot resume %s (its checkpoint is of another network): training afresh", m.run_dir)
        path.unlink(missing_ok=True)
        return fresh
    # The checkpoint holds scalars (the optimizer's step, its learning rate) as 1-element arrays.
    p.params, p.state, p.opt = ([a.reshape(b.shape) for a, b in zip(saved, ref, strict=True)]
                                for saved, ref in ((p.params, fresh.params), (p.state, fresh.state),
                                                   (p.opt, fresh.opt)))
    if p.best_params is not None:
        p.best_params = [a.reshape(b.shape) for a, b in zip(p.best_params, fresh.params, strict=True)]
        p.best_state = [a.reshape(b.shape) for a, b in zip(p.best_state, fresh.state, strict=True)]
    log.info("resuming %s after epoch %d", m.run_dir, p.epoch)
    return p


def _finish(p: _Progress, m: Member, seconds: list[float], saving: list[float], pack_size: int) -> TrainResult:
    """Put the kept weights (the best epoch's, when early stopping restores them) into the model; save it."""
    restored = m.cfg.early_stopping is not None and m.cfg.early_stopping.restore_best_weights \
        and p.best_params is not None
    params, state = (p.best_params, p.best_state) if restored else (p.params, p.state)
    for variable, value in zip(m.model.trainable_variables, params, strict=True):
        variable.assign(value)
    for variable, value in zip(m.model.non_trainable_variables, state, strict=True):
        variable.assign(value)
    with atomic_path(Path(m.run_dir) / MODEL) as tmp:  # tmp ends in .keras, as Keras requires
        m.model.save(tmp)
    best = p.best_epoch + 1 if restored else p.epoch
    return TrainResult(p.history, p.epoch, best, float(np.mean(seconds)) if seconds else float("nan"), pack_size,
                       seconds, saving)


def _log_epoch(label: str, progress, members, active, elapsed: float) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    first = int(np.flatnonzero(active)[0])
    epoch, epochs = progress[first].epoch, members[first].cfg.epochs
    if len(members) == 1:
        row = {k: v[-1] for k, v in progress[0].history.items()}
        figures = ", ".join(f"{k} {row[k]:.4f}" for k in sorted(row))
        log.info("%s: epoch %d/%d (%.1f s): %s", label, epoch, epochs, elapsed, figures)
        return
    val = [p.history["val_loss"][-1] for p, a in zip(progress, active, strict=True) if a]
    stopped = sum(p.stopped for p in progress)
    log.info("%s: epoch %d/%d (%.1f s, %d network(s) trained, %d stopped early): val_loss %.4f-%.4f", label,
             epoch, epochs, elapsed, int(active.sum()), stopped, min(val), max(val))


# --- grouping work into packs ---

def default_pack_size() -> int:
    """Networks per pack when none is asked for: 32 on a GPU (one small network leaves it idle), 8 on CPUs."""
    return 32 if any(d.platform == "gpu" for d in jax.devices()) else 8


# Training settings the trainer takes network by network (the learning rate too, when no schedule compiles it in):
# configs that differ only in these, and in their model's per-network settings, may share a pack.
PER_NETWORK_TRAINING = ("epochs", "early_stopping", "shuffle")


def pack_key(model: dict, training: TrainConfig, per_network: tuple[str, ...] = (), extra: dict | None = None) -> str:
    """The one place that decides which configs may train in one pack: networks whose keys are equal.

    `model`: the model's settings; `per_network`: those of them the trainer takes network by network (a classifier's
    L1/L2 factors and initializer: `pack_signature` leaves them out of the compiled program); `extra`: what else a
    model kind keeps apart (a batch-normalized classifier's augmentation: batch statistics mix a batch's samples,
    so only equal data sizes share a pack). The seed and PER_NETWORK_TRAINING never count. `pack_signature` then
    checks, once the networks are built, that each pack's networks compile to one program.

    Dropout rates count, though the trainer takes them network by network too: packing the study's three rates
    together changes no figure's meaning but the bits of the committed 0.3.0 runs (a network's rounding depends on
    its pack's size: with the rates left out, faint's nine dropout ablations trained in one pack instead of three
    and ended with the same test accuracies, 2 of 9 test losses different in the 8th significant digit;
    2026-12-03), and buys nothing on CPUs, where packs of 3 and 8 train at one speed per network. `python
    scripts/check_same_bits.py` checks that a change keeps those bits."""
    settings = to_dict(training)
    kept = {k: v for k, v in settings.items() if k not in PER_NETWORK_TRAINING
            and not (k == "learning_rate" and settings.get("lr_schedule") is None)}
    key = {"model": sorted((k, v) for k, v in model.items() if k not in per_network), "training": sorted(kept.items())}
    key.update(extra or {})
    return repr(sorted(key.items()))


def group_packs(items: Sequence, key: Callable, size: int) -> list[list]:
    """`items` grouped by `key` (in order of first appearance), each group cut into packs of at most `size`
    of near-equal sizes (9 at 8 a pack: 5 and 4)."""
    groups: dict = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    packs = []
    for group in groups.values():
        n = math.ceil(len(group) / max(1, size))
        sizes = [len(group) // n + (i < len(group) % n) for i in range(n)]  # the larger packs first
        bounds = np.cumsum([0, *sizes])
        packs += [group[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    return packs
