//! WAMP-CRA: the challenge (a JSON string), the HMAC-SHA256 signature, and
//! PBKDF2 key derivation for salted secrets, compatible with Autobahn and
//! Crossbar.io.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use wamp_proto::{Dict, Id, Value};

use super::config::CraSalt;

/// Derives the WAMP-CRA key of a salted secret: the base64 (standard, with
/// padding) of PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen), as
/// Autobahn's `derive_key`. The HMAC key is that base64 text's bytes.
pub fn derive_key(secret: &str, salt: &str, iterations: u32, keylen: usize) -> String {
    let mut key = vec![0u8; keylen];
    pbkdf2::pbkdf2_hmac::<Sha256>(secret.as_bytes(), salt.as_bytes(), iterations, &mut key);
    base64::engine::general_purpose::STANDARD.encode(key)
}

/// The WAMP-CRA signature of a challenge: base64(HMAC-SHA256(key, challenge)),
/// as Autobahn's `compute_wcs`.
pub fn compute_wcs(key: &[u8], challenge: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(challenge.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// What the router needs to challenge one WAMP-CRA user.
pub(crate) struct Challenge {
    /// CHALLENGE.Extra: `challenge`, and `salt`, `iterations`, `keylen`.
    pub extra: Dict,
    /// The signature the client must send.
    pub expected: String,
}

/// Builds a challenge for `authid` (Crossbar's format: a JSON object with
/// authid, authrole, authmethod, authprovider, session, nonce, timestamp).
pub(crate) fn challenge(
    authid: &str,
    authrole: &str,
    authprovider: &str,
    session: Id,
    secret: &str,
    salt: Option<&CraSalt>,
) -> Challenge {
    let nonce: [u8; 48] = rand::random();
    let text = serde_json::json!({
        "authid": authid,
        "authrole": authrole,
        "authmethod": "wampcra",
        "authprovider": authprovider,
        "session": session,
        "nonce": base64::engine::general_purpose::STANDARD.encode(nonce),
        "timestamp": utc_timestamp(),
    })
    .to_string();
    let mut extra = Dict::new();
    extra.insert("challenge".into(), Value::Str(text.clone()));
    let key = match salt {
        Some(s) => {
            extra.insert("salt".into(), Value::Str(s.salt.clone()));
            extra.insert("iterations".into(), Value::UInt(s.iterations.into()));
            extra.insert("keylen".into(), Value::UInt(s.keylen.into()));
            derive_key(secret, &s.salt, s.iterations, s.keylen as usize)
        }
        None => secret.to_owned(),
    };
    Challenge {
        extra,
        expected: compute_wcs(key.as_bytes(), &text),
    }
}

/// Now, as the challenge's `timestamp`: `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC).
fn utc_timestamp() -> String {
    crate::meta::iso8601(std::time::SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_has_the_iso_shape() {
        let t = utc_timestamp();
        assert_eq!(t.len(), 24, "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z'), "{t}");
    }

    #[test]
    fn derive_key_matches_autobahn() {
        // autobahn.wamp.auth.derive_key("secret1", "salt123", 100, 16)
        assert_eq!(
            derive_key("secret1", "salt123", 100, 16),
            "prq7+YkJ1/KlW1X0YczMHw=="
        );
    }

    #[test]
    fn signature_matches_autobahn() {
        // autobahn.wamp.auth.compute_wcs(b"secret1", b"hello")
        assert_eq!(
            compute_wcs(b"secret1", "hello"),
            "qgeRM+qADhP46mwcgXTueDVLIA/izmrF6GXTqQCA1t0="
        );
    }
}
