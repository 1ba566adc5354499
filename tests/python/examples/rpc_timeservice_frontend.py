#!/usr/bin/env python3
"""Mirror of Autobahn's rpc/timeservice frontend: calls com.timeservice.now
and checks that it is the current UTC time in the right format."""

import datetime

from common import run_frontend


async def body(session, args, checks):
    now = await session.call("com.timeservice.now")
    print(f"Current time from time service: {now}")
    try:
        parsed = datetime.datetime.strptime(now, "%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError) as e:
        checks.ok(False, "now is YYYY-MM-DDTHH:MM:SSZ", f"{now!r}: {e}")
        return
    checks.ok(True, "now is YYYY-MM-DDTHH:MM:SSZ")
    utc = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    skew = abs((utc - parsed).total_seconds())
    checks.ok(skew < 300, "now is the current UTC time", f"{skew:.0f} s off")


if __name__ == "__main__":
    run_frontend(__doc__, body)
