"""`multimnist docs`: the documents the help refers to, printed from the installed package."""

from __future__ import annotations

from pathlib import Path

from multimnist.cli import main

DOCS = Path(__file__).parents[1] / "docs"


def test_docs_prints_the_repositorys_documents(capsys):
    for name in ("calibration", "scaling", "challenger"):
        assert main(["docs", name]) == 0
        assert capsys.readouterr().out == (DOCS / f"{name}.md").read_text()


def test_docs_lists_them_and_refuses_an_unknown_name(capsys):
    assert main(["docs"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "calibration  Calibrating the generator"
    assert main(["docs", "calibrate"]) == 2
    assert capsys.readouterr().err == "multimnist: error: no document named 'calibrate'; known: calibration, " \
                                      "challenger, scaling\n"


def _options(*path: str) -> set[str]:
    from multimnist.cli import build_parser

    parser = build_parser()
    for name in path:
        parser = next(a for a in parser._actions if hasattr(a, "choices") and isinstance(a.choices, dict)).choices[name]
    return {o for action in parser._actions for o in action.option_strings}


def test_scaling_names_the_commands_that_take_the_run_options_as_the_parser_has_them():
    text = (DOCS / "scaling.md").read_text()
    assert ("`reproduce`, `train classifier --seeds`, every `sweep`, and `calibrate search` (which trains each setting "
            "alone,\nso it has no `--pack`)") in text
    shared = {"--jobs", "--executor", "--address", "--no-shared-fs"}
    for path in (["reproduce"], ["train", "classifier"], ["sweep", "depth"], ["sweep", "compression"],
                 ["calibrate", "search"]):
        assert shared <= _options(*path), path
    assert "--pack" not in _options("calibrate", "search") and "--pack" in _options("reproduce")


def test_scaling_and_the_makefile_agree_on_jobs_2():
    """The Makefile passes --jobs 2; the scaling page says what it buys on 2 cores, and that make uses it."""
    makefile = (DOCS.parent / "Makefile").read_text()
    assert "\nJOBS ?= 2\n" in makefile and "--jobs $(JOBS)" in makefile
    text = (DOCS / "scaling.md").read_text()
    assert "rarely helps" not in text and "`make reproduce` passes `--jobs 2`" in text


def test_install_commands_name_the_clone_not_a_published_package():
    for path in (DOCS.parent / "README.md", DOCS / "scaling.md"):
        assert "pip install 'multimnist[" not in path.read_text(), path
