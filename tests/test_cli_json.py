"""Every command that lists or shows records takes ``--json`` (issue 12, item 8): a script can read
what a person reads, for every area, without scraping text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer

from suraksha.cli import app

LISTS_OR_SHOWS = ("list", "show", "stats", "dashboard", "groups", "officers", "counts")


def _commands(cmd: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if hasattr(cmd, "commands"):
        for name, sub in cmd.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield path, cmd


def test_every_list_and_show_command_takes_json():
    root = typer.main.get_command(app)
    missing = [
        " ".join(path)
        for path, cmd in _commands(root)
        if path[-1] in LISTS_OR_SHOWS and "--json" not in {opt for p in cmd.params for opt in getattr(p, "opts", [])}
    ]
    assert not missing, f"list/show commands without --json: {missing}"


def test_the_walk_sees_the_area_commands():
    paths = {" ".join(p) for p, _ in _commands(typer.main.get_command(app))}
    assert {"bank list", "actions list", "reports show", "legal list", "network show"} <= paths
