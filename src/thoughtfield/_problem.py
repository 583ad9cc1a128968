"""The lowered problem: plain arrays handed to the numba kernels.

Built by :mod:`thoughtfield.build` from the descriptions; consumed by
:mod:`thoughtfield._kernels`.  Every field is always present with a fixed dtype and
number of dimensions (unused ones are empty) so one compiled kernel serves every run.
"""

from collections import namedtuple

#: Arrays describing the dynamics.  Per-concept parameters are flat: length ``N`` (shared
#: by all members) or ``N * M`` (member-minor, ``a[i * M + k]``, one value per member).
Problem = namedtuple("Problem", [
    "n",           # int: concepts
    "m",           # int: ensemble members
    "form",        # int: 0 activation form
    "ftype",       # int: transfer function code (transfer.py)
    "indptr",      # uint64[N+1]: CSR of W, rows = targets (unsigned: no wrap-around code)
    "indices",     # uint32[nnz]
    "data",        # float64[nnz]
    "tau_inv",     # float64[N or N*M]: 1 / tau
    "gain",        # float64[N or N*M]
    "thr",         # float64[N or N*M]
    "bias",        # float64[N or N*M]
    "noise",       # float64[N or N*M]: sigma / tau (diffusion coefficient of a)
    "seg_t",       # float64[K+1]: input segment boundaries, seg_t[0] = t0, seg_t[K] = t_end
    "seg_ptr",     # int64[K+1]: entries of segment k are ent_*[seg_ptr[k]:seg_ptr[k+1]]
    "ent_idx",     # int64[E]: concept
    "ent_member",  # int64[E]: member, -1 = all
    "ent_val",     # float64[E]: pulse amplitude or clamp value
    "ent_kind",    # int64[E]: 0 pulse, 1 clamp
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
])

#: The integrator's state: everything a checkpoint must hold to continue bit for bit.
State = namedtuple("State", [
    "y",          # float64[S*M]: state (S = N for the reference model)
    "fst",        # float64[8]: t, h, err_prev, t_bad, max|dy|
    "ist",        # int64[16]: counters, status, segment, next save index...
    "rng",        # uint64[M, 4]: xoshiro256** states
    "spare",      # float64[M]: Box-Muller spare deviate
    "has_spare",  # int64[M]
])

#: Method description for the kernels.
Method = namedtuple("Method", [
    "A", "b", "c", "e", "P",  # tableau (e, P empty for fixed-step methods)
    "order",                  # int
    "stochastic",             # int (1 for Euler-Maruyama)
    "opt_f",                  # float64[8]: dt, rtol, atol, first_step, max_step, min_step, steady_tol
    "opt_i",                  # int64[4]: max_steps
])

# indices into State.fst / State.ist / Method.opt_f
F_T, F_H, F_ERRPREV, F_TBAD, F_MAXDY = 0, 1, 2, 3, 4
I_STEPS, I_RHS, I_ACC, I_REJ, I_STATUS, I_BAD, I_SEG, I_NEXT, I_K1, I_REJFLAG = range(10)
O_DT, O_RTOL, O_ATOL, O_FIRST, O_MAXSTEP, O_MINSTEP, O_STEADY = range(7)

# status codes
ST_OK, ST_STEADY, ST_NONFINITE, ST_STEP_TOO_SMALL, ST_MAX_STEPS = 0, 1, 2, 3, 4
STATUS_NAMES = {ST_OK: "success", ST_STEADY: "steady_state", ST_NONFINITE: "nonfinite",
                ST_STEP_TOO_SMALL: "step_size_too_small", ST_MAX_STEPS: "max_steps_exceeded"}
