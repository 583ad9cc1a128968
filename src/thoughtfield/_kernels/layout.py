"""Names and positions of the mechanism arrays packed into ``Problem.mi`` (int64),
``Problem.mf`` (float64) and of the scratch buffers packed into ``Work.wm``.

Why packed: numba increments and decrements the reference count of every array inside a
namedtuple argument on each call of a non-trivial kernel.  With one array per mechanism
field (about 45 more) the right-hand side of a small network became twice as slow even
with every mechanism off (measured 2.2 -> 5.3 us per evaluation at N = 11).  Packing keeps
the number of arrays in ``Problem`` and ``Work`` close to the reference model's.

``Problem.mo`` holds the offsets: integer array ``k`` is ``mi[mo[k]:mo[k + 1]]``, float
array ``k`` is ``mf[mo[NI + 1 + k]:mo[NI + 2 + k]]``.  Work buffer ``k`` is
``wm[wo[k]:wo[k + 1]]``.  Plain Python constants (no numba) so that the description side
can import them.
"""

#: int64 arrays, in this order
MI_FIELDS = (
    "g_rows",   # targets with goal input
    "g_ptr",    # [R+1]
    "g_idx",    # goal (source) concepts
    "p_ptr",    # [Pp+1] pool members
    "p_idx",
    "p_eptr",   # [Pp+1] inhibitory W entries inside each pool
    "p_ei",     # target i of W_ij < 0
    "p_ej",     # source j
    "c_mptr",   # [C+1] monitored pools of each control
    "c_mpool",
    "c_tptr",   # [C+1] concept targets of each control
    "c_tidx",
    "d_pool",   # [Q] pool of each decision
    "d_on",     # [Q] 0 activation, 1 evidence or diffusion
    "d_stop",   # [Q]
    "e_ptr",    # [Q+1] accumulator rows (relative to e_off)
    "e_cmp",    # [Q] 0 none, 1 mean of others, 2 max of others, 3 diffusion (two rows
                #     x and -x: the other's input, one mirrored noise)
    "o_rows",   # [2R] saved state row ranges (start, stop) pairs
    "g_cix",    # [goal edges] state row of the control scaling each goal edge, -1 none
                # (empty: no per-goal control)
    "w_src",    # [E] plastic edges: source (pre-synaptic) concept j
    "w_tgt",    # [E] target (post-synaptic) concept i
    "w_opt",    # [2] rule (0 hebb, 1 covariance, 2 oja, 3 bcm), gate concept (-1: none)
    "q_src",    # [Eq] gated edges: source concept j
    "q_tgt",    # [Eq] target concept i
    "q_gid",    # [Eq] gate of each gated edge
    "q_cpt",    # [G] gating concept of each gate (-1: none)
    "q_ctl",    # [G] state row of the control scaling each gate (-1: none)
    "q_iptr",   # [G+1] intervals of each gate in q_int
)
#: float64 arrays, in this order
MF_FIELDS = (
    "g_w",        # B_ij
    "h_tau_inv",  # [N]
    "h_kappa",    # [N]
    "p_inh",      # [Pp]
    "p_ew",       # W_ij of the pool's inhibitory entries
    "c_tau_inv",  # [C] (0: trial mode)
    "c_c0",       # [C]
    "c_lam",      # [C]
    "c_tgain",    # gains of the concept targets
    "xi_diag",    # [N] sum_mu xi_i^mu ** 2 (or empty)
    "d_thr",      # [Q]
    "d_onset",    # [Q]
    "e_rate",     # [Q]
    "e_leak",     # [Q]
    "e_inh",      # [Q]
    "e_floor",    # [Q] (-inf: none)
    "e_noise",    # [Q]
    "w_rate",     # [E] learning rate eta of each plastic edge
    "w_par",      # [6] 1/tau_w (0: no decay), w_min, w_max, 1/tau of the running averages,
                  #     start and stop of the learning interval
    "q_w",        # [Eq] weight of each gated edge
    "q_val",      # [G] value of each gate outside its intervals
    "q_int",      # [3K] (start, stop, value) of the gates' intervals
)
NI = len(MI_FIELDS)
NF = len(MF_FIELDS)

(I_G_ROWS, I_G_PTR, I_G_IDX, I_P_PTR, I_P_IDX, I_P_EPTR, I_P_EI, I_P_EJ, I_C_MPTR, I_C_MPOOL,
 I_C_TPTR, I_C_TIDX, I_D_POOL, I_D_ON, I_D_STOP, I_E_PTR, I_E_CMP, I_O_ROWS, I_G_CIX,
 I_W_SRC, I_W_TGT, I_W_OPT, I_Q_SRC, I_Q_TGT, I_Q_GID, I_Q_CPT, I_Q_CTL,
 I_Q_IPTR) = range(NI)
(F_G_W, F_H_TAU_INV, F_H_KAPPA, F_P_INH, F_P_EW, F_C_TAU_INV, F_C_C0, F_C_LAM, F_C_TGAIN,
 F_XI_DIAG, F_D_THR, F_D_ONSET, F_E_RATE, F_E_LEAK, F_E_INH, F_E_FLOOR, F_E_NOISE, F_W_RATE,
 F_W_PAR, F_Q_W, F_Q_VAL, F_Q_INT) = range(NF)

#: float64 scratch buffers in Work.wm, in this order
WM_FIELDS = ("cval", "act", "xin", "psum", "ovl", "accon", "yold", "ystar", "astar", "fend",
             "won",    # [1] 1 while the learning interval of plastic edges is on
             "qval",   # [G] value of each gate in the current segment
             # row ranges run as tasks (ntask > 1): each task's block buffers (buf, ebuf,
             # ibuf's bits) and partial sums, allocated once per run, not per call
             "tbuf", "tebuf", "tibuf",   # [ntask * B*M]
             "tacc",   # [ntask * 2M]
             "dcoef")  # [stages] dense-output coefficients of the event root finder
(W_CVAL, W_ACT, W_XIN, W_PSUM, W_OVL, W_ACCON, W_YOLD, W_YSTAR, W_ASTAR, W_FEND, W_WON,
 W_QVAL, W_TBUF, W_TEBUF, W_TIBUF, W_TACC, W_DCOEF) = range(len(WM_FIELDS))
