"""Running a simulation: the driver between descriptions, kernels and datasets."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time as _time

import numpy as np

from . import _validate as V
from ._kernels.integrate import integrate
from ._kernels.transfer import BRANCHES as TRANSFER_BRANCHES
from ._kernels.rhs import apply_segment
from . import _numerics as NUM
from ._problem import (F_ERRPREV, F_H, F_T, F_TBAD, I_ACC, I_BAD, I_BUDGET, I_NEXT, I_REJ, I_RHS,
                       I_STATUS, I_STEPS, ST_CHOICE, ST_MAX_STEPS, ST_NONFINITE, ST_OK, ST_RANGE,
                       ST_STEADY, ST_STEP_TOO_SMALL, STATUS_NAMES, State, Work,
                       pack_work)
from ._limits import KERNEL_CALL_S, gib as _gib, memory_limit
from ._sizes import SAVE_LESS
from ._warmup import THREADED_COMPILE_S, CompileWatch, tiny_network
from ._warmup import ensure as ensure_kernels, register_path as register_kernel_path
from .build import LOWERERS, Built, build_method, build_problem, save_times
from .discrete import DiscreteSimulation, is_discrete
from .errors import ConfigError, DivergenceError, ResourceError, SolverError
from .model import TRANSFER_CODES, Model
from .network import ConceptNetwork
from .saving import SaveAt, resolve as resolve_saveat
from .results import _version, attr_json, compact_description, network_description
from .solvers import as_solver
from .transfers import get as get_transfer

#: Rows per block of the right-hand side (the block's net inputs stay in L1/L2 cache).
BLOCK_ROWS = 256
#: Output buffer handed to one kernel call (bytes); sets the progress/checkpoint granularity.
CHUNK_BYTES = 32 * 2**20


#: Work (edges x members + states) above which the right-hand side runs on several threads
#: by default.  The threaded kernels are twins compiled on first use in each process and
#: never cached (``_kernels/threads.py``: numba cannot cache callers of parallel code
#: safely), which costs 25-75 s once; a right-hand side of 1e7 edges takes 0.1-0.5 s, so a
#: run of a few hundred evaluations repays it.  Below about 1e5 edges the fork/join of a
#: parallel region costs more than it saves as soon as the machine is loaded (N = 1e4 with
#: other processes on both cores: 2.4 ms per threaded RHS instead of 0.14 ms serial).
#: ``threads=`` overrides the choice.
PARALLEL_MIN_WORK = 10_000_000


def parallel_tasks(work: int, threads: int | None, run_s: float | None = None) -> int:
    """How many row ranges the right-hand side is split into (1 = serial).

    ``threads=None`` uses numba's thread count for large problems only (``work`` at least
    :data:`PARALLEL_MIN_WORK`), and -- while the threaded twins are not yet compiled in this
    process -- only for runs whose estimated serial time ``run_s`` is long enough for ``n``
    threads to win back their compile: ``run_s (1 - 1/n) > THREADED_COMPILE_S``.  A short
    run of a large network (a few hundred right-hand sides) then takes seconds instead of
    waiting 40 s for a compile that saves less than it costs.  ``threads=1`` forces the
    serial path; ``threads >= 2`` asks for threads whatever the cost.  Results do not depend
    on the choice (bitwise).
    """
    if threads is not None and threads <= 1:
        return 1
    if threads is None and work < PARALLEL_MIN_WORK:
        return 1
    import numba
    n = numba.get_num_threads() if threads is None else min(threads, numba.config.NUMBA_NUM_THREADS)
    if n <= 1:
        return 1
    if threads is None and run_s is not None and not threaded_compiled():
        if run_s * (1.0 - 1.0 / n) <= THREADED_COMPILE_S:
            return 1
    return 4 * n


def threaded_compiled() -> bool:
    """Whether this process has compiled the threaded twin of the integrator."""
    from ._kernels.threads import compiled
    return compiled(integrate)


def member_seeds(seed: int, m: int, key: tuple[int, ...] = ()) -> np.ndarray:
    """xoshiro256** states for ``m`` members derived from ``(seed, *key, member)``:
    ``SeedSequence([seed, *key, k]).generate_state(4, np.uint64)`` for each member ``k``
    (an all-zero state, a fixed point of xoshiro, gets ``state[0] = 1``), computed for
    all members at once (:mod:`thoughtfield._seeds`)."""
    from ._seeds import seed_states
    return seed_states(seed, m, key)


class Simulation:
    """A prepared run: validated, lowered, ready to integrate in chunks.

    Most users call :func:`simulate`; this class exposes the chunked driver for
    checkpointing, progress reporting and ensembles.  It integrates the continuous
    dynamics; :func:`make_simulation` prepares either this or, for the discrete solver
    ``"spreadr"``, a :class:`~thoughtfield.discrete.DiscreteSimulation`.
    """

    mode = "continuous"   # the engine (checkpoints record it)
    _interrupt = None   # the last Interrupted whose partial result is not yet assembled

    def __init__(self, network: ConceptNetwork, model: Model | None = None, stimuli=None, *,
                 t_end: float = 10.0, t0: float = 0.0, solver=None, saveat: SaveAt | None = None,
                 members: int = 1, seed: int | None = None, initial=None,
                 seed_key: tuple[int, ...] = (), threads: int | None = None,
                 max_memory: float | None = None, member_params=None,
                 save_dt=None, save_at=None, save_every=None):
        saveat = resolve_saveat(saveat, save_dt, save_at, save_every)
        if not isinstance(network, ConceptNetwork):
            raise ConfigError(f"network: expected a ConceptNetwork (got {type(network).__name__})",
                              key='network')
        model = Model() if model is None else model
        if not isinstance(model, Model):
            raise ConfigError(f"model: expected a Model (got {type(model).__name__})", key='model')
        if is_discrete(solver):
            raise ConfigError("solver: 'spreadr' is the discrete mode, which Simulation does "
                              "not integrate; use tf.make_simulation(...) (either mode) or "
                              "tf.DiscreteSimulation(...)", key='solver')
        self.network = network
        self.model = model
        self.solver = as_solver(solver)
        self.t0 = V.real("t0", t0)
        self.t_end = V.real("t_end", t_end)
        if not self.t_end > self.t0:
            raise ConfigError(f"t_end: must be > t0 ({self.t0:g}) (got {self.t_end:g})",
                              key='t_end')
        self.members = V.integer("members", members, min=1)
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        self.seed = V.integer("seed", seed, min=0)
        self.seed_key = tuple(int(k) for k in seed_key)
        if threads is not None:
            threads = V.integer("threads", threads, min=1)

        if network.n == 0:
            raise ConfigError("network: has no concepts; add concepts before simulating",
                              key='network')
        code = TRANSFER_CODES[model.transfer]
        if code not in TRANSFER_BRANCHES:   # (the analysis needs only the registry entry)
            raise ConfigError(f"model.transfer: {model.transfer!r} (code {code}) is registered "
                              "but the compiled kernels have no branch for it; add one on its "
                              "code to phi_block and phi_scalar in "
                              "thoughtfield/_kernels/transfer.py (see docs/extending.md)",
                              key="model.transfer")
        ensure_kernels("continuous")   # before any kernel call: announces a first compile
        self.method = build_method(self.solver, model, network, self.t0, self.t_end)
        dt = None if self.solver.adaptive else float(self.method.opt_f[0])
        self.dt = dt
        if saveat is None and self.solver.method == "async":   # on the sweep grid
            sweeps = max(1, round((self.t_end - self.t0) / dt))
            saveat = SaveAt(every=-(-sweeps // 200))
        self.ts = save_times(self.t0, self.t_end, saveat, dt=dt)
        self.memory_estimate = self._check_memory(max_memory)  # before any large allocation
        built, dyn = _lowered(network, model, stimuli, self.t0, self.t_end, self.members,
                              initial, cacheable=member_params is None)
        if dyn is not None:   # the same description as an earlier run: checked again below
            self.__dict__["_dynamics"] = dyn
        self._lowered_key = built.key
        self.problem = built.problem
        self.stimuli = built.stimuli
        self.member_params = self._lower_member_params(member_params, built, initial)
        self.layout = built.layout
        self.weights = built.weights
        extra_rows = sum(r for _, r in self.layout.out)
        # check again with the real sizes: the lowered arrays, state rows and saved
        # variables of the mechanisms (still before the stages and the output)
        self.memory_estimate = self._check_memory(max_memory, self.problem.nstate, extra_rows,
                                                  problem=self.problem)
        self.y0 = built.y0
        # numerical guards: overflow, tolerances, fixed-step stability, step count (refused
        # or warned about before anything runs), and the range the states must keep
        self.step_estimate = NUM.check(self, overflow=dyn is None)
        if dyn is None and built.key is not None:
            _remember(network, built, self.__dict__.get("_dynamics"))
        self._range = NUM.range_bounds(self, self.step_estimate)
        per_step = self.solver.tableau.n_step_stages * (self.problem.data.size * self.members
                                                        + self.problem.nstate * self.members + 64)
        self._budget = max(1, int(2e7 // per_step))   # first guess; tuned by call time

        n, m = network.n, self.members
        nm = n * m
        P = self.problem
        snm = P.nstate * m
        bm = -(-BLOCK_ROWS * m // 64) * 64  # padded, see _kernels/rhs.py:_padded
        ibuf = np.zeros(bm, np.int64)
        ntask = parallel_tasks(P.data.size * m + nm, threads, self.step_estimate.seconds)
        self.threads = threads
        mech = NUM._mechanisms(self)
        npool = mech.p_ptr.size - 1
        nq = mech.d_pool.size
        pot = P.form == 1
        tb = ntask * bm if ntask > 1 else 0   # per-task block buffers (see layout.py)
        wm, wo = pack_work({"cval": nm, "act": nm if pot else 0, "xin": nm if P.xmode else 0,
                            "psum": npool * m, "ovl": P.xi.shape[1] * m, "accon": nq,
                            "yold": snm if nq else 0, "ystar": snm if nq else 0,
                            "astar": nm if nq and pot else 0, "fend": snm if nq else 0,
                            "won": 1 if P.w_off >= 0 else 0, "qval": mech.q_val.size,
                            "tbuf": tb, "tebuf": tb, "tibuf": tb,
                            "tacc": ntask * 2 * m if ntask > 1 else 0,
                            "dcoef": max(1, self.method.c.size) if nq else 0})
        self.work = Work(inp=np.zeros(nm), clamp=np.zeros(nm, np.uint8), buf=np.zeros(bm),
                         ebuf=np.zeros(bm), ibuf=ibuf, fview=ibuf.view(np.float64),
                         acc=np.zeros(2 * m), block=BLOCK_ROWS, ntask=ntask, mxs=np.zeros(ntask),
                         chks=np.zeros(ntask), wm=wm, wo=wo)
        fst = np.zeros(8)
        fst[F_T] = self.t0
        fst[F_H] = 0.0
        fst[F_ERRPREV] = 1e-4
        self.y0 = built.y0   # the initial state (before clamps), for checkpoint fingerprints
        self.state = State(y=built.y0.copy(), fst=fst, ist=np.zeros(16, np.int64),
                           rng=member_seeds(self.seed, m, self.seed_key),
                           spare=np.zeros(m), has_spare=np.zeros(m, np.int64),
                           ev_i=np.full((nq, m), -1, np.int64),
                           ev_f=np.full((nq, m, 2 + npool), np.nan))
        ns = self.method.c.size   # stages of a step + extra dense-output stages
        self._K = np.zeros((ns, snm))
        self._ytmp = np.zeros(snm)
        self._ynew = np.zeros(snm)
        self._errm = np.zeros(2 * m)
        self.row_size = nm + sum(r for _, r in self.layout.out) * m
        self.out = np.empty((self.ts.size, self.row_size))
        apply_segment(self.problem, self.work, 0, self.state.y)
        self._async = None
        if self.solver.method == "async":
            from .discrete import AsyncPlan
            self._async = AsyncPlan(self)
        self.wall_time = 0.0

    def _lower_member_params(self, member_params, built, initial) -> dict:
        """Per-member parameters (see :mod:`thoughtfield.ensemble`): ``(M, N)`` arrays by name."""
        if member_params is None:
            return {}
        from .ensemble import lower_member_params, resolve_member_params
        resolved = resolve_member_params(member_params, self.network, self.model, self.members)
        self.problem, y0 = lower_member_params(
            self.problem, built.y0, resolved, network=self.network, model=self.model,
            stochastic=bool(self.method.stochastic), initial_given=initial is not None)
        built.y0 = y0
        return resolved

    def _check_memory(self, max_memory, nstate: int | None = None, extra_rows: int = 0,
                      problem=None) -> int:
        """Refuse runs whose allocations would not fit, before allocating anything large.
        ``nstate``/``extra_rows``: state rows and saved rows beyond the concepts (mechanisms:
        adaptation, control, evidence); ``problem``: the lowered problem once built (its
        arrays are then counted as they are).  Every item is counted (see
        :func:`thoughtfield.resources.continuous_memory`): lowering the network, the
        solver's stages, the output, the Dataset assembly and the write."""
        from .readouts import derived_width
        from .resources import continuous_memory, coupling_entries, names_bytes
        n, m = self.network.n, self.members
        S = n if nstate is None else nstate
        relations, entries = coupling_entries(self.network)
        pb = None
        if problem is not None:
            pb = sum(int(getattr(v, "nbytes", 0)) for v in problem)
            entries = max(entries, int(problem.data.size))
        lay = getattr(self, "layout", None)
        items = continuous_memory(
            n=n, members=m, nstate=S, times=int(self.ts.size), extra_rows=extra_rows,
            stages=int(self.method.c.size), relations=relations, entries=entries,
            chunked=len(getattr(self.network, "_rel_chunks", ())) > 1
            or "rel" not in getattr(self.network, "_cache", {}),
            problem_bytes=pb, stops_early=bool(self.solver.steady_tol)
            or bool(lay is not None and lay.decisions),
            derived=derived_width(self) if lay is not None else 2 * 8 * m,
            strings=names_bytes(self.network))
        self.memory_items = items
        total = int(sum(items.values()))
        limit, source = memory_limit(max_memory)
        if limit is not None and total > limit:
            out_b = items["output"]
            what = f"{n} concepts" if not extra_rows else f"({n} concepts + {extra_rows} variables)"
            parts = (f"saved output {_gib(out_b)} = {self.ts.size} save times x {what} x {m} "
                     f"members x 8 bytes; network {_gib(items['network'])} to lower "
                     f"{relations} relations; solver state {_gib(items['solver'])}; result "
                     f"assembly and write {_gib(items['result'])}")
            largest = max(items, key=items.get)
            if largest in ("output", "result"):
                hint = f"{SAVE_LESS}, use fewer members"
            elif largest == "network":
                hint = "use a smaller network (fewer relations)"
            else:
                hint = "use fewer members"
            raise ResourceError(
                f"this run needs about {_gib(total)} ({parts}) but the limit is {_gib(limit)} "
                f"({source}); {hint}, or raise the limit (max_memory / "
                "THOUGHTFIELD_MAX_MEMORY)")
        return total

    # ------------------------------------------------------------------ driving
    def reset(self, y=None, *, random_state=None) -> None:
        """Return to ``t0`` for another run of the same prepared problem (a trial of a
        protocol): the state vector ``y`` (default: the initial state; mechanism rows
        included, member-minor as in :attr:`state`), a fresh step-size controller, no
        saved rows, steps or choices; the noise streams continue where they are unless
        ``random_state`` (from :meth:`random_state`) is given.  The first segment's inputs
        are applied, as after construction."""
        st = self.state
        st.y[:] = self.y0 if y is None else y
        st.fst[:] = 0.0
        st.fst[F_T] = self.t0
        st.fst[F_H] = 0.0
        st.fst[F_ERRPREV] = 1e-4
        st.ist[:] = 0
        st.ev_i[:] = -1
        st.ev_f[:] = np.nan
        if random_state is not None:
            st.rng[:], st.spare[:], st.has_spare[:] = random_state
        apply_segment(self.problem, self.work, 0, st.y)

    def random_state(self) -> tuple:
        """Copies of the members' noise streams (``rng``, ``spare``, ``has_spare``), for
        :meth:`reset` of this or another simulation of the same ensemble."""
        st = self.state
        return st.rng.copy(), st.spare.copy(), st.has_spare.copy()

    @property
    def n_saved(self) -> int:
        return int(self.state.ist[I_NEXT])

    @property
    def status(self) -> int:
        return int(self.state.ist[I_STATUS])

    @property
    def done(self) -> bool:
        return self.n_saved >= self.ts.size or self.status != ST_OK

    def chunk_points(self) -> int:
        row = 8 * self.row_size
        return max(1, min(self.ts.size, CHUNK_BYTES // row))

    def advance(self, i_hi: int) -> None:
        """Integrate until save slots ``[0, i_hi)`` are filled (or the run stops)."""
        i_hi = min(int(i_hi), self.ts.size)
        while self.n_saved < i_hi and self.status == ST_OK:
            if not self._call(i_hi):
                break

    def _call(self, i_hi: int) -> bool:
        """One kernel call towards save slot ``i_hi`` (at most a step budget, about
        :data:`KERNEL_CALL_S` seconds), then the checks; False when it made no progress."""
        ist = self.state.ist
        i_lo = self.n_saved
        before = (int(ist[I_STEPS] + ist[I_REJ]), i_lo, float(self.state.fst[F_T]))
        t_wall = _time.perf_counter()
        self.call_kernel(i_hi)
        self.wall_time += _time.perf_counter() - t_wall
        self._check_range(i_lo)
        self._check_status()
        return (int(ist[I_STEPS] + ist[I_REJ]), self.n_saved, float(self.state.fst[F_T])) != before

    def step_budget(self) -> int:
        """Steps (accepted + rejected) one kernel call may take; calibrated from the time of
        the previous calls to about :data:`KERNEL_CALL_S` seconds."""
        return self._budget

    def _tune_budget(self, steps: int, seconds: float) -> None:
        if steps <= 0 or seconds <= 0:
            return
        want = int(KERNEL_CALL_S * steps / seconds)
        self._budget = max(1, min(want, 4 * self._budget, 2**40))

    def call_kernel(self, i_hi: int) -> None:
        """One call of the integrator kernel from the current state towards save slot
        ``i_hi`` (``i_hi == n_saved``: a call that does nothing but load the kernel).  The
        call takes at most :meth:`step_budget` steps; where it stops never changes the
        result."""
        i_lo = self.n_saved
        i_hi = min(int(i_hi), self.ts.size)   # the kernel reads ts[i] for i < i_hi
        if self._interrupt is not None:   # freeze the partial result of an interruption
            self._interrupt, err = None, self._interrupt
            err.partial  # noqa: B018 - assembles it from the state at the interruption
        kernel = integrate
        watch = contextlib.nullcontext()
        if self.work.ntask > 1 and self._async is None:   # the threaded twin (once per process)
            from ._kernels.threads import threaded
            kernel = threaded(integrate)
            if not kernel.signatures:
                watch = CompileWatch(
                    f"thoughtfield: compiling the threaded kernels for this process (about "
                    f"{THREADED_COMPILE_S} s; they cannot be cached: threads=1 avoids them)...")
        ist = self.state.ist
        moving = i_hi > i_lo and self.status == ST_OK
        done = int(ist[I_STEPS] + ist[I_REJ])
        if moving:
            ist[I_BUDGET] = done + max(1, int(self.step_budget()))
        t = _time.perf_counter()
        try:
            if self._async is not None:   # the asynchronous update: its own kernel
                self._async.run(self, i_lo, i_hi)
            else:
                with watch:   # the kernel may fill slots past i_hi inside its last step
                    kernel(self.problem, self.work, self.method, self.state, self._K,
                           self._ytmp, self._ynew, self._errm, self.ts, i_lo, i_hi,
                           self.out[i_lo:])
        finally:
            ist[I_BUDGET] = 0
        if moving:
            self._tune_budget(int(ist[I_STEPS] + ist[I_REJ]) - done, _time.perf_counter() - t)

    def run(self, progress=False, *, checkpoint=None, checkpoint_every: float = 60.0,
            resume: bool = False, keep_checkpoint: bool = False,
            assemble: bool = True) -> "xr.Dataset | None":  # noqa: F821
        """Integrate to the end and return the result Dataset.

        ``assemble=False`` integrates without assembling the Dataset and returns None: for
        a caller that reads what it needs from :attr:`state` and :meth:`stats` (a trial of
        a protocol), or calls :meth:`result` later.

        ``progress``: ``True`` shows a tqdm bar over simulated time; a dict of tqdm
        options adjusts it (e.g. ``{"delay": 1.0}`` shows it only for runs longer than a
        second, ``{"disable": None}`` hides it when stderr is not a terminal).

        ``checkpoint``: a file to checkpoint the run to, at most every
        ``checkpoint_every`` seconds (0: at every chunk boundary); with ``resume=True``
        an existing checkpoint there is restored first.  The checkpoint is removed when
        the run ends -- unless ``keep_checkpoint=True``: then it stays until the caller has
        written the result durably (:func:`~thoughtfield.save_result`) and removes it
        (:func:`thoughtfield.checkpoint.remove_checkpoint`), so that a crash in between
        loses nothing (the command line does this).  See :mod:`thoughtfield.checkpoint`.
        """
        saver = None
        if checkpoint is not None:
            from .checkpoint import Checkpointer
            saver = Checkpointer(self, checkpoint, every=checkpoint_every)
            if resume:
                saver.restore()
        self.call_kernel(self.n_saved)   # load (or compile) the kernel before any progress bar
        bar = None
        step = self.chunk_points()
        if saver is not None:
            step = min(step, max(1, -(-self.ts.size // 100)))
        if progress:
            from tqdm.auto import tqdm
            opts = dict(total=self.t_end - self.t0, unit="t", desc="simulating", leave=False,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| t = {n:.4g}/{total:.4g} "
                                   "[{elapsed}<{remaining}]")
            if isinstance(progress, dict):
                opts.update(progress)
            bar = tqdm(**opts)
            step = min(step, max(1, -(-self.ts.size // 100)))  # ~100 updates per run
        try:
            while not self.done:
                t_chunk = _time.perf_counter()
                if not self._call(self.n_saved + step):   # one call: ~KERNEL_CALL_S at most
                    break
                if bar is not None and self.n_saved:
                    bar.update(float(self.ts[self.n_saved - 1]) - self.t0 - bar.n)
                if saver is not None:
                    saver.after_chunk()
                    step = saver.next_chunk(step, _time.perf_counter() - t_chunk,
                                            self.chunk_points())
        except BaseException as e:
            from .errors import SimulationError
            if saver is not None and isinstance(e, SimulationError):
                saver.remove()   # the run is over (it failed the same way on a resume)
            if isinstance(e, KeyboardInterrupt):   # SIGINT (or SIGTERM from the command line)
                if bar is not None:
                    bar.close()
                    bar = None
                raise self._interrupted(e, saver) from None
            raise
        finally:
            if bar is not None:
                bar.refresh()   # show the final state (updates may have been throttled)
                bar.close()
        ds = self.result() if assemble else None
        if saver is not None and not keep_checkpoint:
            saver.remove()
        return ds

    def _interrupted(self, e: KeyboardInterrupt, saver):
        """The :class:`~thoughtfield.errors.Interrupted` for an interruption between two
        kernel calls (the state is complete there): a checkpoint is written first when
        checkpointing is on, whatever its interval."""
        import signal

        from .errors import Interrupted, ThoughtfieldError
        ckpt, note = None, ""
        if saver is not None:
            try:
                self.save_checkpoint(saver.path)
                ckpt = saver.path
            except (OSError, ThoughtfieldError) as err:
                note = f" (the checkpoint could not be written: {err})"
        t = float(self.state.fst[F_T])
        signum = getattr(e, "signum", None) or int(signal.SIGINT)
        word = "terminated (SIGTERM)" if signum == signal.SIGTERM else "interrupted"
        msg = f"{word} at t = {t:.6g} ({self.n_saved} of {self.ts.size} save times); "
        msg += (f"checkpoint written to {ckpt}" if ckpt else
                "no checkpoint" + (note or " (checkpointing is off)"))
        # the partial result is assembled when first read (a command line run exits
        # without importing xarray); before the state moves again it is frozen
        err = Interrupted(msg, checkpoint=ckpt, partial=lambda: self.result(partial=True),
                          time=t, signum=signum)
        self._interrupt = err
        return err

    def save_checkpoint(self, path) -> str:
        """Write the state of this run to ``path`` (atomically); see
        :mod:`thoughtfield.checkpoint`."""
        from .checkpoint import save_checkpoint
        return save_checkpoint(self, path)

    def load_checkpoint(self, path) -> dict:
        """Continue this (not yet run) simulation from the checkpoint at ``path``."""
        from .checkpoint import load_checkpoint
        return load_checkpoint(self, path)

    # ------------------------------------------------------------------ failures
    def _locate(self, flat: int) -> tuple[str, int]:
        m = self.members
        i, k = divmod(int(flat), m)
        if i < self.network.n:
            return self.network.concepts[i], k
        return self.layout.state_name(i, self.network.concepts), k

    def _check_range(self, i_lo: int) -> None:
        """Stop the run (status ``out_of_range``) when a saved row from ``i_lo`` on, or the
        current state, has a concept outside the range its transfer allows (see
        :mod:`thoughtfield._numerics`): finite garbage is a divergence too."""
        bounds = self._range
        if bounds is None or self.status not in (ST_OK, ST_STEADY, ST_CHOICE):
            return
        lo, hi = bounds
        nm = self.network.n * self.members
        k = self.n_saved
        rows = self.out[i_lo:k, :nm]
        bad = (rows < lo) | (rows > hi)
        if bad.any():
            r, q = np.unravel_index(int(np.argmax(bad)), bad.shape)
            t_bad, value = float(self.ts[i_lo + r]), float(rows[r, q])
            self.state.ist[I_NEXT] = i_lo + r   # the partial result stops before it
        else:
            y = self.state.y[:nm]
            bad = (y < lo) | (y > hi)
            if not bad.any():
                return
            q = int(np.argmax(bad))
            t_bad, value = float(self.state.fst[F_T]), float(y[q])
        self.state.ist[I_STATUS] = ST_RANGE
        self.state.ist[I_BAD] = int(q)
        self.state.fst[F_TBAD] = t_bad
        self._range_value = value

    def _check_status(self) -> None:
        st = self.status
        if st in (ST_OK, ST_STEADY, ST_CHOICE):
            return
        t_bad = float(self.state.fst[F_TBAD])
        method = self.solver.method
        if st in (ST_NONFINITE, ST_RANGE):
            flat = int(self.state.ist[I_BAD])
            concept, member = self._locate(flat)
            who = (f"concept {concept!r}" if flat < self.network.n * self.members
                   else concept) + (f" (member {member})" if self.members > 1 else "")
            if st == ST_NONFINITE:
                msg = (f"activation of {who} became non-finite at t = {t_bad:.6g} ({method}); "
                       + NUM.nonfinite_hint(self, flat))
            else:
                tr = self.model.transfer
                lo, hi = get_transfer(tr).range
                hull = NUM.dynamics(self).hull
                joined = "" if hull == (lo, hi) else \
                    f" joined with the initial and clamped values [{hull[0]:g}, {hull[1]:g}]"
                msg = (f"activation of {who} left the range [{lo:g}, {hi:g}] of the transfer "
                       f"{tr!r}{joined} at t = {t_bad:.6g} ({method}): it is "
                       f"{self._range_value:.6g}; " + NUM.range_hint(self))
            err = DivergenceError(msg, time=t_bad, concept=concept, status=STATUS_NAMES[st])
        elif st == ST_STEP_TOO_SMALL:
            err = SolverError(f"{method} could not meet rtol = {self.solver.rtol:g}, atol = "
                              f"{self.solver.atol:g} at t = {t_bad:.6g}: the step size fell below "
                              f"min_step = {self.method.opt_f[5]:g}; "
                              + NUM.step_too_small_hint(self),
                              time=t_bad, status=STATUS_NAMES[st])
        elif st == ST_MAX_STEPS:
            t = float(self.state.fst[F_T])
            err = SolverError(f"{method} stopped at t = {t:.6g} after max_steps = "
                              f"{self.solver.max_steps} steps; " + NUM.max_steps_hint(self),
                              time=t, status=STATUS_NAMES[st])
        else:  # pragma: no cover - every status is handled above
            err = SolverError(f"solver status {st}")
        try:
            err.partial = self.result(partial=True)
        except Exception:  # pragma: no cover - never mask the real error
            err.partial = None
        raise err

    # ------------------------------------------------------------------ results
    def stats(self) -> dict:
        ist = self.state.ist
        return {"n_steps": int(ist[I_STEPS]), "n_rhs": int(ist[I_RHS]),
                "n_accepted": int(ist[I_ACC]), "n_rejected": int(ist[I_REJ]),
                "status": STATUS_NAMES[self.status]}

    def _model_attr(self) -> str:
        """The ``model`` attribute: the JSON text of the model's compact description, kept
        with the lowering of a cached description (a model with an initial state of 1e3
        values: 0.45 ms of JSON per run)."""
        key = getattr(self, "_lowered_key", None)
        cache = self.network._cache.setdefault("model_json", {}) if key is not None else None
        text = cache.get(key[1]) if cache is not None else None
        if text is None:
            text = attr_json(compact_description(self.model.to_dict()))
            if cache is not None and LOWERED_CACHE_ENTRIES > 0:
                with _CACHE_LOCK:
                    while cache and len(cache) >= LOWERED_CACHE_ENTRIES:
                        cache.pop(next(iter(cache)), None)
                    cache[key[1]] = text
        return text

    def result(self, partial: bool = False):
        """The Dataset of what has been saved so far."""
        k = self.n_saved
        ts = self.ts[:k]
        out = self.out[:k]
        extra_t = None
        stopped = self.status in (ST_STEADY, ST_CHOICE)
        if stopped:
            t_stop = float(self.state.fst[F_T])
            if k == 0 or t_stop > ts[-1]:
                extra_t = t_stop
        if extra_t is not None:
            from ._kernels.rhs import store
            row = np.empty((1, out.shape[1]))
            store(self.problem, self.work, self.state.y, row[0])
            ts = np.concatenate([ts, [extra_t]])
            out = np.concatenate([out, row])
        stats = self.stats()
        if self.status == ST_STEADY:
            message = (f"steady state reached at t = {float(self.state.fst[F_T]):.6g} "
                       f"(max |da/dt| < {self.solver.steady_tol:g})")
        elif self.status == ST_CHOICE:
            message = f"stopped at t = {float(self.state.fst[F_T]):.6g}: every choice made"
        elif partial:
            message = f"partial result up to t = {ts[-1] if ts.size else self.t0:.6g}"
        else:
            message = "integration finished"
        attrs = {
            "title": "thoughtfield simulation",
            "thoughtfield_version": _version(),
            "seed": self.seed,
            "members": self.members,
            "t0": self.t0,
            "t_end": self.t_end,
            "method": self.solver.method,
            "solver": self.solver.to_dict(),
            "dt": self.dt if self.dt is not None else "adaptive",
            **stats,
            "message": message,
            "model": self._model_attr(),
            "stimuli": [s.to_dict() for s in self.stimuli],
            "network": network_description(self.network),
        }
        if stopped:
            attrs["stopped_at"] = float(self.state.fst[F_T])
        if self.member_params:
            from .ensemble import member_params_description
            attrs["member_params"] = member_params_description(self.member_params)
        from .readouts import assemble
        ds = assemble(self, ts, out, attrs)
        if self.member_params and self.members > 1:
            from .ensemble import member_coords
            ds = ds.assign_coords(member_coords(self.member_params, self.network))
        return ds


#: Lowered descriptions kept per network (in its ``_cache``, which every mutation of the
#: network clears): at most this many, each of at most :data:`LOWERED_CACHE_BYTES`.
LOWERED_CACHE_ENTRIES = 8
LOWERED_CACHE_BYTES = 16 * 2**20
_CACHE_LOCK = threading.Lock()


class _Uncacheable(Exception):
    """A description holds a value :func:`_fingerprint` cannot capture."""


def _fingerprint(v):
    """A hashable value equal for two descriptions exactly when they lower to the same
    arrays: types, float bits (``-0.0``, NaN payloads), array dtypes, shapes and bytes,
    the fields of dataclasses, mappings in order.  Anything else raises :class:`_Uncacheable`
    (the run is then lowered afresh).  Taken at every call, so a description mutated in
    place (an array inside a Model, a dict of per-concept values) gives a new key."""
    t = type(v)
    if v is None or t is bool or t is int or t is str:
        return v if t is not bool else ("b", v)
    if t is float:
        return ("f", v.hex())
    if isinstance(v, np.ndarray):
        if v.dtype.hasobject:
            return ("O", v.shape, tuple(_fingerprint(x) for x in v.ravel().tolist()))
        return ("a", v.dtype.str, v.shape, v.tobytes())
    if isinstance(v, np.generic):
        return ("g", v.dtype.str, v.tobytes()) if not v.dtype.hasobject else _fingerprint(
            v.item())
    if t is list or t is tuple:
        return (t.__name__, tuple(_fingerprint(x) for x in v))
    if t is dict:
        return ("d", tuple((_fingerprint(k), _fingerprint(x)) for k, x in v.items()))
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return (t, tuple(_fingerprint(getattr(v, f.name)) for f in dataclasses.fields(v)))
    raise _Uncacheable(t.__name__)


def _lowered(network, model, stimuli, t0, t_end, members, initial, cacheable=True):
    """``(built, dynamics)``: the lowered problem of a run (:func:`~thoughtfield.build.
    build_problem`) and, when an earlier run of the same network (unchanged), model,
    stimuli, span, members and initial state, with the same transfer and lowerers
    registered, lowered it already, that run's
    :class:`~thoughtfield._numerics.Dynamics` (else None).  The cached arrays are shared:
    the kernels only read them (``tests/test_call_overhead.py`` checks that)."""
    key = None
    cache = getattr(network, "_cache", None)
    if cacheable and cache is not None:
        try:
            key = ("lowered", _fingerprint(model), _fingerprint(stimuli), float(t0).hex(),
                   float(t_end).hex(), int(members), _fingerprint(initial),
                   TRANSFER_CODES[model.transfer], get_transfer(model.transfer),
                   tuple(LOWERERS))   # (a registered lowerer changes every lowering)
            hash(key)
        except (_Uncacheable, TypeError, KeyError):
            key = None
    hit = cache.get("lowered", {}).get(key) if key is not None else None
    if hit is not None:
        b, dyn = hit
        built = Built(b.problem, b.y0.copy(), b.stimuli, b.layout, b.weights)
        built.key = key
        return built, dyn
    built = build_problem(network, model, stimuli, t0=t0, t_end=t_end, members=members,
                          initial=initial)
    built.key = key
    return built, None


def _remember(network, built, dyn) -> None:
    """Keep ``built`` (and its checked dynamics) for later runs of the same description."""
    if dyn is None:
        return
    P = built.problem
    size = sum(int(getattr(v, "nbytes", 0)) for v in P) + built.y0.nbytes
    if size > LOWERED_CACHE_BYTES or LOWERED_CACHE_ENTRIES < 1:
        return
    entry = (Built(P, built.y0.copy(), built.stimuli, built.layout, built.weights), dyn)
    with _CACHE_LOCK:   # (sweep workers may be threads)
        store = network._cache.setdefault("lowered", {})
        while store and len(store) >= LOWERED_CACHE_ENTRIES:
            store.pop(next(iter(store)), None)
        store[built.key] = entry


def simulate(network: ConceptNetwork, model: Model | None = None, stimuli=None, *,
             t_end: float = 10.0, t0: float = 0.0, solver=None, saveat: SaveAt | None = None,
             members: int = 1, seed: int | None = None, initial=None,
             progress=False, threads: int | None = None, member_params=None,
             save_dt=None, save_at=None, save_every=None):
    """Integrate the dynamics of ``model`` on ``network`` and return an ``xarray.Dataset``.

    Parameters
    ----------
    network : ConceptNetwork
    model : Model, optional
        Defaults to ``Model()`` (sigmoid units, tau = 1).
    stimuli : list of Pulse/Clamp, optional
    t_end, t0 : float
        The time span (model time units, the unit of ``tau``).
    solver : str, Solver, Spreadr or dict
        Method name (``"dopri5"``, ``"dop853"``, ``"rk4"``, ``"heun"``, ``"euler"``,
        ``"euler_maruyama"``)
        or full :class:`~thoughtfield.Solver` settings; ``"spreadr"`` or
        :class:`~thoughtfield.Spreadr` settings select the discrete mode
        (:mod:`thoughtfield.discrete`: ``t0``/``t_end`` count steps, ``t_end=None`` runs
        until ``threshold_to_stop``).
    saveat : SaveAt, optional
        When to save: ``SaveAt(dt=...)`` every ``dt`` time units, ``SaveAt(times=[...])``
        at the given times, ``SaveAt(every=k)`` every k-th fixed step (the discrete mode:
        steps).  Default: 200 intervals (discrete: every step).  ``t0`` and ``t_end`` are
        always saved.
    members : int
        Ensemble size; members differ by their noise streams, per-member stimuli
        (``Pulse(..., member=k)``) and per-member initial states.
    seed : int, optional
        Base seed (member ``k`` uses ``SeedSequence([seed, k])``); drawn and recorded in
        the result when omitted.
    initial : array or mapping, optional
        Initial activations ``(concepts,)`` or ``(members, concepts)``; overrides
        ``model.initial``.
    member_params : mapping, optional
        Per-member parameters of an ensemble: ``{"gain": [g0, g1, ...], "tau": ...}``
        with one value per member for any of ``tau``, ``gain``, ``threshold``, ``bias``,
        ``sigma``, ``initial`` (each value a number, one value per concept, or a mapping
        like the model's; or an array ``(members,)`` / ``(members, concepts)``).  The
        values appear as coordinates along ``member``.  See :mod:`thoughtfield.ensemble`.
    progress : bool or dict
        Show a tqdm progress bar (a dict passes options to tqdm, see
        :meth:`Simulation.run`).
    threads : int, optional
        Threads for the right-hand side (default: numba's thread count when edges x
        members reach ``PARALLEL_MIN_WORK`` = 1e7 and the run is estimated to be long
        enough to repay compiling the threaded kernels, else 1).  Results are bitwise the
        same for any value.  The threaded kernels are compiled on first use in each process
        (tens of seconds; they cannot be cached), so ask for threads only for long runs.
    save_dt, save_at, save_every : optional
        Deprecated spellings of ``saveat=SaveAt(dt=...)``, ``SaveAt(times=...)`` (sorted,
        repeats dropped) and ``SaveAt(every=...)``; each emits a ``DeprecationWarning``.

    Returns
    -------
    xarray.Dataset
        ``activation(time, concept)`` (``(member, time, concept)`` for ensembles) with
        coordinates ``concept`` and ``layer`` and provenance/solver statistics in ``attrs``.

    Raises
    ------
    ConfigError
        Invalid input (the message names the parameter).
    DivergenceError
        Activations became non-finite (message names time and concept; the partial result
        is attached as ``.partial``).
    SolverError
        The step size collapsed or ``max_steps`` was exceeded.
    """
    saveat = resolve_saveat(saveat, save_dt, save_at, save_every)
    sim = make_simulation(network, model, stimuli, t_end=t_end, t0=t0, solver=solver,
                          saveat=saveat, members=members, seed=seed, initial=initial,
                          threads=threads, member_params=member_params)
    return sim.run(progress=progress)


def make_simulation(network: ConceptNetwork, model: Model | None = None, stimuli=None,
                    **kwargs):
    """A prepared run of either mode: a :class:`DiscreteSimulation` for the discrete
    solver ``"spreadr"`` (a name, a dict with that ``method`` or a
    :class:`~thoughtfield.Spreadr`), else a :class:`Simulation`; the arguments are those of
    :func:`simulate` (less ``progress``), each mode checking the ones it takes."""
    cls = DiscreteSimulation if is_discrete(kwargs.get("solver")) else Simulation
    old = {k: kwargs.pop(k) for k in ("save_dt", "save_at", "save_every") if k in kwargs}
    if old:   # resolved here, so that the DeprecationWarning points at the caller
        kwargs["saveat"] = resolve_saveat(kwargs.get("saveat"), **old)
    return cls(network, model, stimuli, **kwargs)


def _load_kernels(full: bool = True) -> None:
    """The kernels of the continuous mode, on a tiny problem built by the real classes (so
    the argument types are those of every run): the integrator (and ``apply_segment``)
    that every run calls; with ``full``, also those only some runs call."""
    from ._kernels.rhs import outputs, store
    sim = Simulation(tiny_network(), t_end=1.0, solver="dopri5", seed=0)  # apply_segment
    sim.call_kernel(sim.n_saved)            # integrate, doing nothing: i_hi == i_lo
    if full:
        store(sim.problem, sim.work, sim.state.y, np.empty(sim.row_size))
        outputs(sim.problem, sim.work, sim.state.y, np.empty(sim.network.n * sim.members))


register_kernel_path("continuous", _load_kernels)


def _load_async_kernels(full: bool = True) -> None:
    """The kernel of the asynchronous update (``Solver("async")``) on a tiny problem."""
    sim = Simulation(tiny_network(), Model(transfer="sign", tau=1.0), t_end=1.0,
                     solver=as_solver({"method": "async", "dt": 1.0}), seed=0)
    sim.advance(sim.ts.size)


register_kernel_path("async", _load_async_kernels)
