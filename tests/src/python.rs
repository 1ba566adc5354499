//! Locating the project virtualenv with Autobahn|Python and Crossbar.io.
