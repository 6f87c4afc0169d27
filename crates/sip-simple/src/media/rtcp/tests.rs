//! RTCP tests.
