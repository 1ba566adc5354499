//! WAMP-Cryptosign: a random 32-byte challenge, answered with the Ed25519
//! signature of it followed by the challenge itself (96 bytes, hex), as
//! Autobahn signs and Crossbar.io verifies.

use ed25519_dalek::{Signature, VerifyingKey};
use wamp_proto::{Dict, Value};

/// A fresh challenge: the raw bytes and CHALLENGE.Extra.
pub(crate) fn challenge() -> ([u8; 32], Dict) {
    let challenge: [u8; 32] = rand::random();
    let mut extra = Dict::new();
    extra.insert("challenge".into(), Value::Str(hex::encode(challenge)));
    extra.insert("channel_binding".into(), Value::Null);
    (challenge, extra)
}

/// Parses a public key in hex.
pub(crate) fn public_key(hex_key: &str) -> Result<VerifyingKey, String> {
    let bytes = hex::decode(hex_key.trim()).map_err(|e| format!("public key is not hex: {e}"))?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("public key has {} bytes, not 32", b.len()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| format!("invalid public key: {e}"))
}

/// Checks AUTHENTICATE.Signature: hex of signature (64 bytes) || challenge (32 bytes).
pub(crate) fn verify(key: &VerifyingKey, challenge: &[u8; 32], signature: &str) -> Result<(), String> {
    let signed = hex::decode(signature.trim()).map_err(|_| "signed message is not hex".to_owned())?;
    if signed.len() != 96 {
        return Err(format!(
            "signed message has invalid length (was {}, but should have been 96)",
            signed.len()
        ));
    }
    let (sig, message) = signed.split_at(64);
    if message != challenge {
        return Err("message signed is not the challenge".into());
    }
    let sig = Signature::from_slice(sig).map_err(|_| "signed message has invalid signature".to_owned())?;
    key.verify_strict(message, &sig)
        .map_err(|_| "signed message has invalid signature".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    // A key made by PyNaCl from the seed 00 01 .. 1f, and its signature of
    // 32 bytes of 07 (PyNaCl's signed message: signature || message).
    const PUBLIC: &str = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
    const SIGNED: &str = "b6c8790330ad9053c84b389fa82359a9bcea86f90f6efdd6b798e57591cb1860\
                          d740744e07db8a39cc94b4faa6b540dd285f7cb2641b931965c47cd468f7ae04\
                          0707070707070707070707070707070707070707070707070707070707070707";

    #[test]
    fn verifies_a_pynacl_signature() {
        let key = public_key(PUBLIC).unwrap();
        verify(&key, &[7; 32], SIGNED).unwrap();
        assert!(verify(&key, &[8; 32], SIGNED).is_err());
        let mut bad = SIGNED.to_owned();
        bad.replace_range(0..2, "b7");
        assert!(verify(&key, &[7; 32], &bad).is_err());
        assert!(verify(&key, &[7; 32], &SIGNED[..128]).is_err());
    }

    #[test]
    fn challenges_are_fresh_hex() {
        let (a, extra) = challenge();
        let (b, _) = challenge();
        assert_ne!(a, b);
        assert_eq!(extra["challenge"].as_str().unwrap(), hex::encode(a));
    }
}
