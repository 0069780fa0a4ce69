"""Generated datasets (sources, class plan, determinism) and read_dataset's checks of user files."""

from __future__ import annotations

import ast
import io
import json
import re
from pathlib import Path

import multimnist.data
from multimnist import __version__
from multimnist.data import GeneratorConfig, make_dataset, read_dataset, save_dataset
from multimnist.data.compose import compose, split_label
from multimnist.data.plans import load_plan, scale_plan
from multimnist.errors import UserError

import numpy as np
import pytest
from conftest import SMALL_TRAIN

# --- generation -----------------------------------------------------------------------------------------------


def test_shapes_and_dtypes(small_dataset):
    ds = small_dataset
    assert ds.x_train.shape == (SMALL_TRAIN, 28, 39) and ds.x_train.dtype == np.uint8
    assert ds.x_test.shape == (SMALL_TRAIN // 5, 28, 39) and ds.x_test.dtype == np.uint8
    assert ds.y_train.dtype == np.int64 and ds.src_train.shape == (SMALL_TRAIN, 2) and ds.src_train.dtype == np.int64
    assert ds.classes == tuple(range(1, 51))


def test_class_counts_follow_the_plan(small_dataset):
    plan = scale_plan(load_plan("study"), SMALL_TRAIN)
    counts = np.bincount(small_dataset.y_train, minlength=51)[1:]
    assert counts.tolist() == list(plan.values())
    test_counts = np.bincount(small_dataset.y_test, minlength=51)[1:]
    assert test_counts.tolist() == list(scale_plan(plan, SMALL_TRAIN // 5).values())
    # Same proportions at a fifth of the size.
    np.testing.assert_allclose(test_counts / test_counts.sum(), counts / counts.sum(), atol=1 / (SMALL_TRAIN // 5))


def test_labels_are_shuffled(small_dataset):
    assert (np.diff(small_dataset.y_train) != 0).sum() > SMALL_TRAIN // 2


@pytest.mark.parametrize("split", ["train", "test"])
def test_images_rebuild_from_their_own_mnist_split(small_dataset, digits, split):
    """Every image is exactly its two recorded source digits, from the matching MNIST split, composed."""
    ds = small_dataset
    x, y, src, intensity = (getattr(ds, f"{k}_{split}") for k in ("x", "y", "src", "intensity"))
    pool_x, pool_y = getattr(digits, f"x_{split}"), getattr(digits, f"y_{split}")
    assert src.min() >= 0 and src.max() < len(pool_x)
    tens, units = split_label(y)
    np.testing.assert_array_equal(pool_y[src[:, 0]], tens)
    np.testing.assert_array_equal(pool_y[src[:, 1]], units)
    low, high = GeneratorConfig().intensity
    assert intensity.min() >= low and intensity.max() <= high
    rebuilt = compose(pool_x[src[:, 0]], pool_x[src[:, 1]], intensity[:, 0], intensity[:, 1])
    np.testing.assert_array_equal(rebuilt, x)


def test_test_images_do_not_come_from_mnist_train(small_dataset, digits):
    ds = small_dataset
    from_train = compose(digits.x_train[ds.src_test[:, 0]], digits.x_train[ds.src_test[:, 1]],
                         ds.intensity_test[:, 0], ds.intensity_test[:, 1])
    assert not (from_train == ds.x_test).all(axis=(1, 2)).any()


def test_meta_records_how_it_was_made(small_dataset, digits):
    meta = small_dataset.meta
    assert meta["seed"] == 0 and meta["multimnist_version"] == __version__
    assert meta["mnist"] == {"source": "vendored", "sha256": digits.sha256}
    assert meta["generator"]["train_size"] == SMALL_TRAIN and meta["generator"]["blend"] == "max"
    assert meta["classes"] == list(range(1, 51))
    assert meta["train"]["total"] == SMALL_TRAIN and meta["test"]["total"] == SMALL_TRAIN // 5


def test_same_seed_same_bytes_other_seed_differs(digits, small_config, small_dataset_dir, tmp_path):
    again = save_dataset(make_dataset(digits, small_config, seed=0), tmp_path / "again")
    for name in ("train.npz", "test.npz", "meta.json"):
        assert (again / name).read_bytes() == (small_dataset_dir / name).read_bytes(), name
    other = make_dataset(digits, small_config, seed=1)
    assert not np.array_equal(other.x_train, read_dataset(small_dataset_dir).x_train)
    assert not np.array_equal(other.src_test, read_dataset(small_dataset_dir).src_test)


@pytest.mark.slow
def test_default_config_is_the_study_size(digits):
    ds = make_dataset(digits)
    assert len(ds.x_train) == 83550 and len(ds.x_test) == 16710
    assert np.bincount(ds.y_train)[43] == 117 and np.bincount(ds.y_train)[11] == 3112


def test_hundred_classes_with_leading_zeros(digits):
    ds = make_dataset(digits, GeneratorConfig(plan="balanced", classes=tuple(range(100)), train_size=500), seed=2)
    assert ds.classes == tuple(range(100))
    assert np.bincount(ds.y_train, minlength=100).tolist() == [5] * 100
    zero_tens = ds.y_train < 10
    assert (digits.y_train[ds.src_train[zero_tens, 0]] == 0).all()  # 7 is drawn as 0 then 7


@pytest.mark.parametrize("blend", ["sum", "alpha"])
def test_other_blends(digits, blend):
    config = GeneratorConfig(train_size=200, blend=blend, intensity=(0.9, 1.0))
    ds = make_dataset(digits, config, seed=0)
    rebuilt = compose(digits.x_train[ds.src_train[:, 0]], digits.x_train[ds.src_train[:, 1]],
                      ds.intensity_train[:, 0], ds.intensity_train[:, 1], blend=blend)
    np.testing.assert_array_equal(rebuilt, ds.x_train)
    assert ds.intensity_train.min() >= 0.9


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"intensity": (0.0, 1.0)}, "intensity"),
        ({"intensity": (0.8, 0.5)}, "intensity"),
        ({"intensity": (0.5, 1.2)}, "intensity"),
        ({"blend": "xor"}, "blend"),
        ({"offset": 10}, "offset"),
        ({"test_fraction": 0.0}, "test fraction"),
        ({"train_size": 0}, "train size"),
    ],
)
def test_bad_generator_config(kwargs, message):
    with pytest.raises(UserError, match=message):
        GeneratorConfig(**kwargs)


# --- read_dataset: what it accepts ----------------------------------------------------------------------------


def _user_arrays(n=60, seed=0, float_images=False, flat=False):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 28, 39), dtype=np.uint8)
    if float_images:
        x = (x / 255.0).astype(np.float64)
    if flat:
        x = x.reshape(n, 1092)
    y = np.arange(n) % 12 + 1
    return x, y


def _user_folder(folder, train, test):
    folder.mkdir()
    np.savez(folder / "train.npz", x=train[0], y=train[1])
    np.savez(folder / "test.npz", x=test[0], y=test[1])
    return folder


def test_load_make_output(small_dataset, small_dataset_dir):
    ds = read_dataset(small_dataset_dir)
    for key in ("x_train", "y_train", "x_test", "y_test", "src_train", "src_test", "intensity_test"):
        np.testing.assert_array_equal(getattr(ds, key), getattr(small_dataset, key))
    assert ds.classes == small_dataset.classes
    assert json.loads(json.dumps(small_dataset.meta, default=str))["seed"] == ds.meta["seed"]


@pytest.mark.parametrize("float_images", [False, True], ids=["uint8", "float"])
@pytest.mark.parametrize("flat", [False, True], ids=["28x39", "flat1092"])
def test_load_user_folder(tmp_path, float_images, flat):
    train, test = _user_arrays(60, 0, float_images, flat), _user_arrays(24, 1, float_images, flat)
    ds = read_dataset(_user_folder(tmp_path / "data", train, test))
    assert ds.x_train.shape == (60, 28, 39) and ds.x_test.shape == (24, 28, 39)
    assert ds.x_train.dtype == (np.float32 if float_images else np.uint8)
    np.testing.assert_allclose(ds.x_train.reshape(60, -1), train[0].reshape(60, -1), rtol=1e-6)
    assert ds.y_train.dtype == np.int64 and ds.classes == tuple(range(1, 13))
    assert ds.src_train is None and ds.meta == {}


def test_load_single_npz(tmp_path):
    (x_tr, y_tr), (x_te, y_te) = _user_arrays(60, 0, flat=True), _user_arrays(24, 1)
    np.savez_compressed(tmp_path / "mine.npz", x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te)
    ds = read_dataset(tmp_path / "mine.npz")
    np.testing.assert_array_equal(ds.x_train, x_tr.reshape(60, 28, 39))
    np.testing.assert_array_equal(ds.y_test, y_te)
    assert ds.classes == tuple(range(1, 13))


def test_load_integral_float_labels(tmp_path):
    x, y = _user_arrays(30)
    ds = read_dataset(_user_folder(tmp_path / "d", (x, y.astype(np.float32)), (x, y)))
    assert ds.y_train.dtype == np.int64 and ds.y_train.tolist() == y.tolist()


# --- read_dataset: what it rejects ----------------------------------------------------------------------------


def _with(x=None, y=None, n=30, float_images=False):
    bx, by = _user_arrays(n, float_images=float_images)
    return (bx if x is None else x, by if y is None else y)


def _nan_images():
    x = _user_arrays(30, float_images=True)[0]
    x[3, 4, 5] = np.nan
    return x


def _inf_images():
    x = _user_arrays(30, float_images=True)[0]
    x[0, 0, 0] = np.inf
    return x


@pytest.mark.parametrize(
    "train, message",
    [
        (_with(x=np.zeros((30, 28, 28), np.uint8)), r"shape \(30, 28, 28\), expected \(N, 28, 39\)"),
        (_with(x=np.zeros((30, 1091), np.uint8)), "expected"),
        (_with(x=np.zeros((30, 28, 39, 1), np.uint8)), "expected"),
        (_with(x=np.zeros((0, 28, 39), np.uint8), y=np.zeros(0, np.int64)), "no images"),
        (_with(x=np.zeros((30, 28, 39), np.int16)), "must be uint8"),
        (_with(x=np.zeros((30, 28, 39), bool)), "must be uint8"),
        (_with(x=_nan_images()), "NaN or infinite"),
        (_with(x=_inf_images()), "NaN or infinite"),
        (_with(x=np.full((30, 28, 39), 255.0)), r"\[0, 1\]"),
        (_with(x=np.full((30, 28, 39), -0.1)), r"\[0, 1\]"),
        (_with(y=np.arange(30) + 80), "0..99"),
        (_with(y=np.arange(30) - 1), "0..99"),
        (_with(y=np.full(30, 2.5)), "integers"),
        (_with(y=np.array(["a"] * 30)), "integers"),
        (_with(y=np.arange(29)), r"\(30,\) to match"),
        (_with(y=np.ones((30, 1), np.int64)), r"\(30,\) to match"),
    ],
    ids=["28x28", "1091", "4d", "empty", "int16", "bool", "nan", "inf", "float>1", "float<0", "label>99",
         "label<0", "label-frac", "label-str", "length", "label-2d"],
)
def test_load_rejects_bad_train_arrays(tmp_path, train, message):
    folder = _user_folder(tmp_path / "d", train, _user_arrays(12, 1))
    with pytest.raises(UserError, match=message) as info:
        read_dataset(folder)
    assert "train" in str(info.value) and "\n" not in str(info.value)


def test_load_rejects_test_labels_absent_from_training(tmp_path):
    x, y = _user_arrays(12, 1)
    y = y.copy()
    y[0] = 77
    with pytest.raises(UserError, match=r"\[test\]: labels \[77\] are not among the training classes"):
        read_dataset(_user_folder(tmp_path / "d", _user_arrays(60), (x, y)))


def test_load_uses_meta_classes(small_dataset_dir, tmp_path):
    """With meta.json, the declared classes (not only those present) define what test labels may be."""
    folder = tmp_path / "d"
    folder.mkdir()
    for name in ("train.npz", "test.npz"):
        (folder / name).write_bytes((small_dataset_dir / name).read_bytes())
    meta = json.loads((small_dataset_dir / "meta.json").read_text())
    meta["classes"] = list(range(1, 40))
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(UserError, match="not among the training classes"):
        read_dataset(folder)


def test_load_rejects_mixed_dtypes(tmp_path):
    folder = _user_folder(tmp_path / "d", _user_arrays(60), _user_arrays(12, 1, float_images=True))
    with pytest.raises(UserError, match="train images are uint8, test float32"):
        read_dataset(folder)


def test_load_rejects_missing_files(tmp_path, small_dataset_dir):
    with pytest.raises(UserError, match="dataset not found"):
        read_dataset(tmp_path / "nowhere")
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "train.npz").write_bytes((small_dataset_dir / "train.npz").read_bytes())
    with pytest.raises(UserError, match="missing dataset file .*test.npz"):
        read_dataset(folder)


def test_load_rejects_missing_arrays(tmp_path):
    folder = _user_folder(tmp_path / "d", _user_arrays(60), _user_arrays(12, 1))
    np.savez(folder / "test.npz", x=_user_arrays(12)[0], labels=_user_arrays(12)[1])
    with pytest.raises(UserError, match="has no 'y' array"):
        read_dataset(folder)
    x, y = _user_arrays(30)
    np.savez(tmp_path / "one.npz", x_train=x, y_train=y, x_test=x)
    with pytest.raises(UserError, match="has no 'y_test' array"):
        read_dataset(tmp_path / "one.npz")


def test_load_rejects_corrupt_files(tmp_path):
    folder = _user_folder(tmp_path / "d", _user_arrays(60), _user_arrays(12, 1))
    data = (folder / "test.npz").read_bytes()
    (folder / "test.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match="cannot read .*test.npz"):
        read_dataset(folder)
    (folder / "test.npz").write_bytes(data)
    (folder / "meta.json").write_text("{not json")
    with pytest.raises(UserError, match="meta.json is not valid JSON"):
        read_dataset(folder)


@pytest.mark.parametrize("key", ["x", "y"])
def test_load_refuses_pickled_object_arrays(tmp_path, key):
    x, y = _user_arrays(60)
    arrays = {"x": x, "y": y}
    arrays[key] = arrays[key].astype(object)
    folder = _user_folder(tmp_path / "d", (arrays["x"], arrays["y"]), _user_arrays(12, 1))
    with pytest.raises(UserError, match="cannot read .*train.npz"):
        read_dataset(folder)


# --- generator knobs (docs/calibration.md): each default keeps the old bytes (tests/test_presets.py) ----------


def _knob_dataset(digits, **knobs):
    return make_dataset(digits, GeneratorConfig(train_size=400, **knobs), seed=3)


def test_train_pool_draws_train_images_from_the_first_digits_only(digits):
    ds = _knob_dataset(digits, train_pool=500)
    assert ds.src_train.max() < 500 and ds.src_train.shape == (400, 2)
    assert ds.src_test.max() >= 500  # test images still draw from all of MNIST test
    tens, units = split_label(ds.y_train)
    np.testing.assert_array_equal(digits.y_train[ds.src_train[:, 0]], tens)
    np.testing.assert_array_equal(digits.y_train[ds.src_train[:, 1]], units)
    rebuilt = compose(digits.x_train[ds.src_train[:, 0]], digits.x_train[ds.src_train[:, 1]],
                      ds.intensity_train[:, 0], ds.intensity_train[:, 1])
    np.testing.assert_array_equal(rebuilt, ds.x_train)
    # The same test images as without a pool: the pool changes only the training split.
    np.testing.assert_array_equal(ds.x_test, _knob_dataset(digits).x_test)


def test_offset_range_and_jitter_keep_28x39_and_rebuild_from_their_placement(digits):
    ds = _knob_dataset(digits, offset_min=4, jitter=2)
    for split in ("train", "test"):
        x, src, inten, place = (getattr(ds, f"{k}_{split}") for k in ("x", "src", "intensity", "placement"))
        pool = getattr(digits, f"x_{split}")
        assert x.shape[1:] == (28, 39) and place.shape == (len(x), 3)
        assert place[:, 0].min() >= 4 and place[:, 0].max() <= 11 and len(np.unique(place[:, 0])) == 8
        assert np.abs(place[:, 1:]).max() <= 2
        rebuilt = compose(pool[src[:, 0]], pool[src[:, 1]], inten[:, 0], inten[:, 1], offset=place[:, 0],
                          width=39, shift=place[:, 1:])
        np.testing.assert_array_equal(rebuilt, x)


def test_knobs_round_trip_through_files(digits, tmp_path):
    ds = _knob_dataset(digits, offset_min=6, intensity_mode="shared", train_pool=1000)
    back = read_dataset(save_dataset(ds, tmp_path / "d"))
    np.testing.assert_array_equal(back.placement_train, ds.placement_train)
    assert back.meta["generator"]["offset_min"] == 6 and back.meta["generator"]["train_pool"] == 1000
    np.testing.assert_array_equal(ds.intensity_train[:, 0], ds.intensity_train[:, 1])  # shared intensity


@pytest.mark.parametrize("knobs, message", [
    ({"offset_min": 12}, "offset_min"),
    ({"offset_min": -1}, "offset_min"),
    ({"jitter": 5}, "jitter"),
    ({"intensity_mode": "random"}, "intensity_mode"),
    ({"train_pool": 10}, "train_pool"),
])
def test_bad_knobs_are_user_errors(knobs, message):
    with pytest.raises(UserError, match=message):
        GeneratorConfig(**knobs)


def test_train_distinct_repeats_whole_compositions_within_each_class(digits):
    ds = _knob_dataset(digits, train_distinct=100)
    flat = ds.x_train.reshape(len(ds.x_train), -1)
    counts = np.bincount(ds.y_train)[ds.classes[0]:]
    kept = sum(max(1, round(n * 100 / len(flat))) for n in counts)  # each class its share, at least one
    assert len(np.unique(flat, axis=0)) == kept and 90 <= kept <= 120
    pairs = np.unique(np.column_stack([ds.src_train, ds.y_train]), axis=0)
    assert len(pairs) == len(np.unique(flat, axis=0))  # a repeat is a whole composition, label included
    assert np.bincount(ds.y_train).tolist() == np.bincount(_knob_dataset(digits).y_train).tolist()
    assert len(np.unique(ds.x_test.reshape(len(ds.x_test), -1), axis=0)) == len(ds.x_test)  # test untouched


def test_data_modules_import_one_way():
    """config <- generate <- dataset <- store: no module imports one further down the chain, at any level of
    the file (a function-local import counts)."""
    chain = ["config", "generate", "dataset", "store"]
    folder = Path(multimnist.data.__file__).parent
    for i, name in enumerate(chain):
        tree = ast.parse((folder / f"{name}.py").read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        later = {f"multimnist.data.{m}" for m in chain[i + 1:]}
        assert not imported & later, f"data/{name}.py imports {imported & later}"


def _npy_bytes(array: np.ndarray) -> bytes:
    """What np.save writes for `array`."""
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


@pytest.mark.parametrize(("write", "words"), [
    (lambda p: p.write_bytes(_npy_bytes(np.zeros((3, 28, 39), np.uint8))), "is not an .npz archive (it holds one "
                                                                           "array"),
    (lambda p: p.write_text("x,y\n1,2\n"), "is not an .npz archive (np.savez's zip of arrays)"),
])
def test_load_names_a_file_that_is_not_an_npz_archive(tmp_path, write, words):
    """np.load returns a bare array for an .npy (whatever its name), which has no `with`; a text file gets numpy's
    advice to load it unsafely: both are one UserError that says what the file is not."""
    write(tmp_path / "mine.npz")
    with pytest.raises(UserError, match=re.escape(words)) as refused:
        read_dataset(tmp_path / "mine.npz")
    assert "allow_pickle" not in str(refused.value)
