"""The modules that add config sections and plot kinds to the registries of
:mod:`thoughtfield.config` and :mod:`thoughtfield.plots` when imported.

They are imported on the first look into a registry (not by ``import thoughtfield``), in
this order, which is the order of the sections in a resolved config and in
``docs/config.md``.
"""

import importlib

MODULES = ("thoughtfield._mechanism_config", "thoughtfield.plots_mechanisms", "thoughtfield.sweeps",
           "thoughtfield._analysis_config", "thoughtfield.plots_fit")

_loaded = False


def load() -> None:
    """Import every extension module once (later calls return at once)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in MODULES:
        importlib.import_module(name)
