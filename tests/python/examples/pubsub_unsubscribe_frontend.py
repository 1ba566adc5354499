#!/usr/bin/env python3
"""Mirror of Autobahn's pubsub/unsubscribe frontend: six events, unsubscribe,
pause five intervals, subscribe again for six more; the counters published
during the pause must be missing."""

import asyncio

from common import bound, consecutive, run_frontend, wait_until


async def body(session, args, checks):
    runs = []
    for run in (1, 2):
        received = []

        def on_event(i, received=received):
            print(f"Got event: {i}")
            received.append(i)

        subscription = await session.subscribe(on_event, "com.myapp.topic1")
        print(f"Subscribed with subscription ID {subscription.id}")
        await wait_until(lambda: len(received) >= 6, bound(args, 11))
        await subscription.unsubscribe()
        runs.append(list(received))
        checks.ok(len(received) >= 6 and consecutive(received), f"run {run}: six consecutive events",
                  repr(received))
        if run == 1:
            print("Unsubscribed .. continue in 5 intervals ..")
            await asyncio.sleep(5 * args.interval)
    if all(runs):
        gap = runs[1][0] - runs[0][-1]
        checks.ok(gap >= 3, "events during the pause were not delivered", f"run 1 {runs[0]}, run 2 {runs[1]}")


if __name__ == "__main__":
    run_frontend(__doc__, body)
