"""`multimnist docs`: the user pages of the documentation site, printed from the installed package; the help texts
name only pages that ship; the site's CLI reference is written from the parser and holds every command."""

from __future__ import annotations

import re
from pathlib import Path

from multimnist.cli import build_parser, main
from multimnist.cli.docs import ORDER, documents, for_terminal
from multimnist.cli.reference import anchor, commands, overview, pages

import yaml

ROOT = Path(__file__).parents[1]
SHIPPED = ROOT / "src" / "multimnist" / "docs"


def site_pages() -> list[str]:
    """The pages of mkdocs.yml's nav, as paths under docs/."""
    def leaves(node):
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            for value in node.values():
                yield from leaves(value)
        else:
            for item in node:
                yield from leaves(item)

    return list(leaves(site_config()["nav"]))


def site_config() -> dict:
    return yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)  # BaseLoader: no !tags needed


def test_the_lab_records_stay_out_of_the_site():
    assert "notes/" in site_config()["exclude_docs"].split()
    assert not any(page.startswith("notes/") for page in site_pages())


def test_docs_prints_the_user_pages_of_the_site(capsys):
    """Every page of the site but the front page and the generated references ships, and nothing else: no lab
    record of docs/notes/."""
    pages = {p for p in site_pages() if p != "index.md" and not p.startswith("reference/")}
    shipped = {f.name: f.resolve() for f in SHIPPED.glob("*.md")}
    assert {str(path.relative_to(ROOT / "docs")) for path in shipped.values()} == pages
    assert list(documents()) == list(ORDER)
    for name in ORDER:
        assert main(["docs", name]) == 0
        printed = capsys.readouterr().out
        assert printed == for_terminal((SHIPPED / f"{name}.md").read_text(), set(ORDER))


def test_links_print_as_the_command_that_shows_the_page():
    text = "See [Calibration](../calibration.md#presets), [the API](reference/python.md) and [Ray](https://ray.io)."
    assert for_terminal(text, {"calibration"}) == ("See Calibration (`multimnist docs calibration`), the API and "
                                                   "[Ray](https://ray.io).")
    assert for_terminal("![a figure](results/x.png)", {"x"}) == "![a figure](results/x.png)"


def test_docs_lists_them_and_refuses_an_unknown_name(capsys):
    assert main(["docs"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0] == "getting-started  Getting started"
    assert [line.split()[0] for line in listing] == list(ORDER)
    assert main(["docs", "calibrate"]) == 2
    assert capsys.readouterr().err == ("multimnist: error: no document named 'calibrate'; known: "
                                       f"{', '.join(ORDER)}\n")


def test_every_page_the_help_names_ships():
    named = set()
    for _, parser in commands(build_parser()):
        named |= set(re.findall(r"multimnist docs ([a-z-]+)", " ".join(parser.format_help().split())))
    assert named and named <= set(ORDER), f"help names pages that do not ship: {named - set(ORDER)}"


def test_the_cli_reference_holds_every_command_with_its_help():
    """One page a top-level command, a section a command with its --help and every option; the overview links
    to every section."""
    found = pages(build_parser())
    paths = [path for path, _ in commands(build_parser())]
    assert len(paths) > 20 and ("reproduce",) in paths and ("data", "make") in paths
    assert list(found) == [path[0] for path in paths if len(path) == 1]
    table = overview(build_parser())
    assert table.startswith("```text\nusage: multimnist")
    for path, parser in commands(build_parser()):
        if not path:
            continue
        text, title = found[path[0]], " ".join(("multimnist", *path))
        heading = re.search(rf"^(#+) {re.escape(title)} \{{#{anchor(path)}\}}$", text, re.M)
        assert heading, f"no section for {title}"
        assert len(heading.group(1)) == min(len(path), 2)
        section = text[heading.end():].split("\n#", 1)[0]
        assert section.strip().startswith("```text\nusage: " + title)
        for action in parser._actions:
            for option in action.option_strings:
                assert option in section, f"{title}: {option} missing"
        assert f"]({path[0]}.md#{anchor(path)})" in table
    helps = [line for text in found.values() for line in text.splitlines() if not line.startswith("#")]
    # wrapped at WIDTH (argparse cannot break a list of choices, such as --sampler's)
    assert [line for line in helps if len(line) > 80 and "{" not in line] == []


def test_the_cli_reference_is_the_same_on_any_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    narrow = pages(build_parser()), overview(build_parser())
    monkeypatch.setenv("COLUMNS", "200")
    assert (pages(build_parser()), overview(build_parser())) == narrow


def test_the_cli_page_has_the_place_for_the_reference():
    assert "<!-- cli-reference -->" in (ROOT / "docs" / "reference" / "cli" / "index.md").read_text()


def _options(*path: str) -> set[str]:
    from multimnist.cli import build_parser

    parser = build_parser()
    for name in path:
        parser = next(a for a in parser._actions if hasattr(a, "choices") and isinstance(a.choices, dict)).choices[name]
    return {o for action in parser._actions for o in action.option_strings}


def test_scaling_names_the_commands_that_take_the_run_options_as_the_parser_has_them():
    text = " ".join((ROOT / "docs" / "scaling.md").read_text().split())
    assert ("`reproduce`, `train classifier --seeds`, every `sweep`, and `calibrate search`, which trains each "
            "setting alone, so it has no `--pack`") in text
    shared = {"--jobs", "--executor", "--address", "--no-shared-fs"}
    for path in (["reproduce"], ["train", "classifier"], ["sweep", "depth"], ["sweep", "compression"],
                 ["calibrate", "search"]):
        assert shared <= _options(*path), path
    assert "--pack" not in _options("calibrate", "search") and "--pack" in _options("reproduce")


def test_scaling_and_the_makefile_agree_on_jobs_2():
    """The Makefile passes --jobs 2; the scaling page says what it buys on 2 cores, and that make uses it."""
    makefile = (ROOT / "Makefile").read_text()
    assert "\nJOBS ?= 2\n" in makefile and "--jobs $(JOBS)" in makefile
    text = " ".join((ROOT / "docs" / "scaling.md").read_text().split())
    assert "rarely helps" not in text and "`make reproduce` passes `--jobs 2`" in text


def test_install_commands_name_the_clone_not_a_published_package():
    for path in (ROOT / "README.md", *(p for p in (ROOT / "docs").rglob("*.md") if "notes" not in p.parts)):
        assert "pip install 'multimnist[" not in path.read_text(), path
