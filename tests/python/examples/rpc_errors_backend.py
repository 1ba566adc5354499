#!/usr/bin/env python3
"""Mirror of Autobahn's rpc/errors backend: com.myapp.sqrt raises plain
exceptions (wamp.error.runtime_error), com.myapp.checkname raises
ApplicationErrors with args or kwargs, com.myapp.compare a mapped exception
class (com.myapp.error1)."""

import math

from autobahn import wamp
from autobahn.wamp.exception import ApplicationError

from common import run_backend


@wamp.error("com.myapp.error1")
class AppError1(Exception):
    """An application exception with a WAMP error URI."""


async def setup(session, args):
    def sqrt(x):
        if x == 0:
            raise Exception("don't ask foolish questions;)")
        # raises ValueError("math domain error") for x < 0
        return math.sqrt(x)

    def checkname(name):
        if name in ["foo", "bar"]:
            raise ApplicationError("com.myapp.error.reserved")
        if name.lower() != name.upper():
            raise ApplicationError("com.myapp.error.mixed_case", name.lower(), name.upper())
        if len(name) < 3 or len(name) > 10:
            raise ApplicationError("com.myapp.error.invalid_length", min=3, max=10)

    session.define(AppError1)

    def compare(a, b):
        if a < b:
            raise AppError1(b - a)

    await session.register(sqrt, "com.myapp.sqrt")
    await session.register(checkname, "com.myapp.checkname")
    await session.register(compare, "com.myapp.compare")


if __name__ == "__main__":
    run_backend("rpc_errors", __doc__, setup)
