"""The package version, in a module that imports nothing, so any layer can import it without pulling in the
package's `__init__` (pyproject.toml reads it from here too)."""

__version__ = "0.4.0"
