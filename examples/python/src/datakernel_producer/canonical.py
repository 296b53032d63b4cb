"""Canonical JSON of the Data Kernel (docs/protocol.md, "Canonical JSON"): what producers sign.

canonical(data) equals Go's json.Unmarshal into interface{} followed by json.Marshal, byte for
byte: objects sorted by the UTF-8 bytes of their keys (duplicate keys: last wins), no whitespace,
numbers as IEEE-754 doubles printed shortest-round-trip with Go's notation rules, strings escaped
like Go (including < > & and U+2028/U+2029), invalid UTF-8 repaired to U+FFFD byte by byte.
Input that does not parse is returned unchanged.

    >>> canonical(b'{"b":1,"a":[1.0,"<x>"]}')
    b'{"a":[1,"\\\\u003cx\\\\u003e"],"b":1}'

Only the standard library is used.
"""

from __future__ import annotations

import json
import math
import sys
from decimal import Decimal
from typing import NoReturn

__all__ = ["canonical", "canonical_text"]

# Go's encoding/json refuses documents nested deeper than this.
MAX_DEPTH = 10000


class _Invalid(Exception):
    """The input is not a JSON document Go would accept."""


def canonical(data: bytes) -> bytes:
    """The canonical form of the JSON document `data` (bytes in, bytes out)."""
    try:
        text = _go_utf8_decode(data)
        if _max_depth(text) > MAX_DEPTH:
            raise _Invalid()
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 3 * MAX_DEPTH))
        try:
            value = json.loads(text, parse_int=_parse_number, parse_float=_parse_number,
                               parse_constant=_reject_constant)
            out: list[str] = []
            _write(value, out)
        finally:
            sys.setrecursionlimit(limit)
        return "".join(out).encode("utf-8")
    except (_Invalid, ValueError, RecursionError):
        return data


def canonical_text(text: str) -> str:
    """canonical() for a str (encoded as UTF-8)."""
    return canonical(text.encode("utf-8")).decode("utf-8", errors="replace")


# ---- parsing ------------------------------------------------------------------------------

def _parse_number(literal: str) -> float:
    value = float(literal)  # correctly rounded, like Go's strconv.ParseFloat
    if math.isinf(value):
        raise _Invalid()  # Go: "value out of range" is a parse error
    return value


def _reject_constant(name: str) -> NoReturn:
    raise _Invalid()  # NaN, Infinity, -Infinity are not JSON


def _go_utf8_decode(data: bytes) -> str:
    """Decodes UTF-8 the way Go's utf8.DecodeRune does: every byte that does not start a
    well-formed sequence becomes one U+FFFD (Python's errors="replace" would merge some)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _repair(data)
    if text.startswith("\ufeff"):
        raise _Invalid()  # a byte order mark is not JSON whitespace
    return text


def _repair(data: bytes) -> str:
    out: list[str] = []
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b < 0x80:
            out.append(chr(b))
            i += 1
            continue
        # (length, allowed range of the second byte) per leading byte, RFC 3629 table.
        if 0xC2 <= b <= 0xDF:
            size, lo, hi = 2, 0x80, 0xBF
        elif b == 0xE0:
            size, lo, hi = 3, 0xA0, 0xBF
        elif 0xE1 <= b <= 0xEC or 0xEE <= b <= 0xEF:
            size, lo, hi = 3, 0x80, 0xBF
        elif b == 0xED:
            size, lo, hi = 3, 0x80, 0x9F  # no encoded surrogates
        elif b == 0xF0:
            size, lo, hi = 4, 0x90, 0xBF
        elif 0xF1 <= b <= 0xF3:
            size, lo, hi = 4, 0x80, 0xBF
        elif b == 0xF4:
            size, lo, hi = 4, 0x80, 0x8F
        else:
            size = 0
        ok = size > 0 and i + size <= n and lo <= data[i + 1] <= hi and \
            all(0x80 <= data[j] <= 0xBF for j in range(i + 2, i + size))
        if ok:
            out.append(data[i:i + size].decode("utf-8"))
            i += size
        else:
            out.append("\ufffd")
            i += 1
    return "".join(out)


def _max_depth(text: str) -> int:
    """Nesting depth of arrays/objects, ignoring brackets inside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    return deepest


# ---- writing ------------------------------------------------------------------------------

def _write(value: object, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, float):
        out.append(_format_number(value))
    elif isinstance(value, str):
        out.append(_quote(value))
    elif isinstance(value, list):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, dict):
        # json.loads keeps the last of duplicate keys. Keys may hold lone surrogates from \u
        # escapes; repair them before sorting, as Go does while decoding.
        members = sorted(((_repair_surrogates(k), v) for k, v in value.items()),
                         key=lambda kv: kv[0].encode("utf-8"))
        out.append("{")
        for i, (key, item) in enumerate(members):
            if i:
                out.append(",")
            out.append(_quote(key))
            out.append(":")
            _write(item, out)
        out.append("}")
    else:  # pragma: no cover - json.loads produces nothing else
        raise _Invalid()


def _format_number(x: float) -> str:
    """Go's float64 formatting in encoding/json: shortest round-trip digits; plain notation for
    1e-6 <= |x| < 1e21 (and 0), else d[.ddd]e±x without exponent zero padding."""
    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    sign = "-" if x < 0 else ""
    # repr() gives the shortest digits that round-trip; Decimal splits them from the exponent.
    _, digit_tuple, decimal_exponent = Decimal(repr(abs(x))).as_tuple()
    assert isinstance(decimal_exponent, int)  # a finite value's exponent ('n', 'N', 'F' are NaN/Inf)
    exponent = decimal_exponent
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    exponent += len(digit_tuple) - len(digits)  # value = int(digits) * 10**exponent
    digits = digits.lstrip("0") or "0"
    k = len(digits)
    if 1e-6 <= abs(x) < 1e21:
        if exponent >= 0:
            return sign + digits + "0" * exponent
        point = k + exponent
        if point > 0:
            return sign + digits[:point] + "." + digits[point:]
        return sign + "0." + "0" * (-point) + digits
    e10 = exponent + k - 1
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return sign + mantissa + "e" + ("+" if e10 >= 0 else "-") + str(abs(e10))


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f",
            "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _repair_surrogates(s: str) -> str:
    # json.loads joins valid \ud83d\ude00 pairs; a surrogate left over was unpaired: Go writes U+FFFD.
    if any("\ud800" <= c <= "\udfff" for c in s):
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in s)
    return s


def _quote(s: str) -> str:
    s = _repair_surrogates(s)
    out: list[str] = ['"']
    for c in s:
        escaped = _ESCAPES.get(c)
        if escaped is not None:
            out.append(escaped)
        elif c < " ":
            out.append("\\u%04x" % ord(c))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


if __name__ == "__main__":
    sys.stdout.buffer.write(canonical(sys.stdin.buffer.read()))
