"""The dynamics: leaky rate units over a concept network (DESIGN §1, reference model).

Activation form (default)::

    tau_i da_i/dt = -a_i + f(gain_i * (u_i - threshold_i)) + sigma_i xi_i(t)
    u_i = sum_j W_ij a_j + I_i(t) + bias_i

Noise enters as ``tau da = (...) dt + sigma dW``: a single unit with ``f`` linear and no
input is an Ornstein-Uhlenbeck process with stationary variance ``sigma**2 / (2 tau)``.

Per-concept parameters (``tau``, ``gain``, ``threshold``, ``bias``, ``sigma``, ``initial``)
take a number (all concepts), a sequence with one value per concept, or a mapping from
concept names to values where ``"*"`` sets the default and ``"@layer"`` keys set every
concept of a layer (a concept's own key wins over its layer, the layer over ``"*"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import _validate as V
from .errors import ConfigError

#: Transfer functions ``f(x)`` applied to ``x = gain * (u - threshold)``.
TRANSFERS = {
    "linear": "f(x) = x",
    "sigmoid": "f(x) = 1 / (1 + exp(-x))  (logistic, range 0..1)",
    "tanh": "f(x) = tanh(x)  (range -1..1)",
    "satlin": "f(x) = min(max(x, 0), 1)  (saturating ReLU)",
    "relu": "f(x) = max(x, 0)",
}
TRANSFER_CODES = {name: i for i, name in enumerate(TRANSFERS)}

FORMS = ("activation",)

_PER_CONCEPT = {
    # name: (default, check)
    "tau": (1.0, "positive"),
    "gain": (1.0, "real"),
    "threshold": (0.0, "real"),
    "bias": (0.0, "real"),
    "sigma": (0.0, "nonnegative"),
    "initial": (0.0, "real"),
}


def _check_value(key: str, value, kind: str) -> float:
    if kind == "positive":
        return V.positive(key, value)
    if kind == "nonnegative":
        return V.nonnegative(key, value)
    return V.real(key, value)


def _check_per_concept(key: str, value, kind: str):
    """Validate a per-concept parameter spec (values only; names are checked at build)."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str) or not k:
                raise ConfigError(f"{key}: keys must be concept names, '@layer' or '*' (got {k!r})")
            out[k] = _check_value(f"{key}.{k}", v, kind)
        return out
    if isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str):
        arr = V.real_array(key, value)
        if kind == "positive" and (arr <= 0).any():
            i = int(np.argmax(arr <= 0))
            raise ConfigError(f"{key}[{i}]: must be > 0 (got {arr[i]:g})")
        if kind == "nonnegative" and (arr < 0).any():
            i = int(np.argmax(arr < 0))
            raise ConfigError(f"{key}[{i}]: must be >= 0 (got {arr[i]:g})")
        arr.setflags(write=False)
        return arr
    return _check_value(key, value, kind)


def resolve_per_concept(key: str, spec, network, default: float) -> np.ndarray:
    """Expand a per-concept spec into an array with one value per concept of ``network``."""
    n = network.n
    if isinstance(spec, np.ndarray):
        if spec.size != n:
            raise ConfigError(f"{key}: has {spec.size} values but the network has {n} concepts")
        return np.array(spec, dtype=np.float64)
    if isinstance(spec, Mapping):
        out = np.full(n, float(spec.get("*", default)))
        codes = network.layer_codes
        for k, v in spec.items():
            if k.startswith("@"):
                lay = k[1:]
                if lay not in network.layers:
                    raise ConfigError(f"{key}.{k}: unknown layer {lay!r}; the layers are "
                                      f"{', '.join(network.layers)}" + V.did_you_mean(lay, network.layers))
                out[codes == network.layers.index(lay)] = v
        for k, v in spec.items():
            if k != "*" and not k.startswith("@"):
                out[network.index(k, f"{key}.{k}")] = v
        return out
    return np.full(n, float(spec))


@dataclass(frozen=True)
class Model:
    """Parameters of the leaky-rate dynamics.

    Parameters
    ----------
    tau : per-concept, > 0
        Time constant (model time units; results use the same unit).
    transfer : str
        One of :data:`TRANSFERS`.
    gain, threshold : per-concept
        ``f`` is applied to ``gain * (u - threshold)``.
    bias : per-concept
        Constant input added to ``u`` (inside ``f``).
    sigma : per-concept, >= 0
        Noise amplitude (``tau da = ... dt + sigma dW``); needs the ``euler_maruyama`` solver.
    initial : per-concept
        Initial activation.
    form : str
        ``"activation"``: ``tau da/dt = -a + f(W a + I + b)``.
    """

    tau: object = 1.0
    transfer: str = "sigmoid"
    gain: object = 1.0
    threshold: object = 0.0
    bias: object = 0.0
    sigma: object = 0.0
    initial: object = 0.0
    form: str = "activation"

    def __post_init__(self):
        V.choice("transfer", self.transfer, TRANSFERS)
        V.choice("form", self.form, FORMS)
        for name, (_, kind) in _PER_CONCEPT.items():
            object.__setattr__(self, name, _check_per_concept(name, getattr(self, name), kind))

    def resolve(self, name: str, network) -> np.ndarray:
        """Per-concept values of parameter ``name`` for ``network``."""
        return resolve_per_concept(name, getattr(self, name), network, _PER_CONCEPT[name][0])

    @property
    def has_noise(self) -> bool:
        s = self.sigma
        if isinstance(s, Mapping):
            return any(v > 0 for v in s.values())
        if isinstance(s, np.ndarray):
            return bool((s > 0).any())
        return s > 0

    def to_dict(self) -> dict:
        out = {}
        for k in ("tau", "transfer", "gain", "threshold", "bias", "sigma", "initial", "form"):
            v = getattr(self, k)
            if isinstance(v, np.ndarray):
                v = v.tolist()
            elif isinstance(v, Mapping):
                v = dict(v)
            out[k] = v
        return out

    @classmethod
    def from_dict(cls, d: Mapping) -> "Model":
        allowed = ("tau", "transfer", "gain", "threshold", "bias", "sigma", "initial", "form")
        for k in d:
            if k not in allowed:
                raise ConfigError(f"model: unknown key {k!r}" + V.did_you_mean(k, allowed))
        return cls(**dict(d))
