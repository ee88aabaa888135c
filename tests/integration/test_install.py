"""What a user installs is what serves.

The checkout is built as a user's `pip install` would build it (`python -m build`: the sdist, then the
wheel from the unpacked sdist), the wheel goes into a fresh virtual environment **without the test
extra**, and that environment's `cloudgw serve` runs from an empty directory and answers all three
frontends. The clients (boto3, requests) come from the test environment. A runtime import that is only
in the test extra, or a file read at run time that the archives leave out, fails here.
"""
from __future__ import annotations

import ast
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests

from ..conftest import ADMIN, DEMO_ACCESS_KEY, DEMO_SECRET_KEY, ROOT, GatewayProcess, start_gateway

PACKAGES = ("gateway", "frontends", "drivers")
NOT_SHIPPED = shutil.ignore_patterns(".venv", ".git", "data", "build", "dist", "*.egg-info", "__pycache__",
                                     ".pytest_cache", ".cloudgw")


def package_files() -> set[str]:
    """Every file of the three packages in the checkout (code and the data read at run time)."""
    return {p.relative_to(ROOT).as_posix() for top in PACKAGES for p in (ROOT / top).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def distribution_name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sdist and the wheel `python -m build` makes from a copy of the checkout (the checkout stays clean).

    Without isolation, build checks that this environment holds the [build-system] requirements."""
    work = tmp_path_factory.mktemp("build")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SHIPPED)
    built = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(work / "dist"),
                            str(source)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (sdist,) = (work / "dist").glob("cloudgw-*.tar.gz")
    (wheel,) = (work / "dist").glob("cloudgw-*.whl")
    return {"sdist": sdist, "wheel": wheel}


@pytest.fixture(scope="module")
def installed(archives: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment holding the wheel and its runtime dependencies only.

    This environment's pip installs into it (`--python`), which spares creating a pip there."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    pip = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                          "--quiet", "--disable-pip-version-check", str(archives["wheel"])],
                         capture_output=True, text=True, timeout=900)
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    return venv


@pytest.fixture(scope="module")
def served(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """The installed `cloudgw serve`, started in an empty directory far from the checkout."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    handle = start_gateway(elsewhere / "data", cloudgw=[str(installed / "bin" / "cloudgw")], cwd=elsewhere)
    yield handle
    assert handle.stop() == 0


def test_the_installed_environment_has_no_test_extra(installed: Path) -> None:
    probe = subprocess.run([str(installed / "bin" / "python"), "-c", "import boto3"], capture_output=True, text=True)
    assert "No module named 'boto3'" in probe.stderr
    where = subprocess.run([str(installed / "bin" / "python"), "-c", "import gateway; print(gateway.__file__)"],
                           capture_output=True, text=True, check=True, cwd=installed)
    assert "site-packages" in where.stdout and str(ROOT) not in where.stdout


def test_the_installed_gateway_answers_ec2_cimi_and_deltacloud(served: GatewayProcess) -> None:
    ec2 = boto3.client("ec2", endpoint_url=served.ec2_url, region_name="us-east-1",
                       aws_access_key_id=DEMO_ACCESS_KEY, aws_secret_access_key=DEMO_SECRET_KEY)
    images = ec2.describe_images(Filters=[{"Name": "name", "Values": ["centos-stream-9"]}])["Images"]
    assert [i["Name"] for i in images] == ["centos-stream-9"] and images[0]["ImageId"].startswith("ami-")

    entry = requests.get(served.cimi_url, auth=ADMIN, headers={"Accept": "application/json"}, timeout=10)
    assert entry.status_code == 200, entry.text
    machine_images = requests.get(entry.json()["machineImages"]["href"], auth=ADMIN,
                                  headers={"Accept": "application/json"}, timeout=10)
    assert machine_images.status_code == 200
    assert "centos-stream-9" in [i["name"] for i in machine_images.json()["machineImages"]]

    deltacloud = requests.get(f"{served.api_url}/images", params={"format": "json"}, auth=ADMIN, timeout=10)
    assert deltacloud.status_code == 200, deltacloud.text
    assert "centos-stream-9" in [i["name"] for i in deltacloud.json()["images"]]

    console = requests.get(f"{served.url}/console/sign-in", timeout=10)  # templates and static files shipped
    assert console.status_code == 200 and 'name="csrf_token"' in console.text
    assert requests.get(f"{served.url}/console/static/console.css", timeout=10).status_code == 200


def test_the_installed_package_holds_the_gunicorn_settings_and_the_documented_config(installed: Path) -> None:
    """Configured engines run serve under gunicorn with the packaged settings; the template loads as is."""
    probe = ("from pathlib import Path; import gateway, gateway.cli, gateway.config as c; "
             "assert gateway.cli.GUNICORN_CONFIG.is_file(), gateway.cli.GUNICORN_CONFIG; "
             "print(c.load(Path(gateway.__file__).parent / 'cloudgw.toml', environ={}) == c.load(None, environ={}))")
    result = subprocess.run([str(installed / "bin" / "python"), "-c", probe], capture_output=True, text=True,
                            cwd=installed)
    assert result.stdout.strip() == "True", result.stderr


def test_sdist_and_wheel_hold_every_file_of_the_packages(archives: dict[str, Path]) -> None:
    with tarfile.open(archives["sdist"]) as sdist:
        in_sdist = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    with zipfile.ZipFile(archives["wheel"]) as wheel:
        in_wheel = set(wheel.namelist())
    expected = package_files()
    assert {"gateway/cloudgw.toml", "gateway/gunicorn_conf.py", "drivers/ovirt/simulator/seed.json"} <= expected
    assert sorted(expected - in_sdist) == []
    assert sorted(expected - in_wheel) == []
    assert {"pyproject.toml", "README.md"} <= in_sdist


def test_every_third_party_import_of_the_running_code_is_a_declared_dependency() -> None:
    """Declared directly, not reached through the test extra or another package's dependencies."""
    declared = {distribution_name(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
                ["dependencies"]}
    owners = importlib.metadata.packages_distributions()
    undeclared: dict[str, str] = {}
    for path in sorted(p for top in PACKAGES for p in (ROOT / top).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in PACKAGES or top == "__future__":
                    continue
                if not {distribution_name(d) for d in owners.get(top, [top])} & declared:
                    undeclared.setdefault(top, path.relative_to(ROOT).as_posix())
    assert undeclared == {}
