"""`multimnist report --across`: every claim's verdict per regime, from small hand-written results.json files."""

from __future__ import annotations

import json
from pathlib import Path

from multimnist.cli import main
from multimnist.files import write_json
from multimnist.report.across import across, interaction, load_runs, part_verdicts, status, where

import pytest
from scipy import stats

FAINT = {"kind": "preset", "preset": "faint", "knobs": {"intensity": [0.05, 1.0]}, "seed": 0, "train_size": None}
STUDY = {"kind": "preset", "preset": "study", "knobs": {"intensity": [0.8, 1.0], "jitter": 2}, "seed": 0,
         "train_size": None}
MINE = {"kind": "files", "path": "/data/mine.npz", "files": {"mine.npz": "ab12cd34" + "0" * 56}, "preset": None,
        "knobs": None, "seed": None}


def claim(key: str, verdict: str, value: float = 1.0, beyond: bool = False) -> dict:
    """A claims-table row as results.json holds it, with one estimate."""
    return {"key": key, "statement": f"Claim {key}", "where": "3", "study": "s", "verdict": verdict, "why": "w",
            "ours": f"a {value:.1f} ± 0.1 (n=3) vs b: {value:+.1f} points [{value - 0.5:+.1f}, {value + 0.5:+.1f}]",
            "criterion": "c", "n": {"a": 3, "b": 3}, "beyond": beyond,
            "estimates": [{"part": 1, "what": "a - b", "quantity": "test accuracy", "unit": "points", "value": value,
                           "interval": [value - 0.5, value + 0.5], "claimed": 3.0}]}


def run(root: Path, source: dict | None, claims: list[dict], preset: str | None = None) -> Path:
    results = {"version": "0.2.0", "profile": {"name": "paper"}, "preset": preset, "claims": claims,
               "verdicts": {"yes": 1}}
    if source is not None:
        results["data_source"] = source
    write_json(root / "profile.json", {"profile": {"name": "paper"}})
    write_json(root / "results.json", results)
    return root


@pytest.fixture
def runs(tmp_path) -> list[Path]:
    return [run(tmp_path / "a", STUDY, [claim("same", "no", -1.0), claim("flip", "yes", 2.0),
                                         claim("half", "n/a"), claim("mine", "yes", beyond=True)]),
            run(tmp_path / "b", FAINT, [claim("same", "no", -1.5), claim("flip", "no", -2.0),
                                         claim("half", "within noise"), claim("mine", "yes", beyond=True)]),
            run(tmp_path / "c", MINE, [claim("same", "no", -0.5), claim("flip", "partly", 1.0),
                                        claim("half", "within noise"), claim("mine", "yes", beyond=True)])]


def test_status_and_where():
    assert status(["no", "no", "no"]) == "robust"
    assert status(["yes", "no", "partly"], differs=True) == "flips"  # a regime-by-effect test rejected equal effects
    assert status(["yes", "no", "partly"]) == "consistent"  # verdicts differ, effects not shown to
    assert status(["yes", "partly"], differs=True) == "flips"  # holds everywhere, in part somewhere
    assert status(["no", "within noise", "untestable"], differs=True) == "unsettled"  # refuted once, open elsewhere
    assert status(["within noise", "untestable"]) == "undecided"
    assert status(["untestable", "untestable", "untestable"]) == "undecided"  # never robust
    assert status(["yes", "untestable", "by construction"]) == "unsettled"
    assert status(["n/a", "yes", None]) == "incomplete"
    assert status(["n/a", None]) == "not judged"
    assert status(["by construction", "untestable"]) == "undecided"  # made to match on one preset: not a flip
    assert status(["by construction", "dependent"]) == "not judged"
    # partly everywhere is robust only with the same parts holding
    assert status(["partly", "partly"], [("yes", "within noise"), ("yes", "untestable")]) == "robust"
    assert status(["partly", "partly"], [("yes", "within noise"), ("within noise", "yes")]) == "consistent"
    assert part_verdicts({"why": "(1) yes: p = 0.01; (2) within noise: p = 0.4"}) == ("yes", "within noise")
    assert part_verdicts({"parts": ["no"], "why": "(1) yes:"}) == ("no",)
    assert where({"study": "yes", "faint": "no", "mine": "partly"}) == \
        "holds under study (yes); mine (partly); no under faint"
    assert where({"study": "no", "faint": "no"}) == "no under study, faint"


def test_the_matrix_marks_robust_and_flipping_claims(runs):
    matrix = across(load_runs(runs))
    assert [r["name"] for r in matrix["regimes"]] == ["study", "faint", "mine.npz (ab12cd34)"]
    rows = {c["key"]: c for c in matrix["claims"]}
    assert rows["same"]["status"] == "robust" and rows["same"]["where"] == "no everywhere"
    assert rows["flip"]["status"] == "flips" and rows["flip"]["holds_under"] == ["study", "mine.npz (ab12cd34)"]
    assert rows["flip"]["where"] == "holds under study (yes); mine.npz (ab12cd34) (partly); no under faint"
    assert rows["half"]["status"] == "undecided"
    assert "regime-by-effect: (1) study minus faint +4.00 points" in rows["flip"]["interaction_text"]
    assert rows["flip"]["interaction_text"].endswith("the effects differ (a flip)")
    counts = {"robust": 1, "flips": 1, "consistent": 0, "unsettled": 0, "undecided": 1, "incomplete": 0,
              "not judged": 0}
    assert matrix["counts"] == counts  # 'mine' apart
    cell = next(c for c in matrix["cells"] if c["key"] == "flip" and c["regime"] == "faint")
    assert cell["verdict"] == "no" and cell["ours"].endswith("-2.0 points [-2.5, -1.5]") and cell["n"] == {"a": 3,
                                                                                                           "b": 3}


def test_the_command_writes_the_table_the_details_and_the_figure(runs, tmp_path, capsys):
    assert main(["report", "--across", *map(str, runs), "--out", str(tmp_path / "m")]) == 0, capsys.readouterr().err
    md = (tmp_path / "m" / "across.md").read_text()
    assert "| claim | study | faint | mine.npz (ab12cd34) | across regimes | where |" in md
    assert "| Claim same | no | no | no | robust | no everywhere |" in md
    assert "| Claim flip | yes | no | partly | flips | holds under study (yes); mine.npz (ab12cd34) (partly); " \
           "no under faint |" in md
    assert "| Claim flip | faint | no | – | a -2.0 ± 0.1 (n=3) vs b: -2.0 points [-2.5, -1.5] | a 3, b 3 |" in md
    assert ("3 of the study's claims across 3 regimes: robust 1, flips 1, consistent 0, unsettled 0, undecided 1, "
            "incomplete 0, not judged 0") in md
    assert "| Claim flip | flips | regime-by-effect: (1) study minus faint +4.00 points" in md
    assert "Beyond the study: the project's own claims" in md
    assert "your dataset /data/mine.npz (mine.npz SHA-256 ab12cd34" in md
    assert (tmp_path / "m" / "effects.png").stat().st_size > 0 and "effects.png" in md
    html = (tmp_path / "m" / "across.html").read_text()  # each verdict's numbers on hover
    assert '<td class="no" title="a -2.0 ± 0.1 (n=3) vs b: -2.0 points [-2.5, -1.5]">no</td>' in html
    assert 'title="regime-by-effect: (1) study minus faint +4.00 points' in html  # the status's hover
    assert json.loads((tmp_path / "m" / "across.json").read_text())["counts"]["flips"] == 1


def test_old_results_without_a_data_source_read_as_their_preset(tmp_path):
    runs = [run(tmp_path / "a", None, [claim("x", "yes")], preset="study"),
            run(tmp_path / "b", None, [claim("x", "yes")], preset="study")]
    names = [r["regime"] for r in load_runs(runs)]
    assert names == [f"study [{runs[0]}]", f"study [{runs[1]}]"]  # the same data twice: told apart by folder
    assert main(["report", "--across", *map(str, runs), "--out", str(tmp_path / "m")]) == 0
    assert f"study [{runs[0]}]: {runs[0]}, profile paper, multimnist 0.2.0, on generator preset 'study'." in \
        (tmp_path / "m" / "across.md").read_text()


@pytest.mark.parametrize(("argv", "message"), [
    (["--across", "{a}", "--out", "{o}"], "--across needs at least two reproduce folders"),
    (["--across", "{a}", "{b}"], "report --across needs --out DIR, the folder to write across.html, across.md, "
                                 "across.json and effects.png to (e.g. report --across RUN_A RUN_B --out matrix/)"),
    (["{a}", "--across", "{a}", "{b}", "--out", "{o}"], "--across ...: give every folder after --across (report "
                                                        "--across RUN_A RUN_B ... --out DIR), or one folder without"),
    (["{a}", "--out", "{o}"], "--out goes with --across"),
    ([], "report needs the folder"),
    (["--across", "{a}", "{empty}", "--out", "{o}"], "holds nothing, not a study"),
])
def test_bad_across_commands_are_one_line(runs, tmp_path, capsys, argv, message):
    (tmp_path / "empty").mkdir()
    paths = {"a": runs[0], "b": runs[1], "o": tmp_path / "o", "empty": tmp_path / "empty"}
    code = main(["report", *(a.format(**paths) for a in argv)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err, err


def test_a_broken_results_json_is_named(runs, tmp_path, capsys):
    (runs[1] / "results.json").write_text(json.dumps({"claims": [{"key": "x"}], "verdicts": {}}))
    assert main(["report", "--across", *map(str, runs), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert f"cannot read {runs[1] / 'results.json'}: no statement, verdict, ours, n" in err


def test_every_claim_is_in_one_family():
    from multimnist.report.claims import FAMILIES, claim_specs

    keys = [k for keys in FAMILIES.values() for k in keys]
    assert len(keys) == len(set(keys))
    assert set(keys) == {spec.key for spec in claim_specs()}


def test_the_readme_renders_the_matrix_family_by_family(tmp_path):
    from multimnist.report.readme import across_tables

    claims = lambda v1, x, v2: [claim("l2", v1, x), claim("depth", v2, -1.0), claim("sgd_he", "no")]  # noqa: E731
    runs = [run(tmp_path / "a", STUDY, claims("yes", 2.0, "no")), run(tmp_path / "b", FAINT, claims("no", -1.0, "no"))]
    text = across_tables(across(load_runs(runs)))
    assert "2 paper-profile runs, one per data preset (`study`, `faint`)" in text
    regularization, side = text.split("**Regularization.**")[1].split("**Side experiments.**")
    assert "| Claim l2 | yes | no | flips: holds under study (yes); no under faint |" in regularization
    assert "Robust 0 of 1; flips 1." in regularization
    assert "| Claim depth | no | no | robust |" in side and "Robust 2 of 2 (no 2)." in side


def test_a_flip_needs_a_regime_by_effect_difference(tmp_path):
    """Built example: the same claim decided yes under one regime and no under another. With estimates +1.2 and
    +0.9 points (se 0.2 each) the verdicts differ by interval width alone: consistent. With +1.2 and -1.2 the
    difference of the effects (2.4 points, se 0.28) is beyond noise: a flip. Holm runs over the claim's regime pairs."""
    def cell(verdict, value, se=0.2, df=4.0):
        return {"verdict": verdict, "n": {"a": 3, "b": 3}, "estimates": [
            {"part": 1, "what": "a - b", "unit": "points", "value": value, "se": se, "df": df,
             "interval": [value - 2.78 * se, value + 2.78 * se]}]}

    tests = interaction({"study": cell("yes", 1.2), "faint": cell("no", 0.9)})
    assert len(tests) == 1 and tests[0]["difference"] == pytest.approx(0.3)
    assert tests[0]["se"] == pytest.approx(0.2 * 2 ** 0.5) and tests[0]["df"] == pytest.approx(8.0)
    assert tests[0]["p"] == pytest.approx(2 * stats.t.sf(0.3 / (0.2 * 2 ** 0.5), 8.0))
    three = interaction({"a": cell("yes", 1.2), "b": cell("no", -1.2), "c": cell("yes", 1.1)})
    assert [t["regimes"] for t in three] == [["a", "b"], ["a", "c"], ["b", "c"]]
    assert three[0]["p_holm"] == pytest.approx(min(1.0, 3 * three[0]["p"]))  # the smallest of three: x3

    def matrix(v2):
        rows = [claim("x", "yes", 1.2), claim("x", "no", v2)]
        for row, value in zip(rows, (1.2, v2), strict=True):
            row["estimates"][0].update(se=0.2, df=4.0, interval=[value - 0.56, value + 0.56])
        return rows

    for v2, expected in ((0.9, "consistent"), (-1.2, "flips")):
        runs = [run(tmp_path / f"a{v2}", STUDY, [matrix(v2)[0]]), run(tmp_path / f"b{v2}", FAINT, [matrix(v2)[1]])]
        assert across(load_runs(runs))["claims"][0]["status"] == expected


def test_old_results_get_a_conservative_standard_error():
    """A results.json written before estimates kept se and df: se from the 95% interval at the most df Welch
    could have had (n_a + n_b - 2), and the fewest df (min n - 1) for the test."""
    old = {"verdict": "yes", "n": {"a": 3, "b": 3}, "estimates": [{"part": 1, "what": "a - b", "unit": "points",
                                                                   "value": 1.0, "interval": [0.0, 2.0]}]}
    new = {**old, "estimates": [{**old["estimates"][0], "value": 0.0}]}
    (t,) = interaction({"x": old, "y": new})
    se = 1.0 / stats.t.ppf(0.975, 4)
    assert t["se"] == pytest.approx(se * 2 ** 0.5) and t["df"] == pytest.approx(4.0)  # 2 + 2 from two sides


def test_a_claim_an_older_run_words_otherwise_is_marked(tmp_path):
    """A matrix mixing versions: where an older run's criterion of a claim reads otherwise than the newest run's,
    the row names the regimes (its `where`, across.md) and the README's status cell is marked; the same wording is
    not marked."""
    from multimnist.report.readme import REREAD, claims_summary

    new = [claim("regularized_cure", "yes", 1.0), claim("depth", "yes", 1.0)]
    old = [claim("regularized_cure", "no", -1.0), claim("depth", "yes", 1.0)]
    new[0]["criterion"] = "gap (training accuracy as Keras' fit logs it)"
    runs = [run(tmp_path / "a", STUDY, new), run(tmp_path / "b", FAINT, old)]
    results = json.loads((tmp_path / "a" / "results.json").read_text())
    write_json(tmp_path / "a" / "results.json", {**results, "version": "0.4.0"})  # the newest: its wording counts
    matrix = across(load_runs(runs))
    rows = {c["key"]: c for c in matrix["claims"]}
    assert rows["regularized_cure"]["readings_differ"] == ["faint"] and rows["depth"]["readings_differ"] == []
    assert rows["regularized_cure"]["where"].endswith("criterion worded otherwise under faint (an older run)")
    summary = claims_summary(matrix)
    assert f"| {rows['regularized_cure']['status']} {REREAD} |" in summary and f"| robust {REREAD}" not in summary
    assert f"*{REREAD}*: an older run words the claim's criterion otherwise" in summary
