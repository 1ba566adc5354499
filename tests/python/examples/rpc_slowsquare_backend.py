#!/usr/bin/env python3
"""Mirror of Autobahn's rpc/slowsquare backend: com.math.square(x) and
com.math.slowsquare(x, delay=1), which answers after `delay` seconds."""

import asyncio

from common import run_backend


async def setup(session, args):
    def square(x):
        return x * x

    async def slowsquare(x, delay=1):
        await asyncio.sleep(delay)
        return x * x

    await session.register(square, "com.math.square")
    await session.register(slowsquare, "com.math.slowsquare")


if __name__ == "__main__":
    run_backend("rpc_slowsquare", __doc__, setup)
