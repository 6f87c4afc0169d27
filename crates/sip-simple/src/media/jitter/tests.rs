//! Jitter buffer tests.
