"""The OpenAPI 3.1 document and a reference page made from it (our own template: no CDN, no script).

Both are public: they describe the API's shape, never its data. A plain Flask blueprint, so they are
not themselves operations of the spec.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from ..access import public
from .errors import PROBLEM_TYPES
from .setup import current_api

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")

METHODS = ("get", "post", "put", "patch", "delete")


def spec_dict() -> dict:
    return current_api().spec.to_dict()


@bp.get("/openapi.json")
@public
def openapi_json():
    return jsonify(spec_dict())


def operations(spec: dict) -> list[dict]:
    """The operations in path order, each with its method, path and the parts the page shows."""
    found = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                found.append({"method": method.upper(), "path": path, "id": f"{method}-{path}".replace("/", "-"),
                              "tag": (operation.get("tags") or ["other"])[0], **operation,
                              "parameters": [*item.get("parameters", []), *operation.get("parameters", [])]})
    return found


@bp.get("/reference")
@public
def reference():
    spec = spec_dict()
    return render_template("api/reference.html", spec=spec, operations=operations(spec),
                           problems=PROBLEM_TYPES)
