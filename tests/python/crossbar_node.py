#!/usr/bin/env python3
"""Start a throw-away Crossbar.io node to serve as the reference WAMP router.

Writes DIR/.crossbar/config.json and then *replaces this process* with
``crossbar start`` (os.execv), so the PID the caller spawned is the Crossbar
controller itself: sending it SIGTERM shuts the whole node down, workers
included, with no wrapper process in between that could swallow the signal.

Usage:
    crossbar_node.py --port PORT --dir DIR [--realm realm1] [--auth FIXTURE.json]

Transports (all bound to 127.0.0.1 only):
    ws://127.0.0.1:PORT/ws      WebSocket, serializers json, msgpack, cbor
    rs://127.0.0.1:PORT+1       RawSocket, same serializers (disable: --no-rawsocket)

With ``--auth FIXTURE.json`` (see auth_fixture.json) the node serves the
fixture's realm instead, with its roles and static ticket, WAMP-CRA and
cryptosign users on both transports, and no anonymous access.

With ``--port 0`` a free port (whose successor is also free) is picked and
announced on stdout as ``crossbar_node: port=N`` before exec.

The node is not ready when this returns: poll the WebSocket port until it
accepts TCP connections (Crossbar takes 3-4 s on an idle 2-core machine, up
to ~9 s when the machine is busy).

Stopping: SIGTERM or SIGINT both make the controller stop its worker
processes and exit within 1-3 s.  Crossbar deliberately exits with status 1
after SIGTERM (it counts that as an "unclean" shutdown) and 0 after SIGINT, so
don't treat status 1 after SIGTERM as a failure.
"""

import argparse
import json
import os
import socket
import sys


def build_config(port, realm, rawsocket):
    # One permission rule with an empty-prefix URI matches everything.  The
    # "disclose" block is needed because Crossbar decides caller/publisher
    # disclosure from router-side permissions (Autobahn 26.x no longer sends
    # disclose_me), and the interop suite asserts disclosed session ids.
    role = {
        "name": "anonymous",
        "permissions": [
            {
                "uri": "",
                "match": "prefix",
                "allow": {
                    "call": True,
                    "register": True,
                    "publish": True,
                    "subscribe": True,
                },
                "disclose": {"caller": True, "publisher": True},
                "cache": True,
            }
        ],
    }
    serializers = ["json", "msgpack", "cbor"]
    # Anonymous auth is explicit so the authrole is "anonymous" regardless of
    # Crossbar's defaults; the suite's eligible_authrole check relies on it.
    auth = {"anonymous": {"type": "static", "role": "anonymous"}}
    transports = [
        {
            "type": "web",
            "endpoint": {"type": "tcp", "interface": "127.0.0.1", "port": port},
            # Only the WAMP endpoint: a "/" entry (e.g. nodeinfo) would be a
            # leaf resource in Crossbar 26.x and shadow "/ws" with a 200 page.
            "paths": {
                "ws": {
                    "type": "websocket",
                    "serializers": serializers,
                    "auth": auth,
                },
            },
        }
    ]
    if rawsocket:
        transports.append(
            {
                "type": "rawsocket",
                "endpoint": {
                    "type": "tcp",
                    "interface": "127.0.0.1",
                    "port": port + 1,
                },
                "serializers": serializers,
                "auth": auth,
            }
        )
    return {
        "version": 2,
        "controller": {},
        "workers": [
            {
                "type": "router",
                "realms": [{"name": realm, "roles": [role]}],
                "transports": transports,
            }
        ],
    }


def build_auth_config(port, fixture, rawsocket):
    """A node whose realm, roles and users come from an auth fixture."""
    roles = [
        {
            "name": name,
            "permissions": [
                {
                    "uri": p["uri"],
                    "match": p["match"],
                    "allow": p["allow"],
                    "disclose": {"caller": False, "publisher": False},
                    "cache": True,
                }
                for p in permissions
            ],
        }
        for name, permissions in fixture["roles"].items()
    ]
    auth = {
        "ticket": {
            "type": "static",
            "principals": {
                authid: {"ticket": u["ticket"], "role": u["role"]}
                for authid, u in fixture["ticket"].items()
            },
        },
        "wampcra": {
            "type": "static",
            # Crossbar derives the salted key itself from the plain secret.
            "users": {
                authid: {k: v for k, v in u.items() if k in ("secret", "role", "salt", "iterations", "keylen")}
                for authid, u in fixture["wampcra"].items()
            },
        },
        "cryptosign": {
            "type": "static",
            "principals": {
                authid: {"authorized_keys": [u["public_key"]], "role": u["role"]}
                for authid, u in fixture["cryptosign"].items()
            },
        },
    }
    config = build_config(port, fixture["realm"], rawsocket)
    worker = config["workers"][0]
    worker["realms"] = [{"name": fixture["realm"], "roles": roles}]
    for transport in worker["transports"]:
        if transport["type"] == "web":
            transport["paths"]["ws"]["auth"] = auth
        else:
            transport["auth"] = auth
    return config


def port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_port_pair():
    # The kernel hands out a free port; we also need port+1 for RawSocket,
    # so retry a few times until both happen to be free.
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65535 and port_is_free(port + 1):
            return port
    sys.exit("crossbar_node: could not find two adjacent free ports")


def find_crossbar():
    # The console script lives next to the venv interpreter running us.
    # Use the unresolved sys.executable: resolving the venv's python symlink
    # would lead to the base interpreter's bin/ which has no crossbar.
    exe = os.path.join(os.path.dirname(sys.executable), "crossbar")
    if not os.access(exe, os.X_OK):
        sys.exit(
            f"crossbar_node: {exe} not found; run scripts/setup-python.sh and "
            "start this script with .venv/bin/python"
        )
    return exe


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True,
                    help="WebSocket port (0 = pick a free one)")
    ap.add_argument("--dir", required=True,
                    help="scratch directory; the node lives in DIR/.crossbar")
    ap.add_argument("--realm", default="realm1")
    ap.add_argument("--no-rawsocket", action="store_true",
                    help="do not open the RawSocket transport on PORT+1")
    ap.add_argument("--auth", metavar="FIXTURE",
                    help="serve the realm, roles and users of this auth fixture (JSON)")
    ap.add_argument("--loglevel", default="warn",
                    choices=["none", "error", "warn", "info", "debug", "trace"])
    args = ap.parse_args()

    crossbar = find_crossbar()
    port = args.port or pick_port_pair()
    if args.port == 0:
        print(f"crossbar_node: port={port}", flush=True)

    cbdir = os.path.join(os.path.abspath(args.dir), ".crossbar")
    os.makedirs(cbdir, exist_ok=True)
    if args.auth:
        with open(args.auth) as f:
            fixture = json.load(f)
        config = build_auth_config(port, fixture, rawsocket=not args.no_rawsocket)
    else:
        config = build_config(port, args.realm, rawsocket=not args.no_rawsocket)
    with open(os.path.join(cbdir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)

    # A node.pid left behind by a SIGKILLed run would make Crossbar refuse to
    # start if the stale PID got reused by some other process; the directory
    # is ours, so just drop it.
    try:
        os.unlink(os.path.join(cbdir, "node.pid"))
    except FileNotFoundError:
        pass

    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(
        crossbar,
        [crossbar, "start", "--cbdir", cbdir, "--loglevel", args.loglevel,
         "--color", "false"],
    )


if __name__ == "__main__":
    main()
