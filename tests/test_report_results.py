"""The README's results tables: rendered from a results.json, round-tripped between the README's markers, and
(once the paper run's results.json is committed) equal to what the README holds."""

from __future__ import annotations

import json
from pathlib import Path

from multimnist.report.readme import BEGIN, END, block, main, readme_tables, replace_block

import pytest

ROOT = Path(__file__).parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "results.json"  # write_report on test_claims.make_study_folder
PAPER = ROOT / "docs" / "results" / "paper.json"


@pytest.fixture(scope="module")
def results() -> dict:
    return json.loads(FIXTURE.read_text())


def test_tables_quote_results_json(results):
    tables = readme_tables(results)
    assert "Profile `paper`, multimnist 0.2.0, data preset `study`" in tables
    assert "| unregularized | 3 | 90.2 ± 0.2 | 91.2 ± 0.2 | 99.2 ± 0.2 | 8.5 ± 0.0 | 91.5 / 89 / 100 |" in tables
    assert "| 20 | 55 | 0.00510 ± 0.00010 (n=3) |" in tables
    assert "| gaussian | 20.0% [18.0–22.0] | 8.0% [5.0–12.0] | 40.0 | 50.0 |" in tables
    assert "21 claims checked: yes " in tables and "3 more hold by construction (not counted)." in tables
    for claim in results["claims"]:
        assert f"| {claim['statement']} |" in tables
    assert BEGIN not in tables and END not in tables


def test_tables_round_trip_between_the_markers(results):
    tables = readme_tables(results)
    readme = f"# Title\n\nBefore.\n\n{BEGIN}\nold tables\n{END}\n\nAfter.\n"
    updated = replace_block(readme, tables)
    assert block(updated) == tables
    assert replace_block(updated, tables) == updated  # rendering again changes nothing
    assert updated.startswith("# Title\n\nBefore.\n\n") and updated.endswith(f"{END}\n\nAfter.\n")


def test_the_command_writes_and_checks(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{BEGIN}\n{END}\n")
    assert main([str(FIXTURE), str(readme), "--check"]) == 1
    assert main([str(FIXTURE), str(readme)]) == 0
    assert main([str(FIXTURE), str(readme), "--check"]) == 0
    assert block(readme.read_text()) == readme_tables(json.loads(FIXTURE.read_text()))
    readme.write_text("no markers\n")
    assert main([str(FIXTURE), str(readme)]) == 2
    assert "markers" in capsys.readouterr().err


def test_the_readme_quotes_the_committed_paper_results():
    """README.md's tables between the markers are docs/results/paper.json rendered (regenerate them with
    `python -m multimnist.report.readme docs/results/paper.json README.md`)."""
    text = (ROOT / "README.md").read_text()
    assert block(text) is not None, "README.md lost its results markers"
    assert block(text) == readme_tables(json.loads(PAPER.read_text()))
