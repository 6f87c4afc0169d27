//! `netsip call`, `netsip answer` and `netsip bench` as a user runs them: process pairs over
//! 127.0.0.1, audio checked sample for sample, and the exit status of refused and
//! unanswered calls against a scripted SIP peer.

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use sip_simple::media::AudioFile;

fn netsip() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_netsip"));
    if std::env::var_os("RUST_LOG").is_none() {
        c.env("RUST_LOG", "warn");
    }
    c
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netsip-call-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `frames` 20 ms packets of μ-law noise that no two places share, as an 8 kHz μ-law WAV.
fn write_signal(path: &Path, frames: usize, seed: u64) -> Vec<u8> {
    write_g711_wav(path, frames, seed, 7)
}

/// `frames` packets of noise as an 8 kHz WAV of format `tag` (7 μ-law, 6 A-law).
fn write_g711_wav(path: &Path, frames: usize, seed: u64, tag: u16) -> Vec<u8> {
    let mut state = seed | 1;
    let codes: Vec<u8> = (0..frames * 160)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Loud codes only (exponent bits not all set), so that nothing looks like silence.
            ((state >> 24) as u8) & 0xbf
        })
        .collect();
    let len = codes.len() as u32;
    let mut w = b"RIFF".to_vec();
    w.extend_from_slice(&(4 + 26 + 12 + 8 + len).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt \x12\0\0\0");
    w.extend_from_slice(&tag.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&8000u32.to_le_bytes());
    w.extend_from_slice(&8000u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&8u16.to_le_bytes());
    w.extend_from_slice(&0u16.to_le_bytes());
    w.extend_from_slice(b"fact\x04\0\0\0");
    w.extend_from_slice(&len.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&len.to_le_bytes());
    w.extend_from_slice(&codes);
    std::fs::write(path, w).unwrap();
    codes
}

/// Asserts that `got` (decoded samples) is one stretch of `sent`, missing at most `lead`
/// packets at the start and `trail` at the end, and nothing in between.
fn assert_intact(sent: &[i16], got: &[i16], lead: usize, trail: usize) {
    let loud = |s: &[i16]| s.iter().filter(|x| x.abs() > 16).count() > s.len() / 2;
    let start = got
        .chunks(160)
        .position(|c| c.len() == 160 && loud(c))
        .expect("the recording holds audio")
        * 160;
    let window = &got[start..start + 160];
    let at = sent
        .windows(160)
        .position(|w| w == window)
        .expect("the recording's first audio is some of what was sent");
    let stretch = (got.len() - start).min(sent.len() - at);
    // Trailing silence in the recording (the echo stopped) is no audio.
    let heard = got[start..start + stretch]
        .iter()
        .rposition(|x| x.abs() > 16)
        .map_or(0, |p| p + 1);
    assert_eq!(
        &got[start..start + heard],
        &sent[at..at + heard],
        "the audio that came back differs from what was sent"
    );
    assert!(at <= lead * 160, "{} ms lost at the start", at / 8);
    let missing = sent.len() - (at + heard);
    assert!(missing <= trail * 160, "{} ms lost at the end", missing / 8);
}

/// A running `netsip answer`, its stdout read line by line as it comes.
struct Answer {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    addr: String,
}

impl Answer {
    /// `netsip answer --listen udp:127.0.0.1:0 ARGS`.
    fn start(args: &[&str]) -> Self {
        let mut all = vec!["answer", "--listen", "udp:127.0.0.1:0"];
        all.extend_from_slice(args);
        Self::netsip(&all)
    }

    /// `netsip ARGS` (a subcommand that prints `listening on ADDR` first).
    fn netsip(args: &[&str]) -> Self {
        let mut child = netsip()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("netsip runs");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let out = BufReader::new(child.stdout.take().unwrap());
        let sink = Arc::clone(&lines);
        thread::spawn(move || {
            for l in out.lines().map_while(Result::ok) {
                sink.lock().unwrap().push(l);
            }
        });
        let mut a = Self {
            child,
            lines,
            addr: String::new(),
        };
        let line = a.wait_line("listening on ", Duration::from_secs(10));
        let addr = line.trim_start_matches("listening on udp:").to_owned();
        a.addr = addr;
        a
    }

    /// The SIP URI that reaches it.
    fn uri(&self) -> String {
        format!("sip:answer@{}", self.addr)
    }

    fn wait_line(&self, prefix: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(l) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.starts_with(prefix))
            {
                return l.clone();
            }
            assert!(
                Instant::now() < deadline,
                "netsip answer never printed {prefix:?}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (at most 15 s) for it to exit after its `--calls`; its status and lines.
    fn finish(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "netsip answer did not exit after its calls"
            );
            thread::sleep(Duration::from_millis(20));
        };
        thread::sleep(Duration::from_millis(50));
        let lines = self.lines.lock().unwrap().clone();
        (status, lines)
    }
}

impl Drop for Answer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn call(args: &[&str], dir: &Path) -> Output {
    netsip()
        .arg("call")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("netsip runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_call_to_the_echo_gets_its_audio_back_intact() {
    let dir = scratch("echo");
    let codes = write_signal(&dir.join("sent.wav"), 100, 11);
    let rec = dir.join("rec");
    let answer = Answer::start(&[
        "--echo",
        "--record-dir",
        rec.to_str().unwrap(),
        "--calls",
        "1",
    ]);
    let out = call(
        &[
            &answer.uri(),
            "--from",
            "sip:caller@127.0.0.1",
            "--send",
            "sent.wav",
            "--record",
            "back.wav",
        ],
        &dir,
    );
    assert!(
        out.status.success(),
        "netsip call failed: {}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("call established"), "{stdout}");
    assert!(stdout.contains("files sent"), "{stdout}");
    let (status, lines) = answer.finish();
    assert!(status.success());
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("call 1: established from ")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("call 1: ended: ")),
        "{lines:?}"
    );

    let sent = AudioFile::from_bytes("sent.pcmu", &codes)
        .unwrap()
        .samples();
    let back = AudioFile::read(dir.join("back.wav")).unwrap().samples();
    assert_intact(&sent, &back, 10, 15);
    // The echo recorded what it heard, too.
    let recorded: Vec<PathBuf> = std::fs::read_dir(&rec)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    let heard = AudioFile::read(&recorded[0]).unwrap().samples();
    assert_intact(&sent, &heard, 10, 15);
}

#[test]
fn the_answer_machine_records_each_call_by_time_and_caller() {
    let dir = scratch("record");
    let codes = write_signal(&dir.join("message.wav"), 75, 22);
    write_signal(&dir.join("greeting.wav"), 25, 33);
    let rec = dir.join("rec");
    let answer = Answer::start(&[
        "--greeting",
        dir.join("greeting.wav").to_str().unwrap(),
        "--record-dir",
        rec.to_str().unwrap(),
        "--calls",
        "1",
    ]);
    let out = call(
        &[
            &answer.uri(),
            "--from",
            "sip:carol@127.0.0.1",
            "--send",
            "message.wav",
            "--record",
            "greeting-heard.wav",
        ],
        &dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (status, lines) = answer.finish();
    assert!(status.success());
    let files: Vec<PathBuf> = std::fs::read_dir(&rec)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.ends_with("_carol@127_0_0_1.wav"), "{name}");
    let secs: u64 = name.split('_').next().unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(now - secs < 60, "named by the time of the call");
    assert!(
        lines.iter().any(|l| l.contains("recording to")),
        "{lines:?}"
    );

    let sent = AudioFile::from_bytes("m.pcmu", &codes).unwrap().samples();
    let recorded = AudioFile::read(&files[0]).unwrap().samples();
    assert_intact(&sent, &recorded, 10, 15);
    // The caller heard the greeting.
    let heard = AudioFile::read(dir.join("greeting-heard.wav"))
        .unwrap()
        .samples();
    assert!(heard.iter().filter(|x| x.abs() > 16).count() > 160 * 10);
}

#[test]
fn a_re_invite_comes_only_where_the_codec_changes() {
    let dir = scratch("reinvite");
    write_g711_wav(&dir.join("u1.wav"), 15, 1, 7);
    write_g711_wav(&dir.join("u2.wav"), 15, 2, 7);
    write_g711_wav(&dir.join("a1.wav"), 15, 3, 6);
    let answer = Answer::start(&["--echo", "--calls", "2"]);
    let send = |files: &[&str]| {
        let mut args = vec![answer.uri(), "--from".into(), "sip:f@127.0.0.1".into()];
        for f in files {
            args.push("--send".into());
            args.push((*f).into());
        }
        args.push("--record".into());
        args.push("back.wav".into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = call(&args, &dir);
        assert!(out.status.success(), "{}", text(&out.stderr));
        (
            text(&out.stdout),
            AudioFile::read(dir.join("back.wav")).unwrap(),
        )
    };
    // Two μ-law files: one offer serves both.
    let (stdout, back) = send(&["u1.wav", "u2.wav"]);
    assert!(!stdout.contains("re-INVITE"), "{stdout}");
    assert!(stdout.contains("files sent"), "{stdout}");
    assert!(back.samples_len() >= 25 * 160, "both files came back");
    // μ-law, μ-law, A-law: one re-INVITE, before the A-law file.
    let (stdout, back) = send(&["u1.wav", "u2.wav", "a1.wav"]);
    assert_eq!(stdout.matches("re-INVITE for PCMA").count(), 1, "{stdout}");
    assert!(stdout.contains("files sent"), "{stdout}");
    assert!(back.samples_len() >= 40 * 160, "all three files came back");
    let (status, _) = answer.finish();
    assert!(status.success());
}

#[test]
fn the_answerer_registers_and_takes_calls_through_the_proxy() {
    let proxy = Answer::netsip(&["proxy", "--listen", "udp:127.0.0.1:0", "--registrar"]);
    let answer = Answer::start(&[
        "--from",
        "sip:box@example.com",
        "--registrar",
        &proxy.addr,
        "--echo",
        "--calls",
        "1",
    ]);
    answer.wait_line("registered at ", Duration::from_secs(10));
    let dir = scratch("registered");
    let out = call(
        &[
            "sip:box@example.com",
            "--from",
            "sip:caller@example.com",
            "--proxy",
            &proxy.addr,
            "--duration",
            "0.5",
        ],
        &dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (status, lines) = answer.finish();
    assert!(status.success());
    assert!(
        lines
            .iter()
            .any(|l| l == "call 1: established from sip:caller@example.com"),
        "{lines:?}"
    );
}

#[test]
fn sigint_hangs_the_call_up_with_a_bye() {
    let answer = Answer::start(&["--echo", "--calls", "1"]);
    let caller = netsip()
        .args([
            "call",
            &answer.uri(),
            "--from",
            "sip:i@127.0.0.1",
            "--duration",
            "20",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    answer.wait_line("call 1: established", Duration::from_secs(10));
    let sent = Command::new("kill")
        .args(["-INT", &caller.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = caller.wait_with_output().unwrap();
    assert!(out.status.success(), "exit {:?}", out.status);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("SIGINT: hanging up"), "{stdout}");
    assert!(stdout.contains("call ended: hung up here"), "{stdout}");
    let (_, lines) = answer.finish();
    assert!(
        lines
            .iter()
            .any(|l| l == "call 1: ended: hung up by the peer"),
        "the answerer got the BYE: {lines:?}"
    );
}

#[test]
fn dtmf_digits_reach_the_answerer_in_order() {
    let dir = scratch("dtmf");
    let answer = Answer::start(&["--echo", "--calls", "1"]);
    let out = call(
        &[
            &answer.uri(),
            "--from",
            "sip:keys@127.0.0.1",
            "--dtmf",
            "19#*A",
            "--duration",
            "0.5",
        ],
        &dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("dtmf sent 19#*A"));
    let (_, lines) = answer.finish();
    let digits: String = lines
        .iter()
        .filter_map(|l| l.strip_prefix("call 1: dtmf "))
        .collect();
    assert_eq!(digits, "19#*A", "{lines:?}");
}

#[test]
fn bench_holds_parallel_calls_and_measures_the_echo() {
    let answer = Answer::start(&["--echo"]);
    let out = netsip()
        .args([
            "bench",
            "--to",
            &answer.uri(),
            "--calls",
            "20",
            "--duration",
            "2.2",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let total = stdout
        .lines()
        .find(|l| l.starts_with("total "))
        .unwrap_or_else(|| panic!("no total line: {stdout}"));
    assert!(total.starts_with("total calls=20/20 "), "{total}");
    let field = |k: &str| -> u64 {
        total
            .split_whitespace()
            .find_map(|f| f.strip_prefix(k))
            .unwrap()
            .parse()
            .unwrap()
    };
    let (sent, received) = (field("sent="), field("received="));
    // 20 calls, 50 packets a second each, for 2.2 seconds.
    assert!(sent >= 2000, "{total}");
    assert!(received * 100 >= sent * 95, "{total}");
    assert!(total.contains(" delay(ms)="), "{total}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("20 of 20 calls set up"), "{stderr}");
    assert!(
        stderr
            .lines()
            .filter(|l| l.contains("s calls=20 pkt sent="))
            .count()
            >= 2,
        "a progress line a second on stderr: {stderr}"
    );
}

/// How the scripted peer answers an INVITE.
#[derive(Clone, Copy)]
enum Script {
    /// A final error response.
    Refuse(u16, &'static str),
    /// 180 Ringing, then nothing until a CANCEL (answered 200, the INVITE 487).
    RingForever,
}

/// A SIP peer on 127.0.0.1 that plays `script` to every INVITE; returns its port.
fn scripted_peer(script: Script) -> u16 {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    thread::spawn(move || {
        let mut buf = [0u8; 65535];
        let mut invite: Option<String> = None;
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            let reply = |status: u16, reason: &str, req: &str| {
                let mut r = format!("SIP/2.0 {status} {reason}\r\n");
                for l in req.lines() {
                    let lower = l.to_ascii_lowercase();
                    if ["via:", "v:", "from:", "f:", "call-id:", "i:", "cseq:"]
                        .iter()
                        .any(|h| lower.starts_with(h))
                    {
                        r.push_str(l.trim_end());
                        r.push_str("\r\n");
                    } else if lower.starts_with("to:") || lower.starts_with("t:") {
                        r.push_str(l.trim_end());
                        if !lower.contains("tag=") && status > 100 {
                            r.push_str(";tag=scripted");
                        }
                        r.push_str("\r\n");
                    }
                }
                r.push_str("Content-Length: 0\r\n\r\n");
                let _ = sock.send_to(r.as_bytes(), from);
            };
            if msg.starts_with("INVITE ") {
                match script {
                    Script::Refuse(status, reason) => reply(status, reason, &msg),
                    Script::RingForever => reply(180, "Ringing", &msg),
                }
                invite = Some(msg);
            } else if msg.starts_with("CANCEL ") {
                reply(200, "OK", &msg);
                if let Some(inv) = &invite {
                    reply(487, "Request Terminated", inv);
                }
            }
        }
    });
    port
}

/// `netsip call` to a scripted peer that refuses with `status reason`: the exit status and
/// what was written to stderr.
fn refused_call(status: u16, reason: &'static str, scratch_name: &str) -> (Option<i32>, String) {
    let port = scripted_peer(Script::Refuse(status, reason));
    let dir = scratch(scratch_name);
    let out = call(
        &[
            &format!("sip:bob@127.0.0.1:{port}"),
            "--from",
            "sip:a@127.0.0.1",
        ],
        &dir,
    );
    (out.status.code(), text(&out.stderr))
}

#[test]
fn a_busy_peer_gives_exit_status_4_and_the_status_line() {
    let (code, stderr) = refused_call(486, "Busy Here", "busy");
    assert_eq!(code, Some(4), "{stderr}");
    assert!(stderr.contains("486 Busy Here"), "{stderr}");
}

#[test]
fn an_unknown_user_gives_exit_status_4_with_404() {
    let (code, stderr) = refused_call(404, "Not Found", "notfound");
    assert_eq!(code, Some(4), "{stderr}");
    assert!(stderr.contains("404 Not Found"), "{stderr}");
}

#[test]
fn a_server_error_gives_exit_status_5() {
    let (code, stderr) = refused_call(503, "Service Unavailable", "unavailable");
    assert_eq!(code, Some(5), "{stderr}");
}

#[test]
fn no_answer_within_the_ring_timeout_gives_exit_status_7() {
    let port = scripted_peer(Script::RingForever);
    let dir = scratch("ring");
    let t0 = Instant::now();
    let out = call(
        &[
            &format!("sip:b@127.0.0.1:{port}"),
            "--from",
            "sip:a@127.0.0.1",
            "--ring-timeout",
            "1",
        ],
        &dir,
    );
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("did not answer"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        t0.elapsed() < Duration::from_secs(15),
        "took {:?}",
        t0.elapsed()
    );
}

#[test]
fn bad_arguments_fail_before_any_call() {
    let dir = scratch("args");
    let out = call(&["sip:b@127.0.0.1:9", "--send", "missing.wav"], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("missing.wav"),
        "{}",
        text(&out.stderr)
    );
    let out = call(&["sip:b@127.0.0.1:9", "--dtmf", "12x"], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("'x'"), "{}", text(&out.stderr));
    let out = call(&["sip:b@127.0.0.1:9", "--duration", "soon"], &dir);
    assert_eq!(out.status.code(), Some(2), "clap's usage error");
    let out = netsip()
        .args(["bench", "--to", "sip:b@127.0.0.1:9", "--calls", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn answer_rings_before_answering_and_a_cancel_ends_the_ringing_call() {
    let dir = scratch("ring-answer");
    // Rings 0.5 s, then answers: the call is set up.
    let answer = Answer::start(&["--echo", "--ring", "0.5", "--calls", "1"]);
    let out = call(&[&answer.uri(), "--duration", "0.5"], &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("call established"));
    let (status, lines) = answer.finish();
    assert!(status.success());
    assert!(lines
        .iter()
        .any(|l| l.starts_with("call 1: established from ")));

    // Rings 10 s: the caller gives up after 1 s (CANCEL); the call ends unanswered.
    let answer = Answer::start(&["--echo", "--ring", "10", "--calls", "1"]);
    let out = call(&[&answer.uri(), "--ring-timeout", "1"], &dir);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    let (status, lines) = answer.finish();
    assert!(status.success());
    assert!(
        !lines.iter().any(|l| l.contains("established")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("call 1: ended: ")),
        "{lines:?}"
    );
    // Not a number of seconds.
    let out = netsip()
        .args(["answer", "--ring", "soon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn tls_certificate_options_come_in_pairs_and_must_load() {
    let dir = scratch("tls-args");
    // --tls-cert without --tls-key (and the reverse) is a usage error.
    let out = call(&["sip:b@127.0.0.1:9", "--tls-cert", "c.pem"], &dir);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = netsip()
        .args(["answer", "--tls-key", "k.pem"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    // A file that does not load is named, before anything listens.
    let out = call(
        &[
            "sips:b@127.0.0.1:9",
            "--listen",
            "tls:127.0.0.1:0",
            "--tls-ca",
            "/nonexistent/ca.pem",
        ],
        &dir,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("bad --tls-ca /nonexistent/ca.pem"),
        "{}",
        text(&out.stderr)
    );
    let out = netsip()
        .args([
            "answer",
            "--listen",
            "tls:127.0.0.1:0",
            "--tls-cert",
            "/nonexistent/c.pem",
            "--tls-key",
            "/nonexistent/k.pem",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("bad --tls-cert /nonexistent/c.pem"),
        "{}",
        text(&out.stderr)
    );
}
