//! What the long-running subcommands (`registrar`, `proxy`) share: logging and stopping.

use anyhow::{Context, Result};

/// SIGINT and SIGTERM (Ctrl-C elsewhere), watched from [`ShutdownSignal::install`] on: a
/// daemon installs it before it prints where it listens, so that a signal sent as soon as
/// that line is read stops it cleanly instead of killing it.
pub(crate) struct ShutdownSignal {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    /// Starts watching (needs a tokio runtime).
    #[cfg(unix)]
    pub(crate) fn install() -> Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Self {
            term: signal(SignalKind::terminate()).context("cannot watch SIGTERM")?,
            int: signal(SignalKind::interrupt()).context("cannot watch SIGINT")?,
        })
    }

    /// Starts watching (Ctrl-C is watched when waited for).
    #[cfg(not(unix))]
    pub(crate) fn install() -> Result<Self> {
        Ok(Self {})
    }

    /// Waits for the signal; returns which.
    #[cfg(unix)]
    pub(crate) async fn recv(&mut self) -> Result<&'static str> {
        Ok(tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        })
    }

    /// Waits for Ctrl-C.
    #[cfg(not(unix))]
    pub(crate) async fn recv(&mut self) -> Result<&'static str> {
        tokio::signal::ctrl_c()
            .await
            .context("cannot watch Ctrl-C")?;
        Ok("Ctrl-C")
    }
}

/// Installs [`ShutdownSignal`] and waits for it (for commands that print nothing a caller
/// waits on first).
pub(crate) async fn shutdown_signal() -> Result<&'static str> {
    ShutdownSignal::install()?.recv().await
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub(crate) fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
