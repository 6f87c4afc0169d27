//! WAV writer tests.
