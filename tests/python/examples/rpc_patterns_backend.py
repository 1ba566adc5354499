#!/usr/bin/env python3
"""The guide's pattern procedures in Autobahn|Python:
com.myapp.item.<int:id>.get_name and com.myapp.<string:obj_type>.<int:id>.get_name,
registered as wildcards; the components are read from details.procedure."""

from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import RegisterOptions

from common import run_backend

ITEMS = ["anvil", "bucket", "candle"]
USERS = ["alice", "bob", "carol"]


def lookup(obj_type, id):
    table = {"item": ITEMS, "user": USERS}.get(obj_type)
    if table is None:
        raise ApplicationError("com.myapp.error.no_such_object_type")
    if not 0 <= id < len(table):
        raise ApplicationError("com.myapp.error.no_such_object", obj_type=obj_type, id=id)
    return table[id]


async def setup(session, args):
    def get_item_name(details=None):
        return lookup("item", int(details.procedure.split(".")[3]))

    def get_object_name(details=None):
        parts = details.procedure.split(".")
        return lookup(parts[2], int(parts[3]))

    wildcard = RegisterOptions(match="wildcard", details_arg="details")
    await session.register(get_item_name, "com.myapp.item..get_name", wildcard)
    await session.register(get_object_name, "com.myapp...get_name", wildcard)


if __name__ == "__main__":
    run_backend("rpc_patterns", __doc__, setup)
