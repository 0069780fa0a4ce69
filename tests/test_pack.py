"""The pack trainer: a network's figures do not depend on its pack mates, early stopping inside a pack, resume
after SIGKILL with the same bytes, and the grouping of runs into packs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from multimnist.experiments.classifier import classifier_task
from multimnist.training.config import EarlyStoppingConfig, TrainConfig
from multimnist.training.pack import STATE, Member, group_packs, train_pack

import keras
import numpy as np
import pytest

# Float tolerance of "the same network, alone or in a pack": XLA may order a batched matmul's sums differently.
RTOL, ATOL = 1e-5, 1e-6


def _model(seed: int, l1: float = 0.0, rate: float = 0.2):
    keras.utils.set_random_seed(seed)
    reg = keras.regularizers.L1L2(l1=l1) if l1 else None
    return keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="sigmoid", kernel_regularizer=reg),
                             keras.layers.Dropout(rate), keras.layers.Dense(3, activation="softmax",
                                                                            kernel_regularizer=reg)])


def _data(seed: int, n: int, shifted: bool = False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[x[:, :3].argmax(1)]
    return x, (np.roll(y, 1, axis=1) if shifted else y)  # shifted: the validation loss is best early, then grows


# Networks that differ in everything a pack lets differ: seed, data size, learning rate, L1, dropout rate, epochs,
# early stopping.
SPECS = [
    {"seed": 0, "n": 64, "lr": 0.05, "l1": 0.0, "rate": 0.2, "epochs": 6, "es": None},
    {"seed": 1, "n": 50, "lr": 0.01, "l1": 1e-3, "rate": 0.5, "epochs": 4, "es": None},
    {"seed": 2, "n": 64, "lr": 0.1, "l1": 0.0, "rate": 0.2, "epochs": 6,
     "es": EarlyStoppingConfig(min_delta=0.0, patience=1)},
]


def _member(spec: dict, run_dir: Path, shifted_val: bool = False) -> Member:
    x, y = _data(spec["seed"], spec["n"])
    x_val, y_val = _data(spec["seed"] + 10, 20, shifted=shifted_val)
    cfg = TrainConfig(epochs=spec["epochs"], batch_size=16, learning_rate=spec["lr"], early_stopping=spec["es"])
    return Member(_model(spec["seed"], spec["l1"], spec.get("rate", 0.2)), x, y, x_val, y_val, cfg, run_dir,
                  spec["seed"], f"net-{spec['seed']}")


def test_a_network_trains_the_same_alone_or_in_a_pack(tmp_path):
    alone = [train_pack([m], classifier_task())[0] for m in
             [_member(s, tmp_path / f"alone-{i}") for i, s in enumerate(SPECS)]]
    members = [_member(s, tmp_path / f"pack-{i}") for i, s in enumerate(SPECS)]
    packed = train_pack(members, classifier_task())
    for i, (a, p) in enumerate(zip(alone, packed, strict=True)):
        assert p.pack_size == 3 and a.pack_size == 1
        assert (a.epochs_run, a.best_epoch) == (p.epochs_run, p.best_epoch)
        assert set(a.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
        for k in a.history:
            np.testing.assert_allclose(a.history[k], p.history[k], rtol=RTOL, atol=ATOL, err_msg=f"{i} {k}")
        alone_weights = keras.saving.load_model(tmp_path / f"alone-{i}" / "model.keras").get_weights()
        for w_a, w_p in zip(alone_weights, members[i].model.get_weights(), strict=True):
            np.testing.assert_allclose(w_a, w_p, rtol=RTOL, atol=ATOL)
    assert [len(r.history["loss"]) for r in packed][:2] == [6, 4]  # each ran its own number of epochs


def test_each_network_of_a_pack_drops_at_its_own_rate(tmp_path):
    """The dropout rate is an input of the pack's program, not compiled in: a network trained beside one of another
    rate ends with the very bytes it ends with beside one of its own rate (same pack size, same place)."""
    spec = {"n": 64, "lr": 0.05, "l1": 0.0, "epochs": 3, "es": None}
    rates = {0: 0.1, 1: 0.6}

    def weights(pack_rates: list[float], folder: str) -> list[list[np.ndarray]]:
        members = [_member({**spec, "seed": s, "rate": r}, tmp_path / folder / str(s))
                   for s, r in enumerate(pack_rates)]
        assert train_pack(members, classifier_task())[0].pack_size == 2
        return [m.model.get_weights() for m in members]

    mixed = weights([rates[0], rates[1]], "mixed")
    for seed, rate in rates.items():
        own = weights([rate, rate], f"own-{rate}")[seed]
        assert all(np.array_equal(a, b) for a, b in zip(mixed[seed], own, strict=True)), f"seed {seed} rate {rate}"
    other = weights([rates[1], rates[0]], "swapped")  # seed 0 at the other rate: another network
    assert not all(np.array_equal(a, b) for a, b in zip(mixed[0], other[0], strict=True))


def test_early_stopping_stops_one_network_and_restores_its_best_epoch(tmp_path):
    members = [_member(SPECS[0], tmp_path / "a"), _member(SPECS[2], tmp_path / "b", shifted_val=True)]
    goes_on, stopped = train_pack(members, classifier_task())
    assert goes_on.epochs_run == 6 and goes_on.best_epoch == 6
    val = stopped.history["val_loss"]
    assert stopped.epochs_run < 6 and stopped.best_epoch == int(np.argmin(val)) + 1
    assert stopped.epochs_run == stopped.best_epoch + 1  # patience 1
    # The kept weights are those after the best epoch: the same network trained alone for that many epochs.
    spec = {**SPECS[2], "epochs": stopped.best_epoch, "es": None}
    again = _member(spec, tmp_path / "c", shifted_val=True)
    train_pack([again], classifier_task())
    for w_stop, w_best in zip(members[1].model.get_weights(), again.model.get_weights(), strict=True):
        np.testing.assert_allclose(w_stop, w_best, rtol=RTOL, atol=ATOL)


def test_a_network_that_cannot_share_the_pack_is_refused(tmp_path):
    odd = _member(SPECS[0], tmp_path / "odd")
    odd.cfg = TrainConfig(epochs=2, batch_size=8)
    with pytest.raises(ValueError, match="cannot share a pack"):
        train_pack([_member(SPECS[0], tmp_path / "a"), odd], classifier_task())


KILLED = """
import sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
import logging
logging.basicConfig(level=logging.INFO, format="%(message)s")  # "resuming ..." on stderr
import test_pack
from multimnist.training import pack
slow = float(sys.argv[2])
record = pack._record
def record_slowly(*args):
    record(*args)
    time.sleep(slow)  # room for the test to kill the pack between two epochs
pack._record = record_slowly
root = Path(sys.argv[1])
specs = [dict(s, epochs=8) for s in test_pack.SPECS]
pack.train_pack([test_pack._member(s, root / f"net-{{i}}") for i, s in enumerate(specs)],
                test_pack.classifier_task())
"""


def _train_in_subprocess(root: Path, slow: float) -> subprocess.Popen:
    script = root.parent / "killed.py"
    script.write_text(KILLED.format(tests=str(Path(__file__).parent)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1] / "src"),
                                                       os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, str(script), str(root), str(slow)], env=env, stderr=subprocess.PIPE,
                            text=True)


@pytest.mark.slow  # SIGKILL and resume: three training processes, each importing Keras/JAX and compiling anew
def test_a_pack_killed_mid_training_resumes_to_the_same_bytes(tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    first = _train_in_subprocess(whole, 0.0)
    first.communicate(timeout=300)
    assert first.returncode == 0
    proc = _train_in_subprocess(killed, 0.3)
    state = killed / "net-0" / "backup" / STATE
    deadline = time.time() + 300
    while not state.is_file() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.4)  # a few epochs in
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "net-0" / "model.keras").exists()  # it was killed mid-pack
    rerun = _train_in_subprocess(killed, 0.0)
    _, log = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, log
    assert f"resuming {killed / 'net-0'} after epoch" in log and "cannot resume" not in log  # resumed, not redone
    for i in range(len(SPECS)):
        assert (whole / f"net-{i}" / "history.csv").read_bytes() == (killed / f"net-{i}" / "history.csv").read_bytes()
        a = keras.saving.load_model(whole / f"net-{i}" / "model.keras").get_weights()
        b = keras.saving.load_model(killed / f"net-{i}" / "model.keras").get_weights()
        for w_a, w_b in zip(a, b, strict=True):
            np.testing.assert_array_equal(w_a, w_b)


def test_a_broken_checkpoint_is_set_aside_and_the_network_trains_afresh(tmp_path, caplog):
    (tmp_path / "a" / "backup").mkdir(parents=True)
    (tmp_path / "a" / "backup" / STATE).write_bytes(b"PK\x03\x04 cut short by a full disk")
    fresh = train_pack([_member(SPECS[0], tmp_path / "a")], classifier_task())[0]
    clean = train_pack([_member(SPECS[0], tmp_path / "b")], classifier_task())[0]
    assert "cannot resume" in caplog.text
    assert fresh.history == clean.history


def test_group_packs_keeps_order_and_balances_sizes():
    items = list(range(11))
    packs = group_packs(items, lambda i: i % 2, 4)
    assert packs == [[0, 2, 4], [6, 8, 10], [1, 3, 5], [7, 9]]
    assert group_packs(items, lambda i: 0, 8) == [items[:6], items[6:]]
    assert group_packs([], lambda i: 0, 8) == []


def test_networks_reading_one_pool_train_as_on_their_own_arrays(tmp_path):
    x, y = _data(7, 90)
    rows = np.arange(10, 74)  # this network's training rows; it validates on some of the others
    own = _member(SPECS[0], tmp_path / "own")
    own.x, own.y, own.x_val, own.y_val = x[rows], y[rows], x[:10], y[:10]
    pooled = _member(SPECS[0], tmp_path / "pooled")
    pooled.x, pooled.y, pooled.x_val, pooled.y_val = x, y, x, y
    pooled.index, pooled.val_index = rows, np.arange(10)
    a = train_pack([own], classifier_task())[0]
    b = train_pack([pooled], classifier_task())[0]
    assert a.history == b.history


@pytest.mark.slow
def test_each_step_is_keras_own_train_step_even_with_batch_statistics(tmp_path):
    """One epoch of 2.5 batches (the last one short, as `fit` makes it) through a network with batch
    normalization, dropout and label smoothing: the weights and moving statistics are Keras' own
    `train_on_batch`'s, batch after batch."""
    from multimnist.models.classifier import ModelConfig, build_classifier
    from multimnist.training.config import make_optimizer
    from multimnist.training.seeding import seed_everything

    model_cfg = ModelConfig(hidden=(16, 8), activation="relu", norm="batch", dropout=0.1, max_params=None)
    train_cfg = TrainConfig(epochs=1, batch_size=32, shuffle=False, lr_schedule="cosine", learning_rate=0.01)
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(80, 1092)).astype(np.float32)
    y = np.eye(50, dtype=np.float32)[rng.integers(0, 50, 80)]
    seed_everything(3)
    keras_model = build_classifier(model_cfg)
    keras_model.compile(optimizer=make_optimizer(train_cfg, 80),
                        loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1))
    for start in range(0, 80, 32):
        keras_model.train_on_batch(x[start:start + 32], y[start:start + 32])
    seed_everything(3)
    ours = Member(build_classifier(model_cfg), x, y, x[:16], y[:16], train_cfg, tmp_path / "a", 3, "bn")
    train_pack([ours], classifier_task(0.1))
    seed_everything(3)
    moved = np.abs(np.asarray(keras_model.variables[0]) - np.asarray(build_classifier(model_cfg).variables[0]))
    assert moved.max() > 1e-3  # the steps did change the weights
    for a, b in zip(keras_model.variables, ours.model.variables, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=RTOL, atol=ATOL, err_msg=a.path)


def test_networks_with_batch_statistics_pack_only_with_equal_data(tmp_path):
    from multimnist.models.classifier import ModelConfig, build_classifier

    cfg = ModelConfig(hidden=(16, 8), norm="batch", max_params=None)
    members = []
    for i, n in enumerate((40, 50)):
        x, y = np.zeros((n, 1092), np.float32), np.eye(50, dtype=np.float32)[np.zeros(n, int)]
        members.append(Member(build_classifier(cfg), x, y, x[:8], y[:8], TrainConfig(epochs=1, batch_size=16),
                              tmp_path / f"n{i}", i, f"n{i}"))
    with pytest.raises(ValueError, match="batch normalization"):
        train_pack(members, classifier_task())
