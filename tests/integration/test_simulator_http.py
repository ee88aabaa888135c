"""The simulator's HTTP protocol, as a client sees it on the wire: authentication, versions, status
codes and faults, list parameters, the user-level API, timed state changes on a frozen clock, and the
control API's fault injection."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from lxml import etree

from tests.simulator_fixtures import (
    ADMIN, BLANK, CLUSTER_BARCELONA, DC_BARCELONA, TEMPLATE_CENTOS_DEFAULT, USER, advance, control,
    running_simulator,
)

XML = {"Content-Type": "application/xml"}


@pytest.fixture()
def engine() -> Iterator[Any]:
    """A fresh simulator per test, its clock frozen so that every transition is stepped explicitly."""
    with running_simulator(frozen=True, vms=30) as (sim, handle):
        yield handle


@pytest.fixture()
def admin(engine: Any) -> requests.Session:
    session = requests.Session()
    session.auth = ADMIN
    return session


def xml(response: requests.Response) -> Any:
    assert response.headers["Content-Type"].startswith("application/xml"), response.headers
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>')
    return etree.fromstring(response.content)


def add_vm(session: requests.Session, api: str, name: str, template: str = TEMPLATE_CENTOS_DEFAULT) -> str:
    body = f"<vm><name>{name}</name><cluster><name>Default</name></cluster><template id='{template}'/></vm>"
    response = session.post(f"{api}/vms", data=body, headers=XML)
    assert response.status_code in (201, 202), response.text
    return xml(response).get("id")


def status(session: requests.Session, api: str, vm_id: str) -> str:
    return xml(session.get(f"{api}/vms/{vm_id}")).findtext("status")


# -- authentication ----------------------------------------------------------------------------------

def test_sso_token_bearer_and_logout(engine: Any) -> None:
    token_url = f"{engine.url}/ovirt-engine/sso/oauth/token"
    form = {"grant_type": "password", "scope": "ovirt-app-api", "username": "admin@internal", "password": "admin"}
    issued = requests.post(token_url, data=form, headers={"Accept": "application/json"})
    assert issued.status_code == 200 and issued.headers["Content-Type"] == "application/json"
    token = issued.json()["access_token"]
    assert issued.json()["token_type"] == "bearer"
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.get(engine.api_url, headers=bearer).status_code == 200
    requests.post(f"{engine.url}/ovirt-engine/services/sso-logout", data={"scope": "ovirt-app-api", "token": token})
    assert requests.get(engine.api_url, headers=bearer).status_code == 401

    denied = requests.post(token_url, data={**form, "password": "nope"})
    assert denied.status_code == 400
    assert denied.json()["error_code"] == "access_denied"
    assert "Cannot authenticate user 'admin@internal'" in denied.json()["error"]


def test_unauthenticated_and_unknown_token_get_401_with_basic_challenge(engine: Any) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = requests.get(f"{engine.api_url}/vms", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Basic realm="RESTAPI"'


def test_persistent_auth_session_cookie(engine: Any) -> None:
    first = requests.get(engine.api_url, auth=ADMIN, headers={"Prefer": "persistent-auth"})
    session_id = first.cookies["JSESSIONID"]
    again = requests.get(f"{engine.api_url}/vms", cookies={"JSESSIONID": session_id},
                         headers={"Prefer": "persistent-auth"})
    assert again.status_code == 200


def test_expired_tokens_fault(engine: Any) -> None:
    token = requests.post(f"{engine.url}/ovirt-engine/sso/oauth/token", data={
        "grant_type": "password", "scope": "ovirt-app-api", "username": "user@internal", "password": "user"}).json()
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert requests.get(engine.api_url, headers=bearer).status_code == 200
    assert control(engine, "POST", "faults", expire_tokens=True)["expired_tokens"] == 1
    assert requests.get(engine.api_url, headers=bearer).status_code == 401


# -- protocol ----------------------------------------------------------------------------------------

def test_api_root_versions_and_correlation_id(engine: Any, admin: requests.Session) -> None:
    root = xml(admin.get(engine.api_url, headers={"Version": "4"}))
    assert root.find("special_objects/blank_template").get("id") == BLANK
    assert root.find("product_info/name").text == "oVirt Engine"
    assert admin.get(f"{engine.api_url}/v4/vms").status_code == 200
    assert admin.get(engine.api_url, headers={"Version": "3"}).status_code == 400
    echoed = admin.get(f"{engine.api_url}/clusters", params={"correlation_id": "abc-123"})
    assert echoed.headers["correlation-id"] == "abc-123"
    assert admin.get(f"{engine.api_url}/vms", headers={"Correlation-Id": "h-1"}).headers["correlation-id"] == "h-1"


def test_unknown_id_is_404_with_empty_body(engine: Any, admin: requests.Session) -> None:
    for path in ("vms/00000000-1111-2222-3333-444444444444", "templates/nope", "clusters/x/networks"):
        response = admin.get(f"{engine.api_url}/{path}")
        assert response.status_code == 404 and response.content == b""


def test_missing_fields_and_bad_references(engine: Any, admin: requests.Session) -> None:
    api = engine.api_url
    missing = admin.post(f"{api}/vms", data="<vm><cluster><name>Default</name></cluster></vm>", headers=XML)
    assert missing.status_code == 400
    fault = xml(missing)
    assert fault.tag == "fault" and fault.findtext("reason") == "Incomplete parameters"
    assert fault.findtext("detail") == "Vm [name] required for add"
    unknown = admin.post(f"{api}/vms", data="<vm><name>a</name><cluster><name>nope</name></cluster>"
                                            "<template><name>Blank</name></template></vm>", headers=XML)
    assert unknown.status_code == 404 and xml(unknown).findtext("detail") == "Entity not found: Cluster: name=nope"
    bad_enum = admin.post(f"{api}/vms", data="<vm><name>a</name><cluster><name>Default</name></cluster>"
                                             "<template><name>Blank</name></template><type>huge</type></vm>")
    assert bad_enum.status_code == 400 and xml(bad_enum).findtext("reason") == "Invalid value"


def test_request_xml_entities_are_not_resolved(engine: Any, admin: requests.Session) -> None:
    body = ('<?xml version="1.0"?><!DOCTYPE vm [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            "<vm><name>&x;</name><cluster><name>Default</name></cluster><template><name>Blank</name></template></vm>")
    response = admin.post(f"{engine.api_url}/vms", data=body, headers=XML)
    assert response.status_code == 400
    assert b"root:" not in response.content


# -- lists -------------------------------------------------------------------------------------------

def names(root: Any) -> list[str]:
    return [vm.findtext("name") for vm in root]


def test_search_max_sortby_page(engine: Any, admin: requests.Session) -> None:
    api = f"{engine.api_url}/vms"
    assert len(xml(admin.get(api))) == 30
    assert names(xml(admin.get(api, params={"search": "name=vm-0000*"}))) == [f"vm-{i:05d}" for i in range(1, 10)]
    assert names(xml(admin.get(api, params={"search": "NAME=VM-00001"}))) == ["vm-00001"]
    assert names(xml(admin.get(api, params={"search": "name=VM-00001", "case_sensitive": "true"}))) == []
    assert len(xml(admin.get(api, params={"max": 5}))) == 5
    desc = names(xml(admin.get(api, params={"search": "name=vm-* sortby name desc page 2", "max": 10})))
    assert desc == [f"vm-{i:05d}" for i in range(20, 10, -1)]
    up_in_bcn = xml(admin.get(api, params={"search": "status=up AND datacenter=barcelona"}))
    assert len(up_in_bcn) > 0
    assert all(vm.findtext("status") == "up" and vm.find("cluster").get("id") == CLUSTER_BARCELONA
               for vm in up_in_bcn)
    one = xml(admin.get(api, params={"search": "id=5eed0000-0000-4000-8000-000000000007"}))
    assert names(one) == ["vm-00007"]
    assert admin.get(api, params={"search": "colour=red"}).status_code == 400
    clusters = xml(admin.get(f"{engine.api_url}/datacenters/{DC_BARCELONA}/clusters"))
    assert [c.findtext("name") for c in clusters] == ["barcelona-cluster"]


def test_follow_inlines_nested_links(engine: Any, admin: requests.Session) -> None:
    root = xml(admin.get(f"{engine.api_url}/vms", params={
        "search": "name=vm-00001", "follow": "nics.reported_devices,disk_attachments.disk"}))
    vm = root[0]
    ips = vm.findall("nics/nic/reported_devices/reported_device/ips/ip/address")
    assert ips and ips[0].text.startswith("10.")
    assert vm.find("disk_attachments/disk_attachment/disk/status").text == "ok"
    macs = {m.text for m in xml(admin.get(f"{engine.api_url}/vms", params={"follow": "nics"})).iter("address")
            if m.text.startswith("56:6f:")}
    assert len(macs) == 30          # one deterministic, distinct MAC per VM


def test_user_level_api(engine: Any, admin: requests.Session) -> None:
    api = engine.api_url
    user = requests.Session()
    user.auth = USER
    user.headers["Filter"] = "true"
    assert len(xml(user.get(f"{api}/vms"))) == 0
    mine = add_vm(user, api, "users-own", BLANK)
    assert names(xml(user.get(f"{api}/vms"))) == ["users-own"]
    given = "5eed0000-0000-4000-8000-000000000003"
    assert user.get(f"{api}/vms/{given}").status_code == 404
    grant = "<permission><role><name>UserRole</name></role><user id='05e70000-0000-4000-8000-000000000002'/></permission>"
    assert admin.post(f"{api}/vms/{given}/permissions", data=grant, headers=XML).status_code == 201
    assert set(names(xml(user.get(f"{api}/vms")))) == {"users-own", "vm-00003"}
    assert len(xml(admin.get(f"{api}/vms"))) == 31 and mine


# -- timed behaviour on a frozen clock ---------------------------------------------------------------

def test_create_start_shutdown_timeline(engine: Any, admin: requests.Session) -> None:
    api = engine.api_url
    vm_id = add_vm(admin, api, "timeline")
    assert status(admin, api, vm_id) == "image_locked"
    disk_id = xml(admin.get(f"{api}/vms/{vm_id}/diskattachments"))[0].get("id")
    assert xml(admin.get(f"{api}/disks/{disk_id}")).findtext("status") == "locked"
    start = admin.post(f"{api}/vms/{vm_id}/start", data="<action/>")
    assert start.status_code == 409 and "locked" in xml(start).findtext("detail")
    advance(engine, 10)
    assert status(admin, api, vm_id) == "down"
    assert xml(admin.get(f"{api}/disks/{disk_id}")).findtext("status") == "ok"

    reply = xml(admin.post(f"{api}/vms/{vm_id}/start", data="<action><async>true</async></action>",
                           params={"correlation_id": "corr-1"}))
    assert reply.tag == "action" and reply.findtext("status") == "complete"
    assert reply.find("vm").get("id") == vm_id and reply.findtext("async") == "true"
    seen = [status(admin, api, vm_id)]
    for _ in range(5):
        advance(engine, 3)
        seen.append(status(admin, api, vm_id))
    assert seen[0] == "wait_for_launch" and "powering_up" in seen and seen[-1] == "up"
    assert xml(admin.get(f"{api}/vms/{vm_id}/reporteddevices")).tag == "reported_devices"
    assert len(xml(admin.get(f"{api}/vms/{vm_id}/reporteddevices"))) == 0
    advance(engine, 6)
    devices = xml(admin.get(f"{api}/vms/{vm_id}/reporteddevices"))
    assert [ip.findtext("version") for ip in devices[0].find("ips")] == ["v4", "v6", "v6"]
    jobs = xml(admin.get(f"{api}/jobs", params={"search": "correlation_id=corr-1"}))
    assert [j.findtext("status") for j in jobs] == ["finished"]

    again = admin.post(f"{api}/vms/{vm_id}/start", data="<action/>")
    assert again.status_code == 409 and xml(again).findtext("detail") == "[Cannot run VM. VM is running.]"
    suspend = admin.post(f"{api}/vms/{vm_id}/suspend", data="<action/>")
    assert suspend.status_code == 200 and status(admin, api, vm_id) == "saving_state"
    advance(engine, 6)
    assert status(admin, api, vm_id) == "suspended"
    removal = admin.delete(f"{api}/vms/{vm_id}")
    assert removal.status_code == 409 and "VM is not down" in xml(removal).findtext("detail")
    admin.post(f"{api}/vms/{vm_id}/start", data="<action/>")
    advance(engine, 4.5)
    assert status(admin, api, vm_id) == "restoring_state"
    advance(engine, 10)
    assert status(admin, api, vm_id) == "up"
    admin.post(f"{api}/vms/{vm_id}/reboot", data="<action/>")
    assert status(admin, api, vm_id) == "reboot_in_progress"
    advance(engine, 10)
    admin.post(f"{api}/vms/{vm_id}/shutdown", data="<action/>")
    assert status(admin, api, vm_id) == "powering_down"
    advance(engine, 6)
    assert status(admin, api, vm_id) == "down"

    deleted = admin.delete(f"{api}/vms/{vm_id}")
    assert deleted.status_code == 200 and xml(deleted).findtext("status") == "complete"
    assert admin.get(f"{api}/vms/{vm_id}").status_code == 404
    assert xml(admin.get(f"{api}/disks/{disk_id}")).findtext("status") == "locked"
    advance(engine, 5)
    assert admin.get(f"{api}/disks/{disk_id}").status_code == 404


def test_expect_201_created_waits_for_the_copy(admin: requests.Session) -> None:
    with running_simulator(speed=1000) as (sim, handle):
        body = f"<vm><name>waited</name><cluster><name>Default</name></cluster><template id='{TEMPLATE_CENTOS_DEFAULT}'/></vm>"
        response = admin.post(f"{handle.api_url}/vms", data=body, headers={**XML, "Expect": "201-created"})
        assert response.status_code == 201
        assert xml(response).findtext("status") == "down"
        assert response.headers["Location"].endswith(xml(response).get("id"))


def test_devices_nics_disks_tags(engine: Any, admin: requests.Session) -> None:
    api = engine.api_url
    vm_id = add_vm(admin, api, "devices", BLANK)
    nic = admin.post(f"{api}/vms/{vm_id}/nics", data="<nic><name>nic1</name><interface>virtio</interface>"
                     "<vnic_profile id='0f000000-0000-4000-8000-000000000001'/></nic>", headers=XML)
    assert nic.status_code == 201 and xml(nic).find("mac/address").text.startswith("56:6f:")
    disk = admin.post(f"{api}/vms/{vm_id}/diskattachments", headers=XML, data=(
        "<disk_attachment><bootable>true</bootable><interface>virtio_scsi</interface><active>true</active>"
        "<disk><name>data1</name><provisioned_size>1073741824</provisioned_size><format>cow</format>"
        "<storage_domains><storage_domain><name>data-default</name></storage_domain></storage_domains></disk>"
        "</disk_attachment>"))
    assert disk.status_code == 201
    disk_id = xml(disk).get("id")
    assert xml(admin.get(f"{api}/disks/{disk_id}")).findtext("status") == "locked"
    advance(engine, 6)
    assert xml(admin.get(f"{api}/disks/{disk_id}")).findtext("status") == "ok"
    assert admin.delete(f"{api}/vms/{vm_id}/diskattachments/{disk_id}").status_code == 200
    assert admin.get(f"{api}/disks/{disk_id}").status_code == 200      # detached, not deleted
    tag = xml(admin.post(f"{api}/tags", data="<tag><name>blue</name></tag>", headers=XML))
    assert admin.post(f"{api}/tags", data="<tag><name>blue</name></tag>", headers=XML).status_code == 409
    assert admin.post(f"{api}/vms/{vm_id}/tags", data=f"<tag id='{tag.get('id')}'/>", headers=XML).status_code == 201
    assert names(xml(admin.get(f"{api}/vms", params={"search": "tag=blue"}))) == ["devices"]
    assert admin.delete(f"{api}/vms/{vm_id}/tags/{tag.get('id')}").status_code == 200
    assert names(xml(admin.get(f"{api}/vms", params={"search": "tag=blue"}))) == []


def test_update_vm(engine: Any, admin: requests.Session) -> None:
    api = engine.api_url
    vm_id = add_vm(admin, api, "before", BLANK)
    body = ("<vm><name>after</name><memory>2147483648</memory><initialization><custom_script>#cloud-config\n"
            "</custom_script></initialization></vm>")
    updated = xml(admin.put(f"{api}/vms/{vm_id}", data=body, headers=XML))
    assert updated.findtext("name") == "after" and updated.findtext("memory") == "2147483648"
    assert updated.findtext("initialization/custom_script") == "#cloud-config\n"
    clash = admin.put(f"{api}/vms/{vm_id}", data="<vm><name>vm-00001</name></vm>", headers=XML)
    assert clash.status_code == 409


# -- the control API ---------------------------------------------------------------------------------

def test_injected_errors_drops_latency_and_engine_down(engine: Any, admin: requests.Session) -> None:
    api = engine.api_url
    control(engine, "POST", "faults", error={"path": "/vms$", "status": 503, "count": 2})
    assert admin.get(f"{api}/vms").status_code == 503
    assert admin.get(f"{api}/vms").status_code == 503
    assert admin.get(f"{api}/vms").status_code == 200
    control(engine, "POST", "faults", drop={"path": "/clusters", "count": 1})
    with pytest.raises(requests.ConnectionError):
        admin.get(f"{api}/clusters")
    assert admin.get(f"{api}/clusters").status_code == 200
    control(engine, "POST", "faults", latency=0.2)
    started = time.monotonic()
    admin.get(api)
    assert time.monotonic() - started >= 0.2
    control(engine, "POST", "faults", engine_down=True)
    assert admin.get(api).status_code == 503
    control(engine, "DELETE", "faults")
    assert admin.get(api).status_code == 200


def test_clock_reset_and_forced_status(engine: Any, admin: requests.Session) -> None:
    before = control(engine, "GET", "clock")
    assert before["frozen"] is True
    assert control(engine, "POST", "clock/advance", seconds=90)["now"] == pytest.approx(before["now"] + 90)
    vm_id = "5eed0000-0000-4000-8000-000000000001"
    control(engine, "POST", f"vms/{vm_id}/status", status="not_responding")
    assert status(admin, engine.api_url, vm_id) == "not_responding"
    add_vm(admin, engine.api_url, "ephemeral", BLANK)
    assert control(engine, "POST", "reset")["vms"] == 30
    assert status(admin, engine.api_url, vm_id) == "up"


def test_control_api_is_off_by_default() -> None:
    with running_simulator(control_api=False) as (sim, handle):
        assert requests.get(f"{handle.url}/__simulator__/clock").status_code == 404


def test_large_listings_are_streamed_whole() -> None:
    with running_simulator(vms=700) as (sim, handle):
        response = requests.get(f"{handle.api_url}/vms", params={"follow": "nics.reported_devices"}, auth=ADMIN)
        root = xml(response)
        assert len(root) == 700 and root[699].findtext("name") == "vm-00700"
        assert len({a.text for a in root.iter("address") if a.text.startswith("10.")}) == sum(1 for i in range(1, 701) if i % 3)   # two in three seeded VMs are up
