"""Kernel building blocks against independent numpy computations: the vectorised ``exp``
(``_kernels/transfer.py``: ``exp_block``) and the transfer blocks built on it
(``phi_block``), compiled and under ``NUMBA_DISABLE_JIT=1``; the packed-array layout
(``_kernels/layout.py`` with ``_problem.pack``/``pack_work``) and the per-member strides
(``rhs.member_stride``).  The transfer functions themselves, for every registered one, are
in ``tests/test_transfers.py``."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit

import thoughtfield as tf
from conftest import phi_kernel
from thoughtfield._kernels import layout as L

SRC = Path(__file__).resolve().parents[1] / "src"

#: Arguments of exp: 0, +-tiny, subnormal, ordinary, the clip at +-708 and beyond (where
#: exp overflows or underflows), exact multiples of ln 2 (the range reduction's seams).
EXP_GRID = np.unique(np.concatenate([
    [0.0, -0.0, 5e-324, -5e-324, 1e-300, -1e-300, 1e-17, -1e-17, 2.2e-16, -2.2e-16],
    np.linspace(-40.0, 40.0, 1601),
    -np.logspace(-20, math.log10(708.0), 300), np.logspace(-20, math.log10(708.0), 300),
    [-708.0, 708.0, -707.999, 707.999, -708.001, 708.001, -709.78, 709.78, -745.2, 745.2,
     -1e4, 1e4, -1e300, 1e300],
    np.arange(-1021, 1022, 7) * math.log(2.0),
    np.arange(-1021, 1022, 7) * math.log(2.0) + 0.5 * math.log(2.0),
]))
XMAX = 708.0


def _exp_kernel(x, scale=1.0):
    from thoughtfield._kernels.transfer import exp_block
    n = x.size
    out = np.empty(n)
    ibuf = np.empty(n, dtype=np.int64)
    exp_block(np.ascontiguousarray(x, dtype=np.float64), n, out, ibuf, ibuf.view(np.float64),
              scale)
    return out


# ------------------------------------------------------------------------ exp_block
@pytest.mark.parametrize("scale", [1.0, -1.0, 2.0, 0.5])
def test_exp_block_matches_numpy(scale):
    x = EXP_GRID
    got = _exp_kernel(x, scale)
    arg = np.clip(scale * x, -XMAX, XMAX)           # documented clip of the argument
    ref = np.exp(arg)
    assert np.all(np.isfinite(got)) and np.all(got > 0)
    rel = np.abs(got / ref - 1.0)
    assert rel.max() < 1e-14, x[np.argmax(rel)]
    # exp(0) = 1 exactly, and tiny arguments round to 1
    assert _exp_kernel(np.array([0.0, -0.0, 1e-300, -1e-300]), scale).tolist() == [1.0] * 4


def test_exp_block_inside_the_clip_is_exp_itself():
    x = np.linspace(-XMAX, XMAX, 20001)
    rel = np.abs(_exp_kernel(x) / np.exp(x) - 1.0)
    assert rel.max() < 1e-14
    # beyond the clip: the value at the clip, never inf or 0
    far = _exp_kernel(np.array([-1e4, 1e4, -710.0, 710.0]))
    assert far.tolist() == _exp_kernel(np.array([-XMAX, XMAX, -XMAX, XMAX])).tolist()
    assert far[0] > 0 and np.isfinite(far[1])


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 9, 31, 63, 64, 65, 200])
def test_exp_block_of_any_length(n):
    """The vectorised body and the scalar remainder loop both compute exp."""
    x = np.linspace(-30.0, 30.0, n)
    np.testing.assert_allclose(_exp_kernel(x), np.exp(x), rtol=1e-14, atol=0)


def test_exp_block_reads_only_n_values():
    from thoughtfield._kernels.transfer import exp_block
    x = np.arange(10.0)
    out = np.full(10, -1.0)
    ibuf = np.zeros(10, dtype=np.int64)
    exp_block(x, 4, out, ibuf, ibuf.view(np.float64), 1.0)
    np.testing.assert_allclose(out[:4], np.exp(x[:4]), rtol=1e-14)
    assert np.all(out[4:] == -1.0)


# ------------------------------------------------------------------------ phi_block
PHI_GRID = np.concatenate([EXP_GRID[np.abs(EXP_GRID) < 1e5], [-1e300, 1e300]])


def test_phi_block_logistic_and_tanh_absolute_accuracy():
    """The documented accuracy: about 4e-15 absolute for the logistic and tanh."""
    from thoughtfield._kernels.transfer import SIGMOID, TANH
    x = PHI_GRID
    assert np.max(np.abs(phi_kernel(SIGMOID, x) - expit(x))) < 4e-15
    assert np.max(np.abs(phi_kernel(TANH, x) - np.tanh(x))) < 4e-15
    # saturation is exact far out, and the values never leave the range
    s = phi_kernel(SIGMOID, np.array([-1e300, -1e4, 0.0, 1e4, 1e300]))
    assert s[2] == 0.5 and s[3] == 1.0 and s[4] == 1.0 and 0.0 <= s[0] < 1e-300
    t = phi_kernel(TANH, np.array([-1e300, -40.0, 0.0, 40.0, 1e300]))
    assert t.tolist() == [-1.0, -1.0, 0.0, 1.0, 1.0]


def test_phi_block_piecewise_and_linear_are_exact():
    from thoughtfield._kernels.transfer import LINEAR, RELU, SATLIN
    x = PHI_GRID
    assert np.array_equal(phi_kernel(LINEAR, x), x)
    assert np.array_equal(phi_kernel(RELU, x), np.where(x > 0, x, 0.0))
    assert np.array_equal(phi_kernel(SATLIN, x), np.minimum(np.where(x > 0, x, 0.0), 1.0))


def test_phi_block_softplus_accuracy():
    from thoughtfield._kernels.transfer import SOFTPLUS
    x = PHI_GRID
    got = phi_kernel(SOFTPLUS, x)
    ref = np.logaddexp(0.0, x)
    assert np.all(np.abs(got - ref) <= 1e-14 * np.maximum(1.0, ref))
    assert got[-1] == 1e300 and got[0] >= 0.0


def test_phi_block_in_place_on_a_prefix_only():
    from thoughtfield._kernels.transfer import TANH, phi_block
    x = np.linspace(-3, 3, 16)
    buf = x.copy()
    ebuf = np.empty(16)
    ibuf = np.empty(16, dtype=np.int64)
    phi_block(TANH, buf, 5, ebuf, ibuf, ibuf.view(np.float64))
    np.testing.assert_allclose(buf[:5], np.tanh(x[:5]), atol=4e-15, rtol=0)
    assert np.array_equal(buf[5:], x[5:])


def test_padded_length_is_a_multiple_of_pad():
    from thoughtfield._kernels.rhs import PAD, _padded
    for n in list(range(200)) + [1000, 4095, 4096, 4097]:
        p = _padded(n)
        assert p % PAD == 0 and n <= p < n + PAD


# ------------------------------------------------------------------------ pure Python path
_NOJIT_SCRIPT = r"""
import json, sys
import numpy as np
import numba
from numba.core import config
assert config.DISABLE_JIT, "NUMBA_DISABLE_JIT was not honoured"
from thoughtfield._kernels import transfer as K
assert not hasattr(K.exp_block, "py_func"), "exp_block is still a numba dispatcher"
x = np.load(sys.argv[1])
out = {}
for scale in (1.0, -1.0, 2.0):
    o = np.empty(x.size); ib = np.empty(x.size, np.int64)
    K.exp_block(x, x.size, o, ib, ib.view(np.float64), scale)
    out["exp%g" % scale] = o.tolist()
for name in ("LINEAR", "SIGMOID", "TANH", "SATLIN", "RELU", "SOFTPLUS"):
    b = x.copy(); e = np.empty(x.size); ib = np.empty(x.size, np.int64)
    K.phi_block(getattr(K, name), b, x.size, e, ib, ib.view(np.float64))
    out[name] = b.tolist()
json.dump(out, open(sys.argv[2], "w"))
"""


def test_pure_python_path_gives_the_same_results(tmp_path):
    """Under NUMBA_DISABLE_JIT=1 (a debugging aid) the kernels are plain Python: the same
    numbers within rounding (the compiled loops may contract a*b+c into an FMA)."""
    from thoughtfield._kernels import transfer as K
    x = np.concatenate([EXP_GRID[::3], [-1e300, 1e300]])
    np.save(tmp_path / "x.npy", x)
    env = dict(os.environ, NUMBA_DISABLE_JIT="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])))
    subprocess.run([sys.executable, "-c", _NOJIT_SCRIPT, str(tmp_path / "x.npy"),
                    str(tmp_path / "out.json")], check=True, env=env, timeout=300)
    py = {k: np.array(v) for k, v in json.loads((tmp_path / "out.json").read_text()).items()}
    for scale in (1.0, -1.0, 2.0):
        jit = _exp_kernel(x, scale)
        assert np.max(np.abs(py[f"exp{scale:g}"] / jit - 1.0)) < 1e-15
        ref = np.exp(np.clip(scale * x, -XMAX, XMAX))
        assert np.max(np.abs(py[f"exp{scale:g}"] / ref - 1.0)) < 1e-14
    for name in ("LINEAR", "SIGMOID", "TANH", "SATLIN", "RELU", "SOFTPLUS"):
        jit = phi_kernel(getattr(K, name), x)
        assert np.all(np.abs(py[name] - jit) <= 1e-15 * np.maximum(1.0, np.abs(jit))), name


# ------------------------------------------------------------------------ layout
def _constants(prefix):
    return {k: getattr(L, k) for k in dir(L) if k.startswith(prefix) and k[len(prefix):].isupper()
            and isinstance(getattr(L, k), int)}


@pytest.mark.parametrize("prefix, fields", [("I_", L.MI_FIELDS), ("F_", L.MF_FIELDS),
                                            ("W_", L.WM_FIELDS)])
def test_layout_index_constants_name_their_fields(prefix, fields):
    """``I_X`` is the position of ``x`` in ``MI_FIELDS`` (``F_``: ``MF_FIELDS``, ``W_``:
    ``WM_FIELDS``), one constant per field, none left over."""
    assert len(set(fields)) == len(fields)
    want = {prefix + name.upper(): k for k, name in enumerate(fields)}
    assert _constants(prefix) == want


def test_layout_counts_and_names_are_disjoint():
    assert L.NI == len(L.MI_FIELDS) and L.NF == len(L.MF_FIELDS)
    # Problem.mo holds NI + 1 integer offsets then NF + 1 float offsets
    assert not set(L.MI_FIELDS) & set(L.MF_FIELDS)
    from thoughtfield._problem import Mechanisms
    assert Mechanisms._fields == L.MI_FIELDS + L.MF_FIELDS


def _arrays(fields, rng, dtype):
    return {name: (rng.integers(-1000, 1000, rng.integers(0, 6)) if dtype is int
                   else rng.normal(size=rng.integers(0, 6))).astype(dtype)
            for name in fields}


def test_pack_offsets_follow_the_documented_layout():
    """integer array k is mi[mo[k]:mo[k+1]], float array k is mf[mo[NI+1+k]:mo[NI+2+k]];
    the slices tile mi and mf without gaps or overlaps."""
    from thoughtfield._kernels.views import fv, iv
    from thoughtfield._problem import mechanism_arrays, pack
    rng = np.random.default_rng(0)
    ints = _arrays(L.MI_FIELDS, rng, np.int64)
    ints["o_rows"] = np.array([[0, 3], [5, 7]])
    floats = _arrays(L.MF_FIELDS, rng, np.float64)
    mi, mf, mo = pack(ints, floats)
    assert mo.dtype == np.int64 and mo.size == L.NI + L.NF + 2
    # expected offsets from the sizes, by hand
    pos, want = 0, []
    for name in L.MI_FIELDS:
        want.append(pos)
        pos += ints[name].size
    want.append(pos)
    assert mi.size == pos
    pos = 0
    for name in L.MF_FIELDS:
        want.append(pos)
        pos += floats[name].size
    want.append(pos)
    assert mf.size == pos
    assert mo.tolist() == want
    for k, name in enumerate(L.MI_FIELDS):
        assert np.array_equal(iv(mi, mo, k), np.ravel(ints[name]))
    for k, name in enumerate(L.MF_FIELDS):
        assert np.array_equal(fv(mf, mo, k), floats[name])
    named = mechanism_arrays(tf.Simulation(tf.ConceptNetwork(["a"]), tf.Model()).problem)
    assert named.o_rows.ndim == 2 and named.o_rows.shape[1] == 2


def test_pack_work_buffers_tile_the_scratch():
    from thoughtfield._kernels.views import wv
    from thoughtfield._problem import pack_work
    sizes = {name: 3 * k + 1 for k, name in enumerate(L.WM_FIELDS)}
    wm, wo = pack_work(sizes)
    assert wo.tolist() == [0] + list(np.cumsum([sizes[n] for n in L.WM_FIELDS]))
    assert wm.size == sum(sizes.values())
    seen = np.zeros(wm.size, int)
    for k, name in enumerate(L.WM_FIELDS):
        v = wv(wm, wo, k)
        assert v.size == sizes[name]
        v[:] = k + 1      # a view into wm, not a copy
        seen[wo[k]:wo[k + 1]] += 1
    assert np.all(seen == 1)
    assert wm.tolist() == [float(k + 1) for k, n in enumerate(L.WM_FIELDS) for _ in range(sizes[n])]
    # missing names are empty buffers
    wm0, wo0 = pack_work({})
    assert wm0.size == 0 and wo0.tolist() == [0] * (len(L.WM_FIELDS) + 1)


def test_a_built_problem_packs_every_mechanism_array():
    from thoughtfield._problem import mechanism_arrays
    net = tf.ConceptNetwork(["a", "b", "c"], [("a", "b", "association", 0.5)])
    model = tf.Model(pools=[{"name": "p", "concepts": ["a", "b", "c"], "inhibition": 0.4}],
                     adaptation={"strength": 0.2, "tau": 5.0})
    P = tf.Simulation(net, model, t_end=1.0).problem
    assert P.mo[L.NI] == P.mi.size and P.mo[-1] == P.mf.size and P.mo[L.NI + 1] == 0
    assert np.all(np.diff(P.mo[:L.NI + 1]) >= 0) and np.all(np.diff(P.mo[L.NI + 1:]) >= 0)
    M = mechanism_arrays(P)
    assert M.p_ptr.tolist() == [0, 3] and sorted(M.p_idx.tolist()) == [0, 1, 2]
    assert M.h_tau_inv.size == net.n and np.allclose(M.h_tau_inv, 1 / 5.0)


# ------------------------------------------------------------------------ member strides
@pytest.mark.parametrize("per_member", [False, True])
def test_member_stride_reads_concept_i_member_m(per_member):
    """A per-concept parameter is stored as ``a[i * Mp + m]`` with ``Mp`` 1 (shared) or
    ``M`` (per member); ``member_stride`` gives the index ``i * stride + (m & mask)``."""
    from thoughtfield._kernels.rhs import member_stride
    N, M = 5, 4
    vals = np.arange(N * M, dtype=float).reshape(N, M) * 10 + 1   # vals[i, m]
    if per_member:
        a = vals.reshape(-1)                      # member-minor: i * M + m
    else:
        vals[:] = vals[:, :1]                     # every member shares concept i's value
        a = vals[:, 0].copy()
    stride, mask = member_stride(a, N)
    for i in range(N):
        for m in range(M):
            assert a[i * int(stride) + (m & int(mask))] == vals[i, m]


def test_ensemble_parameters_use_the_member_minor_layout():
    """Per-member gains land at ``i * M + m`` in the lowered problem."""
    net = tf.ConceptNetwork(["a", "b"])
    gains = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])   # [concept, member]
    sim = tf.Simulation(net, tf.Model(), t_end=1.0, members=3,
                        member_params={"gain": gains.T})
    assert np.array_equal(sim.problem.gain, gains.reshape(-1))
