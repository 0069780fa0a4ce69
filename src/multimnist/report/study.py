"""The study report's content: read a `multimnist reproduce` folder and lay out its sections like the study,
ours beside the study's numbers, ending with a table of the study's quantitative claims and whether our
runs support each. Nothing here trains: it reads the runs' own files (report/results.py), judges the claims
(report/claims.py), writes results.json, report.html and report.md.

Every number compared reads as mean ± std (ddof 1, n); each claim is judged by the interval of its estimate
against the effect the study states (report/criteria.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from multimnist import paper
from multimnist.evaluation.sequential import Design
from multimnist.files import write_text
from multimnist.formatting import MISSING, change, pct
from multimnist.report.claims import (
    CHALLENGER_HISTORY,
    Claim,
    counts_text,
    study_claims,
    study_design,
    verdict_counts,
)
from multimnist.report.criteria import RULES, stat_text
from multimnist.report.explorer import explorer_section, write_data_script
from multimnist.report.html import Figure, Section, Table, relative, render_html, render_markdown
from multimnist.report.results import data_text, load_study, results_json, write_results

HEADLINE = paper.HEADLINE


def write_report(run_dir: str | Path) -> Path:
    """Read the study's results under `run_dir`; write results.json, report.html and report.md there."""
    run_dir = Path(run_dir)
    loaded = load_study(run_dir)
    claims = study_claims(loaded)
    results = results_json(loaded, claims)
    title, subtitle, sections = collect_sections(run_dir, loaded, results, claims)
    for s in sections:
        s.figures = [f for f in s.figures if (run_dir / f.path).is_file()]
    write_results(run_dir, results)
    write_text(run_dir / "report.md", render_markdown(title, subtitle, sections))
    page = render_html(title, subtitle, sections)
    if loaded.get("explorer"):  # the explorer states the page's size: render until the size it states holds
        write_data_script(loaded["explorer"], run_dir)
        i = next(i for i, s in enumerate(sections) if s.widgets)
        for _ in range(3):
            stated = len(page.encode())
            sections[i] = explorer_section(loaded["explorer"], stated)
            page = render_html(title, subtitle, sections)
            if len(page.encode()) == stated:
                break
    html = run_dir / "report.html"
    write_text(html, page)
    return html


def collect_sections(run: Path, loaded: dict, results: dict, claims: list[Claim]) -> tuple[str, str, list[Section]]:
    profile = results.get("profile") or {}
    name = profile.get("name", "?")
    subtitle = (f"{profile_note(profile)}Reproduction of D. Bertoldi, 'Regularization techniques and Autoencoder on "
                f"Multi-MNIST', made by multimnist {results.get('version') or '?'} with the '{name}' profile on "
                f"{data_text(results.get('data_source'))}. Section and figure numbers follow the study's. Our numbers "
                "are mean ± std (ddof 1, n seeds); the study's are single runs. Each claim is judged by the 95% "
                "interval of its estimate against the effect the study states.")
    v = _View(run, loaded, results, claims)
    sections = [
        _data_section(v), _unregularized_section(v), _regularization_section(v), _side_section(v),
        _challenger_section(v), _autoencoder_section(v), _generation_section(v),
        *([explorer_section(loaded["explorer"])] if loaded.get("explorer") else []), _regimes_section(v),
        claims_section(claims, study_design(loaded)), _provenance_section(v),
    ]
    return "Multi-MNIST study: reproduction report", subtitle, sections


def profile_note(profile: dict) -> str:
    """What a report made with a smaller profile than the study's is for, said first; "" for the paper profile."""
    name = profile.get("name")
    if name == "paper":
        return ""
    size = profile.get("train_size")
    settings = (f"{size:,} training images" if size else "the full data") + (
        f", {profile['classifier_epochs']} epochs" if profile.get("classifier_epochs") else "") + (
        f", {len(profile['seeds'])} seed{'s' * (len(profile['seeds']) != 1)}" if profile.get("seeds") else "")
    what = ("The quick profile is a smoke test: it runs every step of the study in minutes" if name == "quick" else
            f"The '{name}' profile is not the study's settings: it runs the study")
    return (f"{what} ({settings}) to show the pipeline works, so its numbers are not the study's and most claims "
            "come out untestable or n/a. For the study's numbers run `multimnist reproduce --profile paper`. ")


class _View:
    """What the sections read: the loaded runs (for figure paths), results.json's numbers and the claims."""

    def __init__(self, run: Path, loaded: dict, results: dict, claims: list[Claim]):
        self.run, self.loaded, self.results = run, loaded, results
        self.claims = {c.key: c for c in claims}

    def fig(self, path: str, caption: str) -> Figure:
        return Figure(relative(self.run / path, self.run), caption)

    def config(self, group: str) -> dict | None:
        """results.json's summary of one configuration, e.g. 'classifiers/unregularized'; None if not run."""
        return self.results["classifiers"].get(group)

    def first_seed(self, group: str) -> str | None:
        dirs = self.loaded["dirs"].get(group)
        return dirs[0] if dirs else None

    def first_autoencoder(self) -> str | None:
        """The first final autoencoder's folder (relative to the run), or None."""
        runs = self.loaded.get("autoencoder") or []
        return f"autoencoder/final/seed-{runs[0].get('seed', 0)}" if runs else None


def _acc(s: dict, n: bool = False) -> str:
    return stat_text(s, n=n)


# --- sections ---

def _regimes_section(v: _View) -> Section:
    s = Section("Beyond the study: where each claim holds")
    s.paragraphs.append("Every claim in every regime, and where each regularizer helps: run this profile on other "
                        "presets (`multimnist reproduce --preset faint ...`) or on your own data (`--data`), then "
                        "`multimnist report --across RUN_A RUN_B ... --out DIR` sets them side by side.")
    return s


def _not_run(s: Section, step: str) -> Section:
    s.paragraphs.append(f"The {step} step has not run.")
    return s


def _data_section(v: _View) -> Section:
    s = Section("1 Data")
    stats, meta = v.loaded.get("stats"), v.loaded.get("meta")
    if not stats or not meta:
        return _not_run(s, "data")
    t = stats["train"]
    s.paragraphs.append(
        f"{t['n_classes']} classes, {t['total']:,} training and {stats['test']['total']:,} test images (28x39, two "
        f"digits each): {data_text(v.results.get('data_source'))}. Hardest samples by "
        f"{stats.get('hardness_measure', '?')}.")
    counts = {int(k): val for k, val in t["counts"].items()}
    study = paper.CLASS_COUNTS
    rows = [["mean per class", f"{t['mean']:.0f}", str(study["mean"])], ["std per class", f"{t['std']:.0f}",
                                                                          str(study["std"])]]
    rows += [[f"class {c}", str(counts.get(c, MISSING)), str(study[c])] for c in (43, 17, 11, 19)]
    (rare, n_rare), (common, n_common) = paper.RAREST, paper.COMMONEST
    rows += [["rarest / commonest class", f"{t['min_class']} ({t['min_count']}) / {t['max_class']} ({t['max_count']})",
              f"{rare} ({n_rare}) / {common} ({n_common})"]]
    planned = (meta.get("generator") or {}).get("plan") == "study"
    s.tables.append(Table(["training set", "ours", "study"], rows,
                          "Class statistics (study figure 2; " + ("the study plan's counts were solved to match them)"
                                                                  if planned else "beside the study's)")))
    s.figures += [v.fig("inspect/samples.png", "Figure 1: the first 16 training samples with distinct labels"),
                  v.fig("inspect/histogram.png", "Figure 2: training samples per class, mean and std marked"),
                  v.fig("inspect/hard.png", "Figure 3: hard-to-read test samples (highest ink overlap)")]
    return s


def _curves(v: _View, group: str, label: str, numbers: tuple[int, int, int] | None = None) -> list[Figure]:
    """Loss, accuracy, confusion and per-class figures of a config's first seed; `numbers`: the study's figures."""
    run = v.first_seed(group)
    if run is None:
        return []
    a, b, c = (f"Figure {n}: " for n in numbers) if numbers else ("", "", "")
    return [v.fig(f"{run}/loss.png", f"{a}loss, {label} ({run})"),
            v.fig(f"{run}/accuracy.png", f"{b}categorical accuracy, {label} ({run})"),
            v.fig(f"{run}/confusion.png", f"{c}test confusion matrix, {label}; counts below 10 blank"),
            v.fig(f"{run}/per_class.png", f"Per-class test accuracy against class frequency, {label}")]


def _headline_table(v: _View, names) -> Table:
    rows = []
    for name in names:
        c = v.config(f"classifiers/{name}")
        if c is None:
            continue
        sv, st, s_train, s_gap = study_figures(name)
        rows.append([name, str(c["n"]), _acc(c["test_accuracy"]), st, _acc(c["best_val_accuracy"]), sv,
                     _acc(c["train_accuracy"]), s_train, _acc(c["val_accuracy"]), _acc(c["train_val_gap"]), s_gap,
                     stat_text(c["epochs_run"], scale=1, digits=0, n=False)])
    return Table(["network", "seeds", "test acc %", "study", "best val acc %", "study", "train acc %", "study",
                  "val acc %", "train - val gap", "study", "epochs"], rows,
                 "Ours beside the study (accuracy in %, mean ± std over the seeds; train and val: the kept weights "
                 "in inference mode)")


def study_figures(name: str) -> tuple[str, str, str, str]:
    """The study's best val, test, train accuracy and their gap for a headline network, in %; '–' if it has none."""
    f = paper.ACCURACY.get(name)
    if f is None:
        return (MISSING,) * 4
    return tuple(f"{100 * x:g}" for x in (f["val"], f["test"], f["train"], f["train"] - f["val"]))


def _network_section(v: _View, title: str, name: str, describe, compared, label: str,
                     numbers: tuple[int, int, int] | None = None) -> Section:
    """A headline network's section: what it is (`describe(metrics)`), its table beside `compared`, its curves."""
    s, group = Section(title), f"classifiers/{name}"
    if v.config(group) is None:
        s.paragraphs.append("Not run.")
        return s
    s.paragraphs.append(describe(v.loaded["runs"][group][0]))
    s.tables.append(_headline_table(v, compared))
    s.figures += _curves(v, group, label, numbers)
    return s


def _unregularized_section(v: _View) -> Section:
    return _network_section(
        v, "3 Unregularized network", "unregularized",
        lambda m: f"1092-80-70-50, sigmoid, softmax, HeNormal, Adam 1e-3, batch 256, {m['epochs_run']} epochs, "
                  f"{m.get('n_params') or 0:,} parameters.",
        ["unregularized"], "unregularized", (5, 6, 7))


def config_table(v: _View, groups, title: str) -> Table:
    """One row per configuration: n and mean ± std of each accuracy over its seeds."""
    rows = []
    for group in groups:
        c = v.config(group)
        rows.append([group.rsplit("/", 1)[-1], str(c["n"]), _acc(c["test_accuracy"]), _acc(c["best_val_accuracy"]),
                     _acc(c["train_accuracy"]), _acc(c["val_accuracy"]), _acc(c["train_val_gap"]),
                     _acc(c["balanced_accuracy"]), stat_text(c["epochs_run"], scale=1, digits=0, n=False)])
    return Table(["config", "seeds", "test acc %", "best val acc %", "train acc %", "val acc %", "train - val gap",
                  "balanced test acc %", "epochs"], rows, title)


def display_order(group: str) -> tuple:
    """Headline networks in the study's order, then the ablations, then each side sweep; by name within a folder,
    numbers by value (batch-8 < batch-32)."""
    root, name = group.rsplit("/", 1)
    head = HEADLINE.index(name) if root == "classifiers" and name in HEADLINE else len(HEADLINE)
    return root != "classifiers", head, root, [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def _regularization_section(v: _View) -> Section:
    s = Section("4 Regularization")
    s.tables.append(_headline_table(v, ["unregularized", "regularized"]))
    groups = sorted((g for g in v.results["classifiers"] if g.startswith(("classifiers/", "ablations/"))),
                    key=display_order)
    if groups:
        s.tables.append(config_table(v, groups, "Every network and ablation: mean ± std over seeds"))
    pairs = v.results["pairs"]
    if pairs:
        s.tables.append(Table(
            ["true", "predicted", "unregularized", "regularized", "change"],
            [[str(p["true"]), str(p["predicted"]), stat_text(p["before"], 1, 1), stat_text(p["after"], 1, 1),
              change(p["change"])] for p in pairs],
            "Top confused pairs before and after regularization (test count per seed, mean ± std (n)); study: "
            "50->30 -28%, 19->17 -70%"))
    s.figures += _curves(v, "classifiers/regularized", "regularized (dropout 0.1 + early stopping)", (9, 10, 11))
    if not any(g.startswith("ablations/") for g in groups):
        s.paragraphs.append("The single-technique ablations run in the paper profile only.")
    return s


def _side_section(v: _View) -> Section:
    s = Section("Side experiments (sections 3.1-3.2)")
    for kind, what in paper.SIDE_SWEEPS.items():
        groups = sorted((g for g in v.results["classifiers"] if g.startswith(f"sweeps/{kind}/")), key=display_order)
        if groups:
            s.tables.append(config_table(v, groups, f"{what.capitalize()} ({kind} sweep)"))
    if not s.tables:
        s.paragraphs.append("The side sweeps run in the paper profile only.")
    return s


def _challenger_section(v: _View) -> Section:
    return _network_section(
        v, "Beyond the study: the best network under 100k parameters", "challenger",
        lambda m: f"A feed-forward challenger with {m.get('n_params') or 0:,} parameters; its recipe is "
                  f"src/multimnist/configs/challenger.yaml: {CHALLENGER_HISTORY}.",
        ["unregularized", "regularized", "challenger"], "challenger")


def _autoencoder_section(v: _View) -> Section:
    s = Section("5 Autoencoder")
    rows = v.results["compression"]
    if rows:
        s.tables.append(Table(
            ["compression factor", "latent size", "test MSE (mean ± std (n))", "latent values outside [0, 1]"],
            [[str(r["factor"]), str(r["latent_size"]), stat_text(r["test_mse"], 1, 5),
              stat_text(r["latent_values_outside_unit_share"], 100, 0, "%")] for r in rows],
            "Compression-factor sweep"))
        s.paragraphs += [f"{c.statement}: {c.verdict} ({c.why})." for key in ("cf20_best", "not_monotone")
                         if (c := v.claims.get(key))]
    s.figures += [v.fig("autoencoder/sweep/mse_epochs.png", "Figure 12: validation MSE against epoch, every factor"),
                  v.fig("autoencoder/sweep/mse_factor.png", "Figure 13: test MSE against compression factor")]
    m = v.results["autoencoder"]
    if m:
        s.paragraphs.append(
            f"Final autoencoder ({m['n']} seed(s): {', '.join(map(str, m['seeds']))}): latent size {m['latent_size']}, "
            f"test MSE {stat_text(m['test_mse'], 1, 5)}, {stat_text(m['epochs_run'], 1, 0, n=False)} epochs, "
            f"{stat_text(m['latent_values_outside_unit_share'], 100, 0, '%', n=False)} of test latent values "
            "outside [0, 1].")
    first = v.first_autoencoder()
    if first:
        s.figures += [v.fig(f"{first}/loss.png", f"Autoencoder loss ({first})"),
                      v.fig(f"{first}/reconstructions.png",
                            f"Figure 15: test images (top) and their reconstructions (bottom) ({first})"),
                      v.fig(f"{first}/latent.png", "Figure 18: distribution of every latent dimension on the test "
                                                   f"set, U(0,1) range marked ({first})")]
    return s


def _interval(value, ci, scale: float = 100.0, digits: int = 1, unit: str = "%") -> str:
    if value is None:
        return MISSING
    text = f"{scale * value:.{digits}f}{unit}"
    return text + (f" [{scale * ci[0]:.{digits}f}–{scale * ci[1]:.{digits}f}]" if ci else "")


def generation_table(g: dict) -> Table:
    """Every image set over the autoencoder seeds: each figure's mean ± std over the seeds (what the claims
    compare), and the pooled shares with their Wilson intervals."""
    def pooled(k, n, ci) -> str:
        return f"{k} of {n}" + (f" [{100 * ci[0]:.1f}–{100 * ci[1]:.1f}%]" if ci else "")

    def seeds(r, key, *fmt):
        return stat_text(r[key], *fmt, n=False) if key in r else MISSING

    return Table(
        ["images", "kind", "seeds", "readable % (per seed)", "readable, pooled", "outside 1..50 % of readable "
         "(per seed)", "outside 1..50, pooled", "distinct numbers (per seed)", "Frechet distance (per seed)",
         "read as the number asked % (per seed)", "nearest training code / held-out's (per seed)"],
        [[r["sampler"], r["kind"], str(r["seeds"]), stat_text(r["readable_share"], n=False),
          pooled(r["readable"], r["n"], r["readable_share_pooled_ci"]),
          stat_text(r["outside_1_50_share"], n=False), pooled(r["outside_1_50"], r["readable"],
                                                             r["outside_1_50_pooled_ci"]),
          stat_text(r["distinct_numbers"], 1, 1, n=False), stat_text(r["frechet_distance"], 1, 2, n=False),
          seeds(r, "as_requested_share"), seeds(r, "code_nn_ratio", 1, 2)]
         for r in g["rows"]],
        f"Samplers and controls scored by the digit-pair reader on each autoencoder seed (readable threshold "
        f"{g['readable_threshold']}): mean ± std over the seeds, and the counts pooled over them with their 95% "
        "Wilson intervals (pooling ignores the variance between autoencoders, so the claims use the seeds)")


def _generation_section(v: _View) -> Section:
    s = Section("5.4 Generation")
    g = v.results["generation"]
    if not g:
        return _not_run(s, "generation")
    seeds = ", ".join(map(str, g["autoencoder_seeds"]))
    s.paragraphs.append(
        f"An image is readable when the digit-pair reader is at least {g['readable_threshold']:.0%} sure of both "
        f"digits. {g['n_per_seed']} images per sampler on each autoencoder seed ({seeds}); {_equal_n_text(g)}. Two "
        "controls: 'reconstruction' (test images through the same autoencoder: what the reader makes of its blur, "
        "the ceiling of any sampler on it) and 'real' (held-out images).")
    s.tables.append(generation_table(g))
    reader = v.results["reader"]
    if reader:
        s.paragraphs.append(f"The digit-pair reader reads 00..99 test images with tens accuracy "
                            f"{pct(reader['tens_accuracy'])} and units accuracy {pct(reader['units_accuracy'])}.")
    first = g["autoencoder_seeds"][0]
    for row in g["rows"]:
        s.figures.append(v.fig(f"generation/seed-{first}/{row['sampler']}.png",
                               f"'{row['sampler']}' on autoencoder seed {first}, titled with what the reader reads"))
        if (v.run / "generation" / f"seed-{first}" / f"{row['sampler']}-numbers.png").is_file():
            s.figures.append(v.fig(f"generation/seed-{first}/{row['sampler']}-numbers.png",
                                   f"'{row['sampler']}' asked for each number on autoencoder seed {first}: one row "
                                   "per number asked, titled asked>read"))
    return s


def _equal_n_text(g: dict) -> str:
    """How many readable images each row's distinct numbers count on, per seed (None: too few to count on)."""
    counts = [f"{n} on seed {seed}" if n else f"none on seed {seed} (too few readable images)"
              for seed, n in zip(g["autoencoder_seeds"], g["equal_n"], strict=False)]
    return f"distinct numbers on the same number of readable images for every row of a seed: {', '.join(counts)}"


def claims_section(claims: list[Claim], design: Design | None = None) -> Section:
    """Counts per verdict, the study's judged claims, those not counted (by construction, dependent), and the
    project's own claims apart; the run's sequential design, when it has one."""
    counted = [c for c in claims if c.counted]
    apart = [c for c in claims if not c.beyond and not c.counted]
    ours = [c for c in claims if c.beyond]
    s = Section("Claims", paragraphs=[
        "Each quantitative claim of the study (docs/claims.md maps every sentence to its claim), the study's figure, "
        "ours (mean ± std (n seeds), the estimate with its interval and the claimed effect), the verdict, and the "
        "look it was decided at (n seeds a side), or undecided at the cap. " + RULES,
        *([f"This run: {design.describe()}."] if design is not None else []),
        counts_text(verdict_counts(claims)) + "."])
    s.tables.append(claims_table(counted, "The study's claims"))
    if apart:
        s.tables.append(claims_table(apart, "Not counted: figures the data was made to match (by construction), "
                                            "and figures that follow from them (dependent)"))
    if ours:
        s.tables.append(claims_table(ours, "Beyond the study: the project's own claims, by the same rules (not "
                                           "counted above)"))
    return s


def claims_table(items: list[Claim], title: str) -> Table:
    return Table(["claim", "study §", "study", "ours", "verdict", "decided", "why", "n", "criterion"],
                 [[c.statement, c.where, c.study, c.ours, c.verdict, c.sequential.get("status") or MISSING, c.why,
                   ", ".join(f"{k} {n}" for k, n in c.n.items()) or MISSING, c.criterion] for c in items], title)


def _provenance_section(v: _View) -> Section:
    steps = v.loaded.get("steps") or {}
    rows = [[name, f"{rec.get('seconds', 0):.0f} s", rec.get("hash", "")] for name, rec in steps.items()
            if isinstance(rec, dict)]
    runs = v.loaded["runs"].get("classifiers/unregularized") or [{}]
    versions = runs[0].get("versions") or {}
    s = Section("Provenance")
    s.paragraphs.append("Profile: " + json.dumps(v.results.get("profile") or {}, sort_keys=True))
    s.paragraphs.append(f"Data: {data_text(v.results.get('data_source'))}.")
    if versions:
        s.paragraphs.append("Versions: " + ", ".join(f"{k} {val}" for k, val in versions.items()))
    s.tables.append(Table(["step", "time", "inputs hash"], rows, "Steps"))
    return s
