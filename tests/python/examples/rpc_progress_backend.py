#!/usr/bin/env python3
"""Mirror of Autobahn's rpc/progress backend: com.myapp.longop(n) sends
0..n-1 as progressive results, one per interval, then n."""

import asyncio

from autobahn.wamp.types import RegisterOptions

from common import run_backend


async def setup(session, args):
    async def longop(n, details=None):
        if details.progress:
            for i in range(n):
                details.progress(i)
                await asyncio.sleep(args.interval)
        else:
            await asyncio.sleep(args.interval * n)
        return n

    await session.register(longop, "com.myapp.longop", RegisterOptions(details_arg="details"))


if __name__ == "__main__":
    run_backend("rpc_progress", __doc__, setup)
