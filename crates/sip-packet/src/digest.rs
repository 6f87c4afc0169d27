//! HTTP Digest authentication for SIP (RFC 3261 §22.4, RFC 2617, RFC 7616, RFC 8760):
//! answering a challenge as a client and checking an answer as a server.
//!
//! ```
//! use sip_packet::{AuthValue, digest::{DigestChallenge, DigestClient, Secret, verify}};
//! let challenge = AuthValue::parse(r#"Digest realm="example.com", nonce="abc", qop="auth", algorithm=SHA-256"#).unwrap();
//! let challenge = DigestChallenge::from_auth_value(&challenge).unwrap();
//! let client = DigestClient { username: "alice", password: "secret", method: "REGISTER",
//!     uri: "sip:example.com", body: b"", cnonce: "xyz", nc: 1 };
//! let answer = client.answer(&challenge).unwrap();
//! assert!(verify(&answer, "REGISTER", b"", &Secret::Password("secret")).is_ok());
//! assert!(verify(&answer, "REGISTER", b"", &Secret::Password("wrong")).is_err());
//! ```

use md5::{Digest as _, Md5};
use sha2::Sha256;

use crate::auth::AuthValue;

/// What went wrong answering or checking a digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// The scheme is not Digest.
    #[error("authentication scheme {0:?} is not Digest")]
    NotDigest(String),
    /// A parameter the digest needs is missing.
    #[error("digest parameter {0} is missing")]
    MissingParam(&'static str),
    /// An algorithm this crate does not implement.
    #[error("digest algorithm {0:?} is not supported (MD5, MD5-sess, SHA-256, SHA-256-sess are)")]
    UnsupportedAlgorithm(String),
    /// A qop this crate does not implement, or none it can use.
    #[error("digest qop {0:?} is not supported (auth and auth-int are)")]
    UnsupportedQop(String),
    /// The `nc` parameter is not 8 hex digits.
    #[error("digest nonce count {0:?} is not 8 hex digits")]
    BadNonceCount(String),
    /// The response does not match what the secret gives.
    #[error("digest response does not match")]
    Mismatch,
}

/// A digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// MD5 (the default when a challenge names none).
    Md5,
    /// MD5-sess
    Md5Sess,
    /// SHA-256 (RFC 7616, RFC 8760)
    Sha256,
    /// SHA-256-sess
    Sha256Sess,
}

impl Algorithm {
    /// Parses an algorithm name, ignoring case.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Md5, Self::Md5Sess, Self::Sha256, Self::Sha256Sess]
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
    }

    /// The name as written in the `algorithm` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Md5Sess => "MD5-sess",
            Self::Sha256 => "SHA-256",
            Self::Sha256Sess => "SHA-256-sess",
        }
    }

    fn is_sess(self) -> bool {
        matches!(self, Self::Md5Sess | Self::Sha256Sess)
    }

    /// The lower-case hex digest of `data` with this algorithm's hash.
    pub fn hash(self, data: &[u8]) -> String {
        match self {
            Self::Md5 | Self::Md5Sess => hex(&Md5::digest(data)),
            Self::Sha256 | Self::Sha256Sess => hex(&Sha256::digest(data)),
        }
    }

    fn hash_parts(self, parts: &[&[u8]]) -> String {
        let joined = parts.join(&b':');
        self.hash(&joined)
    }

    /// HA1 of RFC 7616 §3.4.2 without the `-sess` step: `H(username:realm:password)`; what a
    /// password file may keep instead of the password.
    pub fn ha1(self, username: &str, realm: &str, password: &str) -> String {
        self.hash_parts(&[username.as_bytes(), realm.as_bytes(), password.as_bytes()])
    }
}

/// A quality of protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Qop {
    /// `auth`
    Auth,
    /// `auth-int`: the body is part of the digest.
    AuthInt,
}

impl Qop {
    /// The name as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::AuthInt => "auth-int",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            q if q.eq_ignore_ascii_case("auth") => Some(Self::Auth),
            q if q.eq_ignore_ascii_case("auth-int") => Some(Self::AuthInt),
            _ => None,
        }
    }
}

/// A Digest challenge from a 401 (WWW-Authenticate) or 407 (Proxy-Authenticate).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DigestChallenge {
    /// The protection space.
    pub realm: String,
    /// The server's nonce.
    pub nonce: String,
    /// Opaque data to send back unchanged.
    pub opaque: Option<String>,
    /// The algorithm (MD5 when none is named).
    pub algorithm: Algorithm,
    /// The qop values offered, empty for an RFC 2069 challenge.
    pub qop: Vec<Qop>,
    /// Whether the previous answer failed only because its nonce was stale.
    pub stale: bool,
}

impl DigestChallenge {
    /// Reads a challenge; fails for other schemes, missing realm/nonce, an unknown algorithm,
    /// or a qop list that offers neither auth nor auth-int.
    pub fn from_auth_value(v: &AuthValue) -> Result<Self, DigestError> {
        if !v.is_digest() {
            return Err(DigestError::NotDigest(v.scheme().to_owned()));
        }
        let realm = v.get("realm").ok_or(DigestError::MissingParam("realm"))?;
        let nonce = v.get("nonce").ok_or(DigestError::MissingParam("nonce"))?;
        let algorithm = algorithm_of(v)?;
        let qop = match v.get("qop") {
            Some(q) => {
                let list: Vec<Qop> = q.split(',').filter_map(Qop::parse).collect();
                if list.is_empty() {
                    return Err(DigestError::UnsupportedQop(q.into_owned()));
                }
                list
            }
            None => Vec::new(),
        };
        Ok(Self {
            realm: realm.into_owned(),
            nonce: nonce.into_owned(),
            opaque: v.get("opaque").map(|o| o.into_owned()),
            algorithm,
            qop,
            stale: v
                .get("stale")
                .is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }

    /// The challenge as a header value.
    pub fn to_auth_value(&self) -> AuthValue {
        let mut v = AuthValue::new("Digest");
        v.push_quoted("realm", &self.realm);
        v.push_quoted("nonce", &self.nonce);
        if let Some(o) = &self.opaque {
            v.push_quoted("opaque", o);
        }
        v.push_token("algorithm", self.algorithm.as_str());
        if !self.qop.is_empty() {
            let q: Vec<&str> = self.qop.iter().map(|q| q.as_str()).collect();
            v.push_quoted("qop", &q.join(","));
        }
        if self.stale {
            v.push_token("stale", "true");
        }
        v
    }
}

/// What a client needs to answer a challenge.
#[derive(Debug, Clone, Copy)]
pub struct DigestClient<'a> {
    /// The user name.
    pub username: &'a str,
    /// The password.
    pub password: &'a str,
    /// The request method.
    pub method: &'a str,
    /// The digest URI: the Request-URI as written.
    pub uri: &'a str,
    /// The body (for auth-int).
    pub body: &'a [u8],
    /// The client nonce (use [`crate::random`] to make one).
    pub cnonce: &'a str,
    /// The nonce count: how many requests this nonce has answered, this one included.
    pub nc: u32,
}

impl DigestClient<'_> {
    /// The Authorization / Proxy-Authorization value answering `challenge`. With qop offered,
    /// `auth` is preferred and `auth-int` used when it is the only one.
    pub fn answer(&self, challenge: &DigestChallenge) -> Result<AuthValue, DigestError> {
        let qop = if challenge.qop.is_empty() {
            None
        } else if challenge.qop.contains(&Qop::Auth) {
            Some(Qop::Auth)
        } else {
            Some(Qop::AuthInt)
        };
        let nc = format!("{:08x}", self.nc);
        let algo = challenge.algorithm;
        let ha1 = session_ha1(
            algo,
            &algo.ha1(self.username, &challenge.realm, self.password),
            &challenge.nonce,
            self.cnonce,
        );
        let response = response(
            algo,
            &ha1,
            &challenge.nonce,
            qop.map(|q| (q, nc.as_str(), self.cnonce)),
            self.method,
            self.uri,
            self.body,
        );
        let mut v = AuthValue::new("Digest");
        v.push_quoted("username", self.username);
        v.push_quoted("realm", &challenge.realm);
        v.push_quoted("nonce", &challenge.nonce);
        v.push_quoted("uri", self.uri);
        v.push_quoted("response", &response);
        v.push_token("algorithm", algo.as_str());
        if let Some(q) = qop {
            v.push_token("qop", q.as_str());
            v.push_token("nc", &nc);
        }
        if qop.is_some() || algo.is_sess() {
            // -sess needs the client nonce for HA1 even without qop (RFC 2617 §3.2.2.2).
            v.push_quoted("cnonce", self.cnonce);
        }
        if let Some(o) = &challenge.opaque {
            v.push_quoted("opaque", o);
        }
        Ok(v)
    }
}

/// What a server knows of a user: the password, or HA1 = H(username:realm:password) computed
/// with the hash of the algorithm in use.
#[derive(Debug, Clone, Copy)]
pub enum Secret<'a> {
    /// The plain password.
    Password(&'a str),
    /// The precomputed HA1 in hex.
    Ha1(&'a str),
}

/// The parameters of an Authorization value that a server reads before checking it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DigestCredentials {
    /// The user name.
    pub username: String,
    /// The realm.
    pub realm: String,
    /// The nonce being answered.
    pub nonce: String,
    /// The digest URI.
    pub uri: String,
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The qop used, with its nonce count and client nonce.
    pub qop: Option<(Qop, u32, String)>,
    /// The opaque value sent back.
    pub opaque: Option<String>,
}

impl DigestCredentials {
    /// Reads the parameters of an Authorization value.
    pub fn from_auth_value(v: &AuthValue) -> Result<Self, DigestError> {
        if !v.is_digest() {
            return Err(DigestError::NotDigest(v.scheme().to_owned()));
        }
        let get = |n: &'static str| {
            v.get(n)
                .map(|s| s.into_owned())
                .ok_or(DigestError::MissingParam(n))
        };
        let algorithm = algorithm_of(v)?;
        let qop = match v.get("qop") {
            Some(q) => {
                let qop =
                    Qop::parse(&q).ok_or_else(|| DigestError::UnsupportedQop(q.into_owned()))?;
                let nc = get("nc")?;
                let n = (nc.len() == 8)
                    .then(|| u32::from_str_radix(&nc, 16).ok())
                    .flatten()
                    .ok_or(DigestError::BadNonceCount(nc))?;
                Some((qop, n, get("cnonce")?))
            }
            None => None,
        };
        Ok(Self {
            username: get("username")?,
            realm: get("realm")?,
            nonce: get("nonce")?,
            uri: get("uri")?,
            algorithm,
            qop,
            opaque: v.get("opaque").map(|o| o.into_owned()),
        })
    }
}

/// Checks an Authorization value against the secret: `Ok` when the response is right for
/// this method and body. The nonce itself (freshness, replay) is the server's to check.
pub fn verify(
    credentials: &AuthValue,
    method: &str,
    body: &[u8],
    secret: &Secret<'_>,
) -> Result<DigestCredentials, DigestError> {
    let c = DigestCredentials::from_auth_value(credentials)?;
    let given = credentials
        .get("response")
        .ok_or(DigestError::MissingParam("response"))?;
    let algo = c.algorithm;
    let base = match secret {
        Secret::Password(p) => algo.ha1(&c.username, &c.realm, p),
        Secret::Ha1(h) => h.to_ascii_lowercase(),
    };
    let cnonce = credentials.get("cnonce").unwrap_or_default();
    let ha1 = session_ha1(algo, &base, &c.nonce, &cnonce);
    let nc = c.qop.as_ref().map(|(_, n, _)| format!("{n:08x}"));
    let expected = response(
        algo,
        &ha1,
        &c.nonce,
        c.qop
            .as_ref()
            .zip(nc.as_deref())
            .map(|((q, _, cn), nc)| (*q, nc, cn.as_str())),
        method,
        &c.uri,
        body,
    );
    if constant_time_eq(expected.as_bytes(), given.to_ascii_lowercase().as_bytes()) {
        Ok(c)
    } else {
        Err(DigestError::Mismatch)
    }
}

/// The `algorithm` parameter; MD5 when absent (RFC 2617 §3.2.1).
fn algorithm_of(v: &AuthValue) -> Result<Algorithm, DigestError> {
    match v.get("algorithm") {
        Some(a) => {
            Algorithm::parse(&a).ok_or_else(|| DigestError::UnsupportedAlgorithm(a.into_owned()))
        }
        None => Ok(Algorithm::Md5),
    }
}

fn session_ha1(algo: Algorithm, ha1: &str, nonce: &str, cnonce: &str) -> String {
    if algo.is_sess() {
        algo.hash_parts(&[ha1.as_bytes(), nonce.as_bytes(), cnonce.as_bytes()])
    } else {
        ha1.to_owned()
    }
}

fn response(
    algo: Algorithm,
    ha1: &str,
    nonce: &str,
    qop: Option<(Qop, &str, &str)>,
    method: &str,
    uri: &str,
    body: &[u8],
) -> String {
    let ha2 = match qop {
        Some((Qop::AuthInt, _, _)) => {
            let hbody = algo.hash(body);
            algo.hash_parts(&[method.as_bytes(), uri.as_bytes(), hbody.as_bytes()])
        }
        _ => algo.hash_parts(&[method.as_bytes(), uri.as_bytes()]),
    };
    match qop {
        Some((q, nc, cnonce)) => algo.hash_parts(&[
            ha1.as_bytes(),
            nonce.as_bytes(),
            nc.as_bytes(),
            cnonce.as_bytes(),
            q.as_str().as_bytes(),
            ha2.as_bytes(),
        ]),
        None => algo.hash_parts(&[ha1.as_bytes(), nonce.as_bytes(), ha2.as_bytes()]),
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Compares without an early exit, so that timing does not tell how much of a guess is right.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 2617 §3.5 (HTTP, but the digest is the same computation).
    #[test]
    fn rfc2617_example() {
        let ch = AuthValue::parse(
            r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        )
        .unwrap();
        let ch = DigestChallenge::from_auth_value(&ch).unwrap();
        let client = DigestClient {
            username: "Mufasa",
            password: "Circle Of Life",
            method: "GET",
            uri: "/dir/index.html",
            body: b"",
            cnonce: "0a4f113b",
            nc: 1,
        };
        let a = client.answer(&ch).unwrap();
        assert_eq!(
            a.get("response").unwrap(),
            "6629fae49393a05397450978507c4ef1"
        );
        assert_eq!(a.get("nc").unwrap(), "00000001");
        assert_eq!(a.get("opaque").unwrap(), "5ccc069c403ebaf9f0171e9517f40e41");
    }

    // RFC 7616 §3.9.1, SHA-256 and MD5 answers to the same challenge.
    #[test]
    fn rfc7616_examples() {
        for (algo, expect) in [
            (
                "SHA-256",
                "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            ),
            ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ] {
            let ch = AuthValue::parse(&format!(
                r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={algo}, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#
            ))
            .unwrap();
            let ch = DigestChallenge::from_auth_value(&ch).unwrap();
            let a = DigestClient {
                username: "Mufasa",
                password: "Circle of Life",
                method: "GET",
                uri: "/dir/index.html",
                body: b"",
                cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
                nc: 1,
            }
            .answer(&ch)
            .unwrap();
            assert_eq!(a.get("response").unwrap(), expect, "{algo}");
            assert!(verify(&a, "GET", b"", &Secret::Password("Circle of Life")).is_ok());
        }
    }

    #[test]
    fn every_algorithm_and_qop_round_trips_through_verify() {
        for algo in ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess"] {
            for qop in [None, Some("auth"), Some("auth-int")] {
                let mut s = format!(r#"Digest realm="r", nonce="n1", algorithm={algo}"#);
                if let Some(q) = qop {
                    s.push_str(&format!(r#", qop="{q}""#));
                }
                let ch = DigestChallenge::from_auth_value(&AuthValue::parse(&s).unwrap()).unwrap();
                let body = b"v=0\r\n";
                let a = DigestClient {
                    username: "u",
                    password: "p",
                    method: "INVITE",
                    uri: "sip:b@r",
                    body,
                    cnonce: "c",
                    nc: 7,
                }
                .answer(&ch)
                .unwrap();
                let ok = verify(&a, "INVITE", body, &Secret::Password("p"));
                assert!(ok.is_ok(), "{algo} {qop:?}");
                assert_eq!(
                    verify(&a, "INVITE", body, &Secret::Password("x")),
                    Err(DigestError::Mismatch)
                );
                assert!(verify(&a, "BYE", body, &Secret::Password("p")).is_err());
                let ha1 = Algorithm::parse(algo).unwrap().ha1("u", "r", "p");
                assert!(verify(&a, "INVITE", body, &Secret::Ha1(&ha1)).is_ok());
                if qop == Some("auth-int") {
                    assert!(verify(&a, "INVITE", b"other", &Secret::Password("p")).is_err());
                }
            }
        }
    }

    #[test]
    fn challenge_errors() {
        let p = |s: &str| DigestChallenge::from_auth_value(&AuthValue::parse(s).unwrap());
        assert_eq!(
            p(r#"Digest nonce="x""#),
            Err(DigestError::MissingParam("realm"))
        );
        assert!(matches!(
            p(r#"Digest realm="r", nonce="x", algorithm=SHA-999"#),
            Err(DigestError::UnsupportedAlgorithm(_))
        ));
        assert!(matches!(
            p(r#"Digest realm="r", nonce="x", qop="x-foo""#),
            Err(DigestError::UnsupportedQop(_))
        ));
        assert!(matches!(
            p(r#"Basic realm="r""#),
            Err(DigestError::NotDigest(_))
        ));
        let c = p(r#"Digest realm="r", nonce="x", stale=TRUE"#).unwrap();
        assert!(c.stale);
        let again = DigestChallenge::from_auth_value(&c.to_auth_value()).unwrap();
        assert_eq!(again, c);
    }
}
