//! PDQ (being written).
