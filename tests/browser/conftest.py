"""One gateway and one headless Chromium for the browser tests of a module.

The browser is Debian's Chromium (`.ci/run` installs it with apt-get) driven by Playwright's Python
package, whose node driver ships in its wheel: nothing is downloaded. Outside CI a missing Chromium or
Playwright skips these tests with the reason; with CI=true it fails them, as for Terraform.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clients.real_tools import unavailable
from tests.conftest import GatewayProcess, start_gateway

CHROMIUM_NAMES = ("chromium", "chromium-browser")
# Transitions at 50x an engine's pace: a launch runs in about a second, and pending is still seen.
BROWSER_SIMULATOR_SPEED = 50.0


def chromium_path() -> str | None:
    wanted = os.environ.get("CLOUDGW_CHROMIUM")
    if wanted:
        return wanted if Path(wanted).exists() else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def console_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    handle = start_gateway(tmp_path_factory.mktemp("console-gateway"), speed=BROWSER_SIMULATOR_SPEED)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = chromium_path()
    if executable is None:
        unavailable("Chromium is not installed (apt-get install chromium, or set CLOUDGW_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright's Python package is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, console_gateway: GatewayProcess):
    context = browser.new_context(base_url=console_gateway.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(20_000)
    opened = context.new_page()
    yield opened
    context.close()
