"""Community activities (义诊, classes, festival events): sign-up as a form, and what follows.

Sign-ups are bookings of kind activity (number Y…): capacity is enforced like rehab
sessions, they are reminded the day before by the booking reminder job, and they are
cancelled right after the sign-up by saying so (follow.py) or with 取消预约 Y1001.
"""

from handlers.activities.follow import take_sign_up_follow_up
from handlers.activities.form import FORMS

__all__ = ["FORMS", "take_sign_up_follow_up"]
