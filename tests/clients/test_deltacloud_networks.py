"""The Deltacloud REST API over real HTTP on the embedded default's OVN network provider: networks (VPCs),
subnets and firewalls with Deltacloud 1.1.3's rules, in XML and JSON, each checked with boto3 from the EC2
side, which sees the same VPCs, subnets and security groups.
"""
from __future__ import annotations

from typing import Any

import pytest

from tests.clients.ec2_helpers import ec2_client
from tests.integration.deltacloud_http import Api, Resource, error_of


@pytest.fixture(scope="module")
def ec2(net_gateway: Any) -> Any:
    return ec2_client(net_gateway)


def address_blocks(network: Resource) -> list[str]:
    element = network["_element"]
    if element is not None:
        return [b.text for b in element.iterfind("address_blocks/address_block")]
    return network["address_blocks"]


def rules(firewall: Resource) -> list[dict[str, Any]]:
    """Each rule as {id, allow_protocol, port_from, port_to, direction, sources} in either format."""
    element = firewall["_element"]
    if element is None:
        return firewall["rules"]
    found = []
    for rule in element.iterfind("rules/rule"):
        item: dict[str, Any] = {"id": rule.get("id"),
                                "sources": [dict(s.attrib) for s in rule.iterfind("sources/source")]}
        for name in ("allow_protocol", "port_from", "port_to", "direction"):
            text = rule.findtext(name)
            item[name] = int(text) if text is not None and name.startswith("port") else text
        found.append(item)
    return found


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_the_entry_point_lists_subnets_and_firewalls(net_gateway: Any, fmt: str) -> None:
    entry = Api(net_gateway.api_url, fmt, net_gateway.admin).entry()
    assert {"networks", "subnets", "firewalls"} <= set(entry)


@pytest.mark.parametrize("fmt,block", [("xml", "10.71"), ("json", "10.72")])
def test_networks_and_subnets_made_here_are_vpcs_and_subnets_for_ec2(net_gateway: Any, ec2: Any, fmt: str,
                                                                     block: str) -> None:
    api = Api(net_gateway.api_url, fmt, net_gateway.admin)
    network = api.create("networks", "network", {"address_block": f"{block}.0.0/16", "name": f"net-{fmt}"})
    assert address_blocks(network) == [f"{block}.0.0/16"] and network["name"] == f"net-{fmt}"
    zone = ec2.describe_availability_zones()["AvailabilityZones"][0]
    subnet = api.create("subnets", "subnet", {"network_id": network.id, "address_block": f"{block}.3.0/24",
                                              "name": f"sub-{fmt}", "realm_id": zone["ZoneName"]})
    assert subnet["network"] == network.id and subnet["address_block"] == f"{block}.3.0/24"
    assert subnet["realm"] == zone["ZoneId"] and "destroy" in subnet.actions
    assert [s.id for s in api.list("subnets") if s["network"] == network.id] == [subnet.id]

    vpc = next(v for v in ec2.describe_vpcs()["Vpcs"] if v["CidrBlock"] == f"{block}.0.0/16")
    assert vpc["VpcId"] == "vpc-" + network.id.replace("-", "")
    assert {"Key": "Name", "Value": f"net-{fmt}"} in vpc["Tags"]
    listed = next(s for s in ec2.describe_subnets()["Subnets"] if s["CidrBlock"] == f"{block}.3.0/24")
    assert listed["SubnetId"] == "subnet-" + subnet.id.replace("-", "") and listed["VpcId"] == vpc["VpcId"]

    code, message = error_of(api.act(network, "destroy", 409))
    assert code == 409 and "subnets" in message
    api.act(subnet, "destroy", 204)
    api.act(network, "destroy", 204)
    assert vpc["VpcId"] not in {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
    assert api.call("GET", network.href).status_code == 404


def test_a_vpc_made_with_ec2_is_a_network_with_its_subnets(net_gateway: Any, ec2: Any) -> None:
    vpc_id = ec2.create_vpc(CidrBlock="10.73.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.73.1.0/24")["Subnet"]["SubnetId"]
    api = Api(net_gateway.api_url, "json", net_gateway.admin)
    network = next(n for n in api.list("networks") if n["address_blocks"] == ["10.73.0.0/16"])
    assert [s["id"].replace("-", "") for s in network["subnets"]] == [subnet_id.removeprefix("subnet-")]
    subnet = next(s for s in api.list("subnets") if s["address_block"] == "10.73.1.0/24")
    assert subnet["network"] == network.id
    imported = {n.id for n in api.list("networks") if not n["address_blocks"]}
    assert imported and not {n.id for n in api.list("networks")} & {subnet.id}
    api.act(subnet, "destroy", 204)
    api.act(network, "destroy", 204)
    assert vpc_id not in {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_firewalls_are_security_groups_with_their_rules(net_gateway: Any, ec2: Any, fmt: str) -> None:
    api = Api(net_gateway.api_url, fmt, net_gateway.admin)
    network = api.create("networks", "network", {"address_block": "10.74.0.0/16" if fmt == "xml" else "10.75.0.0/16"})
    web = api.create("firewalls", "firewall", {"name": "web", "description": "the web tier", "network_id": network.id})
    assert web["name"] == "web" and web["description"] == "the web tier" and web["owner_id"] == "admin@internal"
    assert "add_rule" in web.actions and "destroy" in web.actions
    added = api.checked("POST", web.href + "/rules", 201, data={
        "protocol": "tcp", "port_from": "80", "port_to": "443", "ip_address1": "192.168.0.0/16",
        "ip_address2": "10.1.2.3", "group1": "default", "group1owner": "admin@internal"})
    firewall = api.parse_one(added, "firewall")
    ingress = [r for r in rules(firewall) if r["direction"] == "ingress"]
    assert {(r["allow_protocol"], r["port_from"], r["port_to"]) for r in ingress} == {("tcp", 80, 443)}
    sources = sorted((s["type"], s.get("address") or s.get("name"), s.get("prefix")) for r in ingress
                     for s in r["sources"])
    assert sources == [("address", "10.1.2.3", "32"), ("address", "192.168.0.0", "16"), ("group", "default", None)]

    group = ec2.describe_security_groups(GroupIds=["sg-" + web.id.replace("-", "")])["SecurityGroups"][0]
    (permission,) = group["IpPermissions"]
    assert (permission["IpProtocol"], permission["FromPort"], permission["ToPort"]) == ("tcp", 80, 443)
    assert sorted(r["CidrIp"] for r in permission["IpRanges"]) == ["10.1.2.3/32", "192.168.0.0/16"]
    assert [p["GroupId"] for p in permission["UserIdGroupPairs"]] != []

    duplicate = api.call("POST", web.href + "/rules", data={"protocol": "tcp", "port_from": "80", "port_to": "443",
                                                            "ip_address1": "10.1.2.3/32"})
    assert error_of(duplicate)[0] == 409
    default = next(f for f in api.list("firewalls") if f["name"] == "default" and f["network"] == network.id)
    assert "destroy" not in default.actions and error_of(api.call("DELETE", default.href))[0] == 409

    cidr_rule = next(r for r in ingress if r["sources"][0].get("address") == "10.1.2.3")
    api.checked("DELETE", f"{web.href}/{cidr_rule['id']}", 204)
    api.checked("DELETE", f"{web.href}/{cidr_rule['id']}", 404)
    group = ec2.describe_security_groups(GroupIds=["sg-" + web.id.replace("-", "")])["SecurityGroups"][0]
    assert [r["CidrIp"] for r in group["IpPermissions"][0]["IpRanges"]] == ["192.168.0.0/16"]

    assert error_of(api.call("DELETE", network.href))[0] == 409  # it has a firewall
    api.act(api.show(web.href, "firewall"), "destroy", 204)
    groups = ec2.describe_security_groups()["SecurityGroups"]
    assert "sg-" + web.id.replace("-", "") not in {g["GroupId"] for g in groups}
    api.act(network, "destroy", 204)


def test_bad_network_requests_get_deltacloud_errors_not_500s(net_gateway: Any) -> None:
    api = Api(net_gateway.api_url, "json", net_gateway.admin)
    network = api.create("networks", "network", {"address_block": "10.76.0.0/16"})
    web = api.create("firewalls", "firewall", {"name": "web", "description": "x", "network_id": network.id})
    api.create("subnets", "subnet", {"network_id": network.id, "address_block": "10.76.1.0/24"})

    def status(method: str, url: str, data: dict[str, str] | None = None) -> int:
        response = api.call(method, url, data=data)
        code, message = error_of(response)
        assert code == response.status_code and "Traceback" not in message
        return code

    networks, subnets, firewalls = api.href("networks"), api.href("subnets"), api.href("firewalls")
    for block in ("10.77.0.0/8", "10.77.0.1/16", "nonsense", "fd00::/48"):
        assert status("POST", networks, {"address_block": block}) == 400, block
    assert status("POST", networks, {}) == 400
    assert status("POST", subnets, {"network_id": network.id, "address_block": "10.99.1.0/24"}) == 400
    assert status("POST", subnets, {"network_id": network.id, "address_block": "10.76.1.0/25"}) == 409
    assert status("POST", subnets, {"network_id": network.id, "address_block": "10.76.2.0/24",
                                     "realm_id": "atlantis"}) == 400
    assert status("POST", subnets, {"network_id": "nope", "address_block": "10.76.2.0/24"}) == 404
    assert status("POST", subnets, {"address_block": "10.76.2.0/24"}) == 400
    assert status("POST", firewalls, {"name": "web", "description": "again", "network_id": network.id}) == 409
    assert status("POST", firewalls, {"name": "x", "network_id": network.id}) == 400
    assert status("POST", firewalls, {"name": "x", "description": "x", "network_id": "nope"}) == 404
    rule = {"protocol": "tcp", "port_from": "22", "port_to": "22", "ip_address1": "10.0.0.0/8"}
    for bad in ({"protocol": "gre"}, {"port_from": "x"}, {"port_to": "70000"}, {"port_from": "30", "port_to": "20"},
                {"ip_address1": "10.0.0.0/33"}, {"ip_address1": "", "group1": "nobody"}, {"direction": "sideways"}):
        assert status("POST", web.href + "/rules", {**rule, **bad}) == 400, bad
    assert status("POST", web.href + "/rules", {"protocol": "tcp", "port_from": "22", "port_to": "22"}) == 400
    assert status("POST", firewalls + "/nope/rules", rule) == 404
    assert status("DELETE", web.href + "/nope") == 404
    logical = next(n for n in api.list("networks") if not n["address_blocks"])
    assert status("DELETE", logical.href) == 412 and "destroy" not in logical.actions


def test_a_user_the_network_provider_refuses_lists_and_is_refused_for_changes(net_gateway: Any) -> None:
    user = Api(net_gateway.api_url, "json", ("user@internal", "user"))
    assert user.list("networks") and user.list("firewalls") == []
    code, message = error_of(user.call("POST", user.href("networks"), data={"address_block": "10.59.0.0/16"}))
    assert code == 401 and "network provider" in message


def test_a_firewall_another_firewalls_rule_names_stays(net_gateway: Any, ec2: Any) -> None:
    """As EC2's DeleteSecurityGroup says DependencyViolation, Deltacloud says 409, and the rule keeps its group."""
    api = Api(net_gateway.api_url, "json", net_gateway.admin)
    network = api.create("networks", "network", {"address_block": "10.78.0.0/16"})
    app = api.create("firewalls", "firewall", {"name": "app", "description": "x", "network_id": network.id})
    web = api.create("firewalls", "firewall", {"name": "web", "description": "x", "network_id": network.id})
    api.checked("POST", web.href + "/rules", 201, data={"protocol": "tcp", "port_from": "8080", "port_to": "8080",
                                                        "group1": "app", "group1owner": "admin@internal"})
    code, message = error_of(api.call("DELETE", app.href))
    assert code == 409 and "web" in message
    assert "sg-" + app.id.replace("-", "") in {g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]}
    api.act(api.show(web.href, "firewall"), "destroy", 204)
    api.act(api.show(app.href, "firewall"), "destroy", 204)
    api.act(network, "destroy", 204)


def test_an_all_ports_rule_is_the_same_rule_for_ec2(net_gateway: Any, ec2: Any) -> None:
    """tcp 0-65535 made here is EC2's tcp 0-65535: a duplicate there, and EC2 revokes it."""
    api = Api(net_gateway.api_url, "json", net_gateway.admin)
    network = api.create("networks", "network", {"address_block": "10.79.0.0/16"})
    web = api.create("firewalls", "firewall", {"name": "web", "description": "x", "network_id": network.id})
    added = api.checked("POST", web.href + "/rules", 201, data={"protocol": "tcp", "port_from": "0",
                                                                "port_to": "65535", "ip_address1": "10.0.0.0/8"})
    assert [(r["port_from"], r["port_to"]) for r in rules(api.parse_one(added, "firewall"))
            if r["direction"] == "ingress"] == [(0, 65535)]
    group_id = "sg-" + web.id.replace("-", "")
    everything = [{"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]
    with pytest.raises(ec2.exceptions.ClientError) as refused:
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=everything)
    assert refused.value.response["Error"]["Code"] == "InvalidPermission.Duplicate"
    ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=everything)
    (group,) = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    assert group["IpPermissions"] == []
    api.act(api.show(web.href, "firewall"), "destroy", 204)
    api.act(network, "destroy", 204)


def test_a_name_ec2_would_refuse_is_refused_before_the_network_is_made(net_gateway: Any, ec2: Any) -> None:
    """A name is the `Name` tag: over 256 characters is a 400, with no VPC or subnet left behind."""
    api = Api(net_gateway.api_url, "json", net_gateway.admin)
    vpcs_before = {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
    code, message = error_of(api.call("POST", api.href("networks"), data={"address_block": "10.80.0.0/16",
                                                                          "name": "n" * 300}))
    assert code == 400 and "256" in message
    assert {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]} == vpcs_before
    network = api.create("networks", "network", {"address_block": "10.80.0.0/16"})
    code, _ = error_of(api.call("POST", api.href("subnets"), data={"network_id": network.id, "name": "n" * 300,
                                                                   "address_block": "10.80.1.0/24"}))
    assert code == 400
    assert not [s for s in ec2.describe_subnets()["Subnets"] if s["CidrBlock"] == "10.80.1.0/24"]
    api.act(network, "destroy", 204)
