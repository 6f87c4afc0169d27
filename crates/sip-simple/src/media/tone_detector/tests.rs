//! Tone detector tests.
