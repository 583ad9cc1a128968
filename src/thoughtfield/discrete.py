"""Discrete-time spreading activation with the semantics of spreadr (Siew 2019).

Select it like any other solver: ``simulate(net, stimuli=..., solver="spreadr", t_end=10)``
or ``solver=Spreadr(retention=0.8, decay=0.1)`` (in configs: ``method = "spreadr"`` in the
solver table, with the fields of :class:`Spreadr`).  Time is counted in steps.

Per step ``t -> t + 1`` (DESIGN §1)::

    a[t+1] = (1 - d) * (r * a[t] + A^T D^-1 ((1 - r) * a[t]))     (synchronous)
    a[t+1][a[t+1] < suppress] = 0
    a[t+1] += injections scheduled for step t + 1

``A[i, j]`` is the weight with which ``i`` spreads to ``j`` -- the network's effective
coupling ``W[j, i]`` (:meth:`ConceptNetwork.weight_matrix`: gains, signs and directions of
the relation types folded in; symmetric types spread both ways) -- and ``D_i = sum_j
A[i, j]`` the weighted out-degree.  A concept without out-going weight keeps all its
activation (retention does not apply to it).  Activation is a conserved resource: it only
leaves the network through ``decay`` and ``suppress``.

Injections are the stimuli: ``Pulse(concept, start, stop, amplitude)`` adds ``amplitude``
at every step ``t`` with ``start <= t < stop`` (spreadr's ``start_run`` row ``(node,
activation, time)`` is ``Pulse(node, time, time + 1, activation)``;
:func:`thoughtfield.io.read_start_run` converts); ``Clamp`` sets the activation after the
update at those steps.  The state at ``t0`` (default 0) is ``initial`` (of the model or
the ``initial`` argument; default 0) plus the injections of step ``t0``.

The run stops after step ``t_end`` (spreadr's ``time``) or, with ``threshold_to_stop``,
as soon as every activation (of every member) is below it -- whichever comes first; the
stopping test is also made at ``t0`` as in spreadr.  With ``t_end=None`` only the
threshold stops the run; after ``max_steps`` steps without reaching it the run fails with
a :class:`~thoughtfield.SolverError` carrying the partial result (spreadr warns after
10,000 steps).

Differences from spreadr, on purpose:

* Negative couplings (inhibitory relation types such as ``contradicts``) are an error by
  default (spreadr refuses negative weights too); ``negative="ignore"`` leaves them out of
  the spreading (and out of the out-degree).
* A self-loop ``i -> i`` keeps its share of the spread activation at ``i``; spreadr 0.3
  counts the loop in the out-degree but drops that share.  Networks without self-loops
  (spreadr's examples remove them) give identical results.
* Unknown concepts in the injections are errors (spreadr warns and ignores them).

Only ``initial`` of a :class:`~thoughtfield.Model` is used; the continuous dynamics
(``tau``, transfer function, noise) do not apply.
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from . import _validate as V
from ._kernels.discrete import (J_BAD, J_STATUS, J_STEPS, J_T, ST_NONFINITE, ST_OK, ST_THRESHOLD,
                                Spread)
from ._kernels.discrete import first_bad as _first_bad
from ._kernels.discrete import below as _below
from ._kernels.discrete import inject as _inject
from ._kernels.discrete import run as _run
from ._warmup import ensure as ensure_kernels, register_path as register_kernel_path, tiny_network
from ._sizes import SAVE_LESS_STEPS
from .build import _initial_state, _segments
from .errors import ConfigError, DivergenceError, ResourceError, SolverError
from .model import Model, resolve_per_concept
from .network import ConceptNetwork
from .results import _version, compact_description, make_dataset, network_description
from .saving import SaveAt, resolve as resolve_saveat
from .solvers import SpreadrSettings, _check_unit
from .stimuli import as_stimuli

#: Output buffer handed to one kernel call (bytes).
CHUNK_BYTES = 32 * 2**20
NEGATIVE = ("error", "ignore")


def _check_continuous_only(model) -> None:
    """The mechanisms (and the potential form) belong to the continuous dynamics; the
    discrete mode would silently ignore them."""
    if model.form != "activation":
        raise ConfigError(f"model.form: the discrete 'spreadr' mode has no state forms (got "
                          f"{model.form!r}); remove form or use a continuous solver",
                          key='model.form')
    for k in ("adaptation", "goals", "layers", "pools", "choices", "controls", "ideas",
              "plasticity", "gates"):
        if getattr(model, k, None):
            raise ConfigError(f"model.{k}: the discrete 'spreadr' mode does not include the "
                              f"mechanisms; remove {k} or use a continuous solver",
                              key=f"model.{k}")


class Spreadr(SpreadrSettings):
    """Settings of the discrete spreadr-compatible mode (method ``"spreadr"``).

    Parameters
    ----------
    retention : per-concept, 0..1
        Share of its activation a concept keeps each step (spreadr's ``retention``): a
        number, one value per concept, a mapping ``concept -> value`` with ``"*"`` and
        ``"@layer"`` keys (as the model's per-concept parameters), or an array
        ``(members, concepts)``.
    decay : float, 0..1
        Share of all activation lost each step.
    suppress : float
        Activations below it are set to 0 each step (before the injections).
    threshold_to_stop : float > 0, optional
        Stop once every activation is below it.
    max_steps : int
        Limit on the number of steps when the run has no ``t_end``.
    negative : {"error", "ignore"}
        What to do with negative couplings (inhibitory relations).
    """

    #: Marks discrete-time settings for the dispatch in :class:`~thoughtfield.Simulation`.
    discrete: ClassVar[bool] = True
    adaptive: ClassVar[bool] = False

    def resolve_retention(self, network: ConceptNetwork, members: int = 1) -> np.ndarray:
        """Retention of every concept: ``(N,)``, or member-minor ``(N * members,)`` for an
        array ``(members, concepts)``."""
        r = self.retention
        n, m = network.n, members
        if isinstance(r, np.ndarray) and r.ndim == 2:
            if r.shape != (m, n):
                raise ConfigError(f"solver.retention: per-member values must have shape "
                                  f"(members, concepts) = ({m}, {n}) (got {r.shape})",
                                  key='solver.retention')
            return np.ascontiguousarray(r.T).ravel()
        rr = resolve_per_concept("solver.retention", r, network, 0.5)
        _check_unit("solver.retention", rr)
        return rr

    def check(self, network: ConceptNetwork, model: Model | None = None, members: int = 1):
        """Check these settings against a network and model (before any run): concept names
        in ``retention``, negative couplings, noise."""
        if model is not None and model.has_noise:
            raise ConfigError("model.sigma: the discrete 'spreadr' mode has no noise; set "
                              "sigma = 0 or use a continuous solver", key='model.sigma')
        if model is not None:
            _check_continuous_only(model)
        self.resolve_retention(network, members)
        spreading_matrix(network, self.negative)


class AsyncPlan:
    """What the asynchronous update (``Solver(method="async")``) needs beyond the lowered
    problem: the sweep count at every save slot and input change, the pools of every
    concept, every concept's goal row.  Refuses (``ConfigError``) what it cannot run:
    mechanisms with their own continuous state (adaptation, control, choices, plastic
    weights) or terms its update does not compute (gates), the potential form, and save times or input changes off the sweep grid ``t0 + k dt``."""

    def __init__(self, sim):
        from ._problem import mechanism_arrays
        P, model = sim.problem, sim.model
        if P.form != 0:
            raise ConfigError("model.form: the asynchronous update ('async') updates "
                              "activations; remove form = 'potential' or use a continuous "
                              "method")
        mech = mechanism_arrays(P)
        for key, on in (("adaptation", P.h_off >= 0), ("controls", P.c_off >= 0),
                        ("choices", P.e_off >= 0 or mech.d_pool.size > 0),
                        ("plasticity", P.w_off >= 0), ("gates", mech.q_val.size > 0)):
            if on:
                raise ConfigError(f"model.{key}: has its own continuous dynamics, which the "
                                  f"asynchronous update ('async') does not run; remove {key} "
                                  "or use a continuous method (euler at dt = tau is the "
                                  "synchronous update)")
        self.dt = dt = float(sim.dt)
        self.t0 = t0 = float(sim.t0)

        def sweeps(what, t):
            k = np.rint((np.asarray(t, np.float64) - t0) / dt)
            off = np.abs(t0 + k * dt - t) > 1e-9 * max(1.0, abs(dt) + abs(t0))
            if off.any():
                bad = float(np.asarray(t)[np.argmax(off)])
                raise ConfigError(f"solver.dt: the asynchronous update sweeps at t0 + k dt "
                                  f"(dt = {dt:g}) but {what} {bad:g} is not on that grid; "
                                  "choose dt so that it is (or move it)")
            return k.astype(np.int64)

        sweeps("t_end", np.array([sim.t_end]))
        self.save_k = sweeps("the save time", sim.ts)
        self.seg_k = sweeps("the input change at", P.seg_t)
        n = P.n
        p_ptr, p_idx = mech.p_ptr, mech.p_idx
        pool_of = np.repeat(np.arange(p_ptr.size - 1), np.diff(p_ptr))
        o = np.lexsort((pool_of, p_idx))   # by concept, then pool
        self.up_pool = np.ascontiguousarray(pool_of[o], np.int64)
        self.up_ptr = np.concatenate([[0], np.cumsum(np.bincount(p_idx, minlength=n))]
                                     ).astype(np.int64)
        self.g_row = np.full(n, -1, np.int64)
        self.g_row[mech.g_rows] = np.arange(mech.g_rows.size)
        self.order = 0 if (sim.solver.order or "random") == "random" else 1
        self.perm = np.zeros(n, np.int64)
        ensure_kernels("async")   # before the first sweep: announces a first compile

    def run(self, sim, i_lo, i_hi):
        from ._kernels.asynchronous import run_async
        run_async(sim.problem, sim.work, sim.state, self.save_k, self.seg_k, i_lo, i_hi,
                  sim.out[i_lo:], self.order, self.up_ptr, self.up_pool, self.g_row,
                  self.perm, self.t0, self.dt)


def as_spreadr(solver) -> Spreadr:
    """Normalise ``"spreadr"``, a mapping with ``method = "spreadr"`` or a :class:`Spreadr`."""
    if isinstance(solver, Spreadr):
        return solver
    if isinstance(solver, str):
        return Spreadr(method=solver.strip().lower())
    if isinstance(solver, Mapping):
        if isinstance(solver.get("method"), str):
            solver = {**solver, "method": solver["method"].strip().lower()}
        return Spreadr.from_dict(solver)
    raise ConfigError(f"solver: expected 'spreadr', a Spreadr or a table (got {solver!r})",
                      key='solver')


def is_discrete(solver) -> bool:
    """Whether ``solver`` (name, mapping or settings object) selects the discrete mode."""
    if isinstance(solver, str):   # method names are case-insensitive, as for the solvers
        return solver.strip().lower() == "spreadr"
    if isinstance(solver, Mapping):
        m = solver.get("method")
        return isinstance(m, str) and m.strip().lower() == "spreadr"
    return bool(getattr(solver, "discrete", False))


def spreading_matrix(network: ConceptNetwork, negative: str = "error"):
    """The coupling matrix used for spreading (rows = targets) with negative entries
    rejected or dropped (``negative``), and the weighted out-degree of every concept."""
    W = network.weight_matrix()
    if W.nnz and W.data.min() < 0:
        if negative == "error":
            k = int(np.argmax(W.data < 0))
            row = int(np.searchsorted(W.indptr, k, side="right") - 1)
            col = int(W.indices[k])
            names = network.concepts
            neg = sorted(name for name, t in network.relation_types.items() if t.sign < 0
                         and name in network.summary()["relations_by_type"])
            raise ConfigError(
                f"solver.negative: the coupling {names[col]!r} -> {names[row]!r} is negative "
                f"({W.data[k]:g}); spreadr-style spreading needs non-negative weights.  Drop the "
                f"inhibitory relation types ({', '.join(neg) or 'negative weights'}) with "
                "network.drop_types([...]), or set negative = 'ignore' to leave negative "
                "couplings out of the spreading", key='solver.negative')
        W = W.copy()
        W.data[W.data < 0] = 0.0
        W.eliminate_zeros()
    deg = np.bincount(W.indices, weights=W.data, minlength=network.n).astype(np.float64)
    return W, deg


class DiscreteSimulation:
    """A prepared discrete run (the counterpart of :class:`~thoughtfield.Simulation`;
    :func:`~thoughtfield.make_simulation` prepares one when the solver is ``"spreadr"``)."""

    mode = "discrete"     # the engine (checkpoints record it)
    _interrupt = None   # the last Interrupted whose partial result is not yet assembled

    def __init__(self, network: ConceptNetwork, model: Model | None = None, stimuli=None, *,
                 t_end=10, t0=0, solver=None, saveat: SaveAt | None = None,
                 members: int = 1, seed: int | None = None, initial=None,
                 seed_key: tuple[int, ...] = (), threads: int | None = None,
                 max_memory: float | None = None, member_params=None,
                 save_dt=None, save_at=None, save_every=None):
        saveat = resolve_saveat(saveat, save_dt, save_at, save_every)
        if member_params:
            raise ConfigError("member_params: per-member parameters are not supported by the "
                              "discrete spreadr mode; run a sweep over solver.retention / "
                              "solver.decay instead", key='member_params')
        if not isinstance(network, ConceptNetwork):
            raise ConfigError(f"network: expected a ConceptNetwork (got {type(network).__name__})",
                              key='network')
        if network.n == 0:
            raise ConfigError("network: has no concepts; add concepts before simulating",
                              key='network')
        model = Model() if model is None else model
        if not isinstance(model, Model):
            raise ConfigError(f"model: expected a Model (got {type(model).__name__})", key='model')
        if model.has_noise:
            raise ConfigError("model.sigma: the discrete 'spreadr' mode has no noise; set "
                              "sigma = 0 or use a continuous solver", key='model.sigma')
        _check_continuous_only(model)
        self.network = network
        self.model = model
        self.solver = as_spreadr("spreadr" if solver is None else solver)
        self.t0 = V.integer("t0", t0, min=-2**62, max=2**62)
        if t_end is None or (isinstance(t_end, float) and math.isinf(t_end)):
            if self.solver.threshold_to_stop is None:
                raise ConfigError("t_end: the run needs a number of steps (t_end) or "
                                  "solver.threshold_to_stop to stop", key='t_end')
            self.t_end = None
        else:
            self.t_end = V.integer("t_end", t_end, max=2**62)   # steps count in int64
            if self.t_end <= self.t0:
                raise ConfigError(f"t_end: must be > t0 ({self.t0}) (got {self.t_end})",
                                  key='t_end')
        self.members = V.integer("members", members, min=1)
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        self.seed = V.integer("seed", seed, min=0)
        if saveat is not None and saveat.dt is not None:
            raise ConfigError("SaveAt(dt=...): the discrete mode counts steps; use "
                              "SaveAt(every=k) (every k-th step) or SaveAt(times=[...]) "
                              "(a list of steps)")
        self.save_every = saveat.every if saveat is not None and saveat.every is not None else 1
        self.save_at = None
        if saveat is not None and saveat.times is not None:
            steps = np.asarray(saveat.times, dtype=np.float64)
            if (steps != np.round(steps)).any():
                bad = steps[steps != np.round(steps)][0]
                raise ConfigError(f"SaveAt(times=...): steps must be integers (got {bad:g})")
            hi = self.t_end if self.t_end is not None else self.t0 + self.solver.max_steps
            if (steps < self.t0).any() or (steps > hi).any():
                bad = steps[(steps < self.t0) | (steps > hi)][0]
                raise ConfigError(f"SaveAt(times=...): step {bad:g} is outside the run "
                                  f"[{self.t0}, {hi}]")
            self.save_at = steps.astype(np.int64)
        self.threads = threads
        n, m = network.n, self.members
        self.t_stop = self.t_end if self.t_end is not None else self.t0 + self.solver.max_steps
        if self.t_stop - self.t0 > 2**62:
            raise ConfigError(f"t_end: {self.t_stop - self.t0} steps do not fit a 64-bit counter; "
                              "run at most 2**62 steps", key='t_end')
        self._warn_long(network)
        from ._limits import gib as _gib, memory_limit
        limit, source = memory_limit(max_memory)
        saves = (self.save_at.size + 2 if self.save_at is not None
                 else (self.t_stop - self.t0) // self.save_every + 2)
        # saved steps, network lowering, state and scratch, the result (resources.py)
        from .resources import coupling_entries, discrete_memory, names_bytes
        relations, entries = coupling_entries(network)
        self.memory_items = discrete_memory(n=n, members=m, saves=int(saves),
                                            relations=relations, entries=entries,
                                            strings=names_bytes(network))
        need = int(sum(self.memory_items.values()))
        self.memory_estimate = need
        # (a run without t_end grows its output as it goes; only max_steps bounds it)
        if limit is not None and need > limit and self.t_end is not None:
            big = max(self.memory_items, key=self.memory_items.get)
            hint = ("use a smaller network (fewer relations)" if big == "network" else
                    f"{SAVE_LESS_STEPS}, use fewer members")
            raise ResourceError(f"this run may need about {_gib(need)} ({saves} saved steps x {n} "
                                f"concepts x {m} members x 8 bytes = "
                                f"{_gib(self.memory_items['output'])}, twice for the result; "
                                f"network {_gib(self.memory_items['network'])} to lower "
                                f"{relations} relations) but the limit is "
                                f"{_gib(limit)} ({source}); {hint}, or raise the limit "
                                "(max_memory / THOUGHTFIELD_MAX_MEMORY)")

        W, deg = spreading_matrix(network, self.solver.negative)
        self.out_degree = deg
        rr = self.solver.resolve_retention(network, m)
        dd = np.repeat(deg, m) if rr.size != n else deg
        leaf = dd == 0
        coef = np.where(leaf, 0.0, (1.0 - rr) / np.where(leaf, 1.0, dd))
        keep = np.where(leaf, 1.0, rr)

        stims = as_stimuli(stimuli)
        labels = getattr(stimuli, "labels", None)   # a config's names (file rows included)
        labelled = (list(zip(labels, stims)) if labels and len(labels) == len(stims)
                    else list(stims))
        # an input after the last step has no effect: a warning, as in the continuous mode
        seg_t, seg_ptr, ent = _segments(network, labelled, float(self.t0),
                                        float(self.t_stop + 1), m, steps=True)
        self.stimuli = stims
        self.problem = Spread(
            n=n, m=m, indptr=W.indptr.astype(np.uint64), indices=W.indices.astype(np.uint32),
            data=W.data.astype(np.float64), coef=np.ascontiguousarray(coef, np.float64),
            keep=np.ascontiguousarray(keep, np.float64), dfac=1.0 - self.solver.decay,
            suppress=self.solver.suppress,
            threshold=self.solver.threshold_to_stop or 0.0,
            seg_t=seg_t, seg_ptr=seg_ptr, ent_idx=ent[0], ent_member=ent[1], ent_val=ent[2],
            ent_kind=ent[3])
        self.a = _initial_state(network, model, initial, m)
        self.ist = np.zeros(5, np.int64)
        self.ist[J_T] = self.t0
        ensure_kernels("discrete")   # before any kernel call: announces a first compile
        _inject(self.problem, self.a, self.t0, self.ist)
        bad = _first_bad(self.a)
        if bad >= 0:
            self.ist[J_STATUS] = ST_NONFINITE
            self.ist[J_BAD] = bad
            self._raise_nonfinite(None)
        if self.problem.threshold > 0 and _below(self.problem, self.a):
            self.ist[J_STATUS] = ST_THRESHOLD
        self._s = np.zeros(n * m)
        self._anew = np.zeros(n * m)
        self._rows = [self.a.copy()[None, :]]
        self._steps = [np.array([self.t0], np.int64)]
        self.wall_time = 0.0

    # ------------------------------------------------------------------ driving
    @property
    def step(self) -> int:
        """The current step index."""
        return int(self.ist[J_T])

    @property
    def status(self) -> int:
        return int(self.ist[J_STATUS])

    @property
    def done(self) -> bool:
        return self.status != ST_OK or self.step >= self.t_stop

    def chunk_rows(self) -> int:
        return max(1, CHUNK_BYTES // (8 * self.network.n * self.members))

    def _warn_long(self, network) -> None:
        """A warning with the step count for runs that will take long (class 5 of issue 13)."""
        import warnings

        from ._numerics import LONG_RUN_S, RHS_ELEMENT_S, RHS_FIXED_S, _duration
        from .errors import ThoughtfieldWarning
        steps = self.t_stop - self.t0
        per = RHS_FIXED_S + RHS_ELEMENT_S * (2 * network.n_relations + network.n) * self.members
        if steps * per > LONG_RUN_S:
            warnings.warn(f"this run takes {'up to ' if self.t_end is None else ''}{steps:.3g} "
                          f"steps (spreadr; roughly {_duration(steps * per)} or more on one "
                          "core): Ctrl-C stops it (keeping a checkpoint when checkpointing is "
                          "on)", ThoughtfieldWarning, stacklevel=3)

    def _steps_per_call(self) -> int:
        """Steps one kernel call may take: calibrated to about ``KERNEL_CALL_S`` seconds
        so that SIGINT/SIGTERM and checkpoints act within about a second (where a call
        ends never changes the result)."""
        b = self.__dict__.get("_budget")
        if b is None:
            b = max(1, int(2e7 // (self.problem.data.size * self.members
                                   + self.network.n * self.members + 64)))
        return b

    def advance(self, steps: int | None = None) -> None:
        """Run up to ``steps`` more steps (default: to the end), keeping the saved rows."""
        from ._limits import KERNEL_CALL_S
        if self.done:
            return
        if self._interrupt is not None:   # freeze the partial result of an interruption
            self._interrupt, err = None, self._interrupt
            err.partial  # noqa: B018 - assembles it from the state at the interruption
        t_goal = self.t_stop if steps is None else min(self.t_stop, self.step + int(steps))
        every = 1 if self.save_at is not None else self.save_every
        rows = self.chunk_rows()
        t_wall = _time.perf_counter()
        while self.status == ST_OK and self.step < t_goal:
            budget = self._steps_per_call()
            t_call = min(t_goal, self.step + budget)
            want = -(-(t_call - self.step) // every) + 1
            out = np.empty((min(rows, want), self.network.n * self.members))
            tout = np.empty(out.shape[0], np.int64)
            before, t_k = self.step, _time.perf_counter()
            k = _run(self.problem, self.a, self._s, self._anew, self.ist, t_call, every,
                     self.t0, out, tout)
            took, done = _time.perf_counter() - t_k, self.step - before
            if done > 0 and took > 0:
                self._budget = max(1, min(int(KERNEL_CALL_S * done / took), 4 * budget))
            out, tout = out[:k], tout[:k]
            # the kernel also saves the last step of each call; keep it only when the run
            # ends there, so that where a chunk ends never changes what is saved
            final = self.status != ST_OK or self.step >= self.t_stop
            if self.save_at is not None:
                sel = np.isin(tout, self.save_at)
            else:
                sel = (tout - self.t0) % every == 0
            if final and k:
                sel[-1] = True
            if not sel.all():
                out, tout = out[sel], tout[sel]
            self._rows.append(out)
            self._steps.append(tout)
        self.wall_time += _time.perf_counter() - t_wall
        if self.status == ST_NONFINITE:
            self._raise_nonfinite(self.result(partial=True))
        if self.t_end is None and self.status == ST_OK and self.step >= self.t_stop:
            err = SolverError(
                f"spreadr: activations did not all fall below threshold_to_stop = "
                f"{self.solver.threshold_to_stop:g} within max_steps = {self.solver.max_steps} "
                "steps (activation is conserved without decay or suppress); raise "
                "solver.max_steps, set decay/suppress, or give t_end",
                time=float(self.step), status="max_steps_exceeded")
            err.partial = self.result(partial=True)
            raise err

    def _raise_nonfinite(self, partial):
        i, k = divmod(int(self.ist[J_BAD]), self.members)
        concept = self.network.concepts[i]
        who = f"concept {concept!r}" + (f" (member {k})" if self.members > 1 else "")
        err = DivergenceError(
            f"activation of {who} became non-finite at step {self.step} (spreadr); the "
            "activations summed past the largest float (about 1.8e308) -- lower the "
            "injected amplitudes (pulses), or add decay", time=float(self.step),
            concept=concept, status="nonfinite")
        err.partial = partial
        raise err

    def run(self, progress: bool = False, *, checkpoint=None, checkpoint_every: float = 60.0,
            resume: bool = False, keep_checkpoint: bool = False):
        """Run to the end and return the result Dataset (``checkpoint``,
        ``checkpoint_every``, ``resume`` and ``keep_checkpoint`` as for
        :meth:`Simulation.run`)."""
        saver = None
        if checkpoint is not None:
            from .checkpoint import Checkpointer
            saver = Checkpointer(self, checkpoint, every=checkpoint_every)
            if resume:
                saver.restore()
        if not progress and saver is None:
            try:
                self.advance()
            except KeyboardInterrupt as e:
                raise self._interrupted(e, None) from None
            return self.result()
        every = self.save_every
        step = max(1, self.chunk_rows()) * every          # chunks end on the save grid
        if saver is not None:
            step = min(step, max(1, -(-(self.t_stop - self.t0) // (100 * every))) * every)
        bar = None
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=self.t_stop - self.step, unit="step", desc="thoughtfield",
                       leave=False, **(progress if isinstance(progress, dict) else {}))
        try:
            while not self.done:
                before = self.step
                t_chunk = _time.perf_counter()
                self.advance(step)
                if bar is not None:
                    bar.update(self.step - before)
                if saver is not None:
                    saver.after_chunk()
                    step = saver.next_chunk(step, _time.perf_counter() - t_chunk,
                                            max(1, self.chunk_rows()) * every, every)
        except BaseException as e:
            if saver is not None and isinstance(e, (SolverError, DivergenceError)):
                saver.remove()
            if isinstance(e, KeyboardInterrupt):
                raise self._interrupted(e, saver) from None
            raise
        finally:
            if bar is not None:
                bar.close()
        ds = self.result()
        if saver is not None and not keep_checkpoint:
            saver.remove()
        return ds

    def _interrupted(self, e: KeyboardInterrupt, saver):
        """:class:`~thoughtfield.errors.Interrupted` after a checkpoint (when on)."""
        import signal

        from .errors import Interrupted, ThoughtfieldError
        ckpt, note = None, " (checkpointing is off)"
        if saver is not None:
            try:
                self.save_checkpoint(saver.path)
                ckpt = saver.path
            except (OSError, ThoughtfieldError) as err:
                note = f" (the checkpoint could not be written: {err})"
        signum = getattr(e, "signum", None) or int(signal.SIGINT)
        word = "terminated (SIGTERM)" if signum == signal.SIGTERM else "interrupted"
        msg = (f"{word} at step {self.step} (spreadr); "
               + (f"checkpoint written to {ckpt}" if ckpt else "no checkpoint" + note))
        err = Interrupted(msg, checkpoint=ckpt, partial=lambda: self.result(partial=True),
                          signum=signum, time=float(self.step))
        self._interrupt = err   # see Simulation._interrupted
        return err

    def save_checkpoint(self, path) -> str:
        """Write the state of this run to ``path`` (atomically)."""
        from .checkpoint import save_checkpoint
        return save_checkpoint(self, path)

    def load_checkpoint(self, path) -> dict:
        """Continue this (not yet run) simulation from the checkpoint at ``path``."""
        from .checkpoint import load_checkpoint
        return load_checkpoint(self, path)

    # ------------------------------------------------------------------ results
    def stats(self) -> dict:
        status = {ST_OK: "success", ST_THRESHOLD: "threshold_reached",
                  ST_NONFINITE: "nonfinite"}[self.status]
        if self.t_end is None and self.status == ST_OK and self.step >= self.t_stop:
            status = "max_steps_exceeded"
        return {"n_steps": int(self.ist[J_STEPS]), "status": status}

    def result(self, partial: bool = False):
        steps = np.concatenate(self._steps)
        rows = np.concatenate(self._rows, axis=0)
        if self.save_at is not None:
            keep = np.isin(steps, self.save_at)
            keep[0] |= True   # t0 is always saved
            if self.status != ST_OK or self.step >= self.t_stop:
                keep[-1] = True
            steps, rows = steps[keep], rows[keep]
        act = rows.reshape(steps.size, self.network.n, self.members)
        stats = self.stats()
        if self.status == ST_THRESHOLD:
            message = (f"every activation fell below threshold_to_stop = "
                       f"{self.solver.threshold_to_stop:g} at step {self.step}")
        elif partial:
            message = f"partial result up to step {self.step}"
        else:
            message = f"finished after step {self.step}"
        attrs = {
            "title": "thoughtfield simulation",
            "thoughtfield_version": _version(),
            "seed": self.seed,
            "members": self.members,
            "t0": self.t0,
            "t_end": self.t_end if self.t_end is not None else "none",
            "method": "spreadr",
            "solver": self.solver.to_dict(),
            "dt": 1,
            **stats,
            "message": message,
            "model": compact_description({"initial": self.model.to_dict()["initial"]}),
            "stimuli": [s.to_dict() for s in self.stimuli],
            "network": network_description(self.network),
        }
        if self.status == ST_THRESHOLD:
            attrs["stopped_at"] = self.step
        ds = make_dataset(steps.astype(np.float64), act, self.network, members=self.members,
                          attrs=attrs)
        from .results import STEP_ATTRS
        ds["time"].attrs.clear()
        ds["time"].attrs.update(STEP_ATTRS)
        return ds


def _load_kernels(full: bool = True) -> None:
    """The kernels of the discrete mode (inject, first_bad, below, run) on a tiny problem."""
    sim = DiscreteSimulation(tiny_network(), solver=Spreadr(), t_end=1)
    sim.advance(1)


register_kernel_path("discrete", _load_kernels)
