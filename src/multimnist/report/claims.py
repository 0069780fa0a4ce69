"""The study's quantitative claims, judged from loaded run results: pure functions, no file access.

Each claim pairs the study's sentence (its section in `where`, mapped sentence by sentence in docs/claims.md)
with a *criterion* (report/criteria.py) that states the claimed effect, decides the verdict from the runs'
numbers and describes in words what it compares: the report's text is rendered by the same object that
judged, so the two cannot drift. Criteria read *samples*, {label: [record, ...]} with one record per run,
built by `study_samples` from what `multimnist.report.results.load_study` read.

Verdicts (VERDICTS) are the criteria's (yes, partly, no, within noise, untestable, n/a), and two that depend on
how the data was made, shown apart and not counted: "by construction" for the figures the data was made to
match (BY_CONSTRUCTION, and each data preset's `calibrated_on` in data/config.py; none on a user's own data), and
"dependent" for a figure that follows from one of those (DEPENDS). A figure the data was calibrated to match
is "by construction" only where the check alone confirms it: a calibration target the run misses is judged and
counted like any other claim (its `why` says so).
Each claim is judged at the looks of the run's sequential design (evaluation/sequential.py, from the profile's
seeds and `max_seeds`): its row carries the look it was decided at, or "undecided at the cap", and the
configurations it compares (`Claim.configs`); `configs_needing_seeds` names those of the claims still open.
The project's own claims (`beyond`) are judged by the same rules in a table of their own, outside the tally.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from multimnist import paper
from multimnist.data.config import calibrated_on
from multimnist.evaluation.sequential import Design, more_seeds
from multimnist.formatting import MISSING
from multimnist.latent.samplers import SAMPLERS as SAMPLER_NAMES
from multimnist.report.criteria import (
    AS_ASKED,
    BEST_VAL,
    COUNT,
    DISTINCT,
    DROP,
    GAP,
    GAP_RUNNING,
    KEPT_EPOCH,
    MIN_EPOCH,
    MSE,
    OUTSIDE,
    OUTSIDE_UNIT,
    PAIR,
    PLATEAU,
    READABLE,
    RHO,
    RISE,
    TEST,
    TEST_LOSS,
    THREES,
    TRAIN,
    VAL,
    VAL_TEST_GAP,
    All,
    Count,
    Effect,
    Judgement,
    Level,
    Margin,
    NotLinear,
    NotMeasured,
    Samples,
)
from multimnist.report.criteria import judge as judge_criterion

import numpy as np

VERDICTS = ("yes", "partly", "no", "within noise", "untestable", "n/a", "by construction", "dependent")
NOT_COUNTED = ("by construction", "dependent")

# Figures true by how the data was made, whatever the networks do: claim key -> why.
BY_CONSTRUCTION = {
    "class_imbalance": "the study's class plan (data/plans/study.yaml) was solved to match these counts",
}
# The claims by family, as the README's conclusion reads them across regimes: family -> claim keys. Every claim
# is in exactly one (tests/test_claims.py checks it).
FAMILIES = {
    "the data and the unregularized network": ("class_imbalance", "unregularized_val", "unregularized_train",
                                               "unregularized_test", "val_test_gap", "optimal_after_10",
                                               "unregularized_plateau", "rare_classes", "confused_pairs"),
    "regularization": ("regularized_gain", "regularized_val", "regularized_cure", "fewer_mismatches", "pair_50_30",
                       "pair_19_17",
                       "kept_epoch", "l1_underfits", "l2", "dropout_cure", "dropout_rates", "augmentation",
                       "early_stopping"),
    "side experiments": ("depth", "sgd_he", "sgd_glorot", "adam", "best_loss", "batch", "leaky_relu"),
    "autoencoder": ("cf20_best", "not_linear", "bce_sigmoid", "latent_not_uniform", "latent_not_normal"),
    "generation": ("gaussian_better", "many_threes", "outside_1_50"),
    "beyond the study": ("better_sampler", "challenger", "early_stopping_project", "sampler_near_ceiling",
                         "numbers_on_request"),
}

# A figure that follows from a calibrated one: claim key -> (the calibrated claim, why it follows).
DEPENDS = {
    "unregularized_test": ("unregularized_val", "the data was chosen on best validation accuracy, and test "
                           "accuracy follows it closely on the calibrated presets (about 1-2 points below it on "
                           "study and faint), so a test figure near 89% follows from the calibration; the "
                           "validation-test gap is judged instead"),
    "val_test_gap": ("unregularized_test", "the data was calibrated on both test accuracy (89%) and best validation "
                     "accuracy, so their gap is the difference of two calibrated figures"),
}
# The challenger's selection history, stated beside its figures wherever they are shown (docs/notes/challenger.md).
CHALLENGER_HISTORY = ("its settings were first chosen by looking at test accuracy, then re-selected on validation "
                      "accuracy over fresh seeds (docs/notes/challenger.md)")


def by_construction(preset: str | None) -> dict[str, str]:
    """Claim key -> why it holds by construction, for data made with `preset` (each preset carries the figures it
    was calibrated on: data/config.py)."""
    return {**BY_CONSTRUCTION, **calibrated_on(preset)}


def data_construction(meta: Mapping | None) -> dict[str, str]:
    """`by_construction` for the data a study ran on, from its data/meta.json: a generated dataset's preset (and
    the class plan); nothing for a user's own files, which carry no recipe of this generator (`reproduce --data`
    keeps one only while the arrays match it): they were made to match none of the study's figures."""
    meta = meta or {}
    if meta.get("source") is not None and not meta.get("generator"):
        return {}
    made = by_construction(meta.get("preset"))
    if (meta.get("generator") or {}).get("plan", "study") != "study":
        made.pop("class_imbalance")  # another plan's counts (balanced, a plan file) were not solved to match
    return made


# --- the claims ---

@dataclass(frozen=True)
class ClaimSpec:
    key: str
    statement: str
    where: str  # the study's section or figure
    study: str  # the study's figure
    criterion: object  # a test or All (report/criteria.py)
    beyond: bool = False  # the project's own claim, not the study's
    beside: object = None  # another reading of the same sentence, shown beside the verdict, not judged
    note: str = ""  # what a reader must know beside the figures (a selection history)


@dataclass(frozen=True)
class Claim:
    key: str
    statement: str
    where: str
    study: str
    ours: str
    verdict: str
    why: str
    criterion: str
    n: dict[str, int]
    beyond: bool = False
    estimates: tuple[dict, ...] = ()  # each test's estimate, interval and claimed effect in numbers (criteria.py)
    parts: tuple[str, ...] = ()  # each test's verdict, in the order of the estimates' parts
    sequential: dict = field(default_factory=dict)  # the look it was judged at, decided or not (criteria.All)
    configs: tuple[str, ...] = ()  # the configurations it compares: what more seeds would be trained for

    @property
    def counted(self) -> bool:
        """Among the study's reproduced claims (not by construction, not dependent, not the project's own)."""
        return self.verdict not in NOT_COUNTED and not self.beyond

    def as_dict(self) -> dict:
        return asdict(self)


U = "unregularized"
POINT = 0.005  # half an accuracy point: the smallest accuracy difference of interest where the study gives none
EPOCHS_OF_INTEREST = 2  # the smallest difference in convergence epochs of interest
MSE_OF_INTEREST = 0.0003  # ~2.5% of the MSE at cf 20: a difference figure 13 could show


def _spread(row: dict) -> tuple[bool, str]:
    ratio, target = row["std"] / row["mean"], paper.CLASS_COUNTS["std"] / paper.CLASS_COUNTS["mean"]
    return abs(ratio / target - 1) <= 0.03, (f"mean {row['mean']:.0f}, std {row['std']:.0f} per class (std/mean "
                                             f"{ratio:.3f}; study {target:.3f})")


def _classifier_specs() -> list[ClaimSpec]:
    acc, pairs = paper.ACCURACY, paper.CONFUSED_PAIRS
    lo_epoch, hi_epoch = paper.CONVERGED_EPOCHS
    return [
        ClaimSpec("class_imbalance", "Training classes are imbalanced: mean ~1671, std ~1045 per class", "1, fig. 2",
                  "1671 / 1045", Count("training set", _spread, "the std/mean ratio of the training class counts "
                                                                "within 3% of the study's")),
        ClaimSpec("unregularized_val", "Unregularized network: best validation accuracy 91.5%", "3.3", "91.5%",
                  Level(U, BEST_VAL, acc[U]["val"] - 0.01, acc[U]["val"] + 0.01)),
        ClaimSpec("unregularized_train", "Without regularization the network overfits: training accuracy ~100%",
                  "3.2, fig. 6", "~100%", Level(U, TRAIN, lo=0.98)),
        ClaimSpec("unregularized_test", "Unregularized network: test accuracy 89%", "3.3", "89%",
                  Level(U, TEST, acc[U]["test"] - 0.01, acc[U]["test"] + 0.01)),
        ClaimSpec("val_test_gap", "Unregularized network: test accuracy 2.5 points below best validation (91.5 vs 89)",
                  "3.3", "2.5 points", Level(U, VAL_TEST_GAP, 0.015, 0.035)),
        ClaimSpec("optimal_after_10", "The unregularized model reached an optimal state after 10 epochs", "3.2",
                  f"epoch {paper.OPTIMAL_EPOCH}",
                  Level(U, PLATEAU, paper.OPTIMAL_EPOCH - 3, paper.OPTIMAL_EPOCH + 3)),
        ClaimSpec("unregularized_plateau", "Validation accuracy reaches its level after ~14 epochs and stays stable "
                  "till the end", "3.2, 3.3", f"epoch {paper.PLATEAU_EPOCH}; stable",
                  All((Level(U, PLATEAU, paper.PLATEAU_EPOCH - 3, paper.PLATEAU_EPOCH + 3), Level(U, DROP, hi=0.01)),
                      independent=True)),
        ClaimSpec("rare_classes", "Rare classes are confused most", "3.3, fig. 7", "qualitative",
                  Level(U, RHO, lo=0.3)),
        ClaimSpec("confused_pairs", "The unregularized network confuses 50 with 30, 19 with 17, 34 with 39",
                  "3.3, fig. 7", f">= {paper.VISIBLE_CONFUSIONS} each",
                  All(tuple(Level(f"{U} {t}->{p}", COUNT, lo=paper.VISIBLE_CONFUSIONS) for t, p in pairs),
                      independent=True)),
        ClaimSpec("regularized_gain", "Dropout 0.1 + early stopping: test 92%, +3 points over unregularized", "4.4",
                  "92% (+3)", Effect("regularized", U, TEST, acc["regularized"]["test"] - acc[U]["test"])),
        ClaimSpec("regularized_val", "Dropout 0.1 + early stopping: validation 93%, +1.5 points over unregularized",
                  "4.4", "93% (+1.5)", Effect("regularized", U, BEST_VAL, acc["regularized"]["val"] - acc[U]["val"])),
        ClaimSpec("regularized_cure", "Regularization removes the overfitting: train 94% vs validation 93%", "4.4",
                  "gap 1 point", Level("regularized", GAP_RUNNING, hi=0.02),
                  beside=Level("regularized", GAP, hi=0.02)),
        ClaimSpec("fewer_mismatches", "The regularized network's mismatches have lower intensity (fewer errors in "
                  "its confusion matrix)", "4.4, fig. 11", "fewer mismatches",
                  Effect("regularized", U, TEST, POINT, "at least")),
        *(ClaimSpec(f"pair_{t}_{p}", f"Regularization cuts the confusion {t}->{p} ({100 * cut:+.0f}%)",
                    "4.4, fig. 11", f"{100 * cut:+.0f}%",
                    Effect(f"regularized {t}->{p}", f"{U} {t}->{p}", COUNT, cut, relative=True))
          for (t, p), cut in paper.CUT_PAIRS.items()),
        ClaimSpec("kept_epoch", "Early stopping converged after 15-20 epochs and restored the 20th epoch's weights",
                  "4.2.4", f"{lo_epoch}-{hi_epoch}", Level("regularized", KEPT_EPOCH, lo_epoch, hi_epoch)),
        ClaimSpec("l1_underfits", "L1 underfits even with low factors (1e-3 to 1e-5): lower accuracy than no "
                  "regularization", "4.2.2", "underfits",
                  All(tuple(Effect(n, U, TEST, -2 * POINT, "at least") for n in ("l1_1e-3", "l1_1e-4", "l1_1e-5")))),
        ClaimSpec("l2", "L2 1e-5 does better than L1, like L2 1e-4 with a 10x learning rate, but is outperformed in "
                  "accuracy by no L2", "4.2.2", "better than L1; ~ 1e-4 lr 1e-2; worse than none",
                  All((Effect("l2_1e-5", "l1_1e-5", TEST, POINT, "at least"),
                       Margin("l2_1e-5", "l2_1e-4_lr1e-2", TEST, POINT),
                       Effect("l2_1e-5", U, TEST, -POINT, "at least")), independent=True)),
        ClaimSpec("dropout_cure", "Dropout cuts the overfitting without losing too much accuracy", "4.2.3",
                  "smaller gap, ~ same accuracy",
                  All((Effect("dropout_0.1", U, GAP, -2 * POINT, "at least"),
                       Margin("dropout_0.1", U, TEST, 2 * POINT, "not worse")), independent=True)),
        ClaimSpec("dropout_rates", "Dropout 0.1 beats higher dropout rates", "4.2.3", "0.1 best",
                  All(tuple(Effect("dropout_0.1", n, TEST, POINT, "at least")
                            for n in ("dropout_0.2", "dropout_0.3")))),
        ClaimSpec("augmentation", "Class-rebalancing augmentation lowers accuracy to 86% (noise: loss >= 0.6); "
                  "rotation alone does not make it worse", "4.2.1", "86% (-3); loss >= 0.6; rotation ~ same",
                  All((Effect("aug_noise", U, TEST, paper.AUGMENTED_ACCURACY - acc[U]["test"]),
                       Effect("aug_shift", U, TEST, paper.AUGMENTED_ACCURACY - acc[U]["test"]),
                       Level("aug_noise", TEST_LOSS, lo=paper.NOISE_LOSS),
                       Margin("aug_rotation", U, TEST, POINT, "not worse")), independent=True)),
        ClaimSpec("early_stopping", "Early stopping is a game changer: it greatly reduces the overfitting", "4.2.4",
                  "gap cut", Effect("early_stopping", U, GAP, -2 * POINT, "at least")),
        ClaimSpec("depth", "2 hidden layers generalize better than 3-5", "3.1", "2 best",
                  All(tuple(Effect("depth-2", f"depth-{k}", TEST, POINT, "at least") for k in (3, 4, 5)))),
        ClaimSpec("sgd_he", "SGD with HeNormal cannot converge at all", "3.2", "does not converge",
                  Level("sgd-he_normal", TEST, hi=0.10)),
        ClaimSpec("sgd_glorot", "SGD performs well with GlorotNormal, but not as well as RMSprop and Adam with "
                  "HeNormal", "3.2", "SGD+Glorot > SGD+He; < RMSprop/Adam+He",
                  All((Effect("sgd-glorot_normal", "sgd-he_normal", TEST, 2 * POINT, "at least"),
                       Effect("adam-he_normal", "sgd-glorot_normal", TEST, POINT, "at least"),
                       Effect("rmsprop-he_normal", "sgd-glorot_normal", TEST, POINT, "at least")), independent=True)),
        ClaimSpec("adam", "Adam converges faster and gives better accuracy (than RMSprop, both HeNormal)", "3.2",
                  "faster, better",
                  All((Effect("adam-he_normal", "rmsprop-he_normal", TEST, POINT, "at least"),
                       Effect("adam-he_normal", "rmsprop-he_normal", PLATEAU, -EPOCHS_OF_INTEREST, "at least")),
                      independent=True)),
        ClaimSpec("best_loss", "The best loss function (for 50 classes) is categorical cross-entropy", "3.2",
                  "categorical cross-entropy", NotMeasured(
                      "every classifier is trained with categorical cross-entropy: no run trains another loss")),
        ClaimSpec("batch", "Batch 256 gives the best results; 512 is another good choice but converges slower; batch "
                  "8 still reaches 89% validation accuracy", "3.2", "256 best; 512 close, slower; 8: 89% val",
                  All((All(tuple(Effect("batch-256", f"batch-{b}", TEST, POINT, "at least")
                                 for b in (8, 32, 128, 512))),
                       Margin("batch-512", "batch-256", TEST, 2 * POINT, "not worse"),
                       Effect("batch-512", "batch-256", PLATEAU, EPOCHS_OF_INTEREST, "at least"),
                       Level("batch-8", BEST_VAL, lo=paper.BATCH_8_VAL - 0.01)), independent=True)),
        ClaimSpec("leaky_relu", "LeakyReLU(0.01) diverges where sigmoid does not: validation loss grows after ~15 "
                  "epochs", "3.1", "diverges",
                  All((Effect("activation-leaky_relu", "activation-sigmoid", RISE, 0.10, "at least"),
                       Level("activation-leaky_relu", MIN_EPOCH, paper.LEAKY_RISE_EPOCH - 5,
                             paper.LEAKY_RISE_EPOCH + 5)),
                      independent=True)),
    ]


def _autoencoder_specs(factors: Sequence[int]) -> list[ClaimSpec]:
    cf = tuple(f"cf {f}" for f in sorted(factors))
    best = f"cf {paper.BEST_FACTOR}"
    others = tuple(c for c in cf if c != best)
    return [
        ClaimSpec("cf20_best", "The best compression factor is 20 (latent size 54)", "5.1, fig. 13", "20",
                  All(tuple(Effect(best, c, MSE, -MSE_OF_INTEREST, "at least") for c in others))
                  if best in cf and others else _Missing(f"{best} and another factor")),
        ClaimSpec("not_linear", "MSE does not follow the compression factor linearly", "5.1, fig. 13", "not linear",
                  NotLinear(cf, MSE, MSE_OF_INTEREST) if len(cf) > 2 else _Missing("three compression factors")),
        ClaimSpec("bce_sigmoid", "Binary cross-entropy suits the sigmoid output better (it avoids the sigmoid's "
                  "exponential effects)", "5.2", "BCE better", NotMeasured(
                      "every autoencoder is trained with binary cross-entropy on a sigmoid output: no run trains "
                      "another loss to compare with (the runs record test BCE and MSE of the one loss)")),
        ClaimSpec("latent_not_uniform", "The latent distribution is far from uniform on [0, 1]", "5.4, fig. 18",
                  "far from uniform", Level(best, OUTSIDE_UNIT, lo=0.2)),
        ClaimSpec("latent_not_normal", "Each latent column is probably not normally distributed", "5.4",
                  "probably not normal", NotMeasured(
                      "the runs record no per-column distribution of the encodings (only the share outside [0, 1]): "
                      "a normality test per column would need the encodings, which the report does not read")),
        ClaimSpec("gaussian_better", "Per-dimension Gaussian sampling (Algorithm 2) gives sharper, more diverse "
                  "samples than uniform", "5.4, figs. 17, 19", "sharper, more diverse",
                  All((Effect("gaussian", "uniform", READABLE, 0.05, "at least"),
                       Effect("gaussian", "uniform", DISTINCT, 2.0, "at least")), independent=True)),
        ClaimSpec("many_threes", "Algorithm 2's samples show many 3s", "5.4, fig. 19", "many 3s",
                  Effect("gaussian", "real", THREES, 0.05, "at least")),
        ClaimSpec("outside_1_50", "The decoder also draws numbers outside 1..50 (a '98'), beyond what its own "
                  "reconstructions show", "5.4, fig. 19", "a 98 appears",
                  Effect("gaussian", "reconstruction", OUTSIDE, 0.02, "at least")),
    ]


# The samplers the project's generation claims name, declared before the paper runs and chosen on an autoencoder
# trained for the choice and used for nothing else (study preset, seed 100; docs/generation.md), by a rule fixed
# before scoring: the highest readable share whose Frechet distance is at most twice the reconstructions' (the
# sampler, and class-diffusion's guidance, latent/samplers.py GUIDANCE).
BEST_SAMPLER = "class-diffusion"
BEST_CONDITIONAL = "class-diffusion"
CEILING = 0.10  # "at least 90% of the reconstructions'": the margin, a share of the reconstructions' figure
SELECTION = ("the sampler and its guidance were chosen on an autoencoder trained for the choice (study preset, "
             "seed 100) and used for nothing else (docs/generation.md)")


def _beyond_specs() -> list[ClaimSpec]:
    return [
        ClaimSpec("better_sampler", "A Gaussian mixture sampler reads better than Algorithm 2", "—", "—",
                  Effect("gmm", "gaussian", READABLE, 0.05, "at least"), beyond=True),
        ClaimSpec("challenger", "A recipe under 100k parameters beats the study's regularized network", "—", "—",
                  Effect("challenger", "regularized", TEST, 2 * POINT, "at least"), beyond=True,
                  note=CHALLENGER_HISTORY),
        ClaimSpec("early_stopping_project", "Early stopping cuts the overfitting by at least half without losing "
                  "validation accuracy (the project's reading of 'game changer', not the study's words)", "4.2.4",
                  "—", All((Effect("early_stopping", U, GAP, -0.5, "at least", relative=True),
                            Margin("early_stopping", U, VAL, POINT, "not worse")), independent=True), beyond=True),
        ClaimSpec("sampler_near_ceiling", f"The best sampler ({BEST_SAMPLER}) reads at least {1 - CEILING:.0%} as "
                  "often as the decoder's own reconstructions", "—", "—",
                  Margin(BEST_SAMPLER, "reconstruction", READABLE, CEILING, "not worse", relative=True), beyond=True,
                  note=SELECTION),
        ClaimSpec("numbers_on_request", f"Conditional samples ({BEST_CONDITIONAL}) read as the number asked at least "
                  f"{1 - CEILING:.0%} as often as reconstructions read as their own number", "—", "—",
                  Margin(BEST_CONDITIONAL, "reconstruction", AS_ASKED, CEILING, "not worse", relative=True),
                  beyond=True, note=SELECTION),
    ]


def claim_specs(factors: Sequence[int] = paper.COMPRESSION_FACTORS) -> list[ClaimSpec]:
    """Every claim, the study's in the study's order, then the project's own; `factors`: those that ran."""
    return _classifier_specs() + _autoencoder_specs(factors) + _beyond_specs()


@dataclass(frozen=True)
class _Missing:
    """A criterion whose configurations the profile does not have at all (say, no cf 20 in the sweep)."""

    what: str

    def describe(self) -> str:
        return f"needs {self.what} in the run"

    def judge(self, samples: Samples) -> Judgement:
        return Judgement("n/a", MISSING, f"not run: {self.what}")


def judge(spec: ClaimSpec, samples: Samples, construction: Mapping[str, str], design: Design | None = None) -> Claim:
    """One claim's row, judged at the looks of `design` (None: one look at the seeds at hand). A figure the data
    was calibrated on is by construction where the check alone confirms it, and judged and counted where it
    does not (a missed calibration target); a figure following from a calibrated one is dependent."""
    j = (spec.criterion.judge(samples) if isinstance(spec.criterion, (_Missing, NotMeasured))
         else judge_criterion(spec.criterion, samples, design))
    verdict, why, ours = j.verdict, j.why, j.ours
    alone = f"not counted (the check alone: {j.verdict}; {why})"
    if verdict != "n/a":
        if spec.key in construction and verdict == "yes":
            verdict, why = "by construction", f"{construction[spec.key]}; {alone}"
        elif spec.key in construction:
            what = ("a missed calibration target" if verdict == "no"
                    else "a calibration target this run does not confirm")
            why = f"{what}, judged and counted: {construction[spec.key]}; {why}"
        elif spec.key in DEPENDS and DEPENDS[spec.key][0] in construction:
            verdict, why = "dependent", f"{DEPENDS[spec.key][1]}; {alone}"
    if spec.beside is not None:
        other = judge_criterion(spec.beside, samples, design)
        ours += f"; beside it (not judged), {spec.beside.q.name}: {other.ours} ({other.verdict} by itself)"
    if spec.note:
        ours += f" [{spec.note}]"
    configs = tuple(dict.fromkeys(c for c in map(config_of, _labels(spec.criterion)) if c))
    return Claim(spec.key, spec.statement, spec.where, spec.study, ours, verdict, why,
                 spec.criterion.describe(), j.n, spec.beyond, j.estimates, j.parts, j.sequential, configs)


def _labels(criterion) -> tuple[str, ...]:
    return criterion.labels() if hasattr(criterion, "labels") else ()


# generated-image rows (every sampler, real images, reconstructions): one per autoencoder seed
SAMPLERS = (*SAMPLER_NAMES, "real", "reconstruction")


def config_of(label: str) -> str | None:
    """The configuration a criterion's label reads its seeds from: a classifier config or sweep point by its name
    ('unregularized', 'depth-2'), its confusion counts by the same ('unregularized 50->30' -> 'unregularized'), a
    compression point as 'cf-20', a sampler's scores as the final autoencoder whose seeds they follow
    ('autoencoder'); None for the data's own figures (the training set), which have no seeds."""
    if label == "training set":
        return None
    if "->" in label:
        return label.rsplit(" ", 1)[0]
    if label.startswith("cf "):
        return f"cf-{label[3:]}"
    return "autoencoder" if label in SAMPLERS else label


def study_design(loaded: dict) -> Design | None:
    """The run's sequential design from its profile: looks from the profile's seeds up to `max_seeds`
    (evaluation/sequential.py); None (one look at the seeds at hand) without `max_seeds` above the seeds."""
    profile = (loaded.get("profile") or {}).get("profile") or {}
    seeds, cap = profile.get("seeds") or (), profile.get("max_seeds")
    if not cap or len(seeds) >= cap:
        return None
    return Design.up_to(max(len(seeds), 1), int(cap), spending=profile.get("spending") or "pocock")


def study_claims(loaded: dict) -> list[Claim]:
    """Every claim judged on what `load_study` read from a reproduce folder, at its design's looks."""
    factors = study_factors(loaded)
    construction = data_construction(loaded.get("meta"))
    samples = study_samples(loaded)
    design = study_design(loaded)
    return [judge(spec, samples, construction, design) for spec in claim_specs(factors)]


def configs_needing_seeds(claims: Sequence[Claim]) -> list[str]:
    """The configurations to train more seeds of before the next look: those compared by every claim still open
    (undecided and not at the design's cap), each once. For the pipeline that trains them (one pack per
    configuration) and judges again; a claim decided at a look keeps its verdict (evaluation/sequential.py)."""
    open_claims = [c.key for c in claims if str(c.sequential.get("status", "")).startswith("open")]
    return more_seeds(open_claims, {c.key: c.configs for c in claims})


def study_factors(loaded: dict) -> list[int]:
    """The compression factors the profile asked for (those that ran, without a profile)."""
    profile = (loaded.get("profile") or {}).get("profile") or {}
    return sorted(int(f) for f in profile.get("factors") or loaded.get("compression") or paper.COMPRESSION_FACTORS)


def verdict_counts(claims: Sequence[Claim]) -> dict[str, int]:
    """How many of the study's claims got each verdict (the project's own claims are not among them)."""
    return {v: sum(c.verdict == v and not c.beyond for c in claims) for v in VERDICTS}


def counts_text(counts: Mapping[str, int]) -> str:
    """'28 of the study's claims checked: yes 2, ...; not counted: 3 by construction, 1 dependent (...)'."""
    checked = {v: counts.get(v, 0) for v in VERDICTS if v not in NOT_COUNTED}
    return (f"{sum(checked.values())} of the study's claims checked: "
            + ", ".join(f"{v} {n}" for v, n in checked.items())
            + f"; not counted: {counts.get('by construction', 0)} by construction, {counts.get('dependent', 0)} "
              "dependent (following from a calibrated figure)")


# --- samples from loaded results ---

def study_samples(loaded: dict) -> dict[str, list[dict]]:
    """{label: records} for every criterion above, from `load_study`'s dict: classifier runs by config name (with
    their curves' readings and the validation-test gap), compression runs as 'cf F', per-seed pair counts as
    'NAME T->P', the class statistics as 'training set', and one generation row per autoencoder seed by sampler."""
    samples: dict[str, list[dict]] = {}
    curves = loaded.get("curves") or {}
    for group, runs in (loaded.get("runs") or {}).items():
        readings = [curve_readings(c) for c in curves.get(group, [])] or [{}] * len(runs)
        samples[group.rsplit("/", 1)[-1]] = [{**m, **r, **_val_test_gap(m), **_running_gap(m, c)}
                                             for m, r, c in zip(runs, readings, curves.get(group) or [{}] * len(runs),
                                                                strict=False)]
    for f, runs in (loaded.get("compression") or {}).items():
        samples[f"cf {f}"] = list(runs)
    for name in (U, "regularized"):
        for true, pred in paper.CONFUSED_PAIRS:
            samples[f"{name} {true}->{pred}"] = [
                {"count": c} for c in pair_counts((loaded.get("confusions") or {}).get(f"classifiers/{name}", []),
                                                  true, pred)]
    stats = (loaded.get("stats") or {}).get("train")
    if stats:
        samples["training set"] = [stats]
    samples.update(generation_samples(loaded.get("generation")))
    return samples


def _running_gap(m: dict, curves: Mapping | None = None) -> dict:
    """The train - validation gap as the study's Keras logged it: `fit`'s running training-mode accuracy over the
    kept epoch's batches (dropout on) minus the kept weights' validation accuracy. The running accuracy is
    metrics.json's `train_accuracy_running`, or for a run written before it, history.csv's `accuracy` at the kept
    epoch."""
    tr, v = m.get("train_accuracy_running"), m.get("val_accuracy")
    running, kept = (curves or {}).get("accuracy") or [], m.get("best_epoch")
    if tr is None and isinstance(kept, int) and 0 < kept <= len(running):
        tr = running[kept - 1]
    return {"train_val_gap_running": tr - v} if isinstance(tr, (int, float)) and isinstance(v, (int, float)) else {}


def _val_test_gap(m: dict) -> dict:
    bv, t = m.get("best_val_accuracy"), m.get("test_accuracy")
    return {"val_test_gap": bv - t} if isinstance(bv, (int, float)) and isinstance(t, (int, float)) else {}


def curve_readings(history: Mapping[str, Sequence[float]]) -> dict:
    """What the claims read from a run's per-epoch curves (epochs 1-based): when validation accuracy first comes
    within 1 point of its best and how far it falls below its best from then on, and the epoch of minimum
    validation loss with how far the last one rose above it."""
    out = {}
    va = np.asarray(history.get("val_accuracy") or [], dtype=float)
    if len(va) and np.isfinite(va).all():
        best = va.max()
        plateau = int(np.argmax(va >= best - 0.01))
        out.update(plateau_epoch=plateau + 1, val_drop_after_plateau=float(best - va[plateau:].min()))
    vl = np.asarray(history.get("val_loss") or [], dtype=float)
    if len(vl) and np.isfinite(vl).any():
        low = int(np.nanargmin(vl))
        out.update(val_loss_min_epoch=low + 1, val_loss_rise=float(vl[-1] / vl[low] - 1))
    return out


def pair_counts(confusions: Sequence[dict], true: int, pred: int) -> list[int]:
    """Each run's test count of `true` read as `pred` (runs whose classes lack either are skipped)."""
    out = []
    for cm in confusions:
        classes = list(cm["classes"])
        if true in classes and pred in classes:
            out.append(int(cm["matrix"][classes.index(true)][classes.index(pred)]))
    return out


def digit_share(histogram: Sequence[int], digit: int) -> float | None:
    """The share of read digits (tens and units of every confidently read number 00..99) equal to `digit`."""
    h = np.asarray(histogram, dtype=float)
    if len(h) != 100 or not h.sum():
        return None
    numbers = np.arange(100)
    hits = h[numbers // 10 == digit].sum() + h[numbers % 10 == digit].sum()
    return float(hits / (2 * h.sum()))


def generation_samples(seeds: Sequence[dict] | None) -> dict[str, list[dict]]:
    """One record per autoencoder seed for every scored image set (samplers, reconstructions, real images):
    its row of scores.json plus the share of 3s among its read digits, paired by the autoencoder seed (PAIR:
    image sets scored on one autoencoder are compared seed by seed)."""
    out: dict[str, list[dict]] = {}
    for scores in seeds or []:
        histograms = scores.get("histograms") or {}
        for row in scores["rows"]:
            threes = digit_share(histograms.get(row["sampler"], []), 3)
            out.setdefault(row["sampler"], []).append({**row, "digit_3_share": threes,
                                                       PAIR: scores.get("autoencoder_seed")})
    return out
