"""The whole study as one resumable pipeline: data, classifiers, autoencoder, generation, report.

Each step writes its own folder under OUT and is recorded in OUT/steps.json with the hash of its inputs once it has
finished: its settings (the contents of the configs it trains, resolved, and the data: the preset's knobs, or the
SHA-256 of each of a user's files), the hashes of the steps it reads, the profile's name and the package version. A
rerun skips every finished step whose inputs are unchanged, so its files stay byte for byte as they were; a step
whose inputs changed runs again, keeping each training run whose config is unchanged and replacing the others; an
interrupted step starts again, and the training runs inside it resume from their last finished epoch. Every file is
written under a temporary name and renamed, so a kill at any moment leaves nothing half-written that a later step
would read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from multimnist._version import __version__
from multimnist.config import from_dict, to_dict
from multimnist.data.config import DEFAULT_PRESET, knobs, preset_config
from multimnist.data.plans import load_plan
from multimnist.errors import UserError
from multimnist.executor import Executor
from multimnist.experiments import autoencoder as ae
from multimnist.experiments import classifier as clf
from multimnist.experiments.compare import compare_runs, confused_pair_change
from multimnist.experiments.data import copy_data, dataset_files, inspect_data, make_data, read_study_data
from multimnist.experiments.generation import score_samplers
from multimnist.experiments.reader import load_reader_config, train_reader
from multimnist.files import write_json
from multimnist.formatting import duration
from multimnist.latent.samplers import LEARNED, SAMPLERS
from multimnist.layout import METRICS
from multimnist.paper import ABLATIONS, HEADLINE, SIDE_SWEEPS
from multimnist.report.study import write_report

import yaml

log = logging.getLogger(__name__)

# Rough costs on 2 cores, two jobs at a time, for the time-left estimate only.
CLASSIFIER_EPOCH_SECONDS = 0.6  # one epoch of the study network on the full data, validation included
CLASSIFIER_SETUP_SECONDS = 10  # loading, compiling, evaluating and drawing one classifier run
AUTOENCODER_EPOCH_SECONDS = 5.5  # one autoencoder epoch on 80% of the full data
SLOW_BATCH_FACTOR = 6  # batch 8 takes ~6 runs' time of batch 256 (the other batch sizes about one each)


@dataclass(frozen=True)
class Profile:
    """How much of the study to run, and at what size."""

    name: str
    train_size: int | None  # training images (None: the study plan's 83,550)
    seeds: tuple[int, ...]  # for the headline networks (unregularized, regularized, challenger)
    classifier_epochs: int | None  # None: each config's own (the study's 50)
    ablation_seeds: tuple[int, ...] = (0,)  # for single-technique ablations and side sweeps
    ablations: bool = True
    side_sweeps: bool = True
    factors: tuple[int, ...] = tuple(range(20, 31))  # compression factors of the autoencoder sweep
    sweep_seeds: tuple[int, ...] = (0,)
    sweep_epochs: int | None = 20
    autoencoder_epochs: int | None = None  # None: the config's own
    autoencoder_seeds: tuple[int, ...] = (0,)  # final autoencoders; the samplers are scored on each
    reader_train_size: int | None = None  # 00..99 images for the digit-pair reader (None: its default)
    reader_epochs: int | None = None
    n_generate: int = 1000  # generated images per sampler
    diffusion_steps: int | None = None  # training steps of the latent diffusion samplers (None: their default)
    preset: str | None = DEFAULT_PRESET  # the generator preset of the study's data (data/config.py); None with `data`
    data: str | None = None  # a user's dataset (folder or .npz) to run the study on instead of a preset's

    def __post_init__(self):
        for name in ("seeds", "ablation_seeds", "factors", "sweep_seeds", "autoencoder_seeds"):
            object.__setattr__(self, name, tuple(int(v) for v in getattr(self, name)))
        if not self.seeds or not self.factors or not self.autoencoder_seeds:
            raise UserError("a profile needs at least one seed, one compression factor and one autoencoder seed")
        if self.data is not None:
            if self.preset not in (None, DEFAULT_PRESET):
                raise UserError(f"profile {self.name!r} gives both a preset ({self.preset}) and data ({self.data}): "
                                "the study runs on one of them")
            object.__setattr__(self, "data", str(self.data))
            object.__setattr__(self, "preset", None)  # the user's data is no preset's
        if self.data is None:
            preset_config(self.preset)  # an unknown preset is one clear error before anything runs

    def with_seeds(self, seeds: tuple[int, ...] | None) -> Profile:
        if not seeds:
            return self
        return replace(self, seeds=tuple(seeds), ablation_seeds=tuple(seeds), sweep_seeds=tuple(seeds),
                       autoencoder_seeds=tuple(seeds))

    def with_data(self, preset: str | None = None, data: str | Path | None = None) -> Profile:
        """The profile on another preset's data, or on a user's dataset (`--preset`, `--data`: one or neither)."""
        if preset is None and data is None:
            return self
        if preset is not None and data is not None:
            raise UserError("--preset and --data exclude each other: the study runs on a preset's data or on yours")
        if preset is not None:
            return replace(self, preset=preset, data=None)
        return replace(self, preset=None, data=str(data))

    def data_source(self) -> dict:
        """What the study's data is: a preset with its knobs, or a user's files with their SHA-256 (read now, so
        that other data in the same files is other data)."""
        if self.data is not None:
            return {"kind": "files", "path": str(Path(self.data).resolve()), "files": dataset_files(self.data)}
        generator = preset_config(self.preset, train_size=self.train_size)
        return {"kind": "preset", "preset": self.preset, "knobs": knobs(generator), "train_size": self.train_size,
                "seed": 0}


PROFILES = {
    # The study's settings: full data, each config's 50 epochs, 3 seeds for every configuration a claim compares.
    "paper": Profile("paper", train_size=None, seeds=(0, 1, 2), classifier_epochs=None, ablation_seeds=(0, 1, 2),
                     sweep_seeds=(0, 1, 2), autoencoder_seeds=(0, 1, 2)),
    # A first look in a few minutes: smaller data, few epochs, one seed, no ablations or side sweeps.
    "quick": Profile(
        "quick", train_size=8000, seeds=(0,), classifier_epochs=6, ablations=False, side_sweeps=False,
        factors=(20, 25, 30), sweep_epochs=3, autoencoder_epochs=4, reader_train_size=12000, reader_epochs=4,
        n_generate=400, diffusion_steps=1000,
    ),
}


def sampler_options(profile: Profile) -> dict[str, dict]:
    """The samplers' options a profile sets: the latent diffusion models' training steps."""
    if profile.diffusion_steps is None:
        return {}
    return dict.fromkeys(LEARNED, {"steps": profile.diffusion_steps})


@dataclass
class Step:
    name: str
    run: Callable[[], object]  # does the work; returns a JSON-able summary
    settings: dict  # what the step's result depends on, besides its upstream steps
    needs: tuple[str, ...] = ()
    cost: float = 1.0  # rough seconds on 2 cores, for the time-left estimate
    outputs: tuple[str, ...] = field(default_factory=tuple)  # folders under OUT it writes


def build_steps(out: Path, profile: Profile, n_jobs: int = 1, executor: Executor | None = None,
                pack: int | None = None) -> list[Step]:
    """The study's steps in order, closed over their settings; `pack`: networks per pack (None: by device)."""
    full_size = sum(load_plan("study").values())
    scale = (profile.train_size or full_size) / full_size
    epochs = profile.classifier_epochs or 50
    clf_cost = epochs * CLASSIFIER_EPOCH_SECONDS * scale + CLASSIFIER_SETUP_SECONDS
    return _study_steps(out, profile, n_jobs, executor, pack, scale, clf_cost)


def _study_steps(out: Path, profile: Profile, n_jobs: int, executor: Executor | None, pack: int | None,
                 scale: float, clf_cost: float) -> list[Step]:
    """The study's own steps: data, classifiers, side experiments, autoencoder, generation."""
    data = out / "data"
    if profile.data is not None:  # the user's files, by content: other data in the same files is redone
        step = Step("data", lambda: str(copy_data(profile.data, data)), {"files": dataset_files(profile.data)},
                    cost=15, outputs=("data",))
    else:
        generator = preset_config(profile.preset, train_size=profile.train_size)
        step = Step("data", lambda: str(make_data(data, generator, seed=0)),
                    {"preset": profile.preset, "knobs": knobs(generator), "train_size": profile.train_size, "seed": 0},
                    cost=15, outputs=("data",))
    steps = [
        step,
        Step("inspect", lambda: inspect_data(data, out / "inspect")["train"], {}, ("data",), cost=10,
             outputs=("inspect",)),
    ]

    def classifiers(names, root, seeds):
        return lambda: clf.run_configs(names, data, out / root, seeds=seeds, epochs=profile.classifier_epochs,
                                       n_jobs=n_jobs, executor=executor, replace=True, pack=pack)

    def configs(names):  # the resolved contents: an edited config file changes the step's hash
        return {n: to_dict(clf.load_classifier_config(n, epochs=profile.classifier_epochs)) for n in names}

    steps.append(Step("classifiers", classifiers(HEADLINE, "classifiers", profile.seeds),
                      {"configs": configs(HEADLINE), "seeds": profile.seeds}, ("data",),
                      cost=len(HEADLINE) * len(profile.seeds) * clf_cost, outputs=("classifiers",)))
    if profile.ablations:
        steps.append(Step("ablations", classifiers(ABLATIONS, "ablations", profile.ablation_seeds),
                          {"configs": configs(ABLATIONS), "seeds": profile.ablation_seeds}, ("data",),
                          cost=len(ABLATIONS) * len(profile.ablation_seeds) * clf_cost, outputs=("ablations",)))
    if profile.side_sweeps:
        for kind in SIDE_SWEEPS:
            runs = len(clf.SWEEPS[kind]) + (SLOW_BATCH_FACTOR - 1 if kind == "batch" else 0)
            steps.append(Step(
                f"sweep-{kind}",
                lambda kind=kind: clf.run_sweep(kind, data, out / "sweeps" / kind, seeds=profile.ablation_seeds,
                                                epochs=profile.classifier_epochs, n_jobs=n_jobs,
                                                executor=executor, replace=True, pack=pack),
                {"kind": kind, "seeds": profile.ablation_seeds,
                 "configs": {n: to_dict(c) for n, c in clf.sweep_configs(kind, profile.classifier_epochs).items()}},
                ("data",), cost=runs * len(profile.ablation_seeds) * clf_cost, outputs=(f"sweeps/{kind}",)))
    def compare():
        rows = compare_runs(_run_dirs(out), out / "compare")
        pairs = confused_pair_change(out / "classifiers" / "unregularized", out / "classifiers" / "regularized",
                                     out / "compare")
        return {"configs": [r["name"] for r in rows], "pairs": len(pairs)}

    steps.append(Step("compare", compare, {},
                      tuple(s.name for s in steps if s.name not in ("data", "inspect")), cost=5,
                      outputs=("compare",)))
    ae_cost = AUTOENCODER_EPOCH_SECONDS * scale
    steps += [
        Step("compression-sweep",
             lambda: ae.sweep_compression(profile.factors, data, out / "autoencoder" / "sweep",
                                          seeds=profile.sweep_seeds, epochs=profile.sweep_epochs, n_jobs=n_jobs,
                                          executor=executor, replace=True, pack=pack),
             {"factors": profile.factors, "seeds": profile.sweep_seeds,
              "config": to_dict(ae.load_autoencoder_config(epochs=profile.sweep_epochs))},
             ("data",), cost=len(profile.factors) * len(profile.sweep_seeds) * (profile.sweep_epochs or 20) * ae_cost,
             outputs=("autoencoder/sweep",)),
        Step("autoencoder",
             lambda: ae.run_autoencoders(
                 [ae.load_autoencoder_config(seed=s, epochs=profile.autoencoder_epochs)
                  for s in profile.autoencoder_seeds],
                 data, [out / "autoencoder" / "final" / f"seed-{s}" for s in profile.autoencoder_seeds], n_jobs,
                 executor, replace=True, pack=pack),
             {"config": to_dict(ae.load_autoencoder_config(seed=0, epochs=profile.autoencoder_epochs)),
              "seeds": profile.autoencoder_seeds}, ("data",),
             cost=len(profile.autoencoder_seeds) * (profile.autoencoder_epochs or 30) * ae_cost,
             outputs=("autoencoder/final",)),
        Step("reader",
             lambda: train_reader(out / "reader", seed=0, epochs=profile.reader_epochs,
                                  train_size=profile.reader_train_size, replace=True),
             {"config": to_dict(load_reader_config(seed=0, epochs=profile.reader_epochs,
                                                   train_size=profile.reader_train_size))},
             cost=180 if profile.reader_epochs is None else 20 + 5 * profile.reader_epochs, outputs=("reader",)),
        Step("generation",
             lambda: {f"seed-{s}": score_samplers(out / "autoencoder" / "final" / f"seed-{s}", out / "reader", data,
                                                  out / "generation" / f"seed-{s}", n=profile.n_generate, seed=0,
                                                  options=sampler_options(profile))
                      for s in profile.autoencoder_seeds},
             {"n": profile.n_generate, "seed": 0, "autoencoder_seeds": profile.autoencoder_seeds,
              "samplers": list(SAMPLERS), "options": sampler_options(profile)},
             ("data", "autoencoder", "reader"),
             # the fits: gmm-val and class-gmm ~2.5-3 min, each diffusion model ~1 min on 2 cores (docs/generation.md)
             cost=len(profile.autoencoder_seeds) * (480 + 0.12 * profile.n_generate),
             outputs=("generation",)),
    ]
    return steps


def _run_dirs(out: Path) -> list[Path]:
    """Every finished classifier run folder of the study (those holding metrics.json)."""
    dirs = []
    for root in ("classifiers", "ablations", "sweeps"):
        dirs += sorted(p.parent for p in (out / root).glob(f"**/{METRICS}"))
    return dirs


def load_profile(spec: str | Profile) -> Profile:
    """A built-in profile name (quick, paper) or a YAML file of Profile fields (for tiny test runs, say)."""
    if isinstance(spec, Profile):
        return spec
    if spec in PROFILES:
        return PROFILES[spec]
    path = Path(spec)
    if not path.is_file():
        raise UserError(f"unknown profile {spec!r}: use {', '.join(PROFILES)} or a YAML file")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise UserError(f"profile {path} is not valid YAML: {e}") from None
    return from_dict(Profile, {"name": path.stem, **data}, f"profile {path}")


def source_text(source: dict) -> str:
    """A data source (Profile.data_source) in a line: 'preset faint (...)' or 'files PATH (train.npz sha256 ...)'."""
    if source["kind"] == "preset":
        return f"preset {source['preset']} ({', '.join(f'{k} {v}' for k, v in source['knobs'].items())})"
    return f"files {source['path']} (" + ", ".join(f"{n} sha256 {h[:12]}" for n, h in source["files"].items()) + ")"


def step_hash(step: Step, upstream: dict[str, str], profile: Profile) -> str:
    """What a step's result depends on: its settings, the hashes of the steps it reads, the profile, the version."""
    key = json.dumps({"settings": step.settings, "needs": [upstream[n] for n in step.needs if n in upstream],
                      "profile": profile.name, "version": __version__}, sort_keys=True, default=str)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def reproduce(out: str | Path, profile: str | Profile = "quick", seeds: tuple[int, ...] | None = None,
              n_jobs: int = 1, executor: Executor | None = None, pack: int | None = None,
              preset: str | None = None, data: str | Path | None = None) -> Path:
    """Run every step not already finished with the same inputs, then write the report; returns OUT.

    `pack`: networks trained together in one compiled program (None: 8 on CPUs, 32 on a GPU); `preset` or `data`
    (a user's dataset folder or .npz) replace the profile's data."""
    profile = load_profile(profile).with_seeds(seeds).with_data(preset, data)
    if profile.data is not None:
        read_study_data(profile.data)  # a problem with the user's data is one clear error before anything runs
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / "steps.json"
    state = json.loads(state_path.read_text()) if state_path.is_file() else {}
    steps = build_steps(out, profile, n_jobs, executor, pack)
    steps.append(Step("report", lambda: str(write_report(out)), {}, tuple(s.name for s in steps), cost=10,
                      outputs=("report.html", "report.md", "results.json")))
    log.info("multimnist reproduce: profile %s, %d steps, writing to %s", profile.name, len(steps), out.resolve())
    source = profile.data_source()
    log.info("data: %s", source_text(source))
    write_json(out / "profile.json", {"profile": asdict(profile), "data": source, "jobs": n_jobs, "pack": pack,
                                      "multimnist_version": __version__})

    hashes: dict[str, str] = {}
    done_cost = spent = 0.0
    remaining = sum(s.cost for s in steps)
    for i, step in enumerate(steps, 1):
        hashes[step.name] = step_hash(step, hashes, profile)
        record = state.get(step.name)
        if record and record.get("hash") == hashes[step.name]:
            log.info("[%d/%d] %s: done earlier, kept (%s)", i, len(steps), step.name, ", ".join(step.outputs))
            remaining -= step.cost
            continue
        rate = (spent + 60) / (done_cost + 60)  # measured speed against the estimates, damped while little ran
        log.info("[%d/%d] %s -> %s (about %s left)", i, len(steps), step.name,
                 ", ".join(str(out / o) for o in step.outputs), duration(remaining * rate))
        t0 = time.time()
        summary = step.run()
        seconds = time.time() - t0
        state[step.name] = {"hash": hashes[step.name], "seconds": round(seconds, 1), "summary": summary}
        write_json(state_path, state)
        spent += seconds
        done_cost += step.cost
        remaining -= step.cost
        log.info("[%d/%d] %s: finished in %s", i, len(steps), step.name, duration(seconds))
    log.info("report: %s", (out / "report.html").resolve())
    return out
