#!/usr/bin/env python3
"""Mirror of Autobahn's pubsub/options frontend: receives six events from
com.myapp.topic1 with their details."""

from autobahn.wamp.types import SubscribeOptions

from common import bound, consecutive, run_frontend, wait_until


async def body(session, args, checks):
    received = []

    def on_event(i, details=None):
        print(f"Got event, publication ID {details.publication}, publisher {details.publisher}: {i}")
        received.append((i, details.publication))

    await session.subscribe(on_event, "com.myapp.topic1", options=SubscribeOptions(details_arg="details"))
    await wait_until(lambda: len(received) >= 6, bound(args, 11))
    got = received[:6]
    checks.eq(len(got), 6, "six events")
    checks.ok(consecutive([i for i, _ in got]), "consecutive counters", repr(got))
    ids = [p for _, p in got]
    checks.ok(all(isinstance(p, int) and p > 0 for p in ids) and len(set(ids)) == len(ids),
              "distinct publication IDs", repr(ids))


if __name__ == "__main__":
    run_frontend(__doc__, body)
