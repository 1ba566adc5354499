#!/usr/bin/env python3
"""Autobahn|Python (asyncio) over TLS against a router: WAMP over wss:// or rss://.

Usage:
    tls_client.py --url wss://localhost:PORT/ws --realm realm1 --ca ca.pem
    tls_client.py --url rss://localhost:PORT --realm realm1 --ca ca.pem
    tls_client.py --url wss://localhost:PORT/ws --realm realm1 --expect-untrusted

With --ca, the client trusts only that CA (an ``ssl.SSLContext`` that loads
it, hostname checked), joins, registers, calls, subscribes and publishes,
printing ``ok NAME`` per step. With --expect-untrusted it trusts the system
roots and expects certificate verification to fail. Exit status 0 means all
went as expected.
"""

import argparse
import asyncio
import ssl
import sys
from urllib.parse import urlparse

import txaio

txaio.use_asyncio()

# See router_suite.py: keeps bjdata's NumPy warning off stderr.
sys.modules.setdefault("_bjdata", None)

from autobahn.asyncio.rawsocket import WampRawSocketClientFactory  # noqa: E402
from autobahn.asyncio.wamp import ApplicationSession  # noqa: E402
from autobahn.asyncio.websocket import WampWebSocketClientFactory  # noqa: E402
from autobahn.wamp.serializer import JsonSerializer  # noqa: E402
from autobahn.wamp.types import ComponentConfig, PublishOptions  # noqa: E402

TIMEOUT = 10.0


class Client(ApplicationSession):
    def __init__(self, config):
        super().__init__(config)
        self.joined = asyncio.get_running_loop().create_future()

    def onJoin(self, details):
        if not self.joined.done():
            self.joined.set_result(details)

    def onLeave(self, details):
        if not self.joined.done():
            self.joined.set_exception(ConnectionError(f"join refused: {details.reason}"))
        return super().onLeave(details)

    def onDisconnect(self):
        if not self.joined.done():
            self.joined.set_exception(ConnectionError("transport closed before WELCOME"))
        return super().onDisconnect()


async def connect(url, realm, context):
    parsed = urlparse(url)
    loop = asyncio.get_running_loop()
    session = Client(ComponentConfig(realm=realm))
    serializer = JsonSerializer()
    if parsed.scheme == "wss":
        factory = WampWebSocketClientFactory(lambda: session, url=url, serializers=[serializer])
    elif parsed.scheme == "rss":
        factory = WampRawSocketClientFactory(lambda: session, serializer=serializer)
    else:
        raise SystemExit(f"unsupported URL scheme {parsed.scheme!r} (use wss:// or rss://)")
    transport, _ = await asyncio.wait_for(
        loop.create_connection(
            factory, parsed.hostname, parsed.port, ssl=context, server_hostname=parsed.hostname
        ),
        TIMEOUT,
    )
    try:
        await asyncio.wait_for(session.joined, TIMEOUT)
    except BaseException:
        transport.abort()
        raise
    return session


async def round_trip(url, realm, ca):
    context = ssl.create_default_context(cafile=ca)
    s = await connect(url, realm, context)
    print(f"ok join session={s.session_id}")

    await s.register(lambda a, b: a + b, "com.tls.python.add2")
    result = await asyncio.wait_for(s.call("com.tls.python.add2", 2, 3), TIMEOUT)
    if result != 5:
        raise AssertionError(f"add2(2, 3) returned {result!r}")
    print("ok call")

    got = asyncio.get_running_loop().create_future()
    await s.subscribe(lambda msg: got.done() or got.set_result(msg), "com.tls.python.hello")
    await s.publish(
        "com.tls.python.hello",
        "hello over TLS",
        options=PublishOptions(acknowledge=True, exclude_me=False),
    )
    event = await asyncio.wait_for(got, TIMEOUT)
    if event != "hello over TLS":
        raise AssertionError(f"event {event!r}")
    print("ok publish")

    s.leave()
    await asyncio.sleep(0.1)
    print("ok leave")


async def untrusted(url, realm):
    try:
        s = await connect(url, realm, ssl.create_default_context())
    except ssl.SSLCertVerificationError as e:
        print(f"ok untrusted refused: {e.verify_message}")
        return
    s.leave()
    raise AssertionError("connected to a server whose CA is not trusted")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--realm", default="realm1")
    parser.add_argument("--ca", help="PEM file of the CA to trust")
    parser.add_argument("--expect-untrusted", action="store_true")
    args = parser.parse_args()
    try:
        if args.expect_untrusted:
            asyncio.run(untrusted(args.url, args.realm))
        else:
            if not args.ca:
                raise SystemExit("--ca is required")
            asyncio.run(round_trip(args.url, args.realm, args.ca))
    except Exception as e:  # noqa: BLE001 - report any failure as one line
        print(f"FAIL {type(e).__name__}: {e}")
        sys.exit(1)


if __name__ == "__main__":
    main()
