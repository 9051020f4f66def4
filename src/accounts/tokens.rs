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

/// The signature of a digest's one-click unsubscribe link: bound to the
/// user and to this one purpose, with no expiry (a mail program may offer
/// the link long after the email came, RFC 8058), and authenticating the
/// POST on its own (no login, no CSRF token: the secret signs it).
pub fn unsubscribe_token(secret: &[u8], user_id: i32) -> String {
    security::hmac_hex(secret, "practika.digest-unsubscribe", user_id.to_string().as_bytes())
}

pub fn check_unsubscribe_token(secret: &[u8], user_id: i32, token: &str) -> bool {
    let expected = unsubscribe_token(secret, user_id);
    security::constant_time_eq(expected.as_bytes(), token.as_bytes())
}

/// The signature of a data export's download link: that export, its owner
/// and its expiry (seconds), for nothing else.
pub fn export_token(secret: &[u8], export_id: &str, user_id: i32, expires: Ts) -> String {
    let message = format!("{export_id}|{user_id}|{}", seconds(expires));
    security::hmac_hex(secret, "practika.data-export", message.as_bytes())
}

pub fn check_export_token(secret: &[u8], export_id: &str, user_id: i32, expires: Ts, token: &str) -> bool {
    let expected = export_token(secret, export_id, user_id, expires);
    security::constant_time_eq(expected.as_bytes(), token.as_bytes())
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

    #[test]
    fn unsubscribe_and_export_tokens_are_bound_to_their_user_and_purpose() {
        let token = unsubscribe_token(SECRET, 7);
        assert!(check_unsubscribe_token(SECRET, 7, &token));
        assert!(!check_unsubscribe_token(SECRET, 8, &token), "another user");
        assert!(!check_unsubscribe_token(b"another-secret-another-secret-xx", 7, &token));
        let mut tampered = token.clone();
        tampered.replace_range(0..1, if token.starts_with('0') { "1" } else { "0" });
        assert!(!check_unsubscribe_token(SECRET, 7, &tampered));
        let expires = Ts::now();
        let export = export_token(SECRET, "abc", 7, expires);
        assert!(check_export_token(SECRET, "abc", 7, expires, &export));
        assert!(!check_export_token(SECRET, "abd", 7, expires, &export));
        assert!(!check_export_token(SECRET, "abc", 8, expires, &export));
        let later = Ts(expires.0 + chrono::Duration::days(1));
        assert!(!check_export_token(SECRET, "abc", 7, later, &export), "another expiry");
        assert_ne!(export, unsubscribe_token(SECRET, 7));
    }
}
