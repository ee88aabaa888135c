"""Running the real `ansible-playbook` (the amazon.aws collection bundled with `ansible`) in a test's own
directory, and reading its PLAY RECAP: shared by the real-Ansible tests.

The modules run with the test virtualenv's Python (boto3 is there), and Ansible writes nothing outside the
test's directory.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.clients.real_tools import Run, isolated_env, run, tool

RECAP = re.compile(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


class Ansible:
    """ansible-playbook and ansible-inventory in one directory, configured only by its environment;
    `timings` records each named run's wall time."""

    def __init__(self, workdir: Path, playbook: str, variables: dict[str, str]) -> None:
        self.playbook, self.inventory = tool("ansible-playbook"), tool("ansible-inventory")
        self.workdir = workdir
        self.timings: dict[str, float] = {}
        home = workdir / "home"
        self.env = isolated_env(
            home, ANSIBLE_HOME=str(home / ".ansible"), ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
            ANSIBLE_REMOTE_TEMP=str(home / "remote-tmp"), ANSIBLE_CONFIG=str(workdir / "ansible.cfg"),
            ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
            ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
            ANSIBLE_GALAXY_DISABLE_GPG_VERIFY="1", ANSIBLE_CACHE_PLUGIN="memory", ANSIBLE_FORKS="1")
        (workdir / "ansible.cfg").write_text("[defaults]\n")
        (workdir / "playbook.yml").write_text(playbook)
        (workdir / "variables.json").write_text(json.dumps(variables))

    def play(self, step: str, *tags: str) -> Run:
        result = run([self.playbook, "playbook.yml", "-e", "@variables.json", "--tags", ",".join(tags)],
                     self.workdir, self.env, timeout=400)
        self.timings[step] = result.seconds
        return result.ok()

    def inventory_list(self, config: dict[str, Any]) -> dict[str, Any]:
        (self.workdir / "cloud.aws_ec2.yml").write_text(yaml.safe_dump(config))
        result = run([self.inventory, "-i", "cloud.aws_ec2.yml", "--list"], self.workdir, self.env, timeout=200)
        self.timings["inventory"] = result.seconds
        return json.loads(result.ok().output[result.output.index("{"):])


def recap(result: Run) -> tuple[int, int]:
    """(ok, changed) from the PLAY RECAP; failed and unreachable must be 0."""
    match = RECAP.search(result.output)
    assert match, result.output[-3000:]
    assert (match[3], match[4]) == ("0", "0"), result.output[-3000:]
    return int(match[1]), int(match[2])


def plain(value: Any) -> Any:
    """A value of `ansible-inventory --list`, which marks text from the cloud as unsafe (not templated)."""
    return value["__ansible_unsafe"] if isinstance(value, dict) and "__ansible_unsafe" in value else value


def changed_tasks(output: str) -> list[str]:
    """The TASK lines followed by `changed:`, for a readable failure."""
    found, task = [], ""
    for line in output.splitlines():
        if line.startswith("TASK ["):
            task = line
        elif line.startswith("changed:"):
            found.append(task)
    return found
