//! The answers of the control protocol: printed by the nathelper, read by the proxy.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::{check_version, line, object, ControlError, ErrorCode, Fields, CONTROL_VERSION};
use crate::nat::info::{Activation, CloseReason, NatStats, SessionInfo};
use crate::nat::key::PartyId;

/// A successful answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ControlReply {
    /// To `allocate`: the first relay address per stream.
    Allocated(Vec<Option<SocketAddr>>),
    /// To `activate`.
    Activated(Activation),
    /// To `close`: the sessions closed.
    Closed(Vec<SessionInfo>),
    /// To `expire`: the sessions expired.
    Expired(Vec<SessionInfo>),
    /// To `stats`.
    Stats(NatStats),
}

fn session_json(s: &SessionInfo) -> Value {
    json!({
        "id": s.id,
        "call_id": s.call_id,
        "cseq": s.cseq,
        "from": s.from.as_str(),
        "to": s.to.as_str(),
        "bytes_from": s.bytes_from,
        "bytes_to": s.bytes_to,
        "age_ms": u64::try_from(s.age.as_millis()).unwrap_or(u64::MAX),
        "reason": s.reason.map(CloseReason::as_str),
    })
}

fn sessions_json(list: &[SessionInfo]) -> Value {
    Value::Array(list.iter().map(session_json).collect())
}

fn session_from(v: &Value) -> Result<SessionInfo, ControlError> {
    let Value::Object(o) = v else {
        return Err(ControlError::bad("a session must be an object"));
    };
    let f = Fields(o);
    let reason = match o.get("reason") {
        None | Some(Value::Null) => None,
        Some(Value::String(r)) => Some(
            CloseReason::from_name(r)
                .ok_or_else(|| ControlError::bad(format!("unknown close reason {r:?}")))?,
        ),
        Some(_) => {
            return Err(ControlError::bad(
                "field \"reason\" must be a string or null",
            ))
        }
    };
    Ok(SessionInfo {
        id: f.u64("id")?,
        call_id: f.str("call_id")?.to_owned(),
        cseq: f.u32("cseq")?,
        from: PartyId::new(f.str("from")?),
        to: PartyId::new(f.str("to")?),
        bytes_from: f.u64("bytes_from")?,
        bytes_to: f.u64("bytes_to")?,
        age: Duration::from_millis(f.u64("age_ms")?),
        reason,
    })
}

fn sessions_from(f: &Fields<'_>, name: &str) -> Result<Vec<SessionInfo>, ControlError> {
    f.array(name)?.iter().map(session_from).collect()
}

impl ControlReply {
    /// The answer to request `id` as a line (newline included).
    pub fn to_line(&self, id: u64) -> String {
        let mut o = Map::new();
        o.insert("v".into(), json!(CONTROL_VERSION));
        o.insert("id".into(), json!(id));
        o.insert("ok".into(), json!(true));
        match self {
            Self::Allocated(media) => {
                let media: Vec<Value> = media
                    .iter()
                    .map(|m| m.map_or(Value::Null, |a| json!(a.to_string())))
                    .collect();
                o.insert("media".into(), Value::Array(media));
            }
            Self::Activated(a) => {
                o.insert("existing".into(), json!(a.existing));
                o.insert("session".into(), session_json(&a.session));
                o.insert("replaced".into(), sessions_json(&a.replaced));
            }
            Self::Closed(list) => {
                o.insert("closed".into(), sessions_json(list));
            }
            Self::Expired(list) => {
                o.insert("expired".into(), sessions_json(list));
            }
            Self::Stats(s) => {
                o.insert("calls".into(), json!(s.calls));
                o.insert("sessions".into(), json!(s.sessions));
                o.insert("closing".into(), json!(s.closing));
                o.insert("groups".into(), json!(s.groups));
                o.insert("sockets".into(), json!(s.sockets));
            }
        }
        line(Value::Object(o))
    }
}

/// Reads the answer (a line without its newline) to a request whose `"op"` was `op`: its
/// number and the answer or the error the other side sent.
///
/// # Errors
///
/// A [`ControlError`] when the line itself is wrong (not JSON, another version, fields
/// missing): the connection cannot be trusted after that.
pub fn parse_reply(
    line: &[u8],
    op: &str,
) -> Result<(u64, Result<ControlReply, ControlError>), ControlError> {
    let o = object(line)?;
    let f = Fields(&o);
    check_version(&f)?;
    let id = match o.get("id") {
        // An error about a line the other side could not read carries no number.
        Some(Value::Null) => 0,
        _ => f.u64("id")?,
    };
    if !f.bool("ok")? {
        let code = ErrorCode::from_name(f.str("error")?);
        let message = f.str("message").unwrap_or("").to_owned();
        return Ok((id, Err(ControlError::new(code, message))));
    }
    let reply = match op {
        "allocate" => {
            let mut media = Vec::new();
            for m in f.array("media")? {
                media.push(match m {
                    Value::Null => None,
                    Value::String(s) => Some(s.parse::<SocketAddr>().map_err(|_| {
                        ControlError::bad(format!("relay address {s:?} is not IP:PORT"))
                    })?),
                    _ => {
                        return Err(ControlError::bad(
                            "a relay address must be a string or null",
                        ))
                    }
                });
            }
            ControlReply::Allocated(media)
        }
        "activate" => ControlReply::Activated(Activation {
            session: session_from(f.get("session")?)?,
            existing: f.bool("existing")?,
            replaced: sessions_from(&f, "replaced")?,
        }),
        "close" => ControlReply::Closed(sessions_from(&f, "closed")?),
        "expire" => ControlReply::Expired(sessions_from(&f, "expired")?),
        "stats" => ControlReply::Stats(NatStats {
            calls: f.usize("calls")?,
            sessions: f.usize("sessions")?,
            closing: f.usize("closing")?,
            groups: f.usize("groups")?,
            sockets: f.usize("sockets")?,
        }),
        other => {
            return Err(ControlError::new(
                ErrorCode::UnknownOp,
                format!("no answer is known for op {other:?}"),
            ))
        }
    };
    Ok((id, Ok(reply)))
}
