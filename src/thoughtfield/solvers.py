"""Solver settings and the registry of integration methods.

The stepping arithmetic lives in the numba kernels (``thoughtfield._kernels``); this
module only describes methods.  Explicit Runge-Kutta methods are *data*: a Butcher
tableau (``A``, ``b``, ``c``), optionally an error estimator ``e`` (``b - b_hat``, and a
second one ``e3`` for DOP853's combined estimate), a dense-output matrix ``P`` and the
step-size controller's constants -- so adding a method means adding a tableau.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction as F

import numpy as np

from . import _validate as V
from ._params import described, param, per_concept
from ._schema import Choice, Int, Real
from .errors import ConfigError


@dataclass(frozen=True)
class Controller:
    """Step-size control of an adaptive method (Hairer & Wanner's notation): after a step
    with scaled error ``err`` the step is multiplied by
    ``min(facmax, max(facmin, safety * err**-alpha * err_prev**beta))`` (PI control;
    ``beta = 0``: the classical controller); after a rejection by at most 1."""
    safety: float
    alpha: float
    beta: float
    facmin: float
    facmax: float


@dataclass(frozen=True)
class Tableau:
    """An explicit Runge-Kutta method.

    Stage rows of ``A``/``c`` past ``step_stages`` are extra stages of the dense output
    (evaluated only for steps that interpolate).  With ``fsal``, stage ``step_stages`` is
    ``f(t + h, y_new)`` (its row of ``A`` is ``b``) and becomes the next step's first stage.
    ``e3`` (optional) is a second, lower-order error estimator; the error is then combined
    as in DOP853: ``err5**2 / sqrt(err5**2 + 0.01 * err3**2)``.
    """
    name: str
    A: np.ndarray
    b: np.ndarray
    c: np.ndarray
    order: int
    e: np.ndarray | None = None        # error weights b - b_hat (adaptive methods)
    P: np.ndarray | None = None        # dense output: y(t + th) = y + h K^T P [th, th^2, ...]
    fsal: bool = False
    stochastic: bool = False
    e3: np.ndarray | None = None       # second error estimator (DOP853)
    step_stages: int | None = None     # stages of one step (default: all rows of A)
    controller: Controller | None = None

    @property
    def stages(self) -> int:
        """Rows of ``A``: the stages of a step plus any extra dense-output stages."""
        return len(self.c)

    @property
    def n_step_stages(self) -> int:
        return self.stages if self.step_stages is None else self.step_stages

    @property
    def adaptive(self) -> bool:
        return self.e is not None


def _arr(rows):
    return np.array([[float(x) for x in r] for r in rows], dtype=np.float64)


def _vec(xs):
    return np.array([float(x) for x in xs], dtype=np.float64)


# Dormand & Prince (1980) 5(4) with the FSAL property; dense output of order 4
# (coefficients as published by Shampine (1986), also used by scipy's RK45).
_DP_A = [
    [0, 0, 0, 0, 0, 0, 0],
    [F(1, 5), 0, 0, 0, 0, 0, 0],
    [F(3, 40), F(9, 40), 0, 0, 0, 0, 0],
    [F(44, 45), F(-56, 15), F(32, 9), 0, 0, 0, 0],
    [F(19372, 6561), F(-25360, 2187), F(64448, 6561), F(-212, 729), 0, 0, 0],
    [F(9017, 3168), F(-355, 33), F(46732, 5247), F(49, 176), F(-5103, 18656), 0, 0],
    [F(35, 384), 0, F(500, 1113), F(125, 192), F(-2187, 6784), F(11, 84), 0],
]
_DP_B = [F(35, 384), 0, F(500, 1113), F(125, 192), F(-2187, 6784), F(11, 84), 0]
_DP_BHAT = [F(5179, 57600), 0, F(7571, 16695), F(393, 640), F(-92097, 339200), F(187, 2100),
            F(1, 40)]
_DP_C = [0, F(1, 5), F(3, 10), F(4, 5), F(8, 9), 1, 1]
_DP_P = [
    [1, F(-8048581381, 2820520608), F(8663915743, 2820520608), F(-12715105075, 11282082432)],
    [0, 0, 0, 0],
    [0, F(131558114200, 32700410799), F(-68118460800, 10900136933), F(87487479700, 32700410799)],
    [0, F(-1754552775, 470086768), F(14199869525, 1410260304), F(-10690763975, 1880347072)],
    [0, F(127303824393, 49829197408), F(-318862633887, 49829197408), F(701980252875, 199316789632)],
    [0, F(-282668133, 205662961), F(2019193451, 616988883), F(-1453857185, 822651844)],
    [0, F(40617522, 29380423), F(-110615467, 29380423), F(69997945, 29380423)],
]

#: Dormand-Prince 5(4) with Hairer & Wanner's DOPRI5 PI control ("Lund stabilisation",
#: beta = 0.04, alpha = 1/5 - 0.75 beta).
_DP_CONTROL = Controller(safety=0.9, alpha=0.2 - 0.75 * 0.04, beta=0.04, facmin=0.2, facmax=10.0)
#: DOP853 as in Hairer's code: beta = 0 (no PI term), alpha = 1/8, step ratio in [0.333, 6].
_DOP853_CONTROL = Controller(safety=0.9, alpha=1.0 / 8.0, beta=0.0, facmin=0.333, facmax=6.0)


def _dop853() -> Tableau:
    from ._dop853 import STEP_STAGES, coefficients
    k = coefficients()
    return Tableau("dop853", k["A"], k["b"], k["c"], order=8, e=k["e5"], P=k["P"], fsal=True,
                   e3=k["e3"], step_stages=STEP_STAGES, controller=_DOP853_CONTROL)


TABLEAUS: dict[str, Tableau] = {
    "euler": Tableau("euler", _arr([[0]]), _vec([1]), _vec([0]), order=1),
    "heun": Tableau("heun", _arr([[0, 0], [1, 0]]), _vec([F(1, 2), F(1, 2)]), _vec([0, 1]), order=2),
    "rk4": Tableau("rk4", _arr([[0, 0, 0, 0], [F(1, 2), 0, 0, 0], [0, F(1, 2), 0, 0], [0, 0, 1, 0]]),
                   _vec([F(1, 6), F(1, 3), F(1, 3), F(1, 6)]), _vec([0, F(1, 2), F(1, 2), 1]), order=4),
    "dopri5": Tableau("dopri5", _arr(_DP_A), _vec(_DP_B), _vec(_DP_C), order=5,
                      e=_vec([b - bh for b, bh in zip(_DP_B, _DP_BHAT)]), P=_arr(_DP_P), fsal=True,
                      controller=_DP_CONTROL),
    "dop853": _dop853(),
    "euler_maruyama": Tableau("euler_maruyama", _arr([[0]]), _vec([1]), _vec([0]), order=1,
                              stochastic=True),
    # not an integrator: the kernel of thoughtfield._kernels.asynchronous runs it (this
    # entry only gives it the fixed-step machinery: save grid, step budget, checkpoints)
    "async": Tableau("async", _arr([[0]]), _vec([1]), _vec([0]), order=1),
}

METHODS: dict[str, str] = {
    "euler": "explicit Euler, fixed dt, order 1",
    "heun": "Heun (explicit trapezoid), fixed dt, order 2",
    "rk4": "classical Runge-Kutta, fixed dt, order 4",
    "dopri5": "Dormand-Prince 5(4), adaptive step (rtol/atol, PI control), dense output",
    "dop853": "Dormand-Prince 8(5,3) (Hairer's DOP853), adaptive step, dense output of order 7; "
              "fewer steps than dopri5 at tight tolerances (rtol <= 1e-6) on smooth problems",
    "euler_maruyama": "Euler-Maruyama for noise (sigma > 0), fixed dt, strong order 1/2",
    "async": "asynchronous discrete update: one unit at a time takes f(gain (net input - "
             "threshold)), a sweep of all units per dt (settings: order)",
    "spreadr": "discrete spreading activation, spreadr semantics (settings: thoughtfield.Spreadr)",
}
#: Update orders of the asynchronous method (``Solver.order``).
ASYNC_ORDERS = ("random", "sequential")
#: Methods that are not ODE/SDE integrators (their settings live in their own classes).
DISCRETE_METHODS = ("spreadr",)

#: scipy.integrate.solve_ivp's names of the same methods (matched case-insensitively, as
#: are thoughtfield's own names): ``RK45`` is Dormand-Prince 5(4) with its dense output,
#: ``DOP853`` Hairer's DOP853 -- thoughtfield's ``dopri5`` and ``dop853``.
SCIPY_ALIASES: dict[str, str] = {"rk45": "dopri5", "dop853": "dop853"}

#: scipy's methods thoughtfield does not have: the closest method here and why.
SCIPY_MISSING: dict[str, tuple[str, str]] = {
    "rk23": ("dopri5", "thoughtfield has no Bogacki-Shampine 3(2) pair; its closest adaptive "
                       "method is dopri5 (scipy's RK45), which needs fewer steps at the same "
                       "tolerance on smooth dynamics"),
    "lsoda": ("dopri5", "thoughtfield has no LSODA (Adams/BDF switching for stiff problems); "
                        "on non-stiff dynamics LSODA runs an explicit-like Adams method, and "
                        "dopri5 is thoughtfield's adaptive explicit method for them"),
    "bdf": ("dopri5", "thoughtfield has no implicit (stiff) solver; dopri5 is its adaptive "
                      "method: on stiff dynamics (time constants orders of magnitude apart) it "
                      "stays correct but its steps are bounded by the fastest time constant"),
    "radau": ("dopri5", "thoughtfield has no implicit (stiff) solver; dopri5 is its adaptive "
                        "method of the same order (5): on stiff dynamics (time constants orders "
                        "of magnitude apart) it stays correct but its steps are bounded by the "
                        "fastest time constant"),
}


def resolve_method(key: str, value, choices=None) -> str:
    """The canonical method name for ``value``: a name of :data:`METHODS` or a scipy
    ``solve_ivp`` name (:data:`SCIPY_ALIASES`), case-insensitive; scipy methods with no
    equivalent (:data:`SCIPY_MISSING`) are a :class:`ConfigError` naming the closest."""
    choices = list(METHODS if choices is None else choices)
    if isinstance(value, str):
        if value in choices:
            return value
        low = value.lower()
        if low in choices:
            return low
        alias = SCIPY_ALIASES.get(low)
        if alias in choices:
            return alias
        if low in SCIPY_MISSING:
            closest, why = SCIPY_MISSING[low]
            raise ConfigError(f"{key}: {value!r} is a scipy solve_ivp method that thoughtfield "
                              f"does not have: {why}; use method = {closest!r} (scipy names "
                              f"accepted: RK45 = 'dopri5', DOP853 = 'dop853')", key=key)
    return V.choice(key, value, choices)


class _Method(Choice):
    """A method name; scipy's names of the same methods (``RK45``...) are aliases."""

    def check(self, key, value):
        if not isinstance(value, str):
            return super().check(key, value)
        return resolve_method(key, value, self.options)


def _positive(**kw):
    return Real(min=0, min_inclusive=False, **kw)


@described("solver")
class Solver:
    """How to integrate.

    Parameters
    ----------
    method : str
        One of :data:`METHODS`, case-insensitive; scipy's ``solve_ivp`` names are accepted
        for the same methods (``RK45`` is ``dopri5``, ``DOP853`` is ``dop853``), while
        ``RK23``, ``LSODA``, ``BDF`` and ``Radau``, which have no equivalent here, are
        refused with the closest method named.  ``dopri5`` (the default) suits the usual tolerances;
        ``dop853`` needs far fewer right-hand side evaluations at tight ones
        (``rtol <= 1e-6``) on smooth dynamics -- same accuracy as scipy's ``DOP853``, whose
        method and controller it reproduces -- while kinks (``satlin``, ``relu``) and
        frequent input changes favour ``dopri5``.
    dt : float, optional
        Step of the fixed-step methods (default: ``min(tau) / 100``).  Steps are shortened
        evenly so that every save time and input change is hit exactly.
    rtol, atol : float
        Tolerances of the adaptive methods ``dopri5`` and ``dop853`` (error per step
        measured as in Hairer & Wanner: RMS over concepts of
        ``err / (atol + rtol * max(|y|, |y_new|))``, for ``dop853`` the combination
        ``err5**2 / sqrt(err5**2 + 0.01 err3**2)`` of its two estimators; for ensembles the
        largest over members -- all members share one step).
    first_step, max_step, min_step : float, optional
        Step bounds for the adaptive methods; the run fails when the step would drop below
        ``min_step`` (default ``1e-12 * t_end``).
    max_steps : int
        Safety limit on the number of steps.
    steady_tol : float, optional
        Stop early once ``max |da/dt| < steady_tol`` after the last scheduled input change.
        With an adaptive method keep ``steady_tol`` well above ``rtol * |a|``: near a stable state
        the adaptive step grows to the stability limit and the solution carries errors of
        the order of the tolerance, so ``|da/dt|`` stalls there.
    order : {"random", "sequential"}, optional
        Method ``async`` only: the order of the single-unit updates of a sweep (default
        ``"random"``).  ``async`` updates one concept at a time to ``f(gain (net input -
        threshold))``, each reading the values written before it; a sweep updates every
        concept once and takes ``dt`` (default: the smallest ``tau``, the step at which
        ``euler`` is the synchronous update).  See :mod:`thoughtfield._kernels.asynchronous`.
    """

    method: str = param(
        _Method(lambda: METHODS), "dopri5",
        "Integration method: " + "; ".join(f"`{k}` {v}" for k, v in METHODS.items())
        + ". Names are case-insensitive, and scipy's `solve_ivp` names are accepted "
        "for the same methods: `RK45` is `dopri5`, `DOP853` is `dop853` (results "
        "record thoughtfield's name); `RK23`, `LSODA`, `BDF` and `Radau` have no "
        "equivalent here (no Bogacki-Shampine pair, no implicit stiff solver) and "
        "are refused with the closest method (`dopri5`) named.",
        check=lambda key, value: resolve_method(key, value))
    dt: float | None = param(_positive(), None, "Step of the fixed-step methods, shortened "
                             "evenly to hit every save time and input change; `async`: the "
                             "duration of one sweep (default min(tau)).", unit="time",
                             default_doc="min(tau) / 100")
    rtol: float = param(_positive(), 1e-6, "Relative tolerance (adaptive methods `dopri5`, "
                        "`dop853`).", unit="1")
    atol: float = param(_positive(), 1e-9, "Absolute tolerance (adaptive methods).",
                        unit="activation")
    first_step: float | None = param(_positive(), None, "Initial step (adaptive methods).",
                                     unit="time", default_doc="estimated")
    max_step: float = param(_positive(allow_inf=True), math.inf, "Largest step (adaptive "
                            "methods).", unit="time", omit=lambda s, v: v == math.inf)
    min_step: float | None = param(_positive(), None, "The run fails when the step would drop "
                                   "below this (adaptive methods).", unit="time",
                                   default_doc="1e-12 * max(1, t_end)")
    max_steps: int = param(Int(min=1, max=2**62), 50_000_000,
                           "Safety limit on the number of steps.")
    steady_tol: float | None = param(_positive(), None, "Stop early once max |da/dt| < "
                                     "steady_tol after the last input change.",
                                     unit="activation/time", default_doc="no early stop")
    order: str | None = param(Choice(list(ASYNC_ORDERS)), None, "`async`: the order of the "
                              "single-unit updates within a sweep: `random` (a fresh "
                              "permutation per sweep and member, from the member's seeded "
                              "stream) or `sequential` (concepts in network order).",
                              default_doc='"random"')

    def _validate(self, key):
        if self.method in DISCRETE_METHODS:
            raise ConfigError(f"solver.method: {self.method!r} is the discrete mode; its settings "
                              "are thoughtfield.Spreadr(...) (or pass solver='spreadr')",
                              key='solver.method')
        if self.order is not None and self.method != "async":
            raise ConfigError(f"solver.order: only the method 'async' has an update order (got "
                              f"method = {self.method!r}); remove order or set method = 'async'",
                              key="solver.order")
        if self.rtol < 1e-13:
            raise ConfigError(f"solver.rtol: must be >= 1e-13, the limit of double precision "
                              f"(got {self.rtol:g})", key='solver.rtol')
        if self.rtol >= 1.0:
            raise ConfigError(f"solver.rtol: must be < 1 (a relative error of 100 % per step "
                              f"bounds nothing; typical values 1e-8 .. 1e-3) (got {self.rtol:g})",
                              key='solver.rtol')
        if self.min_step is not None and self.min_step > self.max_step:
            raise ConfigError(f"solver.min_step: must be <= max_step = {self.max_step:g} (got "
                              f"{self.min_step:g})", key='solver.min_step')

    @property
    def tableau(self) -> Tableau:
        return TABLEAUS[self.method]

    @property
    def adaptive(self) -> bool:
        return self.tableau.adaptive


@described("solver", dict_order=("method", "retention", "decay", "suppress", "max_steps",
                                 "negative", "threshold_to_stop"))
class SpreadrSettings:
    """The settings of the discrete spreadr mode (``thoughtfield.Spreadr`` adds what runs
    them; declared here, with the other solvers, so that the config's [solver] table can
    list them without importing the discrete kernels)."""

    method: str = param(Choice(list(DISCRETE_METHODS)), "spreadr", config=False)
    retention: object = param(per_concept(Real(min=0, max=1)), 0.5, "`spreadr`: share of its "
                              "activation a concept keeps each step (the rest spreads to its "
                              "out-neighbours in proportion to the weights).", unit="1",
                              config_default=None, default_doc="0.5",
                              check=lambda key, value: _retention(key, value))
    decay: float = param(Real(min=0, max=1), 0.0, "`spreadr`: share of all activation lost "
                         "each step.", unit="1", config_default=None, default_doc="0")
    suppress: float = param(Real(), 0.0, "`spreadr`: activations below it are set to 0 each "
                            "step.", unit="activation", config_default=None, default_doc="0")
    threshold_to_stop: float | None = param(_positive(), None, "`spreadr`: stop once every "
                                            "activation is below it.", unit="activation",
                                            default_doc="no early stop")
    max_steps: int = param(Int(min=1), 10_000, config=False)
    negative: str = param(Choice(["error", "ignore"]), "error", "`spreadr`: negative couplings "
                          "(inhibitory relations) are an error, or left out of the spreading.",
                          config_default=None, default_doc='"error"')


def _retention(key, r):
    if isinstance(r, np.ndarray) and r.ndim == 2:
        arr = np.array(r, dtype=np.float64)
        if not np.isfinite(arr).all():
            raise ConfigError(f"{key}: must be finite (found NaN or infinity)", key=key)
        _check_unit(key, arr)
        arr.setflags(write=False)
        return arr
    r = per_concept().coerce(key, r)
    vals = np.asarray(list(r.values()) if isinstance(r, Mapping) else r, dtype=np.float64)
    _check_unit(key, vals, keys=list(r) if isinstance(r, Mapping) else None)
    return r


def _check_unit(key, vals, keys=None):
    vals = np.atleast_1d(vals).ravel()
    bad = (vals < 0) | (vals > 1)
    if bad.any():
        i = int(np.argmax(bad))
        where = f".{keys[i]}" if keys is not None else (f"[{i}]" if vals.size > 1 else "")
        raise ConfigError(f"{key}{where}: must be between 0 and 1 (got {vals[i]:g})",
                          key=f"{key}{where}")


def as_solver(solver) -> Solver:
    if solver is None:
        return Solver()
    if (solver in DISCRETE_METHODS if isinstance(solver, str) else
            isinstance(solver, dict) and solver.get("method") in DISCRETE_METHODS):
        raise ConfigError("solver: 'spreadr' is the discrete mode, which the continuous "
                          "solvers do not run; use tf.make_simulation(...) or tf.simulate(...)",
                          key='solver')
    if isinstance(solver, Solver):
        return solver
    if isinstance(solver, str):
        return Solver(method=solver)
    if isinstance(solver, dict):
        return Solver.from_dict(solver)
    raise ConfigError(f"solver: expected a method name, a Solver or a dict (got {solver!r})",
                      key='solver')
