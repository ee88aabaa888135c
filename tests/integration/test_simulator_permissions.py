"""Permissions as the engine enforces them, seen on the wire by the ordinary user (`user@internal`):
what it creates it manages, what it is given it uses by the role it got, infrastructure it reads; an
action it holds no role for answers 403 with the engine's fault, while a VM it cannot see stays 404 for
everything that reads it first. The admin is unaffected."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.simulator_fixtures import ADMIN, BLANK, TEMPLATE_CENTOS_DEFAULT, USER, advance, running_simulator

from .test_simulator_http import XML, add_vm, xml
from .test_simulator_storage import SD_DEFAULT, add_disk

ADMINS_VM = "5eed0000-0000-4000-8000-000000000003"      # seeded, down, the admin's
ADMINS_UP_VM = "5eed0000-0000-4000-8000-000000000001"   # seeded, up
USER_ID = "05e70000-0000-4000-8000-000000000002"
NOT_AUTHORIZED = "[User is not authorized to perform this action.]"
EMPTY_ACTION = "<action/>"


@pytest.fixture()
def engine() -> Iterator[Any]:
    with running_simulator(frozen=True, vms=3) as (sim, handle):
        yield handle


def session(credentials: tuple[str, str], **headers: str) -> requests.Session:
    s = requests.Session()
    s.auth = credentials
    s.headers.update(headers)
    return s


@pytest.fixture()
def admin(engine: Any) -> requests.Session:
    return session(ADMIN)


@pytest.fixture()
def user(engine: Any) -> requests.Session:
    """The ordinary user, on the API's default for non-admins (no `Filter` header: filtered)."""
    return session(USER)


def assert_forbidden(response: requests.Response) -> None:
    """The engine's NO_PERMISSION answer: 403, a `<fault>` in its element order, its message text."""
    assert response.status_code == 403, response.text
    fault = xml(response)
    assert fault.tag == "fault" and [c.tag for c in fault] == ["detail", "reason"]
    assert fault.findtext("reason") == "Operation Failed"
    assert fault.findtext("detail") == NOT_AUTHORIZED


def give(admin: requests.Session, api: str, vm_id: str, role: str) -> None:
    grant = f"<permission><role><name>{role}</name></role><user id='{USER_ID}'/></permission>"
    assert admin.post(f"{api}/vms/{vm_id}/permissions", data=grant, headers=XML).status_code == 201


def test_the_user_creates_and_manages_its_own_vm(engine: Any, user: requests.Session) -> None:
    api = engine.api_url
    mine = add_vm(user, api, "users-own", BLANK)
    assert user.put(f"{api}/vms/{mine}", data="<vm><description>mine</description></vm>", headers=XML).ok
    nic = "<nic><name>nic1</name><interface>virtio</interface></nic>"
    assert user.post(f"{api}/vms/{mine}/nics", data=nic, headers=XML).status_code == 201
    assert user.post(f"{api}/vms/{mine}/start", data=EMPTY_ACTION, headers=XML).status_code == 200
    assert user.post(f"{api}/vms/{mine}/stop", data=EMPTY_ACTION, headers=XML).status_code == 200
    advance(engine, 60)
    [perm] = xml(user.get(f"{api}/vms/{mine}/permissions"))
    assert perm.find("role").get("id") == "def00006-0000-0000-0000-def000000006"     # UserVmManager
    assert user.delete(f"{api}/vms/{mine}").status_code == 200


def test_the_user_reads_infrastructure_but_may_not_change_it(engine: Any, user: requests.Session) -> None:
    api = engine.api_url
    for collection in ("datacenters", "clusters", "storagedomains", "templates", "networks"):
        assert len(xml(user.get(f"{api}/{collection}"))) > 0
    assert_forbidden(user.post(f"{api}/tags", data="<tag><name>team</name></tag>", headers=XML))
    assert_forbidden(add_disk(user, api, "users-scratch"))
    assert_forbidden(user.delete(f"{api}/templates/{TEMPLATE_CENTOS_DEFAULT}"))
    mine = add_vm(user, api, "users-source", BLANK)
    template = f"<template><name>users-tpl</name><vm id='{mine}'/></template>"
    assert_forbidden(user.post(f"{api}/templates", data=template, headers=XML))
    new_disk = (f"<disk_attachment><interface>virtio</interface><disk><provisioned_size>1073741824"
                f"</provisioned_size><format>cow</format><storage_domains><storage_domain id='{SD_DEFAULT}'/>"
                "</storage_domains></disk></disk_attachment>")
    assert_forbidden(user.post(f"{api}/vms/{mine}/diskattachments", data=new_disk, headers=XML))
    assert_forbidden(user.post(f"{api}/vms/{mine}/tags", data="<tag><name>root</name></tag>", headers=XML))


@pytest.mark.parametrize("headers", [{}, {"Filter": "true"}], ids=["default", "filter"])
def test_a_vm_the_user_holds_no_role_on(engine: Any, admin: requests.Session, headers: dict[str, str]) -> None:
    """Reads (and remove, which reads first) do not find it: 404 with an empty body. Power actions run
    their command at once, whose permission check answers 403, for an unknown id too."""
    api = engine.api_url
    user = session(USER, **headers)
    assert user.get(f"{api}/vms/{ADMINS_VM}").status_code == 404
    removed = user.delete(f"{api}/vms/{ADMINS_VM}")
    assert removed.status_code == 404 and removed.content == b""
    assert user.put(f"{api}/vms/{ADMINS_VM}", data="<vm><name>x</name></vm>", headers=XML).status_code == 404
    assert_forbidden(user.post(f"{api}/vms/{ADMINS_VM}/start", data=EMPTY_ACTION, headers=XML))
    assert_forbidden(user.post(f"{api}/vms/{ADMINS_UP_VM}/stop", data=EMPTY_ACTION, headers=XML))
    assert_forbidden(user.post(f"{api}/vms/{'0' * 8}-0000-4000-8000-{'0' * 12}/start", data=EMPTY_ACTION,
                               headers=XML))
    assert xml(admin.get(f"{api}/vms/{ADMINS_UP_VM}")).findtext("status") == "up"
    assert admin.get(f"{api}/vms/{ADMINS_VM}").status_code == 200


def test_without_the_filter_a_user_s_queries_are_refused(engine: Any) -> None:
    """`Filter: false` asks for admin queries, which the engine refuses a non-admin (400, its text)."""
    api = engine.api_url
    user = session(USER, Filter="false")
    for response in (user.get(f"{api}/vms"), user.get(f"{api}/vms/{ADMINS_VM}"), user.delete(f"{api}/vms/{ADMINS_VM}")):
        assert response.status_code == 400
        assert xml(response).findtext("detail") == "query execution failed due to insufficient permissions."
    assert_forbidden(user.post(f"{api}/vms/{ADMINS_VM}/start", data=EMPTY_ACTION, headers=XML))


def test_a_vm_given_with_user_role_runs_but_cannot_be_edited_or_removed(engine: Any, admin: requests.Session,
                                                                      user: requests.Session) -> None:
    api = engine.api_url
    give(admin, api, ADMINS_VM, "UserRole")
    assert xml(user.get(f"{api}/vms/{ADMINS_VM}")).get("id") == ADMINS_VM
    assert user.post(f"{api}/vms/{ADMINS_VM}/start", data=EMPTY_ACTION, headers=XML).status_code == 200
    assert_forbidden(user.put(f"{api}/vms/{ADMINS_VM}", data="<vm><description>x</description></vm>", headers=XML))
    assert_forbidden(user.post(f"{api}/vms/{ADMINS_VM}/snapshots", headers=XML,
                               data="<snapshot><description>s</description></snapshot>"))
    # The permission check precedes validation: a running VM's removal is 403 here, not the 409 it is
    # for the admin.
    assert_forbidden(user.delete(f"{api}/vms/{ADMINS_VM}"))
    assert admin.delete(f"{api}/vms/{ADMINS_VM}").status_code == 409
    give(admin, api, ADMINS_VM, "UserVmManager")
    assert user.post(f"{api}/vms/{ADMINS_VM}/stop", data=EMPTY_ACTION, headers=XML).status_code == 200
    advance(engine, 60)
    assert user.delete(f"{api}/vms/{ADMINS_VM}").status_code == 200


def test_the_admin_is_not_limited(engine: Any, admin: requests.Session) -> None:
    api = engine.api_url
    assert add_disk(admin, api, "admins-scratch").status_code == 202
    assert admin.post(f"{api}/tags", data="<tag><name>team</name></tag>", headers=XML).status_code == 201
    vm = add_vm(admin, api, "admins-new", BLANK)
    template = f"<template><name>admins-tpl</name><vm id='{vm}'/></template>"
    assert admin.post(f"{api}/templates", data=template, headers=XML).status_code in (201, 202)
