#!/usr/bin/env python3
"""Autobahn|Python (asyncio) peers for the flow-control tests
(tests/tests/flow_control_interop.rs): bursts of publications and calls,
and the sessions that receive them.

Usage:
    burst.py MODE --url ws://127.0.0.1:PORT/ws|rs://127.0.0.1:PORT \\
             --realm realm1 --serializer json|msgpack [mode options]

Modes:
    publish        COUNT unacknowledged PUBLISHes of [i] to --topic in one go
                   (no awaits in between), then one acknowledged PUBLISH to
                   TOPIC.done: once it is acknowledged the router has handled
                   every earlier one (it handles a session's messages in
                   order). With --hold: prints ``ready`` and waits for ``go``
                   on stdin first, prints ``published`` after and waits for
                   a line on stdin before leaving.
    subscribe      subscribes to --topic, prints ``ready``, reads until COUNT
                   events have arrived and checks they are [0], [1], ... in
                   order. With --hold: prints ``received`` then and waits for
                   a line on stdin before leaving. With --until-done: stops
                   at the publisher's marker event on TOPIC.done instead,
                   however many events came before it.
    callee         registers --procedure (answers [i] with [i]), prints
                   ``ready``, answers until stdin says ``leave`` (or closes).
    publishing-callee
                   registers --procedure, whose handler publishes COUNT
                   events [i] (or [i, PAD bytes]) to --topic in one go, then
                   answers COUNT; prints ``ready``; when stdin says so,
                   publishes an acknowledged marker to TOPIC.done and leaves.
    silent-callee  registers --procedure and never answers; leaves (GOODBYE,
                   or --drop: the TCP connection is aborted) once --leave-after
                   invocations have arrived.
    call           COUNT calls of --procedure with [i] issued at once, then
                   waits for every outcome and tallies them.
    nested         registers --inner (answers [i] with [i, "inner"]), then calls
                   --outer COUNT times at once (whose callee calls --inner and
                   answers with its result); tallies right answers and
                   errors.
    pipeline       a raw WAMP client (no Autobahn: WebSocket or RawSocket
                   frames written by hand) that joins, then writes COUNT CALLs
                   of --procedure or SUBSCRIBEs in ONE write, then reads every
                   answer and says GOODBYE.

Each mode ends by printing one line ``summary {json}`` (counts, order, and
``closed``: null unless the router ended the session) and exits with 0; the
test asserts on the summary. A mode that cannot finish (what it waits for
never comes within --deadline) prints ``FAIL reason`` and exits with 1.
Progress lines (``ready``, ``invoked N``, ``published``, ``received``) are
for the test driving it.
"""

import argparse
import asyncio
import base64
import json
import os
import struct
import sys
import time
from urllib.parse import urlparse

import txaio

txaio.use_asyncio()

# See router_suite.py: keep bjdata's NumPy 1.x/2.x warning out of the output.
sys.modules.setdefault("_bjdata", None)

import msgpack  # noqa: E402
from autobahn.asyncio.rawsocket import WampRawSocketClientFactory  # noqa: E402
from autobahn.asyncio.wamp import ApplicationSession  # noqa: E402
from autobahn.asyncio.websocket import WampWebSocketClientFactory  # noqa: E402
from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.serializer import JsonSerializer, MsgPackSerializer  # noqa: E402
from autobahn.wamp.types import ComponentConfig, PublishOptions  # noqa: E402

SERIALIZERS = {"json": JsonSerializer, "msgpack": MsgPackSerializer}

# Only a hung peer hits these; nothing is asserted about how long things take.
JOIN_TIMEOUT = 20.0


class Failed(Exception):
    pass


def emit(line):
    print(line, flush=True)


class Peer(ApplicationSession):
    def __init__(self, config):
        super().__init__(config)
        loop = asyncio.get_running_loop()
        self.joined = loop.create_future()
        self.left = loop.create_future()
        self.leave_details = None

    def onUserError(self, fail, msg):
        # Handlers cut short by a leave are reported here; not a failure.
        pass

    def onJoin(self, details):
        if not self.joined.done():
            self.joined.set_result(details)

    def onLeave(self, details):
        self.leave_details = details
        if not self.joined.done():
            self.joined.set_exception(ConnectionError(f"join refused: {details.reason}"))
        if not self.left.done():
            self.left.set_result(details)
        return super().onLeave(details)

    def onDisconnect(self):
        if not self.joined.done():
            self.joined.set_exception(ConnectionError("transport closed before WELCOME"))
        if not self.left.done():
            self.left.set_result(None)
        return super().onDisconnect()

    def close_reason(self):
        """Why the session ended, or None while it is attached."""
        if self.is_attached():
            return None
        if self.leave_details is not None:
            return self.leave_details.reason
        return "transport lost"


async def connect(args):
    url = urlparse(args.url)
    loop = asyncio.get_running_loop()
    session = Peer(ComponentConfig(realm=args.realm))
    serializer = SERIALIZERS[args.serializer]()
    if url.scheme == "ws":
        factory = WampWebSocketClientFactory(lambda: session, url=args.url, serializers=[serializer])
    else:
        factory = WampRawSocketClientFactory(lambda: session, serializer=serializer)
    transport, _ = await loop.create_connection(factory, url.hostname, url.port)
    try:
        await asyncio.wait_for(session.joined, JOIN_TIMEOUT)
    except BaseException:
        transport.abort()
        raise
    return session


async def leave(session):
    if session.is_attached():
        session.leave()
        try:
            await asyncio.wait_for(asyncio.shield(session.left), 10.0)
        except asyncio.TimeoutError:
            pass


async def stdin_line():
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return line.strip()


# --------------------------------------------------------------------------
# Modes with Autobahn sessions
# --------------------------------------------------------------------------


async def mode_publish(args):
    session = await connect(args)
    if args.hold:
        emit("ready")
        if await stdin_line() != "go":
            raise Failed("expected go on stdin")
    started = time.monotonic()
    # In one go: each publish() encodes and writes at once; no awaits.
    for i in range(args.count):
        session.publish(args.topic, i)
    written = time.monotonic()
    pub = await asyncio.wait_for(
        session.publish(args.topic + ".done", options=PublishOptions(acknowledge=True)), args.deadline
    )
    handled = time.monotonic()
    if args.hold:
        emit("published")
        await stdin_line()
    reason = session.close_reason()
    await leave(session)
    return {
        "published": args.count,
        "acknowledged_marker": pub is not None,
        "closed": reason,
        "write_s": round(written - started, 3),
        "handled_s": round(handled - started, 3),
    }


async def mode_subscribe(args):
    session = await connect(args)
    received = []
    done = asyncio.get_running_loop().create_future()

    times = []

    def on_event(i, *padding):
        if not received:
            times.append(time.monotonic())
        received.append(i)
        if len(received) == args.count and not done.done():
            done.set_result(None)

    await session.subscribe(on_event, args.topic)
    if args.until_done:
        # The publisher's marker on TOPIC.done comes after all its events
        # (a router keeps one publisher's events in order for a subscriber).
        def on_done(*_):
            if not done.done():
                done.set_result(None)

        await session.subscribe(on_done, args.topic + ".done")
    emit("ready")
    try:
        await asyncio.wait_for(done, args.deadline)
    except asyncio.TimeoutError:
        raise Failed(f"only {len(received)} of {args.count} events arrived; session closed: {session.close_reason()}")
    times.append(time.monotonic())
    if args.hold:
        emit("received")
        await stdin_line()
    reason = session.close_reason()
    in_order = received == list(range(len(received)))
    first_wrong = next((k for k, v in enumerate(received) if v != k), None)
    await leave(session)
    return {
        "received": len(received),
        "in_order": in_order,
        "first_out_of_order": first_wrong,
        "closed": reason,
        # Figures only, never asserted on.
        "first_to_last_s": round(times[-1] - times[0], 3) if received else None,
    }


async def mode_callee(args):
    session = await connect(args)
    answered = 0

    def echo(i):
        nonlocal answered
        answered += 1
        return i

    await session.register(echo, args.procedure)
    emit("ready")
    while True:
        line = await stdin_line()
        if line in ("leave", ""):
            break
    reason = session.close_reason()
    await leave(session)
    return {"answered": answered, "closed": reason}


async def mode_silent_callee(args):
    session = await connect(args)
    loop = asyncio.get_running_loop()
    invoked = 0
    reached = loop.create_future()
    never = loop.create_future()

    def swallow(i):
        nonlocal invoked
        invoked += 1
        if invoked == args.leave_after and not reached.done():
            reached.set_result(None)
        return never  # never answered

    await session.register(swallow, args.procedure)
    emit("ready")
    await asyncio.wait_for(reached, args.deadline)
    seen = invoked
    emit(f"invoked {seen}")
    reason = session.close_reason()
    if args.drop:
        session._transport.transport.abort()  # no GOODBYE, no WebSocket close
        await asyncio.wait_for(asyncio.shield(session.left), 10.0)
    else:
        await leave(session)
    return {"invoked": seen, "invoked_at_close": invoked, "closed": reason}


async def mode_publishing_callee(args):
    session = await connect(args)
    answered = 0

    def burst():
        # A handler that publishes a burst (progress, say) before it answers:
        # the session owes that answer while the router takes the burst.
        nonlocal answered
        pad = "x" * args.pad
        for i in range(args.count):
            if pad:
                session.publish(args.topic, i, pad)
            else:
                session.publish(args.topic, i)
        answered += 1
        return args.count

    await session.register(burst, args.procedure)
    emit("ready")
    while True:
        line = await stdin_line()
        if line in ("leave", ""):
            break
    # Every PUBLISH before this one was handled once it is acknowledged.
    marker = await asyncio.wait_for(
        session.publish(args.topic + ".done", options=PublishOptions(acknowledge=True)), args.deadline
    )
    reason = session.close_reason()
    await leave(session)
    return {"answered": answered, "acknowledged_marker": marker is not None, "closed": reason}


async def mode_call(args):
    session = await connect(args)
    # Issued at once: each call() writes its CALL before returning a future.
    calls = [session.call(args.procedure, i) for i in range(args.count)]
    outcomes = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), args.deadline)
    results = wrong = 0
    errors = {}
    for i, outcome in enumerate(outcomes):
        if isinstance(outcome, ApplicationError):
            errors[outcome.error] = errors.get(outcome.error, 0) + 1
        elif isinstance(outcome, BaseException):
            errors[type(outcome).__name__] = errors.get(type(outcome).__name__, 0) + 1
        else:
            results += 1
            if outcome != i:
                wrong += 1
    reason = session.close_reason()
    await leave(session)
    return {"outcomes": len(outcomes), "results": results, "wrong_results": wrong, "errors": errors, "closed": reason}


async def mode_nested(args):
    session = await connect(args)
    inner_calls = 0

    def inner(i):
        nonlocal inner_calls
        inner_calls += 1
        return [i, "inner"]

    await session.register(inner, args.inner)
    calls = [session.call(args.outer, i) for i in range(args.count)]
    outcomes = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), args.deadline)
    good = 0
    errors = {}
    bad = []
    for i, outcome in enumerate(outcomes):
        # The outer callee answers with what the inner call returned, or
        # fails with com.test.inner_failed and the inner call's error.
        if outcome == [i, "inner"]:
            good += 1
        elif isinstance(outcome, ApplicationError):
            key = outcome.error
            if key == "com.test.inner_failed":
                cause = "wamp.error.unavailable" if "wamp.error.unavailable" in repr(outcome.args) else repr(outcome.args)
                key = f"{key}({cause})"
            errors[key] = errors.get(key, 0) + 1
        elif len(bad) < 5:
            bad.append(repr(outcome))
    reason = session.close_reason()
    await leave(session)
    return {
        "outcomes": len(outcomes),
        "good": good,
        "errors": errors,
        "bad": bad,
        "inner_calls": inner_calls,
        "closed": reason,
    }


# --------------------------------------------------------------------------
# A raw client: frames written by hand, so that a whole batch of requests
# goes out in one write.
# --------------------------------------------------------------------------


class RawClient:
    HELLO, WELCOME, ABORT, GOODBYE, ERROR = 1, 2, 3, 6, 8
    SUBSCRIBE, SUBSCRIBED, CALL, RESULT = 32, 33, 48, 50

    def __init__(self, url, serializer):
        self.url = urlparse(url)
        self.serializer = serializer
        self.buffer = b""

    def encode(self, msg):
        if self.serializer == "json":
            return json.dumps(msg, separators=(",", ":")).encode()
        return msgpack.packb(msg, use_bin_type=True)

    def decode(self, data):
        if self.serializer == "json":
            return json.loads(data)
        return msgpack.unpackb(data, raw=False)

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.url.hostname, self.url.port)
        if self.url.scheme == "ws":
            key = base64.b64encode(os.urandom(16)).decode()
            self.writer.write(
                (
                    f"GET {self.url.path or '/'} HTTP/1.1\r\n"
                    f"Host: {self.url.hostname}:{self.url.port}\r\n"
                    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                    f"Sec-WebSocket-Protocol: wamp.2.{self.serializer}\r\n\r\n"
                ).encode()
            )
            head = await self.reader.readuntil(b"\r\n\r\n")
            if b" 101 " not in head.split(b"\r\n", 1)[0]:
                raise Failed(f"WebSocket upgrade refused: {head!r}")
        else:
            code = {"json": 1, "msgpack": 2}[self.serializer]
            self.writer.write(bytes([0x7F, 0xF0 | code, 0, 0]))  # 16 MiB max, serializer
            reply = await self.reader.readexactly(4)
            if reply[0] != 0x7F or reply[1] & 0x0F != code:
                raise Failed(f"RawSocket handshake refused: {reply!r}")

    def frame(self, msg):
        payload = self.encode(msg)
        if self.url.scheme != "ws":
            return bytes([0]) + len(payload).to_bytes(3, "big") + payload
        opcode = 0x1 if self.serializer == "json" else 0x2
        head = bytes([0x80 | opcode])
        n = len(payload)
        # Client frames must be masked; a zero mask leaves the payload as is.
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        return head + b"\x00\x00\x00\x00" + payload

    async def recv(self):
        """The next WAMP message, or None when the connection ends."""
        try:
            if self.url.scheme != "ws":
                while True:
                    head = await self.reader.readexactly(4)
                    n = int.from_bytes(head[1:], "big")
                    data = await self.reader.readexactly(n)
                    if head[0] & 0x07 == 0:
                        return self.decode(data)
                    if head[0] & 0x07 == 1:  # ping: answer with pong
                        self.writer.write(bytes([2]) + head[1:] + data)
            message = b""
            while True:
                b0, b1 = await self.reader.readexactly(2)
                n = b1 & 0x7F
                if n == 126:
                    n = struct.unpack(">H", await self.reader.readexactly(2))[0]
                elif n == 127:
                    n = struct.unpack(">Q", await self.reader.readexactly(8))[0]
                data = await self.reader.readexactly(n)  # server frames are not masked
                opcode = b0 & 0x0F
                if opcode == 0x8:
                    return None
                if opcode == 0x9:  # ping
                    self.writer.write(bytes([0x8A, 0x80 | len(data)]) + b"\x00" * 4 + data)
                    continue
                if opcode == 0xA:
                    continue
                message += data
                if b0 & 0x80:
                    return self.decode(message)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None


async def mode_pipeline(args):
    client = RawClient(args.url, args.serializer)
    await client.open()
    roles = {"caller": {}, "subscriber": {}, "publisher": {}, "callee": {}}
    client.writer.write(client.frame([RawClient.HELLO, args.realm, {"roles": roles}]))
    welcome = await asyncio.wait_for(client.recv(), JOIN_TIMEOUT)
    if not welcome or welcome[0] != RawClient.WELCOME:
        raise Failed(f"expected WELCOME, got {welcome!r}")

    ids = range(1, args.count + 1)
    if args.kind == "call":
        batch = [client.frame([RawClient.CALL, i, {}, args.procedure, [i]]) for i in ids]
    else:
        batch = [client.frame([RawClient.SUBSCRIBE, i, {}, f"{args.topic}.{i}"]) for i in ids]
    data = b"".join(batch)
    client.writer.write(data)  # every request in ONE write
    await client.writer.drain()

    answers = {}
    wrong = []
    kinds = {}
    unexpected = []
    end = None

    async def read_answers():
        nonlocal end
        while len(answers) < args.count:
            msg = await client.recv()
            if msg is None:
                end = "connection closed"
                return
            kind = msg[0]
            if kind in (RawClient.RESULT, RawClient.SUBSCRIBED):
                kinds[kind] = kinds.get(kind, 0) + 1
                answers[msg[1]] = msg
                if kind == RawClient.RESULT and (len(msg) < 4 or msg[3] != [msg[1]]):
                    wrong.append(msg)
            elif kind == RawClient.ERROR:
                kinds[f"error {msg[4]}"] = kinds.get(f"error {msg[4]}", 0) + 1
                answers[msg[2]] = msg
            else:
                unexpected.append(msg)
                if kind in (RawClient.ABORT, RawClient.GOODBYE):
                    end = f"router closed the session: {msg!r}"
                    return

    await asyncio.wait_for(read_answers(), args.deadline)
    # Still open: GOODBYE is answered with GOODBYE.
    client.writer.write(client.frame([RawClient.GOODBYE, {}, "wamp.close.close_realm"]))
    goodbye = None
    if end is None:
        while True:
            msg = await asyncio.wait_for(client.recv(), JOIN_TIMEOUT)
            if msg is None or msg[0] == RawClient.GOODBYE:
                goodbye = msg
                break
            unexpected.append(msg)
    client.writer.close()
    return {
        "written_bytes": len(data),
        "answers": len(answers),
        "all_ids": sorted(answers) == list(ids),
        "kinds": {str(k): v for k, v in kinds.items()},
        "wrong_results": len(wrong),
        "unexpected": [repr(m)[:200] for m in unexpected[:5]],
        "ended": end,
        "goodbye": goodbye[2] if goodbye else None,
    }


MODES = {
    "publish": mode_publish,
    "subscribe": mode_subscribe,
    "callee": mode_callee,
    "silent-callee": mode_silent_callee,
    "publishing-callee": mode_publishing_callee,
    "call": mode_call,
    "nested": mode_nested,
    "pipeline": mode_pipeline,
}


def main():
    ap = argparse.ArgumentParser(description="Autobahn|Python peers for the flow-control tests")
    ap.add_argument("mode", choices=sorted(MODES))
    ap.add_argument("--url", required=True)
    ap.add_argument("--realm", default="realm1")
    ap.add_argument("--serializer", choices=sorted(SERIALIZERS), default="json")
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--topic")
    ap.add_argument("--procedure")
    ap.add_argument("--inner")
    ap.add_argument("--outer")
    ap.add_argument("--kind", choices=["call", "subscribe"], default="call")
    ap.add_argument("--until-done", action="store_true",
                    help="subscribe: stop at the publisher's marker on TOPIC.done even if events are missing")
    ap.add_argument("--pad", type=int, default=0, help="publishing-callee: a second argument of PAD bytes")
    ap.add_argument("--leave-after", type=int, default=1)
    ap.add_argument("--hold", action="store_true",
                    help="publish: wait for go on stdin first; publish, subscribe: wait for a line on stdin before leaving")
    ap.add_argument("--drop", action="store_true", help="silent-callee: abort the TCP connection instead of GOODBYE")
    ap.add_argument("--deadline", type=float, default=50.0, help="only a hung run reaches it")
    args = ap.parse_args()
    txaio.set_global_log_level("critical")

    async def run():
        try:
            summary = await MODES[args.mode](args)
        except Failed as e:
            emit(f"FAIL {e}")
            return 1
        except asyncio.TimeoutError:
            emit(f"FAIL {args.mode}: nothing more happened within {args.deadline}s")
            return 1
        emit("summary " + json.dumps(summary, sort_keys=True))
        return 0

    sys.exit(asyncio.run(run()))


if __name__ == "__main__":
    main()
