#!/usr/bin/env python3
"""Autobahn|Python using a router's meta API (session, registration and
subscription meta procedures and events), testaments and registration
revocation, as the spec describes them. The same script runs against
Crossbar.io and our router; ``--skip remove_callee`` on Crossbar.io, whose
wamp.registration.remove_callee fails (see tests/tests/crossbar.rs).

Subscription revocation is not checked: Autobahn|Python announces
``subscription_revocation`` but takes UNSUBSCRIBED with request 0 as a
protocol error and ends its session.

Usage:
    meta_client.py --url ws://127.0.0.1:PORT/ws [--realm realm1] [--serializer json|msgpack|cbor]
                   [--skip CHECK]...

Output: one line per check, ``ok NAME`` or ``FAIL NAME: reason``, then
``N passed, M failed``. Exit status is 0 only when nothing failed.
"""

import argparse
import asyncio
import random
import sys
import traceback
from urllib.parse import urlparse

import txaio

txaio.use_asyncio()

# See router_suite.py: keeps bjdata's NumPy warning out of the output.
sys.modules.setdefault("_bjdata", None)

from autobahn.asyncio.rawsocket import WampRawSocketClientFactory  # noqa: E402
from autobahn.asyncio.wamp import ApplicationSession  # noqa: E402
from autobahn.asyncio.websocket import WampWebSocketClientFactory  # noqa: E402
from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer  # noqa: E402
from autobahn.wamp.types import ComponentConfig, SubscribeOptions  # noqa: E402

SERIALIZERS = {"json": JsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer}
TIMEOUT = 10.0


class CheckFailed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise CheckFailed(what)


def unique(prefix):
    return f"{prefix}.t{random.randrange(1 << 40)}"


class Session(ApplicationSession):
    def __init__(self, config):
        super().__init__(config)
        loop = asyncio.get_running_loop()
        self.joined = loop.create_future()
        self.left = loop.create_future()
        self.transport_handle = None

    def onJoin(self, details):
        self.joined.set_result(details)

    def onLeave(self, details):
        if not self.left.done():
            self.left.set_result(details)
        self.disconnect()


class Client:
    def __init__(self, url, realm, serializer):
        self.url, self.realm, self.serializer = url, realm, serializer
        u = urlparse(url)
        self.scheme, self.host, self.port = u.scheme, u.hostname, u.port

    async def session(self):
        session = Session(ComponentConfig(realm=self.realm))
        serializer = SERIALIZERS[self.serializer]()
        loop = asyncio.get_running_loop()
        if self.scheme == "ws":
            factory = WampWebSocketClientFactory(lambda: session, url=self.url, serializers=[serializer])
        else:
            factory = WampRawSocketClientFactory(lambda: session, serializer=serializer)
        transport, _ = await loop.create_connection(factory, self.host, self.port)
        session.transport_handle = transport
        await asyncio.wait_for(session.joined, TIMEOUT)
        return session


async def close(*sessions):
    for s in sessions:
        if s.is_attached():
            s.leave()
    await asyncio.sleep(0.05)


class Events:
    """Collects the events of one subscription in a queue."""

    def __init__(self):
        self.queue = asyncio.Queue()

    def __call__(self, *args, **kwargs):
        self.queue.put_nowait((args, kwargs))

    async def next_where(self, pick, what):
        async def find():
            while True:
                args, kwargs = await self.queue.get()
                if pick(args, kwargs):
                    return args, kwargs

        try:
            return await asyncio.wait_for(find(), TIMEOUT)
        except asyncio.TimeoutError:
            raise CheckFailed(f"no {what} within {TIMEOUT} s")


async def sessions_list_count_get(c):
    a, b = await c.session(), await c.session()
    try:
        ids = await a.call("wamp.session.list")
        expect(a._session_id in ids and b._session_id in ids, f"list {ids}")
        expect(await a.call("wamp.session.count") >= 2, "count below 2")
        expect(await a.call("wamp.session.count", ["no-such-role"]) == 0, "count of nobody's role")
        details = await a.call("wamp.session.get", b._session_id)
        expect(details["session"] == b._session_id, f"get: {details}")
        expect(details["authid"] == b._authid, f"authid {details.get('authid')!r}")
        expect(details["authrole"] == b._authrole, f"authrole {details.get('authrole')!r}")
        try:
            await a.call("wamp.session.get", 1)
            raise CheckFailed("get of session 1 succeeded")
        except ApplicationError as e:
            expect(e.error == "wamp.error.no_such_session", f"get error {e.error}")
    finally:
        await close(a, b)


async def on_join_on_leave(c):
    watcher = await c.session()
    joins, leaves = Events(), Events()
    await watcher.subscribe(joins, "wamp.session.on_join")
    await watcher.subscribe(leaves, "wamp.session.on_leave")
    s = await c.session()
    sid = s._session_id
    try:
        args, _ = await joins.next_where(lambda a, k: a[0]["session"] == sid, "on_join")
        expect(args[0]["authid"] == s._authid, f"on_join authid {args[0].get('authid')!r}")
        s.transport_handle.abort()  # a lost connection is a leave too
        await leaves.next_where(lambda a, k: a[0] == sid, "on_leave")
    finally:
        await close(watcher, s)


async def kill(c):
    killer, victim = await c.session(), await c.session()
    try:
        await killer.call(
            "wamp.session.kill", victim._session_id, reason="com.example.close.maint", message="later"
        )
        details = await asyncio.wait_for(victim.left, TIMEOUT)
        expect(details.reason == "com.example.close.maint", f"reason {details.reason!r}")
        expect(details.message == "later", f"message {details.message!r}")
    finally:
        await close(killer, victim)


async def registration_api(c):
    watcher, callee = await c.session(), await c.session()
    changes = Events()
    await watcher.subscribe(
        changes, "wamp.registration.", options=SubscribeOptions(match="prefix", details_arg="details")
    )
    uri = unique("com.example.meta.proc")
    try:
        reg = await callee.register(lambda: None, uri)
        args, kwargs = await changes.next_where(
            lambda a, k: k["details"].topic.endswith("on_create") and a[1]["uri"] == uri, "on_create"
        )
        rid = args[1]["id"]
        expect(reg.id == rid, f"on_create id {rid} for registration {reg.id}")
        expect(args[0] == callee._session_id and args[1]["match"] == "exact", f"on_create {args}")
        args, kwargs = await changes.next_where(lambda a, k: a[1] == rid, "on_register")
        expect(kwargs["details"].topic == "wamp.registration.on_register", f"after on_create: {kwargs}")
        expect(await watcher.call("wamp.registration.lookup", uri) == rid, "lookup")
        expect(await watcher.call("wamp.registration.match", uri) == rid, "match")
        expect((await watcher.call("wamp.registration.get", rid))["uri"] == uri, "get")
        expect(await watcher.call("wamp.registration.list_callees", rid) == [callee._session_id], "callees")
        expect(await watcher.call("wamp.registration.count_callees", rid) == 1, "count_callees")
        expect(rid in (await watcher.call("wamp.registration.list"))["exact"], "list")
        await reg.unregister()
        order = []
        for _ in range(2):
            _, kwargs = await changes.next_where(lambda a, k: a[1] == rid, "on_unregister/on_delete")
            order.append(kwargs["details"].topic)
        expect(order == ["wamp.registration.on_unregister", "wamp.registration.on_delete"], f"order {order}")
    finally:
        await close(watcher, callee)


async def subscription_match(c):
    subscriber, watcher = await c.session(), await c.session()
    base = unique("net.example.meta.py")
    try:
        exact = await subscriber.subscribe(lambda *a: None, f"{base}.a.on_x")
        prefix = await subscriber.subscribe(lambda *a: None, f"{base}.", options=SubscribeOptions(match="prefix"))
        wild = await subscriber.subscribe(
            lambda *a: None, f"{base}..on_x", options=SubscribeOptions(match="wildcard")
        )
        found = await watcher.call("wamp.subscription.match", f"{base}.a.on_x")
        expect(sorted(found) == sorted([exact.id, prefix.id, wild.id]), f"match {found}")
        expect(await watcher.call("wamp.subscription.match", f"{base}.c.on_z") == [prefix.id], "prefix only")
        expect(await watcher.call("wamp.subscription.lookup", f"{base}.a.on_x") == exact.id, "lookup")
        subscribers = await watcher.call("wamp.subscription.list_subscribers", wild.id)
        expect(subscribers == [subscriber._session_id], f"subscribers {subscribers}")
    finally:
        await close(subscriber, watcher)


async def testament(c):
    watcher, s = await c.session(), await c.session()
    topic = unique("com.example.meta.testament")
    events = Events()
    try:
        await watcher.subscribe(events, topic)
        await s.call("wamp.session.add_testament", topic, ["gone"], {"who": "app1"})
        await s.call("wamp.session.add_testament", topic, ["flushed"], {}, scope="detached")
        await s.call("wamp.session.flush_testaments", scope="detached")
        s.transport_handle.abort()
        args, kwargs = await events.next_where(lambda a, k: True, "the testament")
        expect(args == ("gone",) or list(args) == ["gone"], f"testament args {args}")
        expect(kwargs == {"who": "app1"}, f"testament kwargs {kwargs}")
    finally:
        await close(watcher, s)


async def remove_callee(c):
    admin, callee, caller = await c.session(), await c.session(), await c.session()
    uri = unique("com.example.meta.revoked")
    try:
        reg = await callee.register(lambda: "here", uri)
        expect(await caller.call(uri) == "here", "call before the revocation")
        await admin.call("wamp.registration.remove_callee", reg.id, callee._session_id, reason="moved")
        try:
            await caller.call(uri)
            raise CheckFailed("call after the revocation succeeded")
        except ApplicationError as e:
            expect(e.error == "wamp.error.no_such_procedure", f"call error {e.error}")
        # Autobahn announced registration_revocation and takes the
        # UNREGISTERED with request 0 in its stride: still joined and usable.
        await asyncio.sleep(0.1)
        expect(callee.is_attached(), "the callee's session ended")
        expect(await callee.call("wamp.session.count") >= 3, "the callee still calls")
    finally:
        await close(admin, callee, caller)


CHECKS = [
    ("sessions_list_count_get", sessions_list_count_get),
    ("on_join_on_leave", on_join_on_leave),
    ("kill", kill),
    ("registration_api", registration_api),
    ("subscription_match", subscription_match),
    ("testament", testament),
    ("remove_callee", remove_callee),
]


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--realm", default="realm1")
    ap.add_argument("--serializer", default="json", choices=sorted(SERIALIZERS))
    ap.add_argument("--skip", action="append", default=[], help="a check not to run (repeatable)")
    args = ap.parse_args()
    client = Client(args.url, args.realm, args.serializer)
    passed = failed = 0
    for name, check in CHECKS:
        if name in args.skip:
            print(f"skip {name}", flush=True)
            continue
        try:
            await asyncio.wait_for(check(client), 3 * TIMEOUT)
            print(f"ok {name}", flush=True)
            passed += 1
        except Exception as e:  # noqa: BLE001 - every failure is reported
            reason = str(e) or type(e).__name__
            print(f"FAIL {name}: {reason}", flush=True)
            traceback.print_exc()
            failed += 1
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
