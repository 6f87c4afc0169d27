//! Who may authenticate: users and their secrets, from a callback or a file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sip_packet::digest::Algorithm;

/// What the server knows of a user's password.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserSecret {
    /// The password itself: good for every algorithm.
    Password(String),
    /// HA1 = H(user:realm:password) in hex, for the algorithms of `algorithm`'s hash (MD5 and
    /// MD5-sess, or SHA-256 and SHA-256-sess).
    Ha1 {
        /// The algorithm the hash is of.
        algorithm: Algorithm,
        /// The hex digest.
        ha1: String,
    },
}

impl std::fmt::Debug for UserSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets stay out of logs.
        match self {
            Self::Password(_) => f.write_str("Password(..)"),
            Self::Ha1 { algorithm, .. } => write!(f, "Ha1({})", algorithm.as_str()),
        }
    }
}

/// Where an authorizer looks users up (Net::SIP's `user2pass` / `user2a1`).
///
/// A closure `Fn(&str, &str) -> Vec<UserSecret>` (user name, realm) is one.
pub trait UserStore: Send + Sync {
    /// The secrets of `username` in `realm`; empty for an unknown user. Called on the
    /// dispatcher's task: it must not block.
    fn secrets(&self, username: &str, realm: &str) -> Vec<UserSecret>;
}

impl<F> UserStore for F
where
    F: Fn(&str, &str) -> Vec<UserSecret> + Send + Sync,
{
    fn secrets(&self, username: &str, realm: &str) -> Vec<UserSecret> {
        self(username, realm)
    }
}

/// Why a user file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserFileError {
    /// The file cannot be read.
    #[error("cannot read user file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not `user:password` or `user:realm:HA1`.
    #[error("user file line {line}: {reason}")]
    BadLine {
        /// The line number, from 1.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Users from a text file, one per line: `user:password`, or `user:realm:HA1` with HA1 in
/// hex (32 digits: MD5, 64: SHA-256; a user may have one line of each). Blank lines and lines
/// starting with `#` are skipped. A line with three fields whose last is not 32 or 64 hex
/// digits is read as `user:password` with a colon in the password.
///
/// ```
/// use sip_proxy::{UserFile, UserStore};
/// let users = UserFile::parse("# users\nalice:secret\nbob:example.com:0123456789abcdef0123456789abcdef\n").unwrap();
/// assert_eq!(users.len(), 2);
/// assert_eq!(users.secrets("alice", "any.realm").len(), 1);
/// assert_eq!(users.secrets("bob", "example.com").len(), 1);
/// assert!(users.secrets("bob", "other.realm").is_empty());
/// assert!(users.secrets("carol", "example.com").is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct UserFile {
    users: HashMap<String, Vec<(Option<String>, UserSecret)>>,
}

impl UserFile {
    /// Reads a user file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, UserFileError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| UserFileError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Parses the text of a user file.
    pub fn parse(text: &str) -> Result<Self, UserFileError> {
        let mut users: HashMap<String, Vec<_>> = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let bad = |reason| UserFileError::BadLine {
                line: n + 1,
                reason,
            };
            let (user, rest) = line
                .split_once(':')
                .ok_or(bad("expected user:password or user:realm:HA1"))?;
            if user.is_empty() {
                return Err(bad("empty user name"));
            }
            let entry = match rest.split_once(':') {
                Some((realm, ha1)) if is_hex(ha1) && (ha1.len() == 32 || ha1.len() == 64) => {
                    let algorithm = if ha1.len() == 32 {
                        Algorithm::Md5
                    } else {
                        Algorithm::Sha256
                    };
                    (
                        Some(realm.to_owned()),
                        UserSecret::Ha1 {
                            algorithm,
                            ha1: ha1.to_ascii_lowercase(),
                        },
                    )
                }
                _ => (None, UserSecret::Password(rest.to_owned())),
            };
            users.entry(user.to_owned()).or_default().push(entry);
        }
        Ok(Self { users })
    }

    /// How many users there are.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl UserStore for UserFile {
    fn secrets(&self, username: &str, realm: &str) -> Vec<UserSecret> {
        self.users
            .get(username)
            .into_iter()
            .flatten()
            .filter(|(r, _)| r.as_deref().map_or(true, |r| r == realm))
            .map(|(_, s)| s.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_errors() {
        let sha = "a".repeat(64);
        let f = UserFile::parse(&format!(
            "alice:pa:ss\n\n  # comment\nbob:r1:{sha}\nbob:r1:{}\r\n",
            "B".repeat(32)
        ))
        .unwrap();
        assert_eq!(
            f.secrets("alice", "x"),
            [UserSecret::Password("pa:ss".into())]
        );
        let bob = f.secrets("bob", "r1");
        assert_eq!(bob.len(), 2);
        assert!(matches!(
            &bob[0],
            UserSecret::Ha1 {
                algorithm: Algorithm::Sha256,
                ..
            }
        ));
        assert!(
            matches!(&bob[1], UserSecret::Ha1 { algorithm: Algorithm::Md5, ha1 } if ha1 == &"b".repeat(32))
        );
        assert!(matches!(
            UserFile::parse("nocolon"),
            Err(UserFileError::BadLine { line: 1, .. })
        ));
        assert!(matches!(
            UserFile::parse("ok:1\n:pw"),
            Err(UserFileError::BadLine { line: 2, .. })
        ));
        assert!(format!("{:?}", bob[0]).contains("SHA-256"));
        assert!(!format!("{:?}", f.secrets("alice", "x")).contains("pa:ss"));
        let err = UserFile::load("/nonexistent/users")
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/users"), "{err}");
    }
}
