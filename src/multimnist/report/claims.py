"""The study's quantitative claims, judged from loaded run results: pure functions, no file access.

Each claim pairs the study's statement with a *criterion* (report/criteria.py), an object that both decides
the verdict from the runs' numbers and describes, in words, how it decides: the text in the report is rendered
by the same object that judged, so the two cannot drift. Criteria read *samples*: {label: [record, ...]}, one
record per run, built by `study_samples` from what `multimnist.report.results.load_study` read.

Verdicts (VERDICTS): yes, partly, no; "within noise" when the runs cannot tell (fewer than MIN_SEEDS seeds on
a side, or a test that does not reject at ALPHA); n/a when the runs a claim needs did not run; "by
construction" for the figures the data was made to match (BY_CONSTRUCTION, CALIBRATED_ON), which are shown
apart and not counted among the reproduced claims.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from multimnist.formatting import MISSING
from multimnist.report.criteria import (
    BEST_VAL,
    COUNT,
    MIN_EPOCH,
    MSE,
    OUTSIDE_UNIT,
    RHO,
    RISE,
    TEST,
    TRAIN,
    All,
    ClassSpread,
    Criterion,
    Cure,
    Differs,
    DiversityHigher,
    InRange,
    IntervalAboveRate,
    Judgement,
    NotMonotone,
    Rank,
    Samples,
    ShareHigher,
)

import numpy as np

VERDICTS = ("yes", "partly", "no", "within noise", "n/a", "by construction")

# Figures true by how the data was made, whatever the networks do: claim key -> why.
BY_CONSTRUCTION = {
    "class_imbalance": "the study's class plan (data/plans/study.yaml) was solved to match these counts",
}
# The figures each data preset was calibrated on (src/multimnist/data/presets.py, docs/calibration.md):
# data/meta.json's "preset" -> {claim key: why}. A preset not named here was calibrated on none of them.
CALIBRATED_ON: dict[str, dict[str, str]] = {
    "faint": {
        "unregularized_test": "the 'faint' preset was calibrated to put this test accuracy at 89% "
                              "(docs/calibration.md, first calibration)",
        "unregularized_val": "the 'faint' preset was calibrated on this network's accuracy, best validation "
                             "included (docs/calibration.md, first calibration)",
    },
    "study": {
        "unregularized_val": "the 'study' preset was chosen on best validation accuracy 91.5 ± 1 "
                             "(evaluation/fidelity.py, docs/calibration.md); its test accuracy was never used",
        "unregularized_train": "the 'study' preset was chosen on training accuracy >= 99% at epoch 50 "
                               "(evaluation/fidelity.py, docs/calibration.md)",
    },
}
STUDY_FACTORS = tuple(range(20, 31))  # the compression factors of the study's sweep (figure 13)


def by_construction(preset: str | None) -> dict[str, str]:
    """Claim key -> why it holds by construction, for data made with `preset`."""
    return {**BY_CONSTRUCTION, **CALIBRATED_ON.get(preset or "", {})}


# --- the claims ---

@dataclass(frozen=True)
class ClaimSpec:
    key: str
    statement: str
    where: str  # the study's section or figure
    study: str  # the study's figure
    criterion: Criterion


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

    @property
    def counted(self) -> bool:
        """Among the reproduced claims (the by-construction ones are not)."""
        return self.verdict != "by construction"

    def as_dict(self) -> dict:
        return asdict(self)


def claim_specs(factors: Sequence[int] = STUDY_FACTORS) -> list[ClaimSpec]:
    """Every claim of the study, in the study's order; `factors`: the compression factors that ran."""
    cf = tuple(f"cf {f}" for f in sorted(factors))
    u = "unregularized"
    return [
        ClaimSpec("class_imbalance", "Training classes are imbalanced: mean ~1671, std ~1045 per class",
                  "1, fig. 2", "1671 / 1045", ClassSpread(1671, 1045)),
        ClaimSpec("unregularized_test", "Unregularized network: test accuracy 89%", "3.3", "89%",
                  InRange(u, TEST, 0.865, 0.915)),
        ClaimSpec("unregularized_val", "Unregularized network: best validation accuracy 91.5%", "3.3", "91.5%",
                  InRange(u, BEST_VAL, 0.89, 0.94)),
        ClaimSpec("unregularized_train", "Without regularization the network overfits: training accuracy ~100%",
                  "3.2, fig. 6", "~100%", InRange(u, TRAIN, lo=0.98, partly_lo=0.95)),
        ClaimSpec("regularized_gain", "Dropout 0.1 + early stopping: test 92%, +3 points over unregularized", "4.4",
                  "92% (+3)", Differs("regularized", u, TEST, +1, at_least=0.015)),
        ClaimSpec("regularized_cure", "Regularization removes the overfitting: train 94% vs validation 93%", "4.4",
                  "gap 1 point", Cure("regularized", u, max_gap=0.02)),
        ClaimSpec("rare_classes", "Rare classes are confused most", "3.3, fig. 7", "qualitative",
                  InRange(u, RHO, lo=0.3, partly_lo=0.0)),
        ClaimSpec("pair_50_30", "Regularization cuts the confusion 50->30 (-28%)", "4.4, fig. 11", "-28%",
                  Differs("regularized 50->30", "unregularized 50->30", COUNT, -1, base_zero_na=True)),
        ClaimSpec("pair_19_17", "Regularization cuts the confusion 19->17 (-70%)", "4.4, fig. 11", "-70%",
                  Differs("regularized 19->17", "unregularized 19->17", COUNT, -1, base_zero_na=True)),
        ClaimSpec("l1_underfits", "L1 (1e-3 to 1e-5) underfits: lower accuracy than no regularization", "4.2.2",
                  "underfits", All(tuple(Differs(n, u, TEST, -1) for n in ("l1_1e-3", "l1_1e-4", "l1_1e-5")))),
        ClaimSpec("l2_worse", "L2 1e-5 is outperformed in accuracy by the model without it", "4.2.2", "worse",
                  Differs("l2_1e-5", u, TEST, -1)),
        ClaimSpec("dropout_rates", "Dropout 0.1 beats higher dropout rates", "4.2.3", "0.1 best",
                  Rank(("dropout_0.1", "dropout_0.2", "dropout_0.3"), "dropout_0.1", TEST)),
        ClaimSpec("augmentation", "Class-rebalancing augmentation lowers accuracy (to 86%); rotation hurts least",
                  "4.2.1", "86%; rotation ~ no change",
                  All((Differs("aug_noise", u, TEST, -1), Differs("aug_shift", u, TEST, -1),
                       Rank(("aug_noise", "aug_shift", "aug_rotation"), "aug_rotation", TEST)))),
        ClaimSpec("early_stopping", "Early stopping greatly reduces the overfitting", "4.2.4",
                  "converged at 15-20 epochs", Cure("early_stopping", u, max_ratio=0.5)),
        ClaimSpec("depth", "2 hidden layers generalize better than 3-5", "3.1", "2 best",
                  Rank(("depth-2", "depth-3", "depth-4", "depth-5"), "depth-2", TEST)),
        ClaimSpec("optimizer", "SGD+HeNormal cannot converge; RMSprop/Adam+HeNormal beat SGD+GlorotNormal", "3.2",
                  "SGD+He fails",
                  All((InRange("sgd-he_normal", TEST, hi=0.5), Differs("adam-he_normal", "sgd-glorot_normal", TEST, +1),
                       Differs("rmsprop-he_normal", "sgd-glorot_normal", TEST, +1)))),
        ClaimSpec("batch", "Batch 256 gives the best results; batch 8 still reaches 89% validation accuracy", "3.2",
                  "256 best; 8: 89% val",
                  All((Rank(tuple(f"batch-{b}" for b in (8, 32, 128, 256, 512)), "batch-256", TEST),
                       InRange("batch-8", BEST_VAL, lo=0.87)))),
        ClaimSpec("leaky_relu", "LeakyReLU(0.01) diverges: validation loss grows after ~15 epochs", "3.1",
                  "diverges", All((InRange("activation-leaky_relu", RISE, lo=0.10),
                                   InRange("activation-leaky_relu", MIN_EPOCH, hi=25)))),
        ClaimSpec("cf20_best", "The best compression factor is 20 (latent size 54)", "5.1, fig. 13", "20",
                  Rank(cf, "cf 20", MSE, higher_better=False) if "cf 20" in cf and len(cf) > 1 else _Missing("cf 20")),
        ClaimSpec("not_monotone", "MSE does not follow the compression factor monotonically", "5.1, fig. 13",
                  "not monotone", NotMonotone(cf, MSE) if len(cf) > 1 else _Missing("two compression factors")),
        ClaimSpec("latent_not_uniform", "The latent distribution is far from uniform on [0, 1]", "5.4, fig. 18",
                  "far from uniform", InRange("cf 20", OUTSIDE_UNIT, lo=0.2, partly_lo=0.05)),
        ClaimSpec("gaussian_better", "Per-dimension Gaussian sampling (Algorithm 2) gives sharper, more diverse "
                  "samples than uniform", "5.4, figs. 17, 19", "better",
                  All((ShareHigher("gaussian", "uniform"), DiversityHigher("gaussian", "uniform")))),
        ClaimSpec("outside_1_50", "The decoder also draws numbers outside 1..50 (a '98')", "5.4, fig. 19",
                  "a 98 appears", IntervalAboveRate("gaussian", "real", "outside_1_50_share", "outside_1_50_ci",
                                                    "share of readable images read outside 1..50")),
        ClaimSpec("better_sampler", "(beyond the study) Another sampler reads better than Algorithm 2", "—", "—",
                  ShareHigher("best other sampler", "gaussian")),
    ]


@dataclass(frozen=True)
class _Missing:
    """A criterion whose configurations the profile does not have at all (say, no cf 20 in the sweep)."""

    what: str

    def describe(self) -> str:
        return f"needs {self.what} in the run"

    def judge(self, samples: Samples) -> Judgement:
        return Judgement("n/a", MISSING, f"not run: {self.what}")


def judge(spec: ClaimSpec, samples: Samples, construction: Mapping[str, str]) -> Claim:
    """One claim's row; a by-construction claim keeps what its criterion alone says, in `why`."""
    j = spec.criterion.judge(samples)
    verdict, why = j.verdict, j.why
    if spec.key in construction and verdict != "n/a":
        verdict, why = "by construction", f"{construction[spec.key]}; not counted (the check alone: {j.verdict}, {why})"
    return Claim(spec.key, spec.statement, spec.where, spec.study, j.ours, verdict, why,
                 spec.criterion.describe(), j.n)


def study_claims(loaded: dict) -> list[Claim]:
    """Every claim judged on what `load_study` read from a reproduce folder."""
    factors = study_factors(loaded)
    construction = by_construction((loaded.get("meta") or {}).get("preset"))
    samples = study_samples(loaded)
    return [judge(spec, samples, construction) for spec in claim_specs(factors)]


def study_factors(loaded: dict) -> list[int]:
    """The compression factors the profile asked for (those that ran, without a profile)."""
    profile = (loaded.get("profile") or {}).get("profile") or {}
    return sorted(int(f) for f in profile.get("factors") or loaded.get("compression") or STUDY_FACTORS)


def verdict_counts(claims: Sequence[Claim]) -> dict[str, int]:
    return {v: sum(c.verdict == v for c in claims) for v in VERDICTS}


def counts_text(counts: Mapping[str, int]) -> str:
    """'21 claims checked: yes 2, partly 1, ...; 3 more hold by construction (not counted)' from verdict_counts."""
    checked = {v: counts.get(v, 0) for v in VERDICTS if v != "by construction"}
    return (f"{sum(checked.values())} claims checked: " + ", ".join(f"{v} {n}" for v, n in checked.items())
            + f"; {counts.get('by construction', 0)} more hold by construction (not counted)")


# --- samples from loaded results ---

CUT_PAIRS = ((50, 30), (19, 17))  # the confusions section 4.4 says regularization cut


def study_samples(loaded: dict) -> dict[str, list[dict]]:
    """{label: records} for every criterion above, from `load_study`'s dict: classifier runs by config name,
    compression runs as 'cf F', per-seed pair counts, the activation sweep's curve readings, generation rows."""
    samples: dict[str, list[dict]] = {}
    for group, runs in (loaded.get("runs") or {}).items():
        samples[group.rsplit("/", 1)[-1]] = list(runs)
    for group, curves in (loaded.get("curves") or {}).items():
        name = group.rsplit("/", 1)[-1]
        samples[name] = [{**m, **curve_readings(c)} for m, c in zip(samples.get(name, []), curves, strict=False)]
    for f, runs in (loaded.get("compression") or {}).items():
        samples[f"cf {f}"] = list(runs)
    for name in ("unregularized", "regularized"):
        for true, pred in CUT_PAIRS:
            samples[f"{name} {true}->{pred}"] = [
                {"count": c} for c in pair_counts((loaded.get("confusions") or {}).get(f"classifiers/{name}", []),
                                                  true, pred)]
    stats = (loaded.get("stats") or {}).get("train")
    if stats:
        samples["training set"] = [stats]
    samples.update(generation_samples(loaded.get("generation")))
    return samples


def curve_readings(val_loss: Sequence[float]) -> dict:
    """The epoch of minimum validation loss (1-based) and how far the last one rose above it."""
    vl = np.asarray(val_loss, dtype=float)
    if not len(vl) or not np.isfinite(vl).any():
        return {}
    low = int(np.nanargmin(vl))
    return {"val_loss_min_epoch": low + 1, "val_loss_rise": float(vl[-1] / vl[low] - 1)}


def pair_counts(confusions: Sequence[dict], true: int, pred: int) -> list[int]:
    """Each run's test count of `true` read as `pred` (runs whose classes lack either are skipped)."""
    out = []
    for cm in confusions:
        classes = list(cm["classes"])
        if true in classes and pred in classes:
            out.append(int(cm["matrix"][classes.index(true)][classes.index(pred)]))
    return out


def generation_samples(scores: dict | None) -> dict[str, list[dict]]:
    """The generation rows by sampler name, the recorded comparisons, and 'best other sampler': the one beyond
    the study's two (uniform, gaussian) with the highest readable share."""
    if not scores:
        return {}
    rows = {r["sampler"]: r for r in scores["rows"]}
    out = {name: [r] for name, r in rows.items()}
    out["comparisons"] = list(scores.get("comparisons") or [])
    others = [r for r in scores["rows"] if r["kind"] == "sampler" and r["sampler"] not in ("uniform", "gaussian")]
    if others:
        out["best other sampler"] = [max(others, key=lambda r: r["readable_share"])]
    return out
