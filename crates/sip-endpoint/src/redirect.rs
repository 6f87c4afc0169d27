//! Following a 3xx (RFC 3261 §8.1.3.4): where the request goes next.

use sip_packet::{Response, Uri};

/// What a redirection asks for.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Redirect {
    /// Send the request again to this Request-URI (300-302, 380).
    Target(Uri),
    /// Send the request again, unchanged, through this proxy (305 Use Proxy): a Route to it.
    Proxy(Uri),
}

/// The redirection in `response`: the Contact with the highest `q` (the first of equals; no
/// `q` counts as 1) that is not in `tried`. `None` for a response that is not a 3xx, has no
/// usable Contact, or only Contacts tried already.
///
/// ```
/// use sip_endpoint::{redirect_target, Redirect};
/// use sip_packet::Response;
/// let mut moved = Response::new(302, None);
/// moved.headers_mut().add("Contact", "<sip:a@192.0.2.1>;q=0.5, <sip:b@192.0.2.2>;q=0.9");
/// let Some(Redirect::Target(uri)) = redirect_target(&moved, &[]) else { panic!() };
/// assert_eq!(uri.to_string(), "sip:b@192.0.2.2");
/// ```
pub fn redirect_target(response: &Response, tried: &[Uri]) -> Option<Redirect> {
    if !(300..400).contains(&response.status()) {
        return None;
    }
    let mut best: Option<(f64, Uri)> = None;
    for contact in response.headers().contacts().filter_map(Result::ok) {
        let Some(addr) = contact.address() else {
            continue;
        };
        if tried.iter().any(|t| t.equivalent(addr.uri())) {
            continue;
        }
        let q = addr.q().unwrap_or(1.0);
        if best.as_ref().map_or(true, |(bq, _)| q > *bq) {
            best = Some((q, addr.uri().clone()));
        }
    }
    let (_, uri) = best?;
    Some(if response.status() == 305 {
        Redirect::Proxy(uri)
    } else {
        Redirect::Target(uri)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, contacts: &str) -> Response {
        let mut r = Response::new(status, None);
        if !contacts.is_empty() {
            r.headers_mut().add("Contact", contacts);
        }
        r
    }

    #[test]
    fn highest_q_wins_and_ties_go_to_the_first() {
        let r = response(302, "<sip:a@h1>;q=0.7, <sip:b@h2>, <sip:c@h3>;q=1.0");
        assert_eq!(
            redirect_target(&r, &[]),
            Some(Redirect::Target("sip:b@h2".parse().unwrap()))
        );
    }

    #[test]
    fn tried_targets_are_skipped() {
        let r = response(301, "<sip:a@h1>;q=0.7, <sip:b@h2>");
        let tried = ["sip:b@h2".parse().unwrap()];
        assert_eq!(
            redirect_target(&r, &tried),
            Some(Redirect::Target("sip:a@h1".parse().unwrap()))
        );
        let all = ["sip:b@h2".parse().unwrap(), "sip:a@h1".parse().unwrap()];
        assert_eq!(redirect_target(&r, &all), None);
    }

    #[test]
    fn use_proxy_names_a_route_and_non_3xx_or_empty_is_none() {
        let r = response(305, "<sip:proxy.example.com>");
        assert_eq!(
            redirect_target(&r, &[]),
            Some(Redirect::Proxy("sip:proxy.example.com".parse().unwrap()))
        );
        assert_eq!(redirect_target(&response(302, ""), &[]), None);
        assert_eq!(redirect_target(&response(200, "<sip:a@h1>"), &[]), None);
    }
}
