//! The programs that tests talk to, and how they get installed.
//!
//! A missing peer is installed with apt when running as root (as on CI); otherwise the
//! command stops and says exactly what to install. A missing peer is never a skipped test.

use std::process::Command;

use anyhow::{bail, Result};

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

/// What the interop suite talks to.
pub(crate) const INTEROP_PEERS: &[Peer] = &[SIPP, SIPSAK, NET_SIP];

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

fn is_root() -> bool {
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
    if !is_root() {
        bail!(
            "missing test peers {:?}: run `sudo apt-get install -y {}`",
            missing
                .iter()
                .map(|p| p.perl_module.unwrap_or(p.program))
                .collect::<Vec<_>>(),
            packages.join(" ")
        );
    }
    crate::run(Command::new("apt-get").args(["update", "-q"]))?;
    crate::run(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
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
