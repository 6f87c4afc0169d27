//! RTCP building tests.
