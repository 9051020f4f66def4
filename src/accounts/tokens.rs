//! Signed, expiring links that need no table: password reset and email
//! change. Like Django's `PasswordResetTokenGenerator`, a reset token is an
//! HMAC over the user id, the password hash, the last login and the time,
//! so changing the password or logging in makes every earlier link invalid.

use base64::Engine;

use crate::db::Ts;
use crate::security;

pub const RESET_VALID_HOURS: i64 = 24;
pub const EMAIL_CHANGE_VALID_HOURS: i64 = 72;

fn seconds(now: Ts) -> i64 {
    now.0.timestamp()
}

fn reset_mac(secret: &[u8], user_id: i32, password_hash: &str, last_login: Option<Ts>, issued: i64) -> String {
    let login = last_login
        .map(|t| t.0.timestamp_micros().to_string())
        .unwrap_or_default();
    let message = format!("{user_id}|{password_hash}|{login}|{issued}");
    security::hmac_hex(secret, "practika.password-reset", message.as_bytes())
}

pub fn make_reset_token(secret: &[u8], user_id: i32, password_hash: &str, last_login: Option<Ts>, now: Ts) -> String {
    let issued = seconds(now);
    format!(
        "{issued:x}-{}",
        reset_mac(secret, user_id, password_hash, last_login, issued)
    )
}

pub fn check_reset_token(
    secret: &[u8],
    user_id: i32,
    password_hash: &str,
    last_login: Option<Ts>,
    token: &str,
    now: Ts,
) -> bool {
    let Some((issued, mac)) = token.split_once('-') else {
        return false;
    };
    let Ok(issued) = i64::from_str_radix(issued, 16) else {
        return false;
    };
    let age = seconds(now) - issued;
    if !(0..=RESET_VALID_HOURS * 3600).contains(&age) {
        return false;
    }
    let expected = reset_mac(secret, user_id, password_hash, last_login, issued);
    security::constant_time_eq(expected.as_bytes(), mac.as_bytes())
}

fn email_mac(secret: &[u8], user_id: i32, old_email: &str, new_email: &str, issued: i64) -> String {
    let message = format!("{user_id}|{old_email}|{new_email}|{issued}");
    security::hmac_hex(secret, "practika.email-change", message.as_bytes())
}

/// `(encoded new address, token)` for the confirmation link.
pub fn make_email_token(secret: &[u8], user_id: i32, old_email: &str, new_email: &str, now: Ts) -> (String, String) {
    let issued = seconds(now);
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(new_email.as_bytes());
    (
        encoded,
        format!(
            "{issued:x}-{}",
            email_mac(secret, user_id, old_email, new_email, issued)
        ),
    )
}

/// The new address if the link is genuine, unexpired, and made while the
/// account had the address it has now (so it works once).
pub fn check_email_token(
    secret: &[u8],
    user_id: i32,
    current_email: &str,
    encoded: &str,
    token: &str,
    now: Ts,
) -> Option<String> {
    let new_email = String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded).ok()?).ok()?;
    let (issued, mac) = token.split_once('-')?;
    let issued = i64::from_str_radix(issued, 16).ok()?;
    let age = seconds(now) - issued;
    if !(0..=EMAIL_CHANGE_VALID_HOURS * 3600).contains(&age) {
        return None;
    }
    let expected = email_mac(secret, user_id, current_email, &new_email, issued);
    security::constant_time_eq(expected.as_bytes(), mac.as_bytes()).then_some(new_email)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test-secret-test-secret-test-secret";

    #[test]
    fn reset_tokens_expire_and_die_with_the_password_or_a_login() {
        let now = Ts::now();
        let token = make_reset_token(SECRET, 1, "hash-a", None, now);
        assert!(check_reset_token(SECRET, 1, "hash-a", None, &token, now));
        assert!(!check_reset_token(SECRET, 2, "hash-a", None, &token, now));
        assert!(
            !check_reset_token(SECRET, 1, "hash-b", None, &token, now),
            "password changed"
        );
        assert!(
            !check_reset_token(SECRET, 1, "hash-a", Some(now), &token, now),
            "logged in since"
        );
        let later = Ts(now.0 + chrono::Duration::hours(RESET_VALID_HOURS) + chrono::Duration::seconds(1));
        assert!(!check_reset_token(SECRET, 1, "hash-a", None, &token, later), "expired");
        assert!(!check_reset_token(SECRET, 1, "hash-a", None, "zz-00", now));
    }

    #[test]
    fn email_tokens_work_once() {
        let now = Ts::now();
        let (encoded, token) = make_email_token(SECRET, 1, "old@example.com", "new@example.com", now);
        assert_eq!(
            check_email_token(SECRET, 1, "old@example.com", &encoded, &token, now).as_deref(),
            Some("new@example.com")
        );
        assert_eq!(
            check_email_token(SECRET, 1, "new@example.com", &encoded, &token, now),
            None,
            "already changed"
        );
        let (other, _) = make_email_token(SECRET, 1, "old@example.com", "evil@example.com", now);
        assert_eq!(
            check_email_token(SECRET, 1, "old@example.com", &other, &token, now),
            None,
            "address swapped"
        );
    }
}
