//! Raw form input and its parsing into checked values. An invalid form is
//! shown again (status 422) with one message per problem, next to its field.

use serde::Deserialize;

pub const MIN_PASSWORD_LEN: usize = 10;

/// Passwords of at least ten characters from Django's list of 20,000 common
/// passwords (`django/contrib/auth/common-passwords.txt.gz`, BSD licence);
/// shorter ones are refused by the length rule anyway.
const COMMON_PASSWORDS: &str = include_str!("data/common-passwords.txt");

/// Field name → message, in the order the fields appear on the page.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(pub Vec<(&'static str, String)>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push((field, message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages for one field (templates call this).
    pub fn of(&self, field: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
            .collect()
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|(f, _)| *f == field)
    }
}

/// The password rules, one message per rule broken.
pub fn password_problems(password: &str, username: &str, email: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if password.chars().count() < MIN_PASSWORD_LEN {
        problems.push(format!("Use at least {MIN_PASSWORD_LEN} characters."));
    }
    if !password.is_empty() && password.chars().all(|c| c.is_ascii_digit()) {
        problems.push("Use more than digits: add letters or symbols.".to_owned());
    }
    if too_similar(password, username) || too_similar(password, email.split('@').next().unwrap_or_default()) {
        problems.push("Choose a password that is not like your username or email address.".to_owned());
    }
    let lowered = password.trim().to_lowercase();
    if COMMON_PASSWORDS.lines().any(|common| common == lowered) {
        problems.push("This password is one of the most common passwords; choose another.".to_owned());
    }
    problems
}

/// Django's rule in spirit: the password contains the attribute, the
/// attribute contains the password, or they mostly share characters in order.
fn too_similar(password: &str, attribute: &str) -> bool {
    let p = password.to_lowercase();
    let a = attribute.to_lowercase();
    if a.chars().count() < 3 || p.is_empty() {
        return false;
    }
    if p.contains(&a) || a.contains(&p) {
        return true;
    }
    let common = longest_common_subsequence(&p, &a);
    2.0 * common as f64 / (p.chars().count() + a.chars().count()) as f64 >= 0.7
}

fn longest_common_subsequence(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous = vec![0usize; b.len() + 1];
    for ca in a.chars() {
        let mut current = vec![0usize; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            current[j + 1] = if ca == *cb {
                previous[j] + 1
            } else {
                previous[j + 1].max(current[j])
            };
        }
        previous = current;
    }
    previous[b.len()]
}

/// Django's username rule: 1–150 of letters, digits and `@ . + - _`.
pub fn username_problem(username: &str) -> Option<String> {
    if username.is_empty() {
        Some("Enter a username.".to_owned())
    } else if username.chars().count() > 150 {
        Some("Use at most 150 characters.".to_owned())
    } else if !username.chars().all(|c| c.is_alphanumeric() || "@.+-_".contains(c)) {
        Some("Use only letters, digits and @ . + - _".to_owned())
    } else {
        None
    }
}

pub fn email_problem(email: &str) -> Option<String> {
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(|c| c.is_whitespace() || c == '<' || c == '>')
        });
    (!valid).then(|| "Enter a valid email address, like name@example.com.".to_owned())
}

#[derive(Deserialize, Default, Clone)]
pub struct LoginForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub next: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
pub struct NewAdminForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub password_confirm: String,
}

/// A checked first-admin (or `createsuperuser`) entry.
pub struct NewAdmin {
    pub username: String,
    pub email: String,
    pub password: String,
}

impl NewAdminForm {
    pub fn parse(&self) -> Result<NewAdmin, FieldErrors> {
        let mut errors = FieldErrors::default();
        let username = self.username.trim();
        let email = self.email.trim().to_lowercase();
        if let Some(problem) = username_problem(username) {
            errors.add("username", problem);
        }
        if let Some(problem) = email_problem(&email) {
            errors.add("email", problem);
        }
        for problem in password_problems(&self.password, username, &email) {
            errors.add("password", problem);
        }
        if self.password != self.password_confirm {
            errors.add("password_confirm", "The two passwords differ.");
        }
        if errors.is_empty() {
            Ok(NewAdmin {
                username: username.to_owned(),
                email,
                password: self.password.clone(),
            })
        } else {
            Err(errors)
        }
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct ChangePasswordForm {
    #[serde(default)]
    pub current_password: String,
    #[serde(default)]
    pub new_password: String,
    #[serde(default)]
    pub new_password_confirm: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_password_rule_has_its_message() {
        assert!(password_problems("short", "ann", "ann@example.com")[0].contains("at least 10"));
        assert!(password_problems("12345678901", "ann", "a@example.com")
            .iter()
            .any(|p| p.contains("digits")));
        assert!(password_problems("margaretha1", "margaretha", "m@example.com")
            .iter()
            .any(|p| p.contains("username")));
        assert!(password_problems("qwertyuiop", "ann", "a@example.com")
            .iter()
            .any(|p| p.contains("common")));
        assert!(password_problems("violet-harbour-91", "margaretha", "m@example.com").is_empty());
    }

    #[test]
    fn usernames_and_emails() {
        assert!(username_problem("ann.o'neil").is_some());
        assert!(username_problem("ann_b+1@x").is_none());
        assert!(email_problem("ann@example.com").is_none());
        assert!(email_problem("ann@localhost").is_some());
        assert!(email_problem("<ann>@x.com").is_some());
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct AcceptForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub password_confirm: String,
}

/// A checked invitation acceptance (the password still in the clear, to be hashed).
pub struct Accepted {
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub password: String,
}

fn name_problem(value: &str, what: &str) -> Option<String> {
    if value.chars().count() > 150 {
        Some(format!("Use at most 150 characters for your {what}."))
    } else if value.chars().any(char::is_control) {
        Some(format!("Your {what} contains characters that cannot be shown."))
    } else {
        None
    }
}

impl AcceptForm {
    pub fn parse(&self, email: &str) -> Result<Accepted, FieldErrors> {
        let mut errors = FieldErrors::default();
        let username = self.username.trim();
        let first_name = self.first_name.trim();
        let last_name = self.last_name.trim();
        if let Some(problem) = username_problem(username) {
            errors.add("username", problem);
        }
        if first_name.is_empty() {
            errors.add("first_name", "Enter your first name.");
        } else if let Some(problem) = name_problem(first_name, "first name") {
            errors.add("first_name", problem);
        }
        if let Some(problem) = name_problem(last_name, "last name") {
            errors.add("last_name", problem);
        }
        for problem in password_problems(&self.password, username, email) {
            errors.add("password", problem);
        }
        if self.password != self.password_confirm {
            errors.add("password_confirm", "The two passwords differ.");
        }
        if errors.is_empty() {
            Ok(Accepted {
                username: username.to_owned(),
                first_name: first_name.to_owned(),
                last_name: last_name.to_owned(),
                password: self.password.clone(),
            })
        } else {
            Err(errors)
        }
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct PreferencesForm {
    #[serde(default)]
    pub display_name: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    pub email_notifications: Option<String>,
    #[serde(default)]
    pub playback_speed: String,
    /// An IANA zone name; empty: taken from the browser.
    #[serde(default)]
    pub time_zone: String,
    /// How often the email digest comes (`digest::Frequency`); absent
    /// (an older form, a script): left as it is.
    #[serde(default)]
    pub digest: String,
}

impl PreferencesForm {
    pub fn from_preferences(p: &super::queries::Preferences) -> PreferencesForm {
        PreferencesForm {
            display_name: p.display_name.clone().unwrap_or_default(),
            email_notifications: p.email_notifications.then(|| "on".to_owned()),
            playback_speed: p.playback_speed.to_string(),
            time_zone: p.time_zone.map(|z| z.name().to_owned()).unwrap_or_default(),
            digest: String::new(),
        }
    }

    /// The digest's choices for the select, with whether each is chosen.
    pub fn digest_choices(&self) -> Vec<(&'static str, &'static str, bool)> {
        let chosen = crate::digest::Frequency::parse(&self.digest).unwrap_or(crate::digest::Frequency::DEFAULT);
        crate::digest::Frequency::ALL
            .iter()
            .map(|f| (f.as_str(), f.label(), *f == chosen))
            .collect()
    }

    /// The digest's frequency chosen: `Ok(None)` when the form did not say,
    /// `Err` (the field's message) for a value not offered.
    pub fn digest_frequency(&self) -> Result<Option<crate::digest::Frequency>, &'static str> {
        match self.digest.trim() {
            "" => Ok(None),
            value => crate::digest::Frequency::parse(value)
                .map(Some)
                .ok_or("Choose one of the listed options."),
        }
    }

    /// The zone choices for the select: every IANA name, and "from the browser".
    pub fn zones(&self) -> Vec<(&'static str, bool)> {
        crate::web::time::zone_names()
            .map(|name| (name, name == self.time_zone))
            .collect()
    }

    pub fn notifications_on(&self) -> bool {
        self.email_notifications.is_some()
    }

    pub fn parse(&self, base: &super::queries::Preferences) -> Result<super::queries::Preferences, FieldErrors> {
        let mut errors = FieldErrors::default();
        let display_name = self.display_name.trim();
        if display_name.chars().count() > 60 {
            errors.add("display_name", "Use at most 60 characters.");
        } else if display_name.chars().any(char::is_control) {
            errors.add("display_name", "This name contains characters that cannot be shown.");
        }
        let speed = self
            .playback_speed
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| super::queries::PLAYBACK_SPEEDS.contains(s));
        if speed.is_none() {
            errors.add("playback_speed", "Choose one of the listed speeds.");
        }
        let zone = match self.time_zone.trim() {
            "" => None,
            name => {
                let zone = crate::web::time::parse_zone(name);
                if zone.is_none() {
                    errors.add("time_zone", "Choose one of the listed time zones.");
                }
                zone
            }
        };
        match speed {
            Some(speed) if errors.is_empty() => Ok(super::queries::Preferences::with(
                (!display_name.is_empty()).then(|| display_name.to_owned()),
                self.notifications_on(),
                speed,
                zone,
                base,
            )),
            _ => Err(errors),
        }
    }

    /// The speed choices for the select, with whether each is chosen.
    pub fn speeds(&self) -> Vec<(String, String, bool)> {
        let chosen = self.playback_speed.trim().parse::<f64>().unwrap_or(1.0);
        super::queries::PLAYBACK_SPEEDS
            .iter()
            .map(|s| (s.to_string(), format!("{s}×"), (*s - chosen).abs() < f64::EPSILON))
            .collect()
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct EmailChangeForm {
    #[serde(default)]
    pub new_email: String,
    #[serde(default)]
    pub current_password: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct ResetRequestForm {
    #[serde(default)]
    pub email: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct SetPasswordForm {
    #[serde(default)]
    pub new_password: String,
    #[serde(default)]
    pub new_password_confirm: String,
}

impl SetPasswordForm {
    pub fn check(&self, username: &str, email: &str) -> FieldErrors {
        let mut errors = FieldErrors::default();
        for problem in password_problems(&self.new_password, username, email) {
            errors.add("new_password", problem);
        }
        if self.new_password != self.new_password_confirm {
            errors.add("new_password_confirm", "The two passwords differ.");
        }
        errors
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct InviteForm {
    #[serde(default)]
    pub emails: String,
    #[serde(default)]
    pub role: String,
}

impl InviteForm {
    /// One or many addresses (separated by commas, semicolons, spaces or
    /// lines), each checked, duplicates dropped.
    pub fn parse(&self) -> Result<(Vec<String>, super::invitations::Role), FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut emails: Vec<String> = Vec::new();
        for candidate in self
            .emails
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|s| !s.is_empty())
        {
            let email = candidate.trim().trim_matches(|c| c == '<' || c == '>').to_lowercase();
            match email_problem(&email) {
                Some(_) => errors.add("emails", format!("{candidate} is not a valid email address.")),
                None if !emails.contains(&email) => emails.push(email),
                None => {}
            }
        }
        if emails.is_empty() && errors.is_empty() {
            errors.add("emails", "Enter at least one email address.");
        }
        if emails.len() > 200 {
            errors.add("emails", "Invite at most 200 addresses at a time.");
        }
        let role = super::invitations::Role::parse(&self.role);
        if role.is_none() {
            errors.add("role", "Choose a role.");
        }
        match role {
            Some(role) if errors.is_empty() => Ok((emails, role)),
            _ => Err(errors),
        }
    }
}
