//! Password hashes in Django's formats.
//!
//! New hashes are argon2id, written the way Django's `Argon2PasswordHasher`
//! writes them (`argon2$argon2id$v=19$m=..,t=..,p=..$salt$hash`), so the
//! Django app could verify them if it ever had to come back. Existing
//! `pbkdf2_sha256$...` and `argon2$...` hashes verify and are replaced at the
//! next successful login. A hash starting with `!` is Django's unusable
//! password and never matches. These functions are CPU-heavy on purpose:
//! call them off the async executor.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use sha2::Sha256;

use crate::security::constant_time_eq;

const DJANGO_ARGON2_PREFIX: &str = "argon2";
const PBKDF2_PREFIX: &str = "pbkdf2_sha256$";

/// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let phc = hasher()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))?;
    Ok(format!("{DJANGO_ARGON2_PREFIX}{phc}"))
}

pub fn verify(password: &str, encoded: &str) -> bool {
    if encoded.starts_with('!') || encoded.is_empty() {
        return false;
    }
    if let Some(phc) = encoded
        .strip_prefix(DJANGO_ARGON2_PREFIX)
        .filter(|rest| rest.starts_with("$argon2"))
    {
        return match PasswordHash::new(phc) {
            // The parameters, variant and version come from the hash itself.
            Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        };
    }
    if let Some(rest) = encoded.strip_prefix(PBKDF2_PREFIX) {
        return verify_pbkdf2(password, rest);
    }
    false
}

fn verify_pbkdf2(password: &str, rest: &str) -> bool {
    let mut parts = rest.splitn(3, '$');
    let (Some(iterations), Some(salt), Some(expected)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(iterations) = iterations.parse::<u32>() else {
        return false;
    };
    if iterations == 0 || iterations > 10_000_000 {
        return false;
    }
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(expected) else {
        return false;
    };
    if expected.is_empty() || expected.len() > 64 {
        return false;
    }
    let mut derived = vec![0u8; expected.len()];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt.as_bytes(), iterations, &mut derived);
    constant_time_eq(&derived, &expected)
}

/// Whether a hash that just verified should be replaced by a current one.
pub fn needs_rehash(encoded: &str) -> bool {
    let Some(phc) = encoded.strip_prefix(DJANGO_ARGON2_PREFIX) else {
        return true;
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    let current = hasher();
    let params = current.params();
    parsed.algorithm.as_str() != "argon2id"
        || parsed.version != Some(0x13)
        || Params::try_from(&parsed).map_or(true, |p| {
            p.m_cost() != params.m_cost() || p.t_cost() != params.t_cost() || p.p_cost() != params.p_cost()
        })
}

/// A real hash of nothing anyone knows, verified when the user does not
/// exist so that "unknown user" takes as long as "wrong password".
pub fn dummy_verify(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let encoded = DUMMY.get_or_init(|| hash("practika-timing-equaliser").unwrap_or_default());
    let _ = verify(password, encoded);
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made the way Django's hashers make them (hashlib's pbkdf2_hmac with
    // 870000 iterations; argon2-cffi with Django's parameters), for "correct horse".
    pub const DJANGO_PBKDF2: &str =
        "pbkdf2_sha256$870000$cJ8Yq1Lw9ZxS3vFQmT0aNd$1A47pumATaN/Tyx8dbMS2crqm1+0RHkDcO1w2/YvlbA=";
    pub const DJANGO_ARGON2: &str =
        "argon2$argon2id$v=19$m=102400,t=2,p=8$wOVjkKShZnqDOBskb2KFnQ$zHYUdvjVS+ZQsVbKZ8zj3bcCKwMyJpRMB8CWAbHcZis";

    #[test]
    fn new_hashes_use_djangos_argon2_format() -> anyhow::Result<()> {
        let encoded = hash("correct horse battery")?;
        assert!(
            encoded.starts_with("argon2$argon2id$v=19$m=19456,t=2,p=1$"),
            "{encoded}"
        );
        assert!(verify("correct horse battery", &encoded));
        assert!(!verify("wrong", &encoded));
        assert!(!needs_rehash(&encoded));
        Ok(())
    }

    #[test]
    fn django_hashes_verify_and_want_upgrading() {
        for encoded in [DJANGO_PBKDF2, DJANGO_ARGON2] {
            assert!(verify("correct horse", encoded), "{encoded}");
            assert!(!verify("correct horsf", encoded), "{encoded}");
            assert!(needs_rehash(encoded), "{encoded}");
        }
    }

    #[test]
    fn unusable_and_garbage_never_match() {
        assert!(!verify("", "!abc"));
        assert!(!verify("x", "md5$x$y"));
        assert!(!verify("x", "pbkdf2_sha256$0$salt$AAAA"));
        assert!(!verify("x", "argon2$nonsense"));
    }
}
