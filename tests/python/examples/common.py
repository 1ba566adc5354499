"""Shared helpers of the Autobahn|Python example mirrors in this directory.

Each ``<example>_backend.py`` / ``<example>_frontend.py`` mirrors the
Autobahn|Python example of that name (``examples/asyncio/wamp/...``), with
the same URIs, arguments, results, errors and events, so that they can be
paired with the Rust examples of ``examples/`` in either direction.

Differences from Autobahn's originals, all for testing:

* the router URL and realm come from ``--url``/``--realm`` (or the
  ``WAMP_URL``/``WAMP_REALM`` environment), default ``ws://127.0.0.1:8080/ws``
  and ``realm1``;
* ``--interval`` scales every "one second" of the originals (publishing
  period, progress step, pauses); the Rust examples read ``WAMP_INTERVAL_MS``;
* backends print ``<name> backend ready`` once registered/subscribed;
* frontends CHECK what they receive: one ``ok WHAT`` or ``FAIL WHAT: ...``
  line per check, then ``N passed, M failed``; the exit status is 0 only
  when nothing failed.
"""

import argparse
import asyncio
import os
import sys
import traceback
from urllib.parse import urlparse

import txaio

txaio.use_asyncio()

# autobahn.wamp.serializer imports bjdata, whose C extension was built
# against NumPy 1.x and prints a long warning under NumPy 2.x before falling
# back to pure Python; a None entry makes that import fail quietly.
sys.modules.setdefault("_bjdata", None)

from autobahn.asyncio.rawsocket import WampRawSocketClientFactory  # noqa: E402
from autobahn.asyncio.wamp import ApplicationSession  # noqa: E402
from autobahn.asyncio.websocket import WampWebSocketClientFactory  # noqa: E402
from autobahn.wamp import message  # noqa: E402
from autobahn.wamp.serializer import (  # noqa: E402
    CBORSerializer,
    JsonSerializer,
    MsgPackSerializer,
)
from autobahn.wamp.types import ComponentConfig  # noqa: E402

SERIALIZERS = {"json": JsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer}
JOIN_TIMEOUT = 10.0
FRONTEND_TIMEOUT = 60.0


def parse_args(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--url", default=os.environ.get("WAMP_URL") or "ws://127.0.0.1:8080/ws")
    ap.add_argument("--realm", default=os.environ.get("WAMP_REALM") or "realm1")
    ap.add_argument("--serializer", default="json", choices=sorted(SERIALIZERS))
    default_interval = float(os.environ.get("WAMP_INTERVAL_MS") or 1000) / 1000
    ap.add_argument("--interval", type=float, default=default_interval,
                    help="the examples' unit of time in seconds (Autobahn's: 1)")
    return ap.parse_args()


def bound(args, units=5):
    """How long to wait for something that should come within a few intervals."""
    return args.interval * units + 5.0


# Autobahn 26.x no longer puts ``disclose_me`` into CALL options (Crossbar
# discloses by router configuration), but Autobahn's rpc/options frontend
# asks for it and routers that follow the spec need it. As in
# ../router_suite.py, outgoing messages are re-classed to subclasses that
# add keys to the marshalled Options (empty __slots__ keep the layout).
def _with_extra_options(base, extra):
    class Extended(base):
        __slots__ = ()

        def marshal_options(self):
            options = super().marshal_options()
            options.update(extra)
            return options

    Extended.__name__ = base.__name__
    return Extended


class ExampleSession(ApplicationSession):
    """An ApplicationSession with join/leave futures and outgoing rewrites."""

    def __init__(self, config):
        super().__init__(config)
        loop = asyncio.get_running_loop()
        self.joined = loop.create_future()
        self.left = loop.create_future()
        self.rewrites = []

    def disclose_me_on_calls(self):
        """Ask the router to disclose this caller on every CALL."""
        extended = _with_extra_options(message.Call, {"disclose_me": True})

        def rewrite(msg):
            if type(msg) is message.Call:
                msg.__class__ = extended
            return msg

        self.rewrites.append(rewrite)

    def onOpen(self, transport):
        send = transport.send

        def rewriting_send(msg):
            for rewrite in self.rewrites:
                msg = rewrite(msg)
            return send(msg)

        transport.send = rewriting_send
        super().onOpen(transport)

    def onJoin(self, details):
        if not self.joined.done():
            self.joined.set_result(details)

    def onLeave(self, details):
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


async def connect(args):
    """Open a transport to ``args.url``, join ``args.realm``, return the session."""
    url = urlparse(args.url)
    session = ExampleSession(ComponentConfig(realm=args.realm))
    serializer = SERIALIZERS[args.serializer]()
    if url.scheme in ("ws", "wss"):
        factory = WampWebSocketClientFactory(lambda: session, url=args.url, serializers=[serializer])
    elif url.scheme in ("rs", "tcp"):
        factory = WampRawSocketClientFactory(lambda: session, serializer=serializer)
    else:
        raise SystemExit(f"unsupported URL {args.url!r} (use ws:// or rs://)")
    port = url.port or (80 if url.scheme == "ws" else 8081)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_connection(factory, url.hostname or "127.0.0.1", port)
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
            await asyncio.wait_for(asyncio.shield(session.left), 2.0)
        except asyncio.TimeoutError:
            pass


class Checks:
    """Counts checks and prints one line per check."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            print(f"ok {what}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {what}{': ' + detail if detail else ''}", flush=True)
        return cond

    def eq(self, actual, expected, what):
        return self.ok(actual == expected, what, f"expected {expected!r}, got {actual!r}")

    async def error(self, call, uri, args, kwargs, what):
        """Check that awaiting ``call`` fails with this error URI and payload."""
        from autobahn.wamp.exception import ApplicationError

        try:
            res = await call
        except ApplicationError as e:
            got = (e.error, list(e.args), dict(e.kwargs or {}))
            return self.eq(got, (uri, list(args), dict(kwargs)), what)
        return self.ok(False, what, f"expected error {uri}, got result {res!r}")


def run_frontend(description, body):
    """Connect, run ``await body(session, args, checks)``, leave, print the
    summary and exit with its status."""
    args = parse_args(description)
    checks = Checks()

    async def main():
        session = await connect(args)
        try:
            await asyncio.wait_for(body(session, args, checks), FRONTEND_TIMEOUT)
        finally:
            await leave(session)

    try:
        asyncio.run(main())
    except Exception as e:  # a frontend that breaks down is one more failure
        traceback.print_exc()
        checks.ok(False, "frontend ran to its end", f"{type(e).__name__}: {e}")
    print(f"{checks.passed} passed, {checks.failed} failed", flush=True)
    sys.exit(0 if checks.failed == 0 and checks.passed > 0 else 1)


def run_backend(name, description, setup):
    """Connect, run ``await setup(session, args)`` (register, subscribe,
    start publishing), print ``<name> backend ready`` and serve until the
    session ends or the process is stopped."""
    args = parse_args(description)

    async def main():
        session = await connect(args)
        await setup(session, args)
        print(f"{name} backend ready", flush=True)
        await session.left
        return 1  # the router closed the session

    sys.exit(asyncio.run(main()))


# The event loop keeps only weak references to tasks: hold on to them.
_TASKS = []


def periodic(interval, step):
    """Run ``step(counter)`` (a function or coroutine function) for counter =
    0, 1, ... every ``interval`` seconds, as Autobahn's publishing backends
    do in a loop in onJoin."""

    async def loop():
        counter = 0
        while True:
            result = step(counter)
            if asyncio.iscoroutine(result):
                await result
            counter += 1
            await asyncio.sleep(interval)

    task = asyncio.get_running_loop().create_task(loop())
    _TASKS.append(task)
    return task


async def wait_until(predicate, timeout):
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass; return it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate() and loop.time() < deadline:
        await asyncio.sleep(0.02)
    return predicate()


def consecutive(numbers):
    return all(b == a + 1 for a, b in zip(numbers, numbers[1:]))
