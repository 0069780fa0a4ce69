"""The Python API: load_data (Keras-style, cached), class_names, MultiMNIST (torchvision-style), reprs."""

from __future__ import annotations

import pickle
import re

import multimnist
from multimnist import datasets
from multimnist.data import GeneratorConfig, load_mnist, make_dataset, save_dataset, store
from multimnist.data.config import preset_config
from multimnist.errors import UserError

import numpy as np
import pytest
from PIL import Image

TINY = 500


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def test_load_data_is_shaped_like_keras_mnist_with_class_indices(cache):
    (x_train, y_train), (x_test, y_test) = multimnist.load_data(cache_dir=cache, train_size=TINY)
    assert x_train.shape == (TINY, 28, 39) and x_train.dtype == np.uint8
    assert x_test.shape == (100, 28, 39) and x_test.dtype == np.uint8
    assert y_train.dtype == y_test.dtype == np.int64
    assert y_train.min() >= 0 and y_train.max() <= 49 and len(np.unique(y_train)) == 50


def test_load_data_numbers_are_the_named_classes(cache):
    (_, y_index), (_, y_test_index) = multimnist.load_data(cache_dir=cache, train_size=TINY)
    (_, y_number), (_, y_test_number) = multimnist.load_data(cache_dir=cache, train_size=TINY, labels="number")
    names = multimnist.class_names()
    assert names[:3] == ["01", "02", "03"] and names[-1] == "50" and len(names) == 50
    assert [int(names[i]) for i in y_index] == y_number.tolist()
    assert [int(names[i]) for i in y_test_index] == y_test_number.tolist()


def test_load_data_equals_the_generator_and_reads_the_cache_the_second_time(cache, monkeypatch):
    (x_train, y_train), _ = multimnist.load_data(cache_dir=cache, train_size=TINY, labels="number")
    direct = make_dataset(load_mnist(), preset_config("study", train_size=TINY), seed=0)
    assert np.array_equal(x_train, direct.x_train) and np.array_equal(y_train, direct.y_train)

    def no_generation(*args, **kwargs):
        raise AssertionError("the cache was not used")

    monkeypatch.setattr(store, "make_dataset", no_generation)
    (again, _), _ = multimnist.load_data(cache_dir=cache, train_size=TINY, labels="number")
    assert np.array_equal(again, x_train)


def test_cache_key_depends_on_settings_and_seed():
    small = preset_config("study", train_size=TINY)
    assert datasets.cache_key(small, 0) == datasets.cache_key(preset_config("study", train_size=TINY), 0)
    assert datasets.cache_key(small, 0) != datasets.cache_key(small, 1)
    assert datasets.cache_key(small, 0) != datasets.cache_key(preset_config("study", train_size=TINY + 1), 0)
    assert datasets.cache_key(small, 0) != datasets.cache_key(preset_config("faint", train_size=TINY), 0)


def test_cache_folder_follows_argument_then_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(datasets.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert datasets.cache_root() == tmp_path / "xdg" / "multimnist"
    monkeypatch.setenv(datasets.CACHE_ENV, str(tmp_path / "mine"))
    assert datasets.cache_root() == tmp_path / "mine"
    assert datasets.cache_root(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.delenv(datasets.CACHE_ENV)
    assert datasets.cache_root().parts[-2:] == (".cache", "multimnist")


def test_a_broken_cache_file_is_generated_again(tmp_path):
    (x_train, _), _ = multimnist.load_data(cache_dir=tmp_path, train_size=TINY)
    (cached,) = (tmp_path / "datasets").iterdir()
    (cached / "train.npz").write_bytes(b"not a zip file")
    (again, _), _ = multimnist.load_data(cache_dir=tmp_path, train_size=TINY)
    assert np.array_equal(again, x_train)


@pytest.mark.parametrize("kwargs, message", [({"labels": "onehot"}, "labels must be one of"),
                                             ({"preset": "nope"}, "unknown preset")])
def test_load_data_mistakes_are_user_errors(tmp_path, kwargs, message):
    with pytest.raises(UserError, match=message):
        multimnist.load_data(cache_dir=tmp_path, train_size=TINY, **kwargs)


@pytest.mark.parametrize("kwargs, message", [({"seed": -1}, "seed must be a whole number >= 0, got -1"),
                                             ({"seed": 1.5}, "seed must be a whole number >= 0, got 1.5"),
                                             ({"seed": True}, "seed must be a whole number"),
                                             ({"train_size": 0}, "train_size must be a whole number >= 1, got 0")])
def test_bad_seeds_and_sizes_are_value_errors_naming_the_argument(tmp_path, cache, kwargs, message):
    for call in (lambda: multimnist.load_data(cache_dir=tmp_path, **kwargs),
                 lambda: multimnist.MultiMNIST(tmp_path / "root", **kwargs)):
        with pytest.raises(ValueError, match=re.escape(message)):
            call()
    assert not (tmp_path / "root").exists() and not (tmp_path / "datasets").exists()
    # the shared cache: the first case generates this dataset, the others read it
    assert multimnist.load_data(cache_dir=cache, seed=np.int64(3), train_size=TINY)[0][0].shape == (TINY, 28, 39)


def test_a_bad_preset_is_a_value_error():
    with pytest.raises(ValueError, match="unknown preset 'nope'; known: study, faint, few-source-digits"):
        multimnist.load_data(preset="nope")


def test_an_unwritable_cache_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UserError, match="cannot write the dataset cache"):
        multimnist.load_data(cache_dir=blocker, train_size=TINY)


@pytest.fixture(scope="module")
def generated_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("root") / "multimnist"
    multimnist.MultiMNIST(root, train=True, train_size=TINY)
    return root


def test_multimnist_follows_torchvision_conventions(generated_root):
    train = multimnist.MultiMNIST(generated_root, train=True)
    test = multimnist.MultiMNIST(generated_root, train=False)
    assert len(train) == TINY and len(test) == 100
    image, target = train[0]
    assert isinstance(image, Image.Image) and image.mode == "L" and image.size == (39, 28)
    assert type(target) is int and target == train.targets[0]
    assert np.array_equal(np.asarray(image), train.data[0])
    assert train.data.shape == (TINY, 28, 39) and train.targets.dtype == np.int64
    assert train.classes == multimnist.class_names() and train.class_to_idx["01"] == 0
    assert train.class_to_idx["50"] == 49


def test_multimnist_transforms_and_a_dataloader_style_loop(generated_root):
    ds = multimnist.MultiMNIST(generated_root, transform=np.asarray, target_transform=lambda t: t + 100)
    image, target = ds[-1]
    assert image.dtype == np.uint8 and image.shape == (28, 39) and target >= 100
    # What DataLoader does with a map-style dataset: a sampler yields indices, default_collate stacks the
    # samples; workers receive the dataset pickled.
    ds = pickle.loads(pickle.dumps(multimnist.MultiMNIST(generated_root, transform=np.asarray)))
    order = np.random.default_rng(0).permutation(len(ds))
    seen = 0
    for start in range(0, len(ds), 64):
        samples = [ds[int(i)] for i in order[start:start + 64]]
        images, targets = np.stack([s[0] for s in samples]), np.array([s[1] for s in samples])
        assert images.shape[1:] == (28, 39) and targets.dtype.kind == "i"
        seen += len(samples)
    assert seen == len(ds)


def test_multimnist_reads_a_data_make_folder(small_dataset_dir, small_dataset):
    ds = multimnist.MultiMNIST(small_dataset_dir, train=False, generate=False)
    assert len(ds) == len(small_dataset.y_test)
    assert [int(ds.classes[t]) for t in ds.targets] == small_dataset.y_test.tolist()


def test_multimnist_refuses_what_it_cannot_give(tmp_path, generated_root):
    with pytest.raises(UserError, match="no Multi-MNIST dataset in .*data make"):
        multimnist.MultiMNIST(tmp_path / "empty", generate=False)
    with pytest.raises(UserError, match="seed=0 .asked 1."):
        multimnist.MultiMNIST(generated_root, seed=1)
    with pytest.raises(UserError, match="train_size=500 .asked 600."):
        multimnist.MultiMNIST(generated_root, train_size=600)
    multimnist.MultiMNIST(generated_root, seed=0, preset="study", train_size=TINY)  # the same settings: fine
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "train.npz").write_bytes(b"someone's")
    with pytest.raises(UserError, match="holds train.npz but not the other split"):
        multimnist.MultiMNIST(tmp_path / "half")
    assert (tmp_path / "half" / "train.npz").read_bytes() == b"someone's"


def test_download_is_torchvisions_name_for_generate(tmp_path, generated_root):
    assert len(multimnist.MultiMNIST(generated_root, download=False)) == TINY
    with pytest.raises(ValueError, match="no Multi-MNIST dataset in .*pass download=True"):
        multimnist.MultiMNIST(tmp_path / "empty", download=False)
    assert not (tmp_path / "empty" / "train.npz").exists()
    with pytest.raises(ValueError, match="generate=False and download=True disagree"):
        multimnist.MultiMNIST(tmp_path / "empty", generate=False, download=True)
    made = multimnist.MultiMNIST(tmp_path / "new", train=False, download=True, train_size=TINY)
    assert len(made) == 100 and (tmp_path / "new" / "meta.json").is_file()


def test_a_dataset_of_another_preset_is_named_first(generated_root, tmp_path, capsys):
    with pytest.raises(ValueError) as refused:
        multimnist.MultiMNIST(generated_root, preset="faint")
    assert str(refused.value).startswith(f"this folder holds preset 'study', not 'faint': {generated_root} was made "
                                         "with intensity=[0.8, 1.0] (asked [0.05, 1.0]), jitter=2 (asked 0)")
    from multimnist.cli import main

    assert main(["data", "make", "--out", str(generated_root), "--train-size", str(TINY), "--preset", "faint"]) == 2
    assert capsys.readouterr().err.startswith("multimnist: error: this folder holds preset 'study', not preset "
                                              f"'faint': {generated_root} was made with other settings (intensity")


def test_reprs_are_short(generated_root, small_dataset):
    text = repr(multimnist.MultiMNIST(generated_root, train=False))
    assert text.splitlines()[:4] == ["Dataset MultiMNIST", "    Number of datapoints: 100",
                                     f"    Root location: {generated_root}", "    Split: Test"]
    assert "Classes: 50 (01..50)" in text and len(text.splitlines()) <= 8
    text = repr(small_dataset)
    assert text.startswith("Dataset: 1,000 train and 200 test images, 28x39 uint8")
    assert len(text.splitlines()) <= 5 and len(text) < 600


def test_saved_datasets_of_your_own_load_without_meta(tmp_path, small_dataset):
    own = make_dataset(load_mnist(), GeneratorConfig(train_size=200), seed=3)
    own.meta = {}
    save_dataset(own, tmp_path)
    (tmp_path / "meta.json").unlink()
    ds = multimnist.MultiMNIST(tmp_path, seed=5)  # nothing recorded to compare against
    assert len(ds) == 200


def test_read_dataset_is_the_reader_and_load_dataset_its_deprecated_name(small_dataset_dir):
    import multimnist.data

    assert multimnist.data.read_dataset(small_dataset_dir).x_train.shape == (1000, 28, 39)
    assert "load_dataset" not in multimnist.data.__all__
    with pytest.warns(DeprecationWarning, match="multimnist.data.load_dataset is now read_dataset"):
        from multimnist.data import load_dataset
    assert load_dataset is multimnist.data.read_dataset
