"""The domain's errors: what every action of staff, workers, providers and volunteers may raise.

The web layer maps them once to HTTP (bot/responses.py), the chat handlers once to replies.
"""

from __future__ import annotations


class DomainError(Exception):
    """An action that cannot be done as asked; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The thing acted on does not exist, or not for this caller."""


class NotAllowed(DomainError):
    """The caller may not do this."""


class Invalid(DomainError):
    """One field of the request is wrong; the reason names what is expected."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


class Conflict(DomainError):
    """The thing is not at a step where the action fits; code names the step for the API."""

    def __init__(self, message: str, code: str = "conflict") -> None:
        super().__init__(message)
        self.code = code
