//! The programs that tests talk to, and how they get installed.
//!
//! A missing peer is installed with apt when running as root (as on CI); otherwise the
//! command stops and says exactly what to install. A missing peer is never a skipped test.
//! Packages that would ask a question while installing get their answer preseeded with
//! `debconf-set-selections` first (see [`preseed`]), so the install never waits on a prompt.

use std::process::Command;

use anyhow::{bail, Context, Result};

/// A program (or Perl module) a test needs and the Debian package that has it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer {
    /// The program to run, looked up on PATH (for a Perl module: `perl`).
    pub(crate) program: &'static str,
    /// The Debian package to install.
    pub(crate) package: &'static str,
    /// A Perl module that must load, for peers that are modules rather than programs.
    pub(crate) perl_module: Option<&'static str>,
}

/// SIPp, the SIP traffic generator: the first peer of the interop suite.
pub(crate) const SIPP: Peer = Peer {
    program: "sipp",
    package: "sip-tester",
    perl_module: None,
};

/// sipsak, for its usrloc (REGISTER) mode and its OPTIONS ping.
pub(crate) const SIPSAK: Peer = Peer {
    program: "sipsak",
    package: "sipsak",
    perl_module: None,
};

/// The Perl Net::SIP, the original this project rebuilds.
pub(crate) const NET_SIP: Peer = Peer {
    program: "perl",
    package: "libnet-sip-perl",
    perl_module: Some("Net::SIP"),
};

/// tshark, Wireshark's command-line dissector: the judge that decodes every message of the
/// interop run (its capture helper `dumpcap` comes with it, in `wireshark-common`).
pub(crate) const TSHARK: Peer = Peer {
    program: "tshark",
    package: "tshark",
    perl_module: None,
};

/// baresip, a SIP user agent with its own stack, for calls with real media.
pub(crate) const BARESIP: Peer = Peer {
    program: "baresip",
    package: "baresip-core",
    perl_module: None,
};

/// Kamailio, the SIP server the load benchmarks (`cargo xtask bench registrar|proxy`) compare
/// ours with: its registrar and stateless forwarding, configured by `bench/kamailio/*.cfg`.
pub(crate) const KAMAILIO: Peer = Peer {
    program: "kamailio",
    package: "kamailio",
    perl_module: None,
};

/// openssl, which makes the interop suite's throwaway CA and TLS certificates.
pub(crate) const OPENSSL: Peer = Peer {
    program: "openssl",
    package: "openssl",
    perl_module: None,
};

/// What the interop suite talks to.
pub(crate) const INTEROP_PEERS: &[Peer] = &[SIPP, SIPSAK, NET_SIP, TSHARK, BARESIP, OPENSSL];

/// What `cargo xtask test` needs: everything the interop suite needs.
pub(crate) const TEST_PEERS: &[Peer] = INTEROP_PEERS;

fn present(p: &Peer) -> bool {
    let check = match p.perl_module {
        Some(m) => format!("perl -M{m} -e 1 >/dev/null 2>&1"),
        None => format!("command -v {} >/dev/null 2>&1", p.program),
    };
    Command::new("sh")
        .args(["-c", &check])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Whether this process runs as root (can install packages, capture on loopback).
pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Installs the missing peers, or fails saying what to install.
pub(crate) fn ensure(peers: &[Peer]) -> Result<()> {
    let missing: Vec<&Peer> = peers.iter().filter(|p| !present(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let packages: Vec<&str> = missing.iter().map(|p| p.package).collect();
    let answers: Vec<&str> = packages.iter().flat_map(|p| preseed(p)).copied().collect();
    if !is_root() {
        let seed = if answers.is_empty() {
            String::new()
        } else {
            format!(
                "printf '%s\\n' {} | sudo debconf-set-selections && ",
                answers
                    .iter()
                    .map(|a| format!("'{a}'"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        };
        bail!(
            "missing test peers {:?}: run `{seed}sudo apt-get install -y {}`",
            missing
                .iter()
                .map(|p| p.perl_module.unwrap_or(p.program))
                .collect::<Vec<_>>(),
            packages.join(" ")
        );
    }
    if !answers.is_empty() {
        set_selections(&answers)?;
    }
    crate::run(Command::new("apt-get").args(["update", "-q"]))?;
    crate::run(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            // Another apt run (a colleague's, unattended-upgrades) holds the lock for a
            // while: wait for it instead of failing at once.
            .args(["-o", "DPkg::Lock::Timeout=300"])
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(&packages),
    )?;
    if let Some(p) = peers.iter().find(|p| !present(p)) {
        bail!(
            "{} is still missing after installing {}",
            p.program,
            p.package
        );
    }
    Ok(())
}

/// The debconf answers `package` needs to install without a prompt: one
/// `debconf-set-selections` line each.
pub(crate) fn preseed(package: &str) -> &'static [&'static str] {
    match package {
        // Whether non-root users may capture: the question would stop a noninteractive
        // install. The suite captures as root, so no.
        "tshark" | "wireshark-common" => {
            &["wireshark-common wireshark-common/install-setuid boolean false"]
        }
        _ => &[],
    }
}

/// Feeds `answers` to `debconf-set-selections`.
fn set_selections(answers: &[&str]) -> Result<()> {
    use std::io::Write;
    use std::process::Stdio;

    eprintln!("xtask: preseeding debconf: {answers:?}");
    let mut child = Command::new("debconf-set-selections")
        .stdin(Stdio::piped())
        .spawn()
        .context("cannot start debconf-set-selections")?;
    if let Some(mut stdin) = child.stdin.take() {
        for a in answers {
            writeln!(stdin, "{a}").context("cannot write to debconf-set-selections")?;
        }
    }
    let status = child.wait().context("debconf-set-selections")?;
    if !status.success() {
        bail!("debconf-set-selections failed: {status}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tshark_is_preseeded_and_others_are_not() {
        assert_eq!(
            preseed(TSHARK.package),
            ["wireshark-common wireshark-common/install-setuid boolean false"]
        );
        assert!(preseed(SIPP.package).is_empty());
    }

    #[test]
    fn every_interop_peer_names_a_package() {
        for p in INTEROP_PEERS {
            assert!(!p.package.is_empty() && !p.program.is_empty(), "{p:?}");
        }
    }
}
