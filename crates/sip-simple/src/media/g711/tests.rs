//! G.711 tests.
