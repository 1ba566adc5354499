#!/usr/bin/env python3
"""Mirror of Autobahn's rpc/complex backend: com.myapp.add_complex answers
keyword results c and ci, com.myapp.split_name two positional results."""

from autobahn.wamp.types import CallResult

from common import run_backend


async def setup(session, args):
    def add_complex(a, ai, b, bi):
        return CallResult(c=a + b, ci=ai + bi)

    def split_name(fullname):
        forename, surname = fullname.split()
        return CallResult(forename, surname)

    await session.register(add_complex, "com.myapp.add_complex")
    await session.register(split_name, "com.myapp.split_name")


if __name__ == "__main__":
    run_backend("rpc_complex", __doc__, setup)
