"""Small models shared by the mechanism tests (the same models as the configs in
simulations/)."""

import numpy as np

import thoughtfield as tf


def kernel_rhs(net, model, stim):
    """The compiled right-hand side of the solvers, ``y -> dy/dt``, and the lowered
    problem (the inputs of the first segment applied)."""
    from thoughtfield._kernels.rhs import apply_segment, rhs
    sim = tf.Simulation(net, model, stim, t_end=5.0)
    P, W = sim.problem, sim.work

    def f(y):
        y = np.array(y, dtype=np.float64, copy=True)
        apply_segment(P, W, 0, y)
        dy = np.empty(P.nstate)
        rhs(P, W, 0.0, y, dy)
        return dy
    return f, P

TRAIN_IDEAS = {"beach": ["sun", "sea", "sand", "beach"],
               "holiday": ["beach", "holiday", "hotel", "suitcase"],
               "flight": ["suitcase", "flight", "plane", "ticket"],
               "airport": ["ticket", "airport", "gate", "passport"],
               "border": ["passport", "border", "customs", "queue"]}


def train_of_thought():
    """Five ideas as overlapping sets of concepts, stored by a Hebbian rule, global
    inhibition, slow adaptation."""
    concepts = []
    for members in TRAIN_IDEAS.values():
        for c in members:
            if c not in concepts:
                concepts.append(c)
    net = tf.ConceptNetwork(concepts, layers=("image",))
    model = tf.Model(transfer="sigmoid", gain=8.0, threshold=0.5, tau=1.0, bias=0.6,
                     ideas=tf.Ideas([tf.Idea(k, v) for k, v in TRAIN_IDEAS.items()], strength=1.0,
                                    normalize=False),
                     pools=[tf.Pool("all", concepts=concepts, inhibition=0.5)],
                     adaptation=tf.Adaptation(tau=10.0, strength=2.0, record=True))
    stimuli = [tf.Pulse("sun", 0, 2, 1.0), tf.Pulse("sea", 0, 2, 1.0)]
    return net, model, stimuli


def stroop_network():
    """Two pathways (colour: weaker, needs the task goal; word: automatic) to two
    mutually inhibiting responses; the task goal favours the colour pathway and
    suppresses the word pathway (Cohen, Dunbar & McClelland 1990 in spirit)."""
    return tf.ConceptNetwork(
        {"ink_red": "image", "ink_green": "image", "word_red": "image", "word_green": "image",
         "col_red": "idea", "col_green": "idea", "wrd_red": "idea", "wrd_green": "idea",
         "say_red": "structure", "say_green": "structure", "name_colour": "goal"},
        [("ink_red", "col_red", "link", 2.0), ("ink_green", "col_green", "link", 2.0),
         ("word_red", "wrd_red", "link", 2.0), ("word_green", "wrd_green", "link", 2.0),
         ("col_red", "say_red", "link", 3.0), ("col_green", "say_green", "link", 3.0),
         ("wrd_red", "say_red", "link", 1.5), ("wrd_green", "say_green", "link", 1.5),
         ("name_colour", "col_red", "favours", 1.0), ("name_colour", "col_green", "favours", 1.0),
         ("name_colour", "wrd_red", "inhibits", 0.5), ("name_colour", "wrd_green", "inhibits", 0.5)])


STROOP_THRESHOLDS = {"@image": 4.0, "col_red": 3.5, "col_green": 3.5, "wrd_red": 1.0,
                     "wrd_green": 1.0, "say_red": 2.0, "say_green": 2.0}


def stroop_model(sensitivity=20.0, mode="continuous", noise=0.5, onset=1.0, **control):
    """Conflict in the response pool raises the gain of the task goal's bias."""
    ctl = dict(monitor=["response"], target="goals", mode=mode, baseline=1.5)
    if mode == "continuous":
        ctl.update(tau=0.2, sensitivity=sensitivity)
    ctl.update(control)
    return tf.Model(transfer="sigmoid", gain=2.0, threshold=STROOP_THRESHOLDS, tau=0.1,
                    pools=[tf.Pool("response", ["say_red", "say_green"], inhibition=1.0)],
                    goals=tf.Goals(types=["favours", "inhibits"], gain=1.0,
                                   active={"name_colour": 1.0}),
                    controls=[tf.Control(**ctl)],
                    choices=[tf.Choice("response", threshold=1.0, on="evidence", rate=3.0,
                                       noise=noise, onset=onset, stop=True)])


def stroop_trial(ink, word, start=1.0, stop=6.0):
    return [tf.Clamp(f"ink_{ink}", start, stop, 1.0), tf.Clamp(f"word_{word}", start, stop, 1.0)]


def stroop_conditions(onset=0.5, duration=4.0):
    conds = []
    for kind, pairs in (("congruent", (("red", "red"), ("green", "green"))),
                        ("incongruent", (("red", "green"), ("green", "red")))):
        for ink, word in pairs:
            conds.append(tf.Condition(f"{kind}_{ink}", stroop_trial(ink, word, onset, duration),
                                      correct=f"say_{ink}"))
    return conds
