#!/usr/bin/env python3
"""Calls paths under the guide's com.myapp.<suffix:path> procedure."""

from common import run_frontend


async def body(session, args, checks):
    call = session.call
    checks.eq(await call("com.myapp.proc.echo", "hello"), "hello", "proc.echo('hello')")
    checks.eq(await call("com.myapp.proc.echo", -7), -7, "proc.echo(-7)")
    checks.eq(await call("com.myapp.proc.upper", "shout"), "SHOUT", "proc.upper('shout')")
    missing = "wamp.error.no_such_procedure"
    await checks.error(call("com.myapp.proc.upper"), missing, ["com.myapp.proc.upper takes one string"], {},
                       "proc.upper()")
    await checks.error(call("com.myapp.other.path"), missing, ["no procedure com.myapp.other.path"], {},
                       "other.path()")


if __name__ == "__main__":
    run_frontend(__doc__, body)
