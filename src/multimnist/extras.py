"""Which optional extra provides which import: the core install (numpy, PyYAML, Pillow) lacks the rest.

A command that reaches for a missing one ends in one line naming the extra to install, not a traceback: the
command's own extra when it holds the module (`report` needs scipy from [report]), else the first that does.
"""

from __future__ import annotations

from multimnist.errors import UserError

# The extras of pyproject.toml -> the top-level modules each installs (scipy is in two).
EXTRAS = {
    "train": ("keras", "jax", "jaxlib", "sklearn", "scipy"),
    "report": ("matplotlib", "jinja2", "scipy"),
    "parquet": ("pyarrow",),
    "ray": ("ray",),
}


def install_hint(extra: str) -> str:
    """How to add an extra: from the clone, as multimnist is installed (the name is not a published package's)."""
    return f"pip install -e '.[{extra}]' in the multimnist clone"


def missing_extra(error: ModuleNotFoundError, needs: str | None = None) -> UserError | None:
    """A one-line UserError for an import of an uninstalled extra; None for any other missing module.

    `needs` is the extra the command declares (`set_defaults(extra=...)`); it is named when it holds the module.
    """
    module = (error.name or "").split(".")[0]
    holders = [extra for extra, modules in EXTRAS.items() if module in modules]
    if not holders:
        return None
    extra = needs if needs in holders else holders[0]
    return UserError(f"this command needs {module}, which the core install leaves out: "
                     f"{install_hint(extra)} (or '.[all]')")
