//! The REGISTER client (Net::SIP::Endpoint's `register`, RFC 3261 §10.2): what to register,
//! how long the registrar granted, when to refresh, and the handle that unregisters.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sip_packet::{NameAddr, Response, Uri};

use crate::application::ContextCallback;
use crate::auth::Credentials;
use crate::context::Context;
use crate::endpoint::Endpoint;

/// What to register where (Net::SIP's `register` arguments).
#[derive(Clone)]
#[non_exhaustive]
pub struct RegisterParams {
    /// The registrar's URI: the Request-URI of the REGISTER.
    pub registrar: Uri,
    /// The address of record: From and To.
    pub from: NameAddr,
    /// Where we are reached: the Contact bound to `from`.
    pub contact: NameAddr,
    /// What challenges are answered with.
    pub auth: Option<Credentials>,
    /// The registration time asked for, in seconds (default 900).
    pub expires: u32,
    /// More headers, in order.
    pub headers: Vec<(String, String)>,
    /// Hears every response and failure of the registration's requests.
    pub callback: Option<Arc<dyn ContextCallback>>,
}

impl RegisterParams {
    /// Registers `contact` for `from` at `registrar` for 900 s.
    pub fn new(registrar: Uri, from: NameAddr, contact: NameAddr) -> Self {
        Self {
            registrar,
            from,
            contact,
            auth: None,
            expires: 900,
            headers: Vec::new(),
            callback: None,
        }
    }

    /// Answers challenges with these credentials.
    #[must_use]
    pub fn auth(mut self, credentials: Credentials) -> Self {
        self.auth = Some(credentials);
        self
    }

    /// Asks for this registration time.
    #[must_use]
    pub fn expires(mut self, seconds: u32) -> Self {
        self.expires = seconds;
        self
    }

    /// Adds a header to every REGISTER.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Hears responses and failures.
    #[must_use]
    pub fn callback(mut self, callback: impl ContextCallback + 'static) -> Self {
        self.callback = Some(Arc::new(callback));
        self
    }
}

impl fmt::Debug for RegisterParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisterParams")
            .field("registrar", &self.registrar.to_string())
            .field("from", &self.from.to_string())
            .field("contact", &self.contact.to_string())
            .field("auth", &self.auth)
            .field("expires", &self.expires)
            .field("headers", &self.headers)
            .finish()
    }
}

/// The registration's part of its context.
#[derive(Debug)]
pub(crate) struct RegState {
    pub(crate) contact: NameAddr,
    /// What the next REGISTER asks for.
    pub(crate) expires: u32,
    pub(crate) headers: Vec<(String, String)>,
    /// What the registrar granted last.
    pub(crate) granted: Option<Duration>,
    /// When the next REGISTER (refresh or retry) goes out.
    pub(crate) next_at: Option<Instant>,
    /// Unregistering: the next 2xx ends the registration.
    pub(crate) unregistering: bool,
    /// 423 answered already for this round (Min-Expires followed once).
    pub(crate) raised: bool,
}

/// The registration time `response` (a 2xx to our REGISTER) granted for `contact`: the
/// `expires` parameter of our Contact in the response, else its Expires header, else what we
/// asked for (RFC 3261 §10.2.4).
///
/// ```
/// use sip_endpoint::granted_expires;
/// use sip_packet::{NameAddr, Response};
/// let mut ok = Response::new(200, None);
/// ok.headers_mut().add("Contact", "<sip:other@192.0.2.9>;expires=30, <sip:me@192.0.2.1>;expires=120");
/// ok.headers_mut().add("Expires", "600");
/// let me = NameAddr::parse("<sip:me@192.0.2.1>").unwrap();
/// assert_eq!(granted_expires(&ok, &me, 900), 120);
/// ```
pub fn granted_expires(response: &Response, contact: &NameAddr, requested: u32) -> u32 {
    let ours = response
        .headers()
        .contacts()
        .filter_map(Result::ok)
        .filter_map(|c| c.address().cloned())
        .find(|a| a.uri().equivalent(contact.uri()));
    if let Some(e) = ours.and_then(|a| a.expires()) {
        return e;
    }
    match response.headers().expires() {
        Ok(Some(e)) => e,
        _ => requested,
    }
}

/// When to refresh a registration granted `granted` at `now`: after `fraction` of it, and
/// never sooner than a second from now (a registrar granting 0 or 1 s must not make us
/// hammer it).
pub fn refresh_at(now: Instant, granted: Duration, fraction: f64) -> Instant {
    now + granted
        .mul_f64(fraction.clamp(0.1, 1.0))
        .max(Duration::from_secs(1))
}

/// A registration kept alive by the endpoint. Dropping it unregisters (a REGISTER with
/// `Expires: 0`); [`keep`](Self::keep) leaves the binding to expire on its own.
pub struct Registration {
    endpoint: Endpoint,
    ctx: Context,
    active: bool,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("ctx", &self.ctx)
            .field("active", &self.active)
            .finish()
    }
}

impl Registration {
    pub(crate) fn new(endpoint: Endpoint, ctx: Context) -> Self {
        Self {
            endpoint,
            ctx,
            active: true,
        }
    }

    /// The registration's context (its Call-ID stays the same across refreshes, §10.2.4).
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// The registration time the registrar granted last; `None` before the first 2xx.
    pub fn granted(&self) -> Option<Duration> {
        self.ctx
            .lock()
            .registration
            .as_ref()
            .and_then(|r| r.granted)
    }

    /// Unregisters now.
    pub fn unregister(mut self) {
        self.stop();
    }

    /// Stops refreshing without unregistering.
    pub fn keep(mut self) {
        self.active = false;
        self.endpoint.stop_registration(&self.ctx, false);
    }

    fn stop(&mut self) {
        if std::mem::take(&mut self.active) {
            self.endpoint.stop_registration(&self.ctx, true);
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(contacts: &str, expires: Option<&str>) -> Response {
        let mut r = Response::new(200, None);
        if !contacts.is_empty() {
            r.headers_mut().add("Contact", contacts);
        }
        if let Some(e) = expires {
            r.headers_mut().add("Expires", e);
        }
        r
    }

    #[test]
    fn our_contact_param_wins_then_the_header_then_the_request() {
        let me = NameAddr::parse("<sip:me@192.0.2.1:5070>").unwrap();
        assert_eq!(
            granted_expires(
                &ok("<sip:me@192.0.2.1:5070>;expires=60", Some("600")),
                &me,
                900
            ),
            60
        );
        assert_eq!(
            granted_expires(&ok("<sip:other@h>;expires=60", Some("600")), &me, 900),
            600
        );
        assert_eq!(granted_expires(&ok("", None), &me, 900), 900);
        assert_eq!(granted_expires(&ok("", Some("bogus")), &me, 900), 900);
    }

    #[test]
    fn refresh_comes_at_the_fraction_but_never_within_a_second() {
        let now = Instant::now();
        assert_eq!(
            refresh_at(now, Duration::from_secs(900), 0.85),
            now + Duration::from_secs(765)
        );
        assert_eq!(
            refresh_at(now, Duration::ZERO, 0.85),
            now + Duration::from_secs(1)
        );
    }
}
