#!/usr/bin/env python3
"""Mirror of Autobahn's pubsub/options backend: subscribes to com.myapp.topic1
itself and publishes its counter there every interval, acknowledged and
with exclude_me=False."""

from autobahn.wamp.types import PublishOptions

from common import periodic, run_backend


async def setup(session, args):
    def on_event(i):
        print(f"Got event: {i}", flush=True)

    await session.subscribe(on_event, "com.myapp.topic1")

    async def publish(counter):
        options = PublishOptions(acknowledge=True, exclude_me=False)
        publication = await session.publish("com.myapp.topic1", counter, options=options)
        print(f"Event published with publication ID {publication.id}", flush=True)

    periodic(args.interval, publish)


if __name__ == "__main__":
    run_backend("pubsub_options", __doc__, setup)
