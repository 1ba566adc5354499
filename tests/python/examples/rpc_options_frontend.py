#!/usr/bin/env python3
"""Mirror of Autobahn's rpc/options frontend: squares 2, 0 and -2 disclosing
itself while subscribed to com.myapp.square_on_nonpositive; only the event
for -2 may arrive (the one for 0 excludes the caller)."""

from common import bound, run_frontend, wait_until


async def body(session, args, checks):
    # Autobahn's example passes CallOptions(disclose_me=True), which 26.x
    # no longer has: put the option on the wire ourselves.
    session.disclose_me_on_calls()
    events = []

    def on_event(val):
        print(f"Someone requested to square non-positive: {val}")
        events.append(val)

    await session.subscribe(on_event, "com.myapp.square_on_nonpositive")
    for val in [2, 0, -2]:
        res = await session.call("com.myapp.square", val)
        print(f"Squared {val} = {res}")
        checks.eq(res, val * val, f"square({val})")
    # Events from one publisher arrive in order: once -2 is here, 0 would be too.
    await wait_until(lambda: -2 in events, bound(args))
    checks.eq(events, [-2], "events: -2 only (the caller was excluded for 0)")


if __name__ == "__main__":
    run_frontend(__doc__, body)
