"""Every command of the README's tour runs as written on a fresh home (issue 14.6).

The test reads the README: the first ```sh block under "## A first tour". Each line that starts
with ``.venv/bin/suraksha`` (a ``#`` comment after it is dropped; ``;`` separates commands) runs
from the repository root, in order, against a new SURAKSHA_HOME, and must exit 0. Lines for a
running server (``curl``, ``make run``) are not commands of this block: the README keeps them in
a block of their own.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def tour_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.find("## A first tour")
    assert start >= 0, "README has no '## A first tour' section"
    block = re.search(r"```sh\n(.*?)```", text[start:], re.S)
    assert block, "the tour section has no ```sh block"
    commands: list[str] = []
    for line in block.group(1).splitlines():
        for part in line.split(";"):
            part = part.split("  #", 1)[0].strip()
            if part.startswith(".venv/bin/suraksha"):
                commands.append(part)
    assert commands, "the tour block has no suraksha command"
    return commands


def test_tour_files_exist():
    """Every file a tour command names is in the repository (examples/)."""
    for command in tour_commands():
        for arg in shlex.split(command)[1:]:
            if "/" in arg and not arg.startswith("-"):
                assert (ROOT / arg).exists(), f"{command!r} names {arg}, which does not exist"


def test_every_tour_command_runs_on_a_fresh_home(tmp_path):
    # A copy of examples/ in a scratch folder stands for the repository root, so what the tour
    # writes (answer.pdf) lands there, not in the checkout.
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    env = {**os.environ, "SURAKSHA_HOME": str(tmp_path / "home"), "NO_COLOR": "1", "COLUMNS": "120"}
    env.pop("SURAKSHA_DATABASE_URL", None)
    python_bin = Path(sys.executable).parent
    for command in tour_commands():
        argv = shlex.split(command)
        argv[0] = str(ROOT / argv[0]) if (ROOT / argv[0]).exists() else str(python_bin / "suraksha")
        done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{command}\nexit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
