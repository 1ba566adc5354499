#!/usr/bin/env python3
"""Mirror of Autobahn's rpc/timeservice backend: com.timeservice.now answers
the current UTC time as YYYY-MM-DDTHH:MM:SSZ."""

import datetime

from common import run_backend


async def setup(session, args):
    def utcnow():
        now = datetime.datetime.now(datetime.timezone.utc)
        return now.strftime("%Y-%m-%dT%H:%M:%SZ")

    await session.register(utcnow, "com.timeservice.now")


if __name__ == "__main__":
    run_backend("rpc_timeservice", __doc__, setup)
