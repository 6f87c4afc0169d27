use super::*;

fn media(text: &str) -> MediaDescription {
    MediaDescription::parse_value(text).unwrap()
}

#[test]
fn m_line_fields() {
    let m = media("video 49170/2 RTP/AVP 31 32");
    assert_eq!(m.kind, MediaKind::Video);
    assert_eq!((m.port, m.port_count), (49170, Some(2)));
    assert_eq!(m.proto, "RTP/AVP");
    assert_eq!(m.formats, ["31", "32"]);
    assert_eq!(m.port_range(), 4);
    assert_eq!(m.to_string(), "m=video 49170/2 RTP/AVP 31 32\r\n");
}

#[test]
fn non_rtp_formats() {
    let m = media("image 5000 udptl t38");
    assert!(!m.is_rtp());
    assert_eq!(m.port_range(), 1);
    assert_eq!(m.payload_types().count(), 0);
    assert!(media("audio 9 UDP/TLS/RTP/SAVPF 111").is_rtp());
}

#[test]
fn m_line_errors() {
    assert_eq!(
        MediaDescription::parse_value("").unwrap_err().field,
        "media"
    );
    assert_eq!(
        MediaDescription::parse_value("audio").unwrap_err().field,
        "port"
    );
    assert_eq!(
        MediaDescription::parse_value("audio 70000 RTP/AVP 0")
            .unwrap_err()
            .field,
        "port"
    );
    assert_eq!(
        MediaDescription::parse_value("audio 1/x RTP/AVP 0")
            .unwrap_err()
            .field,
        "port"
    );
    assert_eq!(
        MediaDescription::parse_value("audio 1").unwrap_err().field,
        "proto"
    );
    // No format at all is accepted: some peers decline streams that way.
    assert!(MediaDescription::parse_value("audio 0 RTP/AVP")
        .unwrap()
        .formats
        .is_empty());
}

#[test]
fn codecs_use_rtpmap_then_static_table() {
    let mut m = media("audio 1 RTP/AVP 0 96 97 8");
    m.attributes
        .push(Attribute::new("rtpmap", "96 opus/48000/2"));
    m.attributes.push(Attribute::new("rtpmap", "97 garbage"));
    let codecs = m.codecs();
    let names: Vec<&str> = codecs.iter().map(|c| c.encoding.as_str()).collect();
    assert_eq!(names, ["PCMU", "opus", "PCMA"]);
    assert_eq!(m.rtpmap(96).unwrap().channels, Some(2));
    assert!(m.rtpmap(97).is_none());
}

#[test]
fn typed_attributes() {
    let mut m = media("audio 1 RTP/AVP 0 101")
        .with_attribute(Attribute::new("fmtp", "101 0-15"))
        .with_attribute(Attribute::new("ptime", "20"))
        .with_attribute(Attribute::property("sendonly"))
        .with_attribute(Attribute::new("rtcp", "53020"));
    assert_eq!(m.fmtp("101").unwrap().params, "0-15");
    assert!(m.fmtp("0").is_none());
    assert_eq!(m.ptime(), Some(20));
    assert_eq!(m.direction(), Some(Direction::SendOnly));
    assert_eq!(m.rtcp(), Some(Rtcp::new(53020)));
    m.set_direction(Direction::Inactive);
    assert_eq!(m.attributes_named("sendonly").count(), 0);
    assert_eq!(m.direction(), Some(Direction::Inactive));
    m.set_rtcp(Some(Rtcp::new(6001)));
    assert_eq!(m.attributes[2], Attribute::new("rtcp", "6001"));
    m.set_rtcp(None);
    assert!(m.rtcp().is_none());
}

#[test]
fn editing_attributes_keeps_raw_lines_in_place() {
    let text = "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nm=audio 1 RTP/AVP 0\r\n\
        a=rtcp:2\r\nx=one\r\na=sendonly\r\na=ptime:20\r\ny=two\r\na=tool\r\n";
    let mut sdp: crate::SessionDescription = text.parse().unwrap();
    let m = &mut sdp.media[0];
    m.set_direction(Direction::Inactive);
    m.set_rtcp(None);
    let printed = sdp.to_string();
    let expected =
        "m=audio 1 RTP/AVP 0\r\nx=one\r\na=ptime:20\r\ny=two\r\na=tool\r\na=inactive\r\n";
    assert!(printed.ends_with(expected), "{printed}");
    assert_eq!(printed.parse::<crate::SessionDescription>().unwrap(), sdp);
    let m = &mut sdp.media[0];
    m.set_rtcp(Some(Rtcp::new(9)));
    m.insert_attribute(1, Attribute::property("x"));
    let printed = sdp.to_string();
    let expected = "x=one\r\na=ptime:20\r\ny=two\r\na=x\r\na=tool\r\na=inactive\r\na=rtcp:9\r\n";
    assert!(printed.ends_with(expected), "{printed}");
    assert_eq!(printed.parse::<crate::SessionDescription>().unwrap(), sdp);
}

#[test]
fn with_codec_avoids_taken_numbers() {
    let m = MediaDescription::new(MediaKind::Audio, 1, "RTP/AVP")
        .with_codec(&Codec::new("opus", 48000).with_channels(2))
        .with_codec(&Codec::new("speex", 16000))
        .with_codec(&Codec::pcma());
    assert_eq!(m.formats, ["96", "97", "8"]);
    assert_eq!(m.rtpmap(96).unwrap().to_string(), "96 opus/48000/2");
}

#[test]
fn prints_in_rfc_order() {
    let mut m = media("audio 1 RTP/AVP 0");
    m.attributes.push(Attribute::property("recvonly"));
    m.other_lines.push(RawLine::new('x', "extra"));
    m.key = Some("prompt".into());
    m.bandwidths.push(Bandwidth::new("AS", 64));
    m.connections
        .push("192.0.2.1".parse::<std::net::IpAddr>().unwrap().into());
    m.information = Some("voice".into());
    assert_eq!(
        m.to_string(),
        "m=audio 1 RTP/AVP 0\r\ni=voice\r\nc=IN IP4 192.0.2.1\r\nb=AS:64\r\nk=prompt\r\na=recvonly\r\nx=extra\r\n"
    );
}
