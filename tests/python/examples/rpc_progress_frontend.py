#!/usr/bin/env python3
"""Mirror of Autobahn's rpc/progress frontend: calls com.myapp.longop(3) with
progressive results, then once without."""

from autobahn.wamp.types import CallOptions

from common import run_frontend


async def body(session, args, checks):
    progress = []

    def on_progress(i):
        print(f"Progress: {i}")
        progress.append(i)

    res = await session.call("com.myapp.longop", 3, options=CallOptions(on_progress=on_progress))
    print(f"Final: {res}")
    checks.eq(progress, [0, 1, 2], "progressive results")
    checks.eq(res, 3, "final result")
    checks.eq(await session.call("com.myapp.longop", 2), 2, "longop(2) without progress")


if __name__ == "__main__":
    run_frontend(__doc__, body)
