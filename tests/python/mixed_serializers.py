#!/usr/bin/env python3
"""Autobahn|Python peers on different serializers (JSON, MessagePack, CBOR)
through one router: binary values arrive as binary everywhere, values a
receiver's serializer cannot carry (a text string starting with NUL, NaN
toward JSON) are refused with wamp.error.invalid_argument naming the
value's position, 1 MiB messages arrive whole (also when Autobahn sends
them as many WebSocket frames, which the router joins), and every session
stays connected.

Usage:
    mixed_serializers.py --url ws://127.0.0.1:PORT/ws [--realm realm1]

Output: one line per check, ``ok NAME`` or ``FAIL NAME: reason``, then
``N passed, M failed``. Exit status is 0 only when nothing failed.
"""

import argparse
import asyncio
import math
import sys
import traceback
from urllib.parse import urlparse

import txaio

txaio.use_asyncio()

# See router_suite.py: keeps bjdata's NumPy warning out of the output.
sys.modules.setdefault("_bjdata", None)

from autobahn.asyncio.wamp import ApplicationSession  # noqa: E402
from autobahn.asyncio.websocket import WampWebSocketClientFactory  # noqa: E402
from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer  # noqa: E402
from autobahn.wamp.types import ComponentConfig, PublishOptions  # noqa: E402

SERIALIZERS = {"json": JsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer}
TIMEOUT = 10.0
INVALID_ARGUMENT = "wamp.error.invalid_argument"
NUL_HELLO = "\x00hello"


class CheckFailed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise CheckFailed(what)


class Peer(ApplicationSession):
    def __init__(self, config):
        super().__init__(config)
        self.joined = asyncio.get_running_loop().create_future()
        self.left = False

    def onJoin(self, details):
        if not self.joined.done():
            self.joined.set_result(details)

    def onLeave(self, details):
        self.left = True
        self.disconnect()

    def onDisconnect(self):
        self.left = True


async def connect(url, realm, serializer, fragment=0):
    """Joins with one serializer; with `fragment`, Autobahn sends each
    message as WebSocket frames of at most that many bytes."""
    session = Peer(ComponentConfig(realm=realm))
    u = urlparse(url)
    factory = WampWebSocketClientFactory(lambda: session, url=url, serializers=[SERIALIZERS[serializer]()])
    if fragment:
        factory.setProtocolOptions(autoFragmentSize=fragment)
    await asyncio.get_running_loop().create_connection(factory, u.hostname, u.port)
    await asyncio.wait_for(session.joined, TIMEOUT)
    return session


async def subscribe(session, topic):
    """Subscribes; returns a queue of each event's positional arguments."""
    queue = asyncio.Queue()
    await session.subscribe(lambda *args: queue.put_nowait(list(args)), topic)
    return queue


async def next_args(queue):
    return await asyncio.wait_for(queue.get(), TIMEOUT)


async def refused(coro, position):
    """Awaits a call or acknowledged publish that must fail with
    invalid_argument naming `position`; returns the message."""
    try:
        await asyncio.wait_for(coro, TIMEOUT)
    except ApplicationError as e:
        message = e.args[0] if e.args else ""
        expect(e.error == INVALID_ARGUMENT, f"error {e.error} ({message})")
        expect(position in message, f"message does not name {position}: {message!r}")
        return message
    raise CheckFailed(f"accepted; expected {INVALID_ARGUMENT} naming {position}")


def checks(url, realm):
    peers = {}

    async def peer(name, serializer, fragment=0):
        if name not in peers:
            peers[name] = await connect(url, realm, serializer, fragment)
        return peers[name]

    async def binary_arrives_as_binary(n):
        sub_json = await peer("sub_json", "json")
        sub_mp = await peer("sub_mp", "msgpack")
        sub_cbor = await peer("sub_cbor", "cbor")
        topic = f"com.test.mixed.binary{n}"
        queues = [await subscribe(s, topic) for s in (sub_json, sub_mp, sub_cbor)]
        for name, ser in (("pub_mp", "msgpack"), ("pub_cbor", "cbor"), ("pub_json", "json")):
            pub = await peer(name, ser)
            data = bytes([0, 1, 2, 255]) + name.encode()
            await pub.publish(topic, data, options=PublishOptions(acknowledge=True))
            for q in queues:
                got = await next_args(q)
                expect(got == [data], f"from {ser}: got {got!r}")

    async def nul_text_skips_json_subscribers(n):
        sub_json = await peer("sub_json", "json")
        sub_mp = await peer("sub_mp", "msgpack")
        topic = f"com.test.mixed.nul{n}"
        q_json, q_mp = await subscribe(sub_json, topic), await subscribe(sub_mp, topic)
        for name, ser in (("pub_mp", "msgpack"), ("pub_cbor", "cbor")):
            pub = await peer(name, ser)
            pub.publish(topic, NUL_HELLO)  # not acknowledged: skips JSON
            got = await next_args(q_mp)
            expect(got == [NUL_HELLO], f"MessagePack subscriber got {got!r}")
            pub.publish(topic, float("nan"))
            got = await next_args(q_mp)
            expect(len(got) == 1 and math.isnan(got[0]), f"MessagePack subscriber got {got!r}")
            await pub.publish(topic, "after", options=PublishOptions(acknowledge=True))
            got = await next_args(q_json)
            expect(got == ["after"], f"JSON subscriber got {got!r} before the plain event")
            expect(await next_args(q_mp) == ["after"], "MessagePack subscriber missed the plain event")

    async def acknowledged_publish_is_refused(n):
        sub_json = await peer("sub_json", "json")
        topic = f"com.test.mixed.acked{n}"
        q_json = await subscribe(sub_json, topic)
        for name, ser in (("pub_mp", "msgpack"), ("pub_cbor", "cbor")):
            pub = await peer(name, ser)
            opts = PublishOptions(acknowledge=True)
            await refused(pub.publish(topic, 1, NUL_HELLO, options=opts), "args[1]")
            await refused(pub.publish(topic, name=[1, 2, NUL_HELLO], options=opts), "kwargs.name[2]")
        await (await peer("pub_mp", "msgpack")).publish(topic, "ok", options=PublishOptions(acknowledge=True))
        got = await next_args(q_json)
        expect(got == ["ok"], f"JSON subscriber got {got!r}")

    async def calls_to_a_json_callee(n):
        callee = await peer("callee_json", "json")
        proc = f"com.test.mixed.echo{n}"
        await callee.register(lambda *a, **kw: list(a), proc)
        for name, ser in (("caller_mp", "msgpack"), ("caller_cbor", "cbor")):
            caller = await peer(name, ser)
            await refused(caller.call(proc, NUL_HELLO), "args[0]")
            await refused(caller.call(proc, name=[1, 2, NUL_HELLO]), "kwargs.name[2]")
            await refused(caller.call(proc, 1, float("nan")), "args[1]")
            got = await asyncio.wait_for(caller.call(proc, b"\x00\x01", "a\x00b"), TIMEOUT)
            expect(got == [b"\x00\x01", "a\x00b"], f"echo gave {got!r}")

    async def answers_to_a_json_caller(n):
        callee = await peer("callee_mp", "msgpack")
        proc = f"com.test.mixed.answer{n}"

        def answer(kind):
            if kind == "nul":
                return NUL_HELLO
            if kind == "error":
                raise ApplicationError("com.test.failed", NUL_HELLO)
            return b"\x00bin"

        await callee.register(answer, proc)
        caller = await peer("caller_json", "json")
        message = await refused(caller.call(proc, "nul"), "args[0]")
        expect("result" in message, f"message does not say it was the result: {message!r}")
        message = await refused(caller.call(proc, "error"), "args[0]")
        expect("com.test.failed" in message, f"message does not name the callee's error: {message!r}")
        got = await asyncio.wait_for(caller.call(proc, "bin"), TIMEOUT)
        expect(got == b"\x00bin", f"binary result {got!r}")
        # The MessagePack caller takes the same answer as it is.
        other = await peer("caller_mp", "msgpack")
        got = await asyncio.wait_for(other.call(proc, "nul"), TIMEOUT)
        expect(got == NUL_HELLO, f"MessagePack caller got {got!r}")

    async def large_messages_arrive_whole(n):
        # 1 MiB arguments, as a result and as an event, on every
        # serializer; two callers send theirs in 16 KiB WebSocket frames
        # (fragmentation), which the router must join.
        callee = await peer("callee_json", "json")
        proc = f"com.test.mixed.big{n}"
        await callee.register(lambda *a: list(a), proc)
        # One, two and three bytes a character in UTF-8: frame boundaries
        # fall inside characters, which only the whole message must keep.
        text = "a\u00e9\u20ac" * ((1 << 20) // 6)
        data = bytes(i % 251 for i in range(1 << 20))
        callers = (
            ("caller_mp", "msgpack", 0),
            ("caller_cbor", "cbor", 0),
            ("caller_json", "json", 0),
            ("caller_json_fragments", "json", 16384),
            ("caller_mp_fragments", "msgpack", 16384),
        )
        for name, ser, fragment in callers:
            caller = await peer(name, ser, fragment)
            got = await asyncio.wait_for(caller.call(proc, text, data), TIMEOUT)
            expect(got == [text, data], f"{name}: the 1 MiB arguments came back changed")
        topic = f"com.test.mixed.bigevent{n}"
        queues = [await subscribe(await peer(s, ser), topic) for s, ser in (("sub_json", "json"), ("sub_mp", "msgpack"))]
        pub = await peer("pub_cbor", "cbor")
        await pub.publish(topic, text, options=PublishOptions(acknowledge=True))
        for q in queues:
            got = await next_args(q)
            expect(got == [text], "a subscriber got the 1 MiB event changed")

    async def everyone_stays_connected(n):
        expect(peers, "no peers")
        for name, s in peers.items():
            expect(s.is_attached() and not s.left, f"{name} was disconnected")

    return peers, [
        ("binary_arrives_as_binary", binary_arrives_as_binary),
        ("nul_text_skips_json_subscribers", nul_text_skips_json_subscribers),
        ("acknowledged_publish_is_refused", acknowledged_publish_is_refused),
        ("calls_to_a_json_callee", calls_to_a_json_callee),
        ("answers_to_a_json_caller", answers_to_a_json_caller),
        ("large_messages_arrive_whole", large_messages_arrive_whole),
        ("everyone_stays_connected", everyone_stays_connected),
    ]


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--realm", default="realm1")
    a = ap.parse_args()
    peers, todo = checks(a.url, a.realm)
    passed = failed = 0
    for n, (name, check) in enumerate(todo):
        try:
            await check(n)
            print(f"ok {name}", flush=True)
            passed += 1
        except Exception as e:  # noqa: BLE001 - every failure is reported
            detail = str(e) if isinstance(e, CheckFailed) else traceback.format_exc()
            print(f"FAIL {name}: {detail}", flush=True)
            failed += 1
    for s in peers.values():
        if s.is_attached():
            s.leave()
    await asyncio.sleep(0.1)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
