"""The OpenAPI 3.1 document of the admin API, built from the endpoints' declarations.

Item fields typed "string?" may be null; every error status an endpoint can answer is
listed (404 with a path id, 413 with a body, and what the declaration names), and a 200
is described in each media type the endpoint answers with.
"""

from __future__ import annotations

from typing import Any

from bot.web.api.spec import Endpoint, Param


def _property(json_type: str) -> dict[str, Any]:
    """A field's JSON schema: "integer", or "integer?" for a value that may be null."""
    if json_type.endswith("?"):
        return {"type": [json_type[:-1], "null"]}
    return {"type": json_type}


def _parameters(spec: Endpoint, paging: tuple[Param, ...]) -> list[dict[str, Any]]:
    params = (*spec.params, *(paging if spec.paged else ()))
    return [
        {
            "name": p.name,
            "in": "query",
            "description": p.description,
            "schema": {"type": p.type, **({"enum": list(p.enum)} if p.enum else {})},
        }
        for p in params
    ] + [
        {"name": part[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
        for part in spec.path.split("/")
        if part.startswith("{")
    ]


def _responses(spec: Endpoint) -> dict[str, Any]:
    """200 in each media type the endpoint answers with, and every error status it can give."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {k: _property(v) for k, v in spec.item.items()},
    }
    if spec.paged:
        schema = {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": schema},
                "next": {"type": ["string", "null"]},
            },
        }
    structured = ("application/json", "text/yaml")  # the item fields describe these
    content = {
        media: {"schema": schema if media in structured else {"type": "string"}}
        for media in spec.media
    }
    statuses = {400, 401, 403, *spec.errors}
    if "{" in spec.path:
        statuses.add(404)
    if spec.body is not None:
        statuses.add(413)
    if spec.public:
        statuses.discard(403)
    error_ref = {"$ref": "#/components/responses/Error"}
    return {"200": {"description": "OK", "content": content}} | {
        str(status): error_ref for status in sorted(statuses)
    }


def openapi(specs: list[Endpoint], paging: tuple[Param, ...]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the declared endpoints."""
    paths: dict[str, Any] = {}
    for spec in specs:
        op: dict[str, Any] = {
            "summary": spec.summary,
            "description": "roles: " + ", ".join(spec.roles) if not spec.public else "public",
            "parameters": _parameters(spec, paging),
            "responses": _responses(spec),
        }
        if not spec.public:
            op["security"] = [{"bearer": []}]
        if spec.body is not None:
            props = {k: {"type": v} for k, v in spec.body.items()}
            op["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"type": "object", "properties": props}}
                },
            }
        paths.setdefault(spec.path, {})[spec.method.lower()] = op
    error_schema = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Linli admin API", "version": "1"},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Error": {
                    "description": "error",
                    "content": {"application/json": {"schema": error_schema}},
                }
            },
        },
    }
