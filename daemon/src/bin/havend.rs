//! `havend`: Haven's local daemon (being written).
#![forbid(unsafe_code)]

fn main() {}
