"""Which steps of `reproduce` rerun: exactly those whose inputs changed, config file contents included.

The steps' work is replaced by a recorder, so these tests run the pipeline's bookkeeping (hashes, steps.json,
skipping) on the real steps and settings without training anything.
"""

import shutil
from importlib import resources
from pathlib import Path

import multimnist
from multimnist import config as config_module
from multimnist.experiments import study

import numpy as np
import pytest

PROFILE = study.Profile("steps-test", train_size=500, seeds=(0, 1, 2), classifier_epochs=2, ablation_seeds=(0,),
                        factors=(20, 30), sweep_epochs=1, autoencoder_epochs=2, reader_train_size=1500,
                        reader_epochs=1, n_generate=40, diffusion_steps=100)


@pytest.fixture
def recorded(monkeypatch, tmp_path):
    """reproduce() on PROFILE with every step's work replaced by a recorder; returns (run, ran) where run()
    reproduces into the same folder and `ran` lists the steps that ran, in order."""
    ran: list[str] = []
    real = study.build_steps

    def recording_steps(out, profile, n_jobs=1, executor=None, pack=None):
        steps = real(out, profile, n_jobs, executor, pack)
        for step in steps:
            step.run = lambda name=step.name: ran.append(name) or name
        return steps

    monkeypatch.setattr(study, "build_steps", recording_steps)
    monkeypatch.setattr(study, "write_report", lambda out: ran.append("report") or "report")
    out = tmp_path / "run"

    def run(profile=PROFILE):
        ran.clear()
        study.reproduce(out, profile)
        return list(ran)

    return run


@pytest.fixture
def configs_copy(monkeypatch, tmp_path):
    """The built-in configs read from an editable copy; returns the copy's configs folder."""
    package = tmp_path / "package"
    shutil.copytree(Path(str(resources.files("multimnist") / "configs")), package / "configs")

    class Files:
        @staticmethod
        def files(name):
            return package if name == "multimnist" else resources.files(name)

    monkeypatch.setattr(config_module, "resources", Files)
    return package / "configs"


def test_a_second_run_reruns_nothing(recorded):
    everything = recorded()
    assert everything[0] == "data" and everything[-1] == "report" and "ablations" in everything
    assert recorded() == []


def test_editing_a_config_reruns_its_step_and_the_steps_that_read_it(recorded, configs_copy):
    recorded()
    path = configs_copy / "regularized.yaml"
    path.write_text(path.read_text().replace("dropout: 0.1", "dropout: 0.2"))
    assert recorded() == ["classifiers", "compare", "report"]

    path = configs_copy / "autoencoder.yaml"
    path.write_text(path.read_text().replace("learning_rate: 0.001", "learning_rate: 0.002"))
    assert recorded() == ["compression-sweep", "autoencoder", "generation", "report"]

    path = configs_copy / "unregularized.yaml"  # the base of every side sweep, and a headline network
    path.write_text(path.read_text() + "\ndata:\n  val_fraction: 0.25\n")
    assert recorded() == ["classifiers", *(f"sweep-{k}" for k in study.SIDE_SWEEPS), "compare", "report"]


def test_a_new_version_or_another_preset_reruns_what_depends_on_it(recorded, monkeypatch):
    first = recorded()
    monkeypatch.setattr(study, "__version__", multimnist.__version__ + ".post1")
    assert recorded() == first

    # Another data preset: everything that reads the data, but not the reader (trained on its own 00..99 data).
    rerun = recorded(study.Profile(**{**PROFILE.__dict__, "preset": "faint"}))
    assert rerun == [s for s in first if s != "reader"]


def test_other_data_in_the_same_file_is_redone(recorded, tmp_path):
    """--data: the data step hashes the files' content, so other data under the same name reruns everything that
    reads it (the reader trains on its own data), and the same data reruns nothing."""
    def write(seed):
        rng = np.random.default_rng(seed)
        y = 1 + np.arange(100) % 50
        np.savez(tmp_path / "mine.npz", x_train=rng.integers(0, 256, (100, 28, 39), dtype=np.uint8), y_train=y,
                 x_test=rng.integers(0, 256, (50, 28, 39), dtype=np.uint8), y_test=y[:50])

    write(0)
    mine = study.Profile(**{**PROFILE.__dict__, "data": str(tmp_path / "mine.npz")})
    first = recorded(mine)
    assert first[0] == "data" and recorded(mine) == []
    write(1)
    assert recorded(mine) == [s for s in first if s != "reader"]
    assert recorded(PROFILE) == [s for s in first if s != "reader"]  # back to the preset's data: redone too
