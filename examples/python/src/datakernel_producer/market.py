"""The payload schemas of the kernel's example plugins (Plugins/Trade, Quote, Book, Bar).

A subject of a family that a plugin serves must be registered with a schema body that agrees
with the plugin's declared payload schema (docs/plugins.md, "Subject registration and the
payload schema"); these are those declarations. A family no plugin serves takes any JSON Schema.
"""

from __future__ import annotations

from typing import Any, Dict

__all__ = ["TRADE_SCHEMA", "QUOTE_SCHEMA", "BOOK_SCHEMA", "BAR_SCHEMA", "SCHEMAS"]

Schema = Dict[str, Any]

_NUM: Schema = {"type": ["number", "string"]}
_NUM_OR_NULL: Schema = {"type": ["number", "string", "null"]}
_STR: Schema = {"type": "string"}
_LEVELS: Schema = {"type": "array", "items": {"type": "array", "items": _NUM}}

TRADE_SCHEMA: Schema = {
    "type": "object", "required": ["venue", "symbol", "price", "size"],
    "properties": {"venue": _STR, "symbol": _STR, "price": _NUM, "size": _NUM,
                   "side": {"type": "string", "enum": ["buy", "sell", "unknown"]}, "trade_id": _STR,
                   "exchange_ts": _STR}}
QUOTE_SCHEMA: Schema = {
    "type": "object", "required": ["venue", "symbol"],
    "properties": {"venue": _STR, "symbol": _STR, "bid_price": _NUM_OR_NULL, "bid_size": _NUM_OR_NULL,
                   "ask_price": _NUM_OR_NULL, "ask_size": _NUM_OR_NULL,
                   "exchange_ts": {"type": ["string", "null"]}}}
BOOK_SCHEMA: Schema = {
    "type": "object", "required": ["venue", "symbol", "type", "bids", "asks"],
    "properties": {"venue": _STR, "symbol": _STR, "type": {"type": "string", "enum": ["snapshot", "delta"]},
                   "sequence": {"type": "integer"}, "bids": _LEVELS, "asks": _LEVELS, "exchange_ts": _STR}}
BAR_SCHEMA: Schema = {
    "type": "object", "required": ["venue", "symbol", "interval", "start", "open", "high", "low", "close", "volume"],
    "properties": {"venue": _STR, "symbol": _STR, "interval": _STR, "start": _STR, "open": _NUM, "high": _NUM,
                   "low": _NUM, "close": _NUM, "volume": _NUM, "trades": {"type": "integer"}, "vwap": _NUM,
                   "exchange_ts": _STR}}

#: family name → schema body
SCHEMAS: Dict[str, Schema] = {"trade": TRADE_SCHEMA, "quote": QUOTE_SCHEMA, "book": BOOK_SCHEMA, "bar": BAR_SCHEMA}
