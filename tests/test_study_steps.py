"""Which steps of `reproduce` rerun: exactly those whose inputs changed, config file contents included.

The steps' work is replaced by a recorder, so these tests run the pipeline's bookkeeping (hashes, steps.json,
skipping) on the real steps and settings without training anything.
"""

import json
import shutil
from importlib import resources
from pathlib import Path

import multimnist
from multimnist import config as config_module
from multimnist.experiments import study
from multimnist.layout import seeds_for

import numpy as np
import pytest

PROFILE = study.Profile("steps-test", train_size=500, seeds=(0, 1, 2), classifier_epochs=2, ablation_seeds=(0,),
                        factors=(20, 30), sweep_epochs=1, autoencoder_epochs=2, reader_train_size=1500,
                        reader_epochs=1, n_generate=40, diffusion_steps=100)


@pytest.fixture
def recorded(monkeypatch, tmp_path):
    """run_study() on PROFILE with every step's work replaced by a recorder; returns (run, ran) where run()
    reproduces into the same folder and `ran` lists the steps that ran, in order."""
    ran: list[str] = []
    real = study.build_steps

    def recording_steps(out, profile, n_jobs=1, executor=None, pack=None, more_seeds=None):
        steps = real(out, profile, n_jobs, executor, pack, more_seeds)
        for step in steps:
            step.run = lambda name=step.name: ran.append(name) or name
        return steps

    monkeypatch.setattr(study, "build_steps", recording_steps)
    out = tmp_path / "run"

    def run(profile=PROFILE, more_seeds=None):
        ran.clear()
        study.run_study(out, profile, report=lambda out: ran.append("report") or "report", more_seeds=more_seeds)
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
    assert recorded() == ["compression-sweep", "autoencoder", "generation", "explorer", "report"]

    path = configs_copy / "unregularized.yaml"  # the base of every side sweep, and a headline network
    path.write_text(path.read_text() + "\ndata:\n  val_fraction: 0.25\n")
    assert recorded() == ["classifiers", *(f"sweep-{k}" for k in study.SIDE_SWEEPS), "compare", "report"]


def test_a_later_look_reruns_the_steps_of_the_configurations_given_more_seeds(recorded, tmp_path):
    """The sequential design asks for more seeds of some configurations: only their steps (and what reads them)
    run again, their finished trainings kept; asking again for the same is nothing new."""
    recorded()
    more = {"regularized": 5, "cf-20": 4, "batch-8": 5}
    assert recorded(more_seeds=more) == ["classifiers", "sweep-batch", "compare", "compression-sweep", "report"]
    assert recorded(more_seeds=more) == []
    record = json.loads((tmp_path / "run" / "profile.json").read_text())
    assert record["more_seeds"] == more and record["profile"]["seeds"] == [0, 1, 2]  # what the report reads
    assert recorded(more_seeds={**more, "autoencoder": 2}) == ["autoencoder", "generation", "explorer", "report"]


def test_a_look_whose_steps_finished_then_or_later_needs_nothing_run(recorded, tmp_path):
    """finished_before: every step of a look finished with the same inputs, at its last run or an earlier one
    (the seeds until decided loop replays such a look from its files); a look asking for anything new did not."""
    out = tmp_path / "run"
    assert not study.finished_before(out, PROFILE)  # nothing ran
    recorded()
    more = {"regularized": 5, "cf-20": 4}
    assert study.finished_before(out, PROFILE) and not study.finished_before(out, PROFILE, more_seeds=more)
    recorded(more_seeds=more)
    assert study.finished_before(out, PROFILE, more_seeds=more)
    assert study.finished_before(out, PROFILE)  # the first look: in each step's earlier runs
    assert not study.finished_before(out, PROFILE, more_seeds={"regularized": 6})
    assert not study.finished_before(out, PROFILE, preset="faint")  # other inputs


def test_more_seeds_continue_after_the_profiles_own():
    assert seeds_for((0, 1, 2), None) == (0, 1, 2) == seeds_for((0, 1, 2), 2)
    assert seeds_for((0, 1, 2), 5) == (0, 1, 2, 3, 4)
    assert seeds_for((4, 7), 4) == (4, 7, 8, 9)
    steps = {s.name: s for s in study.build_steps(Path("/tmp/nowhere"), PROFILE, more_seeds={"batch-8": 3})}
    assert steps["sweep-batch"].settings["more_seeds"] == {"batch-8": 3}
    assert "more_seeds" not in steps["sweep-depth"].settings and "more_seeds" not in steps["classifiers"].settings


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


def test_verbose_logging_says_why_each_step_runs_and_what_it_took(recorded, configs_copy, caplog):
    """-v (DEBUG) adds the profile's fields, each step's input hash and why it runs, its estimate and its time."""
    with caplog.at_level("DEBUG", logger="multimnist"):
        recorded()
    debug = [r.getMessage() for r in caplog.records if r.levelname == "DEBUG" and r.name.endswith("study")]
    assert any(m.startswith("profile steps-test: name=steps-test, train_size=500, seeds=(0, 1, 2)") for m in debug)
    assert any(m.startswith("[3/") and "classifiers: inputs " in m and "not finished before" in m for m in debug)
    assert any("classifiers: estimated " in m and ", took " in m for m in debug)
    caplog.clear()
    path = configs_copy / "regularized.yaml"
    path.write_text(path.read_text().replace("dropout: 0.1", "dropout: 0.2"))
    with caplog.at_level("DEBUG", logger="multimnist"):
        recorded()
    assert any("classifiers: inputs " in r.getMessage() and "when it last finished" in r.getMessage()
               for r in caplog.records)
    caplog.clear()
    with caplog.at_level("INFO", logger="multimnist"):  # without -v: none of it
        recorded()
    assert caplog.records and not any(r.levelname == "DEBUG" for r in caplog.records)



def test_a_step_run_again_keeps_the_seconds_of_its_earlier_runs(recorded, tmp_path):
    """A later look trains more seeds of a configuration: its step runs again, and steps.json keeps the earlier
    run's hash and seconds beside the new one, so the run's time is every run's, not the last look's."""
    import json

    from multimnist.layout import step_seconds

    recorded()
    path = tmp_path / "run" / "steps.json"
    first = json.loads(path.read_text())
    assert first["classifiers"]["earlier"] == []
    first["classifiers"]["seconds"] = 100.0  # as if the first look's classifiers had taken 100 s
    path.write_text(json.dumps(first))
    assert "classifiers" in recorded(more_seeds={"regularized": 5})
    steps = json.loads(path.read_text())
    assert steps["classifiers"]["earlier"] == [{"hash": first["classifiers"]["hash"], "seconds": 100.0}]
    assert steps["classifiers"]["hash"] != first["classifiers"]["hash"]
    assert step_seconds(steps["classifiers"]) == 100.0 + steps["classifiers"]["seconds"]
    assert steps["data"] == first["data"] and step_seconds(steps["data"]) == steps["data"]["seconds"]  # kept
    assert step_seconds({"hash": "abc", "seconds": 7.0}) == 7.0  # a steps.json written before `earlier`
