"""The console's forms for images, volumes, snapshots and key pairs, over real HTTP against a real gateway:
each action reaches the engine through the driver and shows in the next page."""
from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

import requests

from .signing_in import form_post, signed_in


def eventually(check: Callable[[], object], what: str, timeout: float = 90.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"{what}: not within {timeout:g} s")


def row_id(html: str, name: str) -> str | None:
    found = re.search(r'<tr data-id="([^"]+)"[^>]*>\s*<th scope="row"><span class="name">' + re.escape(name) + "<", html)
    return found.group(1) if found else None


def launched(session: requests.Session, base: str, name: str) -> str:
    page = session.get(f"{base}/launch", timeout=30).text
    image = re.search(r'<option value="([^"]+)">centos-stream-9', page).group(1)
    answer = form_post(session, f"{base}/launch", f"{base}/launch", image_id=image, name=name, tags="role=test")
    assert answer.status_code == 302, answer.text[:500]
    instance_id = row_id(session.get(f"{base}/instances", timeout=30).text, name)
    assert instance_id
    eventually(lambda: session.get(f"{base}/instances/states", params={"id": instance_id}, timeout=30)
               .json()[instance_id]["state"] == "running", f"{name} running")
    return instance_id


def test_volumes_snapshots_and_images_from_their_forms(gateway) -> None:
    session = signed_in(gateway.url)
    base = f"{gateway.url}/console"
    suffix = uuid.uuid4().hex[:6]
    instance_id = launched(session, base, f"res-{suffix}")
    listing = session.get(f"{base}/instances", params={"tag": "role=test", "state": "running"}, timeout=30).text
    assert instance_id in listing
    assert instance_id not in session.get(f"{base}/instances", params={"state": "stopped"}, timeout=30).text

    volume = f"vol-{suffix}"
    assert form_post(session, f"{base}/volumes", f"{base}/volumes", name=volume, size_gb="1").status_code == 302
    volume_id = row_id(session.get(f"{base}/volumes", timeout=30).text, volume)
    assert volume_id

    def attachable() -> bool:
        return f"/console/volumes/{volume_id}/attach" in session.get(f"{base}/volumes", timeout=30).text

    eventually(attachable, "the new volume attachable")
    attached = form_post(session, f"{base}/volumes/{volume_id}/attach", f"{base}/volumes", instance_id=instance_id)
    assert attached.status_code == 302, attached.text[:500]
    eventually(lambda: f"/console/volumes/{volume_id}/detach" in session.get(f"{base}/volumes", timeout=30).text,
               "the volume attached")  # the engine may hold the disk locked a moment: then the attach follows

    snapshot = form_post(session, f"{base}/volumes/{volume_id}/snapshot", f"{base}/volumes",
                         description=f"snap-{suffix}")
    assert snapshot.status_code == 302, snapshot.text[:500]
    snapshot_id = eventually(lambda: re.search(r"snap-" + suffix + r'<br><code class="id">([^<]+)</code>',
                                               session.get(f"{base}/volumes", timeout=30).text), "the snapshot listed")
    snapshot_id = snapshot_id.group(1)

    refused = form_post(session, f"{base}/volumes/{volume_id}/detach", f"{base}/volumes")
    assert refused.status_code == 400 and "remove the disk&#39;s snapshots" in refused.text  # the engine's rule, in words
    eventually(lambda: form_post(session, f"{base}/snapshots/{snapshot_id}/delete", f"{base}/volumes").status_code
               == 302, "the snapshot deleted")
    eventually(lambda: form_post(session, f"{base}/volumes/{volume_id}/detach", f"{base}/volumes").status_code == 302,
               "the volume detached")  # once the snapshot's removal is done
    eventually(lambda: f"/console/volumes/{volume_id}/delete" in session.get(f"{base}/volumes", timeout=30).text,
               "the volume deletable")
    assert form_post(session, f"{base}/volumes/{volume_id}/delete", f"{base}/volumes").status_code == 302

    image = f"img-{suffix}"
    created = form_post(session, f"{base}/images", f"{base}/images", instance_id=instance_id, name=image)
    assert created.status_code == 302, created.text[:500]
    image_id = eventually(lambda: re.search(re.escape(image) + r'<br><code class="id">([^<]+)</code>',
                                            session.get(f"{base}/images", timeout=30).text), "the image listed").group(1)
    eventually(lambda: f"/console/images/{image_id}/deregister" in session.get(f"{base}/images", timeout=30).text,
               "the image ready", timeout=120)
    assert form_post(session, f"{base}/images/{image_id}/deregister", f"{base}/images").status_code == 302

    terminated = form_post(session, f"{base}/instances/{instance_id}/terminate", f"{base}/instances")
    assert terminated.status_code == 302
    again = form_post(session, f"{base}/instances/{instance_id}/start", f"{base}/instances")
    assert 400 <= again.status_code < 500 and "Traceback" not in again.text  # refused in words


def test_key_pairs_import_and_delete_and_signing_out(gateway) -> None:
    session = signed_in(gateway.url)
    base = f"{gateway.url}/console"
    name = f"imported-{uuid.uuid4().hex[:6]}"
    public = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl console@test")
    imported = form_post(session, f"{base}/keys", f"{base}/keys", name=name, public_key=public)
    assert imported.status_code == 302
    assert name in session.get(f"{base}/keys", timeout=30).text
    assert form_post(session, f"{base}/keys/{name}/delete", f"{base}/keys").status_code == 302
    assert f"<th scope=\"row\">{name}</th>" not in session.get(f"{base}/keys", timeout=30).text
    switched = form_post(session, f"{base}/data-center", f"{base}/instances", datacenter="barcelona",
                         back="/console/volumes")
    assert switched.status_code == 302 and switched.headers["Location"].endswith("/console/volumes")
    assert '<option selected>barcelona</option>' in session.get(f"{base}/instances", timeout=30).text
    unknown = form_post(session, f"{base}/data-center", f"{base}/instances", datacenter="atlantis")
    assert unknown.status_code == 400 and "No data center named" in unknown.text
    out = form_post(session, f"{base}/sign-out", f"{base}/instances")
    assert out.status_code == 302
    assert session.get(f"{base}/instances", allow_redirects=False, timeout=30).status_code == 302


def test_an_administrator_cancels_and_retries_an_operation(gateway) -> None:
    """With the engine's clock frozen a launch waits for its disks: cancelled, then retried, it completes."""
    session = signed_in(gateway.url)
    base = f"{gateway.url}/console"
    gateway.simulator_control("clock", frozen=True)
    try:
        page = session.get(f"{base}/launch", timeout=30).text
        image = re.search(r'<option value="([^"]+)">centos-stream-9', page).group(1)
        name = f"op-{uuid.uuid4().hex[:6]}"
        assert form_post(session, f"{base}/launch", f"{base}/launch", image_id=image, name=name).status_code == 302
        instance_id = row_id(session.get(f"{base}/instances", timeout=30).text, name)
        operations = session.get(f"{base}/admin/operations", timeout=30).text
        operation_id = re.search(r'ovirt\.run<br><code class="id">([0-9a-f]+)</code>(?:(?!</tr>).)*'
                                 + re.escape(instance_id), operations, re.S).group(1)
        done_refused = form_post(session, f"{base}/admin/operations/{operation_id}/retry", f"{base}/admin/operations")
        assert done_refused.status_code == 409 and "only a failed operation can be retried" in done_refused.text
        cancelled = form_post(session, f"{base}/admin/operations/{operation_id}/cancel", f"{base}/admin/operations")
        assert cancelled.status_code == 302
        failed = session.get(f"{base}/admin/operations", params={"state": "failed"}, timeout=30).text
        assert operation_id in failed and "cancelled by an operator" in failed
        retried = form_post(session, f"{base}/admin/operations/{operation_id}/retry", f"{base}/admin/operations")
        assert retried.status_code == 302
    finally:
        gateway.simulator_control("clock", frozen=False)
    eventually(lambda: session.get(f"{base}/instances/states", params={"id": instance_id}, timeout=30)
               .json()[instance_id]["state"] == "running", f"{name} running after the retry")
    assert form_post(session, f"{base}/instances/{instance_id}/terminate", f"{base}/instances").status_code == 302
