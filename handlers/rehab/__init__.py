"""Rehab booking at 吉康之家 stations, and changing bookings (cancel, move, attendance, reminders).

form.py declares the booking (station, time, session, for whom); changes.py the change
of a booking (which one, cancel or move, the new session); commands.py the chat commands
(取消预约 / 改约 / 签到 / 缺席); followups.py what is said about the booking just made;
reminders.py the day-before reminder; status.py the lines of 查询.
"""

from handlers.rehab.changes import CHANGE_FORM
from handlers.rehab.commands import (
    cancel_command,
    mark_attended,
    mark_no_show,
    reschedule_command,
)
from handlers.rehab.followups import take_booking_follow_up
from handlers.rehab.form import REHAB
from handlers.rehab.reminders import remind_bookings
from handlers.rehab.status import status_line_of, status_lines

FORMS = (REHAB, CHANGE_FORM)

__all__ = [
    "FORMS",
    "cancel_command",
    "mark_attended",
    "mark_no_show",
    "remind_bookings",
    "reschedule_command",
    "status_line_of",
    "status_lines",
    "take_booking_follow_up",
]
