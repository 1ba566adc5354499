#!/usr/bin/env python3
"""The guide's prefix procedure in Autobahn|Python: com.myapp.<suffix:path>,
registered as the prefix com.myapp.; path is read from details.procedure."""

from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import RegisterOptions

from common import run_backend


async def setup(session, args):
    def generic_proc(value=None, details=None):
        path = details.procedure[len("com.myapp."):]
        if path == "proc.echo":
            return value
        if path == "proc.upper" and isinstance(value, str):
            return value.upper()
        if path == "proc.upper":
            raise ApplicationError("wamp.error.no_such_procedure", f"com.myapp.{path} takes one string")
        raise ApplicationError("wamp.error.no_such_procedure", f"no procedure com.myapp.{path}")

    options = RegisterOptions(match="prefix", details_arg="details")
    await session.register(generic_proc, "com.myapp.", options)


if __name__ == "__main__":
    run_backend("rpc_suffix", __doc__, setup)
