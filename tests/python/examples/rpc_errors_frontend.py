#!/usr/bin/env python3
"""Mirror of Autobahn's rpc/errors frontend: makes each procedure fail in
every way and checks the error URIs, args and kwargs."""

import math

from autobahn import wamp

from common import run_frontend


@wamp.error("com.myapp.error1")
class AppError1(Exception):
    """An application exception with a WAMP error URI."""


async def body(session, args, checks):
    call = session.call
    checks.eq(await call("com.myapp.sqrt", 2), math.sqrt(2), "sqrt(2)")
    runtime = "wamp.error.runtime_error"
    await checks.error(call("com.myapp.sqrt", 0), runtime, ["don't ask foolish questions;)"], {}, "sqrt(0)")
    await checks.error(call("com.myapp.sqrt", -2), runtime, ["math domain error"], {}, "sqrt(-2)")

    check = "com.myapp.checkname"
    await checks.error(call(check, "foo"), "com.myapp.error.reserved", [], {}, "checkname('foo')")
    await checks.error(call(check, "Foo"), "com.myapp.error.mixed_case", ["foo", "FOO"], {}, "checkname('Foo')")
    await checks.error(call(check, "a"), "com.myapp.error.mixed_case", ["a", "A"], {}, "checkname('a')")
    await checks.error(call(check, "*" * 11), "com.myapp.error.invalid_length", [], {"min": 3, "max": 10},
                       "checkname('*' * 11)")
    await checks.error(call(check, "Hello"), "com.myapp.error.mixed_case", ["hello", "HELLO"], {},
                       "checkname('Hello')")
    checks.eq(await call(check, "12345"), None, "checkname('12345')")

    session.define(AppError1)
    try:
        await call("com.myapp.compare", 3, 17)
        checks.ok(False, "compare(3, 17) raises AppError1", "no error")
    except AppError1 as e:
        print(f"Compare Error: {e}")
        checks.eq(e.args, (14,), "compare(3, 17) raises AppError1(14)")
    checks.eq(await call("com.myapp.compare", 17, 3), None, "compare(17, 3)")


if __name__ == "__main__":
    run_frontend(__doc__, body)
