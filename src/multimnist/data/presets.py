"""Named generator settings. A preset fixes the knobs that decide how hard the data is (intensity, blend,
placement, how many MNIST digits the training images draw from); the size of the data (plan, classes,
train_size, test_fraction) stays free and can be given beside the preset.

- `faint`: the first calibration (docs/calibration.md): every digit at its own intensity in [0.05, 1], `max`
  blend, all 60,000 MNIST training digits. It reproduces the data of multimnist <= 0.1 byte for byte.
- `study`: the default; the setting whose learning curves came closest to the study's in the calibration search
  (docs/calibration.md, "Calibrating to the study's learning curves"): each digit's intensity in [0.8, 1], each
  digit shifted up or down by up to 2 rows, training digits drawn from the first 25,000 MNIST training digits.
- `few-source-digits`: intensity in [0.3, 1] and training images drawn from only the first 3,000 MNIST
  training digits, so the validation split shares source digits with the training split: the network
  memorizes them (training accuracy 100%, validation plateau by epoch ~19, validation loss rising). The
  "memorizing" end of the regime study.
"""

from __future__ import annotations

from dataclasses import fields

from multimnist.data.dataset import GeneratorConfig
from multimnist.errors import UserError

DEFAULT_PRESET = "study"

# Only the knobs a preset sets; everything else keeps GeneratorConfig's default.
PRESETS: dict[str, dict] = {
    "faint": {},
    "study": {"intensity": (0.8, 1.0), "jitter": 2, "train_pool": 25_000},
    "few-source-digits": {"intensity": (0.3, 1.0), "train_pool": 3_000},
}

# What a preset may not fix: how much data, of which classes.
SIZE_FIELDS = ("plan", "classes", "train_size", "test_fraction", "preset")
KNOBS = tuple(f.name for f in fields(GeneratorConfig) if f.name not in SIZE_FIELDS)


def preset_config(name: str | None = None, **size) -> GeneratorConfig:
    """The GeneratorConfig of preset `name` (None: the default preset), with optional size fields
    (plan, classes, train_size, test_fraction) set beside it."""
    name = DEFAULT_PRESET if name is None else name
    if name not in PRESETS:
        raise UserError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
    bad = sorted(set(size) - set(SIZE_FIELDS[:-1]))
    if bad:
        raise UserError(f"a preset fixes {', '.join(bad)}; give a GeneratorConfig instead to change it")
    return GeneratorConfig(**PRESETS[name], **size, preset=name)


def knobs(config: GeneratorConfig) -> dict:
    """The difficulty knobs of `config` (no size fields), as plain values."""
    return {k: getattr(config, k) for k in KNOBS}


def matching_preset(config: GeneratorConfig) -> str | None:
    """The name of `config`'s preset if its knobs still equal that preset's, else None."""
    if config.preset is not None and config.preset in PRESETS \
            and knobs(config) == knobs(GeneratorConfig(**PRESETS[config.preset])):
        return config.preset
    return None
