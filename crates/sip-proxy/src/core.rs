//! The stateless proxy's protocol logic (RFC 3261 §16, §16.11) without IO: a message and
//! where it came from in, a [`Decision`] out.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use sip_dispatch::resolve::Target;
use sip_packet::{HeaderName, Message, Method, NameAddr, Request, Response, Uri, Via};
use sip_transport::{response_target, via_head, Protocol, ResponseTarget, VIA_TAIL};

use crate::branch::{is_proxy_branch, ProxyBranch, BRANCH_PREFIX};
use crate::config::{ProxyConfig, RewriteContact};
use crate::contact::{ContactOrigin, ContactRewriter};
use crate::decision::{Decision, Pending};
use crate::legs::Legs;
use crate::reply::reply_target;

/// Max-Forwards when a request has none (RFC 3261 §8.1.1.6).
const DEFAULT_MAX_FORWARDS: u8 = 70;

/// The decisions of a stateless proxy: what to forward where, what to answer, what to drop.
///
/// ```
/// use std::time::Instant;
/// use sip_packet::{Host, Message};
/// use sip_proxy::{Decision, LegInfo, Legs, ProxyConfig, ProxyCore};
/// use sip_transport::Protocol;
///
/// let legs = Legs::new(vec![LegInfo::new(Protocol::Udp, "127.0.0.1:5060".parse().unwrap(),
///     (Host::parse("127.0.0.1").unwrap(), 5060))]);
/// let core = ProxyCore::new(legs, ProxyConfig::new(), [0; 32]);
/// let raw = "OPTIONS sip:bob@127.0.0.1:5070 SIP/2.0\r\n\
///     Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKa;rport=5080\r\n\
///     From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n\
///     Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
/// let Message::Request(req) = Message::parse(raw.into()).unwrap() else { unreachable!() };
/// let from = "127.0.0.1:5080".parse().unwrap();
/// match core.handle_request(Instant::now(), req, 0, from) {
///     Decision::Forward { message, target, .. } => {
///         assert_eq!(target.addr, "127.0.0.1:5070".parse().unwrap());
///         assert_eq!(message.headers().get("Max-Forwards").unwrap(), "69");
///         let vias: Vec<_> = message.headers().vias().map(Result::unwrap).collect();
///         assert_eq!(vias[0].host().to_string(), "127.0.0.1");
///         assert_eq!(vias[0].port(), Some(5060));
///         assert_eq!(vias[1].branch(), Some("z9hG4bKa"));
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug)]
pub struct ProxyCore {
    legs: Legs,
    config: ProxyConfig,
    rewriter: ContactRewriter,
    /// Each leg's Via value up to `;branch=` (`via_head`), written once rather than for
    /// every request forwarded.
    via_heads: Vec<String>,
}

impl ProxyCore {
    /// A proxy on `legs` (indices as the dispatcher's), keying rewritten contacts with
    /// `secret` (draw it at random).
    pub fn new(legs: Legs, config: ProxyConfig, secret: [u8; 32]) -> Self {
        let via_heads = legs
            .iter()
            .map(|(_, l)| via_head((l.protocol, &l.sent_by.0, l.sent_by.1)))
            .collect();
        Self {
            legs,
            config,
            rewriter: ContactRewriter::new(secret),
            via_heads,
        }
    }

    /// The legs.
    pub fn legs(&self) -> &Legs {
        &self.legs
    }

    /// The configuration.
    pub fn config(&self) -> &ProxyConfig {
        &self.config
    }

    /// The contact rewriter.
    pub fn rewriter(&self) -> &ContactRewriter {
        &self.rewriter
    }

    /// A request that arrived on leg `leg` from `from` (its top Via already stamped with
    /// `received`/`rport`, as the dispatcher does).
    pub fn handle_request(
        &self,
        now: Instant,
        mut request: Request,
        leg: usize,
        from: SocketAddr,
    ) -> Decision {
        let Some(in_leg) = self.legs.get(leg) else {
            return Decision::Drop("request on an unknown leg");
        };
        // The top Via, parsed once for the branch and for where our own answers go; that
        // place is worked out only for an answer (most requests are forwarded).
        let top_via = request.headers().top_via().ok();
        let protocol = in_leg.protocol;
        let reply_to = || reply_target(top_via.as_ref(), protocol, from);
        let branch = ProxyBranch::with_top_via(&request, top_via.as_ref());
        let is_ack = request.method() == &Method::Ack;
        let answer = |req: &Request, status: u16, reason: Option<&str>| {
            if is_ack {
                // Nothing answers an ACK (RFC 3261 §17.2.3): drop what cannot go on.
                return Decision::Drop("ACK that cannot be forwarded");
            }
            Decision::Respond {
                response: reply(req, status, reason, &branch),
                leg,
                target: reply_to(),
            }
        };

        // §16.3 item 3, §16.6 item 3: Max-Forwards.
        let max_forwards = match request.headers().max_forwards() {
            Ok(m) => m.unwrap_or(DEFAULT_MAX_FORWARDS),
            Err(_) => return answer(&request, 400, Some("Bad Max-Forwards")),
        };
        if max_forwards == 0 {
            if request.method() == &Method::Options {
                // §16.3 item 3: the proxy may answer an OPTIONS itself (§11).
                return answer(&request, 200, None);
            }
            return answer(&request, 483, None);
        }
        request
            .headers_mut()
            .set(HeaderName::MaxForwards, (max_forwards - 1).to_string());

        // §16.3 item 4: our own Via with the branch we would give this request: a loop.
        // Only a Via holding our branch prefix can be ours: the others are not parsed (most
        // requests carry none of ours, and this runs for each one forwarded).
        let ours = request
            .headers()
            .get_all(HeaderName::Via)
            .filter(|v| v.contains(BRANCH_PREFIX))
            .filter_map(|v| Via::parse(v).ok());
        for via in ours {
            if self.legs.is_our_via(&via) && via.branch().is_some_and(|b| branch.is_loop_of(b)) {
                return answer(&request, 482, None);
            }
        }

        // §16.4: Route processing.
        let Ok(mut routes) = request
            .headers()
            .routes()
            .collect::<Result<Vec<NameAddr>, _>>()
        else {
            return answer(&request, 400, Some("Bad Route"));
        };
        let mut routes_changed = false;
        let uri_is_our_record_route = self.legs.is_us(request.uri())
            && request.uri().as_sip().is_some_and(|u| u.user().is_none());
        if uri_is_our_record_route && !routes.is_empty() {
            // A strict router put our Record-Route into the Request-URI: the original
            // Request-URI is the last Route.
            if let Some(last) = routes.pop() {
                request.set_uri(last.uri().clone());
                routes_changed = true;
            }
        }
        // Every Route of ours on top (two after a double Record-Route).
        while routes.first().is_some_and(|r| self.legs.is_us(r.uri())) {
            routes.remove(0);
            routes_changed = true;
        }

        // A Request-URI that is a contact we rewrote: back to the original, to its owner.
        let mut to_origin = self.decode_for(request.uri(), leg);
        if let Some((original, _)) = &to_origin {
            request.set_uri(original.clone());
        }

        // §16.5, §16.6 item 6: the next hop.
        let next_hop: Uri = if let Some(top) = routes.first().cloned() {
            if top
                .uri()
                .as_sip()
                .is_some_and(|u| u.params().contains("lr"))
            {
                top.uri().clone()
            } else {
                // §16.6 item 6: the next hop is a strict router: it gets the Request-URI
                // in the last Route and itself in the Request-URI.
                routes.remove(0);
                routes.push(NameAddr::new(request.uri().clone()));
                request.set_uri(top.uri().clone());
                routes_changed = true;
                top.uri().clone()
            }
        } else {
            if to_origin.is_none() {
                if let Some(locator) = &self.config.locator {
                    match locator.locate(now, request.uri()) {
                        Some(contacts) => match contacts.into_iter().next() {
                            // Forking statelessly to the first (highest q), as Net::SIP.
                            Some(contact) => {
                                to_origin = self.decode_for(&contact, leg);
                                let uri = match &to_origin {
                                    Some((original, _)) => original.clone(),
                                    None => contact,
                                };
                                request.set_uri(uri);
                            }
                            None => return answer(&request, 480, None),
                        },
                        None if self.is_local(request.uri()) => {
                            return answer(&request, self.local_status(&request), None)
                        }
                        None => {}
                    }
                } else if self.is_local(request.uri()) {
                    return answer(&request, self.local_status(&request), None);
                }
            }
            let uri = request.uri();
            match uri.host().and_then(|h| self.config.route.proxy_for(h)) {
                Some(proxy) if to_origin.is_none() => proxy.clone(),
                _ => match &self.config.route.outgoing_proxy {
                    Some(proxy) if to_origin.is_none() => proxy.clone(),
                    _ => uri.clone(),
                },
            }
        };
        if routes_changed {
            let headers = request.headers_mut();
            headers.remove("Route");
            for r in &routes {
                headers.add("Route", r.to_string());
            }
        }

        if let Some((_, origin)) = to_origin {
            let Some(out) = self.legs.get(origin.leg) else {
                return answer(&request, 404, None);
            };
            let target = Target::new(out.protocol, origin.source, None);
            return self.finish_request(request, leg, from, &branch, target, reply_to);
        }
        match literal_target(&next_hop) {
            Some(target) => self.finish_request(request, leg, from, &branch, target, reply_to),
            None => Decision::Resolve(Box::new(Pending {
                message: Message::Request(request),
                uri: next_hop,
                in_leg: leg,
                from,
                branch: Some(branch),
                reply_to: Some(reply_to()),
            })),
        }
    }

    /// A response that arrived on leg `leg` from `from`: our Via off, on to the next one.
    pub fn handle_response(
        &self,
        mut response: Response,
        leg: usize,
        from: SocketAddr,
    ) -> Decision {
        let headers = response.headers();
        // The top Via and the one below it are used; the others must parse, and are skipped
        // without building them for these two.
        if headers.vias().skip(2).any(|v| v.is_err()) {
            return Decision::Drop("response with a Via that does not parse");
        }
        if headers.get(HeaderName::Via).is_none() {
            return Decision::Drop("response without Via");
        }
        let (Ok(top), Ok(next)) = (headers.top_via(), headers.vias().nth(1).transpose()) else {
            return Decision::Drop("response with a Via that does not parse");
        };
        if !self.legs.is_our_via(&top) || !top.branch().is_some_and(is_proxy_branch) {
            return Decision::Drop("response whose top Via is not ours");
        }
        let Some(next) = next else {
            return Decision::Drop("response to a request of our own");
        };
        // Headers hold one Via per entry (lists are split on parse): pop the first.
        response.headers_mut().remove_first(HeaderName::Via);
        let Some(protocol) = Protocol::from_via_transport(next.transport()) else {
            return Decision::Drop("response for a transport we do not speak");
        };
        // Back over the connection the request came in on: its remote end is
        // received:rport (stamped when we got the request).
        let connection = match protocol.is_reliable() {
            true => match (next.received().and_then(|h| h.ip()), next.rport()) {
                (Some(ip), Some(Some(port))) => Some(SocketAddr::new(ip, port)),
                _ => None,
            },
            false => None,
        };
        let addr =
            connection.or_else(
                || match response_target(&next, unspecified(), protocol, None) {
                    ResponseTarget::Addr(a) => Some(a),
                    _ => None,
                },
            );
        match addr {
            Some(a) => self.finish_response(response, leg, from, Target::new(protocol, a, None)),
            None => {
                let mut uri = sip_packet::SipUri::new(None, next.host().clone());
                uri.set_port(next.port());
                uri.params_mut().set("transport", Some(protocol.as_str()));
                Decision::Resolve(Box::new(Pending {
                    message: Message::Response(response),
                    uri: Uri::from(uri),
                    in_leg: leg,
                    from,
                    branch: None,
                    reply_to: None,
                }))
            }
        }
    }

    /// The targets of a [`Decision::Resolve`] (in order), or why there are none.
    pub fn handle_resolved(
        &self,
        pending: Box<Pending>,
        targets: Result<Vec<Target>, String>,
    ) -> Decision {
        let Pending {
            message,
            in_leg,
            from,
            branch,
            reply_to,
            ..
        } = *pending;
        let target = targets.ok().and_then(|ts| {
            ts.into_iter()
                .find(|t| self.legs.for_target(t.protocol, t.addr, None).is_some())
        });
        match (message, target) {
            (Message::Request(req), Some(t)) => match (branch, reply_to) {
                (Some(b), Some(r)) => self.finish_request(req, in_leg, from, &b, t, || r.clone()),
                _ => Decision::Drop("pending request without its branch"),
            },
            (Message::Request(req), None) => match reply_to {
                Some(target) if req.method() != &Method::Ack => {
                    // No address for the next hop (RFC 3263 §4.3 has the client answer 503).
                    let response = match &branch {
                        Some(b) => reply(&req, 503, None, b),
                        None => Response::from_request(&req, 503, None),
                    };
                    Decision::Respond {
                        response,
                        leg: in_leg,
                        target,
                    }
                }
                _ => Decision::Drop("no route for the request"),
            },
            (Message::Response(resp), Some(t)) => self.finish_response(resp, in_leg, from, t),
            (Message::Response(_), None) => Decision::Drop("no route for the response"),
        }
    }

    fn finish_request(
        &self,
        mut request: Request,
        in_leg: usize,
        from: SocketAddr,
        branch: &ProxyBranch,
        target: Target,
        reply_to: impl Fn() -> Target,
    ) -> Decision {
        let Some(out_leg) = self
            .legs
            .for_target(target.protocol, target.addr, Some(in_leg))
        else {
            if request.method() == &Method::Ack {
                return Decision::Drop("no leg for the ACK's next hop");
            }
            return Decision::Respond {
                response: reply(&request, 503, Some("No Leg To Next Hop"), branch),
                leg: in_leg,
                target: reply_to(),
            };
        };
        let (Some(inl), Some(out)) = (self.legs.get(in_leg), self.legs.get(out_leg)) else {
            return Decision::Drop("unknown leg");
        };
        // The NAT helper's part (crate::nat), decided before our Via goes on so that a
        // refusal answers the request as it came.
        let nat = match self.nat_for_request(&request, in_leg, out_leg) {
            Ok(work) => work.map(|w| {
                let refusal = (request.method() != &Method::Ack).then(|| {
                    let busy = reply(&request, 503, Some("Media Relay Unavailable"), branch);
                    (busy, in_leg, reply_to())
                });
                (w, refusal)
            }),
            Err(_) if request.method() == &Method::Ack => {
                return Decision::Drop("ACK whose SDP the NAT helper cannot read")
            }
            Err(e) => {
                let (status, reason) = e.status();
                return Decision::Respond {
                    response: reply(&request, status, Some(reason), branch),
                    leg: in_leg,
                    target: reply_to(),
                };
            }
        };
        if self.config.record_route && request.method() != &Method::Register {
            // RFC 3261 §10.2: REGISTER is not record-routed. Double Record-Route (RFC 5658)
            // when the legs differ: the UAS's route set starts at the leg facing it, the
            // UAC's (reversed) at the leg facing the UAC.
            let headers = request.headers_mut();
            headers.insert_at_top("Record-Route", format!("<{}>", inl.route_uri()));
            if out_leg != in_leg {
                headers.insert_at_top("Record-Route", format!("<{}>", out.route_uri()));
            }
        }
        self.rewrite_contacts(request.headers_mut(), in_leg, out_leg, from);
        let mut via = String::with_capacity(128);
        match self.via_heads.get(out_leg) {
            Some(head) => via.push_str(head),
            None => via.push_str(&via_head((out.protocol, &out.sent_by.0, out.sent_by.1))),
        }
        branch.write_value(&mut via);
        via.push_str(VIA_TAIL);
        request.headers_mut().insert_at_top(HeaderName::Via, via);
        let message = Message::Request(request);
        match nat {
            Some((work, refusal)) => Self::nat_decision(message, out_leg, target, work, refusal),
            None => Decision::Forward {
                message,
                leg: out_leg,
                target,
            },
        }
    }

    fn finish_response(
        &self,
        mut response: Response,
        in_leg: usize,
        from: SocketAddr,
        target: Target,
    ) -> Decision {
        let Some(out_leg) = self
            .legs
            .for_target(target.protocol, target.addr, Some(in_leg))
        else {
            return Decision::Drop("no leg for the response's next hop");
        };
        let Ok(nat) = self.nat_for_response(&response, in_leg, out_leg) else {
            return Decision::Drop("response whose SDP the NAT helper cannot read");
        };
        self.rewrite_contacts(response.headers_mut(), in_leg, out_leg, from);
        let message = Message::Response(response);
        match nat {
            Some(work) => Self::nat_decision(message, out_leg, target, work, None),
            None => Decision::Forward {
                message,
                leg: out_leg,
                target,
            },
        }
    }

    fn rewrite_contacts(
        &self,
        headers: &mut sip_packet::Headers,
        in_leg: usize,
        out_leg: usize,
        from: SocketAddr,
    ) {
        let wanted = match self.config.rewrite_contact {
            RewriteContact::Never => false,
            RewriteContact::WhenLegsDiffer => in_leg != out_leg,
            RewriteContact::Always => true,
        };
        if let (true, Some(out)) = (wanted, self.legs.get(out_leg)) {
            let origin = ContactOrigin {
                leg: in_leg,
                via_leg: out_leg,
                source: from,
            };
            self.rewriter.rewrite_headers(headers, &origin, out);
        }
    }

    /// A URI that is one of our rewritten contacts, handed out on the leg the request came
    /// in on (Net::SIP's check): the original and where its owner is.
    fn decode_for(&self, uri: &Uri, leg: usize) -> Option<(Uri, ContactOrigin)> {
        if !self.legs.is_us(uri) {
            return None;
        }
        self.rewriter
            .decode(uri)
            .filter(|(_, origin)| origin.via_leg == leg)
    }

    /// The answer to a request for our domain or address that nobody is registered for:
    /// 200 to an OPTIONS for the proxy itself (a monitoring ping, RFC 3261 §11), else 404.
    fn local_status(&self, request: &Request) -> u16 {
        let to_us = self.legs.is_us(request.uri())
            && request.uri().as_sip().is_some_and(|u| u.user().is_none());
        if request.method() == &Method::Options && to_us {
            200
        } else {
            404
        }
    }

    /// Whether the URI is for a domain of ours or one of our addresses.
    fn is_local(&self, uri: &Uri) -> bool {
        if self.legs.is_us(uri) {
            return true;
        }
        if self.config.domains.is_empty() {
            return false;
        }
        let Some(host) = uri.host() else {
            return false;
        };
        // A domain name is compared as written; an address (rarely listed) as printed.
        let printed;
        let domain = match host.domain() {
            Some(d) => d,
            None => {
                printed = host.to_string();
                &printed
            }
        };
        let domain = domain.trim_end_matches('.');
        self.config
            .domains
            .iter()
            .any(|d| d.trim_end_matches('.').eq_ignore_ascii_case(domain))
    }
}

/// Our own response to a request, with a To tag derived from the request so that every
/// retransmission gets the same answer.
fn reply(request: &Request, status: u16, reason: Option<&str>, branch: &ProxyBranch) -> Response {
    let mut r = Response::from_request(request, status, reason);
    let _ = r.set_to_tag(&format!("sp{}", branch.transaction_part()));
    r
}

fn unspecified() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)
}

/// The target of a URI whose host is an IP address (RFC 3263 §4.1, §4.2 without DNS):
/// the `maddr` or host, the `transport` parameter (TLS for `sips:`, else UDP), the port or
/// the protocol's default. `None` for a name, which needs the resolver.
pub(crate) fn literal_target(uri: &Uri) -> Option<Target> {
    let sip = uri.as_sip()?;
    let host = match sip.params().get_unquoted("maddr") {
        Some(m) => sip_packet::Host::parse(&m).ok()?,
        None => sip.host().clone(),
    };
    let ip = host.ip()?;
    let protocol = match sip.transport().map(str::to_ascii_lowercase).as_deref() {
        _ if sip.is_secure() => Protocol::Tls,
        Some("tcp") => Protocol::Tcp,
        Some("tls") => Protocol::Tls,
        Some("udp") | None => Protocol::Udp,
        Some(_) => return None,
    };
    let port = sip.port().unwrap_or(protocol.default_port());
    Some(Target::new(protocol, SocketAddr::new(ip, port), None))
}

#[cfg(test)]
mod tests;
