"""The client's address: X-Forwarded-For counts only when a configured trusted proxy sent it.

aiohttp-remotes' strict mode wants a fixed chain of proxies and refuses (400) a request
from any other peer, which would shut out direct callers such as a health check; here an
untrusted peer is simply the client, and a trusted one is looked through.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web
from pydantic import IPvAnyNetwork

from bot.runtime import SETTINGS

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, proxies: Sequence[IPvAnyNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def forwarded_client(
    peer: str | None, forwarded_for: Sequence[str], proxies: Sequence[IPvAnyNetwork]
) -> str:
    """The client behind the chain: the last address no trusted proxy vouches for.

    From the peer leftwards through X-Forwarded-For, every hop that is a trusted proxy
    tells who connected to it; the first hop that is not one is the client. A malformed
    entry stops the walk at the proxy that passed it on, so it cannot name a client.
    """
    current = _address(peer or "")
    if current is None:
        return peer or "?"
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    while _trusted(current, proxies) and hops:
        previous = _address(hops.pop())
        if previous is None:
            break
        current = previous
    return str(current)


def client_address(request: web.Request) -> str:
    """Who is calling, for per-client limits and the audit log."""
    proxies = request.app[SETTINGS].trusted_proxies
    if not proxies:
        return request.remote or "?"
    return forwarded_client(request.remote, request.headers.getall("X-Forwarded-For", []), proxies)
