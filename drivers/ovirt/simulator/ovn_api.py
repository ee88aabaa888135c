"""The simulated ovirt-provider-ovn over HTTP: its Identity v2.0 `tokens` and its Neutron v2.0 subset.

The real provider listens apart from the engine (Neutron on port 9696, Identity on 35357); the simulator
serves both under its own path prefix on the engine's port, `/ovirt-provider-ovn/keystone/v2.0` and
`/ovirt-provider-ovn/neutron/v2.0`, so that one port serves a test and the gateway still reaches the
provider only through the URLs its configuration names. Tokens are the engine's own (the provider asks the
engine's SSO for them) and only an engine administrator may use the API, as with the provider's default
authorization plugin.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable

from werkzeug.wrappers import Request, Response

from .ovn_state import NeutronError, OvnState

if TYPE_CHECKING:
    from .server import Simulator

PREFIX = "/ovirt-provider-ovn"
IDENTITY = f"{PREFIX}/keystone/v2.0"
NEUTRON = f"{PREFIX}/neutron/v2.0"
# collection path -> (state attribute, singular body key, add, delete)
COLLECTIONS: dict[str, tuple[str, str, str, str]] = {
    "networks": ("networks", "network", "add_network", "delete_network"),
    "subnets": ("subnets", "subnet", "add_subnet", "delete_subnet"),
    "ports": ("ports", "port", "add_port", "delete_port"),
    "routers": ("routers", "router", "add_router", "delete_router"),
    "security-groups": ("groups", "security_group", "add_group", "delete_group"),
    "security-group-rules": ("rules", "security_group_rule", "add_rule", "delete_rule"),
}
PLURALS = {"security-groups": "security_groups", "security-group-rules": "security_group_rules"}


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


def _body(request: Request, key: str | None) -> dict[str, Any]:
    try:
        data = json.loads(request.get_data(cache=True) or b"null")
    except ValueError:
        raise NeutronError(400, "The request body is not JSON") from None
    inner = data.get(key) if isinstance(data, dict) and key else data
    if not isinstance(inner, dict):
        raise NeutronError(400, f"Missing '{key}' in the request body")
    return inner


def handle(sim: "Simulator", request: Request) -> Response:
    """Answer one request under PREFIX (errors as the provider's JSON error document)."""
    try:
        with sim.ovn.lock:
            if request.path.rstrip("/") == f"{IDENTITY}/tokens":
                return _tokens(sim, request)
            if request.path.startswith(NEUTRON + "/"):
                _authorize(sim, request)
                return _neutron(sim.ovn, request, request.path[len(NEUTRON) + 1:].strip("/").split("/"))
            raise NeutronError(404, f"Incorrect path: {request.path}")
    except NeutronError as error:
        return _json(error.body(), error.status)


def _tokens(sim: "Simulator", request: Request) -> Response:
    if request.method != "POST":
        raise NeutronError(405, f"Method not allowed: {request.method}")
    credentials = _body(request, "auth").get("passwordCredentials")
    if not isinstance(credentials, dict) or not {"username", "password"} <= credentials.keys():
        raise NeutronError(400, "'passwordCredentials' with 'username' and 'password' is required")
    user = sim.sessions.check_password(str(credentials["username"]), str(credentials["password"]))
    if user is None:
        raise NeutronError(401, "Failed to authenticate: the user name or password is incorrect")
    if not user.admin:
        raise NeutronError(403, "The user is not authorized to use the network provider")
    token = sim.sessions.issue(user)
    neutron = f"{request.host_url.rstrip('/')}{NEUTRON.removesuffix('/v2.0')}"
    return _json({"access": {"token": {"id": token, "expires": None},
                             "user": {"username": "admin", "roles_links": [], "id": "", "roles": [{"name": "admin"}],
                                      "name": "admin"},
                             "serviceCatalog": [{"type": "network", "name": "neutron", "endpoints_links": [],
                                                 "endpoints": [{"publicURL": neutron, "internalURL": neutron,
                                                                "adminURL": neutron, "region": "RegionOne",
                                                                "id": "00000000000000000000000000000002"}]}]}})


def _authorize(sim: "Simulator", request: Request) -> None:
    token = request.headers.get("X-Auth-Token", "")
    user = sim.sessions.resolve(token) if token else None
    if user is None:
        raise NeutronError(401, "The token is missing, unknown or expired")
    if not user.admin:
        raise NeutronError(403, "The user is not authorized to use the network provider")


def _neutron(state: OvnState, request: Request, parts: list[str]) -> Response:
    collection, rest = parts[0], parts[1:]
    if collection not in COLLECTIONS or len(rest) > 2:
        raise NeutronError(404, f"Incorrect path: {request.path}")
    attribute, key, add, delete = COLLECTIONS[collection]
    plural = PLURALS.get(collection, collection)
    view: Callable[[dict[str, Any]], dict[str, Any]] = (state.group_view if attribute == "groups" else dict)
    method = request.method
    if not rest:
        if method == "GET":
            found = [view(o) for o in getattr(state, attribute).values()]
            return _json({plural: [o for o in found if _matches(o, request.args)]})
        if method == "POST":
            return _json({key: getattr(state, add)(_body(request, key))}, 201)
    elif len(rest) == 1:
        if method == "GET":
            return _json({key: view(state.get(attribute, rest[0]))})
        if method == "DELETE":
            getattr(state, delete)(rest[0])
            return Response(status=204)
        if method == "PUT" and attribute == "ports":
            return _json({key: state.update_port(rest[0], _body(request, key))})
    elif attribute == "routers" and method == "PUT" and rest[1] in ("add_router_interface", "remove_router_interface"):
        change = state.add_router_interface if rest[1] == "add_router_interface" else state.remove_router_interface
        return _json(change(rest[0], _body(request, None)))
    raise NeutronError(405, f"Method not allowed: {method}")


def _matches(item: dict[str, Any], query: Any) -> bool:
    """Neutron's list filters: `?field=value` keeps items whose field equals one of the values given."""
    for name in query:
        if name in ("fields", "limit", "marker", "sort_key", "sort_dir") or name not in item:
            continue
        if str(item[name]) not in query.getlist(name):
            return False
    return True
