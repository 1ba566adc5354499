#!/usr/bin/env python3
"""Mirror of Autobahn's rpc/arguments backend: com.arguments.ping, add2,
stars, orders and arglen."""

from common import run_backend


async def setup(session, args):
    def ping():
        return

    def add2(a, b):
        return a + b

    def stars(nick="somebody", stars=0):
        return f"{nick} starred {stars}x"

    def orders(product, limit=5):
        return [f"Product {i}" for i in range(50)][:limit]

    def arglen(*args, **kwargs):
        return [len(args), len(kwargs)]

    await session.register(ping, "com.arguments.ping")
    await session.register(add2, "com.arguments.add2")
    await session.register(stars, "com.arguments.stars")
    await session.register(orders, "com.arguments.orders")
    await session.register(arglen, "com.arguments.arglen")
    print("Registered methods; ready for frontend.")


if __name__ == "__main__":
    run_backend("rpc_arguments", __doc__, setup)
