"""Keras' backend is chosen in one function (multimnist.backend), at the package's import and at the CLI's entry."""

from __future__ import annotations

import os
import subprocess
import sys

from multimnist import backend
from multimnist.errors import UserError

import pytest


def _backend_in_fresh_process(code: str, env_backend: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    if env_backend is not None:
        env["KERAS_BACKEND"] = env_backend
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.slow
def test_a_training_module_finds_jax_chosen_by_the_package_import():
    # training/pack.py imports Keras at its top and imports nothing for the backend's sake
    code = "import multimnist.training.pack, keras; print(keras.backend.backend())"
    assert _backend_in_fresh_process(code, None) == "jax"


@pytest.mark.slow
def test_the_library_leaves_a_users_choice_and_the_cli_insists_on_jax():
    code = ("import os, sys, multimnist\nchosen = os.environ['KERAS_BACKEND']\nfrom multimnist.cli import main\n"
            "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
            "print(chosen, os.environ['KERAS_BACKEND'], file=sys.stderr)")
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"} | {"KERAS_BACKEND": "numpy"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr.strip() == "numpy jax", done.stderr


def test_select_backend_sets_jax_unless_chosen(monkeypatch):
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    assert backend.select_backend() == "jax" and os.environ["KERAS_BACKEND"] == "jax"
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert backend.select_backend() == "torch"


def test_training_refuses_another_backend_in_one_line(monkeypatch):
    import keras

    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    with pytest.raises(UserError, match="trains with Keras' jax backend, but Keras runs on 'torch'"):
        backend.require_jax()
    monkeypatch.undo()
    backend.require_jax()  # this process's Keras runs on JAX
