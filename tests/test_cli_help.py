"""CLI help without type noise (issue 14.6): a flag shows no ``<bool>``; an option that takes a
value still shows its type."""

from __future__ import annotations

from typer.testing import CliRunner

from suraksha.cli import app


def _help(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return result.output


def test_help_shows_no_bool_type_for_flags():
    for args in ((), ("bank",), ("bank", "create"), ("bank", "export")):
        out = _help(*args)
        assert "--help" in out and "<bool>" not in out, out


def test_options_with_values_keep_their_type():
    out = _help("bank", "create")
    assert "<int>" in out or "<text>" in out or "<str>" in out, out
