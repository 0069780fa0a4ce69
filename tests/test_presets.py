"""Named generator settings: `faint` reproduces the first calibrated data byte for byte, meta.json names the
preset and records every knob, unknown names or fixed knobs are one-line errors, and a new preset is one entry
in `PRESETS`."""

from __future__ import annotations

import hashlib
import json

import multimnist
from multimnist.cli import main
from multimnist.data import GeneratorConfig, make_dataset, read_dataset, save_dataset
from multimnist.data.config import (
    DEFAULT_PRESET,
    KNOBS,
    PRESETS,
    Preset,
    calibrated_on,
    matching_preset,
    preset_config,
)
from multimnist.errors import UserError

import pytest

# sha256 over x, y, src, intensity of train then test, for GeneratorConfig(train_size=1000) at seed 0 as
# generated before any knob existed (commit 5965229): the bytes the `faint` preset must keep.
FAINT_1000_SEED0 = "aa86b7c97f5d11bb4a66cee49a29d6e8309048ac8681175d0be4280999af7741"


def arrays_digest(ds) -> str:
    h = hashlib.sha256()
    for split in ("train", "test"):
        for name in ("x", "y", "src", "intensity"):
            h.update(getattr(ds, f"{name}_{split}").tobytes())
    return h.hexdigest()


def test_default_config_still_gives_the_old_bytes(small_dataset):
    assert arrays_digest(small_dataset) == FAINT_1000_SEED0


def test_faint_preset_gives_the_old_bytes_and_files(digits, small_dataset, small_dataset_dir, tmp_path):
    ds = make_dataset(digits, preset_config("faint", train_size=1000), seed=0)
    assert arrays_digest(ds) == FAINT_1000_SEED0
    out = save_dataset(ds, tmp_path / "faint")
    for name in ("train.npz", "test.npz"):
        assert (out / name).read_bytes() == (small_dataset_dir / name).read_bytes()
    assert ds.placement_train is None  # no placement array unless a placement knob is on


def test_meta_names_the_preset_and_every_knob(digits, tmp_path):
    ds = make_dataset(digits, preset_config("few-source-digits", train_size=200), seed=0)
    meta = json.loads((save_dataset(ds, tmp_path / "d") / "meta.json").read_text())
    assert meta["preset"] == "few-source-digits"
    assert set(KNOBS) <= set(meta["generator"]) and meta["generator"]["train_pool"] == 3_000
    assert meta["generator"]["preset"] == "few-source-digits"


def test_changed_knob_drops_the_preset_name(digits):
    config = preset_config("faint", train_size=200)
    config.blend = "sum"
    assert matching_preset(config) is None
    assert make_dataset(digits, config, seed=0).meta["preset"] is None
    assert make_dataset(digits, GeneratorConfig(train_size=200), seed=0).meta["preset"] is None


def test_every_preset_builds_and_the_default_exists():
    assert DEFAULT_PRESET in PRESETS and "faint" in PRESETS
    for name in PRESETS:
        config = preset_config(name)
        assert config.preset == name and matching_preset(config) == name
    assert preset_config().preset == DEFAULT_PRESET


def test_unknown_preset_and_fixed_knob_are_user_errors():
    with pytest.raises(UserError, match="unknown preset"):
        preset_config("nope")
    with pytest.raises(UserError, match="fixes blend"):
        preset_config("faint", blend="sum")


def test_a_new_preset_is_one_entry_in_presets(monkeypatch, tmp_path, capsys):
    """Registering one entry makes a preset usable everywhere: settings, meta.json, the CLI and its help,
    load_data, and what it was calibrated on."""
    monkeypatch.setitem(PRESETS, "bright", Preset({"intensity": (0.9, 1.0), "jitter": 1}, "every digit bright",
                                                  {"unregularized_val": "calibrated on it for this test"}))
    config = preset_config("bright", train_size=200)
    assert config.intensity == (0.9, 1.0) and config.jitter == 1 and matching_preset(config) == "bright"
    assert calibrated_on("bright") == {"unregularized_val": "calibrated on it for this test"}
    with pytest.raises(SystemExit):
        main(["data", "make", "--help"])
    assert "bright (every digit bright)" in " ".join(capsys.readouterr().out.split())
    out = tmp_path / "d"
    assert main(["data", "make", "--out", str(out), "--preset", "bright", "--train-size", "200"]) == 0
    ds = read_dataset(out)
    assert ds.meta["preset"] == "bright" and ds.meta["generator"]["jitter"] == 1
    (x_train, _), _ = multimnist.load_data(preset="bright", train_size=200, cache_dir=tmp_path / "cache")
    assert (x_train == ds.x_train).all()


def test_calibrated_on_names_each_presets_figures():
    assert set(calibrated_on("study")) == {"unregularized_val", "unregularized_train", "unregularized_plateau"}
    assert set(calibrated_on("faint")) == {"unregularized_test", "unregularized_val"}
    assert calibrated_on("few-source-digits") == calibrated_on(None) == calibrated_on("not-a-preset") == {}
    calibrated_on("study").clear()  # a copy: the preset keeps its record
    assert calibrated_on("study")
