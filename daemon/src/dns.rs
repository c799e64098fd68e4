//! The DNS filter (being written).
