//! Where a Request-URI's user is now: the proxy's view of a location service (RFC 3261
//! §16.5), e.g. a registrar's bindings.

use std::time::Instant;

use sip_packet::Uri;

/// A location service: the contacts currently bound to an address.
///
/// `sip_registrar::Registrar` implements it (feature `registrar`); a closure
/// `Fn(Instant, &Uri) -> Option<Vec<Uri>>` does too.
///
/// ```
/// use std::time::Instant;
/// use sip_packet::Uri;
/// use sip_proxy::Locate;
/// let table = |_now: Instant, aor: &Uri| -> Option<Vec<Uri>> {
///     (aor.user() == Some("bob")).then(|| vec!["sip:bob@192.0.2.4:5062".parse().unwrap()])
/// };
/// let bob = "sip:bob@example.com".parse().unwrap();
/// assert_eq!(table.locate(Instant::now(), &bob).unwrap().len(), 1);
/// ```
pub trait Locate: Send + Sync {
    /// The contacts for `request_uri` at `now`, highest q first: `None` when the address is
    /// not one this service knows (the proxy then routes the URI itself), `Some` of an
    /// empty list when it is known but nothing is registered now (the proxy answers 480).
    ///
    /// Called on the dispatcher's task: it must not block.
    fn locate(&self, now: Instant, request_uri: &Uri) -> Option<Vec<Uri>>;
}

impl<F> Locate for F
where
    F: Fn(Instant, &Uri) -> Option<Vec<Uri>> + Send + Sync,
{
    fn locate(&self, now: Instant, request_uri: &Uri) -> Option<Vec<Uri>> {
        self(now, request_uri)
    }
}

/// The registrar's live `sip:`/`sips:` contacts (Net::SIP's `query`), highest q first: an
/// address it has never seen (or a domain it does not serve) is unknown; one registered
/// before but without a live binding is known with no contact.
#[cfg(feature = "registrar")]
impl Locate for sip_registrar::Registrar {
    fn locate(&self, now: Instant, request_uri: &Uri) -> Option<Vec<Uri>> {
        let aor = sip_registrar::Aor::from_uri(request_uri)?;
        if !self.serves(&aor) {
            return None;
        }
        match self.lookup(now, &aor) {
            sip_registrar::Lookup::Contacts(bindings) => Some(
                bindings
                    .iter()
                    .map(|b| b.uri().clone())
                    .filter(|u| u.as_sip().is_some())
                    .collect(),
            ),
            sip_registrar::Lookup::Unavailable => Some(Vec::new()),
            _ => None,
        }
    }
}
