"""The dynamics: leaky rate units over a concept network (DESIGN §1, reference model).

Activation form (default)::

    tau_i da_i/dt = -a_i + f(gain_i * (u_i - threshold_i)) + sigma_i xi_i(t)
    u_i = sum_j W_ij a_j + I_i(t) + bias_i

Potential (net-input) form, ``form = "potential"`` (Hopfield 1984's graded-response
network; the "cascade" models of McClelland 1979)::

    tau_i du_i/dt = -u_i + sum_j W_ij a_j + I_i(t) + sigma_i xi_i(t)
    a_i = f(gain_i * (u_i + bias_i - threshold_i))

The state is ``u``; results report the output ``a`` (and ``u`` with
``record_potential``).  What follows from that (docs/potential.md has a worked cascade):

* ``initial`` is ``u(0)``, not ``a(0)``: ``a(0) = f(gain * (initial + bias - threshold))``,
  0.5 for the sigmoid with the defaults.
* A concept without input decays to ``u = 0``, i.e. ``a = f(gain * (bias - threshold))``:
  an unclamped sigmoid input unit rests at ``f(0) = 0.5`` and drives its targets with
  ``0.5 w``.
* A clamp holds the output ``a`` at its value and freezes ``u`` (``du/dt = 0``) at the
  value it had at the clamp's onset; on release ``u`` resumes from that frozen value, so
  ``a`` returns at once to ``f(u)``.  A clamp does not charge the potential; a pulse does.

A cascade update ``net(t) = r * (sum_j w_ij a_j + I) + (1 - r) * net(t - 1)`` is exactly
this form integrated by Euler's method with ``dt = r * tau``.

Mechanisms (goal bias, layers, pools, choices, control, adaptation, stored ideas) are
attached as fields; see :mod:`thoughtfield.mechanisms` for the terms they add.

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
from . import transfers as _transfers
from .errors import ConfigError

#: Transfer functions ``f(x)`` applied to ``x = gain * (u - threshold)``: ``linear``,
#: ``sigmoid``, ``tanh``, ``satlin``, ``relu``, ``softplus`` (name -> formula; everything
#: else about them is in :data:`thoughtfield.transfers.REGISTRY`).
TRANSFERS = {name: t.doc for name, t in _transfers.REGISTRY.items()}
#: The kernels' integer code of each transfer function.
TRANSFER_CODES = {name: t.code for name, t in _transfers.REGISTRY.items()}

FORMS = ("activation", "potential")

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
                if not getattr(network, "layered", True):
                    raise ConfigError(f"{key}.{k}: the network has no layers (none was given "
                                      "in the config or the network file); give per-concept "
                                      "values by concept name, or place the concepts in layers")
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
        Initial state: ``a(0)`` in the activation form, ``u(0)`` in the potential form
        (where ``a(0) = f(gain * (initial + bias - threshold))``, 0.5 for the sigmoid with
        the defaults).
    form : str
        ``"activation"``: ``tau da/dt = -a + f(W a + I + b)``; ``"potential"``:
        ``tau du/dt = -u + W f(u) + I`` -- ``initial`` is ``u(0)``, clamps hold ``a`` and
        freeze ``u``, release resumes from the frozen ``u`` (see the module docstring).
    record_potential : bool
        Potential form: also save ``potential(time, concept)`` (the state ``u``).
    adaptation : Adaptation, optional
    goals : Goals, optional
    layers : Layers, optional
    pools : list of Pool
    choices : list of Choice
    controls : list of Control
    ideas : Ideas, optional
        The mechanisms (:mod:`thoughtfield.mechanisms`); tables are accepted too.
    """

    tau: object = 1.0
    transfer: str = "sigmoid"
    gain: object = 1.0
    threshold: object = 0.0
    bias: object = 0.0
    sigma: object = 0.0
    initial: object = 0.0
    form: str = "activation"
    record_potential: bool = False
    adaptation: object = None
    goals: object = None
    layers: object = None
    pools: object = ()
    choices: object = ()
    controls: object = ()
    ideas: object = None

    def __post_init__(self):
        from . import mechanisms as mech
        V.choice("transfer", self.transfer, TRANSFERS)
        V.choice("form", self.form, FORMS)
        for name, (_, kind) in _PER_CONCEPT.items():
            object.__setattr__(self, name, _check_per_concept(name, getattr(self, name), kind))
        object.__setattr__(self, "record_potential", V.boolean("record_potential",
                                                               self.record_potential))
        object.__setattr__(self, "adaptation", mech.as_one(mech.Adaptation, "adaptation",
                                                           self.adaptation))
        object.__setattr__(self, "goals", mech.as_one(mech.Goals, "goals", self.goals))
        object.__setattr__(self, "layers", mech.as_one(mech.Layers, "layers", self.layers))
        object.__setattr__(self, "pools", mech.as_list_of(mech.Pool, "pools", self.pools))
        object.__setattr__(self, "choices", mech.as_list_of(mech.Choice, "choices", self.choices))
        object.__setattr__(self, "controls", mech.as_list_of(mech.Control, "controls",
                                                             self.controls))
        if isinstance(self.ideas, (list, tuple)):
            object.__setattr__(self, "ideas", mech.Ideas(tuple(self.ideas)))
        object.__setattr__(self, "ideas", mech.as_one(mech.Ideas, "ideas", self.ideas))
        self._check_references()

    def _check_references(self):
        """Names that refer to other mechanisms (pools of choices and controls)."""
        names = []
        for i, p in enumerate(self.pools):
            if p.name in names:
                raise ConfigError(f"pools[{i}].name: duplicate pool name {p.name!r}")
            names.append(p.name)
        layer_pools = [p.name for p in self.pools if p.layer == "*"]

        def known(nm):
            return nm in names or any(nm.startswith(lp + ":") for lp in layer_pools)

        seen = set()
        for i, c in enumerate(self.choices):
            if not known(c.pool):
                raise ConfigError(f"choices[{i}].pool: unknown pool {c.pool!r}"
                                  + V.did_you_mean(c.pool, names)
                                  + ("; define it under pools" if not names else
                                     f"; the pools are {', '.join(names)}"))
            if c.pool in seen:
                raise ConfigError(f"choices[{i}].pool: pool {c.pool!r} already has a choice; "
                                  "one choice per pool")
            seen.add(c.pool)
        cnames = set()
        goal_ctrl = 0
        for i, c in enumerate(self.controls):
            if c.name in cnames:
                raise ConfigError(f"controls[{i}].name: duplicate control name {c.name!r}")
            cnames.add(c.name)
            for nm in c.monitor:
                if not known(nm):
                    raise ConfigError(f"controls[{i}].monitor: unknown pool {nm!r}"
                                      + V.did_you_mean(nm, names)
                                      + ("; define it under pools" if not names else
                                         f"; the pools are {', '.join(names)}"))
            if c.target == "goals":
                goal_ctrl += 1
                if self.goals is None:
                    raise ConfigError(f"controls[{i}].target: 'goals' but the model has no goals; "
                                      "add goals (e.g. Goals(types=['favours'])) or target "
                                      "concepts")
                if goal_ctrl > 1:
                    raise ConfigError(f"controls[{i}].target: only one control may scale the "
                                      "goal bias")

    def resolve(self, name: str, network) -> np.ndarray:
        """Per-concept values of parameter ``name`` for ``network``."""
        return resolve_per_concept(name, getattr(self, name), network, _PER_CONCEPT[name][0])

    @property
    def has_noise(self) -> bool:
        """Whether the model is stochastic (concept noise or noisy evidence accumulators)."""
        if any(c.has_noise for c in self.choices):
            return True
        s = self.sigma
        if isinstance(s, Mapping):
            return any(v > 0 for v in s.values())
        if isinstance(s, np.ndarray):
            return bool((s > 0).any())
        return s > 0

    @property
    def has_mechanisms(self) -> bool:
        return bool(self.adaptation or self.goals or self.layers or self.pools or self.choices
                    or self.controls or self.ideas)

    def to_dict(self) -> dict:
        out = {}
        for k in ("tau", "transfer", "gain", "threshold", "bias", "sigma", "initial", "form"):
            v = getattr(self, k)
            if isinstance(v, np.ndarray):
                v = v.tolist()
            elif isinstance(v, Mapping):
                v = dict(v)
            out[k] = v
        if self.record_potential:
            out["record_potential"] = True
        for k in ("adaptation", "goals", "layers", "ideas"):
            v = getattr(self, k)
            if v is not None:
                out[k] = v.to_dict()
        for k in ("pools", "choices", "controls"):
            v = getattr(self, k)
            if v:
                out[k] = [x.to_dict() for x in v]
        return out

    _KEYS = ("tau", "transfer", "gain", "threshold", "bias", "sigma", "initial", "form",
             "record_potential", "adaptation", "goals", "layers", "pools", "choices",
             "controls", "ideas")

    @classmethod
    def from_dict(cls, d: Mapping) -> "Model":
        for k in d:
            if k not in cls._KEYS:
                raise ConfigError(f"model: unknown key {k!r}" + V.did_you_mean(k, cls._KEYS))
        return cls(**dict(d))
