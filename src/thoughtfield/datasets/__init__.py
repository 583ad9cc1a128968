"""Bundled and registered concept networks, loadable by name (also from configs:
``[network] dataset = "name"``).

>>> import thoughtfield as tf
>>> sorted(tf.datasets.names())  # doctest: +SKIP
['wordnet']
"""

from __future__ import annotations

from collections.abc import Callable

from .. import _validate as V
from ..errors import ConfigError

_REGISTRY: dict[str, tuple[Callable, str]] = {}


def register(name: str, loader: Callable, description: str = "") -> None:
    """Register ``loader(**options) -> ConceptNetwork`` under ``name``."""
    V.name("dataset name", name)
    _REGISTRY[name] = (loader, description)


def names() -> list[str]:
    """Names of the registered datasets."""
    return sorted(_REGISTRY)


def describe(name: str) -> str:
    return _lookup(name)[1]


def _lookup(name):
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        known = ", ".join(names()) or "none"
        raise ConfigError(f"network.dataset: unknown dataset {name!r}; available: {known}"
                          + V.did_you_mean(str(name), _REGISTRY)) from None


def load(name: str, **options):
    """Load the dataset ``name`` as a :class:`~thoughtfield.ConceptNetwork`."""
    loader, _ = _lookup(name)
    return loader(**options)


from ._wordnet import synsets as wordnet_synsets  # noqa: E402
from ._wordnet import wordnet  # noqa: E402

register("wordnet", wordnet,
         "Princeton WordNet 3.0: 117,659 synsets, hypernym/instance/meronym/antonym/similar_to/"
         "entailment/cause relations, layers from hypernym depth (options: pos, relations, "
         "glosses, path)")
