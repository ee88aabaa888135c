"""The web console in a real browser: sign in, launch and watch it run, stop and start, a volume attached,
a key pair created, terminate; without a sign-in or with a forged form token nothing happens.

Screenshots of the main pages go to the test's temporary folder (docs/console-*.png are two of them).
"""
from __future__ import annotations

import math
import re
import uuid
from pathlib import Path

import boto3
import pytest

from tests.clients.real_tools import in_ci
from tests.conftest import GatewayProcess
from tests.console.sampled_points import sampled

try:
    from playwright.sync_api import Page, expect
except ImportError:  # outside CI a missing Playwright skips these tests; in CI it fails them
    if in_ci():
        raise
    pytest.skip("Playwright's Python package is not installed (pip install -e '.[test]')", allow_module_level=True)

STATE_TIMEOUT = 60_000  # ms; the simulator runs at 50x, a launch takes a second or two


def sign_in(page: Page, username: str = "admin@internal", password: str = "admin") -> None:
    page.goto("/console/instances")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()  # sent to the form first
    page.get_by_label("User (user@domain)").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Instances")).to_be_visible()


def choose(select, text_start: str) -> None:
    """Select the option whose text starts with `text_start` (options also show sizes and descriptions)."""
    value = select.evaluate("(s, start) => [...s.options].find(o => o.text.startsWith(start)).value", text_start)
    select.select_option(value)


def row_of(page: Page, name: str):
    return page.locator("tbody tr").filter(has=page.locator(".name", has_text=re.compile(f"^{re.escape(name)}$")))


def test_an_instance_from_launch_to_termination(page: Page, tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:6]
    key, name, volume = f"key-{suffix}", f"web-{suffix}", f"data-{suffix}"
    sign_in(page)

    page.get_by_role("link", name="Key pairs").click()
    page.get_by_label("Name", exact=True).fill(key)
    page.get_by_role("button", name="Create key pair").click()
    expect(page.get_by_role("heading", name=f"Private key of {key}")).to_be_visible()
    expect(page.get_by_role("textbox", name="Private key")).to_have_value(re.compile("BEGIN .*PRIVATE KEY"))
    page.screenshot(path=tmp_path / "keys.png", full_page=True)

    page.get_by_role("link", name="Launch", exact=True).click()
    page.get_by_label("Name", exact=True).fill(name)
    choose(page.get_by_label("Image"), "centos-stream-9")
    choose(page.get_by_label("Instance type"), "Small (")
    page.get_by_label("Key pair").select_option(key)
    page.get_by_label("Tags (one key=value a line)").fill("env=browser")
    page.screenshot(path=tmp_path / "launch.png", full_page=True)
    page.get_by_role("button", name="Launch").click()
    expect(page.get_by_role("status")).to_contain_text(f"Launching {name}")

    row = row_of(page, name)
    page.evaluate("window.notReloaded = true")
    expect(row.locator(".state")).to_have_text("running", timeout=STATE_TIMEOUT)
    assert page.evaluate("window.notReloaded === true"), "the state changed by a reload, not live"
    expect(row).to_contain_text("env=browser")
    page.screenshot(path=tmp_path / "instances.png", full_page=True)

    row.get_by_role("button", name="Stop").click()
    expect(row.locator(".state")).to_have_text("stopped", timeout=STATE_TIMEOUT)
    row.get_by_role("button", name="Start").click()
    expect(row.locator(".state")).to_have_text("running", timeout=STATE_TIMEOUT)

    page.get_by_role("link", name="Volumes").click()
    page.get_by_label("Name", exact=True).fill(volume)
    page.get_by_label("Size (GB)").fill("2")
    page.get_by_role("button", name="Create volume").click()
    volume_row = row_of(page, volume)
    expect(volume_row).to_contain_text("2 GB")
    for _ in range(30):  # the new disk is locked for a moment before it can be attached
        if volume_row.get_by_role("button", name="Attach").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    choose(volume_row.get_by_label(re.compile("Instance to attach")), name)
    volume_row.get_by_role("button", name="Attach").click()
    expect(volume_row).to_contain_text(name)
    expect(volume_row.get_by_role("button", name="Detach")).to_be_visible()
    page.screenshot(path=tmp_path / "volumes.png", full_page=True)

    page.get_by_role("link", name="Instances").click()
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Terminate").click()
    expect(page.get_by_role("status")).to_contain_text(f"terminate {name}")
    expect(row.locator(".state")).to_have_text(re.compile("shutting-down|terminated"), timeout=STATE_TIMEOUT)


def charted_instance(gateway: GatewayProcess) -> str:
    """A launched instance with an hour of sampled points (a gap in its CPU line) in the metric store: its UUID."""
    ec2 = boto3.client("ec2", endpoint_url=gateway.ec2_url, region_name="us-east-1",
                       aws_access_key_id=gateway.access_key, aws_secret_access_key=gateway.secret_key)
    image = ec2.describe_images(Filters=[{"Name": "name", "Values": ["centos-stream-9"]}])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    wave = {ago: 40 + 30 * math.sin(ago / 6) for ago in range(1, 58) if not 20 <= ago < 25}
    sampled(gateway, instance, "CPUUtilization", wave, "Percent")
    sampled(gateway, instance, "NetworkIn", {ago: 5e5 + 1e5 * (ago % 7) for ago in range(1, 58)}, "Bytes")
    sampled(gateway, instance, "NetworkOut", {ago: 2e5 + 5e4 * (ago % 5) for ago in range(1, 58)}, "Bytes")
    sampled(gateway, instance, "mem_used_percent", {ago: 55 + ago / 4 for ago in range(1, 58)}, "Percent", "CWAgent")
    return str(uuid.UUID(instance.removeprefix("i-")))


def test_main_pages_on_a_desktop_and_a_phone(page: Page, tmp_path: Path, console_gateway: GatewayProcess) -> None:
    charted = charted_instance(console_gateway)
    sign_in(page)
    for path, shot in [("/console/instances", "instances"), ("/console/launch", "launch"),
                       ("/console/images", "images"), ("/console/volumes", "volumes"),
                       ("/console/admin/operations", "operations"), ("/console/admin/engines", "engines"),
                       (f"/console/instances/{charted}/metrics", "metrics")]:
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
        page.screenshot(path=tmp_path / f"desktop-{shot}.png", full_page=True)
    expect(page.get_by_role("img", name=re.compile("^CPU utilization of"))).to_be_visible()  # the chart's <title>
    page.get_by_text("The points (52)").click()  # the CPU table: 57 minutes less the 5-minute gap
    expect(page.get_by_role("table").first).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    for path, shot in [("/console/instances", "instances"), ("/console/launch", "launch"),
                       (f"/console/instances/{charted}/metrics", "metrics")]:
        page.goto(path)
        page.screenshot(path=tmp_path / f"phone-{shot}.png", full_page=True)
    page.keyboard.press("Tab")  # the first stop is the skip link, then the page can be used by keyboard
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()


def test_without_a_sign_in_nothing_is_shown(page: Page) -> None:
    page.goto("/console/launch")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("User (user@domain)").fill("admin@internal")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("refused this user name and password")


def test_a_form_with_a_forged_token_is_refused(page: Page) -> None:
    sign_in(page)
    page.goto("/console/keys")
    name = f"forged-{uuid.uuid4().hex[:6]}"
    page.get_by_label("Name", exact=True).fill(name)
    page.locator("form.stacked input[name=csrf_token]").evaluate("input => input.value = 'forged'")
    page.get_by_role("button", name="Create key pair").click()
    expect(page.get_by_role("alert")).to_contain_text("could not be accepted")
    page.goto("/console/keys")
    expect(page.locator("main")).not_to_contain_text(name)


def test_a_link_from_another_site_keeps_the_user_signed_in(page: Page) -> None:
    """A link in mail or a chat (another site) opens the console signed in: the cookie is SameSite=Lax.
    (With Strict the browser left the cookie out, and the sign-in form's fresh session replaced it.)"""
    sign_in(page)
    target = page.url.split("/console/")[0] + "/console/volumes"
    # Another site, served by the browser's own interception: nothing leaves this machine.
    page.route("http://mail.example/**", lambda route: route.fulfill(
        content_type="text/html", body=f'<!doctype html><title>mail</title><a href="{target}">the volumes</a>'))
    page.goto("http://mail.example/inbox")
    page.get_by_role("link", name="the volumes").click()
    expect(page.get_by_role("heading", name="Volumes")).to_be_visible()
    page.goto("/console/instances")
    expect(page.get_by_role("heading", name="Instances")).to_be_visible()  # still signed in afterwards
