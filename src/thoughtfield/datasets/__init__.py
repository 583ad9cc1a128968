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
                          + V.did_you_mean(str(name), _REGISTRY), key='network.dataset') from None


def load(name: str, /, **options):
    """Load the dataset ``name`` as a :class:`~thoughtfield.ConceptNetwork`."""
    loader, _ = _lookup(name)
    return loader(**options)


from ._wordnet import synsets as wordnet_synsets  # noqa: E402
from ._wordnet import wordnet  # noqa: E402

register("wordnet", wordnet,
         "Princeton WordNet 3.0: 117,659 synsets, hypernym/instance/meronym/antonym/similar_to/"
         "entailment/cause relations, layers level1 (most specific) .. level4 from hypernym "
         "depth (options: pos, relations, "
         "glosses, path)")


def blank(n: int = 100, prefix: str = "c", layer: str | None = None):
    """``n`` concepts named ``prefix0 .. prefix{n-1}`` without relations (for networks whose
    couplings all come from stored ideas, e.g. Hopfield networks)."""
    from ..network import DEFAULT_LAYERS, ConceptNetwork
    n = V.integer("network.options.n", n, min=1, max=10**8)
    V.name("network.options.prefix", prefix)
    if layer is not None and layer not in DEFAULT_LAYERS:
        raise ConfigError(f"network.options.layer: unknown layer {layer!r}; the layers are "
                          f"{', '.join(DEFAULT_LAYERS)}" + V.did_you_mean(str(layer), DEFAULT_LAYERS),
                          key='network.options.layer')
    net = ConceptNetwork()
    for i in range(n):
        net.add_concept(f"{prefix}{i}", layer)
    return net


register("blank", blank, "n concepts without relations (options: n, prefix, layer), for "
         "networks whose couplings come from stored ideas")
