//! `netsip parse` as a user runs it: exit codes, stdout, stderr.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn netsip_parse(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netsip"))
        .arg("parse")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("netsip runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn conformance(name: &str) -> String {
    format!(
        "{}/../sip-packet/tests/conformance/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn valid_message_prints_canonically_with_long_names() {
    let out = netsip_parse(&[&conformance("rfc4475/esc01.dat")], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0\r\n"));
    assert!(text.contains("\r\nCall-ID: esc01.239409asdfakjkn23onasd0-3234\r\n"));
    assert!(text.contains("\r\nContent-Type: application/sdp\r\n"));
    assert!(text.contains("\r\nContent-Length: 150\r\n\r\nv=0"));
}

#[test]
fn stdin_and_json() {
    let raw = std::fs::read(conformance("rfc4475/wsinv.dat")).unwrap();
    let out = netsip_parse(&["--json", "-"], &raw);
    assert!(out.status.success());
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["kind"], "request");
    assert_eq!(j["method"], "INVITE");
    assert_eq!(j["to"]["tag"], "1918181833n");
    assert_eq!(j["from"]["display"], "J Rosenberg \\\"");
    assert_eq!(j["via"].as_array().unwrap().len(), 3);
    assert_eq!(j["via"][2]["branch"], "z9hG4bK30239");
    assert_eq!(j["cseq"]["seq"], 9);
    assert_eq!(j["contact"][0]["q"], 0.33);
    assert_eq!(j["body_len"], 150);
    let names: Vec<&str> = j["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h[0].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Subject") && names.contains(&"Via") && names.contains(&"Contact"));
    assert!(!names.contains(&"v") && !names.contains(&"m") && !names.contains(&"s"));
}

#[test]
fn malformed_message_is_an_error_with_exit_1() {
    for name in [
        "rfc4475/badvers.dat",
        "rfc4475/quotbal.dat",
        "rfc4475/insuf.dat",
        "rfc4475/clerr.dat",
    ] {
        let out = netsip_parse(&[&conformance(name)], b"");
        assert_eq!(out.status.code(), Some(1), "{name}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.starts_with("error: "), "{name}: {err}");
        assert!(out.stdout.is_empty());
    }
    let out = netsip_parse(&["--json"], b"garbage");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn missing_file_is_an_error() {
    let out = netsip_parse(&["/nonexistent/file"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/file"));
}
