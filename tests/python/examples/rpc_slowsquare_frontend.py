#!/usr/bin/env python3
"""Mirror of Autobahn's rpc/slowsquare frontend: calls slowsquare(3, 2) and
square(3) concurrently; the quick one must come back first."""

import asyncio
import time

from common import run_frontend


async def body(session, args, checks):
    done = []
    delay = 2 * args.interval

    async def timed(label, call):
        started = time.monotonic()
        res = await call
        elapsed = time.monotonic() - started
        print(f"{label}: {res} in {1000 * elapsed:.0f} ms")
        done.append((label, res, elapsed))

    await asyncio.gather(
        timed("Slow Square", session.call("com.math.slowsquare", 3, delay)),
        timed("Quick Square", session.call("com.math.square", 3)),
    )
    print("All finished.")
    checks.eq([(label, res) for label, res, _ in done], [("Quick Square", 9), ("Slow Square", 9)],
              "results, quick one first")
    slow = [elapsed for label, _, elapsed in done if label == "Slow Square"]
    checks.ok(slow and slow[0] >= 0.9 * delay, f"slowsquare took its delay of {delay} s", repr(slow))


if __name__ == "__main__":
    run_frontend(__doc__, body)
