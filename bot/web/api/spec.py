"""What an API endpoint declares: its query parameters and its metadata (roles, fields, errors).

`@endpoint` (core.py) attaches an Endpoint to a handler; core.py registers the routes from it
and openapi.py builds the OpenAPI document from the same declarations.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Param:
    """A query parameter, for validation messages and the OpenAPI document."""

    name: str
    description: str
    type: str = "string"
    enum: tuple[str, ...] = ()


@dataclass(frozen=True)
class Endpoint:
    """One API operation's metadata."""

    method: str
    path: str
    summary: str
    roles: tuple[str, ...]
    params: tuple[Param, ...] = ()
    item: dict[str, str] = field(default_factory=dict)  # field → JSON type ("string?": or null)
    body: dict[str, str] | None = None
    paged: bool = False
    public: bool = False
    errors: tuple[int, ...] = ()  # statuses besides 400/401/403 (404 with a path id, 413 bodies)
    media: tuple[str, ...] = ("application/json",)  # what a 200 answers with
