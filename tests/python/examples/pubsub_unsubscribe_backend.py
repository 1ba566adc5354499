#!/usr/bin/env python3
"""Mirror of Autobahn's pubsub/unsubscribe backend: publishes a counter to
com.myapp.topic1 every interval."""

from common import periodic, run_backend


async def setup(session, args):
    periodic(args.interval, lambda counter: session.publish("com.myapp.topic1", counter))


if __name__ == "__main__":
    run_backend("pubsub_unsubscribe", __doc__, setup)
