"""Backtracking steps of a regular expression, counted by PCRE2 with its shortcuts off.

Python's `re` is a backtracking engine like PCRE2 and explores a pattern in the same order,
but it reports no step count. PCRE2 does: its match limit caps the backtracking points one
match attempt at one start position may create, and `pcre2_match` fails with
PCRE2_ERROR_MATCHLIMIT past it. With auto-possessification and the start-up optimisations
off, PCRE2 does the work a plain backtracking engine does, so the smallest limit a scan gets
through is the most work any one start position costs. A pattern is linear in the text when
that number does not grow with the text (a `search`, `sub` or `findall` tries each start
position once); a pattern that backtracks over a whole run (`\\s*x` on 20,000 spaces) needs a
limit as long as the run, which makes the scan quadratic. The system's libpcre2-8 is used
through ctypes (the PyPI bindings do not expose the match limit).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re
from functools import cache

_UTF = 0x00080000
_UCP = 0x00020000
_CASELESS = 0x00000008
_DOTALL = 0x00000020
_MULTILINE = 0x00000400
_EXTENDED = 0x00000080
_NO_AUTO_POSSESS = 0x00004000  # pcre2.h (0x2000 is PCRE2_NO_AUTO_CAPTURE)
_NO_DOTSTAR_ANCHOR = 0x00008000
_NO_START_OPTIMIZE = 0x00010000
_ERROR_MATCHLIMIT = -47
_P = ctypes.c_void_p


@cache
def _library() -> ctypes.CDLL:
    lib = ctypes.CDLL(ctypes.util.find_library("pcre2-8") or "libpcre2-8.so.0")
    lib.pcre2_compile_8.restype = _P
    lib.pcre2_compile_8.argtypes = [
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_uint32,
        ctypes.POINTER(ctypes.c_int),
        ctypes.POINTER(ctypes.c_size_t),
        _P,
    ]
    lib.pcre2_match_data_create_from_pattern_8.restype = _P
    lib.pcre2_match_data_create_from_pattern_8.argtypes = [_P, _P]
    lib.pcre2_match_data_free_8.argtypes = [_P]
    lib.pcre2_match_context_create_8.restype = _P
    lib.pcre2_match_context_create_8.argtypes = [_P]
    lib.pcre2_match_context_free_8.argtypes = [_P]
    lib.pcre2_set_match_limit_8.argtypes = [_P, ctypes.c_uint32]
    lib.pcre2_match_8.argtypes = [
        _P,
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_size_t,
        ctypes.c_uint32,
        _P,
        _P,
    ]
    lib.pcre2_get_ovector_pointer_8.restype = ctypes.POINTER(ctypes.c_size_t)
    lib.pcre2_get_ovector_pointer_8.argtypes = [_P]
    return lib


@cache
def _compiled(pattern: str, flags: int) -> int:
    """The pattern compiled by PCRE2 with Python's flags and no matching shortcuts."""
    options = _UTF | _NO_AUTO_POSSESS | _NO_DOTSTAR_ANCHOR | _NO_START_OPTIMIZE
    options |= 0 if flags & re.ASCII else _UCP
    options |= _CASELESS if flags & re.IGNORECASE else 0
    options |= _DOTALL if flags & re.DOTALL else 0
    options |= _MULTILINE if flags & re.MULTILINE else 0
    options |= _EXTENDED if flags & re.VERBOSE else 0
    raw = pattern.encode()
    code, where = ctypes.c_int(), ctypes.c_size_t()
    compiled = _library().pcre2_compile_8(
        raw, len(raw), options, ctypes.byref(code), ctypes.byref(where), None
    )
    if not compiled:
        raise ValueError(f"PCRE2 cannot compile {pattern!r} (error {code.value} at {where.value})")
    return int(compiled)


def _scans_within(code: int, subject: bytes, limit: int) -> bool:
    """Scan the subject like finditer/sub; False when one start position needs over limit."""
    lib = _library()
    data = lib.pcre2_match_data_create_from_pattern_8(code, None)
    context = lib.pcre2_match_context_create_8(None)
    try:
        lib.pcre2_set_match_limit_8(context, limit)
        offset = 0
        while offset <= len(subject):
            rc = lib.pcre2_match_8(code, subject, len(subject), offset, 0, data, context)
            if rc == _ERROR_MATCHLIMIT:
                return False
            if rc < 0:
                return True
            start, end = lib.pcre2_get_ovector_pointer_8(data)[0:2]
            offset = end if end > start else end + 1
        return True
    finally:
        lib.pcre2_match_context_free_8(context)
        lib.pcre2_match_data_free_8(data)


def steps_per_start(pattern: re.Pattern[str], text: str) -> int:
    """The most backtracking steps one start position costs when the pattern scans the text."""
    code, subject = _compiled(pattern.pattern, pattern.flags), text.encode()
    high = 1
    while not _scans_within(code, subject, high):
        high *= 2
    low = high // 2  # fails at low (or low is 0), succeeds at high
    while low + 1 < high:
        middle = (low + high) // 2
        low, high = (low, middle) if _scans_within(code, subject, middle) else (middle, high)
    return high
