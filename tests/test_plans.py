"""Class plans: the study's imbalanced table, the balanced plan, user tables, scaling, bad plans."""

from __future__ import annotations

import json

from multimnist.data.plans import load_plan, plan_stats, scale_plan
from multimnist.errors import UserError

import numpy as np
import pytest


@pytest.fixture(scope="module")
def study():
    return load_plan("study")


def test_study_plan_matches_the_study(study):
    assert list(study) == list(range(1, 51))
    stats = plan_stats(study)
    assert stats["n_classes"] == 50
    assert stats["mean"] == pytest.approx(1671, rel=0.01)
    assert stats["std"] == pytest.approx(1045, rel=0.03)
    assert (study[43], study[17], study[11], study[19]) == (117, 130, 3112, 2890)
    assert stats["total"] == sum(study.values()) == 83550
    assert (stats["min_class"], stats["min_count"]) == (43, 117)
    assert (stats["max_class"], stats["max_count"]) == (11, 3112)


def test_study_plan_refuses_other_classes(study):
    assert load_plan("study", tuple(range(1, 51))) == study
    with pytest.raises(UserError, match="1..50"):
        load_plan("study", tuple(range(100)))


def test_balanced_plan():
    plan = load_plan("balanced")
    assert list(plan) == list(range(1, 51)) and set(plan.values()) == {1671}
    wide = load_plan("balanced", tuple(range(100)))
    assert list(wide) == list(range(100)) and len(set(wide.values())) == 1


@pytest.mark.parametrize(
    "name, text",
    [
        ("plan.yaml", "# my table\ncounts:\n  7: 20\n  3: 10\n  42: 5\n"),
        ("plan.yml", "7: 20\n3: 10\n42: 5\n"),
        ("plan.json", json.dumps({"counts": {"7": 20, "3": 10, "42": 5}})),
        ("plan.json", json.dumps({"7": 20, "3": 10, "42": 5})),
    ],
)
def test_user_plan_file(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    plan = load_plan(str(tmp_path / name))
    assert plan == {3: 10, 7: 20, 42: 5}
    assert list(plan) == [3, 7, 42]  # sorted by label
    assert load_plan(str(tmp_path / name), (3, 7, 42)) == plan


def test_user_plan_classes_mismatch(tmp_path):
    (tmp_path / "plan.yaml").write_text("counts: {3: 10, 7: 20}\n")
    with pytest.raises(UserError, match="not the requested"):
        load_plan(str(tmp_path / "plan.yaml"), (3, 7, 8))


@pytest.mark.parametrize(
    "text, message",
    [
        ("counts: {3: 10, 100: 5}\n", "outside 0..99"),
        ("counts: {3: 10, -1: 5}\n", "outside 0..99"),
        ("counts: {3: 10, 7: 0}\n", "at least 1"),
        ("counts: {3: 10, 7: -4}\n", "at least 1"),
        ("counts: {3: ten}\n", "not an integer"),
        ("counts: {}\n", "mapping of label -> count"),
        ("- 3\n- 7\n", "mapping of label -> count"),
        ("counts: {3: [10\n", "cannot read plan"),
    ],
    ids=["label-100", "label-neg", "count-0", "count-neg", "not-int", "empty", "list", "bad-yaml"],
)
def test_bad_plan_files(tmp_path, text, message):
    (tmp_path / "plan.yaml").write_text(text)
    with pytest.raises(UserError, match=message):
        load_plan(str(tmp_path / "plan.yaml"))


def test_bad_json_plan(tmp_path):
    (tmp_path / "plan.json").write_text("{'3': 10,}")
    with pytest.raises(UserError, match="cannot read plan"):
        load_plan(str(tmp_path / "plan.json"))


def test_unknown_plan_name(tmp_path):
    with pytest.raises(UserError, match="'study', 'balanced' or a YAML/JSON file"):
        load_plan("imbalanced")
    with pytest.raises(UserError, match="'study', 'balanced' or a YAML/JSON file"):
        load_plan(str(tmp_path / "missing.yaml"))


@pytest.mark.parametrize("total", [50, 200, 500, 1000, 1234, 16710, 83550, 200000])
def test_scale_plan_sums_exactly_and_keeps_proportions(study, total):
    scaled = scale_plan(study, total)
    assert list(scaled) == list(study)
    values = np.array(list(scaled.values()))
    assert values.sum() == total
    exact = np.array(list(study.values())) / 83550 * total
    assert (values[exact < 1] == 1).all()  # raised to the minimum, and no further
    assert np.abs(values - exact).max() < 1  # largest remainder: within one image of the exact share


def test_scale_plan_small_class_gets_no_remainder():
    """A class whose share is 0.8 is raised to 1; it must not also win a remainder image (-> 2)."""
    assert scale_plan({1: 4, 2: 498, 3: 498}, 200) == {1: 1, 2: 100, 3: 99}


def test_scale_plan_to_its_own_total_is_identity(study):
    assert scale_plan(study, 83550) == study


def test_scale_plan_keeps_one_per_class():
    scaled = scale_plan({1: 1, 2: 1000, 3: 1000}, 10)
    assert scaled[1] == 1 and sum(scaled.values()) == 10
    assert abs(scaled[2] - scaled[3]) <= 1


def test_scale_plan_too_small(study):
    with pytest.raises(UserError, match="cannot hold 50 classes"):
        scale_plan(study, 49)


def test_plan_stats_population_std():
    stats = plan_stats({1: 2, 2: 4, 3: 6})
    assert stats["mean"] == 4 and stats["std"] == pytest.approx(np.sqrt(8 / 3))
    assert stats["counts"] == {1: 2, 2: 4, 3: 6}
