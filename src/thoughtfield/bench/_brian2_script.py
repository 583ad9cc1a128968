"""Brian2 C++ standalone peer, run as a script in its own process (possibly under another
Python that has Brian2): ``python _brian2_script.py problem.npz result.npz``.

Imports only numpy and brian2 (it must run where thoughtfield is not installed).
The same equations as the benchmark's reference problem, ``tau dv/dt = -v +
tanh(gain (I + bias))`` with ``I = sum_j w_ij v_j`` as a summed synaptic variable, method
``rk4``.  Brian2 updates a summed variable once per time step, so within a step the input
is held fixed: the scheme is not the classical RK4 of the whole system (first order in
the coupling).
"""

import sys
import tempfile
import time


def main(src_path, out_path):
    import numpy as np
    t_all = time.perf_counter()
    import brian2 as b2
    p = np.load(src_path)
    n = int(p["n"])
    dt = float(p["dt"])
    t_end = float(p["t_end"])
    with tempfile.TemporaryDirectory() as d:
        b2.set_device("cpp_standalone", directory=d, build_on_run=False)
        if int(p["threads"]) > 1:
            b2.prefs.devices.cpp_standalone.openmp_threads = int(p["threads"])
        b2.defaultclock.dt = dt * b2.ms
        tau = float(p["tau"]) * b2.ms
        G = b2.NeuronGroup(n, "dv/dt = (-v + tanh(gain * (I + bias))) / tau : 1\n"
                              "I : 1\n", method="rk4",
                           namespace={"gain": float(p["gain"]), "bias": float(p["bias"]),
                                      "tau": tau})
        G.v = p["y0"]
        S = b2.Synapses(G, G, "w : 1\nI_post = w * v_pre : 1 (summed)")
        S.connect(i=p["src"].astype(np.int32), j=p["tgt"].astype(np.int32))
        S.w = p["w"]
        b2.run(t_end * b2.ms)
        t_build = time.perf_counter()
        b2.device.build(directory=d, compile=True, run=True, debug=False)
        t_done = time.perf_counter()
        v = np.asarray(G.v[:])
        run_s = getattr(b2.device, "_last_run_time", None)
    np.savez(out_path, v=v, total_s=t_done - t_all, build_run_s=t_done - t_build,
             run_s=np.nan if run_s is None else float(run_s), version=b2.__version__)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
