//! What can go wrong: setting up ([`SimpleError`]), registering ([`RegisterError`]), a call
//! ([`CallError`]) and getting media ports ([`PortError`]).

use std::io;
use std::net::IpAddr;
use std::ops::RangeInclusive;

use sip_dispatch::DispatchError;
use sip_endpoint::EndpointError;

use crate::call_state::EndReason;

/// A [`Simple`](crate::Simple) could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimpleError {
    /// An address in the configuration does not parse.
    #[error("the {what} {value:?} is not a valid SIP address: {reason}")]
    BadAddress {
        /// Which setting (`from`, `registrar`, `outgoing proxy`, `domain2proxy`).
        what: &'static str,
        /// The value as given.
        value: String,
        /// Why it does not parse.
        reason: String,
    },
    /// The configuration has no leg to listen on.
    #[error("no leg to listen on: give at least one SimpleConfig::listen address")]
    NoLeg,
    /// The media address is a wildcard (`0.0.0.0`, `::`): an SDP cannot announce it.
    #[error("media address {0} is a wildcard; set SimpleConfig::media_address")]
    WildcardMediaAddress(IpAddr),
    /// The RTP port range holds no even port with a port after it.
    #[error("the RTP port range {start}..={end} holds no RTP/RTCP pair")]
    EmptyPortRange {
        /// First port of the range.
        start: u16,
        /// Last port of the range.
        end: u16,
    },
    /// The legs could not be bound, or the resolver not set up.
    #[error("cannot start the dispatcher: {0}")]
    Dispatch(#[from] DispatchError),
}

/// A registration did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// No registrar was configured ([`SimpleConfig::registrar`](crate::SimpleConfig::registrar)).
    #[error("no registrar configured")]
    NoRegistrar,
    /// The registrar answered with an error.
    #[error("the registrar answered {status} {reason}")]
    Rejected {
        /// The status.
        status: u16,
        /// The reason phrase.
        reason: String,
    },
    /// The REGISTER got no final response (timeout, transport failure, no route).
    #[error("the REGISTER failed: {0}")]
    Failed(String),
    /// The endpoint refused to send it.
    #[error("cannot send the REGISTER: {0}")]
    Endpoint(#[from] EndpointError),
    /// The user agent was shut down.
    #[error("the user agent is shut down")]
    Shutdown,
}

/// No RTP/RTCP port pair could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PortError {
    /// Every pair of the range is in use (by us or by another program).
    #[error("every RTP/RTCP port pair of {}..={} on {ip} is in use", range.start(), range.end())]
    Exhausted {
        /// The configured range.
        range: RangeInclusive<u16>,
        /// The address bound to.
        ip: IpAddr,
    },
    /// The OS gave no adjacent pair of free ports after several tries.
    #[error("no adjacent RTP/RTCP port pair free on {ip} after {tries} tries")]
    NoEphemeralPair {
        /// The address bound to.
        ip: IpAddr,
        /// How many pairs were tried.
        tries: u32,
    },
    /// Binding failed for another reason than the port being taken.
    #[error("cannot bind an RTP socket on {ip}: {kind}")]
    Bind {
        /// The address bound to.
        ip: IpAddr,
        /// What the OS said.
        kind: io::ErrorKind,
    },
}

/// A call, or an operation on it, did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The peer (or a proxy) answered the INVITE with an error.
    #[error("the call was rejected: {status} {reason}")]
    Rejected {
        /// The status.
        status: u16,
        /// The reason phrase.
        reason: String,
    },
    /// Nobody answered within the ring timeout; the call was cancelled.
    #[error("nobody answered within the ring timeout")]
    NoAnswer,
    /// We cancelled the call (hang-up before the answer, or the invite was given up).
    #[error("the call was cancelled")]
    Cancelled,
    /// A request got no final response (timeout, transport failure, no route).
    #[error("the {method} got no final response: {detail}")]
    Failed {
        /// The method of the request.
        method: String,
        /// What went wrong.
        detail: String,
    },
    /// A re-INVITE (hold, resume, new media) was answered with an error; the call goes on
    /// with the media it had.
    #[error("the re-INVITE was answered {status} {reason}")]
    ReinviteRejected {
        /// The status.
        status: u16,
        /// The reason phrase.
        reason: String,
    },
    /// The address to call does not parse.
    #[error("cannot call {uri:?}: {reason}")]
    BadUri {
        /// The address as given.
        uri: String,
        /// Why it does not parse.
        reason: String,
    },
    /// The peer's session description is unusable (does not parse, or accepts none of our
    /// streams).
    #[error("the peer's SDP is unusable: {0}")]
    BadSdp(String),
    /// No RTP ports for the call.
    #[error("no media ports: {0}")]
    Ports(#[from] PortError),
    /// The operation needs another call state (hold before the call is up, say).
    #[error("{operation} is not possible while the call is {state}")]
    WrongState {
        /// What was asked.
        operation: &'static str,
        /// The state the call is in.
        state: String,
    },
    /// RFC 4733 DTMF was asked for, but the peer did not accept telephone-event.
    #[error("the peer did not negotiate telephone-event: RFC 4733 DTMF cannot be sent")]
    DtmfNotNegotiated,
    /// A DTMF string holds a character that is no DTMF digit (0-9, A-D, *, #) nor a pause (-).
    #[error("{0:?} is not a DTMF digit (0-9, A-D, *, #, or - for a pause)")]
    BadDtmfDigit(char),
    /// The call ended before the operation completed.
    #[error("the call ended ({0})")]
    Ended(EndReason),
    /// The endpoint refused to send a request.
    #[error("the endpoint refused: {0}")]
    Endpoint(#[from] EndpointError),
    /// The user agent was shut down.
    #[error("the user agent is shut down")]
    Shutdown,
}
