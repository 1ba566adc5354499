//! Client authentication: the credentials a session offers when it joins.
//!
//! [`SessionConfig::auth`](crate::SessionConfig::auth) lists
//! [`Credentials`], offered together in HELLO (`authmethods`, in that
//! order, with the config's `authid`, `authrole` and `authextra`); the
//! router picks one and sends CHALLENGE, which the matching credentials
//! answer:
//!
//! - `ticket`: the ticket itself.
//! - `wampcra`: base64(HMAC-SHA256(key, challenge)), where the key is the
//!   secret or, when the challenge carries `salt`, `iterations` and
//!   `keylen`, [`derive_key`] of it (PBKDF2-HMAC-SHA256, as Autobahn).
//! - `cryptosign`: hex(Ed25519 signature of the 32-byte challenge ||
//!   challenge); HELLO carries the public key as `authextra.pubkey`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wamp::Error> {
//! use wamp::auth::{CryptosignKey, Credentials};
//! use wamp::{Session, SessionConfig};
//!
//! let key = CryptosignKey::from_hex("4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510")
//!     .expect("a 32-byte hex seed");
//! let config = SessionConfig::default()
//!     .with_authid("alice")
//!     .with_credentials(Credentials::Cryptosign(key))
//!     .with_credentials(Credentials::ticket("alice's ticket"));
//! let session = Session::connect_with("ws://127.0.0.1:8080/ws", "realm1", config).await?;
//! println!("{:?} as {:?}", session.details().authid, session.details().authrole);
//! # Ok(()) }
//! ```

use std::fmt;

use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use wamp_proto::{Dict, Value};

/// Credentials for one authentication method.
#[derive(Clone)]
pub enum Credentials {
    /// `anonymous`: no secret.
    Anonymous,
    /// `ticket`: a ticket (shared secret), sent as is.
    Ticket(String),
    /// `wampcra`: the secret (password). Salting is handled as the
    /// router's CHALLENGE says.
    WampCra(String),
    /// `cryptosign`: an Ed25519 private key.
    Cryptosign(CryptosignKey),
}

impl Credentials {
    /// `ticket` credentials.
    pub fn ticket(ticket: impl Into<String>) -> Self {
        Credentials::Ticket(ticket.into())
    }

    /// `wampcra` credentials.
    pub fn wampcra(secret: impl Into<String>) -> Self {
        Credentials::WampCra(secret.into())
    }

    /// `cryptosign` credentials from a private key in hex (the 32-byte seed,
    /// as Autobahn and Crossbar.io write it).
    pub fn cryptosign_hex(private_key: &str) -> Result<Self, InvalidKey> {
        Ok(Credentials::Cryptosign(CryptosignKey::from_hex(private_key)?))
    }

    /// The method's wire name.
    pub fn method(&self) -> &'static str {
        match self {
            Credentials::Anonymous => "anonymous",
            Credentials::Ticket(_) => "ticket",
            Credentials::WampCra(_) => "wampcra",
            Credentials::Cryptosign(_) => "cryptosign",
        }
    }

    /// What these credentials add to HELLO.Details.authextra.
    pub(crate) fn add_authextra(&self, extra: &mut Dict) {
        if let Credentials::Cryptosign(key) = self {
            extra
                .entry("pubkey".into())
                .or_insert_with(|| Value::Str(key.public_key_hex()));
        }
    }

    /// The AUTHENTICATE signature answering CHALLENGE.Extra `extra`.
    pub(crate) fn respond(&self, extra: &Dict) -> Result<String, String> {
        match self {
            Credentials::Anonymous => Err("anonymous authentication takes no challenge".into()),
            Credentials::Ticket(ticket) => Ok(ticket.clone()),
            Credentials::WampCra(secret) => {
                let challenge = extra
                    .get("challenge")
                    .and_then(Value::as_str)
                    .ok_or("WAMP-CRA challenge without a \"challenge\" string")?;
                let key = match extra.get("salt").filter(|s| !s.is_null()) {
                    None => secret.clone(),
                    Some(salt) => {
                        let salt = salt.as_str().ok_or("WAMP-CRA \"salt\" is not a string")?;
                        let number = |k: &str, default: u64| match extra.get(k) {
                            None | Some(Value::Null) => Ok(default),
                            Some(v) => v.as_u64().ok_or(format!("WAMP-CRA \"{k}\" is not an integer")),
                        };
                        let iterations = u32::try_from(number("iterations", 1000)?)
                            .map_err(|_| "WAMP-CRA \"iterations\" is too large")?;
                        let keylen = number("keylen", 32)?;
                        if keylen == 0 || keylen > 1024 {
                            return Err(format!("WAMP-CRA \"keylen\" {keylen} is out of range"));
                        }
                        derive_key(secret, salt, iterations, keylen as usize)
                    }
                };
                Ok(compute_wcs(key.as_bytes(), challenge))
            }
            Credentials::Cryptosign(key) => {
                if let Some(binding) = extra.get("channel_binding").filter(|b| !b.is_null()) {
                    return Err(format!("channel binding {binding} is not supported"));
                }
                let challenge = extra
                    .get("challenge")
                    .and_then(Value::as_str)
                    .ok_or("cryptosign challenge without a \"challenge\" string")?;
                key.sign_challenge(challenge)
            }
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Anonymous => f.write_str("Anonymous"),
            Credentials::Ticket(_) => f.write_str("Ticket(<redacted>)"),
            Credentials::WampCra(_) => f.write_str("WampCra(<redacted>)"),
            Credentials::Cryptosign(k) => f.debug_tuple("Cryptosign").field(k).finish(),
        }
    }
}

/// A private key given in the wrong form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cryptosign private key: {0}")]
pub struct InvalidKey(String);

/// An Ed25519 key for WAMP-Cryptosign.
#[derive(Clone)]
pub struct CryptosignKey {
    key: SigningKey,
}

impl CryptosignKey {
    /// A key from its 32-byte seed in hex (64 characters), the form
    /// Autobahn's `privkey` and Crossbar.io's key files use.
    pub fn from_hex(private_key: &str) -> Result<Self, InvalidKey> {
        let bytes = hex::decode(private_key.trim()).map_err(|e| InvalidKey(format!("not hex: {e}")))?;
        let seed: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| InvalidKey(format!("{} bytes, expected 32", b.len())))?;
        Ok(Self::from_seed(seed))
    }

    /// A key from its 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        CryptosignKey {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// A new random key.
    pub fn generate() -> Self {
        Self::from_seed(rand::random())
    }

    /// The seed in hex (keep it secret).
    pub fn private_key_hex(&self) -> String {
        hex::encode(self.key.to_bytes())
    }

    /// The public key in hex, as routers list it in `authorized_keys`.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.verifying_key().to_bytes())
    }

    /// Signs a cryptosign challenge (64 hex characters): hex of the
    /// signature followed by the challenge.
    pub fn sign_challenge(&self, challenge_hex: &str) -> Result<String, String> {
        let challenge =
            hex::decode(challenge_hex).map_err(|_| "cryptosign challenge is not hex".to_owned())?;
        if challenge.len() != 32 {
            return Err(format!(
                "cryptosign challenge has {} bytes, expected 32",
                challenge.len()
            ));
        }
        let signature = self.key.sign(&challenge);
        Ok(hex::encode(signature.to_bytes()) + challenge_hex)
    }
}

impl fmt::Debug for CryptosignKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CryptosignKey")
            .field("public_key", &self.public_key_hex())
            .finish_non_exhaustive()
    }
}

/// Derives the WAMP-CRA key of a salted secret: base64 of
/// PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen), as Autobahn's
/// `derive_key`. The HMAC key is that base64 text.
pub fn derive_key(secret: &str, salt: &str, iterations: u32, keylen: usize) -> String {
    let mut key = vec![0u8; keylen];
    pbkdf2::pbkdf2_hmac::<Sha256>(secret.as_bytes(), salt.as_bytes(), iterations, &mut key);
    base64::engine::general_purpose::STANDARD.encode(key)
}

/// The WAMP-CRA signature: base64(HMAC-SHA256(key, challenge)), as
/// Autobahn's `compute_wcs`.
pub fn compute_wcs(key: &[u8], challenge: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(challenge.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wampcra_matches_autobahn() {
        // autobahn.wamp.auth.derive_key / compute_wcs
        assert_eq!(
            derive_key("secret1", "salt123", 100, 16),
            "prq7+YkJ1/KlW1X0YczMHw=="
        );
        assert_eq!(
            compute_wcs(b"secret1", "hello"),
            "qgeRM+qADhP46mwcgXTueDVLIA/izmrF6GXTqQCA1t0="
        );
        let mut extra = Dict::new();
        extra.insert("challenge".into(), Value::Str("hello".into()));
        let creds = Credentials::wampcra("secret1");
        assert_eq!(creds.respond(&extra).unwrap(), compute_wcs(b"secret1", "hello"));
        extra.insert("salt".into(), Value::Str("salt123".into()));
        extra.insert("iterations".into(), Value::UInt(100));
        extra.insert("keylen".into(), Value::UInt(16));
        assert_eq!(
            creds.respond(&extra).unwrap(),
            compute_wcs(b"prq7+YkJ1/KlW1X0YczMHw==", "hello")
        );
    }

    #[test]
    fn cryptosign_matches_pynacl() {
        // PyNaCl: SigningKey(bytes(range(32))), signing 32 bytes of 07.
        let key = CryptosignKey::from_seed(std::array::from_fn(|i| i as u8));
        assert_eq!(
            key.public_key_hex(),
            "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
        );
        let challenge = "07".repeat(32);
        assert_eq!(
            key.sign_challenge(&challenge).unwrap(),
            "b6c8790330ad9053c84b389fa82359a9bcea86f90f6efdd6b798e57591cb1860\
             d740744e07db8a39cc94b4faa6b540dd285f7cb2641b931965c47cd468f7ae04"
                .to_owned()
                + &challenge
        );
        assert_eq!(
            CryptosignKey::from_hex(&key.private_key_hex())
                .unwrap()
                .public_key_hex(),
            key.public_key_hex()
        );
        assert!(CryptosignKey::from_hex("abcd").is_err());
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let s = format!(
            "{:?}",
            [Credentials::ticket("t0p"), Credentials::wampcra("s3cret")]
        );
        assert!(!s.contains("t0p") && !s.contains("s3cret"), "{s}");
    }
}
