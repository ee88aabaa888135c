"""The documentation keeps its promises: every runnable example in README.md and docs/*.md runs against a
real gateway (the session's `gateway`, on its embedded default) and exits 0 with the output it states;
every relative link leads to a file (and heading) that exists; nothing points outside the repository.

The convention (```sh runnable, ```python runnable, ```text output, ```sh not-runnable) is in docs/README.md.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.docs.markdown_blocks import (EXECUTABLE, NOT_RUNNABLE, ROOT, SHELLS, Example, anchors, blocks,
                                        examples, links, pages)

DOCUMENTED_GATEWAY, DOCUMENTED_ENGINE = "127.0.0.1:3001", "127.0.0.1:3002"
BLOCK_TIMEOUT = 120
CONCURRENT_EXAMPLES = 4
README_FIRST_LINES = [
    "# cloudgw",
    "",
    "    make serve    # install into .venv if needed, start the gateway on its embedded oVirt simulator",
    "    make test     # install into .venv if needed (with the test extra) and run the whole suite",
]
PAGES_REQUIRED = ("architecture.md", "mapping.md", "operations.md", "clients.md")

ALL_EXAMPLES = [example for page in pages() for example in examples(page)]


def substituted(text: str, gateway_url: str, engine_url: str) -> str:
    """Text written for the documented ports, pointed at the test's gateway and engine instead."""
    gateway = urlsplit(gateway_url)
    engine = urlsplit(engine_url)
    text = text.replace(DOCUMENTED_GATEWAY, gateway.netloc).replace(DOCUMENTED_ENGINE, engine.netloc)
    return re.sub(r"\bport=3001\b", f"port={gateway.port}", text)


def block_environment(home: Path) -> dict[str, str]:
    """A reader's fresh shell: this environment's bin first on PATH, an empty HOME, no AWS settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "CLOUDGW_"))}
    env.update(HOME=str(home), PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
               AWS_EC2_METADATA_DISABLED="true", PYTHONUNBUFFERED="1")
    return env


def comparable(output: str) -> list[str]:
    lines = [line.rstrip() for line in output.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


@dataclass(frozen=True)
class Run:
    command: list[str]
    returncode: int
    stdout: str
    stderr: str


def run_example(example: Example, gateway_url: str, engine_url: str, where: Path) -> Run:
    """Run one example in its own empty directory and HOME, as a reader would in a fresh shell."""
    block = example.block
    code = substituted(block.text, gateway_url, engine_url)
    work, home = where / "work", where / "home"
    work.mkdir(parents=True)
    home.mkdir()
    if block.language in SHELLS:
        command = ["bash", "-e", "-o", "pipefail", "-c", code]
    else:
        script = where / "example.py"
        script.write_text(code)
        command = [sys.executable, str(script)]
    try:
        done = subprocess.run(command, cwd=work, env=block_environment(home), capture_output=True, text=True,
                              timeout=BLOCK_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        return Run(command, -1, str(exc.stdout or ""), f"timed out after {BLOCK_TIMEOUT} s")
    return Run(command, done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="session")
def example_runs(request: pytest.FixtureRequest, gateway, tmp_path_factory: pytest.TempPathFactory
                 ) -> dict[str, Run]:
    """Every selected example, run concurrently (most of their time is spent waiting for the simulated
    engine), so the pages' dozen examples cost about as long as the slowest one."""
    selected = [item.callspec.params["example"] for item in request.session.items
                if getattr(item, "callspec", None) is not None and "example" in item.callspec.params]
    root = tmp_path_factory.mktemp("doc-examples")
    with ThreadPoolExecutor(max_workers=CONCURRENT_EXAMPLES) as pool:
        futures = {e.block.where: pool.submit(run_example, e, gateway.url, gateway.simulator_url, root / str(n))
                   for n, e in enumerate(selected)}
        return {where: future.result() for where, future in futures.items()}


@pytest.mark.parametrize("example", ALL_EXAMPLES, ids=[e.block.where for e in ALL_EXAMPLES])
def test_example_runs(example: Example, example_runs: dict[str, Run], gateway) -> None:
    block = example.block
    assert block.language in EXECUTABLE, f"{block.where}: cannot run a '{block.language}' block"
    done = example_runs[block.where]
    assert done.returncode == 0, (f"{block.where}: the example exited {done.returncode}\n--- stdout\n"
                                  f"{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}")
    if example.expected is not None:
        expected = comparable(substituted(example.expected, gateway.url, gateway.simulator_url))
        assert comparable(done.stdout) == expected, (
            f"{block.where}: the example's output differs from the output the page states\n--- stated\n"
            + "\n".join(expected) + "\n--- got\n" + done.stdout[-3000:])


def test_every_page_exists_and_has_runnable_examples() -> None:
    docs = ROOT / "docs"
    for name in PAGES_REQUIRED:
        assert (docs / name).is_file(), f"docs/{name} is missing"
    counted = {str(page.relative_to(ROOT)): len(examples(page)) for page in pages()}
    for name in ("README.md", "docs/clients.md", "docs/operations.md", "docs/mapping.md"):
        assert counted.get(name, 0) >= 2, f"{name} has {counted.get(name, 0)} runnable examples, fewer than 2"


def test_every_shell_and_python_block_says_whether_it_runs() -> None:
    """An example left unmarked would silently go untested: each must be `runnable` or `not-runnable`."""
    unmarked = [block.where for page in pages() for block in blocks(page)
                if block.language in EXECUTABLE and not block.runnable and NOT_RUNNABLE not in block.words]
    assert not unmarked, f"blocks marked neither runnable nor not-runnable: {unmarked}"


def test_stated_output_follows_a_runnable_block() -> None:
    """An `output` block after a block that does not run would be a claim nobody checks."""
    orphans = []
    for page in pages():
        found = blocks(page)
        for position, block in enumerate(found):
            if "output" in block.words and not (position > 0 and found[position - 1].runnable
                                                and block.follows_block):
                orphans.append(block.where)
    assert not orphans, f"`output` blocks that follow no runnable block: {orphans}"


def test_relative_links_lead_to_existing_files_and_headings() -> None:
    broken = []
    for page in pages():
        for line, target in links(page):
            parts = urlsplit(target)
            if parts.scheme or target.startswith("//"):
                continue
            path = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if not path.exists():
                broken.append(f"{page.relative_to(ROOT)}:{line}: {target} (no such file)")
                continue
            if not path.is_relative_to(ROOT):
                broken.append(f"{page.relative_to(ROOT)}:{line}: {target} (outside the repository)")
                continue
            if parts.fragment and path.suffix == ".md" and parts.fragment not in anchors(path):
                broken.append(f"{page.relative_to(ROOT)}:{line}: {target} (no such heading)")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_no_page_sends_readers_outside_the_repository() -> None:
    mentions = [f"{page.relative_to(ROOT)}:{number}" for page in pages()
                for number, text in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
                if "../shared" in text or "shared/DESIGN" in text or "shared/reference" in text]
    assert not mentions, f"pages that point at ../shared, which a clone does not have: {mentions}"


def test_readme_starts_with_the_two_commands() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[:len(README_FIRST_LINES)] == README_FIRST_LINES


REPOSITORY_PATH = re.compile(r"`((?:gateway|frontends|drivers|tests|config|bench|docs)/[\w./-]*)`")


def test_files_the_pages_name_exist() -> None:
    """`frontends/ec2/actions/key_pairs.py` and the like: a page that names a file to copy or read must
    not outlive the file."""
    missing = [f"{page.relative_to(ROOT)}:{number}: {match}" for page in pages()
               for number, text in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
               for match in REPOSITORY_PATH.findall(text) if not (ROOT / match).exists()]
    assert not missing, "pages name files that do not exist:\n" + "\n".join(missing)
