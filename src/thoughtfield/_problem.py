"""The lowered problem: plain arrays handed to the numba kernels.

Built by :mod:`thoughtfield.build` from the descriptions; consumed by
:mod:`thoughtfield._kernels`.  Every field is always present with a fixed dtype and
number of dimensions (unused ones are empty) so one compiled kernel serves every run.

The state vector ``y`` has ``S = nstate`` rows, each with ``M`` members (member-minor,
``y[r * M + m]``), in blocks:

====================  ==========================  =========================================
rows                  block                       present when
====================  ==========================  =========================================
``0 .. N``            activation ``a`` (form 0)   always
                      or potential ``u`` (form 1)
``h_off .. +N``       adaptation ``h``            ``h_off >= 0``
``c_off .. +C``       control ``c``               ``c_tau_inv.size > 0``
``e_off .. +A``       evidence accumulators       ``e_ptr[-1] > 0``
``w_off .. +E``       plastic weights ``w``       ``w_off >= 0``
``w_off+E .. +N``     running averages of ``a``   rules ``covariance`` (mean of ``a``) and
                                                  ``bcm`` (mean of ``a**2``: the threshold)
====================  ==========================  =========================================
"""

from collections import namedtuple

import numpy as np

from ._kernels.layout import MF_FIELDS, MI_FIELDS, NI, WM_FIELDS

#: Arrays describing the dynamics.  Per-concept parameters are flat: length ``N`` (shared
#: by all members) or ``N * M`` (member-minor, ``a[i * M + k]``, one value per member).
Problem = namedtuple("Problem", [
    "n",           # int: concepts
    "m",           # int: ensemble members
    "form",        # int: 0 activation form, 1 potential form (a = f(u))
    "ftype",       # int: transfer function code (transfer.py)
    "indptr",      # uint64[N+1]: CSR of W, rows = targets (unsigned: no wrap-around code)
    "indices",     # uint32[nnz]
    "data",        # float64[nnz]
    "tau_inv",     # float64[N or N*M]: 1 / tau
    "gain",        # float64[N or N*M]
    "thr",         # float64[N or N*M]
    "bias",        # float64[N or N*M]
    "noise",       # float64[N or N*M]: sigma / tau (diffusion coefficient of a or u)
    "seg_t",       # float64[K+1]: input segment boundaries, seg_t[0] = t0, seg_t[K] = t_end
    "seg_ptr",     # int64[K+1]: entries of segment k are ent_*[seg_ptr[k]:seg_ptr[k+1]]
    "ent_idx",     # int64[E]: concept
    "ent_member",  # int64[E]: member, -1 = all
    "ent_val",     # float64[E]: pulse amplitude or clamp value
    "ent_kind",    # int64[E]: 0 pulse, 1 clamp
    # ---- mechanisms (issue 4); -1 / empty when unused.  The arrays are packed (see
    # _kernels/layout.py for why); ``mechanism_arrays(problem)`` gives them by name.
    "nstate",      # int: rows S of the state vector (N when no mechanism adds state)
    "xmode",       # int: 1 when the input of the rows is external input + extra terms
                   #      (goal bias, pools, adaptation, control, low-rank ideas),
                   #      computed into scratch xin before the rows
    "g_gain",      # float: goal gain; x_i += g_gain * c_g * sum_j B_ij a_j
    "g_ctrl",      # int: state row of the control that scales the goal bias (c_g), -1: c_g = 1
    "h_off",       # int: first state row of the adaptation h, -1 none
    "c_off",       # int: first state row of the controls, -1 none
    "e_off",       # int: first state row of the evidence accumulators, -1 none
    "w_off",       # int: first state row of the plastic weights, -1 none
    "xi_scale",    # float: scale s of the low-rank stored ideas
    "o_u",         # int: saved rows also hold u (potential form)
    "mi",          # int64[*]: packed integer arrays (layout.MI_FIELDS)
    "mf",          # float64[*]: packed float arrays (layout.MF_FIELDS)
    "mo",          # int64[NI + NF + 2]: offsets into mi and mf
    "xi",          # float64[N, P]: stored patterns, concept-major (P = 0: none)
])

#: Scratch memory of the right-hand side (allocated once per run).
Work = namedtuple("Work", [
    "inp",    # float64[N*M]: external input of the current segment
    "clamp",  # uint8[N*M]: 1 where the activation is clamped
    "buf",    # float64[B*M]: net input of one block of rows
    "ebuf",   # float64[B*M]
    "ibuf",   # int64[B*M]
    "fview",  # float64[B*M]: ibuf viewed as float64
    "acc",    # float64[2*M]: two partial sums per member
    "block",  # int: rows per block B
    "ntask",  # int: row ranges run in parallel (1 = serial)
    "mxs",    # float64[ntask]: per-task max |dy|
    "chks",   # float64[ntask]: per-task NaN detector
    # mechanisms: float64 scratch packed in one array (layout.WM_FIELDS)
    "wm",     # float64[*]: the buffers named in layout.WM_FIELDS
    "wo",     # int64[len(WM_FIELDS) + 1]: offsets into wm
])

#: The integrator's state: everything a checkpoint must hold to continue bit for bit.
State = namedtuple("State", [
    "y",          # float64[S*M]: state (S = N for the reference model)
    "fst",        # float64[8]: t, h, err_prev, t_bad, max|dy|, start and step of a
                  #             fixed-step interval cut by the step budget
    "ist",        # int64[16]: counters, status, segment, next save index, the cut
                  #            interval's next step and step count, the step budget...
    "rng",        # uint64[M, 4]: xoshiro256** states
    "spare",      # float64[M]: Box-Muller spare deviate
    "has_spare",  # int64[M]
    "ev_i",       # int64[Q, M]: chosen position in the decision's pool, -1 = none yet
    "ev_f",       # float64[Q, M, 2 + Pp]: time, margin, conflict of every pool at the choice
])

#: Method description for the kernels.
Method = namedtuple("Method", [
    "A", "b", "c", "e", "P",  # tableau (e, P empty for fixed-step methods); rows of A / c
                              # past opt_i[1] are extra stages of the dense output
    "e3",                     # float64[*]: second error estimator (DOP853), empty: none
    "order",                  # int
    "stochastic",             # int (1 for Euler-Maruyama)
    "opt_f",                  # float64[16]: dt, rtol, atol, first_step, max_step, min_step,
                              # steady_tol, -, then the controller: safety, alpha, beta,
                              # facmin, facmax
    "opt_i",                  # int64[4]: max_steps, stages of a step
])

# indices into State.fst / State.ist / Method.opt_f
F_T, F_H, F_ERRPREV, F_TBAD, F_MAXDY = 0, 1, 2, 3, 4
I_STEPS, I_RHS, I_ACC, I_REJ, I_STATUS, I_BAD, I_SEG, I_NEXT, I_K1, I_REJFLAG = range(10)
I_DENSE = 10  # 1 while the extra dense-output stages of the current step are computed
# a fixed-step interval between two stops cut by the step budget (I_NSUB > 0): its start,
# step, next step and number of steps, so that the next call continues it bit for bit
F_T0, F_HSUB = 5, 6
I_KSUB, I_NSUB = 11, 12
#: A kernel call returns once the step count (accepted + rejected) reaches ist[I_BUDGET]
#: (0: no budget), so that Python regains control (signals, progress) every so often.
I_BUDGET = 13
O_DT, O_RTOL, O_ATOL, O_FIRST, O_MAXSTEP, O_MINSTEP, O_STEADY = range(7)
O_SAFETY, O_ALPHA, O_BETA, O_FACMIN, O_FACMAX = range(8, 13)

# status codes
ST_OK, ST_STEADY, ST_NONFINITE, ST_STEP_TOO_SMALL, ST_MAX_STEPS, ST_CHOICE = 0, 1, 2, 3, 4, 5
#: Set by the driver (not the kernels): a state left the range of the transfer function.
ST_RANGE = 6
STATUS_NAMES = {ST_OK: "success", ST_STEADY: "steady_state", ST_NONFINITE: "nonfinite",
                ST_STEP_TOO_SMALL: "step_size_too_small", ST_MAX_STEPS: "max_steps_exceeded",
                ST_CHOICE: "choice_made", ST_RANGE: "out_of_range"}


#: The mechanism arrays of a Problem by name (a view for Python code: tests, analysis).
Mechanisms = namedtuple("Mechanisms", MI_FIELDS + MF_FIELDS)


def pack(ints: dict, floats: dict):
    """``(mi, mf, mo)`` from arrays named as in ``MI_FIELDS`` / ``MF_FIELDS``."""
    ia = [np.ascontiguousarray(ints[k], dtype=np.int64).ravel() for k in MI_FIELDS]
    fa = [np.ascontiguousarray(floats[k], dtype=np.float64).ravel() for k in MF_FIELDS]
    io = np.concatenate([[0], np.cumsum([a.size for a in ia])])
    fo = np.concatenate([[0], np.cumsum([a.size for a in fa])])
    mo = np.concatenate([io, fo]).astype(np.int64)
    mi = np.concatenate(ia) if ia else np.zeros(0, np.int64)
    mf = np.concatenate(fa) if fa else np.zeros(0)
    return mi.astype(np.int64), mf.astype(np.float64), mo


def mechanism_arrays(problem) -> Mechanisms:
    """The packed mechanism arrays of ``problem`` as named views (``o_rows`` as (R, 2))."""
    mo = problem.mo
    out = {}
    for k, name in enumerate(MI_FIELDS):
        out[name] = problem.mi[mo[k]:mo[k + 1]]
    for k, name in enumerate(MF_FIELDS):
        j = NI + 1 + k
        out[name] = problem.mf[mo[j]:mo[j + 1]]
    out["o_rows"] = out["o_rows"].reshape(-1, 2)
    return Mechanisms(**out)


def pack_work(sizes: dict):
    """``(wm, wo)`` for scratch buffers of the given sizes (names of ``WM_FIELDS``)."""
    sz = [int(sizes.get(k, 0)) for k in WM_FIELDS]
    wo = np.concatenate([[0], np.cumsum(sz)]).astype(np.int64)
    return np.zeros(int(wo[-1])), wo
