"""Counter-free, checkpointable random numbers: one xoshiro256** stream per ensemble member.

The whole generator state is three arrays (``state (M, 4) uint64``, ``spare (M,)``,
``has_spare (M,)``) that the driver owns, saves in checkpoints and seeds from
``numpy.random.SeedSequence``.  Normal deviates come from the Box-Muller transform,
keeping the second deviate of each pair.  Member ``m`` always consumes its own stream, so
its result does not depend on how many members run beside it.
"""

import math

import numpy as np
from ._numba import njit

_TWO_PI = 2.0 * math.pi
_U53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True)
def next_u64(state, m):
    s0 = state[m, 0]
    s1 = state[m, 1]
    s2 = state[m, 2]
    s3 = state[m, 3]
    result = _rotl(s1 * np.uint64(5), 7) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    state[m, 0] = s0
    state[m, 1] = s1
    state[m, 2] = s2
    state[m, 3] = s3
    return result


@njit(cache=True)
def uniform(state, m):
    """A double in [0, 1) with 53 random bits."""
    return np.float64(next_u64(state, m) >> np.uint64(11)) * _U53


@njit(cache=True)
def normal(state, spare, has_spare, m):
    """A standard normal deviate from member ``m``'s stream."""
    if has_spare[m]:
        has_spare[m] = 0
        return spare[m]
    u1 = 1.0 - uniform(state, m)  # (0, 1]
    u2 = uniform(state, m)
    r = math.sqrt(-2.0 * math.log(u1))
    a = _TWO_PI * u2
    spare[m] = r * math.sin(a)
    has_spare[m] = 1
    return r * math.cos(a)
