"""The study's steps as one resumable pipeline: data, classifiers, autoencoder, generation (the report, which reads
what they wrote, is added on top by `multimnist.report.pipeline.reproduce`).

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
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path

from multimnist._version import __version__
from multimnist.config import from_dict, to_dict
from multimnist.data.config import DEFAULT_PRESET, knobs, preset_config
from multimnist.data.plans import load_plan
from multimnist.errors import UserError
from multimnist.evaluation.sequential import SPENDING
from multimnist.executor import Executor
from multimnist.experiments import autoencoder as ae
from multimnist.experiments import classifier as clf
from multimnist.experiments import runs
from multimnist.experiments.compare import compare_runs, confused_pair_change
from multimnist.experiments.data import copy_data, dataset_files, inspect_data, make_data, read_study_data
from multimnist.experiments.explorer import export_explorer, ranked_samplers
from multimnist.experiments.generation import score_samplers
from multimnist.experiments.reader import load_reader_config, train_reader
from multimnist.files import write_json
from multimnist.formatting import duration
from multimnist.latent.mixture import read_kept_mixture
from multimnist.latent.samplers import GUIDANCE, LEARNED, SAMPLERS
from multimnist.layout import METRICS, configuration_seeds
from multimnist.paper import ABLATIONS, HEADLINE, SIDE_SWEEPS

import yaml

log = logging.getLogger(__name__)

# The time-left estimate follows measured runs. PAPER_SECONDS: each step of the paper profile's first look (3 seeds
# of every configuration) on the `study` preset, on the 2-core development machine, --jobs 2, shared with other
# work part of the time: multimnist 0.4.0, 2026-12-07 (the first of each step's runs in
# docs/results/runs/study/steps.json; tests/test_study.py checks the two agree; a later look's seeds are scaled
# from them by step_sizes). SETUP_SECONDS: what one run of a step costs whatever its data and epochs (imports,
# compiling, evaluating, drawing; for generation, once for all its autoencoder seeds), from the quick profile's
# steps measured on the same machine under other work (2026-12-07: 558 s in all, generation 295 s) scaled by
# 83/558 to its idle total (83 s, measured with 0.3.0: `git show a8bf7cb:README.md`). A step's estimate is its
# runs' setup plus the paper step's seconds beyond setup scaled by its work against the paper's (step_sizes).
# Generation's work is the encodings its samplers are fitted on (the validated mixtures' fits take most of it:
# gmm-val 40 s, class-gmm 51 s of a seed's ~180 s in that run's log), so the quick profile's estimate (49 s) is
# below its measured 77 s, whose 400 images a sampler are read and scored whatever the encodings.
PAPER_SECONDS = {"data": 3.4, "inspect": 1.0, "classifiers": 539.0, "ablations": 525.6, "sweep-depth": 212.5,
                 "sweep-optimizer": 280.8, "sweep-batch": 461.7, "sweep-activation": 100.6, "compare": 0.0,
                 "compression-sweep": 1882.0, "autoencoder": 235.7, "reader": 78.5, "generation": 533.4,
                 "report": 0.3}
SETUP_SECONDS = {"data": 0.5, "inspect": 0.3, "classifiers": 2.8, "ablations": 2.8, "sweep-depth": 2.8,
                 "sweep-optimizer": 2.8, "sweep-batch": 2.8, "sweep-activation": 2.8, "compare": 0.0,
                 "compression-sweep": 4.5, "autoencoder": 2.1, "reader": 8.2, "generation": 33.0, "report": 0.4}
EXPLORER_ENCODING = "float16"  # the decoder's weights in the report's explorer (latent/explorer.py ENCODINGS)
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
    # The cap of the sequential design, seeds a side (evaluation/sequential.py: looks at len(seeds), 5, 10 up to it):
    # after each look, the configurations of the claims still open train up to the next look's seeds
    # (report/pipeline.py); None: one look at `seeds`, a fixed design. `spending`: how the error rate is spent over
    # the looks (pocock: more decided early; obrien-fleming: little spent before the cap).
    max_seeds: int | None = None
    spending: str = "pocock"

    def __post_init__(self):
        for name in ("seeds", "ablation_seeds", "factors", "sweep_seeds", "autoencoder_seeds"):
            object.__setattr__(self, name, tuple(int(v) for v in getattr(self, name)))
        if self.max_seeds is not None and self.max_seeds < 2:
            raise UserError(f"profile {self.name!r}: max_seeds must be at least 2 seeds a side, got {self.max_seeds}")
        if self.spending not in SPENDING:
            raise UserError(f"profile {self.name!r}: spending must be one of {', '.join(SPENDING)}, "
                            f"got {self.spending!r}")
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
        """The profile with the user's seeds for every network (`--seeds`): a fixed design, one look."""
        if not seeds:
            return self
        return replace(self, seeds=tuple(seeds), ablation_seeds=tuple(seeds), sweep_seeds=tuple(seeds),
                       autoencoder_seeds=tuple(seeds), max_seeds=None)

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
    # The study's settings: full data, each config's 50 epochs, 3 seeds for every configuration a claim compares,
    # then 5 and 10 for those of the claims 3 (then 5) seeds leave undecided.
    "paper": Profile("paper", train_size=None, seeds=(0, 1, 2), classifier_epochs=None, ablation_seeds=(0, 1, 2),
                     sweep_seeds=(0, 1, 2), autoencoder_seeds=(0, 1, 2), max_seeds=10),
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
    cost: float = 1.0  # expected seconds on the development machine (estimate_seconds), for the time left
    outputs: tuple[str, ...] = field(default_factory=tuple)  # folders under OUT it writes


def build_steps(out: Path, profile: Profile, n_jobs: int = 1, executor: Executor | None = None,
                pack: int | None = None, more_seeds: Mapping[str, int] | None = None) -> list[Step]:
    """The study's steps in order, closed over their settings; `pack`: networks per pack (None: by device);
    `more_seeds`: seeds wanted by configuration (see `layout.configuration_seeds`), beyond the profile's."""
    more = dict(more_seeds or {})
    steps = _study_steps(out, profile, n_jobs, executor, pack, more)
    for step in steps:
        if step.name in PAPER_SECONDS:
            step.cost = estimate_seconds(step.name, profile, more)
        elif step.name == "explorer":  # loading the decoder and the kept mixture, checking the encoding
            step.cost = 10.0
    return steps


def step_sizes(profile: Profile, more: Mapping[str, int] | None = None) -> dict[str, tuple[int, float]]:
    """Each step's (runs, work) for the time estimate: work is networks x epochs x share of the full data for the
    trainings (with the seeds a later look added: `more`), fitted encodings for generation (the validated
    mixtures' searches dominate it), images for data and inspect."""
    more = more or {}
    full = sum(load_plan("study").values())
    scale = (profile.train_size or full) / full
    epochs = profile.classifier_epochs or 50

    seeds_of = partial(configuration_seeds, asdict(profile), more)

    def trainings(names) -> int:
        return sum(len(seeds_of(n)) for n in names)

    headline = trainings(HEADLINE)
    sizes = {"data": (1, scale), "inspect": (1, scale), "compare": (1, 1.0), "report": (1, 1.0),
             "classifiers": (headline, headline * epochs * scale)}
    if profile.ablations:
        runs = trainings(ABLATIONS)
        sizes["ablations"] = (runs, runs * epochs * scale)
    if profile.side_sweeps:
        for kind in SIDE_SWEEPS:
            runs = trainings(clf.SWEEPS[kind])
            slow = (SLOW_BATCH_FACTOR - 1) * trainings(["batch-8"]) if kind == "batch" else 0
            sizes[f"sweep-{kind}"] = (runs, (runs + slow) * epochs * scale)
    runs = trainings([f"cf-{f}" for f in profile.factors])
    sizes["compression-sweep"] = (runs, runs * (profile.sweep_epochs or 20) * scale)
    runs = trainings(["autoencoder"])
    sizes["autoencoder"] = (runs, runs * (profile.autoencoder_epochs or 30) * scale)
    sizes["reader"] = (1, (profile.reader_train_size or 60000) * (profile.reader_epochs or 10))
    fitted = 0.8 * full * scale  # the training split's encodings: the validated mixtures' fits dominate
    sizes["generation"] = (1, runs * fitted)  # one setup (imports, the reader) for all autoencoder seeds
    return sizes


NOT_TRAINING = ("data", "inspect", "compare", "generation", "report")  # steps that train no network


def networks(profile: Profile, more: Mapping[str, int] | None = None) -> int:
    """How many networks a profile trains (classifiers, sweeps, autoencoders, the reader), with the seeds a later
    look added (`more`): the sequential design's budget."""
    return sum(runs for name, (runs, _) in step_sizes(profile, more).items() if name not in NOT_TRAINING)


def estimate_seconds(step: str, profile: Profile, more: Mapping[str, int] | None = None) -> float:
    """A step's expected seconds on the development machine: its runs' setup, plus the paper profile's measured
    seconds beyond setup scaled by the step's work against the paper's (PAPER_SECONDS, SETUP_SECONDS)."""
    runs, work = step_sizes(profile, more)[step]
    paper_runs, paper_work = step_sizes(PROFILES["paper"])[step]
    beyond = max(PAPER_SECONDS[step] - SETUP_SECONDS[step] * paper_runs, 0.0)
    return SETUP_SECONDS[step] * runs + beyond * work / paper_work


def study_configurations(profile: Profile) -> set[str]:
    """The names `more_seeds` may give more seeds: the headline configs, the ablations and side sweeps' settings
    the profile runs, cf-F for each compression factor, and `autoencoder` for the final autoencoders."""
    names = {*HEADLINE, *(f"cf-{f}" for f in profile.factors), "autoencoder"}
    if profile.ablations:
        names |= set(ABLATIONS)
    if profile.side_sweeps:
        names |= {setting for kind in SIDE_SWEEPS for setting in clf.SWEEPS[kind]}
    return names


def _study_steps(out: Path, profile: Profile, n_jobs: int, executor: Executor | None, pack: int | None,
                 more: dict[str, int]) -> list[Step]:
    """The study's own steps: data, classifiers, side experiments, autoencoder, generation. A configuration named
    in `more` (a config's name, a sweep setting's, cf-F for a compression factor, `autoencoder` for the final
    autoencoders) trains that many seeds instead of the profile's."""

    seeds_of = partial(configuration_seeds, asdict(profile), more)  # the report reads by the same rule

    def seeds(names) -> dict[str, tuple[int, ...]]:
        return {n: seeds_of(n) for n in names}

    def extra(names) -> dict:  # the step's settings gain the added seeds only where a look asked for some
        added = {n: more[n] for n in names if n in more}
        return {"more_seeds": added} if added else {}

    data = out / "data"
    if profile.data is not None:  # the user's files, by content: other data in the same files is redone
        step = Step("data", lambda: str(copy_data(profile.data, data)), {"files": dataset_files(profile.data)},
                    outputs=("data",))
    else:
        generator = preset_config(profile.preset, train_size=profile.train_size)
        step = Step("data", lambda: str(make_data(data, generator, seed=0)),
                    {"preset": profile.preset, "knobs": knobs(generator), "train_size": profile.train_size, "seed": 0},
                    outputs=("data",))
    steps = [
        step,
        Step("inspect", lambda: inspect_data(data, out / "inspect")["train"], {}, ("data",), outputs=("inspect",)),
    ]

    def classifiers(names, root, seeds):
        return lambda: clf.run_configs(names, data, out / root, seeds=seeds, epochs=profile.classifier_epochs,
                                       n_jobs=n_jobs, executor=executor, replace=True, pack=pack)

    def configs(names):  # the resolved contents: an edited config file changes the step's hash
        return {n: to_dict(clf.load_classifier_config(n, epochs=profile.classifier_epochs)) for n in names}

    def trainings(by_name) -> int:
        return sum(len(s) for s in by_name.values())

    headline = seeds(HEADLINE)
    steps.append(Step("classifiers", classifiers(HEADLINE, "classifiers", headline),
                      {"configs": configs(HEADLINE), "seeds": profile.seeds, **extra(HEADLINE)}, ("data",),
                      outputs=("classifiers",)))
    if profile.ablations:
        ablations = seeds(ABLATIONS)
        steps.append(Step("ablations", classifiers(ABLATIONS, "ablations", ablations),
                          {"configs": configs(ABLATIONS), "seeds": profile.ablation_seeds, **extra(ABLATIONS)},
                          ("data",), outputs=("ablations",)))
    if profile.side_sweeps:
        for kind in SIDE_SWEEPS:
            settings = clf.sweep_configs(kind, profile.classifier_epochs)
            by_setting = seeds(settings)
            steps.append(Step(
                f"sweep-{kind}",
                lambda kind=kind, by_setting=by_setting: clf.run_sweep(
                    kind, data, out / "sweeps" / kind, seeds=by_setting, epochs=profile.classifier_epochs,
                    n_jobs=n_jobs, executor=executor, replace=True, pack=pack),
                {"kind": kind, "seeds": profile.ablation_seeds,
                 "configs": {n: to_dict(c) for n, c in settings.items()}, **extra(settings)},
                ("data",), outputs=(f"sweeps/{kind}",)))

    def compare():
        rows = compare_runs(_run_dirs(out), out / "compare")
        pairs = confused_pair_change(out / "classifiers" / "unregularized", out / "classifiers" / "regularized",
                                     out / "compare")
        return {"configs": [r["name"] for r in rows], "pairs": len(pairs)}

    steps.append(Step("compare", compare, {},
                      tuple(s.name for s in steps if s.name not in ("data", "inspect")), outputs=("compare",)))
    cf_names = [f"cf-{f}" for f in profile.factors]
    by_factor = {f: seeds_of(f"cf-{f}") for f in profile.factors}
    final_seeds = seeds_of("autoencoder")
    steps += [
        Step("compression-sweep",
             lambda: ae.sweep_compression(profile.factors, data, out / "autoencoder" / "sweep",
                                          seeds=by_factor, epochs=profile.sweep_epochs, n_jobs=n_jobs,
                                          executor=executor, replace=True, pack=pack),
             {"factors": profile.factors, "seeds": profile.sweep_seeds,
              "config": to_dict(ae.load_autoencoder_config(epochs=profile.sweep_epochs)), **extra(cf_names)},
             ("data",), outputs=("autoencoder/sweep",)),
        Step("autoencoder",
             lambda: runs.run(
                 ae.AUTOENCODER,
                 [ae.load_autoencoder_config(seed=s, epochs=profile.autoencoder_epochs) for s in final_seeds],
                 data, [out / "autoencoder" / "final" / f"seed-{s}" for s in final_seeds], n_jobs,
                 executor, replace=True, pack=pack),
             {"config": to_dict(ae.load_autoencoder_config(seed=0, epochs=profile.autoencoder_epochs)),
              "seeds": profile.autoencoder_seeds, **extra(["autoencoder"])}, ("data",),
             outputs=("autoencoder/final",)),
        Step("reader",
             lambda: train_reader(out / "reader", seed=0, epochs=profile.reader_epochs,
                                  train_size=profile.reader_train_size, replace=True),
             {"config": to_dict(load_reader_config(seed=0, epochs=profile.reader_epochs,
                                                   train_size=profile.reader_train_size))}, outputs=("reader",)),
        Step("generation",
             lambda: {f"seed-{s}": score_samplers(out / "autoencoder" / "final" / f"seed-{s}", out / "reader", data,
                                                  out / "generation" / f"seed-{s}", n=profile.n_generate, seed=0,
                                                  options=sampler_options(profile))
                      for s in final_seeds},
             {"n": profile.n_generate, "seed": 0, "autoencoder_seeds": profile.autoencoder_seeds,
              "samplers": list(SAMPLERS), "options": sampler_options(profile), "guidance": GUIDANCE,
              **extra(["autoencoder"])},
             ("data", "autoencoder", "reader"), outputs=("generation",)),
        Step("explorer", lambda: str(study_explorer(out, data, profile.autoencoder_seeds[0])),
             {"autoencoder_seed": profile.autoencoder_seeds[0], "encoding": EXPLORER_ENCODING},
             ("data", "autoencoder", "generation"), outputs=("explorer",)),
    ]
    return steps


def study_explorer(out: Path, data: Path, seed: int) -> Path:
    """OUT/explorer/explorer.json for the report's latent explorer: autoencoder `seed`, with the sampler that
    read best on its generation scores among those that are Gaussian mixtures, as the generation step fitted and
    kept it (no second fit)."""
    run, scores = f"autoencoder/final/seed-{seed}", out / "generation" / f"seed-{seed}"
    kept = [scores / f"mixture-{name}.npz" for name in ranked_samplers(scores / "scores.json")]
    return export_explorer(out / run, data, out / "explorer", [read_kept_mixture(p) for p in kept if p.is_file()],
                           EXPLORER_ENCODING, {"model_run": run})


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


def earlier_runs(record: dict | None) -> list[dict]:
    """A step's finished runs in this folder before the one replacing `record` (its hash and seconds each): a
    later look that trained more seeds, or inputs that changed. With `seconds` they are the time spent on it."""
    if not record:
        return []
    return [*record.get("earlier", []), {"hash": record.get("hash"), "seconds": record.get("seconds", 0.0)}]


def step_hash(step: Step, upstream: dict[str, str], profile: Profile) -> str:
    """What a step's result depends on: its settings, the hashes of the steps it reads, the profile, the version."""
    key = json.dumps({"settings": step.settings, "needs": [upstream[n] for n in step.needs if n in upstream],
                      "profile": profile.name, "version": __version__}, sort_keys=True, default=str)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def step_hashes(steps: list[Step], profile: Profile) -> dict[str, str]:
    """Each step's hash (`step_hash`), in order: a step's inputs include the hashes of the steps it reads."""
    hashes: dict[str, str] = {}
    for step in steps:
        hashes[step.name] = step_hash(step, hashes, profile)
    return hashes


STEPS = "steps.json"  # in a run's folder: each finished step's hash, seconds, summary and earlier runs


def read_steps_state(out: Path) -> dict:
    """OUT/steps.json (`STEPS`), {} before any step ran."""
    path = out / STEPS
    return json.loads(path.read_text()) if path.is_file() else {}


def finished_before(out: str | Path, profile: str | Profile = "quick", seeds: tuple[int, ...] | None = None,
                    n_jobs: int = 1, executor: Executor | None = None, pack: int | None = None,
                    preset: str | None = None, data: str | Path | None = None,
                    more_seeds: Mapping[str, int] | None = None) -> bool:
    """Whether every step `run_study` would run with these arguments has finished in OUT with the same inputs, at
    its last run or an earlier one (a later look that added seeds keeps the earlier seeds' files as they were): a
    look of the sequential design can then be judged from the files as they are, running nothing. Nothing runs."""
    out = Path(out)
    state = read_steps_state(out)
    profile = load_profile(profile).with_seeds(seeds).with_data(preset, data)
    hashes = step_hashes(build_steps(out, profile, n_jobs, executor, pack, more_seeds), profile)
    return bool(state) and all(h in [r.get("hash") for r in earlier_runs(state.get(name))]
                               for name, h in hashes.items())


def run_study(out: str | Path, profile: str | Profile = "quick", seeds: tuple[int, ...] | None = None,
              n_jobs: int = 1, executor: Executor | None = None, pack: int | None = None,
              preset: str | None = None, data: str | Path | None = None,
              report: Callable[[Path], object] | None = None, more_seeds: Mapping[str, int] | None = None) -> Path:
    """Run every step not already finished with the same inputs, then `report(OUT)` as the last step; returns OUT.

    `pack`: networks trained together in one compiled program (None: 8 on CPUs, 32 on a GPU); `preset` or `data`
    (a user's dataset folder or .npz) replace the profile's data; `report` (the report layer's `write_report`) is
    handed in from above, so that the steps know nothing of the report that reads them; `more_seeds`: seeds wanted
    by configuration beyond the profile's (a later look of the sequential design: `build_steps`)."""
    profile = load_profile(profile).with_seeds(seeds).with_data(preset, data)
    if profile.data is not None:
        read_study_data(profile.data)  # a problem with the user's data is one clear error before anything runs
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    state = read_steps_state(out)
    steps = build_steps(out, profile, n_jobs, executor, pack, more_seeds)
    if report is not None:
        steps.append(Step("report", lambda: str(report(out)), {}, tuple(s.name for s in steps),
                          cost=estimate_seconds("report", profile),
                          outputs=("report.html", "report.md", "results.json")))
    log.info("multimnist reproduce: profile %s, %d steps, writing to %s", profile.name, len(steps), out.resolve())
    source = profile.data_source()
    log.info("data: %s", source_text(source))
    log.debug("profile %s: %s", profile.name, ", ".join(f"{k}={v}" for k, v in asdict(profile).items()))
    write_json(out / "profile.json", {"profile": asdict(profile), "more_seeds": dict(more_seeds or {}), "data": source,
                                      "jobs": n_jobs, "pack": pack, "multimnist_version": __version__})

    hashes = step_hashes(steps, profile)
    done_cost = spent = 0.0
    remaining = sum(s.cost for s in steps)
    for i, step in enumerate(steps, 1):
        record = state.get(step.name)
        if record and record.get("hash") == hashes[step.name]:
            log.info("[%d/%d] %s: done earlier, kept (%s)", i, len(steps), step.name, ", ".join(step.outputs))
            remaining -= step.cost
            continue
        log.debug("[%d/%d] %s: inputs %s (%s); settings %s", i, len(steps), step.name, hashes[step.name],
                  f"were {record['hash']} when it last finished" if record else "not finished before",
                  ", ".join(step.settings) or "none")
        rate = (spent + 60) / (done_cost + 60)  # measured speed against the estimates, damped while little ran
        log.info("[%d/%d] %s -> %s (about %s left)", i, len(steps), step.name,
                 ", ".join(str(out / o) for o in step.outputs), duration(remaining * rate))
        t0 = time.time()
        summary = step.run()
        seconds = time.time() - t0
        state[step.name] = {"hash": hashes[step.name], "seconds": round(seconds, 1), "summary": summary,
                            "earlier": earlier_runs(record)}
        write_json(out / STEPS, state)
        spent += seconds
        done_cost += step.cost
        remaining -= step.cost
        log.info("[%d/%d] %s: finished in %s", i, len(steps), step.name, duration(seconds))
        log.debug("[%d/%d] %s: estimated %s, took %s; summary %s", i, len(steps), step.name, duration(step.cost),
                  duration(seconds), json.dumps(summary, default=str)[:300])
    if report is not None:
        log.info("report: %s", (out / "report.html").resolve())
    return out
