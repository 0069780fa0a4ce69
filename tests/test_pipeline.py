"""report/pipeline.py: seeds until decided. The steps and the claims are stand-ins here: what is tested is the
loop, which configurations get the next look's seeds, when it stops, and what looks.json records."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

from multimnist.evaluation.sequential import Design
from multimnist.report import pipeline

import pytest


class Calls(list):
    state: dict


@pytest.fixture
def fake_study(monkeypatch, tmp_path):
    """run_study records the seeds it was asked for; claim b is open until regularized has 5 seeds, c forever
    (one of its configurations, `ghost`, no step trains), a is decided from the first look."""
    calls = Calls()
    state = {"more": {}}

    def run_study(out, profile, report=None, more_seeds=None, **options):
        state["more"] = dict(more_seeds or {})
        calls.append({"more": dict(state["more"]), "report": report is not None})
        return out

    def claims(_loaded):
        def claim(key, configs, open_):
            status = "open: more seeds" if open_ else "decided at look 1"
            return SimpleNamespace(key=key, configs=configs, sequential={"status": status})
        seeds = state["more"].get("regularized", 3)
        return [claim("a", ("unregularized",), False), claim("b", ("regularized", "cf-20"), seeds < 5),
                claim("c", ("batch-8", "ghost"), True)]

    def load_study(out, seeds=None):  # the claims below read the seeds of regularized the look asked for
        state["more"] = {"regularized": len(seeds("regularized"))} if seeds("regularized") != (0, 1, 2) else {}
        state["read"].append({c: len(seeds(c)) for c in ("regularized", "batch-8", "unregularized")})
        return {}

    state["read"] = []
    monkeypatch.setattr(pipeline, "run_study", run_study)
    monkeypatch.setattr(pipeline, "load_study", load_study)
    monkeypatch.setattr(pipeline, "finished_before", lambda *args, **kwargs: state.get("finished", False))
    monkeypatch.setattr(pipeline, "study_claims", claims)
    monkeypatch.setattr(pipeline, "study_design", lambda loaded: Design.up_to(3, 10, spending="pocock"))
    monkeypatch.setattr(pipeline, "write_report", lambda out: out)
    calls.state = state
    return calls


def test_open_claims_get_the_next_looks_seeds_until_decided_or_the_cap(fake_study, tmp_path, caplog):
    with caplog.at_level(logging.INFO):
        pipeline.reproduce(tmp_path, "paper")
    assert "a first look on 3 seeds a side, then more seeds (up to 10)" in caplog.text  # the time left is a look's
    assert [c["more"] for c in fake_study] == [
        {},
        {"regularized": 5, "cf-20": 5, "batch-8": 5},
        {"regularized": 5, "cf-20": 5, "batch-8": 10},
        {"regularized": 5, "cf-20": 5, "batch-8": 10},  # the report, last, on the same seeds
    ]
    assert [c["report"] for c in fake_study] == [False, False, False, True]
    looks = json.loads((tmp_path / "looks.json").read_text())
    assert [(k["look"], k["seeds"], k["open"]) for k in looks["looks"]] == [(1, 3, ["b", "c"]), (2, 5, ["c"]),
                                                                            (3, 10, ["c"])]
    assert "no step trains ghost" in caplog.text
    from multimnist.experiments.study import PROFILES, networks

    paper = networks(PROFILES["paper"])  # the networks trained by each look: the design's budget, as it went
    assert [k["networks"] for k in looks["looks"]] == [paper, paper + 2 * 2 + 2, paper + 2 * 2 + 7]
    assert (paper, networks(PROFILES["quick"])) == (133, 8)  # docs/claims.md states the paper profile's


def test_a_fixed_design_is_one_look_with_its_report(fake_study, tmp_path):
    pipeline.reproduce(tmp_path, "quick")  # no max_seeds
    pipeline.reproduce(tmp_path / "b", "paper", seeds=(0, 1, 2))  # --seeds: a fixed design
    assert fake_study == [{"more": {}, "report": True}] * 2 and not (tmp_path / "looks.json").exists()


def test_a_look_whose_steps_finished_is_replayed_from_the_seeds_it_had(fake_study, tmp_path):
    """A finished or interrupted run started again: the looks whose steps all finished with the same inputs run
    nothing, and each is judged on the seeds it had, not on those a later look added (a run restarted after its
    third look's trainings must not judge its first look on ten seeds)."""
    fake_study.state["finished"] = True
    pipeline.reproduce(tmp_path, "paper")
    assert fake_study == [{"more": {"regularized": 5, "cf-20": 5, "batch-8": 10}, "report": True}]
    assert fake_study.state["read"] == [{"regularized": 3, "batch-8": 3, "unregularized": 3},
                                        {"regularized": 5, "batch-8": 5, "unregularized": 3},
                                        {"regularized": 5, "batch-8": 10, "unregularized": 3}]
    looks = json.loads((tmp_path / "looks.json").read_text())
    assert [(k["look"], k["seeds"], k["open"]) for k in looks["looks"]] == [(1, 3, ["b", "c"]), (2, 5, ["c"]),
                                                                            (3, 10, ["c"])]
