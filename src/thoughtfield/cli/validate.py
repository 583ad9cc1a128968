"""``thoughtfield validate``: check a config without running it."""

from __future__ import annotations

HELP = "check a config without running it (exit 0 if valid, 2 if not)"
DESCRIPTION = """\
Load CONFIG and check everything a run would check -- types, unknown keys, concept
names in stimuli and per-concept tables, stimuli inside the time span, solver settings --
without compiling or integrating anything. Prints one line and exits 0 when the config
is valid; prints the first problem (file:line: key: message) and exits 2 otherwise."""
EXAMPLES = """\
  thoughtfield validate simulations/quickstart.toml
  thoughtfield validate simulations/quickstart.toml --set run.t_end=100"""


def add_arguments(p):
    from ._common import add_set_argument
    p.add_argument("config", metavar="CONFIG", help="simulation config (TOML)")
    add_set_argument(p)


def main(args) -> int:
    from ..config import load_config
    cfg = load_config(args.config, overrides=args.sets)
    net = cfg.network
    print(f"{args.config}: valid ({net.n} concepts, {net.n_relations} relations, "
          f"{len(cfg.stimuli)} stimuli, t = {cfg.run.t0:g} .. {cfg.run.t_end:g})")
    return 0
