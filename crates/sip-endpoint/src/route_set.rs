//! Where a request inside a dialog goes: the Request-URI and Route headers from the route set
//! and the remote target (RFC 3261 §12.2.1.1), loose and strict routing alike.

use sip_packet::{NameAddr, Uri};

/// The Request-URI and the Route values of a request to `remote_target` through `route_set`.
///
/// - No route set: the remote target, no Route.
/// - The first route is a loose router (`;lr`): the remote target, the route set as Route.
/// - Else (a strict router, RFC 2543): the first route's URI, stripped of what a Request-URI
///   may not carry (the `method` parameter and URI headers), becomes the Request-URI; the rest
///   of the route set then the remote target become the Route values.
///
/// ```
/// use sip_endpoint::request_target;
/// use sip_packet::{NameAddr, Uri};
/// let target: Uri = "sip:bob@192.0.2.4".parse().unwrap();
/// let routes = vec![NameAddr::parse("<sip:p1.example.com;lr>").unwrap()];
/// let (uri, route) = request_target(&routes, &target);
/// assert_eq!(uri, target);
/// assert_eq!(route, routes);
/// ```
pub fn request_target(route_set: &[NameAddr], remote_target: &Uri) -> (Uri, Vec<NameAddr>) {
    let Some(first) = route_set.first() else {
        return (remote_target.clone(), Vec::new());
    };
    if is_loose(first.uri()) {
        return (remote_target.clone(), route_set.to_vec());
    }
    let mut uri = first.uri().clone();
    if let Some(sip) = uri.as_sip_mut() {
        sip.params_mut().remove("method");
        sip.set_headers(None);
    }
    let mut routes: Vec<NameAddr> = route_set[1..].to_vec();
    routes.push(NameAddr::new(remote_target.clone()));
    (uri, routes)
}

/// Whether a route URI names a loose router (`lr` parameter, RFC 3261 §19.1.1).
pub(crate) fn is_loose(uri: &Uri) -> bool {
    uri.as_sip().is_some_and(|s| s.params().contains("lr"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn na(s: &str) -> NameAddr {
        NameAddr::parse(s).unwrap()
    }

    #[test]
    fn empty_route_set_goes_to_the_remote_target() {
        let t: Uri = "sip:bob@192.0.2.4:5070".parse().unwrap();
        let (uri, routes) = request_target(&[], &t);
        assert_eq!(uri, t);
        assert!(routes.is_empty());
    }

    #[test]
    fn loose_router_keeps_the_target_and_routes_through_every_hop() {
        let t: Uri = "sip:bob@192.0.2.4".parse().unwrap();
        let set = vec![na("<sip:p1.example.com;lr>"), na("<sip:p2.example.com;lr>")];
        let (uri, routes) = request_target(&set, &t);
        assert_eq!(uri, t);
        assert_eq!(routes, set);
    }

    #[test]
    fn strict_router_takes_the_request_uri_and_the_target_goes_last() {
        // RFC 3261 §12.2.1.1's example: route set <sip:p1>, <sip:p2>, no lr on p1.
        let t: Uri = "sip:bob@192.0.2.4".parse().unwrap();
        let set = vec![
            na("<sip:p1.example.com;method=INVITE?x=y>"),
            na("<sip:p2.example.com;lr>"),
        ];
        let (uri, routes) = request_target(&set, &t);
        assert_eq!(uri.to_string(), "sip:p1.example.com");
        let shown: Vec<String> = routes.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["<sip:p2.example.com;lr>", "<sip:bob@192.0.2.4>"]);
    }
}
