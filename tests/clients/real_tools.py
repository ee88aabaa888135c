"""Finding and running the real Terraform and Ansible binaries, each in a test's own directory.

Outside CI a missing tool skips its test with the reason; with CI=true it fails, so a CI image that
lost a tool cannot pass by skipping. Every tool runs with its home, caches and configuration inside
the test's temporary directory (nothing is written to the user's home) and without any contact with
hosts outside the test (no Terraform checkpoint, no registry: the provider comes from a local folder).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

PROVIDER_FOLDER_VARIABLE = "CLOUDGW_TF_PLUGIN_DIR"  # a folder holding registry.terraform.io/hashicorp/aws/...
PROVIDER_ROOTS = (Path("/opt"), Path("/usr/share/terraform"), Path("/usr/local/share/terraform"),
                  Path("/usr/share/terraform/plugins"), Path.home() / ".terraform.d" / "plugins")
PROVIDER_PATTERN = "registry.terraform.io/hashicorp/aws/*/*/terraform-provider-aws_*"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def unavailable(reason: str) -> None:
    """Skip (or, in CI, fail) the calling test because a real tool is missing."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: real-client tests must run)")
    pytest.skip(reason)


def provider_folder() -> Path | None:
    """The folder to pass to `terraform init -plugin-dir`: the one above `registry.terraform.io` that
    holds the hashicorp/aws provider, found under the variable's folder or a few known roots (and one
    level below each, such as /opt/tf-plugins)."""
    roots = [Path(os.environ[PROVIDER_FOLDER_VARIABLE])] if os.environ.get(PROVIDER_FOLDER_VARIABLE) else []
    for root in [*roots, *PROVIDER_ROOTS]:
        if not root.is_dir():
            continue
        for pattern in (PROVIDER_PATTERN, f"*/{PROVIDER_PATTERN}"):
            for binary in sorted(root.glob(pattern)):
                return binary.parents[5]
    return None


def tool(name: str) -> str:
    """The path of a tool: the test virtualenv's own (Ansible comes from PyPI) or the PATH's."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        unavailable(f"`{name}` is not installed (not on PATH nor in the test virtualenv)")
    return str(found)


@dataclass
class Run:
    """One command's outcome, with its wall time."""

    args: list[str]
    returncode: int
    output: str
    seconds: float

    def ok(self) -> "Run":
        assert self.returncode == 0, f"{' '.join(self.args[:3])} failed ({self.returncode}):\n{self.output[-6000:]}"
        return self


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> Run:
    started = time.monotonic()
    done = subprocess.run(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout, check=False)
    return Run(args, done.returncode, done.stdout, time.monotonic() - started)


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a tool run: PATH and locale kept, home and AWS configuration inside `home`."""
    kept = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")}
    home.mkdir(parents=True, exist_ok=True)
    return {**kept, "HOME": str(home), "AWS_CONFIG_FILE": str(home / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"), "AWS_EC2_METADATA_DISABLED": "true",
            **extra}
