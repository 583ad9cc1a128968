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
====================  ==========================  =========================================
"""

from collections import namedtuple

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
    # ---- mechanisms (issue 4); all empty / -1 when unused ----
    "nstate",      # int: rows S of the state vector (N when no mechanism adds state)
    "xmode",       # int: 1 when the extra input x (goal bias, pools, adaptation,
                   #      control, low-rank ideas) must be computed before the rows
    # goal bias  x_i += g_gain * c_g * sum_j B_ij a_j   (c_g = control row g_ctrl, or 1)
    "g_rows",      # int64[R]: target concepts with goal input
    "g_ptr",       # int64[R+1]
    "g_idx",       # int64[nnzB]: goal (source) concepts
    "g_w",         # float64[nnzB]: signed weights B_ij (relation gains folded in)
    "g_gain",      # float: goal gain
    "g_ctrl",      # int: state row of the control that scales the goal bias, -1 none
    # adaptation  tau_h dh/dt = -h + kappa a ;  x -= h
    "h_off",       # int: first state row of h, -1 none
    "h_tau_inv",   # float64[N]
    "h_kappa",     # float64[N]
    # competition pools  x_i -= inh_p * sum_{j in p, j != i} a_j
    "p_ptr",       # int64[Pp+1]
    "p_idx",       # int64[*]: member concepts
    "p_inh",       # float64[Pp]: lateral inhibition strength
    "p_eptr",      # int64[Pp+1]: inhibitory W entries inside each pool (conflict energy)
    "p_ei",        # int64[*]: target i of W_ij < 0
    "p_ej",        # int64[*]: source j
    "p_ew",        # float64[*]: W_ij
    # control  tau_c dc/dt = -(c - c0) + lam * sum_{p monitored} E_p   (tau_inv 0: trial mode)
    "c_off",       # int: first state row of c, -1 none
    "c_tau_inv",   # float64[C]
    "c_c0",        # float64[C]
    "c_lam",       # float64[C]
    "c_mptr",      # int64[C+1]: monitored pools
    "c_mpool",     # int64[*]
    "c_tptr",      # int64[C+1]: concept targets x_i += gain * c
    "c_tidx",      # int64[*]
    "c_tgain",     # float64[*]
    # stored ideas, low-rank part  x_i += xi_scale * (sum_mu xi[i, mu] (xi[:, mu] . a) - xi_diag_i a_i)
    "xi",          # float64[N, P]: patterns, concept-major
    "xi_scale",    # float
    "xi_diag",     # float64[N]
    # decisions (choice readouts), one per competition pool with a Choice
    "d_pool",      # int64[Q]: pool index
    "d_on",        # int64[Q]: 0 activation, 1 evidence
    "d_thr",       # float64[Q]
    "d_onset",     # float64[Q]: detection (and evidence) starts at this time
    "d_stop",      # int64[Q]: 1 = the run stops once every member has chosen
    # evidence accumulators  de_i/dt = gate * rate * (a_i - cmp_i) - leak e_i - inh sum_{j!=i} e_j
    "e_off",       # int: first state row of the accumulators, -1 none
    "e_ptr",       # int64[Q+1]: rows of decision d are e_off + e_ptr[d] .. e_off + e_ptr[d+1]
    "e_rate",      # float64[Q]
    "e_leak",      # float64[Q]
    "e_inh",       # float64[Q]
    "e_cmp",       # int64[Q]: 0 none (race), 1 mean of the others, 2 max of the others
    "e_floor",     # float64[Q]: lower bound (projection after every step); -inf none
    "e_noise",     # float64[Q]: diffusion coefficient
    # output row: a (N*M) | u (N*M) if o_u | rows o_rows[k, 0]..o_rows[k, 1] of y
    "o_u",         # int
    "o_rows",      # int64[R, 2]
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
    # mechanisms
    "cval",   # float64[N*M]: clamp values (the output a of clamped concepts)
    "act",    # float64[padded N*M]: output a = f(u) (potential form; empty otherwise)
    "xin",    # float64[N*M]: extra input x (empty when P.xmode == 0)
    "psum",   # float64[Pp*M]: sum of a over each pool
    "ovl",    # float64[P*M]: xi . a per stored pattern
    "accon",  # uint8[Q]: decision active in the current segment (t >= onset)
    "yold",   # float64[S*M]: state before the step (fixed-step event detection)
    "ystar",  # float64[S*M]: state at an event
    "astar",  # float64[padded N*M]: output at an event
])

#: The integrator's state: everything a checkpoint must hold to continue bit for bit.
State = namedtuple("State", [
    "y",          # float64[S*M]: state (S = N for the reference model)
    "fst",        # float64[8]: t, h, err_prev, t_bad, max|dy|
    "ist",        # int64[16]: counters, status, segment, next save index...
    "rng",        # uint64[M, 4]: xoshiro256** states
    "spare",      # float64[M]: Box-Muller spare deviate
    "has_spare",  # int64[M]
    "ev_i",       # int64[Q, M]: chosen position in the decision's pool, -1 = none yet
    "ev_f",       # float64[Q, M, 2 + Pp]: time, margin, conflict of every pool at the choice
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
ST_OK, ST_STEADY, ST_NONFINITE, ST_STEP_TOO_SMALL, ST_MAX_STEPS, ST_CHOICE = 0, 1, 2, 3, 4, 5
STATUS_NAMES = {ST_OK: "success", ST_STEADY: "steady_state", ST_NONFINITE: "nonfinite",
                ST_STEP_TOO_SMALL: "step_size_too_small", ST_MAX_STEPS: "max_steps_exceeded",
                ST_CHOICE: "choice_made"}
