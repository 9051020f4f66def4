//! Small cryptographic helpers shared by sessions, CSRF and tokens.

use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// `bytes` random bytes, URL-safe base64 without padding.
pub fn random_token(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut raw);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// HMAC-SHA256 of `message` under a key derived from the secret for one
/// `purpose`, so that a value made for one use is worthless for another.
pub fn hmac_hex(secret: &[u8], purpose: &str, message: &[u8]) -> String {
    let mut key = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    key.update(purpose.as_bytes());
    let derived = key.finalize().into_bytes();
    let mut mac = Hmac::<Sha256>::new_from_slice(&derived).expect("HMAC takes keys of any length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_url_safe() {
        let a = random_token(32);
        assert_ne!(a, random_token(32));
        assert_eq!(a.len(), 43);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn hmac_depends_on_purpose() {
        assert_ne!(hmac_hex(b"k", "a", b"m"), hmac_hex(b"k", "b", b"m"));
        assert!(constant_time_eq(
            hmac_hex(b"k", "a", b"m").as_bytes(),
            hmac_hex(b"k", "a", b"m").as_bytes()
        ));
    }
}
