#!/usr/bin/env python3
"""Mirror of Autobahn's pubsub/complex frontend: listens to com.myapp.heartbeat
and com.myapp.topic2 for five intervals and checks the payloads."""

import asyncio

from autobahn.wamp.types import SubscribeOptions

from common import consecutive, run_frontend


async def body(session, args, checks):
    heartbeats = []
    events = []

    def on_heartbeat(*payload, details=None, **kwpayload):
        print(f"Got heartbeat (publication ID {details.publication})")
        heartbeats.append((payload, kwpayload))

    def on_topic2(a, b, c=None, d=None):
        print(f"Got event: {a} {b} {c} {d}")
        events.append((a, b, c, d))

    await session.subscribe(on_heartbeat, "com.myapp.heartbeat", options=SubscribeOptions(details_arg="details"))
    await session.subscribe(on_topic2, "com.myapp.topic2")
    await asyncio.sleep(5 * args.interval)

    checks.ok(len(heartbeats) >= 3, "at least 3 heartbeats in 5 intervals", f"got {len(heartbeats)}")
    checks.ok(all(h == ((), {}) for h in heartbeats), "heartbeats have no payload", repr(heartbeats[:3]))
    checks.ok(len(events) >= 3, "at least 3 topic2 events in 5 intervals", f"got {len(events)}")
    checks.ok(all(isinstance(a, int) and 0 <= a <= 100 for a, _, _, _ in events), "a is randint(0, 100)",
              repr(events))
    checks.ok(all(b == 23 and c == "Hello" for _, b, c, _ in events), "b == 23, c == 'Hello'", repr(events))
    ds = [d for _, _, _, d in events]
    checks.ok(all(isinstance(d, dict) and d.get("foo") == [1, 2, 3] for d in ds), "d['foo'] == [1, 2, 3]",
              repr(ds))
    checks.ok(consecutive([d.get("counter") for d in ds if isinstance(d, dict)]), "d['counter'] counts up",
              repr(ds))


if __name__ == "__main__":
    run_frontend(__doc__, body)
