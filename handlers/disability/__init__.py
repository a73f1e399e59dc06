"""Disability services: certificate, assistive device, home accessibility, employment help.

Four forms on the conversation engine sharing their slots (handlers/disability/form.py):
for whom, what exactly, the home, a contact phone; confirmed, then a service ticket for
staff with the details and the next steps told to the resident.
"""

from handlers.disability.form import FORMS

__all__ = ["FORMS"]
