//! # haven-daemon
//!
//! `havend`, Haven's local daemon, as a library: the server that parental-control apps, routers and set-top boxes
//! talk to instead of embedding `haven-core`.
//!
//! - [`dns`]: the DNS filter (UDP and TCP on loopback, forwarding to upstream resolvers).
//! - [`audit`]: the parent's append-only, BLAKE3-chained audit log.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit;
pub mod dns;
