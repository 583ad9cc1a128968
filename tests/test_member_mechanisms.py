"""Per-member values of mechanism parameters (issue 20): an ensemble whose members differ in
their adaptation (kappa, tau_h) runs in one kernel call and each member equals the single
run with its values."""

import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield.errors import ConfigError

RK4 = tf.Solver(method="rk4", dt=0.01)


def _net():
    net = tf.ConceptNetwork()
    for c in ("a", "b", "c"):
        net.add_concept(c)
    net.add_relation("a", "b", "association", 1.2)
    net.add_relation("b", "c", "causes", 0.8)
    return net


@pytest.mark.parametrize("params", [
    {"adaptation.strength": [0.0, 0.5, 2.0]},
    {"adaptation.tau": [2.0, 5.0, {"*": 20.0, "b": 3.0}],
     "adaptation.strength": np.array([1.0, 1.5, 0.7])},
])
def test_members_with_their_own_adaptation_equal_single_runs(params):
    net = _net()
    base = tf.Adaptation(tau=10.0, strength=1.0, record=True)
    stims = [tf.Pulse("a", 0, 6, 2.0)]
    ens = tf.simulate(net, tf.Model(adaptation=base), stimuli=stims, t_end=6.0, members=3,
                      member_params=params, solver=RK4)
    for k in range(3):
        own = {}
        for name, vals in params.items():
            par = name.split(".")[1]
            own[par] = vals[k].item() if isinstance(vals, np.ndarray) else vals[k]
        one = tf.simulate(net, tf.Model(adaptation=tf.Adaptation(
            **{"tau": 10.0, "strength": 1.0, "record": True, **own})), stimuli=stims,
            t_end=6.0, solver=RK4)
        assert np.array_equal(ens.activation.isel(member=k).values, one.activation.values)
        assert np.array_equal(ens.adaptation.isel(member=k).values, one.adaptation.values)
    if "adaptation.strength" in params:
        assert "adaptation_strength" in ens.coords
        h = ens.adaptation.sel(concept="a").isel(time=-1).values
        assert len(set(h.round(12))) == 3       # the members did adapt differently


def test_a_members_section_sets_per_member_adaptation():
    text = """
[network]
relations = [["a", "b", "association", 1.2]]
[network.concepts]
image = ["a", "b"]
[adaptation]
tau = 4.0
record = true
[run]
t_end = 3.0
members = 2
[members]
adaptation.strength = [0.2, 1.8]
[solver]
method = "rk4"
dt = 0.01
[[stimuli]]
concept = "a"
amplitude = 2.0
"""
    ds = tf.run_config(tf.load_config(text))
    assert ds.adaptation_strength.values.tolist() == [0.2, 1.8]
    single = text.replace("members = 2\n[members]\nadaptation.strength = [0.2, 1.8]",
                          "members = 1").replace("tau = 4.0", "tau = 4.0\nstrength = 1.8")
    one = tf.run_config(tf.load_config(single))
    assert np.array_equal(ds.adaptation.isel(member=1).values, one.adaptation.values)


def test_per_member_adaptation_needs_an_adaptation():
    with pytest.raises(ConfigError, match="member_params.adaptation.tau: the model has no "
                                          "adaptation"):
        tf.simulate(_net(), tf.Model(), t_end=1.0, members=2,
                    member_params={"adaptation.tau": [1.0, 2.0]})
    with pytest.raises(ConfigError, match=r"member_params.adaptation.strength\[1\]"):
        tf.simulate(_net(), tf.Model(adaptation=tf.Adaptation()), t_end=1.0, members=2,
                    member_params={"adaptation.strength": [1.0, -2.0]})
