#!/usr/bin/env python3
"""Mirror of Autobahn's rpc/arguments frontend: calls every procedure with
every variant of arguments and checks the results."""

from common import run_frontend


async def body(session, args, checks):
    call = session.call
    checks.eq(await call("com.arguments.ping"), None, "ping()")
    checks.eq(await call("com.arguments.add2", 2, 3), 5, "add2(2, 3)")
    checks.eq(await call("com.arguments.add2", 1.5, 2), 3.5, "add2(1.5, 2)")
    checks.eq(await call("com.arguments.stars"), "somebody starred 0x", "stars()")
    checks.eq(await call("com.arguments.stars", nick="Homer"), "Homer starred 0x", "stars(nick)")
    checks.eq(await call("com.arguments.stars", stars=5), "somebody starred 5x", "stars(stars)")
    checks.eq(await call("com.arguments.stars", nick="Homer", stars=5), "Homer starred 5x",
              "stars(nick, stars)")
    products = [f"Product {i}" for i in range(50)]
    checks.eq(await call("com.arguments.orders", "coffee"), products[:5], "orders(product)")
    checks.eq(await call("com.arguments.orders", "coffee", limit=10), products[:10],
              "orders(product, limit=10)")
    checks.eq(await call("com.arguments.arglen"), [0, 0], "arglen()")
    checks.eq(await call("com.arguments.arglen", 1, 2, 3), [3, 0], "arglen(1, 2, 3)")
    checks.eq(await call("com.arguments.arglen", a=1, b=2, c=3), [0, 3], "arglen(a, b, c)")
    checks.eq(await call("com.arguments.arglen", 1, 2, 3, a=1, b=2, c=3), [3, 3],
              "arglen(1, 2, 3, a, b, c)")


if __name__ == "__main__":
    run_frontend(__doc__, body)
