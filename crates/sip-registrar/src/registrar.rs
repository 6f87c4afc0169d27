//! The registrar's protocol logic (RFC 3261 §10.3), without sockets or a clock.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytestring::ByteString;
use rand::rngs::StdRng;
use rand::SeedableRng;
use sip_packet::{Contact, HeaderName, Method, NameAddr, Request, Response};

use crate::aor::Aor;
use crate::binding::{AorRecord, Binding};
use crate::config::{ConfigError, RegistrarConfig};
use crate::date::http_date;
use crate::memory::MemoryStore;
use crate::store::BindingStore;

/// A registrar (Net::SIP::Registrar): answers REGISTER requests and keeps the bindings they
/// make, in a [`BindingStore`].
///
/// Plain protocol logic: [`Registrar::handle_register`] takes the time and a request and
/// returns the response; nothing here touches a socket or reads a clock, so every rule is
/// tested with an `Instant` made up by the test. [`RegistrarReceiver`](crate::RegistrarReceiver)
/// is the thin part that sits in a dispatcher.
///
/// ```
/// use std::time::Instant;
/// use sip_packet::{Message, Request};
/// use sip_registrar::{Registrar, RegistrarConfig};
///
/// let registrar = Registrar::new(RegistrarConfig::new().max_expires(60)).unwrap();
/// let raw = "REGISTER sip:example.com SIP/2.0\r\n\
/// Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds7\r\n\
/// To: <sip:bob@example.com>\r\nFrom: <sip:bob@example.com>;tag=456248\r\n\
/// Call-ID: 843817637684230@998sdasdh09\r\nCSeq: 1826 REGISTER\r\n\
/// Contact: <sip:bob@192.0.2.4>\r\nExpires: 7200\r\nContent-Length: 0\r\n\r\n";
/// let Ok(Message::Request(register)) = Message::parse(raw.into()) else { unreachable!() };
///
/// let now = Instant::now();
/// let ok = registrar.handle_register(now, &register).unwrap();
/// assert_eq!(ok.status(), 200);
/// // Asked 7200 s, capped at 60.
/// assert_eq!(ok.headers().get("Contact").unwrap(), "<sip:bob@192.0.2.4>;expires=60");
/// let contacts = registrar.query(now, &"sip:bob@example.com".parse().unwrap());
/// assert_eq!(contacts[0].uri().to_string(), "sip:bob@192.0.2.4");
/// ```
pub struct Registrar {
    config: RegistrarConfig,
    store: Arc<dyn BindingStore>,
    rng: Mutex<StdRng>,
    /// One moment on both clocks: Date headers are computed from the `now` given, so that the
    /// logic stays a function of its inputs.
    epoch: (Instant, SystemTime),
    /// The last Date header printed and its second: a second's responses share it.
    last_date: Mutex<(u64, ByteString)>,
}

/// What a [`Registrar`] knows of an address-of-record.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Lookup {
    /// Never registered, or forgotten.
    Unknown,
    /// Registered once (within [`RegistrarConfig::remember_for`]) but without a live binding.
    Unavailable,
    /// The live bindings, highest `q` first (then in the order they were made).
    Contacts(Vec<Binding>),
}

/// Why a REGISTER is refused: status, reason phrase and headers to add.
///
/// A reason phrase says what is wrong but never writes a header's name as one (`Name:`) nor
/// the word `CSeq`: simple peers (SIPp) look for headers by searching the whole message.
struct Refusal {
    status: u16,
    reason: Option<&'static str>,
    headers: Vec<(HeaderName, String)>,
}

impl Refusal {
    fn new(status: u16, reason: &'static str) -> Self {
        Self {
            status,
            reason: Some(reason),
            headers: Vec::new(),
        }
    }
}

/// One Contact of a REGISTER, with the interval granted.
struct Update {
    contact: NameAddr,
    expires: u32,
}

impl Registrar {
    /// A registrar with the embedded default store, a [`MemoryStore`].
    pub fn new(config: RegistrarConfig) -> Result<Self, ConfigError> {
        Self::with_store(config, Arc::new(MemoryStore::new()))
    }

    /// A registrar keeping its bindings in `store`.
    pub fn with_store(
        config: RegistrarConfig,
        store: Arc<dyn BindingStore>,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let rng = match config.seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_entropy(),
        };
        Ok(Self {
            config,
            store,
            rng: Mutex::new(rng),
            epoch: (Instant::now(), SystemTime::now()),
            last_date: Mutex::new((u64::MAX, ByteString::new())),
        })
    }

    /// Sets which wall-clock time `at` is (default: the time of construction), for the Date
    /// header; a test fixes both to get a known Date.
    #[must_use]
    pub fn with_wall_clock(mut self, at: Instant, wall: SystemTime) -> Self {
        self.epoch = (at, wall);
        self
    }

    /// The options.
    pub fn config(&self) -> &RegistrarConfig {
        &self.config
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn BindingStore> {
        &self.store
    }

    /// Whether a REGISTER for `aor` is for this registrar (its domains).
    pub fn serves(&self, aor: &Aor) -> bool {
        self.config.serves(aor.host())
    }

    /// Answers a REGISTER arriving at `now` (RFC 3261 §10.3) and updates the bindings.
    ///
    /// `None` when the request is not for this registrar: not a REGISTER, or (unless the
    /// registrar is [standalone](RegistrarConfig::standalone)) for an address outside its
    /// domains, so that a chain asks its next member. Otherwise the response to send:
    /// - 200 listing every live binding of the address with its remaining `expires` (and `q`
    ///   as registered), and a Date header; without Contact the request only fetches them;
    /// - 423 Interval Too Brief with Min-Expires when a contact asks for less than
    ///   `min_expires` (and not 0);
    /// - 400 for `Contact: *` with other contacts or with an Expires other than 0, and for a
    ///   header that does not parse;
    /// - 500 when, for a Call-ID a binding already has, the CSeq is not higher than the one
    ///   that binding was made with (§10.3 step 7 says only that "the request fails"; 500 is
    ///   the code the same step gives to a failed update);
    /// - 420 Bad Extension for a Require this registrar does not know (§8.2.2.3, by step 2);
    /// - 404 for a To that is not a SIP URI or, standalone, not of a served domain.
    ///
    /// Nothing is changed unless the answer is 200: the updates of one request are applied
    /// together or not at all.
    pub fn handle_register(&self, now: Instant, request: &Request) -> Option<Response> {
        if request.method() != &Method::Register {
            return None;
        }
        let aor = match request.headers().to() {
            Ok(to) => Aor::from_uri(to.uri()),
            Err(_) => {
                return Some(self.refuse(
                    request,
                    Refusal::new(400, "Bad Request (To header malformed)"),
                ))
            }
        };
        let aor = match aor {
            Some(a) if self.serves(&a) => a,
            _ if !self.config.standalone => return None,
            _ => return Some(self.refuse(request, Refusal::new(404, "Not Found"))),
        };
        Some(match self.register(now, request, &aor) {
            Ok(bindings) => self.ok(now, request, &bindings),
            Err(refusal) => self.refuse(request, refusal),
        })
    }

    /// Applies a REGISTER for `aor`; the live bindings after it, or why it fails.
    fn register(
        &self,
        now: Instant,
        request: &Request,
        aor: &Aor,
    ) -> Result<Vec<Binding>, Refusal> {
        let headers = request.headers();
        // §10.3 step 2 and §8.2.2.3: no extension is supported here.
        let required: Vec<&str> = headers
            .get_all(HeaderName::Require)
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .collect();
        if !required.is_empty() {
            let mut r = Refusal::new(420, "Bad Extension");
            r.headers
                .push((HeaderName::Unsupported, required.join(", ")));
            return Err(r);
        }
        let call_id: ByteString = headers.share(
            headers
                .call_id()
                .map_err(|_| Refusal::new(400, "Bad Request (Call-ID missing)"))?,
        );
        let cseq = headers
            .cseq()
            .map_err(|_| Refusal::new(400, "Bad Request (sequence number malformed)"))?
            .seq();
        let expires_header = headers
            .expires()
            .map_err(|_| Refusal::new(400, "Bad Request (Expires malformed)"))?;
        let contacts = headers
            .contacts()
            .collect::<Result<Vec<Contact>, _>>()
            .map_err(|_| Refusal::new(400, "Bad Request (Contact malformed)"))?;

        let mut record = self
            .store
            .get(aor)
            .unwrap_or_else(|| AorRecord::new(Vec::new(), now));
        // Expired bindings that the sweep has not reached yet are gone all the same.
        record.drop_expired(now);

        if contacts.is_empty() {
            // §10.3 step 8 / §10.2.3: a query.
            return Ok(record.bindings().to_vec());
        }

        if contacts.iter().any(|c| matches!(c, Contact::Star)) {
            // §10.3 step 6.
            if contacts.len() > 1 || expires_header != Some(0) {
                return Err(Refusal::new(
                    400,
                    "Bad Request (* needs Expires 0 and no other contact)",
                ));
            }
            if record
                .bindings()
                .iter()
                .any(|b| is_stale(b, &call_id, cseq))
            {
                return Err(out_of_order());
            }
            record.bindings_mut().clear();
            self.commit(now, aor, record);
            return Ok(Vec::new());
        }

        let mut updates: Vec<Update> = Vec::with_capacity(contacts.len());
        for contact in contacts.into_iter().filter_map(|c| match c {
            Contact::Address(a) => Some(a),
            _ => None,
        }) {
            let expires = self.config.granted(contact.expires().or(expires_header));
            // §10.3 step 7: "greater than zero AND smaller than one hour AND less than a
            // registrar-configured minimum"; the minimum is never above max_expires, and an
            // hour is the most a client should have to accept.
            if expires > 0 && expires < 3600 && expires < self.config.min_expires {
                let mut r = Refusal::new(423, "Interval Too Brief");
                r.headers
                    .push((HeaderName::MinExpires, self.config.min_expires.to_string()));
                return Err(r);
            }
            // The same contact twice in one request: the last one counts.
            updates.retain(|u| !u.contact.uri().equivalent(contact.uri()));
            updates.push(Update { contact, expires });
        }

        // Check all before changing any (atomic update).
        for u in &updates {
            if let Some(b) = record.bindings().iter().find(|b| b.is_for(u.contact.uri())) {
                if is_stale(b, &call_id, cseq) {
                    return Err(out_of_order());
                }
            }
        }
        for u in updates {
            let existing = record
                .bindings()
                .iter()
                .position(|b| b.is_for(u.contact.uri()));
            if u.expires == 0 {
                if let Some(i) = existing {
                    record.bindings_mut().remove(i);
                }
                continue;
            }
            let binding = Binding::new(
                u.contact,
                call_id.clone(),
                cseq,
                now + Duration::from_secs(u64::from(u.expires)),
            );
            match existing {
                Some(i) => record.bindings_mut()[i] = binding,
                None => record.bindings_mut().push(binding),
            }
        }
        let bindings = record.bindings().to_vec();
        self.commit(now, aor, record);
        Ok(bindings)
    }

    /// Writes `record` with its `keep_until`: `remember_for` past its last binding.
    fn commit(&self, now: Instant, aor: &Aor, mut record: AorRecord) {
        let last = record
            .bindings()
            .iter()
            .map(Binding::expires_at)
            .max()
            .unwrap_or(now)
            .max(now);
        let keep_until = last + self.config.remember_for;
        let bindings = std::mem::take(record.bindings_mut());
        self.store.put(aor, AorRecord::new(bindings, keep_until));
    }

    fn ok(&self, now: Instant, request: &Request, bindings: &[Binding]) -> Response {
        let mut r = self.response(request, 200, None);
        let mut sorted: Vec<&Binding> = bindings.iter().filter(|b| b.is_live(now)).collect();
        sorted.sort_by_key(|b| std::cmp::Reverse(b.q_order()));
        for b in sorted {
            r.headers_mut()
                .add(HeaderName::Contact, b.to_contact_value(now));
        }
        r.headers_mut().add(HeaderName::Date, self.date(now));
        r
    }

    fn refuse(&self, request: &Request, refusal: Refusal) -> Response {
        let mut r = self.response(request, refusal.status, refusal.reason);
        for (name, value) in refusal.headers {
            r.headers_mut().add(name, value);
        }
        r
    }

    fn response(&self, request: &Request, status: u16, reason: Option<&str>) -> Response {
        let mut r = Response::from_request(request, status, reason);
        let tag = {
            let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
            sip_packet::random::tag(&mut *rng)
        };
        // §8.2.6.2: our tag on a To that has none. Appended to the To as received: `;tag=`
        // is a header parameter after a name-addr and after a bare addr-spec alike, so this
        // is the header `set_to_tag` writes, without parsing the address and printing it
        // again (which was most of the cost of building the answer).
        match r.headers().to_tag() {
            Ok(Some(_)) => {}
            Ok(None) => {
                if let Some(to) = r.headers().get(HeaderName::To) {
                    let to = to.trim_end();
                    let mut value = String::with_capacity(to.len() + 5 + tag.len());
                    value.push_str(to);
                    value.push_str(";tag=");
                    value.push_str(&tag);
                    r.headers_mut().set(HeaderName::To, value);
                }
            }
            // A To that does not parse has no tag to add to; the response still goes out.
            Err(_) => {
                let _ = r.set_to_tag(&tag);
            }
        }
        r
    }

    fn date(&self, now: Instant) -> ByteString {
        let (at, wall) = self.epoch;
        let t = if now >= at {
            wall + (now - at)
        } else {
            wall - (at - now)
        };
        let second = t
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut last = self
            .last_date
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.0 != second {
            *last = (second, ByteString::from(http_date(t)));
        }
        last.1.clone()
    }

    /// The live `sip:` and `sips:` contacts of `aor` at `now`, highest `q` first (Net::SIP's
    /// `query`). A proxy or redirect server calls this for each request it routes.
    pub fn query(&self, now: Instant, aor: &Aor) -> Vec<Binding> {
        match self.lookup(now, aor) {
            Lookup::Contacts(c) => c
                .into_iter()
                .filter(|b| b.uri().as_sip().is_some())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// What is known of `aor` at `now`: its live bindings (any scheme), highest `q` first,
    /// or whether it is known at all.
    pub fn lookup(&self, now: Instant, aor: &Aor) -> Lookup {
        let Some(record) = self.store.get(aor) else {
            return Lookup::Unknown;
        };
        let mut live: Vec<Binding> = record.live(now).cloned().collect();
        if live.is_empty() {
            return if record.keep_until() > now {
                Lookup::Unavailable
            } else {
                Lookup::Unknown
            };
        }
        // Stable: equal q keep the order in which they were made.
        live.sort_by_key(|b| std::cmp::Reverse(b.q_order()));
        Lookup::Contacts(live)
    }

    /// Drops the bindings expired at `now` (Net::SIP's `expire`); the work is proportional to
    /// what is due. Returns how many went.
    pub fn handle_timeout(&self, now: Instant) -> usize {
        self.store.expire(now)
    }

    /// When [`Registrar::handle_timeout`] next has work.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.store.next_deadline()
    }
}

/// §10.3 step 7: the request is older than (or the same as) what made the binding.
fn is_stale(b: &Binding, call_id: &str, cseq: u32) -> bool {
    b.call_id() == call_id && cseq <= b.cseq()
}

fn out_of_order() -> Refusal {
    // Not "CSeq" in the phrase: SIPp finds a response's CSeq by searching the whole message
    // for that word, and would read the method from the reason phrase.
    Refusal::new(500, "Server Internal Error (out of order)")
}

impl std::fmt::Debug for Registrar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registrar")
            .field("config", &self.config)
            .field("addresses", &self.store.len())
            .finish()
    }
}

#[cfg(test)]
mod tests;
