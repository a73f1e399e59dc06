"""WeCom's errcodes, and what each means for a send: refresh the token, wait, or give up."""

from __future__ import annotations

TOKEN_ERRORS = frozenset({40014, 42001, 42009})
RATE_LIMITED = frozenset({45009, 45033})
# invalid userid / agentid, empty content, member not found, no valid recipient, no permission
PERMANENT = frozenset({40003, 40056, 44004, 60111, 81013, 82001})
