//! TLS settings: the certificate a leg shows, the roots it trusts, and the handshakes.
//!
//! Everything uses the `ring` provider explicitly, so nothing depends on a process-wide
//! default provider having been installed (rustls panics when it must guess between two).

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::{client, server, TlsAcceptor, TlsConnector};

use crate::error::TransportError;

fn config_error(reason: impl fmt::Display) -> TransportError {
    TransportError::TlsConfig {
        reason: reason.to_string(),
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_file(path: &Path, what: &str) -> Result<Vec<u8>, TransportError> {
    std::fs::read(path)
        .map_err(|e| config_error(format!("cannot read {what} {}: {e}", path.display())))
}

fn parse_certs(pem: &[u8], origin: &str) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let certs = rustls_pemfile::certs(&mut &*pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| config_error(format!("bad PEM in {origin}: {e}")))?;
    if certs.is_empty() {
        return Err(config_error(format!("no CERTIFICATE in {origin}")));
    }
    Ok(certs)
}

/// The certificate chain and key a TLS leg shows to peers that connect to it.
#[derive(Clone)]
#[non_exhaustive]
pub struct TlsServerConfig {
    config: Arc<rustls::ServerConfig>,
}

impl TlsServerConfig {
    /// Loads a PEM certificate chain (leaf first) and a PEM private key (PKCS#8, PKCS#1 or
    /// SEC1) from files.
    pub fn from_pem_files(
        cert_path: impl AsRef<Path>,
        key_path: impl AsRef<Path>,
    ) -> Result<Self, TransportError> {
        let (cert_path, key_path) = (cert_path.as_ref(), key_path.as_ref());
        let cert = read_file(cert_path, "certificate file")?;
        let key = read_file(key_path, "key file")?;
        Self::build(
            &cert,
            &key,
            &cert_path.display().to_string(),
            &key_path.display().to_string(),
        )
    }

    /// A certificate chain (leaf first) and a private key, both PEM.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, TransportError> {
        Self::build(cert_pem, key_pem, "the certificate PEM", "the key PEM")
    }

    /// A rustls configuration made elsewhere, e.g. one that asks clients for certificates.
    pub fn from_rustls(config: Arc<rustls::ServerConfig>) -> Self {
        Self { config }
    }

    fn build(
        cert: &[u8],
        key: &[u8],
        cert_origin: &str,
        key_origin: &str,
    ) -> Result<Self, TransportError> {
        let certs = parse_certs(cert, cert_origin)?;
        let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut &*key)
            .map_err(|e| config_error(format!("bad PEM in {key_origin}: {e}")))?
            .ok_or_else(|| config_error(format!("no PRIVATE KEY in {key_origin}")))?;
        let config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(config_error)?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| config_error(format!("{cert_origin} and {key_origin}: {e}")))?;
        Ok(Self {
            config: Arc::new(config),
        })
    }

    pub(crate) fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.config.clone())
    }
}

impl fmt::Debug for TlsServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key stays out of logs.
        f.debug_struct("TlsServerConfig").finish_non_exhaustive()
    }
}

/// The CA roots a TLS leg verifies the servers it connects to against.
#[derive(Clone)]
#[non_exhaustive]
pub struct TlsClientConfig {
    config: Arc<rustls::ClientConfig>,
}

impl TlsClientConfig {
    /// Trusts the CA certificates in a PEM file.
    pub fn with_ca_file(path: impl AsRef<Path>) -> Result<Self, TransportError> {
        let path = path.as_ref();
        let pem = read_file(path, "CA file")?;
        Self::from_certs(parse_certs(&pem, &path.display().to_string())?)
    }

    /// Trusts the CA certificates in PEM text.
    pub fn with_ca_pem(pem: &[u8]) -> Result<Self, TransportError> {
        Self::from_certs(parse_certs(pem, "the CA PEM")?)
    }

    /// Trusts the public web PKI roots (Mozilla's, as compiled into `webpki-roots`).
    ///
    /// Fails only if the crypto provider refuses the default protocol versions, which ring
    /// does not; the `Result` keeps that from ever being a panic.
    pub fn system_roots() -> Result<Self, TransportError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        Self::from_roots(roots)
    }

    /// A rustls configuration made elsewhere, e.g. one with a client certificate.
    pub fn from_rustls(config: Arc<rustls::ClientConfig>) -> Self {
        Self { config }
    }

    fn from_certs(certs: Vec<CertificateDer<'static>>) -> Result<Self, TransportError> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| config_error(format!("CA certificate not usable as a root: {e}")))?;
        }
        Self::from_roots(roots)
    }

    fn from_roots(roots: rustls::RootCertStore) -> Result<Self, TransportError> {
        let config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(config_error)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            config: Arc::new(config),
        })
    }

    pub(crate) fn connector(&self) -> TlsConnector {
        TlsConnector::from(self.config.clone())
    }
}

impl fmt::Debug for TlsClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsClientConfig").finish_non_exhaustive()
    }
}

/// The name a server's certificate must hold: the name given, or else the IP address
/// connected to.
pub(crate) fn server_name(
    name: Option<&str>,
    peer: SocketAddr,
) -> Result<ServerName<'static>, TransportError> {
    match name {
        Some(name) => {
            ServerName::try_from(name.to_owned()).map_err(|_| TransportError::BadServerName {
                name: name.to_owned(),
            })
        }
        None => Ok(ServerName::IpAddress(peer.ip().into())),
    }
}

/// The client side of a handshake on a fresh TCP connection.
pub(crate) async fn connect(
    connector: &TlsConnector,
    name: ServerName<'static>,
    tcp: TcpStream,
) -> std::io::Result<client::TlsStream<TcpStream>> {
    connector.connect(name, tcp).await
}

/// The server side of a handshake on an accepted TCP connection.
pub(crate) async fn accept(
    acceptor: &TlsAcceptor,
    tcp: TcpStream,
) -> std::io::Result<server::TlsStream<TcpStream>> {
    acceptor.accept(tcp).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_pem_is_a_config_error_that_says_where() {
        let e = TlsServerConfig::from_pem(b"not pem", b"not pem").unwrap_err();
        assert!(
            matches!(&e, TransportError::TlsConfig { reason } if reason.contains("no CERTIFICATE")),
            "{e}"
        );
        let e = TlsClientConfig::with_ca_pem(b"").unwrap_err();
        assert!(e.to_string().contains("CA PEM"), "{e}");
        let e = TlsServerConfig::from_pem_files("/nonexistent/cert.pem", "/nonexistent/key.pem")
            .unwrap_err();
        assert!(e.to_string().contains("/nonexistent/cert.pem"), "{e}");
    }

    #[test]
    fn server_names() {
        let peer: SocketAddr = "127.0.0.1:5061".parse().unwrap();
        assert!(matches!(
            server_name(None, peer),
            Ok(ServerName::IpAddress(_))
        ));
        assert!(matches!(
            server_name(Some("localhost"), peer),
            Ok(ServerName::DnsName(_))
        ));
        assert!(matches!(
            server_name(Some("::1"), peer),
            Ok(ServerName::IpAddress(_))
        ));
        assert!(matches!(
            server_name(Some("bad name!"), peer),
            Err(TransportError::BadServerName { .. })
        ));
    }

    #[test]
    fn public_roots_load() {
        assert!(TlsClientConfig::system_roots().is_ok());
    }
}
