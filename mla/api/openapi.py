"""The OpenAPI 3.1 document, generated from the declared operations and their pydantic
models, and a browsable docs page whose assets are vendored (no CDN, no inline script)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Response, json, send_from_directory, url_for
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from mla.api import schemas as s
from mla.api.problems import PROBLEM_JSON
from mla.api.routing import OPERATIONS, Operation
from mla.api.views import bp

VENDOR = Path(__file__).resolve().parent.parent / "web" / "static" / "vendor" / "swagger-ui"
DOCS = Path(__file__).resolve().parent / "static"
REF = "#/components/schemas/{model}"

# Problems any authenticated operation may answer, beside its own.
_COMMON = {
    401: "missing, unknown, expired or revoked token",
    403: "the token's scope or the caller's party or role does not allow it",
    404: "no such resource the caller's authority is party to",
    429: "rate limit exceeded; see Retry-After",
    500: "server error (logged; no detail given)",
}
_BODY = {
    400: "malformed JSON",
    413: "body too large",
    415: "body is not application/json",
    422: "invalid, missing or unknown fields, named in errors",
}
_WRITE = {409: "not possible now (with the reason), or the request changed meanwhile"}


def _schemas() -> tuple[dict[tuple[type[BaseModel], str], Any], dict[str, Any]]:
    models: list[tuple[type[BaseModel], Any]] = [(s.Problem, "serialization")]
    for op in OPERATIONS:
        if op.body is not None:
            models.append((op.body, "validation"))
        for model in op.responses.values():
            if isinstance(model, type):
                models.append((model, "serialization"))
    unique = list(dict.fromkeys(models))
    refs, defs = models_json_schema(unique, ref_template=REF)
    return refs, defs.get("$defs", {})  # type: ignore[return-value]


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"\{(\w+)\}", op.path)
    ]
    if op.query is not None:
        schema = op.query.model_json_schema()
        for name, prop in schema.get("properties", {}).items():
            prop = dict(prop)
            description = prop.pop("description", None)
            param: dict[str, Any] = {"name": name, "in": "query", "required": False}
            param["schema"] = prop
            if description:
                param["description"] = description
            params.append(param)
    for name, description in op.headers:
        params.append(
            {
                "name": name,
                "in": "header",
                "required": False,
                "description": description,
                "schema": {"type": "string"},
            }
        )
    return params


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": REF.format(model="Problem")}}},
    }


def _operation(op: Operation, refs: dict[tuple[type[BaseModel], str], Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": _parameters(op),
        "responses": {},
    }
    if op.description:
        doc["description"] = op.description
    if not op.auth:
        doc["security"] = []
    if op.body is not None:
        content: dict[str, Any] = {"schema": refs[(op.body, "validation")]}
        if op.examples:
            content["examples"] = op.examples
        doc["requestBody"] = {"required": True, "content": {"application/json": content}}
    if op.multipart:
        doc["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    headers = {
        name: {"description": text, "schema": {"type": "string"}}
        for name, text in op.response_headers.items()
    }
    for code, model in op.responses.items():
        response: dict[str, Any] = {"description": "success" if code < 300 else "not modified"}
        if isinstance(model, type):
            response["content"] = {"application/json": {"schema": refs[(model, "serialization")]}}
        elif model == "binary":
            # The media type sniffed from the evidence at upload, whatever it is.
            response["content"] = {"*/*": {"schema": {"type": "string", "format": "binary"}}}
        if headers and code < 400:
            response["headers"] = headers
        doc["responses"][str(code)] = response
    problems: dict[int, str] = {}
    if op.auth:
        problems |= _COMMON
    else:
        problems[500] = _COMMON[500]
    if op.body is not None or op.multipart:
        problems |= _BODY
    if op.query is not None or op.headers:
        problems[422] = "invalid query parameter or header, named in errors"
    if op.method != "get":
        problems |= _WRITE
    for code, text in sorted(problems.items()):
        doc["responses"][str(code)] = _problem(text)
    return doc


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every registered operation."""
    refs, defs = _schemas()
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mla status API",
            "version": "1",
            "description": (
                "For requesting states' case systems: where each request stands (Palermo "
                "18.24), submitting and answering requests. Errors are RFC 9457 problem "
                "details. A caller sees only requests its authority is party to; any other "
                "reference is 404."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a token from `mla tokens create CODE`",
                }
            },
        },
    }


_cached: dict[str, bytes] = {}


@bp.get("/openapi.json")
def openapi_json() -> Response:
    if "doc" not in _cached:
        _cached["doc"] = json.dumps(document()).encode()
    return Response(_cached["doc"], mimetype="application/json")


@bp.get("/docs")
def docs() -> Response:
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mla status API</title>
<link rel="stylesheet" href="{url_for(".docs_asset", name="swagger-ui.css")}">
</head><body><div id="swagger-ui" data-spec="{url_for(".openapi_json")}"></div>
<script src="{url_for(".docs_asset", name="swagger-ui-bundle.js")}"></script>
<script src="{url_for(".docs_asset", name="docs-init.js")}"></script>
</body></html>"""
    # The application's security headers (mla.web.security) fit it: own scripts only.
    return Response(html, mimetype="text/html")


_ASSETS = {
    "swagger-ui.css": VENDOR,
    "swagger-ui-bundle.js": VENDOR,
    "docs-init.js": DOCS,
}


@bp.get("/docs/assets/<name>")
def docs_asset(name: str) -> Response:
    folder = _ASSETS.get(name)
    if folder is None:
        from werkzeug.exceptions import NotFound

        raise NotFound(f"no asset {name}")
    return send_from_directory(folder, name, max_age=3600)
