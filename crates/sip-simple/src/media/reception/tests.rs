//! Reception statistics tests.
