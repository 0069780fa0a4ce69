"""Render the study report: sections of paragraphs, tables and figures, as self-contained HTML and Markdown.

Figures are referenced by paths relative to the report, inside the run folder; the HTML has no fonts, links
or scripts from outside it, so it works offline. A section may carry a widget: a template of its own
(templates/NAME.html.j2, the latent explorer's) that the HTML includes and the Markdown leaves out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
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


def render_html(title: str, subtitle: str, sections: list[Section]) -> str:
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
            lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in t.rows]
            lines.append("")
        for f in s.figures:
            lines += [f"![{f.caption}]({f.path})", "", f"*{f.caption}*", ""]
    return "\n".join(lines)


def relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()
