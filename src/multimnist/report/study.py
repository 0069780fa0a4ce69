"""The study report's content: read a `multimnist reproduce` folder and lay out its sections like the study,
ours beside the study's numbers, ending with a table of the study's quantitative claims and whether our
runs support each. Nothing here trains: it only reads files the steps wrote.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from multimnist.files import write_text
from multimnist.formatting import change, mean_std, pct, pm
from multimnist.layout import HISTORY, read_history, read_json
from multimnist.report.html import Figure, Section, Table, relative, render_html, render_markdown

import numpy as np

STUDY_COUNTS = {"mean": 1671, "std": 1045, 43: 117, 17: 130, 11: 3112, 19: 2890}


@dataclass
class Claim:
    statement: str
    where: str  # the study's section or figure
    study: str
    ours: str
    verdict: str  # yes, partly, no, n/a
    how: str = ""  # how we decided


def write_report(run_dir: str | Path) -> Path:
    """Collect the study's results under `run_dir` and write report.html and report.md there."""
    run_dir = Path(run_dir)
    title, subtitle, sections = collect_sections(run_dir)
    for s in sections:
        s.figures = [f for f in s.figures if (run_dir / f.path).is_file()]
    write_text(run_dir / "report.md", render_markdown(title, subtitle, sections))
    html = run_dir / "report.html"
    write_text(html, render_html(title, subtitle, sections))
    return html


def collect_sections(run: Path) -> tuple[str, str, list[Section]]:
    profile = _json(run / "profile.json") or {}
    name = profile.get("profile", {}).get("name", "?")
    subtitle = (f"Reproduction of D. Bertoldi, 'Regularization techniques and Autoencoder on Multi-MNIST', made by "
                f"multimnist {profile.get('multimnist_version', '?')} with the '{name}' profile. Our numbers are "
                "mean ± std over seeds where several seeds ran; the study's are single runs.")
    r = _Results(run)
    sections = [
        _data_section(r), _unregularized_section(r), _regularization_section(r), _side_section(r),
        _challenger_section(r), _autoencoder_section(r), _generation_section(r), _regimes_section(r),
        Section("Claims", paragraphs=["Each quantitative claim of the study, the study's figure, ours, and whether "
                                      "ours supports it (yes / partly / no; n/a when the profile did not run it)."],
                tables=[_claims_table(claims(r))]),
        _provenance_section(r, profile),
    ]
    return "Multi-MNIST study: reproduction report", subtitle, sections


class _Results:
    """Lazy access to the files of one reproduce folder."""

    def __init__(self, run: Path):
        self.run = run

    def fig(self, path: str, caption: str) -> Figure:
        return Figure(relative(self.run / path, self.run), caption)

    def seeds(self, group: str) -> list[dict]:
        """metrics.json of every seed of one config, e.g. 'classifiers/unregularized'."""
        return [_json(p) for p in sorted((self.run / group).glob("seed-*/metrics.json"))]

    def first_seed(self, group: str) -> str | None:
        found = sorted((self.run / group).glob("seed-*/metrics.json"))
        return relative(found[0].parent, self.run) if found else None

    def stat(self, group: str, key: str) -> np.ndarray:
        return np.array([m[key] for m in self.seeds(group) if m.get(key) is not None], dtype=float)


# --- sections ---

def _regimes_section(r: _Results) -> Section:
    s = Section("Beyond the study: where each regularizer helps")
    path = r.run / "regimes" / "regimes.json"
    if not path.is_file():
        s.paragraphs.append("The regime study runs in its own profile: `multimnist reproduce --profile regimes`.")
        return s
    result = read_json(path)
    rows = result["rows"]
    s.paragraphs.append(
        f"Each regularizer of the study against the unregularized network on {len(result['presets'])} data presets "
        f"(seeds {', '.join(map(str, result['seeds']))}, data seed 0). A gain counts only where Welch's t-test "
        f"rejects equal means at {100 * (1 - result['alpha']):.0f}%; otherwise it is within noise.")
    s.paragraphs += [regime_summary(rows, preset) for preset in result["presets"]]
    s.tables.append(Table(
        ["preset", "config", "n", "test acc %", "gain (points) ± se", "p (Welch)", "verdict", "train acc %",
         "best val acc %", "best epoch"],
        [[row["preset"], row["config"], str(row["n"]), mean_std(row["test_accuracy"]),
          pm(row["gain_mean"], row["gain_se"]), "–" if row["p_value"] is None else f"{row['p_value']:.3f}",
          row["verdict"], pct(row["train_mean"]).rstrip("%"), pct(row["best_val_mean"]).rstrip("%"),
          "–" if row["best_epoch_mean"] is None else f"{row['best_epoch_mean']:.0f}"] for row in rows],
        "Test accuracy and gain over the unregularized network, per preset (train accuracy: last epoch, "
        "Keras' running average)"))
    s.figures += [r.fig("regimes/regime_gain.png", "Each regularizer's test accuracy gain per preset (± standard "
                                                    "error of the difference)"),
                  r.fig("regimes/regime_curves.png", "The unregularized network's mean training and validation "
                                                      "accuracy per preset: a regularizer can only help where they "
                                                      "part")]
    return s


def regime_summary(rows: list[dict], preset: str) -> str:
    """One sentence per preset: which regularizers help, hurt, or stay within noise."""
    by_verdict: dict[str, list[str]] = {}
    for row in rows:
        if row["preset"] == preset and row["verdict"] != "baseline":
            by_verdict.setdefault(row["verdict"], []).append(row["config"])
    parts = [f"{verdict}: {', '.join(names)}" for verdict, names in sorted(by_verdict.items())]
    return f"{preset}: " + ("; ".join(parts) if parts else "no regularizer ran") + "."


def _not_run(s: Section, step: str) -> Section:
    s.paragraphs.append(f"The {step} step has not run.")
    return s


def _data_section(r: _Results) -> Section:
    s = Section("1 Data")
    stats = _json(r.run / "inspect" / "stats.json")
    if not stats:
        return _not_run(s, "data")
    t = stats["train"]
    meta = read_json(r.run / "data" / "meta.json")
    knobs = ", ".join(f"{k} {v}" for k, v in meta["generator"].items()
                      if k not in ("plan", "classes", "train_size", "test_fraction", "preset"))
    s.paragraphs.append(
        f"{t['n_classes']} classes, {t['total']:,} training and {stats['test']['total']:,} test images (28x39, two "
        f"real MNIST digits each), generator preset '{meta.get('preset') or 'none (own settings)'}' ({knobs}; "
        f"data seed {meta['seed']}). Hardest samples by {stats['hardness_measure']}.")
    counts = {int(k): v for k, v in t["counts"].items()}
    rows = [["mean per class", f"{t['mean']:.0f}", "1671"], ["std per class", f"{t['std']:.0f}", "1045"]]
    rows += [[f"class {c}", str(counts.get(c, "–")), str(STUDY_COUNTS[c])] for c in (43, 17, 11, 19)]
    rows += [["rarest / commonest class", f"{t['min_class']} ({t['min_count']}) / {t['max_class']} ({t['max_count']})",
              "43 (117) / 11 (3112)"]]
    s.tables.append(Table(["training set", "ours", "study"], rows, "Class statistics (study figure 2)"))
    s.figures += [r.fig("inspect/samples.png", "Figure 1: the first 16 training samples with distinct labels"),
                  r.fig("inspect/histogram.png", "Figure 2: training samples per class, mean and std marked"),
                  r.fig("inspect/hard.png", "Figure 3: hard-to-read test samples (highest ink overlap)")]
    return s


def _curves(r: _Results, group: str, label: str, numbers: tuple[int, int, int] | None = None) -> list[Figure]:
    """Loss, accuracy, confusion and per-class figures of a config's first seed; `numbers`: the study's figures."""
    run = r.first_seed(group)
    if run is None:
        return []
    a, b, c = (f"Figure {n}: " for n in numbers) if numbers else ("", "", "")
    return [r.fig(f"{run}/loss.png", f"{a}loss, {label} ({run})"),
            r.fig(f"{run}/accuracy.png", f"{b}categorical accuracy, {label} ({run})"),
            r.fig(f"{run}/confusion.png", f"{c}test confusion matrix, {label}; counts below 10 blank"),
            r.fig(f"{run}/per_class.png", f"Per-class test accuracy against class frequency, {label}")]


def _headline_table(r: _Results, names) -> Table:
    study = {"unregularized": ("91.5", "89", "~100"), "regularized": ("93", "92", "94")}
    rows = []
    for name in names:
        group = f"classifiers/{name}"
        if not r.seeds(group):
            continue
        sv, st, str_ = study.get(name, ("–", "–", "–"))
        rows.append([name, str(len(r.seeds(group))), mean_std(r.stat(group, "test_accuracy")), st,
                     mean_std(r.stat(group, "best_val_accuracy")), sv, mean_std(r.stat(group, "train_accuracy")), str_,
                     mean_std(r.stat(group, "train_val_gap")), f"{int(r.stat(group, 'epochs_run').mean())}"])
    return Table(["network", "seeds", "test acc %", "study", "best val acc %", "study", "train acc %", "study",
                  "train - val gap", "epochs"], rows, "Ours beside the study (accuracy in %)")


def _network_section(r: _Results, title: str, name: str, describe, compared, label: str,
                     numbers: tuple[int, int, int] | None = None) -> Section:
    """A headline network's section: what it is (`describe(metrics)`), its table beside `compared`, its curves."""
    s, group = Section(title), f"classifiers/{name}"
    if not r.seeds(group):
        s.paragraphs.append("Not run.")
        return s
    s.paragraphs.append(describe(r.seeds(group)[0]))
    s.tables.append(_headline_table(r, compared))
    s.figures += _curves(r, group, label, numbers)
    return s


def _unregularized_section(r: _Results) -> Section:
    return _network_section(
        r, "3 Unregularized network", "unregularized",
        lambda m: f"1092-80-70-50, sigmoid, softmax, HeNormal, Adam 1e-3, batch 256, {m['epochs_run']} epochs, "
                  f"{m.get('n_params', 0):,} parameters.",
        ["unregularized"], "unregularized", (5, 6, 7))


def _regularization_section(r: _Results) -> Section:
    s = Section("4 Regularization")
    s.tables.append(_headline_table(r, ["unregularized", "regularized"]))
    table = _markdown_table(r.run / "compare" / "compare.md", "Every run: mean ± std over seeds")
    if table:
        s.tables.append(table)
    pairs = _csv_rows(r.run / "compare" / "pair_change.csv")
    if pairs:
        s.tables.append(Table(["true", "predicted", "unregularized", "regularized", "change"],
                              [[p["true"], p["predicted"], p["before"], p["after"], _change_text(p["change"])]
                               for p in pairs],
                              "Top confused pairs before and after regularization (test counts, seeds summed); "
                              "study: 50->30 -28%, 19->17 -70%"))
    s.figures += _curves(r, "classifiers/regularized", "regularized (dropout 0.1 + early stopping)", (9, 10, 11))
    if not r.seeds("ablations/l1_1e-3"):
        s.paragraphs.append("The single-technique ablations run in the paper profile only.")
    return s


def _side_section(r: _Results) -> Section:
    s = Section("Side experiments (sections 3.1-3.2)")
    found = False
    for kind, what in (("depth", "hidden layers"), ("optimizer", "optimizer x initializer"),
                       ("batch", "batch size"), ("activation", "activation")):
        table = _markdown_table(r.run / "sweeps" / kind / "compare.md", f"{what.capitalize()} ({kind} sweep)")
        if table:
            s.tables.append(table)
            found = True
    if not found:
        s.paragraphs.append("The side sweeps run in the paper profile only.")
    return s


def _challenger_section(r: _Results) -> Section:
    return _network_section(
        r, "Beyond the study: the best network under 100k parameters", "challenger",
        lambda m: f"A feed-forward challenger with {m.get('n_params', 0):,} parameters; its recipe is "
                  "src/multimnist/configs/challenger.yaml.",
        ["unregularized", "regularized", "challenger"], "challenger")


def _autoencoder_section(r: _Results) -> Section:
    s = Section("5 Autoencoder")
    sweep = r.run / "autoencoder" / "sweep"
    table = _markdown_table(sweep / "sweep.md", "Compression-factor sweep: test MSE")
    if table:
        s.tables.append(table)
    verdict = sweep / "verdict.txt"
    if verdict.is_file():
        s.paragraphs.append(verdict.read_text().strip())
    s.figures += [r.fig("autoencoder/sweep/mse_epochs.png", "Figure 12: validation MSE against epoch, every factor"),
                  r.fig("autoencoder/sweep/mse_factor.png", "Figure 13: test MSE against compression factor")]
    m = _json(r.run / "autoencoder" / "final" / "metrics.json")
    if m:
        s.paragraphs.append(f"Final autoencoder: latent size {m.get('latent_size')}, test MSE "
                            f"{m.get('test_mse', float('nan')):.4f}, {m.get('epochs_run')} epochs.")
    s.figures += [r.fig("autoencoder/final/loss.png", "Autoencoder loss"),
                  r.fig("autoencoder/final/reconstructions.png",
                        "Figure 15: test images (top) and their reconstructions (bottom)"),
                  r.fig("autoencoder/final/latent.png",
                        "Figure 18: distribution of every latent dimension on the test set, U(0,1) range marked")]
    return s


def _generation_section(r: _Results) -> Section:
    s = Section("5.4 Generation")
    rows = _csv_rows(r.run / "generation" / "scores.csv")
    if not rows:
        return _not_run(s, "generation")
    table = _markdown_table(r.run / "generation" / "scores.md", "Samplers scored by the digit-pair reader")
    if table:
        s.tables.append(table)
    reader = _json(r.run / "reader" / "metrics.json") or {}
    if reader:
        s.paragraphs.append(f"The digit-pair reader reads 00..99 test images with tens accuracy "
                            f"{pct(reader.get('tens_accuracy'))} and units accuracy "
                            f"{pct(reader.get('units_accuracy'))}.")
    for row in rows:
        name = row.get("sampler")
        s.figures.append(r.fig(f"generation/{name}.png", f"Generated by the decoder, sampler '{name}'"))
    return s


def _provenance_section(r: _Results, profile: dict) -> Section:
    steps = _json(r.run / "steps.json") or {}
    rows = [[name, f"{v.get('seconds', 0):.0f} s", v.get("hash", "")] for name, v in steps.items()]
    versions = {}
    for m in [*r.seeds("classifiers/unregularized")[:1]]:
        versions = m.get("versions", {})
    s = Section("Provenance")
    s.paragraphs.append("Profile: " + json.dumps(profile.get("profile", {}), sort_keys=True))
    if versions:
        s.paragraphs.append("Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    s.tables.append(Table(["step", "time", "inputs hash"], rows, "Steps"))
    return s


# --- claims ---

def claims(r: _Results) -> list[Claim]:
    out = [_claim_imbalance(r)]
    unreg, reg = "classifiers/unregularized", "classifiers/regularized"
    u_test, r_test = r.stat(unreg, "test_accuracy"), r.stat(reg, "test_accuracy")
    out.append(_within("Unregularized network: test accuracy 89%", "3.3", 0.89, u_test, 0.025))
    out.append(_within("Unregularized network: validation accuracy 91.5%", "3.3", 0.915,
                       r.stat(unreg, "best_val_accuracy"), 0.025))
    last = r.stat(unreg, "last_train_accuracy")
    out.append(Claim("Without regularization the network overfits: training accuracy ~100%", "3.2, fig. 6",
                     "~100%", mean_std(last), _verdict(last, lambda v: v >= 0.98, lambda v: v >= 0.95),
                     "yes if final train accuracy >= 98%, partly if >= 95%"))
    if len(u_test) and len(r_test):
        delta = r_test.mean() - u_test.mean()
        err = np.sqrt(_var(u_test) / len(u_test) + _var(r_test) / len(r_test))
        verdict = "yes" if delta >= 0.015 else "partly" if delta > 0 else "no"
        spread = f" ± {100 * err:.1f}" if min(len(u_test), len(r_test)) > 1 else ""
        out.append(Claim("Dropout 0.1 + early stopping: test 92%, +3 points over unregularized", "4.4", "92% (+3)",
                         f"{100 * r_test.mean():.1f}% ({100 * delta:+.1f}{spread} points)", verdict,
                         "yes if the gain is >= 1.5 points, partly if positive"))
    else:
        out.append(_na("Dropout 0.1 + early stopping: test 92%, +3 points over unregularized", "4.4", "92% (+3)"))
    ug, rg = r.stat(unreg, "train_val_gap"), r.stat(reg, "train_val_gap")
    if len(ug) and len(rg):
        out.append(Claim("Regularization removes the overfitting: train 94% vs validation 93%", "4.4", "gap 1 point",
                         f"gap {100 * rg.mean():.1f} vs {100 * ug.mean():.1f} points unregularized",
                         "yes" if rg.mean() < ug.mean() and rg.mean() < 0.02 else
                         "partly" if rg.mean() < ug.mean() else "no", "yes if the gap shrinks to < 2 points"))
    rho = np.array([m["frequency_correlation"]["spearman_rho"] for m in r.seeds(unreg)
                    if m.get("frequency_correlation", {}).get("spearman_rho") is not None])
    out.append(Claim("Rare classes are confused most", "3.3, fig. 7", "qualitative",
                     f"Spearman rho (per-class accuracy, class frequency) {mean_std(rho, 1, 2)}" if len(rho) else "–",
                     _verdict(rho, lambda v: v >= 0.3, lambda v: v > 0),
                     "yes if rho >= 0.3, partly if positive"))
    out.append(_claim_pairs(r))
    out += _ablation_claims(r, u_test)
    out += _sweep_claims(r)
    out += _autoencoder_claims(r)
    return out


def _claim_imbalance(r: _Results) -> Claim:
    stats = _json(r.run / "inspect" / "stats.json")
    if not stats:
        return _na("Training classes are imbalanced: mean ~1671, std ~1045 per class", "1, fig. 2", "1671 / 1045")
    t = stats["train"]
    cv, study_cv = t["std"] / t["mean"], 1045 / 1671
    return Claim("Training classes are imbalanced: mean ~1671, std ~1045 per class", "1, fig. 2", "1671 / 1045",
                 f"{t['mean']:.0f} / {t['std']:.0f}", "yes" if abs(cv / study_cv - 1) < 0.03 else "no",
                 "the std/mean ratio within 3% of the study's (the quick profile scales the counts down)")


def _claim_pairs(r: _Results) -> Claim:
    rows = {(int(p["true"]), int(p["predicted"])): p for p in _csv_rows(r.run / "compare" / "pair_change.csv")}
    named = [rows.get((50, 30)), rows.get((19, 17))]
    statement = "Regularization cuts the confusions 50->30 (-28%) and 19->17 (-70%)"
    if not rows or any(p is None for p in named):
        return _na(statement, "4.4, fig. 11", "-28% / -70%")
    changes = [_number(p["change"]) for p in named]
    ours = " / ".join(f"{p['before']}->{p['after']} ({_change_text(p['change'])})" for p in named)
    all_top = [_number(p["change"]) for p in rows.values() if _number(p["change"]) == _number(p["change"])]
    verdict = "yes" if all(c < 0 for c in changes) else "partly" if any(c < 0 for c in changes) else "no"
    return Claim(statement, "4.4, fig. 11", "-28% / -70%", ours + f"; median change of the top pairs "
                 f"{_change_text(np.median(all_top)) if all_top else '–'}", verdict, "yes if both counts drop")


def _ablation_claims(r: _Results, u_test: np.ndarray) -> list[Claim]:
    def test(name):
        return r.stat(f"ablations/{name}", "test_accuracy")

    if not len(test("l1_1e-3")) or not len(u_test):
        return [_na("L1 (1e-3 to 1e-5) underfits; L2 1e-5 is outperformed by no regularization; dropout 0.1 beats "
                    "higher rates; augmentation lowers accuracy (to 86%), rotation least", "4.2", "see 4.2")]
    base = u_test.mean()
    out = []
    l1 = {n: test(n).mean() for n in ("l1_1e-3", "l1_1e-4", "l1_1e-5")}
    out.append(Claim("L1 (1e-3 to 1e-5) underfits: lower accuracy than no regularization", "4.2.2", "underfits",
                     ", ".join(f"{n} {100 * v:.1f}%" for n, v in l1.items()) + f" vs {100 * base:.1f}%",
                     "yes" if all(v < base for v in l1.values()) else
                     "partly" if any(v < base for v in l1.values()) else "no", "yes if every L1 run is below"))
    l2 = test("l2_1e-5").mean()
    out.append(Claim("L2 1e-5 is outperformed in accuracy by the model without it", "4.2.2", "worse",
                     f"{100 * l2:.1f}% vs {100 * base:.1f}%", "yes" if l2 < base else "no"))
    drops = {n: test(n).mean() for n in ("dropout_0.1", "dropout_0.2", "dropout_0.3")}
    out.append(Claim("Dropout 0.1 beats higher dropout rates", "4.2.3", "0.1 best",
                     ", ".join(f"{n[-3:]}: {100 * v:.1f}%" for n, v in drops.items()),
                     "yes" if drops["dropout_0.1"] >= max(drops.values()) else "no"))
    aug = {n: test(n).mean() for n in ("aug_noise", "aug_shift", "aug_rotation")}
    rot_best = aug["aug_rotation"] >= max(aug.values())
    out.append(Claim("Class-rebalancing augmentation does not help (86%); rotation is the only one not worse",
                     "4.2.1", "86%; rotation ~ no change",
                     ", ".join(f"{n[4:]}: {100 * v:.1f}%" for n, v in aug.items()) + f" vs {100 * base:.1f}%",
                     "yes" if all(v <= base + 0.005 for v in aug.values()) and rot_best else
                     "partly" if all(v <= base + 0.005 for v in aug.values()) or rot_best else "no",
                     "yes if no augmentation gains > 0.5 points and rotation is the best of the three"))
    es_gap = r.stat("ablations/early_stopping", "train_val_gap").mean()
    u_gap = r.stat("classifiers/unregularized", "train_val_gap").mean()
    out.append(Claim("Early stopping greatly reduces the overfitting", "4.2.4", "converged at 15-20 epochs",
                     f"gap {100 * es_gap:.1f} vs {100 * u_gap:.1f} points; stopped after "
                     f"{r.stat('ablations/early_stopping', 'epochs_run').mean():.0f} epochs",
                     "yes" if es_gap < u_gap / 2 else "partly" if es_gap < u_gap else "no",
                     "yes if the train-validation gap halves"))
    return out


def _sweep_claims(r: _Results) -> list[Claim]:
    def acc(kind, name, key="test_accuracy"):
        v = r.stat(f"sweeps/{kind}/{name}", key)
        return v.mean() if len(v) else None

    if acc("depth", "depth-2") is None:
        return [_na("2 hidden layers beat deeper nets; Adam/RMSprop+HeNormal beat SGD, SGD+HeNormal fails; batch 256 "
                    "best, batch 8 still 89% validation; LeakyReLU diverges", "3.1-3.2", "see 3.1-3.2")]
    out = []
    depth = {n: acc("depth", f"depth-{n}") for n in (2, 3, 4, 5)}
    out.append(Claim("2 hidden layers generalize better than 3-5", "3.1", "2 best",
                     ", ".join(f"{k}: {100 * v:.1f}%" for k, v in depth.items() if v is not None),
                     "yes" if depth[2] >= max(v for v in depth.values() if v is not None) else "no"))
    opt = {f"{o}-{i}": acc("optimizer", f"{o}-{i}") for o in ("sgd", "rmsprop", "adam")
           for i in ("glorot_normal", "he_normal")}
    ok = opt["sgd-he_normal"] < 0.5 and min(opt["adam-he_normal"], opt["rmsprop-he_normal"]) > opt["sgd-glorot_normal"]
    partly = min(opt["adam-he_normal"], opt["rmsprop-he_normal"]) > opt["sgd-glorot_normal"]
    out.append(Claim("SGD+HeNormal cannot converge; RMSprop/Adam+HeNormal beat SGD+GlorotNormal", "3.2",
                     "SGD+He fails", ", ".join(f"{k}: {100 * v:.1f}%" for k, v in opt.items()),
                     "yes" if ok else "partly" if partly else "no",
                     "yes if SGD+He < 50% test accuracy and both adaptive optimizers beat SGD+Glorot"))
    batch = {b: acc("batch", f"batch-{b}") for b in (8, 32, 128, 256, 512)}
    val8 = acc("batch", "batch-8", "best_val_accuracy")
    best = max(batch, key=lambda b: batch[b])
    out.append(Claim("Batch 256 gives the best results; batch 8 still reaches 89% validation accuracy", "3.2",
                     "256 best; 8: 89% val", ", ".join(f"{k}: {100 * v:.1f}%" for k, v in batch.items())
                     + f"; batch 8 val {100 * val8:.1f}%",
                     "yes" if best == 256 and val8 >= 0.87 else
                     "partly" if best in (256, 512) or val8 >= 0.87 else "no",
                     "yes if 256 is best and batch 8 reaches >= 87% validation"))
    leaky = r.seeds("sweeps/activation/activation-leaky_relu")
    sig = acc("activation", "activation-sigmoid")
    if leaky:
        hist = read_history(r.run / relative_first(r, "sweeps/activation/activation-leaky_relu") / HISTORY)
        vl = np.array(hist.get("val_loss", [np.nan]))
        rise = float(vl[-1] / np.nanmin(vl) - 1)
        out.append(Claim("LeakyReLU(0.01) diverges: validation loss grows after ~15 epochs", "3.1", "diverges",
                         f"val loss min at epoch {int(np.nanargmin(vl)) + 1}, then {100 * rise:+.0f}%; test "
                         f"{100 * leaky[0]['test_accuracy']:.1f}% vs sigmoid {100 * sig:.1f}%",
                         "yes" if rise > 0.1 and np.nanargmin(vl) < 25 else "partly" if rise > 0 else "no",
                         "yes if validation loss ends > 10% above its minimum, reached before epoch 25"))
    return out


def relative_first(r: _Results, group: str) -> str:
    return r.first_seed(group) or group


def _autoencoder_claims(r: _Results) -> list[Claim]:
    out = []
    rows = _csv_rows(r.run / "autoencoder" / "sweep" / "sweep.csv")
    if rows:
        mse = {int(row["factor"]): _number(row["test_mse_mean"]) for row in rows}
        std = {int(row["factor"]): _number(row.get("test_mse_std") or "nan") for row in rows}
        best = min(mse, key=mse.get)
        out.append(Claim("The best compression factor is 20 (latent size 54)", "5.1, fig. 13", "20",
                         f"best {best} (MSE {mse[best]:.5f}); cf 20: {mse.get(20, float('nan')):.5f}"
                         + (f" ± {std[20]:.5f}" if std.get(20) == std.get(20) else ""),
                         "yes" if best == 20 else
                         "partly" if 20 in mse and mse[20] <= sorted(mse.values())[1] else "no",
                         "yes if cf 20 has the lowest mean test MSE, partly if second"))
        ordered = [mse[f] for f in sorted(mse)]
        monotone = all(a <= b for a, b in zip(ordered, ordered[1:], strict=False))
        out.append(Claim("MSE does not follow the compression factor monotonically", "5.1, fig. 13", "not monotone",
                         "monotone" if monotone else "not monotone", "no" if monotone else "yes",
                         "mean test MSE over factors in order"))
    else:
        out.append(_na("The best compression factor is 20 (latent size 54)", "5.1, fig. 13", "20"))
    latent = _json(r.run / "autoencoder" / "final" / "metrics.json") or {}
    frac = latent.get("latent_values_outside_unit_share")
    out.append(Claim("The latent distribution is far from uniform on [0, 1]", "5.4, fig. 18", "far from uniform",
                     f"{100 * frac:.0f}% of latent values outside [0, 1]" if frac is not None else "–",
                     "n/a" if frac is None else "yes" if frac > 0.2 else "partly" if frac > 0.05 else "no",
                     "yes if > 20% of latent values (dimensions x test images) fall outside [0, 1]"))
    scores = {row["sampler"]: row for row in _csv_rows(r.run / "generation" / "scores.csv")
              if row.get("kind", "sampler") == "sampler"}  # not the 'real' reference row
    if "uniform" in scores and "gaussian" in scores:
        u, g = scores["uniform"], scores["gaussian"]
        ur, gr = _number(u["readable_share"]), _number(g["readable_share"])
        ud, gd = _number(u["distinct_numbers"]), _number(g["distinct_numbers"])
        out.append(Claim("Per-dimension Gaussian sampling (Algorithm 2) gives sharper, more diverse samples than "
                         "uniform", "5.4, figs. 17, 19", "better", f"readable {100 * gr:.0f}% vs {100 * ur:.0f}%, "
                         f"distinct numbers {gd:.0f} vs {ud:.0f}",
                         "yes" if gr > ur and gd > ud else "partly" if gr > ur or gd > ud else "no",
                         "yes if both the readable share and the distinct numbers are higher"))
        outside = _number(g["outside_1_50_share"])
        out.append(Claim("The decoder also draws numbers outside 1..50 (a '98')", "5.4, fig. 19", "a 98 appears",
                         f"{100 * outside:.1f}% of readable Gaussian samples read outside 1..50"
                         if outside == outside else "no Gaussian sample was readable",
                         "n/a" if outside != outside else "yes" if outside > 0 else "no"))
        best = min(scores, key=lambda k: _number(scores[k]["frechet_distance"]))
        out.append(Claim("(beyond the study) A better sampler beats Algorithm 2 on Frechet distance", "—", "—",
                         f"best: {best} (FD {_number(scores[best]['frechet_distance']):.2f} vs "
                         f"{_number(g['frechet_distance']):.2f})",
                         "yes" if best not in ("gaussian", "uniform") else "no"))
    else:
        out.append(_na("Per-dimension Gaussian sampling (Algorithm 2) gives sharper, more diverse samples than "
                       "uniform", "5.4, figs. 17, 19", "better"))
    return out


# --- small helpers ---

def _within(statement, where, target, values, tol) -> Claim:
    if not len(values):
        return _na(statement, where, f"{100 * target:.1f}%")
    return Claim(statement, where, f"{100 * target:.1f}%", mean_std(values),
                 "yes" if abs(values.mean() - target) <= tol else "no", f"yes if within ±{100 * tol:.1f} points")


def _verdict(values, yes, partly) -> str:
    if not len(values):
        return "n/a"
    v = float(np.mean(values))
    return "yes" if yes(v) else "partly" if partly(v) else "no"


def _na(statement, where, study) -> Claim:
    return Claim(statement, where, study, "not run in this profile", "n/a")


def _claims_table(items: list[Claim]) -> Table:
    return Table(["claim", "study §", "study", "ours", "supported", "criterion"],
                 [[c.statement, c.where, c.study, c.ours, c.verdict, c.how] for c in items])


def _var(values) -> float:
    return float(np.var(values, ddof=1)) if len(values) > 1 else 0.0


def _number(v) -> float:
    """A number from a CSV cell; NaN where there is none."""
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _change_text(v) -> str:
    return change(_number(v))


def _json(path: Path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def _csv_rows(path: Path) -> list[dict]:
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except OSError:
        return []


def _markdown_table(path: Path, title: str) -> Table | None:
    """A pipe table from a Markdown file (the first one in it) as a Table; None if absent."""
    try:
        lines = [ln.strip() for ln in Path(path).read_text().splitlines()]
    except OSError:
        return None
    rows = [ln for ln in lines if ln.startswith("|")]
    if len(rows) < 2:
        return None
    cells = [[c.strip() for c in ln.strip("|").split("|")] for ln in rows]
    return Table(cells[0], [c for c in cells[2:]], title)
