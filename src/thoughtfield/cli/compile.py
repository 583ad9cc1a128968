"""``thoughtfield compile``: build the kernel cache ahead of time."""

from __future__ import annotations

HELP = "compile every kernel into the on-disk cache now (for clusters, images and CI)"
DESCRIPTION = """\
Compile (or load, when the cache is complete) every kernel thoughtfield runs -- the
continuous integrator for every method and mechanism, and the discrete spreadr mode --
into numba's on-disk cache, so that no later run, example, sweep worker or test pays a
compile. A run does the same by itself the first time it finds a kernel missing; this
command does it ahead of time, e.g. while building a container image or before starting
workers that share the installation. The cache lives next to the package (or in
NUMBA_CACHE_DIR when set). The threaded kernels of very large problems cannot be cached
and are compiled once per process."""
EXAMPLES = """\
  thoughtfield compile
  thoughtfield compile --quiet"""


def add_arguments(p):
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing when all is well")


def main(args) -> int:
    from .._warmup import cache_dir, compile_kernels
    res = compile_kernels(verbose=not args.quiet)
    if not args.quiet:
        n = len(res["compiled"])
        what = (f"compiled {n} kernel{'s' if n != 1 else ''}" if n
                else "every kernel was already in the cache")
        print(f"thoughtfield compile: {what} ({', '.join(res['paths'])} paths) in "
              f"{res['seconds']:.1f} s; cache: {cache_dir() or 'numba default'}")
    return 0
