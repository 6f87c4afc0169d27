//! Parse text as a URI, a name-addr and a Via value; whatever parses is printed, parsed again,
//! and must come back as the same value that prints the same.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sip_packet::{NameAddr, Uri, Via};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };

    if let Ok(u) = Uri::parse(s) {
        let _ = (
            u.scheme(),
            u.user(),
            u.host(),
            u.as_tel().map(|t| t.number()),
        );
        if let Some(sip) = u.as_sip() {
            let _ = (
                sip.user_decoded(),
                sip.password(),
                sip.port(),
                sip.headers(),
            );
            let _ = (sip.transport(), sip.params().iter().count());
        }
        let printed = u.to_string();
        let again = Uri::parse(&printed).unwrap_or_else(|e| {
            panic!("URI {s:?} printed as {printed:?}, which does not parse: {e}")
        });
        assert!(
            again.equivalent(&u) && u.equivalent(&again),
            "URI {s:?} printed as {printed:?}, which is not equivalent"
        );
        assert_eq!(again.to_string(), printed, "URI {s:?}: print is not stable");
    }

    if let Ok(a) = NameAddr::parse(s) {
        let _ = (
            a.display_name(),
            a.display_raw(),
            a.tag(),
            a.expires(),
            a.q(),
        );
        let printed = a.to_string();
        let again = NameAddr::parse(&printed).unwrap_or_else(|e| {
            panic!("name-addr {s:?} printed as {printed:?}, which does not parse: {e}")
        });
        assert_eq!(again, a, "name-addr {s:?} printed as {printed:?}");
        assert_eq!(
            again.to_string(),
            printed,
            "name-addr {s:?}: print is not stable"
        );
    }

    if let Ok(v) = Via::parse(s) {
        let _ = (
            v.branch(),
            v.has_rfc3261_branch(),
            v.received(),
            v.rport(),
            v.ttl(),
            v.maddr(),
        );
        let _ = v.port_or_default();
        let printed = v.to_string();
        let again = Via::parse(&printed).unwrap_or_else(|e| {
            panic!("Via {s:?} printed as {printed:?}, which does not parse: {e}")
        });
        assert_eq!(again, v, "Via {s:?} printed as {printed:?}");
        assert_eq!(again.to_string(), printed, "Via {s:?}: print is not stable");
    }
});
