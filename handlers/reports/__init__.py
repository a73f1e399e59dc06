"""Problem reports (street lights, rubbish, roads, water, noise, gas, neighbour disputes)."""

from handlers.reports.form import FORMS, GAS_ADVICE, REPORT_INTENTS

__all__ = ["FORMS", "GAS_ADVICE", "REPORT_INTENTS"]
