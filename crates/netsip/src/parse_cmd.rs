//! `netsip parse [--json] [FILE|-]`.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use serde_json::{json, Value};
use sip_packet::{Contact, Header, Message, NameAddr};

/// Arguments of `netsip parse`.
#[derive(Debug, clap::Args)]
pub(crate) struct ParseArgs {
    /// Print one JSON object instead of the canonical message.
    #[arg(long)]
    json: bool,
    /// The file holding the message; `-` or nothing reads standard input.
    file: Option<PathBuf>,
}

/// Reads, parses and prints one message.
pub(crate) fn run(args: &ParseArgs) -> Result<()> {
    let mut input = Vec::new();
    match &args.file {
        Some(p) if p.as_os_str() != "-" => {
            input = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
        }
        _ => {
            std::io::stdin()
                .read_to_end(&mut input)
                .context("cannot read standard input")?;
        }
    }
    let msg = Message::parse_strict(input.into())?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let text = serde_json::to_string_pretty(&to_json(&msg)?)?;
        writeln!(out, "{text}")?;
    } else {
        out.write_all(&msg.to_canonical())?;
    }
    out.flush()?;
    Ok(())
}

/// The JSON view of a message: exactly the keys the README documents, null where absent.
pub(crate) fn to_json(msg: &Message) -> Result<Value> {
    let h = msg.headers();
    let (kind, method, uri, status, reason) = match msg {
        Message::Request(r) => (
            "request",
            json!(r.method().as_str()),
            json!(r.uri().to_string()),
            Value::Null,
            Value::Null,
        ),
        Message::Response(r) => (
            "response",
            Value::Null,
            Value::Null,
            json!(r.status()),
            json!(r.reason()),
        ),
    };
    let cseq = h.cseq()?;
    let vias = h
        .vias()
        .map(|v| {
            let v = v?;
            Ok(json!({
                "transport": v.transport().as_str(),
                "host": v.host().to_string(),
                "port": v.port(),
                "branch": v.branch(),
                "received": v.params().get("received").flatten(),
                "rport": match v.rport() {
                    None => Value::Null,
                    Some(None) => Value::Bool(true),
                    Some(Some(p)) => json!(p),
                },
            }))
        })
        .collect::<Result<Vec<_>>>()?;
    let contacts: Vec<Contact> = h.contacts().collect::<Result<_, _>>()?;
    let contact = if contacts.is_empty() {
        Value::Null
    } else if contacts.iter().any(|c| matches!(c, Contact::Star)) {
        json!("*")
    } else {
        Value::Array(
            contacts
                .iter()
                .filter_map(Contact::address)
                .map(|a| json!({ "uri": a.uri().to_string(), "expires": a.expires(), "q": a.q() }))
                .collect(),
        )
    };
    let body = msg.body();
    Ok(json!({
        "kind": kind,
        "method": method,
        "uri": uri,
        "status": status,
        "reason": reason,
        "headers": header_lines(h.iter()),
        "call_id": h.call_id()?.to_string(),
        "cseq": { "seq": cseq.seq(), "method": cseq.method().as_str() },
        "from": address(&h.from()?),
        "to": address(&h.to()?),
        "via": vias,
        "contact": contact,
        "expires": h.expires()?,
        "body_len": body.len(),
        "body": std::str::from_utf8(body).ok(),
    }))
}

fn address(a: &NameAddr) -> Value {
    json!({
        "display": a.display_name().map(|d| d.into_owned()),
        "uri": a.uri().to_string(),
        "tag": a.tag(),
    })
}

/// Every header line in order with its canonical name. The parser keeps each element of a
/// list header (`Via: a, b`) as its own value; elements that stood on one line are joined
/// back into that line.
fn header_lines<'a>(headers: impl Iterator<Item = Header<'a>>) -> Vec<Value> {
    let mut lines: Vec<(String, String, Option<u32>)> = Vec::new();
    for h in headers {
        let name = h.name().as_str();
        match lines.last_mut() {
            Some((n, v, Some(line))) if h.line() == Some(*line) && n == name => {
                v.push_str(", ");
                v.push_str(h.value());
            }
            _ => lines.push((name.to_owned(), h.value().to_string(), h.line())),
        }
    }
    lines.into_iter().map(|(n, v, _)| json!([n, v])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &str = "REGISTER sip:example.com SIP/2.0\r\n\
v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport, SIP/2.0/TCP [2001:db8::1];branch=z9hG4bK2;rport=5070;received=192.0.2.9\r\n\
f: \"A \\\"B\\\"\" <sip:a@example.com>;tag=x1\r\n\
t: sip:a@example.com\r\n\
i: abc@host\r\n\
CSeq: 2 REGISTER\r\n\
m: <sip:a@192.0.2.1>;expires=60;q=0.5\r\n\
Expires: 3600\r\n\
l: 2\r\n\r\nhi";

    #[test]
    fn json_has_every_key_with_values() {
        let msg = Message::parse(MSG.into()).unwrap();
        let j = to_json(&msg).unwrap();
        let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
        for k in [
            "kind", "method", "uri", "status", "reason", "headers", "call_id", "cseq", "from",
            "to", "via", "contact", "expires", "body_len", "body",
        ] {
            assert!(keys.contains(&k), "{k}");
        }
        assert_eq!(keys.len(), 15);
        assert_eq!(j["kind"], "request");
        assert_eq!(j["status"], Value::Null);
        assert_eq!(j["headers"][0], json!(["Via", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport, SIP/2.0/TCP [2001:db8::1];branch=z9hG4bK2;rport=5070;received=192.0.2.9"]));
        assert_eq!(j["headers"][1][0], "From");
        assert_eq!(j["headers"][3][0], "Call-ID");
        assert_eq!(
            j["from"],
            json!({"display": "A \"B\"", "uri": "sip:a@example.com", "tag": "x1"})
        );
        assert_eq!(j["to"]["tag"], Value::Null);
        assert_eq!(j["cseq"], json!({"seq": 2, "method": "REGISTER"}));
        assert_eq!(j["via"][0]["rport"], true);
        assert_eq!(j["via"][0]["port"], 5060);
        assert_eq!(j["via"][1]["rport"], 5070);
        assert_eq!(j["via"][1]["host"], "[2001:db8::1]");
        assert_eq!(j["via"][1]["port"], Value::Null);
        assert_eq!(j["via"][1]["received"], "192.0.2.9");
        assert_eq!(
            j["contact"],
            json!([{"uri": "sip:a@192.0.2.1", "expires": 60, "q": 0.5}])
        );
        assert_eq!(j["expires"], 3600);
        assert_eq!(j["body_len"], 2);
        assert_eq!(j["body"], "hi");
    }

    #[test]
    fn star_contact_and_binary_body() {
        let m = MSG
            .replace("m: <sip:a@192.0.2.1>;expires=60;q=0.5", "Contact: *")
            .replace("l: 2\r\n\r\nhi", "l: 2\r\n\r\n");
        let mut raw = m.into_bytes();
        raw.extend_from_slice(&[0xff, 0xfe]);
        let j = to_json(&Message::parse(raw.into()).unwrap()).unwrap();
        assert_eq!(j["contact"], "*");
        assert_eq!(j["body"], Value::Null);
        assert_eq!(j["body_len"], 2);
    }
}
