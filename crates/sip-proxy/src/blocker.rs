//! Refusing methods (Net::SIP::Blocker).

use std::collections::HashMap;
use std::net::SocketAddr;

use sip_dispatch::{DeliverOptions, Dispatcher, Receiver};
use sip_packet::{Message, Method, Request, Response};
use sip_transport::Leg;

use crate::reply::reply_target;

/// The methods listed in the Allow of a 405, before the blocked ones are taken out.
const KNOWN_METHODS: &[&str] = &[
    "INVITE",
    "ACK",
    "CANCEL",
    "BYE",
    "OPTIONS",
    "REGISTER",
    "PRACK",
    "SUBSCRIBE",
    "NOTIFY",
    "PUBLISH",
    "INFO",
    "REFER",
    "MESSAGE",
    "UPDATE",
];

/// What to do with a request, by its method.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// One per blocked request, used at once: boxing the response would cost an allocation for
// nothing.
#[allow(clippy::large_enum_variant)]
pub enum BlockOutcome {
    /// Not blocked.
    Pass,
    /// Answer this.
    Respond(Response),
    /// The ACK of a blocked INVITE: it ends here.
    Absorb,
}

/// Methods answered with a fixed status instead of being handled: e.g. `SUBSCRIBE → 405`.
/// A 405 lists the methods not blocked in Allow. With INVITE blocked, every ACK is
/// absorbed (it can only acknowledge the refusal).
///
/// ```
/// use sip_packet::Method;
/// use sip_proxy::{BlockOutcome, Blocker};
/// let b = Blocker::rules([(Method::Invite, 405, None)]);
/// let raw = "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
///     From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: c\r\n\
///     CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
/// let sip_packet::Message::Request(req) = sip_packet::Message::parse(raw.into()).unwrap() else { unreachable!() };
/// let BlockOutcome::Respond(r) = b.decide(&req) else { panic!() };
/// assert_eq!(r.status(), 405);
/// assert!(r.headers().get_all("Allow").all(|m| m != "INVITE"));
/// assert!(r.headers().get_all("Allow").any(|m| m == "BYE"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Blocker {
    block: HashMap<Method, (u16, Option<String>)>,
    dispatcher: Option<Dispatcher>,
}

impl Blocker {
    /// The rules alone: `(method, status, reason)`; [`decide`](Self::decide) works, but
    /// as a receiver it answers nothing until given a dispatcher.
    pub fn rules(rules: impl IntoIterator<Item = (Method, u16, Option<String>)>) -> Self {
        Self {
            block: rules.into_iter().map(|(m, s, r)| (m, (s, r))).collect(),
            dispatcher: None,
        }
    }

    /// A blocker answering through `dispatcher`.
    pub fn new(
        dispatcher: Dispatcher,
        rules: impl IntoIterator<Item = (Method, u16, Option<String>)>,
    ) -> Self {
        Self {
            dispatcher: Some(dispatcher),
            ..Self::rules(rules)
        }
    }

    /// What to do with `request`.
    pub fn decide(&self, request: &Request) -> BlockOutcome {
        let method = request.method();
        if method == &Method::Ack && self.block.contains_key(&Method::Invite) {
            return BlockOutcome::Absorb;
        }
        let Some((status, reason)) = self.block.get(method) else {
            return BlockOutcome::Pass;
        };
        let mut r = Response::from_request(request, *status, reason.as_deref());
        let _ = r.set_to_tag("blocked");
        if *status == 405 {
            // RFC 3261 §21.4.6: a 405 MUST list what is allowed.
            let allowed: Vec<&str> = KNOWN_METHODS
                .iter()
                .copied()
                .filter(|m| {
                    !self
                        .block
                        .keys()
                        .any(|b| b.as_str().eq_ignore_ascii_case(m))
                })
                .collect();
            r.headers_mut().add("Allow", allowed.join(", "));
        }
        BlockOutcome::Respond(r)
    }
}

impl Receiver for Blocker {
    fn receive(&self, packet: &Message, leg: &Leg, from: SocketAddr) -> bool {
        let Message::Request(request) = packet else {
            return false;
        };
        match self.decide(request) {
            BlockOutcome::Pass => false,
            BlockOutcome::Absorb => true,
            BlockOutcome::Respond(response) => {
                tracing::info!(method = %request.method(), %from, status = response.status(), "blocked");
                if let Some(d) = &self.dispatcher {
                    let target = reply_target(
                        request.headers().top_via().ok().as_ref(),
                        leg.protocol(),
                        from,
                    );
                    d.deliver(response, DeliverOptions::new().dst(target).leg(leg.id()));
                }
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str) -> Request {
        let raw = format!(
            "{method} sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
             From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: c\r\n\
             CSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
        );
        match Message::parse(raw.into()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => unreachable!(),
        }
    }

    #[test]
    fn blocks_answers_and_absorbs() {
        let b = Blocker::rules([
            (Method::Invite, 405, None),
            (Method::Subscribe, 403, Some("No Thanks".into())),
        ]);
        let BlockOutcome::Respond(r) = b.decide(&req("INVITE")) else {
            panic!()
        };
        let allow: Vec<&str> = r.headers().get_all("Allow").collect();
        let allow = allow.join(", ");
        assert!(
            allow.contains("BYE") && !allow.contains("INVITE") && !allow.contains("SUBSCRIBE"),
            "{allow}"
        );
        let BlockOutcome::Respond(r) = b.decide(&req("SUBSCRIBE")) else {
            panic!()
        };
        assert_eq!((r.status(), r.reason()), (403, "No Thanks"));
        assert_eq!(r.headers().get("Allow"), None);
        assert_eq!(b.decide(&req("ACK")), BlockOutcome::Absorb);
        assert_eq!(b.decide(&req("OPTIONS")), BlockOutcome::Pass);
        assert_eq!(Blocker::rules([]).decide(&req("ACK")), BlockOutcome::Pass);
    }
}
