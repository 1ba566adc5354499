#!/usr/bin/env python3
"""Mirror of Autobahn's pubsub/basic backend: publishes a counter to
com.myapp.topic1 every interval."""

from common import periodic, run_backend


async def setup(session, args):
    def publish(counter):
        print("publish: com.myapp.topic1", counter, flush=True)
        session.publish("com.myapp.topic1", counter)

    periodic(args.interval, publish)


if __name__ == "__main__":
    run_backend("pubsub_basic", __doc__, setup)
