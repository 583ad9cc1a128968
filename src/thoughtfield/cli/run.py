"""``thoughtfield run``: run a config, write the result (and figures), print a summary."""

from __future__ import annotations

import os
import sys
import time

from ._common import add_set_argument, figure_paths, human_size, progress_options, refuse_existing

HELP = "run a simulation config and write the result (NetCDF)"
DESCRIPTION = """\
Run the simulation described by CONFIG (a TOML file, see docs/config.md), write the
result as NetCDF (activation(time, concept) plus provenance) and print a summary: the
simulated time, wall time, solver steps and the most active concepts at the end.

The result goes to --out, else to [output] path, else to CONFIG_NAME.nc in the current
folder. With --plot the figures listed in [output] plots are written next to it as
RESULT_KIND.png. Existing files are never overwritten without --force. Everything is
checked before the run starts; a bad config exits with status 2, a failed run with 1.

Before running, the output size (save times x concepts x members x 8 bytes) and the
memory are estimated (--verbose prints the estimate; 'thoughtfield info CONFIG' too):
a run that would not fit in memory (THOUGHTFIELD_MAX_MEMORY, default 80 percent of
the available memory) or whose result would not fit on the destination's disk is refused
with a hint (save less often with run.save_dt / run.save_every, fewer members).

Long runs are checkpointed to RESULT.checkpoint (at most every --checkpoint-every
seconds, atomically; Ctrl-C and SIGTERM write one and print its path and the exact
command that continues the run). After a crash or a kill, the same command with --resume continues
from the last checkpoint and gives the same result, bit for bit, as an uninterrupted
run; the checkpoint is removed only once the result is safely on the disk (a failed
write, e.g. a full disk, exits with status 1 and keeps the run for --resume). One run
at a time may write a result: a second run on the same --out is refused while the first
holds RESULT.lock.

With --save-network a run that learns ([learning], [growth]) also writes the network as it
is after the run -- the learned weights in place of the starting ones, the concepts and
relations it formed added -- so that the next config starts from what this one learned
([network] file = PATH)."""
EXAMPLES = """\
  thoughtfield run simulations/quickstart.toml --out quickstart.nc --plot
  thoughtfield run simulations/quickstart.toml --set run.t_end=5 --set model.gain=6 --force
  thoughtfield run simulations/goals.toml --out results/goals.nc --quiet
  thoughtfield run simulations/blocking.toml --out blocking.nc --save-network learned.json
  thoughtfield run simulations/wordnet_priming.toml --out wordnet.nc --resume   # after a kill"""


def add_arguments(p):
    p.add_argument("config", metavar="CONFIG", help="simulation config (TOML)")
    p.add_argument("--out", "-o", metavar="PATH", help="result file (.nc)")
    p.add_argument("--plot", action="store_true",
                   help="also write the figures listed in [output] plots next to the result")
    add_set_argument(p)
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress bar and no summary (errors are still printed)")
    p.add_argument("--verbose", "-v", action="store_true",
                   help="print the size estimate (output, memory, file, free disk) before running")
    p.add_argument("--force", "-f", action="store_true",
                   help="overwrite existing output files (and discard a checkpoint)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from RESULT.checkpoint")
    p.add_argument("--checkpoint-every", type=float, default=60.0, metavar="SECONDS",
                   help="seconds between checkpoints (default 60; 0: at every chunk)")
    p.add_argument("--no-checkpoint", action="store_true", help="do not write checkpoints")
    p.add_argument("--save-network", metavar="PATH",
                   help="also write the network as the run left it (learned weights, formed "
                        "concepts: [learning], [growth]) "
                        "as .json (or .graphml, .gexf); a config starts from it with "
                        "[network] file = PATH")


def main(args) -> int:
    from .._files import OutputLock
    from ..config import load_config
    cfg = load_config(args.config, overrides=args.sets)
    out = args.out or cfg.output.path or f"{cfg.name}.nc"
    if os.path.isdir(out):
        from ..errors import ConfigError
        raise ConfigError(f"{out}: is a folder; give a file name")
    # one run per output: the lock is held until the result (and figures) are written and
    # the checkpoint is gone; a second run on the same --out is refused
    with OutputLock(out) as lock:
        return _locked(args, cfg, out, lock)


def _locked(args, cfg, out, lock) -> int:
    t_start = time.perf_counter()
    from .._files import remove_stale_temps
    from ..checkpoint import checkpoint_path, read_info, remove_checkpoint
    from ..errors import ConfigError
    from ..resources import check_disk, estimate, free_disk, human_bytes
    from ..summary import summary_lines
    figures = figure_paths(out, cfg.output.plots, cfg.output.plot_format) if args.plot else []
    figures = [(k, os.path.splitext(p)[0] + ".gif" if k == "animation" else p)
               for k, p in figures]   # the animation is a GIF whatever the figure format
    if args.save_network:
        from ..io import network_format
        network_format(args.save_network)
        plastic = cfg.model.plasticity
        if (cfg.section_object("learning") is None and cfg.section_object("growth") is None
                and plastic is None):
            raise ConfigError(f"--save-network: {args.config} learns nothing (no [learning], "
                              "[plasticity] or [growth] section), so the network would be "
                              "written unchanged; drop --save-network or add one of them")
        if plastic is not None and not plastic.record:
            raise ConfigError("--save-network: plasticity.record is false, so the result keeps "
                              "no weights to save; set record = true")
    refuse_existing([out] + [p for _, p in figures]
                    + ([args.save_network] if args.save_network else []), args.force,
                    flags={args.save_network: "--save-network"} if args.save_network else None)
    if not args.checkpoint_every >= 0:
        raise ConfigError(f"--checkpoint-every: must be >= 0 seconds (got {args.checkpoint_every})")
    if args.resume and args.no_checkpoint:
        raise ConfigError("--resume: cannot be combined with --no-checkpoint")
    # temporary files a killed run on this output left behind (we hold the lock)
    remove_stale_temps(out, before=lock.acquired_at, figures=[p for _, p in figures])

    ckpt = None if args.no_checkpoint or cfg.runner_section() else checkpoint_path(out)
    if ckpt is not None and os.path.lexists(ckpt):
        if args.resume:
            info = read_info(ckpt)   # a corrupted checkpoint is reported before any work
            if not args.quiet:
                print(f"resuming from {ckpt} ({info['progress']})", file=sys.stderr)
        elif args.force:
            remove_checkpoint(ckpt)
        else:
            raise ConfigError(f"{ckpt}: a checkpoint of an interrupted run exists; pass --resume "
                              "to continue it, or --force to start over")
    elif args.resume:
        if cfg.runner_section():
            raise ConfigError(f"--resume: runs driven by [{cfg.runner_section()}] are not "
                              "checkpointed; run again without --resume")
        if not args.quiet:
            print(f"no checkpoint {ckpt}; starting from the beginning", file=sys.stderr)

    t_run = time.perf_counter()
    sim = None
    if cfg.runner_section() is None:
        sim_kwargs = {}
        if args.resume and ckpt and os.path.exists(ckpt) and cfg.seed is None:
            sim_kwargs["seed"] = read_info(ckpt)["seed"]   # the seed the run started with
        sim = cfg.simulation(**sim_kwargs)   # builds the run; the memory guard is here
        import xarray as xr
        est = estimate(sim, attrs=cfg.annotate(xr.Dataset()).attrs,
                       layer_summaries=cfg.output.layer_summaries)
        if args.verbose:
            free = free_disk(out)
            for line in est.lines():
                print(f"estimate: {line}", file=sys.stderr)
            print(f"estimate: free disk at {os.path.dirname(os.path.abspath(out))}: "
                  + (human_bytes(free) if free is not None else "unknown"), file=sys.stderr)
        # the result is written for sure; checkpoints only while they leave room for it
        check_disk(out, est.file_bytes, "the result")
        ds = cfg.annotate(sim.run(progress=progress_options(args.quiet), checkpoint=ckpt,
                                  checkpoint_every=args.checkpoint_every, resume=args.resume,
                                  keep_checkpoint=True))
    else:
        ds = cfg.run_simulation(progress=progress_options(args.quiet))
    t_run = time.perf_counter() - t_run
    _write_result(ds, out, args.force, sim, ckpt)
    if ckpt is not None:
        remove_checkpoint(ckpt)   # only now: the result is on the disk
    written = []
    if args.save_network:
        from ..io import write_network
        from ..learning import learned_network
        write_network(learned_network(cfg.network, ds), args.save_network)
        written.append(args.save_network)
    if figures:
        from ._common import save_figure
        for kind, path in figures:
            if kind == "animation":
                from ..plots import animate_network
                from ._common import use_agg
                use_agg()
                animate_network(ds, path, frames=60, dpi=min(cfg.output.dpi, 80))
            else:
                save_figure(ds, kind, path, dpi=cfg.output.dpi, source=out)
            written.append(path)
    wall = time.perf_counter() - t_start
    if not args.quiet:
        net = cfg.network
        lines = [f"{cfg.name}: {net.n} concepts, {net.n_relations} relations"
                 + (f", layers {'/'.join(net.layers)}" if net.layered else "")]
        lines += summary_lines(ds)
        lines.append(f"wall time {wall:.2f} s (run {t_run:.3g} s)")
        lines.append(f"wrote {out} ({human_size(os.path.getsize(out))})")
        if written:
            lines.append("wrote " + ", ".join(written))
        print("\n".join(lines), file=sys.stdout)
    return 0


def _write_result(ds, out, force, sim, ckpt) -> None:
    """Write the result; when that fails (a full disk...) after the run, keep the run in
    its checkpoint (written now when possible) and fail with exit status 1 saying how to
    write the result without integrating again."""
    from ..errors import SimulationError, ThoughtfieldError
    from ..results import save_result
    try:
        save_result(ds, out, overwrite=force)
        return
    except (ThoughtfieldError, OSError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
    kept = None
    if ckpt is not None and sim is not None:
        from ..checkpoint import save_checkpoint
        try:
            save_checkpoint(sim, ckpt)   # the finished run: --resume only writes the result
            kept = "the finished run is kept in"
        except (OSError, ThoughtfieldError):
            if os.path.exists(ckpt):     # an earlier checkpoint of this run
                kept = "the run is kept up to its last checkpoint in"
    old = " (the previous result is unchanged)" if force and os.path.exists(out) else ""
    if kept:
        how = (f"{kept} {ckpt}{old}: free space (or fix the cause) and run the same command "
               "with --resume to write the result")
    elif ckpt is None:
        how = f"the run was not checkpointed{old}; free space (or fix the cause) and run again"
    else:
        how = f"no checkpoint could be written{old}; free space (or fix the cause) and run again"
    raise SimulationError(f"{reason}; {how}") from None
