//! Audio file tests.
