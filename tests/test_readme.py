"""The README's two quick-start commands stay true: CI runs the test command verbatim, and the
code examples in the README run."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_quick_start_has_exactly_two_commands():
    commands = _quick_start_commands()
    assert len(commands) == 2, commands
    assert "pytest" in commands[1] and "pytest" not in commands[0]


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _quick_start_commands()[1] in ci


def test_python_examples_in_the_readme_run():
    blocks = re.findall(r"```python\n(.+?)```", README, flags=re.S)
    assert blocks
    namespace: dict = {}  # blocks build on each other, as a reader would run them
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
