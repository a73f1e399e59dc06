"""One prediction path: what the product reads in a message, for the pipeline and the CLI.

normalise (nlu/normalize.py) → the model → entity offsets mapped back to the original
text → the location grown to the whole place as said (nlu/places.py). `linli nlu predict`
and the message pipeline both go through `reading()`, so a prediction is what the product
does (issue 14).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from nlu.client import Entity, ParseResult
from nlu.normalize import Normalized, normalize
from nlu.places import Place, find_place

Parse = Callable[[str], Awaitable[ParseResult]]


def reading(text: str, norm: Normalized, parsed: ParseResult) -> ParseResult:
    """The model's parse of the normalised text, as offsets and places of the original."""
    entities = []
    for ent in parsed.entities:
        start, end = norm.to_original(ent.start, ent.end)
        entities.append(Entity(ent.entity, ent.value, start, end))
    mapped = replace(parsed, text=text, entities=tuple(entities))
    return with_place(mapped, norm.text)


def with_place(parsed: ParseResult, normalized: str) -> ParseResult:
    """A parse in the original text's offsets with its location grown to the whole place.

    `normalized` is set on the result: a parse that carries it has been read this way, so
    its location entity is the place (place_of() need not look again).
    """
    text = parsed.text
    entities = list(parsed.entities)
    spans = [(e.start, e.end) for e in entities if e.entity == "location"]
    place = find_place(text, spans)
    if place is not None:
        others = [e for e in entities if e.entity != "location"]
        grown = Entity("location", place.plain or place.text, place.start, place.end)
        entities = sorted([*others, grown], key=lambda e: e.start)
    return replace(parsed, normalized=normalized, entities=tuple(entities))


def place_of(text: str, parsed: ParseResult | None) -> Place | None:
    """The place a message names: the grown location of a parse read by with_place(), else
    the address grammar on the text (a message NLU did not see, or a parse made elsewhere)."""
    if parsed is None or parsed.normalized is None or parsed.text != text:
        spans = (
            [(e.start, e.end) for e in parsed.entities if e.entity == "location"] if parsed else []
        )
        return find_place(text, spans)
    for ent in parsed.entities:
        if ent.entity == "location" and ent.end > ent.start:
            return Place(text[ent.start : ent.end], ent.start, ent.end, ent.value)
    return None


async def understand(parse: Parse, text: str) -> ParseResult | None:
    """Read one message the way the product does; None when nothing is left to read."""
    norm = normalize(text)
    if not norm.text:
        return None
    return reading(text, norm, await parse(norm.text))
