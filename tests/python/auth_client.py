#!/usr/bin/env python3
"""Autobahn|Python authenticating against a router with the users of an
auth fixture (auth_fixture.json): ticket, WAMP-CRA (plain and salted
secrets) and cryptosign, right and wrong credentials, and a role's
permissions.

Usage:
    auth_client.py --url ws://127.0.0.1:PORT/ws --fixture auth_fixture.json \\
                   [--serializer json|msgpack|cbor] [--realm REALM]

Output: one line per check, ``ok NAME`` or ``FAIL NAME: reason``, then
``N passed, M failed``. Exit status is 0 only when nothing failed.
"""

import argparse
import asyncio
import json
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
from autobahn.wamp.auth import create_authenticator  # noqa: E402
from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer  # noqa: E402
from autobahn.wamp.types import ComponentConfig  # noqa: E402

SERIALIZERS = {"json": JsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer}
TIMEOUT = 10.0


class CheckFailed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise CheckFailed(what)


class AuthSession(ApplicationSession):
    """Joins with one authenticator; resolves ``outcome`` with
    ("joined", SessionDetails) or ("refused", CloseDetails)."""

    def __init__(self, config, authenticator):
        super().__init__(config)
        self.authenticator = authenticator
        self.outcome = asyncio.get_running_loop().create_future()

    def onConnect(self):
        a = self.authenticator
        self.join(
            self.config.realm,
            authmethods=[a.name],
            authid=a._args.get("authid"),
            authextra=a.authextra,
        )

    def onChallenge(self, challenge):
        return self.authenticator.on_challenge(self, challenge)

    def onJoin(self, details):
        if not self.outcome.done():
            self.outcome.set_result(("joined", details))

    def onLeave(self, details):
        if not self.outcome.done():
            self.outcome.set_result(("refused", details))
        self.disconnect()

    def onDisconnect(self):
        if not self.outcome.done():
            self.outcome.set_result(("refused", None))


class Client:
    def __init__(self, url, realm, serializer):
        self.url = url
        self.realm = realm
        self.serializer = serializer
        u = urlparse(url)
        self.scheme, self.host, self.port = u.scheme, u.hostname, u.port

    async def session(self, method, **kw):
        """Opens a transport and tries to join; returns (outcome, details, session)."""
        session = AuthSession(ComponentConfig(realm=self.realm), create_authenticator(method, **kw))
        serializer = SERIALIZERS[self.serializer]()
        loop = asyncio.get_running_loop()
        if self.scheme == "ws":
            factory = WampWebSocketClientFactory(lambda: session, url=self.url, serializers=[serializer])
        else:
            factory = WampRawSocketClientFactory(lambda: session, serializer=serializer)
        transport, _ = await loop.create_connection(factory, self.host, self.port)
        try:
            outcome, details = await asyncio.wait_for(session.outcome, TIMEOUT)
        except BaseException:
            transport.abort()
            raise
        return outcome, details, session


async def close(session):
    if session.is_attached():
        session.leave()
    await asyncio.sleep(0.05)


def checks(fixture):
    t = fixture["ticket"]["joe"]
    peter = fixture["wampcra"]["peter"]
    salty = fixture["wampcra"]["salty"]
    alice = fixture["cryptosign"]["alice"]

    async def joins(client, name, method, authid, role, **kw):
        outcome, details, s = await client.session(method, authid=authid, **kw)
        expect(outcome == "joined", f"{name}: refused: {details}")
        try:
            expect(details.authid == authid, f"authid {details.authid!r}")
            expect(details.authrole == role, f"authrole {details.authrole!r}")
            expect(details.authmethod == method, f"authmethod {details.authmethod!r}")
            expect(details.authprovider == "static", f"authprovider {details.authprovider!r}")
        finally:
            await close(s)

    async def refused(client, name, method, **kw):
        outcome, details, s = await client.session(method, **kw)
        if outcome == "joined":
            await close(s)
            raise CheckFailed(f"{name}: joined with wrong credentials")
        reason = details.reason if details else None
        expect(reason == "wamp.error.not_authorized", f"{name}: reason {reason!r}")

    async def ticket_ok(c):
        await joins(c, "ticket", "ticket", "joe", t["role"], ticket=t["ticket"])

    async def ticket_wrong(c):
        await refused(c, "ticket", "ticket", authid="joe", ticket="not-the-ticket")

    async def wampcra_ok(c):
        await joins(c, "wampcra", "wampcra", "peter", peter["role"], secret=peter["secret"])

    async def wampcra_salted_ok(c):
        await joins(c, "wampcra salted", "wampcra", "salty", salty["role"], secret=salty["secret"])

    async def wampcra_wrong(c):
        await refused(c, "wampcra", "wampcra", authid="peter", secret="not-the-secret")

    async def cryptosign_ok(c):
        await joins(c, "cryptosign", "cryptosign", "alice", alice["role"], privkey=alice["private_key"])

    async def cryptosign_wrong_key(c):
        await refused(
            c, "cryptosign", "cryptosign", authid="alice", privkey=fixture["stranger_private_key"]
        )

    async def permissions(c):
        # joe's role may call and subscribe under com.example., not register or publish.
        outcome, details, s = await c.session("ticket", authid="joe", ticket=t["ticket"])
        expect(outcome == "joined", f"refused: {details}")
        try:
            try:
                await s.register(lambda: None, "com.example.autobahn.proc")
                raise CheckFailed("register was allowed")
            except ApplicationError as e:
                expect(e.error == "wamp.error.not_authorized", f"register error {e.error}")
            try:
                await s.call("com.example.autobahn.nobody")
                raise CheckFailed("call of an unregistered procedure succeeded")
            except ApplicationError as e:
                expect(e.error == "wamp.error.no_such_procedure", f"call error {e.error}")
            await s.subscribe(lambda: None, "com.example.autobahn.topic")
        finally:
            await close(s)

    return [
        ("ticket_ok", ticket_ok),
        ("ticket_wrong", ticket_wrong),
        ("wampcra_ok", wampcra_ok),
        ("wampcra_salted_ok", wampcra_salted_ok),
        ("wampcra_wrong", wampcra_wrong),
        ("cryptosign_ok", cryptosign_ok),
        ("cryptosign_wrong_key", cryptosign_wrong_key),
        ("permissions", permissions),
    ]


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--realm", help="default: the fixture's realm")
    ap.add_argument("--serializer", default="json", choices=sorted(SERIALIZERS))
    args = ap.parse_args()
    with open(args.fixture) as f:
        fixture = json.load(f)
    client = Client(args.url, args.realm or fixture["realm"], args.serializer)
    passed = failed = 0
    for name, check in checks(fixture):
        try:
            await asyncio.wait_for(check(client), TIMEOUT)
            print(f"ok {name}", flush=True)
            passed += 1
        except CheckFailed as e:
            print(f"FAIL {name}: {e}", flush=True)
            failed += 1
        except Exception as e:
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
            traceback.print_exc()
            failed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    asyncio.run(main())
