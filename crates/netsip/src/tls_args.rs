//! `--tls-cert`, `--tls-key`, `--tls-ca`: the certificates of `tls:` legs, shared by `proxy`,
//! `call`, `answer` (and `bench`, through the user agent's arguments).

use std::path::PathBuf;

use anyhow::{Context, Result};
use sip_transport::{LegConfig, Protocol, TlsClientConfig, TlsServerConfig, TransportAddr};

/// The certificates of `tls:` legs.
#[derive(Debug, Default, clap::Args)]
pub(crate) struct TlsArgs {
    /// The certificate chain (PEM, leaf first) that tls: legs show; without it they connect
    /// out but refuse inbound connections.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,
    /// CA certificates (PEM) that tls: legs verify next hops against, instead of the public
    /// roots.
    #[arg(long, value_name = "FILE")]
    pub(crate) tls_ca: Option<PathBuf>,
}

/// [`TlsArgs`] with their files read.
#[derive(Debug, Clone, Default)]
pub(crate) struct TlsConfigs {
    /// What a tls: leg shows to whoever connects (--tls-cert, --tls-key).
    pub(crate) server: Option<TlsServerConfig>,
    /// What a tls: leg verifies the hops it connects to against (--tls-ca).
    pub(crate) client: Option<TlsClientConfig>,
}

impl TlsArgs {
    /// Reads the files; an error names the option and the file that did not load.
    pub(crate) fn load(&self) -> Result<TlsConfigs> {
        let server = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(
                TlsServerConfig::from_pem_files(cert, key)
                    .with_context(|| format!("bad --tls-cert {}", cert.display()))?,
            ),
            _ => None,
        };
        let client = match &self.tls_ca {
            Some(ca) => Some(
                TlsClientConfig::with_ca_file(ca)
                    .with_context(|| format!("bad --tls-ca {}", ca.display()))?,
            ),
            None => None,
        };
        Ok(TlsConfigs { server, client })
    }
}

impl TlsConfigs {
    /// A leg on `addr`: with the certificates when it is a tls: leg.
    pub(crate) fn leg(&self, addr: TransportAddr) -> LegConfig {
        let mut leg = LegConfig::new(addr);
        if addr.protocol == Protocol::Tls {
            if let Some(c) = &self.server {
                leg = leg.tls_server(c.clone());
            }
            if let Some(c) = &self.client {
                leg = leg.tls_client(c.clone());
            }
        }
        leg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_files_load_to_nothing_and_a_missing_file_is_named() {
        let none = TlsArgs::default().load().unwrap();
        assert!(none.server.is_none() && none.client.is_none());
        let args = TlsArgs {
            tls_cert: Some("/nonexistent/c.pem".into()),
            tls_key: Some("/nonexistent/k.pem".into()),
            tls_ca: None,
        };
        let err = format!("{:#}", args.load().unwrap_err());
        assert!(err.contains("bad --tls-cert /nonexistent/c.pem"), "{err}");
        let args = TlsArgs {
            tls_ca: Some("/nonexistent/ca.pem".into()),
            ..TlsArgs::default()
        };
        let err = format!("{:#}", args.load().unwrap_err());
        assert!(err.contains("bad --tls-ca /nonexistent/ca.pem"), "{err}");
    }
}
