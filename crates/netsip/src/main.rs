//! `netsip`: one command for what Net::SIP's example programs do.
//!
//! Subcommands arrive with the layers they need; today: `parse`, `registrar`, `proxy`.

mod answer_cmd;
mod bench_cmd;
mod call_cmd;
mod daemon;
mod nathelper_cmd;
mod parse_cmd;
mod proxy_cmd;
mod registrar_cmd;
mod tls_args;

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
    /// Call TO, send audio files, record what comes back, send DTMF (invite_and_send.pl,
    /// invite_and_recv.pl, dtmf.pl); exits 0 on a completed call, else with the status
    /// class of the refusal (4 for 486) or 7 (no answer), 8 (no response), 9 (dropped).
    Call(call_cmd::CallArgs),
    /// Answer calls, many at once: greeting and a recording per call (answer_machine.pl)
    /// or RTP echo (bench/listen.pl, --echo); prints a line per call event.
    Answer(answer_cmd::AnswerArgs),
    /// N parallel calls to an RTP echo (bench/call.pl): packets sent and lost, round-trip
    /// delay; progress on stderr once a second, the totals on stdout.
    Bench(bench_cmd::BenchArgs),
    /// Run an RTP relay (Net::SIP::NATHelper::Server) that `netsip proxy --nathelper`
    /// drives over a control connection, until SIGINT or SIGTERM; prints where it listens.
    Nathelper(nathelper_cmd::NathelperArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Parse(args) => parse_cmd::run(&args),
        Command::Registrar(args) => registrar_cmd::run(&args),
        Command::Proxy(args) => proxy_cmd::run(&args),
        Command::Call(args) => return call_cmd::main(&args),
        Command::Answer(args) => answer_cmd::run(&args),
        Command::Bench(args) => bench_cmd::run(&args),
        Command::Nathelper(args) => nathelper_cmd::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
