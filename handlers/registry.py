"""Handlers registered by intent: the decorator only attaches metadata; a registry maps names."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from types import ModuleType
from typing import Any

from handlers.commands import command_verbs
from handlers.context import Context
from handlers.engine.forms import Form
from handlers.engine.runner import Engine

Handler = Callable[[Context], Awaitable[bool | None]]
_ATTR = "__linli_intents__"


def intent(*names: str) -> Callable[[Handler], Handler]:
    """Mark a handler as answering the given intents (no global side effects)."""

    def mark(func: Handler) -> Handler:
        setattr(func, _ATTR, (*getattr(func, _ATTR, ()), *names))
        return func

    return mark


class Registry:
    """Maps intent names to handlers collected from handler modules."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._forms: list[Form] = []
        self._engine: Engine | None = None

    def add_module(self, module: ModuleType) -> None:
        """Register every marked function of a module, and the forms it declares (FORMS)."""
        for value in vars(module).values():
            for name in getattr(value, _ATTR, ()):
                self.add(name, value)
        for form in getattr(module, "FORMS", ()):
            self.add_form(form)

    def add_form(self, form: Form) -> None:
        """Register a service's form with the engine."""
        self._forms.append(form)
        self._engine = None

    @property
    def engine(self) -> Engine:
        """The conversation engine running every registered form."""
        if self._engine is None:
            self._engine = Engine(self._forms)
        return self._engine

    def add(self, name: str, handler: Handler) -> None:
        """Register one handler; a name may only be taken once."""
        if name in self._handlers:
            raise ValueError(f"intent {name!r} already has a handler")
        self._handlers[name] = handler

    def get(self, name: str | None) -> Handler | None:
        """Return the handler of an intent, if any."""
        return self._handlers.get(name) if name else None

    def names(self) -> Iterable[str]:
        """Every registered intent name."""
        return self._handlers.keys()

    def command_verbs(self) -> list[str]:
        """The verbs of registered chat commands (cmd:<verb>), longest first."""
        return command_verbs(self._handlers)


def flow_handler(state: dict[str, Any]) -> str | None:
    """The name of the flow waiting for an answer in this state, if any."""
    flow = state.get("flow")
    return f"flow:{flow}" if isinstance(flow, str) else None
