//! Answering 401 and 407 challenges (RFC 3261 §22.2), as Net::SIP's `auth`: credentials
//! by user and password or by a callback per realm, and the rule that keeps a wrong password
//! from looping: a realm is answered once, and again only when the server says the nonce was
//! merely stale.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use sip_packet::digest::DigestChallenge;
use sip_packet::{BuildError, CSeq, HeaderName, Request, Response};

type RealmCallback = dyn Fn(&str) -> Option<(String, String)> + Send + Sync;

/// What we answer challenges with.
#[derive(Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// One user and password for every realm.
    UserPassword {
        /// The user name.
        user: String,
        /// The password.
        password: String,
    },
    /// Asked for (user, password) per realm; `None` leaves that realm unanswered.
    PerRealm(Arc<RealmCallback>),
}

impl Credentials {
    /// One user and password for every realm.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self::UserPassword {
            user: user.into(),
            password: password.into(),
        }
    }

    /// A callback asked per realm.
    pub fn per_realm(f: impl Fn(&str) -> Option<(String, String)> + Send + Sync + 'static) -> Self {
        Self::PerRealm(Arc::new(f))
    }

    /// The user and password for `realm`.
    pub fn lookup(&self, realm: &str) -> Option<(String, String)> {
        match self {
            Self::UserPassword { user, password } => Some((user.clone(), password.clone())),
            Self::PerRealm(f) => f(realm),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UserPassword { user, .. } => f
                .debug_struct("UserPassword")
                .field("user", user)
                .field("password", &"...")
                .finish(),
            Self::PerRealm(_) => f.write_str("PerRealm(..)"),
        }
    }
}

/// Why a challenge is not answered (the challenged response then goes to the application).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No credentials were given, or none for any realm challenged.
    #[error("no credentials for the realms challenged")]
    NoCredentials,
    /// Every realm challenged was answered before and the nonce is not stale: the
    /// credentials were refused.
    #[error("the credentials were refused")]
    Refused,
    /// More rounds than allowed (a server that keeps challenging with stale nonces).
    #[error("gave up after {0} rounds of challenges")]
    TooManyRounds(u32),
    /// The challenge or the request could not be used.
    #[error("cannot answer the challenge: {0}")]
    Build(#[from] BuildError),
}

/// The challenges a request has answered so far, across its retries.
#[derive(Debug, Clone, Default)]
pub struct AuthSession {
    realms: HashSet<String>,
    nonces: HashSet<String>,
    rounds: u32,
}

/// How many times one request is resent with credentials at most.
const MAX_ROUNDS: u32 = 5;

impl AuthSession {
    /// No challenge answered yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many times the request was resent with credentials.
    pub fn rounds(&self) -> u32 {
        self.rounds
    }

    /// Answers the challenges of `response` (401 or 407) on `request`, the request as it was
    /// last sent without its Via: adds Authorization or Proxy-Authorization and sets the CSeq
    /// to `cseq` (§22.2: a new request, so a new CSeq). A realm is answered if it was not
    /// answered before, or when its challenge says `stale=true` with a nonce not seen before.
    pub fn authorize(
        &mut self,
        request: &mut Request,
        response: &Response,
        credentials: Option<&Credentials>,
        cnonce: &str,
        cseq: u32,
    ) -> Result<(), AuthError> {
        let credentials = credentials.ok_or(AuthError::NoCredentials)?;
        if self.rounds >= MAX_ROUNDS {
            return Err(AuthError::TooManyRounds(self.rounds));
        }
        let challenges: Vec<DigestChallenge> = match response.status() {
            401 => response.headers().www_authenticate().collect::<Vec<_>>(),
            407 => response.headers().proxy_authenticate().collect::<Vec<_>>(),
            other => return Err(BuildError::WrongStatus(other).into()),
        }
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|v| DigestChallenge::from_auth_value(&v).ok())
        .collect();
        let mut accepted: Vec<(String, String)> = Vec::new();
        let mut known_realm = false;
        for c in &challenges {
            if credentials.lookup(&c.realm).is_none() {
                continue;
            }
            known_realm = true;
            let fresh = !self.realms.contains(&c.realm);
            let stale_retry = c.stale && !self.nonces.contains(&c.nonce);
            if fresh || stale_retry {
                accepted.push((c.realm.clone(), c.nonce.clone()));
            }
        }
        if !known_realm {
            return Err(AuthError::NoCredentials);
        }
        if accepted.is_empty() {
            return Err(AuthError::Refused);
        }
        let realms: HashSet<&str> = accepted.iter().map(|(r, _)| r.as_str()).collect();
        // The digest covers the method and Request-URI only, so the CSeq may change first.
        let method = request.method().clone();
        request
            .headers_mut()
            .set(HeaderName::CSeq, CSeq::new(cseq, method).to_string());
        let answered = request.authorize(
            response,
            |realm| {
                if realms.contains(realm) {
                    credentials.lookup(realm)
                } else {
                    None
                }
            },
            cnonce,
            1,
        )?;
        if answered == 0 {
            return Err(AuthError::NoCredentials);
        }
        for (realm, nonce) in accepted {
            self.realms.insert(realm);
            self.nonces.insert(nonce);
        }
        self.rounds += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sip_packet::digest::{verify, Secret};
    use sip_packet::{AuthValue, Message};

    fn request() -> Request {
        let raw = "REGISTER sip:registrar.example.com SIP/2.0\r\n\
                   Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
                   From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:alice@example.com>\r\n\
                   Call-ID: r1\r\nCSeq: 1 REGISTER\r\n\r\n";
        match Message::parse(raw.into()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => unreachable!(),
        }
    }

    fn challenge(req: &Request, status: u16, realm: &str, nonce: &str, stale: bool) -> Response {
        let mut r = Response::from_request(req, status, None);
        let name = if status == 401 {
            "WWW-Authenticate"
        } else {
            "Proxy-Authenticate"
        };
        let stale = if stale { ", stale=true" } else { "" };
        r.headers_mut().add(
            name,
            format!("Digest realm=\"{realm}\", nonce=\"{nonce}\", qop=\"auth\"{stale}"),
        );
        r
    }

    fn check(req: &Request, header: &str, password: &str) -> bool {
        let v = AuthValue::parse(req.headers().get(header).unwrap()).unwrap();
        verify(
            &v,
            req.method().as_str(),
            req.body(),
            &Secret::Password(password),
        )
        .is_ok()
    }

    #[test]
    fn answers_once_per_realm_and_counts_the_cseq_up() {
        let creds = Credentials::new("alice", "secret");
        let mut session = AuthSession::new();
        let mut req = request();
        let c401 = challenge(&req, 401, "example.com", "n1", false);
        session
            .authorize(&mut req, &c401, Some(&creds), "cn", 2)
            .unwrap();
        assert_eq!(req.headers().cseq().unwrap().to_string(), "2 REGISTER");
        assert!(check(&req, "Authorization", "secret"));
        // The same realm challenged again with a new nonce: the password was wrong.
        let again = challenge(&req, 401, "example.com", "n2", false);
        assert_eq!(
            session.authorize(&mut req, &again, Some(&creds), "cn", 3),
            Err(AuthError::Refused)
        );
        assert_eq!(session.rounds(), 1);
    }

    #[test]
    fn stale_nonce_is_answered_again_but_not_the_same_nonce_twice() {
        let creds = Credentials::new("alice", "secret");
        let mut session = AuthSession::new();
        let mut req = request();
        let first = challenge(&req, 407, "proxy", "n1", false);
        session
            .authorize(&mut req, &first, Some(&creds), "cn", 2)
            .unwrap();
        let stale = challenge(&req, 407, "proxy", "n2", true);
        session
            .authorize(&mut req, &stale, Some(&creds), "cn", 3)
            .unwrap();
        assert!(check(&req, "Proxy-Authorization", "secret"));
        assert_eq!(req.headers().count("Proxy-Authorization"), 1);
        let stale_again = challenge(&req, 407, "proxy", "n2", true);
        assert_eq!(
            session.authorize(&mut req, &stale_again, Some(&creds), "cn", 4),
            Err(AuthError::Refused)
        );
    }

    #[test]
    fn callback_per_realm_and_missing_credentials() {
        let creds = Credentials::per_realm(|realm| {
            (realm == "known").then(|| ("bob".to_owned(), "pw".to_owned()))
        });
        let mut req = request();
        let unknown = challenge(&req, 401, "other", "n1", false);
        assert_eq!(
            AuthSession::new().authorize(&mut req, &unknown, Some(&creds), "cn", 2),
            Err(AuthError::NoCredentials)
        );
        assert_eq!(
            AuthSession::new().authorize(&mut req, &unknown, None, "cn", 2),
            Err(AuthError::NoCredentials)
        );
        let known = challenge(&req, 401, "known", "n1", false);
        AuthSession::new()
            .authorize(&mut req, &known, Some(&creds), "cn", 2)
            .unwrap();
        assert!(check(&req, "Authorization", "pw"));
        assert!(!format!("{creds:?}").contains("pw"));
    }
}
