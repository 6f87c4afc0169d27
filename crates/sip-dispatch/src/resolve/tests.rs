//! The rules of `resolve_uri`, checked against a `StaticResolver`.

use std::net::IpAddr;

use rand::rngs::StdRng;
use rand::SeedableRng;
use sip_packet::{Host, Uri};
use sip_transport::Protocol::{self, Tcp, Tls, Udp};

use super::srv_order::order_srv;
use super::*;

const ALL: &[Protocol] = &[Udp, Tcp, Tls];

fn uri(s: &str) -> Uri {
    Uri::parse(s).unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A zone with every kind of record:
/// - example.com: NAPTR for TCP (order 10), UDP (20), TLS (30) and SCTP (ignored);
/// - srvonly.com: SRV for UDP and TCP, no NAPTR;
/// - aonly.com, proxy.com, v6.com: addresses only.
fn zone() -> StaticResolver {
    StaticResolver::new()
        .naptr(
            "example.com",
            [
                Naptr::new(20, 10, "S", "SIP+D2U", "_sip._udp.example.com."),
                Naptr::new(10, 10, "S", "SIP+D2T", "_sip._tcp.example.com."),
                Naptr::new(30, 10, "s", "SIPS+D2T", "_sips._tcp.example.com."),
                Naptr::new(5, 10, "S", "SIP+D2S", "_sip._sctp.example.com."),
            ],
        )
        .srv(
            "_sip._tcp.example.com",
            [Srv::new(10, 0, 5070, "tcp1.example.com.")],
        )
        .srv(
            "_sip._udp.example.com",
            [
                Srv::new(20, 0, 5080, "udp2.example.com."),
                Srv::new(10, 0, 5060, "udp1.example.com."),
            ],
        )
        .srv(
            "_sips._tcp.example.com",
            [Srv::new(10, 0, 5061, "tls.example.com.")],
        )
        .srv(
            "_sip._sctp.example.com",
            [Srv::new(10, 0, 5060, "sctp.example.com.")],
        )
        .ip("tcp1.example.com", [ip("127.0.0.1")])
        .ip("udp1.example.com", [ip("127.0.0.2"), ip("2001:db8::2")])
        .ip("udp2.example.com", [ip("127.0.0.3")])
        .ip("tls.example.com", [ip("127.0.0.4")])
        .ip("sctp.example.com", [ip("127.0.0.5")])
        .ip("example.com", [ip("127.0.0.99")])
        .srv(
            "_sip._udp.srvonly.com",
            [Srv::new(10, 0, 5062, "host.srvonly.com")],
        )
        .srv(
            "_sip._tcp.srvonly.com",
            [Srv::new(10, 0, 5063, "host.srvonly.com")],
        )
        .srv(
            "_sips._tcp.srvonly.com",
            [Srv::new(10, 0, 5064, "host.srvonly.com")],
        )
        .ip("host.srvonly.com", [ip("127.0.0.10")])
        .ip("aonly.com", [ip("127.0.0.20")])
        .ip("proxy.com", [ip("127.0.0.30")])
        .ip("v6.com", [ip("::1"), ip("2001:db8::6"), ip("127.0.0.6")])
}

async fn resolve(
    u: &str,
    config: &RouteConfig,
    dns: &StaticResolver,
    supported: &[Protocol],
) -> Result<Vec<String>, ResolveError> {
    let mut rng = StdRng::seed_from_u64(0);
    let targets = resolve_uri(&uri(u), config, dns, supported, &mut rng).await?;
    Ok(targets.iter().map(ToString::to_string).collect())
}

async fn targets(u: &str, supported: &[Protocol]) -> Vec<String> {
    resolve(u, &RouteConfig::new(), &zone(), supported)
        .await
        .unwrap()
}

fn queries(dns: &StaticResolver) -> Vec<String> {
    dns.queries()
        .into_iter()
        .map(|(kind, name)| format!("{kind} {name}"))
        .collect()
}

#[tokio::test]
async fn naptr_then_srv_then_addresses_in_naptr_order() {
    assert_eq!(
        targets("sip:alice@example.com", ALL).await,
        [
            "tcp:127.0.0.1:5070 (example.com)",
            "udp:127.0.0.2:5060 (example.com)",
            "udp:[2001:db8::2]:5060 (example.com)",
            "udp:127.0.0.3:5080 (example.com)",
            "tls:127.0.0.4:5061 (example.com)",
        ]
    );
    let dns = zone();
    resolve("sip:alice@example.com", &RouteConfig::new(), &dns, ALL)
        .await
        .unwrap();
    // NAPTR first; the SRV of the unknown SCTP service and the A of the domain never asked.
    assert_eq!(
        queries(&dns),
        [
            "NAPTR example.com",
            "SRV _sip._tcp.example.com.",
            "SRV _sip._udp.example.com.",
            "SRV _sips._tcp.example.com.",
            "A/AAAA tcp1.example.com.",
            "A/AAAA udp1.example.com.",
            "A/AAAA udp2.example.com.",
            "A/AAAA tls.example.com.",
        ]
    );
}

#[tokio::test]
async fn naptr_only_for_supported_protocols() {
    assert_eq!(
        targets("sip:example.com", &[Udp]).await,
        [
            "udp:127.0.0.2:5060 (example.com)",
            "udp:[2001:db8::2]:5060 (example.com)",
            "udp:127.0.0.3:5080 (example.com)",
        ]
    );
    assert_eq!(
        targets("sip:example.com", &[Tls, Tcp]).await,
        [
            "tcp:127.0.0.1:5070 (example.com)",
            "tls:127.0.0.4:5061 (example.com)"
        ]
    );
}

#[tokio::test]
async fn sips_takes_only_the_tls_naptr() {
    assert_eq!(
        targets("sips:bob@example.com", ALL).await,
        ["tls:127.0.0.4:5061 (example.com)"]
    );
}

#[tokio::test]
async fn naptr_preference_orders_within_an_order_and_a_flag_goes_to_addresses() {
    let dns = StaticResolver::new()
        .naptr(
            "pref.com",
            [
                Naptr::new(10, 50, "S", "SIP+D2U", "_sip._udp.pref.com"),
                Naptr::new(10, 20, "A", "SIP+D2T", "tcp.pref.com"),
                Naptr::new(10, 30, "U", "SIP+D2U", "!^.*$!sip:x@y!"),
            ],
        )
        .srv("_sip._udp.pref.com", [Srv::new(1, 0, 5099, "udp.pref.com")])
        .ip("tcp.pref.com", [ip("127.0.1.1")])
        .ip("udp.pref.com", [ip("127.0.1.2")]);
    assert_eq!(
        resolve("sip:pref.com", &RouteConfig::new(), &dns, ALL)
            .await
            .unwrap(),
        [
            "tcp:127.0.1.1:5060 (pref.com)",
            "udp:127.0.1.2:5099 (pref.com)"
        ]
    );
}

#[tokio::test]
async fn failed_naptr_lookup_falls_back_to_srv() {
    for kind in [FailKind::Timeout, FailKind::ServerFailure] {
        let dns = StaticResolver::new()
            .fail("flaky.com", kind)
            .srv(
                "_sip._udp.flaky.com",
                [Srv::new(10, 0, 5070, "sip.flaky.com")],
            )
            .ip("sip.flaky.com", [ip("127.0.2.1")]);
        assert_eq!(
            resolve("sip:flaky.com", &RouteConfig::new(), &dns, ALL)
                .await
                .unwrap(),
            ["udp:127.0.2.1:5070 (flaky.com)"]
        );
        assert_eq!(
            queries(&dns),
            [
                "NAPTR flaky.com",
                "SRV _sip._udp.flaky.com",
                "SRV _sip._tcp.flaky.com",
                "A/AAAA sip.flaky.com",
            ]
        );
    }
}

#[tokio::test]
async fn naptr_without_usable_records_falls_back_to_srv() {
    let dns = zone().naptr(
        "srvonly.com",
        [Naptr::new(10, 10, "S", "SIP+D2S", "_sip._sctp.srvonly.com")],
    );
    assert_eq!(
        resolve("sip:srvonly.com", &RouteConfig::new(), &dns, ALL)
            .await
            .unwrap(),
        [
            "udp:127.0.0.10:5062 (srvonly.com)",
            "tcp:127.0.0.10:5063 (srvonly.com)"
        ]
    );
}

#[tokio::test]
async fn srv_only_queries_each_supported_transport_udp_then_tcp() {
    let dns = zone();
    assert_eq!(
        resolve("sip:srvonly.com", &RouteConfig::new(), &dns, ALL)
            .await
            .unwrap(),
        [
            "udp:127.0.0.10:5062 (srvonly.com)",
            "tcp:127.0.0.10:5063 (srvonly.com)"
        ]
    );
    assert_eq!(
        queries(&dns),
        [
            "NAPTR srvonly.com",
            "SRV _sip._udp.srvonly.com",
            "SRV _sip._tcp.srvonly.com",
            "A/AAAA host.srvonly.com",
        ]
    );
    assert_eq!(
        targets("sip:srvonly.com", &[Tcp]).await,
        ["tcp:127.0.0.10:5063 (srvonly.com)"]
    );
    let dns = zone();
    assert_eq!(
        resolve("sips:srvonly.com", &RouteConfig::new(), &dns, ALL)
            .await
            .unwrap(),
        ["tls:127.0.0.10:5064 (srvonly.com)"]
    );
    assert_eq!(
        queries(&dns),
        [
            "NAPTR srvonly.com",
            "SRV _sips._tcp.srvonly.com",
            "A/AAAA host.srvonly.com"
        ]
    );
}

#[tokio::test]
async fn addresses_only_use_the_default_port_udp_or_tls() {
    assert_eq!(
        targets("sip:aonly.com", ALL).await,
        ["udp:127.0.0.20:5060 (aonly.com)"]
    );
    assert_eq!(
        targets("sips:aonly.com", ALL).await,
        ["tls:127.0.0.20:5061 (aonly.com)"]
    );
    // No UDP: TCP rather than nothing.
    assert_eq!(
        targets("sip:aonly.com", &[Tcp, Tls]).await,
        ["tcp:127.0.0.20:5060 (aonly.com)"]
    );
}

#[tokio::test]
async fn srv_target_dot_means_no_service_and_no_fallback_to_addresses() {
    let dns = StaticResolver::new()
        .srv("_sip._udp.nosip.com", [Srv::new(0, 0, 0, ".")])
        .ip("nosip.com", [ip("127.0.3.1")]);
    let err = resolve("sip:nosip.com", &RouteConfig::new(), &dns, ALL)
        .await
        .unwrap_err();
    assert!(matches!(err, ResolveError::NoTargets { .. }), "{err}");
    assert!(!queries(&dns).contains(&"A/AAAA nosip.com".to_owned()));
}

#[tokio::test]
async fn a_port_skips_naptr_and_srv() {
    let dns = zone();
    assert_eq!(
        resolve("sip:example.com:5090", &RouteConfig::new(), &dns, ALL)
            .await
            .unwrap(),
        ["udp:127.0.0.99:5090 (example.com)"]
    );
    assert_eq!(queries(&dns), ["A/AAAA example.com"]);
    assert_eq!(
        targets("sip:example.com:5090;transport=TCP", ALL).await,
        ["tcp:127.0.0.99:5090 (example.com)"]
    );
    assert_eq!(
        targets("sips:example.com:5090", ALL).await,
        ["tls:127.0.0.99:5090 (example.com)"]
    );
}

#[tokio::test]
async fn transport_param_picks_the_srv_name() {
    let dns = zone();
    assert_eq!(
        resolve(
            "sip:example.com;transport=tcp",
            &RouteConfig::new(),
            &dns,
            ALL
        )
        .await
        .unwrap(),
        ["tcp:127.0.0.1:5070 (example.com)"]
    );
    assert_eq!(
        queries(&dns),
        ["SRV _sip._tcp.example.com", "A/AAAA tcp1.example.com."]
    );
    assert_eq!(
        targets("sip:example.com;transport=tls", ALL).await,
        ["tls:127.0.0.4:5061 (example.com)"]
    );
    // sips with transport=tcp is TLS over TCP.
    assert_eq!(
        targets("sips:example.com;transport=tcp", ALL).await,
        ["tls:127.0.0.4:5061 (example.com)"]
    );
    assert_eq!(
        targets("sip:example.com;transport=udp", ALL).await,
        [
            "udp:127.0.0.2:5060 (example.com)",
            "udp:[2001:db8::2]:5060 (example.com)",
            "udp:127.0.0.3:5080 (example.com)",
        ]
    );
}

#[tokio::test]
async fn transport_param_without_srv_falls_back_to_addresses() {
    assert_eq!(
        targets("sip:aonly.com;transport=tcp", ALL).await,
        ["tcp:127.0.0.20:5060 (aonly.com)"]
    );
    assert_eq!(
        targets("sip:aonly.com;transport=tls", ALL).await,
        ["tls:127.0.0.20:5061 (aonly.com)"]
    );
}

#[tokio::test]
async fn ip_literal_needs_no_dns() {
    let dns = zone();
    let config = RouteConfig::new();
    for (u, want) in [
        ("sip:127.0.0.1", "udp:127.0.0.1:5060"),
        ("sip:bob@127.0.0.1:5070", "udp:127.0.0.1:5070"),
        ("sip:[::1]:5070;transport=tcp", "tcp:[::1]:5070"),
        ("sip:[::1];transport=tls", "tls:[::1]:5061"),
        ("sips:127.0.0.1", "tls:127.0.0.1:5061"),
        ("sips:127.0.0.1:5999", "tls:127.0.0.1:5999"),
    ] {
        assert_eq!(resolve(u, &config, &dns, ALL).await.unwrap(), [want], "{u}");
    }
    assert_eq!(queries(&dns), Vec::<String>::new());
    let mut rng = StdRng::seed_from_u64(0);
    let found = resolve_uri(&uri("sip:127.0.0.1"), &config, &dns, ALL, &mut rng)
        .await
        .unwrap();
    assert_eq!(
        found,
        [Target::new(Udp, "127.0.0.1:5060".parse().unwrap(), None)]
    );
}

#[tokio::test]
async fn maddr_replaces_the_host() {
    let dns = zone();
    assert_eq!(
        resolve(
            "sip:bob@example.com;maddr=127.0.0.9",
            &RouteConfig::new(),
            &dns,
            ALL
        )
        .await
        .unwrap(),
        ["udp:127.0.0.9:5060"]
    );
    assert_eq!(queries(&dns), Vec::<String>::new());
    // A domain maddr goes through RFC 3263 itself, port and transport from the URI.
    assert_eq!(
        targets("sip:127.0.0.1:5080;maddr=aonly.com;transport=tcp", ALL).await,
        ["tcp:127.0.0.20:5080 (aonly.com)"]
    );
    assert_eq!(
        targets("sip:nowhere.com;maddr=srvonly.com", ALL).await,
        [
            "udp:127.0.0.10:5062 (srvonly.com)",
            "tcp:127.0.0.10:5063 (srvonly.com)"
        ]
    );
}

fn routes() -> RouteConfig {
    // The fallback first: the order of the list does not matter, specificity does.
    RouteConfig::new()
        .with_domain2proxy("*", uri("sip:127.0.0.1:5003"))
        .with_domain2proxy("*.example.com", uri("sip:127.0.0.1:5002"))
        .with_domain2proxy("*.deep.example.com", uri("sip:127.0.0.1:5005"))
        .with_domain2proxy("Example.COM", uri("sip:127.0.0.1:5001;transport=tcp"))
        .with_outgoing_proxy(uri("sip:127.0.0.1:5004"))
}

#[tokio::test]
async fn domain2proxy_exact_beats_wildcard_beats_fallback() {
    let dns = zone();
    for (u, want) in [
        ("sip:a@example.com", "tcp:127.0.0.1:5001"),
        ("sip:a@EXAMPLE.com.", "tcp:127.0.0.1:5001"),
        ("sip:a@sub.example.com", "udp:127.0.0.1:5002"),
        ("sip:a@x.y.example.com", "udp:127.0.0.1:5002"),
        ("sip:a@deep.example.com", "udp:127.0.0.1:5005"),
        ("sip:a@x.deep.example.com", "udp:127.0.0.1:5005"),
        ("sip:a@example.org", "udp:127.0.0.1:5003"),
        ("sip:a@127.0.0.8", "udp:127.0.0.1:5003"),
        ("sip:a@notexample.com", "udp:127.0.0.1:5003"),
    ] {
        assert_eq!(
            resolve(u, &routes(), &dns, ALL).await.unwrap(),
            [want],
            "{u}"
        );
    }
    assert_eq!(queries(&dns), Vec::<String>::new());
}

#[tokio::test]
async fn wildcard_domain_includes_the_domain_itself() {
    let config = RouteConfig::new().with_domain2proxy("*.example.com", uri("sip:127.0.0.1:5002"));
    assert_eq!(
        resolve("sip:example.com", &config, &zone(), ALL)
            .await
            .unwrap(),
        ["udp:127.0.0.1:5002"]
    );
    let host = Host::parse("example.org").unwrap();
    assert!(config.proxy_for(&host).is_none());
}

#[test]
fn addresses_match_their_text_and_names_ignore_case_and_the_root_dot() {
    let config = RouteConfig::new()
        .with_domain2proxy("127.0.0.1", uri("sip:127.0.0.1:5001"))
        .with_domain2proxy("[::1]", uri("sip:127.0.0.1:5002"))
        .with_domain2proxy("Example.COM.", uri("sip:127.0.0.1:5003"))
        .with_domain2proxy("*.Example.ORG", uri("sip:127.0.0.1:5004"));
    let proxy = |h: &str| {
        config
            .proxy_for(&Host::parse(h).unwrap())
            .map(|u| u.to_string())
    };
    assert_eq!(proxy("127.0.0.1").as_deref(), Some("sip:127.0.0.1:5001"));
    assert_eq!(proxy("[::1]").as_deref(), Some("sip:127.0.0.1:5002"));
    assert_eq!(proxy("example.com").as_deref(), Some("sip:127.0.0.1:5003"));
    assert_eq!(proxy("EXAMPLE.com.").as_deref(), Some("sip:127.0.0.1:5003"));
    assert_eq!(
        proxy("a.b.example.org").as_deref(),
        Some("sip:127.0.0.1:5004")
    );
    // No `*`: anything else has no static route, an address included.
    assert_eq!(proxy("127.0.0.2"), None);
    assert_eq!(proxy("[::2]"), None);
    assert_eq!(proxy("sub.example.com"), None);
    assert_eq!(proxy("example.net"), None);
    // An address matches its own text only, not another spelling of it.
    let spelled = RouteConfig::new().with_domain2proxy("127.000.0.2", uri("sip:127.0.0.1:5006"));
    assert!(spelled
        .proxy_for(&Host::parse("127.0.0.2").unwrap())
        .is_none());
    let dotted = RouteConfig::new().with_domain2proxy("127.0.0.2.", uri("sip:127.0.0.1:5007"));
    assert!(dotted
        .proxy_for(&Host::parse("127.0.0.2").unwrap())
        .is_some());
    let fallback = config.with_domain2proxy("*", uri("sip:127.0.0.1:5005"));
    let host = Host::parse("127.0.0.2").unwrap();
    assert_eq!(
        fallback.proxy_for(&host).map(|u| u.to_string()).as_deref(),
        Some("sip:127.0.0.1:5005")
    );
}

#[tokio::test]
async fn outgoing_proxy_comes_after_domain2proxy() {
    let mut config = routes();
    config.domain2proxy.retain(|(p, _)| p != "*");
    let dns = zone();
    for (u, want) in [
        ("sip:a@example.com", "tcp:127.0.0.1:5001"),
        ("sip:a@example.org", "udp:127.0.0.1:5004"),
        ("sip:a@127.0.0.8", "udp:127.0.0.1:5004"),
        ("sips:a@example.org", "tls:127.0.0.1:5004"),
    ] {
        assert_eq!(resolve(u, &config, &dns, ALL).await.unwrap(), [want], "{u}");
    }
    // An IP host matches its own address text.
    let config = config.with_domain2proxy("127.0.0.8", uri("sip:127.0.0.1:5008"));
    assert_eq!(
        resolve("sip:127.0.0.8", &config, &dns, ALL).await.unwrap(),
        ["udp:127.0.0.1:5008"]
    );
}

#[tokio::test]
async fn a_proxy_is_resolved_by_dns_not_by_the_routes_again() {
    let config = RouteConfig::new()
        .with_domain2proxy("example.com", uri("sip:proxy.com"))
        .with_domain2proxy("proxy.com", uri("sip:127.0.0.1:5999"))
        .with_outgoing_proxy(uri("sip:127.0.0.1:5998"));
    let dns = zone();
    assert_eq!(
        resolve("sip:a@example.com", &config, &dns, ALL)
            .await
            .unwrap(),
        ["udp:127.0.0.30:5060 (proxy.com)"]
    );
    assert_eq!(
        queries(&dns),
        [
            "NAPTR proxy.com",
            "SRV _sip._udp.proxy.com",
            "SRV _sip._tcp.proxy.com",
            "A/AAAA proxy.com",
        ]
    );
}

#[tokio::test]
async fn sips_through_a_sip_proxy_stays_tls() {
    let config = RouteConfig::new().with_outgoing_proxy(uri("sip:127.0.0.1:5070"));
    assert_eq!(
        resolve("sips:a@example.com", &config, &zone(), ALL)
            .await
            .unwrap(),
        ["tls:127.0.0.1:5070"]
    );
    let config = RouteConfig::new().with_outgoing_proxy(uri("sip:127.0.0.1;transport=udp"));
    let err = resolve("sips:a@example.com", &config, &zone(), ALL)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no target to send sips:a@example.com to: transport udp is not usable here"
    );
}

#[tokio::test]
async fn only_supported_protocols_are_returned() {
    for (u, supported) in [
        ("sip:127.0.0.1;transport=tcp", &[Udp][..]),
        ("sips:127.0.0.1", &[Udp, Tcp][..]),
        ("sip:example.com;transport=tls", &[Udp, Tcp][..]),
        ("sip:aonly.com", &[Tls][..]),
        ("sip:example.com", &[][..]),
    ] {
        let err = resolve(u, &RouteConfig::new(), &zone(), supported)
            .await
            .unwrap_err();
        let ResolveError::NoTargets { uri, cause } = &err else {
            panic!("{u}: {err}");
        };
        assert_eq!(uri, u);
        assert!(
            matches!(
                cause.as_deref(),
                Some(ResolveError::UnusableTransport { .. })
            ),
            "{u}: {err}"
        );
    }
}

#[tokio::test]
async fn unknown_transport_is_no_target() {
    let err = resolve(
        "sip:example.com;transport=sctp",
        &RouteConfig::new(),
        &zone(),
        ALL,
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no target to send sip:example.com;transport=sctp to: transport sctp is not usable here"
    );
}

#[tokio::test]
async fn non_sip_uris_are_refused() {
    let err = resolve("tel:+1-201-555-0123", &RouteConfig::new(), &zone(), ALL)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot route tel:+1-201-555-0123: scheme tel: is not sip: or sips:"
    );
    let config = RouteConfig::new().with_outgoing_proxy(uri("mailto:proxy@example.com"));
    let err = resolve("sip:a@example.com", &config, &zone(), ALL)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ResolveError::UnsupportedScheme { ref scheme, .. } if scheme == "mailto")
    );
}

#[tokio::test]
async fn unknown_domain_says_nxdomain_for_which_name() {
    let dns = zone();
    let err = resolve("sip:bob@nowhere.com", &RouteConfig::new(), &dns, ALL)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no target to send sip:bob@nowhere.com to: no such domain name: nowhere.com (NXDOMAIN)"
    );
    // NAPTR, SRV for both transports, then A: everything RFC 3263 allows, nothing more.
    assert_eq!(queries(&dns).len(), 4);
}

#[tokio::test]
async fn timeouts_are_named_in_the_error() {
    let dns = StaticResolver::new().fail("slow.com", FailKind::Timeout);
    let err = resolve("sip:slow.com:5060", &RouteConfig::new(), &dns, ALL)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no target to send sip:slow.com:5060 to: A/AAAA lookup of slow.com timed out"
    );
}

#[tokio::test]
async fn one_failing_srv_target_leaves_the_others() {
    let dns = StaticResolver::new()
        .srv(
            "_sip._udp.half.com",
            [
                Srv::new(10, 0, 5060, "dead.half.com"),
                Srv::new(20, 0, 5060, "live.half.com"),
            ],
        )
        .fail("dead.half.com", FailKind::ServerFailure)
        .ip("live.half.com", [ip("127.0.4.1")]);
    assert_eq!(
        resolve("sip:half.com", &RouteConfig::new(), &dns, ALL)
            .await
            .unwrap(),
        ["udp:127.0.4.1:5060 (half.com)"]
    );
}

#[tokio::test]
async fn ipv6_addresses_are_targets_too_in_resolver_order() {
    assert_eq!(
        targets("sip:v6.com", ALL).await,
        [
            "udp:[::1]:5060 (v6.com)",
            "udp:[2001:db8::6]:5060 (v6.com)",
            "udp:127.0.0.6:5060 (v6.com)",
        ]
    );
    let dns = StaticResolver::new()
        .srv(
            "_sips._tcp.v6only.com",
            [Srv::new(1, 1, 5071, "h.v6only.com")],
        )
        .ip("h.v6only.com", [ip("::1")]);
    let mut rng = StdRng::seed_from_u64(0);
    let found = resolve_uri(
        &uri("sips:v6only.com"),
        &RouteConfig::new(),
        &dns,
        ALL,
        &mut rng,
    )
    .await
    .unwrap();
    assert_eq!(
        found,
        [Target::new(
            Tls,
            "[::1]:5071".parse().unwrap(),
            Some("v6only.com".to_owned())
        )]
    );
}

#[tokio::test]
async fn the_same_address_is_listed_once() {
    let dns = StaticResolver::new()
        .srv(
            "_sip._udp.dup.com",
            [
                Srv::new(10, 0, 5060, "a.dup.com"),
                Srv::new(20, 0, 5060, "b.dup.com"),
                Srv::new(30, 0, 5060, "A.dup.com."),
            ],
        )
        .ip("a.dup.com", [ip("127.0.5.1")])
        .ip("b.dup.com", [ip("127.0.5.1"), ip("127.0.5.2")]);
    assert_eq!(
        resolve("sip:dup.com", &RouteConfig::new(), &dns, ALL)
            .await
            .unwrap(),
        [
            "udp:127.0.5.1:5060 (dup.com)",
            "udp:127.0.5.2:5060 (dup.com)"
        ]
    );
    // One lookup per host, however many records name it.
    assert_eq!(
        queries(&dns)
            .iter()
            .filter(|q| q.starts_with("A/AAAA"))
            .count(),
        2
    );
}

fn srv_ports(records: &[Srv]) -> Vec<u16> {
    records.iter().map(|r| r.port).collect()
}

#[test]
fn srv_priority_orders_before_weight() {
    let records = vec![
        Srv::new(30, 100, 3, "c"),
        Srv::new(10, 0, 1, "a"),
        Srv::new(20, 65535, 2, "b"),
        Srv::new(0, 0, 9, "."),
    ];
    for seed in 0..200 {
        let ordered = order_srv(records.clone(), &mut StdRng::seed_from_u64(seed));
        assert_eq!(srv_ports(&ordered), [1, 2, 3], "seed {seed}");
    }
}

/// How often the record on port 1 comes first, out of `runs` seeds.
fn first_share(records: &[Srv], runs: u64) -> f64 {
    let firsts = (0..runs)
        .filter(|&seed| order_srv(records.to_vec(), &mut StdRng::seed_from_u64(seed))[0].port == 1)
        .count();
    firsts as f64 / runs as f64
}

#[test]
fn srv_weights_share_the_first_place() {
    // RFC 2782: the chance to come first is weight / (sum + 1) with the draw from 0..=sum; a
    // weight-0 record has 1 / (sum + 1).
    let zero_and_hundred = [Srv::new(1, 0, 1, "zero"), Srv::new(1, 100, 2, "hundred")];
    let zero_first = first_share(&zero_and_hundred, 4000);
    assert!(zero_first > 0.0 && zero_first < 0.03, "{zero_first}");

    let sixty_forty = [Srv::new(1, 60, 1, "sixty"), Srv::new(1, 40, 2, "forty")];
    let sixty_first = first_share(&sixty_forty, 4000);
    assert!((sixty_first - 0.604).abs() < 0.03, "{sixty_first}");

    let equal = [
        Srv::new(1, 10, 1, "a"),
        Srv::new(1, 10, 2, "b"),
        Srv::new(1, 10, 3, "c"),
    ];
    let a_first = first_share(&equal, 3000);
    assert!((a_first - 11.0 / 31.0).abs() < 0.04, "{a_first}");
}

#[test]
fn srv_all_weights_zero_keep_the_dns_order() {
    let records = vec![
        Srv::new(1, 0, 1, "a"),
        Srv::new(1, 0, 2, "b"),
        Srv::new(1, 0, 3, "c"),
    ];
    for seed in 0..50 {
        let ordered = order_srv(records.clone(), &mut StdRng::seed_from_u64(seed));
        assert_eq!(srv_ports(&ordered), [1, 2, 3]);
    }
}

#[tokio::test]
async fn a_seed_replays_the_srv_order() {
    let dns = StaticResolver::new()
        .srv(
            "_sip._udp.lb.com",
            (1..=5).map(|i| Srv::new(10, 20, 5060 + i, format!("h{i}.lb.com"))),
        )
        .ip("h1.lb.com", [ip("127.0.6.1")])
        .ip("h2.lb.com", [ip("127.0.6.2")])
        .ip("h3.lb.com", [ip("127.0.6.3")])
        .ip("h4.lb.com", [ip("127.0.6.4")])
        .ip("h5.lb.com", [ip("127.0.6.5")]);
    let order = |seed: u64| {
        let dns = &dns;
        async move {
            let mut rng = StdRng::seed_from_u64(seed);
            resolve_uri(&uri("sip:lb.com"), &RouteConfig::new(), dns, ALL, &mut rng)
                .await
                .unwrap()
        }
    };
    let first = order(42).await;
    assert_eq!(first.len(), 5);
    assert_eq!(order(42).await, first);
    let mut differs = false;
    for seed in 0..20 {
        differs |= order(seed).await != first;
    }
    assert!(differs, "the rng does not change the order");
}

#[tokio::test]
async fn static_resolver_tells_nxdomain_from_no_records() {
    let dns = zone().fail("down.com", FailKind::NxDomain);
    assert_eq!(
        DnsResolver::naptr(&dns, "aonly.com").await,
        Err(ResolveError::NoRecords {
            name: "aonly.com".into(),
            kind: LookupKind::Naptr
        })
    );
    assert_eq!(
        DnsResolver::ip(&dns, "missing.com.").await,
        Err(ResolveError::NxDomain {
            name: "missing.com".into()
        })
    );
    assert!(DnsResolver::ip(&dns, "down.com")
        .await
        .unwrap_err()
        .is_not_found());
    assert_eq!(
        DnsResolver::srv(&dns, "_SIP._UDP.SRVONLY.COM.")
            .await
            .unwrap(),
        [Srv::new(10, 0, 5062, "host.srvonly.com")]
    );
    let err = DnsResolver::srv(&zone().fail("x.com", FailKind::ServerFailure), "x.com")
        .await
        .unwrap_err();
    assert!(!err.is_not_found());
    assert_eq!(
        err.to_string(),
        "SRV lookup of x.com failed: SERVFAIL (simulated)"
    );
}

#[test]
fn resolving_can_run_on_any_worker_thread() {
    fn assert_send<T: Send>(_: &T) {}
    let dns = zone();
    let config = RouteConfig::new();
    let uri = uri("sip:example.com");
    let mut rng = StdRng::seed_from_u64(0);
    assert_send(&resolve_uri(&uri, &config, &dns, ALL, &mut rng));
    assert_send(&DnsResolver::ip(&dns, "example.com"));
}
