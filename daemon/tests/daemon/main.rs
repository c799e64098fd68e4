//! `havend` end to end: the real server on port 0 and a Unix socket in a temporary directory, driven over real
//! sockets by a plain HTTP/1.1 client.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod api;
mod dns;
mod harness;
mod reload;
