//! Test support: routers, peers and the Python virtualenv.
