#!/usr/bin/env python3
"""Mirror of Autobahn's rpc/options backend: com.myapp.square(val) publishes
com.myapp.square_on_nonpositive for val < 0, and for val == 0 to everyone
but the (disclosed) caller."""

from autobahn.wamp.types import PublishOptions, RegisterOptions

from common import run_backend


async def setup(session, args):
    def square(val, details=None):
        print(f"square called from: {details.caller}")
        if val < 0:
            session.publish("com.myapp.square_on_nonpositive", val)
        elif val == 0:
            options = PublishOptions(exclude=[details.caller]) if details.caller else None
            session.publish("com.myapp.square_on_nonpositive", val, options=options)
        return val * val

    await session.register(square, "com.myapp.square", RegisterOptions(details_arg="details"))


if __name__ == "__main__":
    run_backend("rpc_options", __doc__, setup)
