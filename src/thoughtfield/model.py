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

from collections.abc import Mapping

import numpy as np

from . import _validate as V
from . import transfers as _transfers
from ._params import PerConcept, described, param, params, per_concept
from ._schema import Bool, Choice, Real
from .errors import ConfigError

#: Transfer functions ``f(x)`` applied to ``x = gain * (u - threshold)``: ``linear``,
#: ``sigmoid``, ``tanh``, ``satlin``, ``relu``, ``softplus`` (name -> formula; everything
#: else about them is in :data:`thoughtfield.transfers.REGISTRY`).
class _RegistryView(Mapping):
    """One attribute of every entry of the transfer registry, by name (read live, so a
    transfer added by ``transfers.register`` is accepted at once)."""

    def __init__(self, attr: str):
        self._attr = attr

    def __getitem__(self, name):
        return getattr(_transfers.REGISTRY[name], self._attr)

    def __iter__(self):
        return iter(_transfers.REGISTRY)

    def __len__(self):
        return len(_transfers.REGISTRY)

    def __repr__(self):
        return repr(dict(self))


TRANSFERS = _RegistryView("doc")
#: The kernels' integer code of each transfer function.
TRANSFER_CODES = _RegistryView("code")

FORMS = ("activation", "potential")

_KINDS = {"positive": Real(min=0, min_inclusive=False), "nonnegative": Real(min=0),
          "real": Real()}


def _check_per_concept(key: str, value, kind: str):
    """Validate a per-concept parameter spec (values only; names are checked at build)."""
    return per_concept(_KINDS[kind]).coerce(key, value)


def resolve_per_concept(key: str, spec, network, default: float) -> np.ndarray:
    """Expand a per-concept spec into an array with one value per concept of ``network``."""
    n = network.n
    if isinstance(spec, np.ndarray):
        if spec.size != n:
            raise ConfigError(f"{key}: has {spec.size} values but the network has {n} concepts",
                              key=key)
        return np.array(spec, dtype=np.float64)
    if isinstance(spec, Mapping):
        # a table names concepts and layers: resolve it once per network (build, the
        # config's checks and the result's description all ask); the network's cache is
        # emptied whenever the network changes
        cache = getattr(network, "_cache", None)
        try:
            ck = ("per_concept", repr(float(default)), tuple(spec.items()))
            hit = cache.get(ck) if cache is not None else None
        except TypeError:   # values not hashable: not checked yet, resolve (and fail) below
            cache = hit = None
        if hit is not None:
            return hit.copy()
        out = _resolve_table(key, spec, network, default)
        if cache is not None:
            cache[ck] = out.copy()
        return out
    return np.full(n, float(spec))


def _resolve_table(key: str, spec: Mapping, network, default: float) -> np.ndarray:
    n = network.n
    out = np.full(n, float(spec.get("*", default)))
    codes = network.layer_codes
    for k, v in spec.items():
        if k.startswith("@"):
            lay = k[1:]
            if not getattr(network, "layered", True):
                raise ConfigError(f"{key}.{k}: the network has no layers (none was given "
                                  "in the config or the network file); give per-concept "
                                  "values by concept name, or place the concepts in layers",
                                  key=f"{key}.{k}")
            if lay not in network.layers:
                raise ConfigError(f"{key}.{k}: unknown layer {lay!r}; the layers are "
                                  f"{', '.join(network.layers)}" + V.did_you_mean(lay, network.layers),
                                  key=f"{key}.{k}")
            out[codes == network.layers.index(lay)] = v
    for k, v in spec.items():
        if k != "*" and not k.startswith("@"):
            out[network.index(k, f"{key}.{k}")] = v
    return out


def _mechanism(name):
    def check(key, value):
        from . import mechanisms as mech
        cls = getattr(mech, name)
        if name == "Ideas" and isinstance(value, (list, tuple)):
            value = mech.Ideas(tuple(value))
        return mech.as_one(cls, key, value)
    return check


def _mechanisms(name):
    def check(key, value):
        from . import mechanisms as mech
        return mech.as_list_of(getattr(mech, name), key, value)
    return check


def _empty(obj, value) -> bool:
    return not value


@described("", label="model", dict_order=(
    "tau", "transfer", "gain", "threshold", "bias", "sigma", "initial", "form",
    "record_potential", "adaptation", "goals", "layers", "ideas", "pools", "choices",
    "controls", "gates", "plasticity"))
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
    gates : list of Gate
    plasticity : Plasticity, optional
        The mechanisms (:mod:`thoughtfield.mechanisms`); tables are accepted too.
    """

    tau: object = param(per_concept(Real(min=0, min_inclusive=False)), 1.0,
                        "Time constant of each concept.", unit="time")
    transfer: str = param(Choice(lambda: TRANSFERS), "sigmoid", "Transfer function f.")
    gain: object = param(per_concept(), 1.0, "Slope: f is applied to gain * (u - threshold).",
                         unit="1/activation")
    threshold: object = param(per_concept(), 0.0, "Input at which f is centred.",
                              unit="activation")
    bias: object = param(per_concept(), 0.0, "Constant input added to u.", unit="activation")
    sigma: object = param(per_concept(Real(min=0)), 0.0, "Noise amplitude (tau da = ... dt + "
                          "sigma dW); needs solver.method = \"euler_maruyama\".",
                          unit="activation * time^1/2")
    initial: object = param(per_concept(), 0.0, "Initial state: the activation a(0) in the "
                            "activation form; in the potential form the potential u(0), so "
                            "that a(0) = f(gain * (initial + bias - threshold)) (with the "
                            "sigmoid and the defaults 0.5, not 0). See docs/potential.md.",
                            unit="activation")
    form: str = param(Choice(lambda: FORMS), "activation", "State form of the dynamics: "
                      "`activation` integrates a (`tau da/dt = -a + f(gain * (u - threshold))`); "
                      "`potential` integrates the net input u (`tau du/dt = -u + W a + input`, "
                      "`a = f(gain * (u + bias - threshold))`; Hopfield 1984, McClelland's 1979 "
                      "cascade): `initial` is u(0), a clamp holds the output a and freezes u, "
                      "and on release u resumes from its frozen value (docs/potential.md).")
    record_potential: bool = param(Bool(), False, "Potential form: also save "
                                   "`potential(time, concept)` (the state u).",
                                   omit=lambda m, v: not v)
    # the mechanisms: sections of their own in a config ([adaptation], [[pools]], ...)
    adaptation: object = param(None, None, check=_mechanism("Adaptation"), config=False)
    goals: object = param(None, None, check=_mechanism("Goals"), config=False)
    layers: object = param(None, None, check=_mechanism("Layers"), config=False)
    pools: object = param(None, (), check=_mechanisms("Pool"), config=False, omit=_empty)
    choices: object = param(None, (), check=_mechanisms("Choice"), config=False, omit=_empty)
    controls: object = param(None, (), check=_mechanisms("Control"), config=False, omit=_empty)
    ideas: object = param(None, None, check=_mechanism("Ideas"), config=False)
    gates: object = param(None, (), check=_mechanisms("Gate"), config=False, omit=_empty)
    plasticity: object = param(None, None, check=_mechanism("Plasticity"), config=False)

    def _validate(self, key):
        self._check_references()

    def _check_references(self):
        """Names that refer to other mechanisms (pools of choices and controls)."""
        names = []
        for i, p in enumerate(self.pools):
            if p.name in names:
                raise ConfigError(f"pools[{i}].name: duplicate pool name {p.name!r}",
                                  key=f"pools[{i}].name")
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
                                     f"; the pools are {', '.join(names)}"),
                                  key=f"choices[{i}].pool")
            if c.pool in seen:
                raise ConfigError(f"choices[{i}].pool: pool {c.pool!r} already has a choice; "
                                  "one choice per pool", key=f"choices[{i}].pool")
            seen.add(c.pool)
        cnames = set()
        goal_ctrl = 0
        per_goal: dict = {}   # goal concept -> the control that scales its relations
        for i, c in enumerate(self.controls):
            if c.name in cnames:
                raise ConfigError(f"controls[{i}].name: duplicate control name {c.name!r}",
                                  key=f"controls[{i}].name")
            cnames.add(c.name)
            for nm in c.monitor:
                if not known(nm):
                    raise ConfigError(f"controls[{i}].monitor: unknown pool {nm!r}"
                                      + V.did_you_mean(nm, names)
                                      + ("; define it under pools" if not names else
                                         f"; the pools are {', '.join(names)}"),
                                      key=f"controls[{i}].monitor")
            if c.target == "goals":
                if self.goals is None:
                    raise ConfigError(f"controls[{i}].target: 'goals' but the model has no goals; "
                                      "add goals (e.g. Goals(types=['favours'])) or target "
                                      "concepts", key=f"controls[{i}].target")
                if c.goals is not None:   # a per-goal control: disjoint sets of goals
                    for g in c.goals:
                        if g in per_goal:
                            raise ConfigError(
                                f"controls[{i}].goals: goal {g!r} is already scaled by "
                                f"controls[{per_goal[g]}]; give each goal to one control",
                                key=f"controls[{i}].goals")
                        per_goal[g] = i
                    continue
                goal_ctrl += 1
                if goal_ctrl > 1:
                    raise ConfigError(f"controls[{i}].target: only one control may scale the "
                                      "whole goal bias; name the goals each control scales "
                                      "(goals = [...]) to split it", key=f"controls[{i}].target")
        gate_ctrl = {c.name for c in self.controls if c.target == "gates"}
        named = set()
        for i, g in enumerate(self.gates):
            if g.control is not None:
                if g.control not in gate_ctrl:
                    raise ConfigError(
                        f"gates[{i}].control: no control {g.control!r} with target = 'gates'"
                        + V.did_you_mean(g.control, sorted(cnames))
                        + (f"; the controls are {', '.join(sorted(cnames))}" if cnames else
                           "; define it under [[controls]]"), key=f"gates[{i}].control")
                named.add(g.control)
        for i, c in enumerate(self.controls):
            if c.target == "gates" and c.name not in named:
                raise ConfigError(f"controls[{i}].target: 'gates' but no gate names control "
                                  f"{c.name!r}; set control = {c.name!r} on a gate",
                                  key=f"controls[{i}].target")

    def resolve(self, name: str, network) -> np.ndarray:
        """Per-concept values of parameter ``name`` for ``network``."""
        return resolve_per_concept(name, getattr(self, name), network, _DEFAULTS[name])

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
                    or self.controls or self.ideas or self.plasticity or self.gates)


#: The per-concept parameters of the model and their defaults.
PER_CONCEPT = tuple(k for k, p in params(Model).items() if isinstance(p.kind, PerConcept))
_DEFAULTS = {k: params(Model)[k].default for k in PER_CONCEPT}
