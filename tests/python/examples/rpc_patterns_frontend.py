#!/usr/bin/env python3
"""Calls concrete URIs of the guide's get_name patterns and checks names and
errors."""

from common import run_frontend


async def body(session, args, checks):
    call = session.call
    checks.eq(await call("com.myapp.item.1.get_name"), "bucket", "item.1.get_name")
    checks.eq(await call("com.myapp.user.0.get_name"), "alice", "user.0.get_name")
    checks.eq(await call("com.myapp.item.2.get_name"), "candle", "item.2.get_name")
    checks.eq(await call("com.myapp.user.2.get_name"), "carol", "user.2.get_name")
    await checks.error(call("com.myapp.user.7.get_name"), "com.myapp.error.no_such_object", [],
                       {"obj_type": "user", "id": 7}, "user.7.get_name")
    await checks.error(call("com.myapp.planet.1.get_name"), "com.myapp.error.no_such_object_type", [], {},
                       "planet.1.get_name")


if __name__ == "__main__":
    run_frontend(__doc__, body)
