"""The judge: what the product did, read only through the admin API, checked against `expect`.

Each scenario runs in a database of its own in which only its resident writes, so every
ticket, booking, order and wish created during the run, and every conversation with an
inbound message, is this resident's (records the seed already held are taken apart at the
start and left out). What is read, all with the bootstrap admin token:

- tickets: GET /api/tickets, then GET /api/tickets/{number} for the description and the
  history (each event's note: the follow-up details added to it);
- bookings: GET /api/bookings (station, title, start in local time, status);
- home-care orders: GET /api/orders (the elder's name comes masked, 赵**: it is compared
  masked, and the seeded roster is checked to have no two elders masked alike);
- wishes: GET /api/wishes;
- the conversation: GET /api/messages?direction=in finds the resident's conversations,
  GET /api/conversations their handed_off flag, GET /api/conversations/{id}/messages the
  transcript with each message's recorded `action` (the pipeline writes the turn's action
  on the inbound message and on every reply of that turn).

A turn "got the fallback" when its inbound message or one of the replies that followed it
carries one of FALLBACK_ACTIONS; an FAQ key was answered when some message carries the
action `faq:<key>`. Reply wording is never read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp.test_utils import TestClient

from storage.privacy import mask_name
from tests.scenarios.format import Scenario

# Actions (messages.action) of a turn the bot did not understand:
#   menu                  the "抱歉，我没太明白您的意思" numbered menu (handlers/menu.py)
#   handoff_misunderstood the third misunderstanding in a row, handed to staff (handoff.py)
#   ask_again             a flow's question repeated because the answer was not understood
#                         (handlers/dialogue.ASKED_AGAIN)
#   *_abandoned           a flow giving up after repeated misunderstandings ("这次先不约了")
FALLBACK_ACTIONS = frozenset(
    {
        "menu",
        "handoff_misunderstood",
        "ask_again",
        "report_abandoned",
        "booking_abandoned",
        "home_care_abandoned",
        "disability_abandoned",
    }
)
FAQ_ACTION = "faq:"


class JudgeError(Exception):
    """The admin API did not answer as documented (a harness problem, not a verdict)."""


class AdminAPI:
    """GET requests to the app's admin API with a bearer token."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    async def get(self, path: str, **params: str) -> Any:
        """One JSON answer; a non-200 is a JudgeError."""
        resp = await self.client.get(path, params=params, headers=self.headers)
        if resp.status != 200:
            raise JudgeError(f"GET {path} {params}: {resp.status} {await resp.text()}")
        return await resp.json()

    async def items(self, path: str, **params: str) -> list[dict[str, Any]]:
        """Every item of a paged list, following the cursor."""
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = await self.get(
                path, limit="100", **params, **({"cursor": cursor} if cursor else {})
            )
            found += page["items"]
            cursor = page.get("next")
            if not cursor:
                return found


@dataclass
class Baseline:
    """Ids of the records the seeded community held before the resident wrote."""

    tickets: set[str] = field(default_factory=set)
    bookings: set[int] = field(default_factory=set)
    orders: set[int] = field(default_factory=set)
    wishes: set[int] = field(default_factory=set)


@dataclass
class Turn:
    """What one sent message came to: its inbound record and the replies that followed."""

    text: str
    intent: str | None
    action: str | None
    replies: list[dict[str, Any]]

    @property
    def actions(self) -> list[str]:
        """The turn's action and its replies' actions (usually all the same)."""
        return [a for a in [self.action, *(r.get("action") for r in self.replies)] if a]


@dataclass
class Observed:
    """Everything the judge read about one scenario's resident at the end."""

    tickets: list[dict[str, Any]]
    bookings: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    wishes: list[dict[str, Any]]
    turns: list[Turn]
    handed_off: bool

    def transcript(self) -> list[str]:
        """Resident and bot lines with intents and actions, for reading a failure."""
        lines = []
        for number, turn in enumerate(self.turns, 1):
            lines.append(f"{number}. 居民 > {turn.text}   [{turn.intent} → {turn.action}]")
            lines += [f"     邻里 > {r.get('text', '')}" for r in turn.replies]
        return lines


async def baseline(api: AdminAPI) -> Baseline:
    """The records present before the first message (the seed's, if it ever has any)."""
    return Baseline(
        tickets={t["number"] for t in await api.items("/api/tickets")},
        bookings={b["id"] for b in await api.items("/api/bookings")},
        orders={o["id"] for o in await api.items("/api/orders")},
        wishes={w["id"] for w in await api.items("/api/wishes")},
    )


async def observe(api: AdminAPI, before: Baseline) -> Observed:
    """Read what the product did for this scenario's resident."""
    tickets = []
    for item in reversed(await api.items("/api/tickets")):  # oldest first
        if item["number"] not in before.tickets:
            tickets.append(await api.get(f"/api/tickets/{item['number']}"))
    bookings = [b for b in await api.items("/api/bookings") if b["id"] not in before.bookings]
    orders = [o for o in await api.items("/api/orders") if o["id"] not in before.orders]
    wishes = [w for w in await api.items("/api/wishes") if w["id"] not in before.wishes]
    inbound = await api.items("/api/messages", direction="in", reveal="true")
    ids = sorted({m["conversation_id"] for m in inbound})
    messages: list[dict[str, Any]] = []
    for conversation in ids:
        messages += await api.items(f"/api/conversations/{conversation}/messages", reveal="true")
    conversations = await api.items("/api/conversations")
    handed_off = any(c["handed_off"] for c in conversations if c["id"] in ids)
    turns: list[Turn] = []
    for message in sorted(messages, key=lambda m: m["id"]):
        if message["direction"] == "in":
            turns.append(Turn(message["text"], message["intent"], message["action"], []))
        elif turns:
            turns[-1].replies.append(message)
    return Observed(
        tickets=tickets,
        bookings=list(reversed(bookings)),
        orders=list(reversed(orders)),
        wishes=list(reversed(wishes)),
        turns=turns,
        handed_off=handed_off,
    )


Check = Callable[[dict[str, Any], dict[str, Any]], list[str]]


def _has(what: str, held: str | None, wanted: Sequence[Any]) -> list[str]:
    text = held or ""
    return [f"{what} {text!r} lacks {str(w)!r}" for w in wanted if str(w) not in text]


def _has_not(what: str, held: str | None, unwanted: Sequence[Any]) -> list[str]:
    text = held or ""
    return [f"{what} {text!r} holds {str(w)!r}" for w in unwanted if str(w) in text]


def ticket_problems(spec: dict[str, Any], ticket: dict[str, Any]) -> list[str]:
    """What keeps a ticket from being the expected one (empty: it is)."""
    problems = []
    if "category" in spec and ticket["category"] != spec["category"]:
        problems.append(f"category {ticket['category']} (expected {spec['category']})")
    problems += _has("location", ticket.get("location"), spec.get("location_has", []))
    problems += _has_not("location", ticket.get("location"), spec.get("location_not_has", []))
    notes = [ticket.get("description") or ""] + [e.get("note") or "" for e in ticket["events"]]
    details = " | ".join(n for n in notes if n)
    problems += [
        f"details lack {str(w)!r} (description and notes: {details!r})"
        for w in spec.get("details_has", [])
        if str(w) not in details
    ]
    if "urgent" in spec and bool(ticket.get("urgent")) != spec["urgent"]:
        problems.append(f"urgent is {ticket.get('urgent')} (expected {spec['urgent']})")
    if ticket["status"] in spec.get("status_not", []):
        problems.append(f"status is {ticket['status']}")
    return problems


def part_of_day(moment: datetime) -> str:
    """FORMAT.md: morning before 12:00, afternoon 12:00–18:00, evening after."""
    return "morning" if moment.hour < 12 else "afternoon" if moment.hour < 18 else "evening"


def booking_problems(spec: dict[str, Any], booking: dict[str, Any]) -> list[str]:
    """What keeps a booking from being the expected one (empty: it is)."""
    problems = []
    starts = datetime.fromisoformat(booking["starts_at"])  # local time (Asia/Shanghai)
    if "kind" in spec and booking["kind"] != spec["kind"]:
        problems.append(f"kind {booking['kind']} (expected {spec['kind']})")
    if "station_has" in spec:
        problems += _has("station", booking["station"], [spec["station_has"]])
    if "activity_has" in spec:
        problems += _has("activity", booking["title"], [spec["activity_has"]])
    if "service_has" in spec:
        problems += _has("service", booking["title"], [spec["service_has"]])
    if "weekday" in spec and starts.isoweekday() != spec["weekday"]:
        problems.append(
            f"weekday {starts.isoweekday()} ({starts:%m-%d %H:%M}, expected {spec['weekday']})"
        )
    if "part_of_day" in spec and part_of_day(starts) != spec["part_of_day"]:
        problems.append(f"{part_of_day(starts)} ({starts:%H:%M}, expected {spec['part_of_day']})")
    if "status" in spec and booking["status"] != spec["status"]:
        problems.append(f"status {booking['status']} (expected {spec['status']})")
    return problems


def order_problems(spec: dict[str, Any], order: dict[str, Any]) -> list[str]:
    """What keeps a home-care order from being the expected one (names compared masked)."""
    problems = []
    if "elder" in spec and order["elder"] != mask_name(spec["elder"]):
        problems.append(
            f"elder {order['elder']} (expected {spec['elder']}, {mask_name(spec['elder'])})"
        )
    if "service_has" in spec:
        problems += _has("service", order["service_item"], [spec["service_has"]])
    return problems


def wish_problems(spec: dict[str, Any], wish: dict[str, Any]) -> list[str]:
    """What keeps a wish from being the expected one.

    text_has is looked for in the wish's text; text_not_has in everything the public list
    shows of it (the text, for whom, by when).
    """
    public = " / ".join(str(wish.get(k) or "") for k in ("wish", "for_whom", "due"))
    return _has("wish", wish["wish"], spec.get("text_has", [])) + _has_not(
        "public text", public, spec.get("text_not_has", [])
    )


def _match(
    specs: list[dict[str, Any]], records: list[dict[str, Any]], check: Check
) -> dict[int, int]:
    """A largest pairing expected → record with no problems (augmenting paths)."""
    fits = [[r for r, record in enumerate(records) if not check(spec, record)] for spec in specs]
    owner: dict[int, int] = {}

    def place(s: int, seen: set[int]) -> bool:
        for r in fits[s]:
            if r in seen:
                continue
            seen.add(r)
            if r not in owner or place(owner[r], seen):
                owner[r] = s
                return True
        return False

    for s in range(len(specs)):
        place(s, set())
    return {s: r for r, s in owner.items()}


def compare(
    kind: str,
    specs: list[dict[str, Any]],
    records: list[dict[str, Any]],
    check: Check,
    label: Callable[[dict[str, Any]], str],
) -> list[str]:
    """FORMAT.md's lists are the records at the end: each expected one matched, none extra."""
    pairs = _match(specs, records, check)
    taken = set(pairs.values())
    spare = [r for r in range(len(records)) if r not in taken]
    failures = []
    for s, spec in enumerate(specs):
        if s in pairs:
            continue
        wanted = ", ".join(f"{k}={v}" for k, v in spec.items())
        pool = spare or list(range(len(records)))
        if not pool:
            failures.append(f"{kind}: expected {{{wanted}}}, there is none")
            continue
        nearest = min(pool, key=lambda r: len(check(spec, records[r])))
        if nearest in spare:
            spare.remove(nearest)
        why = "; ".join(check(spec, records[nearest]))
        failures.append(f"{kind}: expected {{{wanted}}}; {label(records[nearest])}: {why}")
    failures += [f"{kind}: unexpected {label(records[r])}" for r in spare]
    return failures


def _ticket_label(t: dict[str, Any]) -> str:
    return f"ticket {t['number']} [{t['category']}] at {t.get('location')!r}"


def _booking_label(b: dict[str, Any]) -> str:
    return f"{b['kind']} {b.get('number')} {b['title']}@{b['station']} {b['starts_at'][:16]} {b['status']}"


def _order_label(o: dict[str, Any]) -> str:
    return f"order {o['number']} {o['service_item']} for {o['elder']}"


def _wish_label(w: dict[str, Any]) -> str:
    return f"wish {w.get('number')} {w['wish']!r} for {w.get('for_whom')!r} by {w.get('due')!r}"


def judge(scenario: Scenario, seen: Observed) -> list[str]:
    """One line per expectation of the scenario the product did not meet (empty: passed)."""
    expect = scenario.expect
    failures: list[str] = []
    lists = (
        ("tickets", seen.tickets, ticket_problems, _ticket_label),
        ("bookings", seen.bookings, booking_problems, _booking_label),
        ("orders", seen.orders, order_problems, _order_label),
        ("wishes", seen.wishes, wish_problems, _wish_label),
    )
    for key, records, check, label in lists:
        if key in expect:
            failures += compare(key, expect[key], records, check, label)
    if "handoff" in expect and seen.handed_off != expect["handoff"]:
        state = "handed to a person" if seen.handed_off else "not handed to a person"
        failures.append(f"handoff: expected {expect['handoff']}, the conversation is {state}")
    if not scenario.fallback_allowed:
        for number, turn in enumerate(seen.turns, 1):
            hit = [a for a in turn.actions if a in FALLBACK_ACTIONS]
            if hit:
                failures.append(f"fallback: turn {number} {turn.text!r} got {hit[0]}")
    answered = {
        a[len(FAQ_ACTION) :] for t in seen.turns for a in t.actions if a.startswith(FAQ_ACTION)
    }
    for key in expect.get("faq", []):
        if key not in answered:
            failures.append(f"faq: {key} never answered (answered: {sorted(answered) or 'none'})")
    return failures
