//! RFC 3261 §10.3, rule by rule, with a made-up clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::UNIX_EPOCH;

use super::*;
use crate::memory::StoreStats;
use crate::testutil::{other, reg};

fn registrar(config: RegistrarConfig) -> (Registrar, Instant) {
    let t0 = Instant::now();
    let r = Registrar::new(config.seed(7))
        .unwrap()
        // 2010-11-13 23:29:00 GMT, RFC 3261 §20.17's Date.
        .with_wall_clock(t0, UNIX_EPOCH + Duration::from_secs(1_289_690_940));
    (r, t0)
}

fn default() -> (Registrar, Instant) {
    registrar(RegistrarConfig::new())
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn contacts(r: &Response) -> Vec<String> {
    r.headers()
        .get_all(HeaderName::Contact)
        .map(|v| v.to_string())
        .collect()
}

fn bob() -> Aor {
    "sip:bob@example.com".parse().unwrap()
}

fn uris(bindings: &[Binding]) -> Vec<String> {
    bindings.iter().map(|b| b.uri().to_string()).collect()
}

#[track_caller]
fn status(r: &Registrar, now: Instant, req: &Request) -> u16 {
    r.handle_register(now, req).expect("handled").status()
}

// §10.3 step 8: the 200.

#[test]
fn ok_lists_the_binding_with_its_expiry_a_date_and_a_to_tag() {
    let (r, t0) = default();
    let req = reg().contact("<sip:bob@192.0.2.4>").expires("120").build();
    let resp = r.handle_register(t0, &req).unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(contacts(&resp), ["<sip:bob@192.0.2.4>;expires=120"]);
    assert_eq!(
        resp.headers().get(HeaderName::Date).unwrap(),
        "Sat, 13 Nov 2010 23:29:00 GMT"
    );
    let to = resp.headers().to().unwrap();
    assert!(to.tag().is_some_and(|t| t.len() >= 8));
    assert_eq!(resp.headers().call_id().unwrap(), "c1");
    assert_eq!(resp.headers().cseq().unwrap().seq(), 1);
    assert_eq!(
        resp.headers().top_via().unwrap().branch(),
        Some("z9hG4bK1x")
    );
    // A later fetch says what is left, and the Date moves with the clock.
    let later = r
        .handle_register(t0 + secs(20), &reg().cseq(2).build())
        .unwrap();
    assert_eq!(contacts(&later), ["<sip:bob@192.0.2.4>;expires=100"]);
    assert_eq!(
        later.headers().get(HeaderName::Date).unwrap(),
        "Sat, 13 Nov 2010 23:29:20 GMT"
    );
}

#[test]
fn the_to_tag_is_appended_to_the_to_as_received_in_either_form_and_an_existing_one_kept() {
    let (r, t0) = default();
    for (to, display, uri) in [
        (
            "\"Bob\" <sip:bob@example.com>",
            Some("Bob"),
            "sip:bob@example.com",
        ),
        (
            "<sip:bob@example.com;transport=udp>  ",
            None,
            "sip:bob@example.com;transport=udp",
        ),
        // A bare addr-spec: what follows it are header parameters, the tag among them.
        ("sip:bob@example.com", None, "sip:bob@example.com"),
    ] {
        let req = reg().to(to).contact("<sip:bob@192.0.2.4>").build();
        let resp = r.handle_register(t0, &req).unwrap();
        let raw = resp.headers().get(HeaderName::To).unwrap().to_owned();
        assert!(raw.starts_with(to.trim_end()), "{raw}");
        let parsed = resp.headers().to().unwrap();
        let tag = parsed.tag().unwrap();
        assert!(tag.len() >= 8, "{raw}");
        assert_eq!(raw, format!("{};tag={tag}", to.trim_end()));
        assert_eq!(parsed.display_name().as_deref(), display, "{raw}");
        assert_eq!(parsed.uri().to_string(), uri, "{raw}");
    }
    let req = reg()
        .to("<sip:bob@example.com>;tag=theirs")
        .contact("<sip:bob@192.0.2.4>")
        .build();
    let resp = r.handle_register(t0, &req).unwrap();
    assert_eq!(
        resp.headers().get(HeaderName::To).unwrap(),
        "<sip:bob@example.com>;tag=theirs"
    );
}

#[test]
fn the_ok_lists_every_binding_of_the_address_not_only_the_ones_in_the_request() {
    let (r, t0) = default();
    r.handle_register(
        t0,
        &reg().contact("<sip:bob@10.0.0.1>").expires("100").build(),
    );
    let resp = r
        .handle_register(
            t0 + secs(10),
            &reg()
                .call_id("c2")
                .contact("<sip:bob@10.0.0.2>")
                .expires("200")
                .build(),
        )
        .unwrap();
    assert_eq!(
        contacts(&resp),
        [
            "<sip:bob@10.0.0.1>;expires=90",
            "<sip:bob@10.0.0.2>;expires=200"
        ]
    );
}

// §10.3 step 7: the interval.

#[test]
fn contact_expires_param_wins_over_the_expires_header() {
    let (r, t0) = default();
    let resp = r
        .handle_register(
            t0,
            &reg()
                .contact("<sip:bob@10.0.0.1>;expires=60")
                .contact("<sip:bob@10.0.0.2>")
                .expires("90")
                .build(),
        )
        .unwrap();
    assert_eq!(
        contacts(&resp),
        [
            "<sip:bob@10.0.0.1>;expires=60",
            "<sip:bob@10.0.0.2>;expires=90"
        ]
    );
}

#[test]
fn without_param_or_header_the_default_applies_capped_at_max() {
    // Default 3600 cut to max_expires 300: Net::SIP's behaviour.
    let (r, t0) = default();
    let resp = r
        .handle_register(t0, &reg().contact("<sip:bob@10.0.0.1>").build())
        .unwrap();
    assert_eq!(contacts(&resp), ["<sip:bob@10.0.0.1>;expires=300"]);
    let (r, t0) = registrar(RegistrarConfig::new().default_expires(45));
    let resp = r
        .handle_register(t0, &reg().contact("<sip:bob@10.0.0.1>").build())
        .unwrap();
    assert_eq!(contacts(&resp), ["<sip:bob@10.0.0.1>;expires=45"]);
}

#[test]
fn longer_intervals_are_capped_at_max_expires() {
    let (r, t0) = registrar(RegistrarConfig::new().max_expires(60));
    let resp = r
        .handle_register(
            t0,
            &reg()
                .contact("<sip:bob@10.0.0.1>;expires=4294967295")
                .build(),
        )
        .unwrap();
    assert_eq!(contacts(&resp), ["<sip:bob@10.0.0.1>;expires=60"]);
    assert!(r.query(t0 + secs(59), &bob()).len() == 1);
    assert!(r.query(t0 + secs(60), &bob()).is_empty());
}

#[test]
fn an_interval_below_min_is_423_with_min_expires_and_changes_nothing() {
    let (r, t0) = default();
    r.handle_register(t0, &reg().contact("<sip:bob@10.0.0.1>").build());
    let resp = r
        .handle_register(
            t0,
            &reg()
                .cseq(2)
                .contact("<sip:bob@10.0.0.2>;expires=100")
                .contact("<sip:bob@10.0.0.3>;expires=29")
                .build(),
        )
        .unwrap();
    assert_eq!(resp.status(), 423);
    assert_eq!(resp.reason(), "Interval Too Brief");
    assert_eq!(resp.headers().min_expires().unwrap(), Some(30));
    assert!(resp.headers().to().unwrap().tag().is_some());
    assert_eq!(uris(&r.query(t0, &bob())), ["sip:bob@10.0.0.1"]);
    // The minimum itself is fine, from the header too.
    assert_eq!(
        status(
            &r,
            t0,
            &reg()
                .cseq(3)
                .contact("<sip:bob@10.0.0.3>")
                .expires("30")
                .build()
        ),
        200
    );
    assert_eq!(
        status(
            &r,
            t0,
            &reg()
                .cseq(4)
                .contact("<sip:bob@10.0.0.3>")
                .expires("1")
                .build()
        ),
        423
    );
}

#[test]
fn expires_zero_removes_that_binding_only() {
    let (r, t0) = default();
    r.handle_register(
        t0,
        &reg()
            .contact("<sip:bob@10.0.0.1>")
            .contact("<sip:bob@10.0.0.2>")
            .build(),
    );
    let resp = r
        .handle_register(
            t0,
            &reg()
                .cseq(2)
                .contact("<sip:bob@10.0.0.1>;expires=0")
                .build(),
        )
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(contacts(&resp), ["<sip:bob@10.0.0.2>;expires=300"]);
    // Via the header, and for a contact written differently but equivalent (§19.1.4).
    let resp = r
        .handle_register(
            t0,
            &reg()
                .cseq(4)
                .contact("SIP:bob@10.0.0.2")
                .expires("0")
                .build(),
        )
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(contacts(&resp).is_empty());
    assert!(r.query(t0, &bob()).is_empty());
    // Removing what is not there is no error.
    assert_eq!(
        status(
            &r,
            t0,
            &reg()
                .cseq(5)
                .contact("<sip:nobody@10.0.0.9>;expires=0")
                .build()
        ),
        200
    );
}

#[test]
fn refresh_replaces_the_expiry_of_the_same_contact() {
    let (r, t0) = default();
    r.handle_register(
        t0,
        &reg().contact("<sip:bob@10.0.0.1>").expires("60").build(),
    );
    let resp = r
        .handle_register(
            t0 + secs(50),
            &reg()
                .cseq(2)
                .contact("<sip:bob@10.0.0.1;transport=udp>")
                .expires("60")
                .build(),
        )
        .unwrap();
    // transport=udp makes it another URI (§19.1.4: transport must match when either has it).
    assert_eq!(contacts(&resp).len(), 2);
    let resp = r
        .handle_register(
            t0 + secs(55),
            &reg()
                .cseq(3)
                .contact("<sip:bob@10.0.0.1>")
                .expires("60")
                .build(),
        )
        .unwrap();
    assert_eq!(
        contacts(&resp),
        [
            "<sip:bob@10.0.0.1>;expires=60",
            "<sip:bob@10.0.0.1;transport=udp>;expires=55"
        ]
    );
    assert_eq!(r.query(t0 + secs(100), &bob()).len(), 2);
}

// §10.3 step 6: `*`.

#[test]
fn star_with_expires_zero_removes_all() {
    let (r, t0) = default();
    r.handle_register(
        t0,
        &reg()
            .contact("<sip:bob@10.0.0.1>")
            .contact("<sip:bob@10.0.0.2>")
            .build(),
    );
    r.handle_register(
        t0,
        &reg().call_id("other").contact("<sip:bob@10.0.0.3>").build(),
    );
    assert_eq!(r.query(t0, &bob()).len(), 3);
    let resp = r
        .handle_register(t0, &reg().cseq(2).contact("*").expires("0").build())
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(contacts(&resp).is_empty());
    assert!(r.query(t0, &bob()).is_empty());
    assert!(matches!(r.lookup(t0, &bob()), Lookup::Unavailable));
}

#[test]
fn star_with_anything_else_is_400_and_changes_nothing() {
    let (r, t0) = default();
    r.handle_register(t0, &reg().contact("<sip:bob@10.0.0.1>").build());
    for bad in [
        reg().cseq(2).contact("*").expires("60").build(),
        reg().cseq(2).contact("*").build(),
        reg()
            .cseq(2)
            .contact("*")
            .contact("<sip:bob@10.0.0.2>")
            .expires("0")
            .build(),
        reg()
            .cseq(2)
            .contact("*, <sip:bob@10.0.0.2>")
            .expires("0")
            .build(),
        reg().cseq(2).contact("*;expires=0").build(),
    ] {
        assert_eq!(status(&r, t0, &bad), 400, "{bad}");
    }
    assert_eq!(r.query(t0, &bob()).len(), 1);
}

#[test]
fn star_with_an_old_cseq_for_a_binding_of_the_same_call_id_fails() {
    let (r, t0) = default();
    r.handle_register(t0, &reg().cseq(5).contact("<sip:bob@10.0.0.1>").build());
    assert_eq!(
        status(&r, t0, &reg().cseq(5).contact("*").expires("0").build()),
        500
    );
    assert_eq!(r.query(t0, &bob()).len(), 1);
    // Another Call-ID removes it whatever its CSeq.
    assert_eq!(
        status(
            &r,
            t0,
            &reg()
                .call_id("c2")
                .cseq(1)
                .contact("*")
                .expires("0")
                .build()
        ),
        200
    );
    assert!(r.query(t0, &bob()).is_empty());
}

// §10.3 step 7: Call-ID and CSeq.

#[test]
fn same_call_id_with_an_old_or_equal_cseq_is_500_and_changes_nothing() {
    let (r, t0) = default();
    r.handle_register(
        t0,
        &reg()
            .cseq(10)
            .contact("<sip:bob@10.0.0.1>")
            .expires("60")
            .build(),
    );
    for cseq in [9, 10] {
        let resp = r
            .handle_register(
                t0,
                &reg()
                    .cseq(cseq)
                    .contact("<sip:bob@10.0.0.1>")
                    .expires("0")
                    .build(),
            )
            .unwrap();
        assert_eq!(resp.status(), 500, "CSeq {cseq}");
        assert_eq!(resp.reason(), "Server Internal Error (out of order)");
    }
    // A request touching a fresh contact and the stale one fails as a whole.
    assert_eq!(
        status(
            &r,
            t0,
            &reg()
                .cseq(3)
                .contact("<sip:bob@10.0.0.2>")
                .contact("<sip:bob@10.0.0.1>")
                .build()
        ),
        500
    );
    assert_eq!(uris(&r.query(t0, &bob())), ["sip:bob@10.0.0.1"]);
    assert_eq!(
        status(
            &r,
            t0,
            &reg()
                .cseq(11)
                .contact("<sip:bob@10.0.0.1>")
                .expires("0")
                .build()
        ),
        200
    );
    assert!(r.query(t0, &bob()).is_empty());
}

#[test]
fn a_different_call_id_replaces_the_binding_whatever_its_cseq() {
    let (r, t0) = default();
    r.handle_register(
        t0,
        &reg()
            .cseq(10)
            .contact("<sip:bob@10.0.0.1>")
            .expires("60")
            .build(),
    );
    let resp = r
        .handle_register(
            t0,
            &reg()
                .call_id("rebooted")
                .cseq(1)
                .contact("<sip:bob@10.0.0.1>")
                .expires("120")
                .build(),
        )
        .unwrap();
    assert_eq!(contacts(&resp), ["<sip:bob@10.0.0.1>;expires=120"]);
    let b = &r.query(t0, &bob())[0];
    assert_eq!((b.call_id(), b.cseq()), ("rebooted", 1));
}

#[test]
fn the_same_contact_twice_in_one_request_counts_once_the_last_wins() {
    let (r, t0) = default();
    let resp = r
        .handle_register(
            t0,
            &reg()
                .contact("<sip:bob@10.0.0.1>;expires=100")
                .contact("<sip:bob@10.0.0.1>;expires=200")
                .build(),
        )
        .unwrap();
    assert_eq!(contacts(&resp), ["<sip:bob@10.0.0.1>;expires=200"]);
}

// Several contacts, q-values, query.

#[test]
fn query_orders_by_q_highest_first_and_keeps_registration_order_for_ties() {
    let (r, t0) = default();
    r.handle_register(
        t0,
        &reg()
            .contact("<sip:bob@10.0.0.1>;q=0.1")
            .contact("<sip:bob@10.0.0.2>;q=0.9")
            .contact("<sip:bob@10.0.0.3>")
            .contact("\"Bob\" <sips:bob@10.0.0.4>;q=0.5")
            .contact("<sip:bob@10.0.0.5>;q=0.5")
            .build(),
    );
    let found = r.query(t0, &bob());
    assert_eq!(
        uris(&found),
        [
            "sip:bob@10.0.0.3",
            "sip:bob@10.0.0.2",
            "sips:bob@10.0.0.4",
            "sip:bob@10.0.0.5",
            "sip:bob@10.0.0.1"
        ]
    );
    assert_eq!(found[1].q(), Some(0.9));
    assert_eq!(found[0].q(), None);
    // The 200 lists them in the same order, q as registered.
    let resp = r.handle_register(t0, &reg().cseq(2).build()).unwrap();
    assert_eq!(contacts(&resp)[1], "<sip:bob@10.0.0.2>;q=0.9;expires=300");
    assert_eq!(
        contacts(&resp)[2],
        "\"Bob\" <sips:bob@10.0.0.4>;q=0.5;expires=300"
    );
}

#[test]
fn query_returns_only_sip_and_sips_contacts_the_200_lists_all() {
    let (r, t0) = default();
    let resp = r
        .handle_register(
            t0,
            &reg()
                .contact("<mailto:bob@example.com>")
                .contact("<tel:+1-201-555-0123>")
                .contact("<sip:bob@10.0.0.1>")
                .build(),
        )
        .unwrap();
    assert_eq!(contacts(&resp).len(), 3);
    assert_eq!(uris(&r.query(t0, &bob())), ["sip:bob@10.0.0.1"]);
    match r.lookup(t0, &bob()) {
        Lookup::Contacts(all) => assert_eq!(all.len(), 3),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_register_without_contact_fetches_and_changes_nothing() {
    let (r, t0) = default();
    let resp = r.handle_register(t0, &reg().build()).unwrap();
    assert_eq!(resp.status(), 200);
    assert!(contacts(&resp).is_empty());
    assert!(resp.headers().get(HeaderName::Date).is_some());
    // A fetch stores nothing.
    assert!(r.store().is_empty());
    r.handle_register(t0, &reg().cseq(2).contact("<sip:bob@10.0.0.1>").build());
    // Even with an old CSeq and Expires: 0, a fetch only reads.
    let resp = r
        .handle_register(t0 + secs(1), &reg().cseq(1).expires("0").build())
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(contacts(&resp), ["<sip:bob@10.0.0.1>;expires=299"]);
    assert_eq!(r.query(t0, &bob()).len(), 1);
}

// §10.3 step 5: the address-of-record.

#[test]
fn the_address_of_record_is_canonical() {
    let (r, t0) = default();
    r.handle_register(
        t0,
        &reg()
            .to("\"Bob\" <sip:%62ob@EXAMPLE.com;user=ip>")
            .contact("<sip:bob@10.0.0.1>")
            .build(),
    );
    assert_eq!(r.query(t0, &bob()).len(), 1);
    let resp = r
        .handle_register(t0, &reg().to("sip:bob@Example.Com").cseq(2).build())
        .unwrap();
    assert_eq!(contacts(&resp).len(), 1);
    // sips is another address; so is another port.
    assert!(r
        .query(t0, &"sips:bob@example.com".parse().unwrap())
        .is_empty());
    assert!(r
        .query(t0, &"sip:bob@example.com:5060".parse().unwrap())
        .is_empty());
}

// Domains, and what is not a REGISTER for us.

#[test]
fn a_register_for_a_domain_not_served_is_left_to_the_chain_or_404_when_standalone() {
    let config = RegistrarConfig::new().domains(["example.com"]);
    let (r, t0) = registrar(config.clone());
    let foreign = reg()
        .to("<sip:bob@example.net>")
        .contact("<sip:bob@10.0.0.1>")
        .build();
    assert!(r.handle_register(t0, &foreign).is_none());
    assert_eq!(
        status(&r, t0, &reg().to("<sip:bob@pbx.example.com>").build()),
        200
    );
    let (r, t0) = registrar(config.standalone(true));
    let resp = r.handle_register(t0, &foreign).unwrap();
    assert_eq!(resp.status(), 404);
    assert!(r.store().is_empty());
}

#[test]
fn a_to_that_is_not_a_sip_uri_is_not_an_address_we_serve() {
    let tel = reg()
        .to("<tel:+1-201-555-0123>")
        .contact("<sip:bob@10.0.0.1>")
        .build();
    let (r, t0) = default();
    assert!(r.handle_register(t0, &tel).is_none());
    let (r, t0) = registrar(RegistrarConfig::new().standalone(true));
    assert_eq!(status(&r, t0, &tel), 404);
}

#[test]
fn other_methods_are_not_handled() {
    let (r, t0) = registrar(RegistrarConfig::new().standalone(true));
    for m in ["INVITE", "OPTIONS", "ACK", "MESSAGE"] {
        assert!(
            r.handle_register(t0, &other(m, "sip:bob@example.com"))
                .is_none(),
            "{m}"
        );
    }
}

// Malformed requests and extensions.

#[test]
fn unparsable_headers_are_400() {
    let (r, t0) = default();
    assert_eq!(
        status(
            &r,
            t0,
            &reg().contact("<sip:bob@10.0.0.1>").expires("soon").build()
        ),
        400
    );
    assert_eq!(
        status(&r, t0, &reg().contact("<sip:bob@10.0.0.1").build()),
        400
    );
    assert!(r.store().is_empty());
}

#[test]
fn a_required_extension_is_420_with_unsupported() {
    let (r, t0) = default();
    let resp = r
        .handle_register(
            t0,
            &reg()
                .contact("<sip:bob@10.0.0.1>")
                .header("Require: path, gruu")
                .build(),
        )
        .unwrap();
    assert_eq!(resp.status(), 420);
    let unsupported: Vec<_> = resp
        .headers()
        .get_all(HeaderName::Unsupported)
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    assert_eq!(unsupported, ["path", "gruu"]);
    assert!(r.store().is_empty());
}

// Expiry.

#[test]
fn expired_bindings_are_gone_for_readers_at_once_and_for_the_store_at_the_sweep() {
    let (r, t0) = default();
    r.handle_register(
        t0,
        &reg()
            .contact("<sip:bob@10.0.0.1>;expires=30")
            .contact("<sip:bob@10.0.0.2>;expires=60")
            .build(),
    );
    assert_eq!(r.poll_timeout(), Some(t0 + secs(30)));
    // Not swept yet, but not listed either.
    let resp = r
        .handle_register(t0 + secs(30), &reg().cseq(2).build())
        .unwrap();
    assert_eq!(contacts(&resp), ["<sip:bob@10.0.0.2>;expires=30"]);
    assert_eq!(uris(&r.query(t0 + secs(30), &bob())), ["sip:bob@10.0.0.2"]);
    assert_eq!(r.handle_timeout(t0 + secs(29)), 0);
    assert_eq!(r.handle_timeout(t0 + secs(30)), 1);
    assert_eq!(r.poll_timeout(), Some(t0 + secs(60)));
    assert_eq!(r.handle_timeout(t0 + secs(61)), 1);
    // Known without bindings for remember_for after the last one expired, then forgotten.
    assert!(matches!(
        r.lookup(t0 + secs(61), &bob()),
        Lookup::Unavailable
    ));
    assert_eq!(r.poll_timeout(), Some(t0 + secs(60 + 3600)));
    r.handle_timeout(t0 + secs(60 + 3600));
    assert!(matches!(
        r.lookup(t0 + secs(60 + 3600), &bob()),
        Lookup::Unknown
    ));
    assert!(r.store().is_empty());
    assert_eq!(r.poll_timeout(), None);
}

#[test]
fn a_new_register_after_expiry_starts_afresh_even_with_an_old_cseq() {
    let (r, t0) = default();
    r.handle_register(
        t0,
        &reg()
            .cseq(9)
            .contact("<sip:bob@10.0.0.1>")
            .expires("30")
            .build(),
    );
    // The binding has expired: nothing to compare the CSeq with.
    assert_eq!(
        status(
            &r,
            t0 + secs(31),
            &reg()
                .cseq(1)
                .contact("<sip:bob@10.0.0.1>")
                .expires("30")
                .build()
        ),
        200
    );
}

// Cost: one REGISTER does the same work with 10 addresses as with 10,000.

/// Counts calls to the store the registrar is given.
#[derive(Default)]
struct Counting {
    inner: MemoryStore,
    calls: AtomicU64,
}

impl BindingStore for Counting {
    fn get(&self, aor: &Aor) -> Option<AorRecord> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.get(aor)
    }
    fn put(&self, aor: &Aor, record: AorRecord) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.put(aor, record);
    }
    fn remove(&self, aor: &Aor) -> Option<AorRecord> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.remove(aor)
    }
    fn expire(&self, now: Instant) -> usize {
        self.inner.expire(now)
    }
    fn next_deadline(&self) -> Option<Instant> {
        self.inner.next_deadline()
    }
    fn len(&self) -> usize {
        self.inner.len()
    }
}

/// (store calls, store stats) for one new REGISTER, one refresh, one fetch and one sweep of
/// one due address, with `n` other addresses registered.
fn cost_with(n: usize) -> (u64, StoreStats) {
    let store = Arc::new(Counting::default());
    let r = Registrar::with_store(RegistrarConfig::new().seed(1), store.clone()).unwrap();
    let t0 = Instant::now();
    for i in 0..n {
        let req = reg()
            .to(&format!("<sip:user{i}@example.com>"))
            .contact(&format!("<sip:user{i}@10.0.{}.{}>", i / 250, i % 250))
            .expires("300")
            .build();
        assert_eq!(status(&r, t0, &req), 200);
    }
    let (calls0, stats0) = (store.calls.load(Ordering::Relaxed), store.inner.stats());
    let t1 = t0 + secs(1);
    let new = reg().contact("<sip:bob@10.0.0.1>").expires("30").build();
    assert_eq!(status(&r, t1, &new), 200);
    let refresh = reg()
        .cseq(2)
        .contact("<sip:bob@10.0.0.1>")
        .expires("30")
        .build();
    assert_eq!(status(&r, t1, &refresh), 200);
    assert_eq!(status(&r, t1, &reg().cseq(3).build()), 200);
    assert_eq!(r.handle_timeout(t1 + secs(30)), 1);
    let stats1 = store.inner.stats();
    (
        store.calls.load(Ordering::Relaxed) - calls0,
        StoreStats {
            records_touched: stats1.records_touched - stats0.records_touched,
            index_ops: stats1.index_ops - stats0.index_ops,
        },
    )
}

#[test]
fn the_cost_of_a_register_does_not_grow_with_the_number_of_addresses() {
    let small = cost_with(10);
    let large = cost_with(10_000);
    assert_eq!(small, large);
    // new: get + put; refresh: get + put; fetch: get.
    assert_eq!(small.0, 5);
    // The sweep visited bob's record only.
    assert_eq!(small.1.records_touched, 6);
}
