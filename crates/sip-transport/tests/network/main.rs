//! Legs on real sockets over loopback (127.0.0.1 and ::1): UDP, TCP and TLS.
//!
//! One test binary with a module per protocol, so the crate links one executable.

mod common;
mod tcp;
mod tls;
mod udp;
