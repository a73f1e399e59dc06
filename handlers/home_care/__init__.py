"""Home care for the elderly (政府购买居家养老服务): the request form, the orders, the commands.

form.py declares the request (whom it is for first; then the visit for an elder on the
roster, or what staff need to assess someone new); filing.py ends it (an order, a
referral when the month's hours are used up, an assessment ticket); commands.py holds the
providers' and staff's chat commands (抢单/上门/完工/回访) and the residents' 取消订单;
followups.py takes what a resident says about the order just made.
"""

from handlers.home_care.commands import (
    arrive,
    call_back,
    cancel,
    claim,
    finish,
    order_status_line,
    status_lines,
)
from handlers.home_care.followups import take_order_follow_up
from handlers.home_care.form import FORM, FORMS

__all__ = [
    "FORM",
    "FORMS",
    "arrive",
    "call_back",
    "cancel",
    "claim",
    "finish",
    "order_status_line",
    "status_lines",
    "take_order_follow_up",
]
