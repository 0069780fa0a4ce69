"""The whole study pipeline on tiny settings: end to end, killed and resumed, and the report it writes.

One pipeline run is shared by the tests of this module (it is the slowest thing in the suite): it is first
killed with SIGKILL from outside while training, then interrupted from inside just before the generation
step, then run to the end. The tests check what each of those left behind.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import multimnist.experiments.study as study
from multimnist.cli import main
from multimnist.experiments.study import PROFILES, load_profile
from multimnist.report import pipeline as top
from multimnist.report.claims import VERDICTS, study_claims
from multimnist.report.pipeline import reproduce
from multimnist.report.results import load_study

import pytest
import yaml

TINY = {
    "train_size": 500, "seeds": [0], "classifier_epochs": 2, "ablations": False, "side_sweeps": False,
    "factors": [20, 30], "sweep_epochs": 1, "autoencoder_epochs": 2, "reader_train_size": 1500,
    "reader_epochs": 1, "n_generate": 40, "diffusion_steps": 100,
}


def _digests(root: Path, folders) -> dict[str, tuple[str, int]]:
    """sha256 and mtime of every file under the given folders of `root`."""
    out = {}
    for folder in folders:
        for p in sorted((root / folder).rglob("*")):
            if p.is_file():
                out[str(p.relative_to(root))] = (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
    return out


class _logged:
    """Collect the messages a logger emits at INFO and above while the block runs."""

    def __init__(self, name: str):
        self.logger, self.messages = logging.getLogger(name), []
        self.handler = logging.Handler(logging.INFO)
        self.handler.emit = lambda record: self.messages.append(record.getMessage())

    def __enter__(self) -> list[str]:
        self.level = self.logger.level
        self.logger.setLevel(logging.INFO)
        self.logger.addHandler(self.handler)
        return self.messages

    def __exit__(self, *exc):
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self.level)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    profile = root / "tiny.yaml"
    profile.write_text(yaml.safe_dump(TINY))
    out = root / "run"
    log = {}

    # 1. SIGKILL from outside once the data step is recorded and classifier training has begun.
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "multimnist.cli", "reproduce", "--profile", str(profile),
                             "--out", str(out)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        state = out / "steps.json"
        if state.is_file() and "inspect" in json.loads(state.read_text()) and \
                any((out / "classifiers").glob("*/seed-0/config.yaml")):
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the pipeline ended before it could be killed: " + proc.stderr.read().decode()[-2000:]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    log["after_kill"] = json.loads((out / "steps.json").read_text())
    log["data_after_kill"] = _digests(out, ["data", "inspect"])

    # 2. Interrupted from inside just before generation (as Ctrl-C would).
    real = study.score_samplers

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    study.score_samplers = interrupted
    try:
        with pytest.raises(KeyboardInterrupt):
            reproduce(out, profile=str(profile))
    finally:
        study.score_samplers = real
    log["after_interrupt"] = json.loads((out / "steps.json").read_text())
    finished = [s for s in log["after_interrupt"]]
    log["finished_digests"] = _digests(out, ["data", "inspect", "classifiers", "autoencoder", "reader", "compare"])

    # 3. The same command again runs to the end.
    with _logged("multimnist.experiments.study") as messages:
        reproduce(out, profile=str(profile))
    log["messages"] = messages
    log["finished_before"] = finished
    return out, log


@pytest.mark.slow  # the pipeline fixture runs the whole study
def test_kill_leaves_finished_steps_and_no_half_files(pipeline):
    out, log = pipeline
    assert {"data", "inspect"} <= set(log["after_kill"])
    assert "report" not in log["after_kill"]
    # The data the killed run wrote is kept byte for byte through the later runs.
    assert _digests(out, ["data", "inspect"]) == log["data_after_kill"]
    leftovers = [p for p in out.rglob("*") if p.name.endswith(".tmp") or ".tmp." in p.name]
    assert leftovers == []


@pytest.mark.slow  # the pipeline fixture runs the whole study
def test_resume_keeps_finished_steps_byte_for_byte(pipeline):
    out, log = pipeline
    before = log["after_interrupt"]
    assert "generation" not in before and "report" not in before
    assert {"data", "classifiers", "compare", "autoencoder", "reader"} <= set(before)
    now = _digests(out, ["data", "inspect", "classifiers", "autoencoder", "reader", "compare"])
    assert now == log["finished_digests"]
    kept = [m for m in log["messages"] if "done earlier, kept" in m]
    assert len(kept) == len(log["finished_before"])
    # Finished steps keep their recorded hashes; only the missing ones were added.
    state = json.loads((out / "steps.json").read_text())
    assert all(state[k]["hash"] == v["hash"] for k, v in before.items())
    assert {"generation", "report"} <= set(state)


@pytest.mark.slow  # the pipeline fixture runs the whole study
def test_every_step_wrote_its_outputs(pipeline):
    out, _ = pipeline
    for name in ("data/train.npz", "data/test.npz", "data/meta.json", "inspect/stats.json", "inspect/samples.png",
                 "classifiers/unregularized/seed-0/metrics.json", "classifiers/regularized/seed-0/confusion.png",
                 "classifiers/challenger/seed-0/model.keras", "compare/compare.md", "compare/pair_change.csv",
                 "autoencoder/sweep/sweep.csv", "autoencoder/sweep/mse_factor.png",
                 "autoencoder/final/seed-0/reconstructions.png", "autoencoder/final/seed-0/latent.png",
                 "reader/metrics.json", "generation/seed-0/scores.csv", "generation/seed-0/gaussian.png",
                 "generation/seed-0/reconstruction.png", "explorer/explorer.json", "report.html", "report.md",
                 "explorer-data.js", "profile.json"):
        assert (out / name).is_file(), name


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("src", "href"):
            if attrs.get(key):
                self.refs.append((tag, attrs[key]))


@pytest.mark.slow  # the pipeline fixture runs the whole study
def test_report_is_offline_and_references_only_existing_files(pipeline):
    out, _ = pipeline
    parser = _Refs()
    parser.feed((out / "report.html").read_text())
    images = [ref for tag, ref in parser.refs if tag == "img"]
    assert len(images) >= 15
    for _tag, ref in parser.refs:
        assert not ref.startswith(("http:", "https:", "//")), ref
        if not ref.startswith("#"):
            assert (out / ref).is_file(), ref
    scripts = [ref for tag, ref in parser.refs if tag == "script"]
    assert scripts == ["explorer-data.js"]  # the latent explorer's data, beside the page; its code is inline


@pytest.mark.slow  # the pipeline fixture runs the whole study
def test_claims_table_has_a_row_per_claim(pipeline):
    out, _ = pipeline
    items = study_claims(load_study(out))
    assert len(items) >= 20
    text = (out / "report.md").read_text()
    for c in items:
        assert c.statement in text and c.criterion in text and c.criterion
    verdicts = {c.key: c.verdict for c in items}
    assert set(verdicts.values()) <= set(VERDICTS)
    assert set(verdicts.values()) - {"n/a"}, "the tiny run should judge some claims"
    # One seed a side: no comparison can detect anything, so it is untestable, never yes or no; the class plan is
    # by construction.
    assert verdicts["regularized_gain"] == verdicts["cf20_best"] == "untestable"
    assert verdicts["gaussian_better"] in ("untestable", "n/a")  # a 1-epoch reader may read too few for diversity
    assert verdicts["class_imbalance"] == "by construction"
    results = json.loads((out / "results.json").read_text())
    assert [c["key"] for c in results["claims"]] == list(verdicts)
    assert sum(results["verdicts"].values()) == sum(not c.beyond for c in items)


@pytest.mark.slow  # the pipeline fixture runs the whole study
def test_report_command_rewrites_the_report(pipeline, capsys):
    out, _ = pipeline
    (out / "report.md").unlink()
    assert main(["report", str(out)]) == 0
    assert (out / "report.md").is_file()
    assert main(["report", str(out / "missing")]) == 2
    assert "error" in capsys.readouterr().err


def test_profiles_and_bad_profiles(tmp_path, capsys):
    assert PROFILES["paper"].seeds == (0, 1, 2) and PROFILES["paper"].classifier_epochs is None
    assert PROFILES["quick"].train_size < 83550
    assert load_profile("quick") is PROFILES["quick"]
    assert load_profile(PROFILES["quick"]).with_seeds((4, 5)).ablation_seeds == (4, 5)
    bad = tmp_path / "bad.yaml"
    bad.write_text("seeds: [0]\nnot_a_field: 1\n")
    assert main(["reproduce", "--profile", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "not_a_field" in capsys.readouterr().err
    assert main(["reproduce", "--profile", "nope", "--out", str(tmp_path / "o")]) == 2


def test_report_refuses_a_folder_that_holds_no_study(tmp_path, small_dataset_dir, capsys):
    (tmp_path / "empty").mkdir()
    data = tmp_path / "data"
    data.mkdir()
    for f in small_dataset_dir.iterdir():
        (data / f.name).write_bytes(f.read_bytes())
    for folder, what in ((tmp_path / "empty", "nothing"), (data, "a dataset (meta.json, train.npz)")):
        before = sorted(p.name for p in folder.iterdir())
        assert main(["report", str(folder)]) == 2
        assert capsys.readouterr().err == (
            f"multimnist: error: {folder} holds {what}, not a study: give `multimnist report` the folder that "
            "`multimnist reproduce --out` wrote (it starts with profile.json)\n")
        assert sorted(p.name for p in folder.iterdir()) == before  # no report.html, report.md, results.json


@pytest.mark.parametrize(("argv", "folder"), [([], "runs/quick"), (["--profile", "paper"], "runs/paper"),
                                              (["--profile", "profiles/tiny.yaml"], "runs/tiny"),
                                              (["--profile", "paper", "--out", "mine"], "mine")])
def test_each_profile_has_its_own_default_folder(tmp_path, monkeypatch, argv, folder):
    """Plain `reproduce` (quick) and `make reproduce` (paper) must not write into one folder."""
    written = []
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(top, "reproduce", lambda out, **kwargs: written.append(out))
    assert main(["reproduce", *argv]) == 0
    assert written == [Path(folder)]


def test_time_estimates_follow_the_measured_runs():
    """The paper profile's estimate is the committed paper run's first look, step by step (it predicted 2 h 33 min
    for a run of 85 min before; later looks are scaled from it); the quick profile's is near its runs',
    generation about half of it."""
    measured = json.loads((Path(__file__).parents[1] / "docs/results/runs/study/steps.json").read_text())
    first = {name: (rec["earlier"][0] if rec.get("earlier") else rec)["seconds"] for name, rec in measured.items()}
    assert study.PAPER_SECONDS == {name: s for name, s in first.items() if name != "explorer"}
    paper, quick = ({s.name: s.cost for s in study.build_steps(Path("unused"), PROFILES[name])}
                    for name in ("paper", "quick"))
    same = {k: v for k, v in study.PAPER_SECONDS.items() if k != "report"}
    assert {k: round(paper[k], 1) for k in same} == same
    assert 100 <= sum(quick.values()) <= 200  # the README's timings: the quick profile's runs on this machine
    assert quick["generation"] >= 0.4 * sum(quick.values())
    between = study.Profile("half", train_size=40000, seeds=(0, 1), classifier_epochs=25)
    assert sum(quick.values()) < sum(s.cost for s in study.build_steps(Path("unused"), between)) \
        < sum(paper.values())
    more = {"unregularized": 10, "autoencoder": 5}  # a later look: the added seeds' work on top
    later = {s.name: s.cost for s in study.build_steps(Path("unused"), PROFILES["paper"], more_seeds=more)}
    assert later["autoencoder"] == pytest.approx(paper["autoencoder"] * 5 / 3, rel=0.02)
    assert paper["classifiers"] < later["classifiers"] < paper["classifiers"] * 16 / 9


def test_the_generation_step_hash_covers_the_guidance(monkeypatch):
    """class-diffusion's guidance is a default of the sampler, not a fit: a run finished with another one scores
    its samplers again (the fits are kept) instead of keeping images drawn with the old guidance."""
    def hashes():
        steps = study.build_steps(Path("unused"), PROFILES["quick"])
        return {s.name: study.step_hash(s, {}, PROFILES["quick"]) for s in steps}

    before = hashes()
    monkeypatch.setattr(study, "GUIDANCE", study.GUIDANCE + 1)
    after = hashes()
    assert [name for name in before if before[name] != after[name]] == ["generation"]
