"""Every built-in config file loads into its config class: by its `kind:` key, else by its file name's prefix
(autoencoder*, reader*; anything else is a classifier config)."""

from __future__ import annotations

import importlib

from multimnist.config import builtin_configs, read_config
from multimnist.experiments.classifier import load_classifier_config
from multimnist.models.classifier import count_params

import pytest

PREFIXES = ("autoencoder", "reader")
CLASSIFIERS = ("unregularized", "regularized", "challenger", "aug_noise", "aug_shift", "aug_rotation", "l1_1e-3",
               "l1_1e-4", "l1_1e-5", "l2_1e-5", "l2_1e-4_lr1e-2", "dropout_0.1", "dropout_0.2", "dropout_0.3",
               "early_stopping")


def kind_of(name: str) -> str:
    _, data = read_config(name)
    if "kind" in data:
        return data["kind"]
    return next((p for p in PREFIXES if name.startswith(p)), "classifier")


def _load_classifier(name):
    cfg = load_classifier_config(name)
    assert cfg.name == name
    assert count_params(cfg.model) < 100_000, "the study's budget"
    return cfg


def _load_other(kind):
    """Autoencoder and reader configs load through their own experiment module's load_KIND_config."""
    def load(name):
        module = importlib.import_module(f"multimnist.experiments.{kind}")
        return getattr(module, f"load_{kind}_config")(name)
    return load


LOADERS = {"classifier": _load_classifier, "autoencoder": _load_other("autoencoder"), "reader": _load_other("reader")}


@pytest.mark.parametrize("name", builtin_configs())
def test_every_config_file_loads(name):
    kind = kind_of(name)
    assert kind in LOADERS, f"{name}: unknown kind {kind!r}"
    assert LOADERS[kind](name) is not None


def test_the_study_configs_are_all_there():
    assert set(CLASSIFIERS) <= set(builtin_configs())


def test_the_headline_configs_say_what_the_study_did():
    unreg, reg = load_classifier_config("unregularized"), load_classifier_config("regularized")
    assert unreg.model.hidden == (80, 70) and unreg.model.activation == "sigmoid"
    assert unreg.model.initializer == "he_normal" and unreg.training.optimizer == "adam"
    assert (unreg.training.learning_rate, unreg.training.batch_size, unreg.training.epochs) == (1e-3, 256, 50)
    assert unreg.training.early_stopping is None and unreg.model.dropout == 0.0
    es = reg.training.early_stopping
    assert reg.model.dropout == 0.1 and reg.model.hidden == (80, 70)
    assert (es.monitor, es.min_delta, es.patience, es.restore_best_weights) == ("val_loss", 0.05, 10, True)
    assert load_classifier_config("l2_1e-4_lr1e-2").training.learning_rate == 1e-2
    assert load_classifier_config("aug_rotation").augmentation.methods == ("rotation",)
