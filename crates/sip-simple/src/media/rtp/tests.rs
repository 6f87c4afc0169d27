//! Tests of RTP packet parsing and printing.
