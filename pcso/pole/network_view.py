"""A network as the page and the JSON endpoint show it: labels, links, the audit of what was shown."""
from __future__ import annotations

from flask import current_app, url_for

from .. import audit
from ..models import LinkRole, User
from ..timeutil import format_london
from .network import Edge, Key, Network, Node

PROFILES = {"person": ("pole.person", "person_id"), "vehicle": ("pole.vehicle", "vehicle_id"),
            "location": ("pole.location", "location_id"), "organisation": ("places.organisation", "organisation_id")}
NETWORKS = {"person": ("network.person", "person_id"), "vehicle": ("network.vehicle", "vehicle_id"),
            "location": ("network.location", "location_id"),
            "organisation": ("network.organisation", "organisation_id")}
ROLES = list(LinkRole)
NOUNS = {"person": "Person", "vehicle": "Vehicle", "location": "Place", "organisation": "Organisation"}


def node_id(key: Key) -> str:
    return f"{key[0]}-{key[1]}"


def label(record) -> str:
    kind = type(record).__tablename__
    if kind == "person":
        return record.full_name
    if kind == "vehicle":
        return record.vrm
    if kind == "location":
        return record.address
    return record.name


def _url(table: dict, key: Key, **args) -> str | None:
    """A route for the record, when the app has one."""
    endpoint, argument = table[key[0]]
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **{argument: key[1]}, **args)


def profile_url(key: Key) -> str | None:
    return _url(PROFILES, key)


def network_url(network: Network) -> str | None:
    return _url(NETWORKS, network.root.key, **network.filters.as_args())


def roles_text(network: Network, roles: dict[Key, list]) -> str:
    """'Dale Wrigley: suspect; MX65TKZ: mentioned'."""
    names = {node.key: label(node.record) for node in network.nodes}
    return "; ".join(f"{names.get(key, node_id(key))}: {', '.join(role.value for role in found)}"
                     for key, found in roles.items())


def other_end(edge: Edge, key: Key) -> Key:
    return edge.target if edge.source == key else edge.source


def _node(node: Node) -> dict:
    return {"id": node_id(node.key), "kind": node.key[0], "noun": NOUNS[node.key[0]], "record_id": node.key[1],
            "label": label(node.record), "step": node.step, "url": profile_url(node.key)}


def _edge(network: Network, edge: Edge) -> dict:
    return {
        "id": f"{node_id(edge.source)}~{node_id(edge.target)}", "source": node_id(edge.source),
        "target": node_id(edge.target), "count": edge.count, "more_entries": edge.count - len(edge.entries),
        "entries": [{"id": item.id, "kind": item.kind.value, "kind_label": item.kind.label,
                     "occurred_at": item.occurred_at.isoformat(), "date": format_london(item.occurred_at, "%d %b %Y"),
                     "url": url_for("entries.detail", entry_id=item.id),
                     "roles": {node_id(key): [role.value for role in roles] for key, roles in item.roles.items()},
                     "roles_text": roles_text(network, item.roles)}
                    for item in edge.entries],
    }


def network_json(network: Network) -> dict:
    return {"root": node_id(network.root.key), "nodes": [_node(node) for node in network.nodes],
            "edges": [_edge(network, edge) for edge in network.edges],
            "filters": network.filters.as_args(), "capped": network.is_capped, "limits": network.limits}


def record_network_shown(network: Network, *, actor: User) -> None:
    """The network is a consultation of every record drawn and every entry listed on its edges (joined=true:
    it joins records through entries)."""
    audit.consulted(network.root.record, actor=actor, network=True, joined=True,
                    network_nodes=len(network.nodes), network_edges=len(network.edges),
                    network_capped=network.is_capped, **{f"network_{k}": v for k, v in network.filters.as_args().items()})
    audit.consulted([node.record for node in network.nodes], actor=actor)
    audit.consulted(network.entry_ids(), actor=actor, object_type="entry")
