"""Named generator settings: `faint` reproduces the first calibrated data byte for byte, meta.json names the
preset and records every knob, and unknown names or fixed knobs are one-line errors."""

from __future__ import annotations

import hashlib
import json

from multimnist.data import GeneratorConfig, make_dataset, save_dataset
from multimnist.data.presets import DEFAULT_PRESET, KNOBS, PRESETS, matching_preset, preset_config
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
