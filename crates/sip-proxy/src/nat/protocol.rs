//! The control protocol between a proxy and a `netsip nathelper` process, without IO:
//! one JSON object per line each way, every request answered. `NATHELPER.md` (beside the
//! crate's `Cargo.toml`) is its documentation; keep the two in step.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use serde_json::{json, Map, Value};

use crate::nat::allocate::{AllocateRequest, StreamRequest};
use crate::nat::error::NatError;
use crate::nat::key::{CloseRequest, PartyId, SessionKey, Side};

/// The protocol version this side speaks: the `"v"` of every line.
pub const CONTROL_VERSION: u64 = 1;

/// The longest line either side accepts, newline excluded: a request with dozens of
/// streams fits many times over.
pub const MAX_LINE: usize = 65_536;

/// What a proxy asks a nathelper.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ControlRequest {
    /// `allocate`: [`NatHelper::allocate`](crate::nat::NatHelper::allocate).
    Allocate(AllocateRequest),
    /// `activate`.
    Activate(SessionKey),
    /// `close`.
    Close(CloseRequest),
    /// `expire`: expire what is due now.
    Expire,
    /// `stats`.
    Stats,
}

/// The error codes of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `malformed`: the line is not a JSON object.
    Malformed,
    /// `version`: `"v"` missing or not [`CONTROL_VERSION`].
    Version,
    /// `unknown_op`: `"op"` names no request.
    UnknownOp,
    /// `bad_request`: a field is missing or has the wrong type or value.
    BadRequest,
    /// `too_long`: the line is longer than [`MAX_LINE`]; the connection is closed after it.
    TooLong,
    /// `busy`: too many control connections; this one is closed.
    Busy,
    /// `limit`: a socket limit (per call or in total) would be passed.
    Limit,
    /// `bind`: no free run of ports.
    Bind,
    /// `stale`: an SDP for a transaction older than one the party started.
    Stale,
    /// `incomplete`: an activation before both sides have sockets.
    Incomplete,
    /// `failed`: anything else.
    Failed,
}

impl ErrorCode {
    const ALL: [Self; 11] = [
        Self::Malformed,
        Self::Version,
        Self::UnknownOp,
        Self::BadRequest,
        Self::TooLong,
        Self::Busy,
        Self::Limit,
        Self::Bind,
        Self::Stale,
        Self::Incomplete,
        Self::Failed,
    ];

    /// The code as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Version => "version",
            Self::UnknownOp => "unknown_op",
            Self::BadRequest => "bad_request",
            Self::TooLong => "too_long",
            Self::Busy => "busy",
            Self::Limit => "limit",
            Self::Bind => "bind",
            Self::Stale => "stale",
            Self::Incomplete => "incomplete",
            Self::Failed => "failed",
        }
    }

    /// The code written `name`; an unknown one (from a newer nathelper) is `failed`.
    pub fn from_name(name: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == name)
            .unwrap_or(Self::Failed)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error answer: a code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
#[non_exhaustive]
pub struct ControlError {
    /// The code.
    pub code: ErrorCode,
    /// What went wrong, and where.
    pub message: String,
}

impl ControlError {
    /// An error answer.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    fn bad(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    /// The error line answering request `id` (`null` when the request had none).
    pub fn to_line(&self, id: Option<u64>) -> String {
        line(json!({
            "v": CONTROL_VERSION,
            "id": id,
            "ok": false,
            "error": self.code.as_str(),
            "message": self.message,
        }))
    }
}

impl From<NatError> for ControlError {
    fn from(e: NatError) -> Self {
        match e {
            NatError::Remote { code, message } => Self::new(code, message),
            other => Self::new(other.code(), other.to_string()),
        }
    }
}

impl From<ControlError> for NatError {
    fn from(e: ControlError) -> Self {
        Self::Remote {
            code: e.code,
            message: e.message,
        }
    }
}

fn line(value: Value) -> String {
    let mut s = value.to_string();
    s.push('\n');
    s
}

impl ControlRequest {
    /// The `"op"` of the request.
    pub fn op(&self) -> &'static str {
        match self {
            Self::Allocate(_) => "allocate",
            Self::Activate(_) => "activate",
            Self::Close(_) => "close",
            Self::Expire => "expire",
            Self::Stats => "stats",
        }
    }

    /// The request as a line (newline included) with number `id`.
    ///
    /// ```
    /// use sip_proxy::nat::{parse_request, ControlRequest};
    /// let line = ControlRequest::Stats.to_line(7);
    /// assert!(line.ends_with("}\n") && line.contains("\"op\":\"stats\""));
    /// let request = line.trim_end().as_bytes();
    /// assert_eq!(parse_request(request).unwrap(), (7, ControlRequest::Stats));
    /// ```
    pub fn to_line(&self, id: u64) -> String {
        let mut o = Map::new();
        o.insert("v".into(), json!(CONTROL_VERSION));
        o.insert("id".into(), json!(id));
        o.insert("op".into(), json!(self.op()));
        match self {
            Self::Allocate(r) => {
                put_key(
                    &mut o,
                    &r.key.call_id,
                    Some(r.key.cseq),
                    &r.key.from,
                    &r.key.to,
                );
                o.insert("side".into(), json!(r.side.as_str()));
                o.insert("address".into(), json!(r.address.to_string()));
                let media: Vec<Value> = r
                    .media
                    .iter()
                    .map(|m| {
                        json!({
                            "target": m.target.map(|a| a.to_string()),
                            "sockets": m.sockets,
                        })
                    })
                    .collect();
                o.insert("media".into(), Value::Array(media));
            }
            Self::Activate(k) => put_key(&mut o, &k.call_id, Some(k.cseq), &k.from, &k.to),
            Self::Close(c) => put_key(&mut o, &c.call_id, c.cseq, &c.from, &c.to),
            Self::Expire | Self::Stats => {}
        }
        line(Value::Object(o))
    }
}

fn put_key(
    o: &mut Map<String, Value>,
    call_id: &str,
    cseq: Option<u32>,
    from: &PartyId,
    to: &PartyId,
) {
    o.insert("call_id".into(), json!(call_id));
    o.insert("cseq".into(), json!(cseq));
    o.insert("from".into(), json!(from.as_str()));
    o.insert("to".into(), json!(to.as_str()));
}

/// The fields of a JSON object, read with errors that name the field.
struct Fields<'a>(&'a Map<String, Value>);

impl<'a> Fields<'a> {
    fn get(&self, name: &str) -> Result<&'a Value, ControlError> {
        self.0
            .get(name)
            .ok_or_else(|| ControlError::bad(format!("field {name:?} is missing")))
    }

    fn str(&self, name: &str) -> Result<&'a str, ControlError> {
        self.get(name)?
            .as_str()
            .ok_or_else(|| ControlError::bad(format!("field {name:?} must be a string")))
    }

    fn u64(&self, name: &str) -> Result<u64, ControlError> {
        self.get(name)?.as_u64().ok_or_else(|| {
            ControlError::bad(format!("field {name:?} must be a non-negative integer"))
        })
    }

    fn u32(&self, name: &str) -> Result<u32, ControlError> {
        let n = self.u64(name)?;
        u32::try_from(n)
            .map_err(|_| ControlError::bad(format!("field {name:?}: {n} is past 4294967295")))
    }

    fn opt_u32(&self, name: &str) -> Result<Option<u32>, ControlError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.u32(name).map(Some),
        }
    }

    fn usize(&self, name: &str) -> Result<usize, ControlError> {
        let n = self.u64(name)?;
        usize::try_from(n).map_err(|_| ControlError::bad(format!("field {name:?}: {n} is too big")))
    }

    fn bool(&self, name: &str) -> Result<bool, ControlError> {
        self.get(name)?
            .as_bool()
            .ok_or_else(|| ControlError::bad(format!("field {name:?} must be true or false")))
    }

    fn array(&self, name: &str) -> Result<&'a Vec<Value>, ControlError> {
        self.get(name)?
            .as_array()
            .ok_or_else(|| ControlError::bad(format!("field {name:?} must be an array")))
    }

    fn session_key(&self) -> Result<SessionKey, ControlError> {
        Ok(SessionKey::new(
            self.str("call_id")?,
            self.u32("cseq")?,
            PartyId::new(self.str("from")?),
            PartyId::new(self.str("to")?),
        ))
    }
}

fn object(line: &[u8]) -> Result<Map<String, Value>, ControlError> {
    match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(ControlError::new(
            ErrorCode::Malformed,
            "the line is JSON but not an object",
        )),
        Err(e) => Err(ControlError::new(
            ErrorCode::Malformed,
            format!("the line is not JSON: {e}"),
        )),
    }
}

fn check_version(f: &Fields<'_>) -> Result<(), ControlError> {
    match f.0.get("v").and_then(Value::as_u64) {
        Some(CONTROL_VERSION) => Ok(()),
        Some(v) => Err(ControlError::new(
            ErrorCode::Version,
            format!("protocol version {v} is not supported; this side speaks {CONTROL_VERSION}"),
        )),
        None => Err(ControlError::new(
            ErrorCode::Version,
            format!("field \"v\" (the protocol version, {CONTROL_VERSION}) is missing"),
        )),
    }
}

/// Reads a request line (without its newline): its number and the request, or the error
/// to answer with (and the request's number, when it could be read).
///
/// ```
/// use sip_proxy::nat::{parse_request, ErrorCode};
/// let (id, e) = parse_request(b"{\"v\":1,\"id\":3,\"op\":\"dance\"}").unwrap_err();
/// assert_eq!((id, e.code), (Some(3), ErrorCode::UnknownOp));
/// let (id, e) = parse_request(b"hello").unwrap_err();
/// assert_eq!((id, e.code), (None, ErrorCode::Malformed));
/// ```
#[allow(clippy::result_large_err)]
pub fn parse_request(line: &[u8]) -> Result<(u64, ControlRequest), (Option<u64>, ControlError)> {
    let o = object(line).map_err(|e| (None, e))?;
    let f = Fields(&o);
    let id = f.0.get("id").and_then(Value::as_u64);
    let request = (|| {
        check_version(&f)?;
        let id = f.u64("id")?;
        let request = match f.str("op")? {
            "allocate" => {
                let side = match f.str("side")? {
                    "from" => Side::From,
                    "to" => Side::To,
                    other => {
                        return Err(ControlError::bad(format!(
                            "field \"side\": {other:?} is not \"from\" or \"to\""
                        )))
                    }
                };
                let address: IpAddr = f
                    .str("address")?
                    .parse()
                    .map_err(|_| ControlError::bad("field \"address\" must be an IP address"))?;
                let mut media = Vec::new();
                for (i, m) in f.array("media")?.iter().enumerate() {
                    let Value::Object(m) = m else {
                        return Err(ControlError::bad(format!("media {i} must be an object")));
                    };
                    let m = Fields(m);
                    let target = match m.0.get("target") {
                        None | Some(Value::Null) => None,
                        Some(Value::String(s)) => Some(s.parse::<SocketAddr>().map_err(|_| {
                            ControlError::bad(format!("media {i}: target {s:?} is not IP:PORT"))
                        })?),
                        Some(_) => {
                            return Err(ControlError::bad(format!(
                                "media {i}: target must be \"IP:PORT\" or null"
                            )))
                        }
                    };
                    let sockets = m.u64("sockets")?;
                    let sockets = u16::try_from(sockets).map_err(|_| {
                        ControlError::bad(format!("media {i}: {sockets} sockets is too many"))
                    })?;
                    media.push(StreamRequest::relay(target, sockets));
                }
                ControlRequest::Allocate(AllocateRequest::new(
                    f.session_key()?,
                    side,
                    address,
                    media,
                ))
            }
            "activate" => ControlRequest::Activate(f.session_key()?),
            "close" => ControlRequest::Close(CloseRequest::new(
                f.str("call_id")?,
                f.opt_u32("cseq")?,
                PartyId::new(f.str("from")?),
                PartyId::new(f.str("to")?),
            )),
            "expire" => ControlRequest::Expire,
            "stats" => ControlRequest::Stats,
            other => {
                return Err(ControlError::new(
                    ErrorCode::UnknownOp,
                    format!("op {other:?} is not one of allocate, activate, close, expire, stats"),
                ))
            }
        };
        Ok((id, request))
    })();
    request.map_err(|e| (id, e))
}

mod reply;

pub use reply::{parse_reply, ControlReply};

#[cfg(test)]
mod tests;
