"""A tiny config shared by the config and command-line tests."""

TINY = """\
title = "tiny"
seed = 3

[network]
relations = [["sun", "beach", "association", 0.8], ["beach", "holiday", "is_a", 1.0]]

[network.concepts]
image = ["sun"]
idea = ["beach"]
structure = ["holiday"]

[model]
tau = 1.0
gain = 4.0
threshold = 0.5

[[stimuli]]
concept = "sun"
start = 0.0
stop = 2.0
amplitude = 1.0

[solver]
rtol = 1e-6

[run]
t_end = 5.0
"""


def tiny(**repl):
    text = TINY
    for old, new in repl.items():
        assert old in text, old
        text = text.replace(old, new)
    return text
