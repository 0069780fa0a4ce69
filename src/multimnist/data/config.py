"""The generator's settings: `GeneratorConfig` (the size of the data and the knobs that decide how hard it is)
and the named presets, each with what it was calibrated on.

A preset fixes the difficulty knobs (intensity, blend, placement, how many MNIST digits the training images
draw from); the size of the data (plan, classes, train_size, test_fraction) stays free and can be given beside
it. Adding a preset is one entry in `PRESETS`: `preset_config`, `matching_preset`, the `--preset` help of
`data make`, `load_data(preset=...)` and the report's "calibrated on" column all read it from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from multimnist.data.compose import BLENDS
from multimnist.errors import UserError

HEIGHT, WIDTH = 28, 39
FLAT = HEIGHT * WIDTH  # 1092
MAX_JITTER = 4  # MNIST digits sit in a 20x20 box centred in 28x28: 4 empty rows above and below
INTENSITY_MODES = ("independent", "shared")
MIN_POOL = 100  # the first 100 MNIST training digits hold every class (the first 10 do not)
LABELS = "number"  # the one label convention of the files: a class's two-digit number (1..50), never its index


@dataclass
class GeneratorConfig:
    """How to draw a Multi-MNIST dataset: its size and the difficulty knobs.

    Every knob defaults to off (intensity 0.05-1, max blend, fixed placement, all MNIST digits): the data of
    multimnist 0.1, which the `faint` preset names. The defaults stay off on purpose, so that a knob missing
    from an older meta.json or from a calibration setting means what it meant then. The study's data is the
    `study` preset: `preset_config()` (the default preset), which `make_dataset`, `load_data`, `MultiMNIST`
    and `data make` use when given no settings.
    """

    plan: str = "study"  # "study", "balanced" or a YAML/JSON file of {label: train count}
    classes: tuple[int, ...] | None = None  # None: the plan's classes (1..50 for the study)
    train_size: int | None = None  # None: the plan's total (83,550 for the study); else scaled to this
    test_fraction: float = 0.2  # test images per train image, same class proportions
    intensity: tuple[float, float] = (0.05, 1.0)  # each digit's brightness, uniform in this range (calibrated)
    blend: str = "max"  # how overlapping pixels combine: max, sum (clipped) or alpha (see compose)
    offset: int = 11  # columns between the two digits' left edges; 28 - offset columns overlap (fixes the width)
    offset_min: int | None = None  # if set, each image's right digit starts at a column drawn in offset_min..offset
    jitter: int = 0  # each digit moves up or down by a whole number of rows drawn in -jitter..jitter
    intensity_mode: str = "independent"  # "independent": each digit draws its own; "shared": one per image
    train_pool: int | None = None  # train images draw only from the first N MNIST training digits (None: all)
    train_distinct: int | None = None  # the training split holds only ~N distinct images, the rest exact repeats
    preset: str | None = None  # the named preset these settings came from (PRESETS below); a label only

    def __post_init__(self):
        if self.classes is not None:
            self.classes = tuple(int(c) for c in self.classes)
        self.intensity = tuple(float(v) for v in self.intensity)
        lo, hi = self.intensity
        if not 0.0 < lo <= hi <= 1.0:
            raise UserError(f"intensity range must satisfy 0 < low <= high <= 1, got {self.intensity}")
        if self.blend not in BLENDS:
            raise UserError(f"blend must be one of {', '.join(BLENDS)}, got {self.blend!r}")
        if self.offset != 11:
            raise UserError("offset must be 11: the study's images are 28x39 (17 overlapping columns)")
        if self.offset_min is not None and not 0 <= self.offset_min <= self.offset:
            raise UserError(f"offset_min must lie in 0..{self.offset}, got {self.offset_min}")
        if not 0 <= self.jitter <= MAX_JITTER:
            raise UserError(f"jitter must lie in 0..{MAX_JITTER} rows (MNIST's empty margin), got {self.jitter}")
        if self.intensity_mode not in INTENSITY_MODES:
            raise UserError(f"intensity_mode must be one of {', '.join(INTENSITY_MODES)}, got {self.intensity_mode!r}")
        if self.train_pool is not None and not MIN_POOL <= self.train_pool:
            raise UserError(f"train_pool must be at least {MIN_POOL} digits (or unset for all), got {self.train_pool}")
        if self.train_distinct is not None and self.train_distinct < 1:
            raise UserError(f"train_distinct must be positive (or unset), got {self.train_distinct}")
        if not 0.0 < self.test_fraction <= 1.0:
            raise UserError(f"test fraction must be in (0, 1], got {self.test_fraction}")
        if self.train_size is not None and self.train_size < 1:
            raise UserError(f"train size must be positive, got {self.train_size}")


# What a preset may not fix: how much data, of which classes.
SIZE_FIELDS = ("plan", "classes", "train_size", "test_fraction", "preset")
KNOBS = tuple(f.name for f in fields(GeneratorConfig) if f.name not in SIZE_FIELDS)


@dataclass(frozen=True)
class Preset:
    """A named setting of the difficulty knobs, and the study's figures it was calibrated on."""

    knobs: dict  # only the knobs it sets; the others stay off (GeneratorConfig's defaults)
    summary: str  # a few words for `data make --help`
    calibrated_on: dict[str, str] = field(default_factory=dict)  # claim key -> why it holds by calibration


DEFAULT_PRESET = "study"

# docs/calibration.md describes each; the report reads `calibrated_on` (as "by construction", not a finding).
PRESETS: dict[str, Preset] = {
    # The setting whose learning curves came closest to the study's in the calibration search (its record:
    # docs/notes/calibration.md): each digit's intensity in [0.8, 1], each digit shifted up or down
    # by up to 2 rows, training digits drawn from the first 25,000 MNIST training digits.
    "study": Preset(
        {"intensity": (0.8, 1.0), "jitter": 2, "train_pool": 25_000},
        "the calibrated setting",
        {"unregularized_val": "the 'study' preset was chosen on best validation accuracy 91.5 ± 1 "
                              "(evaluation/fidelity.py, docs/calibration.md); its test accuracy was never used",
         "unregularized_train": "the 'study' preset was chosen on training accuracy >= 99% at epoch 50 "
                                "(evaluation/fidelity.py, docs/calibration.md)",
         "unregularized_plateau": "the 'study' preset was chosen on validation accuracy within 1 point of its best "
                                  "by epoch 15 and, in the rescore, staying there till the end (evaluation/fidelity.py,"
                                  " docs/calibration.md)"}),
    # The first calibration (docs/calibration.md): every knob off, each digit at its own intensity in [0.05, 1],
    # `max` blend, all 60,000 MNIST training digits. It reproduces the data of multimnist <= 0.1 byte for byte.
    "faint": Preset(
        {},
        "multimnist 0.1's default, same bytes",
        {"unregularized_test": "the 'faint' preset was calibrated to put this test accuracy at 89% "
                               "(docs/calibration.md, first calibration)",
         "unregularized_val": "the 'faint' preset was calibrated on this network's accuracy, best validation "
                              "included (docs/calibration.md, first calibration)"}),
    # Intensity in [0.3, 1] and training images drawn from only the first 3,000 MNIST training digits, so the
    # validation split shares source digits with the training split: the network memorizes them (training
    # accuracy 100%, validation plateau by epoch ~19, validation loss rising). The "memorizing" end of the
    # regime study.
    "few-source-digits": Preset(
        {"intensity": (0.3, 1.0), "train_pool": 3_000},
        "training images from 3,000 MNIST digits: the network memorizes"),
}


def preset_config(name: str | None = None, **size) -> GeneratorConfig:
    """The GeneratorConfig of preset `name` (None: the default preset), with optional size fields
    (plan, classes, train_size, test_fraction) set beside it."""
    name = DEFAULT_PRESET if name is None else name
    if name not in PRESETS:
        raise UserError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
    bad = sorted(set(size) - set(SIZE_FIELDS[:-1]))
    if bad:
        raise UserError(f"a preset fixes {', '.join(bad)}; give a GeneratorConfig instead to change it")
    return GeneratorConfig(**PRESETS[name].knobs, **size, preset=name)


def knobs(config: GeneratorConfig) -> dict:
    """The difficulty knobs of `config` (no size fields), as plain values."""
    return {k: getattr(config, k) for k in KNOBS}


def matching_preset(config: GeneratorConfig) -> str | None:
    """The name of `config`'s preset if its knobs still equal that preset's, else None (a changed knob makes
    the settings custom, whatever label they carry)."""
    if config.preset is not None and config.preset in PRESETS \
            and knobs(config) == knobs(GeneratorConfig(**PRESETS[config.preset].knobs)):
        return config.preset
    return None


def calibrated_on(preset_name: str | None) -> dict[str, str]:
    """Claim key -> why, for the study's figures data of preset `preset_name` was calibrated on ({} for custom
    settings, None, or a name this version does not know: such data was calibrated on nothing)."""
    preset = PRESETS.get(preset_name or "")
    return dict(preset.calibrated_on) if preset is not None else {}


def preset_help() -> str:
    """The presets in one line for `--preset` help, the default first: 'study (default: ...), faint (...)'."""
    order = [DEFAULT_PRESET, *(name for name in PRESETS if name != DEFAULT_PRESET)]
    return ", ".join(f"{name} ({'default: ' if name == DEFAULT_PRESET else ''}{PRESETS[name].summary})"
                     for name in order)
