"""Complaints (投诉): what happened, as said, to staff as a complaint ticket."""

from handlers.complaints.form import COMPLAINT

FORMS = (COMPLAINT,)

__all__ = ["FORMS"]
