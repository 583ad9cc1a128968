r"""The Lyapunov (Hopfield / Cohen-Grossberg) energy of the continuous model.

For symmetric weights ``W``, positive gains ``g_i`` and a non-decreasing transfer ``f``,

    E(a) = -1/2 sum_ij W_ij a_i a_j  -  sum_i (I_i + b_i - thr_i) a_i  +  sum_i G(a_i) / g_i,
    G(a) = integral from f(0) to a of f^-1(s) ds

(``G`` in closed form: ``a^2/2`` for linear/relu/satlin, ``a ln a + (1-a) ln(1-a) + ln 2``
for the logistic, ``((1+a) ln(1+a) + (1-a) ln(1-a)) / 2`` for tanh, ``a^2/2 + Li2(e^-a) -
pi^2/12`` for softplus; each transfer's is in ``thoughtfield.transfers``) never increases along
trajectories while the inputs are constant and there is no noise or adaptation.

**Potential form** ``tau_i du_i/dt = -u_i + (W a)_i + I_i``, ``a_i = f(g_i (u_i + b_i - thr_i))``
(Hopfield 1984).  ``dE/da_i = -(W a)_i - I_i + u_i = tau_i du_i/dt`` (W symmetric; the
inverse transfer gives ``f^-1(a_i)/g_i - b_i + thr_i = u_i``), so

    dE/dt = sum_i dE/da_i da_i/dt = - sum_i tau_i g_i f'(.) (du_i/dt)^2 <= 0.

**Activation form** ``tau_i da_i/dt = -a_i + f(g_i q_i)``, ``q = W a + I + b - thr``.
Write ``p_i = f^-1(a_i) / g_i``; then ``dE/da_i = p_i - q_i`` and ``a_i = f(g_i p_i)``, so

    dE/dt = sum_i (p_i - q_i) (f(g_i q_i) - f(g_i p_i)) / tau_i <= 0,

each term being <= 0 because ``f`` is non-decreasing and ``g_i > 0``.  The same function
is therefore a Lyapunov function of both forms, for any per-concept ``tau_i > 0``
(Cohen & Grossberg 1983: the ``tau_i`` are the amplification factors).  It is the energy of
the potential form evaluated at the outputs; equivalently, with one common ``tau`` the
activation form maps onto the potential form by ``u = W a + I``.  ``dE/dt = 0`` only at
fixed points when ``f`` is strictly increasing.

Conditions, all checked or documented: ``W`` symmetric (checked; otherwise an error names
an asymmetric pair), ``g_i > 0`` (checked), constant inputs (the energy is reported with
the input of each instant, so it jumps where the schedule changes), no noise, no
adaptation or other slow variables, and activations within the range of ``f`` (for the
logistic ``0 <= a <= 1``, for tanh ``-1 <= a <= 1``, for relu/softplus/satlin ``a >= 0`` /
``0 <= a <= 1``; the range is invariant under the flow, so a run started inside stays
inside; outside it the energy is ``+inf``).  For the piecewise-linear ``relu``/``satlin``
``f^-1`` is taken at the kink on the flat parts; the inequality holds there as well.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import ConfigError
from ._dynamics import Dynamics
from ._result import activation_array, run_context

__all__ = ["energy", "energy_of"]


def energy_of(network, model, activation, *, stimuli=None, t=None, form=None) -> np.ndarray:
    """The energy of activations ``activation`` (shape ``(..., N)``) with the inputs frozen
    at time ``t``.  Raises :class:`~thoughtfield.ConfigError` when the energy is not a
    Lyapunov function of the model (non-symmetric weights, non-positive gain)."""
    dyn = network if isinstance(network, Dynamics) else Dynamics(network, model, stimuli, t=t,
                                                                  form=form)
    why = dyn.energy_defined()
    if why is not None:
        raise ConfigError(f"energy: {why}", key='energy')
    a = np.asarray(activation, dtype=np.float64)
    if a.shape[-1] != dyn.n:
        raise ConfigError(f"activation: last axis must have {dyn.n} values (got shape {a.shape})",
                          key='activation')
    return dyn.energy(a)


def energy(result: xr.Dataset, *, network=None, model=None, stimuli=None, form=None,
           member=None) -> xr.DataArray:
    """The Lyapunov energy over time of a run result.

    The network, model and stimuli are read from the result's attributes unless given.
    Returns ``energy(time)`` (``energy(member, time)`` for ensembles).  At each saved time
    the input of that instant is used.

    Raises
    ------
    ConfigError
        The energy is not defined for this model (message says why) or the result lacks
        its descriptions.
    """
    network, model, stimuli = run_context(result, network, model, stimuli)
    dyn = Dynamics(network, model, stimuli, form=form)
    why = dyn.energy_defined()
    if why is not None:
        raise ConfigError(f"energy: {why}", key='energy')
    times, act, members = activation_array(result, member)
    M, T, N = act.shape
    base_inp = dyn.inp.copy()
    E = np.empty((M, T))
    # inputs are piecewise constant: evaluate segment by segment
    seg = np.searchsorted(dyn.problem.seg_t, times, side="right") - 1
    seg = np.clip(seg, 0, dyn.problem.seg_t.size - 2)
    for k in np.unique(seg):
        sel = seg == k
        inp, clamped, cval = dyn.inputs_at(float(dyn.problem.seg_t[k]))
        dyn.inp = inp
        E[:, sel] = dyn.energy(act[:, sel, :])
    dyn.inp = base_inp
    attrs = {"long_name": "Lyapunov energy", "units": "1",
             "note": "non-increasing while inputs are constant (no noise, no adaptation)"}
    if getattr(model, "has_noise", False):
        attrs["note"] = "the run has noise: the energy is not monotone along noisy paths"
    if members is None:
        return xr.DataArray(E[0], dims=("time",), coords={"time": times}, name="energy",
                            attrs=attrs)
    return xr.DataArray(E, dims=("member", "time"), coords={"member": members, "time": times},
                        name="energy", attrs=attrs)
