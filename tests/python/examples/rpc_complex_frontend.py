#!/usr/bin/env python3
"""Mirror of Autobahn's rpc/complex frontend: reads keyword and positional
results of com.myapp.add_complex and com.myapp.split_name."""

from autobahn.wamp.types import CallResult

from common import run_frontend


async def body(session, args, checks):
    res = await session.call("com.myapp.add_complex", 2, 3, 4, 5)
    print(f"Result: {getattr(res, 'kwresults', {}).get('c')} + {getattr(res, 'kwresults', {}).get('ci')}i")
    if checks.ok(isinstance(res, CallResult), "add_complex answers a CallResult", repr(res)):
        checks.eq((list(res.results), res.kwresults), ([], {"c": 6, "ci": 8}), "add_complex(2, 3, 4, 5)")

    res = await session.call("com.myapp.split_name", "Homer Simpson")
    if checks.ok(isinstance(res, CallResult), "split_name answers a CallResult", repr(res)):
        print(f"Forname: {res.results[0]}, Surname: {res.results[1]}")
        checks.eq((list(res.results), res.kwresults), (["Homer", "Simpson"], {}), "split_name(...)")

    await checks.error(session.call("com.myapp.split_name", "Homer"), "wamp.error.runtime_error",
                       ["not enough values to unpack (expected 2, got 1)"], {}, "split_name('Homer')")


if __name__ == "__main__":
    run_frontend(__doc__, body)
