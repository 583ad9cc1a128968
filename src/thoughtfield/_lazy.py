"""A module imported on first attribute access, for heavy dependencies that only some
paths need (``scipy.sparse`` to validate a config, ``xarray`` to describe one)."""

import importlib


class LazyModule:
    """Stands for module ``name``; the first attribute access imports it."""

    __slots__ = ("_name", "_module")

    def __init__(self, name: str):
        self._name = name
        self._module = None

    def __getattr__(self, attr):
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)

    def __repr__(self):
        return f"<lazy module {self._name!r}>"
