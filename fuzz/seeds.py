#!/usr/bin/env python3
"""Writes the committed seed corpus (fuzz/corpus/<target>/seed-*) from a few
valid WAMP messages: the same messages as JSON, MessagePack and CBOR, as
RawSocket and WebSocket byte streams, and a few inputs for router_session.
Run from anywhere: python3 fuzz/seeds.py. Standard library only."""

import json
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

MESSAGES = [
    [1, "realm1", {"roles": {"caller": {}, "callee": {}, "publisher": {}, "subscriber": {}}}],
    [2, 9007199254740992, {"roles": {"broker": {}, "dealer": {}}}],
    [3, {"message": "no realm"}, "wamp.error.no_such_realm"],
    [6, {}, "wamp.close.normal"],
    [8, 48, 7, {}, "wamp.error.no_such_procedure", ["x"], {"k": 1.5}],
    [16, 1, {"acknowledge": True, "exclude_me": False}, "com.myapp.topic", [1, -2, "three"], {"a": None}],
    [17, 1, 2],
    [32, 2, {"match": "prefix"}, "com.myapp"],
    [36, 5, 6, {"publisher": 3}, ["\u0000AAEC"]],
    [48, 7, {"timeout": 1000, "receive_progress": True}, "com.myapp.add2", [2, 3]],
    [49, 7, {"mode": "kill"}],
    [50, 7, {"progress": True}, [5]],
    [64, 8, {"match": "wildcard", "invoke": "roundrobin"}, "com..add2"],
    [68, 9, 10, {"caller": 4, "procedure": "com.myapp.add2"}, [2, 3], {"x": [True, False]}],
    [69, 9, {"mode": "kill"}],
    [70, 9, {"progress": False}, [5], {"y": {}}],
]


def msgpack(v):
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        if v >= 0:
            return b"\xcf" + struct.pack(">Q", v)
        if v >= -32:
            return struct.pack(">b", v)
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, str):
        b = v.encode()
        if v.startswith("\u0000"):  # JSON's binary convention: MessagePack bin
            import base64
            raw = base64.b64decode(v[1:])
            return b"\xc4" + bytes([len(raw)]) + raw
        return (bytes([0xA0 | len(b)]) if len(b) < 32 else b"\xd9" + bytes([len(b)])) + b
    if isinstance(v, list):
        return bytes([0x90 | len(v)]) + b"".join(msgpack(x) for x in v)
    if isinstance(v, dict):
        return bytes([0x80 | len(v)]) + b"".join(msgpack(k) + msgpack(x) for k, x in v.items())
    raise TypeError(v)


def cbor_head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    if n < 256:
        return bytes([major << 5 | 24, n])
    if n < 65536:
        return bytes([major << 5 | 25]) + struct.pack(">H", n)
    return bytes([major << 5 | 27]) + struct.pack(">Q", n)


def cbor(v):
    if v is None:
        return b"\xf6"
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if isinstance(v, int):
        return cbor_head(0, v) if v >= 0 else cbor_head(1, -1 - v)
    if isinstance(v, float):
        return b"\xfb" + struct.pack(">d", v)
    if isinstance(v, str):
        if v.startswith("\u0000"):
            import base64
            raw = base64.b64decode(v[1:])
            return cbor_head(2, len(raw)) + raw
        b = v.encode()
        return cbor_head(3, len(b)) + b
    if isinstance(v, list):
        return cbor_head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        return cbor_head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    raise TypeError(v)


def as_json(v):
    return json.dumps(v, separators=(",", ":")).encode()


def rawsocket(code, payloads, exponent=3):
    out = bytes([0x7F, exponent << 4 | code, 0, 0])
    for kind, p in payloads:
        out += bytes([kind]) + struct.pack(">I", len(p))[1:] + p
    return out


def ws_frame(opcode, payload, fin=True):
    # A client frame: masked, with mask key 0 so the payload reads as is.
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    else:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    return head + b"\0\0\0\0" + payload


def ws_request(protocols):
    return (
        "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: {protocols}\r\n\r\n"
    ).encode()


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def main():
    for i, m in enumerate(MESSAGES):
        write("decode_json", f"{i:02}", as_json(m))
        write("decode_msgpack", f"{i:02}", msgpack(m))
        write("decode_cbor", f"{i:02}", cbor(m))
    hello, call, goodbye = MESSAGES[0], MESSAGES[9], MESSAGES[3]
    for code, enc, name in [(1, as_json, "json"), (2, msgpack, "msgpack"), (3, cbor, "cbor")]:
        frames = [(0, enc(hello)), (1, b"ping"), (0, enc(call)), (2, b""), (0, enc(goodbye))]
        write("rawsocket", name, rawsocket(code, frames))
    write("rawsocket", "refused", bytes([0x7F, 0xF9, 0, 0]))
    write("rawsocket", "oversized", rawsocket(1, [(0, b"[" * 5000)]))
    for proto, enc, opcode, name in [
        ("wamp.2.json", as_json, 1, "json"),
        ("wamp.2.msgpack", msgpack, 2, "msgpack"),
        ("wamp.2.cbor", cbor, 2, "cbor"),
    ]:
        body = ws_frame(opcode, enc(hello)) + ws_frame(9, b"hi") + ws_frame(opcode, enc(call))
        write("websocket_handshake", name, ws_request(proto) + body + ws_frame(8, b"\x03\xe8"))
    fragmented = ws_frame(1, as_json(call)[:10], fin=False) + ws_frame(0, as_json(call)[10:])
    write("websocket_handshake", "fragmented", ws_request("wamp.2.cbor, wamp.2.json") + fragmented)
    write("websocket_handshake", "no-protocol", ws_request("wamp.2.flatbuffers"))
    rng = random.Random(6455)
    for i in range(4):
        write("router_session", f"{i:02}", bytes(rng.randrange(256) for _ in range(64 * (i + 1))))


if __name__ == "__main__":
    main()
