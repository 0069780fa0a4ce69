"""Render the study report: sections of paragraphs, tables and figures, as self-contained HTML and Markdown.

Figures are referenced by paths relative to the report, inside the run folder; the HTML has no fonts, links
or scripts from outside it, so it works offline. A section may carry a widget: a template of its own
(templates/NAME.html.j2, the latent explorer's) that the HTML includes and the Markdown leaves out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import jinja2

VERDICTS = {"yes": "yes", "no": "no", "partly": "partly", "n/a": "na", "within noise": "noise",
            "untestable": "noise", "by construction": "construction", "dependent": "construction"}


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    title: str = ""
    hints: list[list[str]] | None = None  # per cell, shown on hover in the HTML ("" for none); not in Markdown
    notes: list[str] = field(default_factory=list)  # lines below the table (the whole text of long cells)


@dataclass
class Figure:
    path: str  # relative to the report
    caption: str


@dataclass
class Widget:
    template: str  # under templates/, rendered with `w` bound to this widget
    context: dict = field(default_factory=dict)


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    widgets: list[Widget] = field(default_factory=list)  # HTML only

    @property
    def anchor(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.title.lower()).strip("-")


LONG_CELL = 600  # characters: a longer cell shows its start, and its whole text on hover and below the table
SHOWN = 240  # characters of a long cell shown in the table


def fold_long_cells(table: Table) -> Table:
    """`table` with each cell over LONG_CELL characters cut to its start (at a word) and marked "[note N]", its whole
    text in the cell's hover hint and in the notes below the table: a claim's list of ten comparisons stays
    readable in a row, and nothing is lost."""
    rows, hints, notes = [], [], list(table.notes)
    for i, row in enumerate(table.rows):
        cells, row_hints = [], list(table.hints[i]) if table.hints else [""] * len(row)
        for j, cell in enumerate(row):
            text = str(cell)
            if len(text) > LONG_CELL:
                notes.append(f"[note {len(notes) + 1}] {table.columns[j]} of '{str(row[0])[:80]}': {text}")
                text = f"{text[:SHOWN].rsplit(' ', 1)[0]} … [note {len(notes)}]"
                row_hints[j] = str(cell)
            cells.append(text)
        rows.append(cells)
        hints.append(row_hints)
    if len(notes) == len(table.notes):
        return table
    return Table(table.columns, rows, table.title, hints, notes)


def render_html(title: str, subtitle: str, sections: list[Section]) -> str:
    sections = [replace(s, tables=[fold_long_cells(t) for t in s.tables]) for s in sections]
    env = jinja2.Environment(loader=jinja2.PackageLoader("multimnist.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]))
    return env.get_template("report.html.j2").render(title=title, subtitle=subtitle, sections=sections,
                                                     verdicts=VERDICTS)


def render_markdown(title: str, subtitle: str, sections: list[Section]) -> str:
    lines = [f"# {title}", "", subtitle, ""]
    for s in sections:
        lines += [f"## {s.title}", ""]
        for p in s.paragraphs:
            lines += [p, ""]
        for t in s.tables:
            if t.title:
                lines += [f"### {t.title}", ""]
            lines.append("| " + " | ".join(t.columns) + " |")
            lines.append("|" + "---|" * len(t.columns))
            t = fold_long_cells(t)
            lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in t.rows]
            lines.append("")
            for note in t.notes:
                lines += [note, ""]
        for f in s.figures:
            lines += [f"![{f.caption}]({f.path})", "", f"*{f.caption}*", ""]
    return "\n".join(lines)


def relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()
