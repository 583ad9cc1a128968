"""The registries' add/remove functions (docs/extending.md): an entry added is used at once,
removed it is gone, built-in entries cannot be removed, and a malformed entry is refused
with a message naming what is wrong."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import thoughtfield as tf
from thoughtfield import cli, config, plots, summary, transfers


def _identity(x):
    return np.asarray(x, dtype=np.float64)


def test_a_registered_transfer_is_a_model_choice_until_removed():
    t = transfers.Transfer("ident2", 99, "f(x) = x", _identity, np.ones_like, _identity,
                           (-np.inf, np.inf), 1.0, None)
    transfers.register(t)
    try:
        assert tf.Model(transfer="ident2").transfer == "ident2"
        assert tf.TRANSFERS["ident2"] == "f(x) = x"
        from thoughtfield.model import TRANSFER_CODES
        assert TRANSFER_CODES["ident2"] == 99
        with pytest.raises(ValueError, match="'ident2' is registered already"):
            transfers.register(t)
    finally:
        transfers.unregister("ident2")
    with pytest.raises(tf.ConfigError, match=r"transfer: must be one of"):
        tf.Model(transfer="ident2")
    assert "ident2" not in tf.TRANSFERS


def test_transfer_codes_and_built_ins_are_protected():
    with pytest.raises(ValueError, match=r"code 5 is taken by 'softplus'; use 8"):
        transfers.register(transfers.Transfer("other", 5, "", _identity, np.ones_like, None,
                                              (0.0, 1.0), 1.0, None))
    with pytest.raises(ValueError, match="'sigmoid' is a built-in transfer"):
        transfers.unregister("sigmoid")
    with pytest.raises(TypeError, match="expected a Transfer"):
        transfers.register("softsign")
    assert set(transfers.BUILTIN) == set(transfers.REGISTRY)


def test_a_registered_command_runs_and_is_listed_until_removed(capsys):
    seen = []
    cmd = SimpleNamespace(HELP="say hello", DESCRIPTION="Say hello.",
                          EXAMPLES="  thoughtfield hello", add_arguments=lambda p: None,
                          main=lambda args: seen.append(args.command) or 0)
    cli.register_command("hello", cmd)
    try:
        assert cli.main(["hello"]) == 0 and seen == ["hello"]
        assert cli.main(["--help"]) == 0 and "say hello" in capsys.readouterr().out
        with pytest.raises(ValueError, match="'hello' exists already"):
            cli.register_command("hello", cmd)
    finally:
        cli.unregister_command("hello")
    assert "hello" not in cli.COMMANDS
    with pytest.raises(ValueError, match="'run' was not added by register_command"):
        cli.unregister_command("run")
    with pytest.raises(TypeError, match="'bad' lacks DESCRIPTION, EXAMPLES, add_arguments"):
        cli.register_command("bad", SimpleNamespace(HELP="x", main=lambda a: 0))


def test_sections_plots_and_summaries_are_removed_but_built_ins_stay():
    config.register_section(config.Section("extra_thing", config.Struct({})))
    assert "extra_thing" in [s.name for s in config.sections()]
    config.unregister_section("extra_thing")
    assert "extra_thing" not in [s.name for s in config.sections()]
    with pytest.raises(ValueError, match="'model' is a built-in section"):
        config.unregister_section("model")
    with pytest.raises(ValueError, match="'goals' is a built-in section"):
        config.unregister_section("goals")
    plots.register_plot("extra_kind", lambda ds, ax=None: ax)
    plots.unregister_plot("extra_kind")
    assert "extra_kind" not in plots.plot_kinds()
    with pytest.raises(ValueError, match="'heatmap' is a built-in plot kind"):
        plots.unregister_plot("heatmap")
    summary.register_summary("extra_lines", lambda ds, top: [])
    summary.unregister_summary("extra_lines")
    assert "extra_lines" not in [n for n, _ in summary.SUMMARIES]
    with pytest.raises(ValueError, match="no summary section 'extra_lines'"):
        summary.unregister_summary("extra_lines")
