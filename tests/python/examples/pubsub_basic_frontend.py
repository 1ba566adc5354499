#!/usr/bin/env python3
"""Mirror of Autobahn's pubsub/basic frontend: receives six events from
com.myapp.topic1 and checks they are consecutive counters."""

from common import bound, consecutive, run_frontend, wait_until


async def body(session, args, checks):
    received = []

    def on_event(i):
        print(f"Got event: {i}")
        received.append(i)

    await session.subscribe(on_event, "com.myapp.topic1")
    await wait_until(lambda: len(received) >= 6, bound(args, 11))
    got = received[:6]
    checks.eq(len(got), 6, "six events")
    checks.ok(all(isinstance(i, int) for i in got) and consecutive(got), "consecutive counters", repr(got))


if __name__ == "__main__":
    run_frontend(__doc__, body)
