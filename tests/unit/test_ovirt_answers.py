"""What an engine answer must look like before the driver maps anything from it (drivers/ovirt/answers.py)."""
from __future__ import annotations

import pytest

from drivers.ovirt.answers import check_content_type, check_head, expected_root
from gateway.errors import BackendError


@pytest.mark.parametrize("method, path, root", [
    ("GET", "", "api"), ("GET", "datacenters", "data_centers"), ("GET", "datacenters/d1/clusters", "clusters"),
    ("GET", "datacenters/d1/storagedomains", "storage_domains"), ("GET", "vnicprofiles", "vnic_profiles"),
    ("GET", "vms", "vms"), ("GET", "vms/1", "vm"), ("GET", "instancetypes/o1.small", "instance_type"),
    ("POST", "vms", "vm"), ("POST", "vms/1/diskattachments", "disk_attachment"), ("POST", "templates", "template"),
    ("POST", "vms/1/snapshots", "snapshot"), ("POST", "vms/1/start", "action"), ("PUT", "vms/1", "vm"),
    ("PUT", "vms/1/diskattachments/d", "disk_attachment"), ("DELETE", "disks/1", "action"),
    ("DELETE", "vms/1/snapshots/s", "action"), ("GET", "somethingnew/x/y", None),
])
def test_the_root_each_request_expects(method: str, path: str, root: str | None) -> None:
    assert expected_root(method, path) == root


@pytest.mark.parametrize("content_type", ["application/xml", "application/xml;charset=UTF-8", "text/xml",
                                          "application/vnd.ovirt+xml; charset=utf-8"])
def test_xml_content_types_pass(content_type: str) -> None:
    check_content_type(content_type, "GET vms")


@pytest.mark.parametrize("content_type", [None, "", "text/html", "text/html; charset=utf-8", "application/json",
                                          "text/plain", "application/xml-dtd", "application/xhtml+xmlx"])
def test_other_content_types_are_backend_errors(content_type: str | None) -> None:
    with pytest.raises(BackendError):
        check_content_type(content_type, "GET vms")


def test_a_streamed_head_is_judged_before_anything_is_parsed() -> None:
    assert check_head(b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- c --><vms><vm id="a">', "vms", "GET vms")
    assert not check_head(b'<?xml version="1.0" enc', "vms", "GET vms")  # not yet known
    assert not check_head(b"<!-- an unfinished comm", "vms", "GET vms")
    for head in (b"<html><body>", b'<?xml version="1.0"?><!DOCTYPE vms [<!ENTITY e "x">]><vms>', b"Down for a while",
                 b"<vm id='a'/>"):
        with pytest.raises(BackendError):
            check_head(head, "vms", "GET vms")
