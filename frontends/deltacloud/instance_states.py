"""`/api/instance_states`: the instance state machine (gateway.lifecycle) as Deltacloud shows it."""
from __future__ import annotations

from flask import Response
from lxml import etree

from . import respond
from .blueprint import bp
from .states import machine


@bp.route("/instance_states", methods=["GET"])
def instance_states() -> Response:
    """XML `<states><state name><transition to action|auto/>`; JSON `[{name, transitions: [{to, action|auto}]}]`."""
    root = etree.Element("states")
    listing = []
    for name, transitions in machine():
        element = etree.SubElement(root, "state", {"name": name})
        edges = []
        for t in transitions:
            edge = {"to": t.to, "auto": "true"} if t.action is None else {"to": t.to, "action": t.action}
            etree.SubElement(element, "transition", edge)
            edges.append(edge)
        listing.append({"name": name, "transitions": edges})
    return respond.document(root, listing)
