"""Which optional extra provides which import: the core install (numpy, PyYAML, Pillow) lacks the rest.

A command that reaches for a missing one ends in one line naming the extra to install, not a traceback.
"""

from __future__ import annotations

from multimnist.errors import UserError

# Top-level module -> the extra of pyproject.toml that installs it.
EXTRA_OF = {
    "keras": "train",
    "jax": "train",
    "jaxlib": "train",
    "scipy": "train",
    "sklearn": "train",
    "matplotlib": "report",
    "jinja2": "report",
    "pyarrow": "parquet",
    "ray": "ray",
}


def missing_extra(error: ModuleNotFoundError) -> UserError | None:
    """A one-line UserError for an import of an uninstalled extra; None for any other missing module."""
    module = (error.name or "").split(".")[0]
    extra = EXTRA_OF.get(module)
    if extra is None:
        return None
    return UserError(f"this command needs {module}, which the core install leaves out: "
                     f"pip install 'multimnist[{extra}]' (or 'multimnist[all]')")
