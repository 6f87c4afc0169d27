//! `netsip`: one command for what Net::SIP's example programs do.
//!
//! Subcommands arrive with the layers they need; today: `parse`, `registrar`, `proxy`.

mod daemon;
mod parse_cmd;
mod proxy_cmd;
mod registrar_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// netsip: a SIP toolbox. Transport addresses are written udp:HOST:PORT, tcp:HOST:PORT,
/// tls:HOST:PORT (IPv6 as [::1]).
#[derive(Debug, Parser)]
#[command(name = "netsip", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse one SIP message (a datagram: the whole input) and print it canonically or as
    /// JSON; a malformed message prints `error: ...` and exits 1.
    Parse(parse_cmd::ParseArgs),
    /// Run a registrar (Net::SIP::Registrar) until SIGINT or SIGTERM; prints where it
    /// listens, logs with RUST_LOG.
    Registrar(registrar_cmd::RegistrarArgs),
    /// Run a stateless proxy (Net::SIP::StatelessProxy), optionally with a registrar,
    /// digest authentication, blocked methods and dropped scanners, until SIGINT or
    /// SIGTERM; prints where it listens, logs with RUST_LOG.
    Proxy(proxy_cmd::ProxyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Parse(args) => parse_cmd::run(&args),
        Command::Registrar(args) => registrar_cmd::run(&args),
        Command::Proxy(args) => proxy_cmd::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
