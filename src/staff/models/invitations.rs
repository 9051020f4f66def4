//! Invitations: how often each was sent, who accepted it and when, expiry;
//! send/resend and revoke. The form that creates them is on the list page.

use diesel::prelude::*;

use crate::accounts::forms::FieldErrors;
use crate::accounts::invitations::{self, Invitation, Role, State};
use crate::accounts::mail;
use crate::accounts::permissions::may_grant_role;
use crate::db::schema::{accounts_betainvitation, auth_user};
use crate::db::{DbConn, Ts};
use crate::staff::audit::Entry;
use crate::staff::model::*;
use crate::web::auth::CurrentUser;

pub struct Invitations;

const COLUMNS: &[ListColumn] = &[
    col("email", "Email", true),
    col("role", "Role", true),
    col("status", "Status", false),
    col("sent", "Sent", true),
    col("last_sent", "Last sent", true),
    col("expires", "Expires", true),
    col("invited_by", "Invited by", false),
    col("accepted", "Accepted", true),
    col("created", "Created", true),
];

const ACTIONS: &[BulkAction] = &[
    BulkAction {
        key: "send",
        label: "Send / resend",
    },
    BulkAction {
        key: "revoke",
        label: "Revoke",
    },
];

fn find(conn: &mut DbConn, id: &str) -> StaffResult<Invitation> {
    let id: i64 = parse_id(id)?;
    found(invitations::find(conn, id).optional())
}

fn username(conn: &mut DbConn, id: Option<i32>) -> QueryResult<Option<String>> {
    match id {
        Some(id) => auth_user::table
            .find(id)
            .select(auth_user::username)
            .first(conn)
            .optional(),
        None => Ok(None),
    }
}

macro_rules! filtered {
    ($params:expr, $now:expr) => {{
        let params = $params;
        let now: Ts = $now;
        let mut query = accounts_betainvitation::table.into_boxed();
        if let Some(pattern) = params.like() {
            query = query.filter(search!("accounts_betainvitation.email", pattern));
        }
        match params.choice("status") {
            Some("accepted") => query = query.filter(accounts_betainvitation::accepted_at.is_not_null()),
            Some("revoked") => {
                query = query
                    .filter(accounts_betainvitation::accepted_at.is_null())
                    .filter(accounts_betainvitation::revoked_at.is_not_null())
            }
            Some("expired") => {
                query = query
                    .filter(accounts_betainvitation::accepted_at.is_null())
                    .filter(accounts_betainvitation::revoked_at.is_null())
                    .filter(accounts_betainvitation::expires_at.le(now))
            }
            Some("pending") => {
                query = query
                    .filter(accounts_betainvitation::accepted_at.is_null())
                    .filter(accounts_betainvitation::revoked_at.is_null())
                    .filter(accounts_betainvitation::expires_at.gt(now))
            }
            _ => {}
        }
        if let Some(role) = params.choice("role") {
            query = query.filter(accounts_betainvitation::role.eq(role.to_owned()));
        }
        if let Some(since) = params.since("created") {
            query = query.filter(accounts_betainvitation::created_at.ge(since));
        }
        if let Some(before) = params.before("created") {
            query = query.filter(accounts_betainvitation::created_at.lt(before));
        }
        query
    }};
}

impl StaffModel for Invitations {
    fn slug(&self) -> &'static str {
        "invitations"
    }
    fn plural(&self) -> &'static str {
        "Invitations"
    }
    fn singular(&self) -> &'static str {
        "invitation"
    }
    fn columns(&self) -> &'static [ListColumn] {
        COLUMNS
    }
    fn search_hint(&self) -> &'static str {
        "Email address"
    }

    fn filters(&self, _conn: &mut DbConn) -> QueryResult<Vec<FilterSpec>> {
        Ok(vec![
            choice(
                "status",
                "Status",
                &[
                    ("pending", "pending"),
                    ("accepted", "accepted"),
                    ("expired", "expired"),
                    ("revoked", "revoked"),
                ],
            ),
            choice(
                "role",
                "Role",
                &[("student", "student"), ("coach", "coach"), ("admin", "admin")],
            ),
            dates("created", "Created"),
        ])
    }

    fn list(&self, conn: &mut DbConn, params: &ListParams) -> QueryResult<(Vec<Row>, i64)> {
        let now = Ts::now();
        let total: i64 = filtered!(params, now).count().get_result(conn)?;
        let found: Vec<Invitation> =
            sorted!(filtered!(params, now), params, accounts_betainvitation::created_at.desc(), {
                "email" => accounts_betainvitation::email,
                "role" => accounts_betainvitation::role,
                "sent" => accounts_betainvitation::send_count,
                "last_sent" => accounts_betainvitation::last_sent_at,
                "expires" => accounts_betainvitation::expires_at,
                "accepted" => accounts_betainvitation::accepted_at,
                "created" => accounts_betainvitation::created_at,
            })
            .then_order_by(accounts_betainvitation::id.desc())
            .offset(params.offset())
            .limit(PER_PAGE)
            .select(Invitation::as_select())
            .load(conn)?;
        let ids: Vec<i32> = found
            .iter()
            .flat_map(|i| [i.invited_by_id, i.accepted_by_id])
            .flatten()
            .collect();
        let names: Vec<(i32, String)> = auth_user::table
            .filter(auth_user::id.eq_any(ids))
            .select((auth_user::id, auth_user::username))
            .load(conn)?;
        let name = |id: Option<i32>| id.and_then(|id| names.iter().find(|(i, _)| *i == id).map(|(_, n)| n.clone()));
        Ok((
            found
                .into_iter()
                .map(|i| {
                    let state = i.state(now);
                    let mut status = Cell::badge(state.label(), format!("state-{}", state.label()));
                    if let Some(error) = &i.last_send_error {
                        status.text = format!("{} · Last send failed: {error}", state.label());
                    }
                    Row {
                        id: i.id.to_string(),
                        cells: vec![
                            Cell::text(i.email.clone()),
                            Cell::text(i.role.clone()),
                            status,
                            Cell::text(format!("{}×", i.send_count)),
                            Cell::when(i.last_sent_at),
                            Cell::when(Some(i.expires_at)),
                            Cell::text(name(i.invited_by_id).unwrap_or_else(|| "command line".into())),
                            Cell::text(match (name(i.accepted_by_id), i.accepted_at) {
                                (Some(who), Some(at)) => format!("by {who}, {at}"),
                                (None, Some(at)) => at.to_string(),
                                _ => "—".into(),
                            }),
                            Cell::when(Some(i.created_at)),
                        ],
                    }
                })
                .collect(),
            total,
        ))
    }

    fn detail(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser) -> StaffResult<Detail> {
        let i = find(conn, id)?;
        let state = i.state(Ts::now());
        let closed = matches!(state, State::Accepted | State::Revoked);
        let roles = Role::ALL
            .iter()
            .map(|r| (r.as_str().to_owned(), r.as_str().to_owned()))
            .collect();
        Ok(Detail {
            repr: i.email.clone(),
            fields: vec![
                Field::new("role", "Role", InputKind::Select(roles), i.role.clone()).readonly(closed),
                Field::new(
                    "expires_at",
                    "Expires on",
                    InputKind::Date,
                    i.expires_at.0.format("%Y-%m-%d").to_string(),
                )
                .readonly(closed)
                .hint("The link works until the start of this day (UTC)."),
            ],
            facts: vec![
                ("Status", state.label().to_owned()),
                ("Sent", format!("{} time(s)", i.send_count)),
                (
                    "Last sent",
                    i.last_sent_at.map(|t| t.to_string()).unwrap_or_else(|| "never".into()),
                ),
                (
                    "Last send error",
                    i.last_send_error.clone().unwrap_or_else(|| "—".into()),
                ),
                (
                    "Invited by",
                    username(conn, i.invited_by_id)?.unwrap_or_else(|| "command line".into()),
                ),
                (
                    "Accepted",
                    match i.accepted_at {
                        Some(at) => format!(
                            "{at} by {}",
                            username(conn, i.accepted_by_id)?.unwrap_or_else(|| "a deleted user".into())
                        ),
                        None => "no".into(),
                    },
                ),
                (
                    "Revoked",
                    i.revoked_at.map(|t| t.to_string()).unwrap_or_else(|| "no".into()),
                ),
                ("Created", i.created_at.to_string()),
            ],
        })
    }

    fn save(&self, conn: &mut DbConn, id: &str, actor: &CurrentUser, input: &Input) -> StaffResult<Entry> {
        let i = find(conn, id)?;
        let mut errors = FieldErrors::default();
        if matches!(i.state(Ts::now()), State::Accepted | State::Revoked) {
            return Err(StaffError::Refused(
                "An accepted or revoked invitation cannot be changed.".into(),
            ));
        }
        let role = Role::parse(&input.text("role"));
        if role.is_none() {
            errors.add("role", "Choose student, coach or admin.");
        } else if role.is_some_and(|r| r.as_str() != i.role && !may_grant_role(actor, r.as_str())) {
            errors.add("role", "Only superusers can invite admins: admins get staff rights.");
        }
        let expires = parse_date(&input.text("expires_at"))
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| Ts(t.and_utc()));
        let today = Ts::now().0.date_naive();
        match expires {
            None => errors.add("expires_at", "Enter a date as YYYY-MM-DD."),
            Some(at) if at.0.date_naive() <= today => errors.add("expires_at", "Choose a day after today."),
            Some(at) if at.0.date_naive() > today + chrono::Duration::days(365) => {
                errors.add("expires_at", "Choose a day within a year.")
            }
            Some(_) => {}
        }
        let (Some(role), Some(expires)) = (role, expires) else {
            return Err(StaffError::Invalid(errors));
        };
        if !errors.is_empty() {
            return Err(StaffError::Invalid(errors));
        }
        let mut entry = Entry::new("change", "invitations", i.id, i.email.clone());
        if role.as_str() != i.role {
            entry = entry.change("role", i.role.clone(), role.as_str());
        }
        if expires.0.date_naive() != i.expires_at.0.date_naive() {
            entry = entry.change("expires_at", i.expires_at.to_string(), expires.to_string());
        }
        if !entry.changes.is_empty() {
            diesel::update(accounts_betainvitation::table.find(i.id))
                .set((
                    accounts_betainvitation::role.eq(role.as_str()),
                    accounts_betainvitation::expires_at.eq(expires),
                ))
                .execute(conn)?;
        }
        Ok(entry)
    }

    fn related(&self, _conn: &mut DbConn, _id: &str) -> QueryResult<Vec<Related>> {
        Ok(Vec::new())
    }

    fn delete_preview(&self, conn: &mut DbConn, id: &str) -> StaffResult<Vec<String>> {
        let i = find(conn, id)?;
        let mut lines = vec![format!("The invitation to {}; its link stops working.", i.email)];
        if let Some(user) = username(conn, i.accepted_by_id)? {
            lines.push(format!("The account {user} it created stays."));
        }
        Ok(lines)
    }

    fn delete(&self, conn: &mut DbConn, id: &str, _actor: &CurrentUser) -> StaffResult<Entry> {
        let i = find(conn, id)?;
        diesel::delete(accounts_betainvitation::table.find(i.id)).execute(conn)?;
        Ok(Entry::new("delete", "invitations", i.id, i.email))
    }

    fn bulk_actions(&self) -> &'static [BulkAction] {
        ACTIONS
    }

    /// Resend and Revoke on each row that can still be used: the routes of
    /// `/staff/invitations/{id}/{resend|revoke}`, as the bulk action does.
    fn row_actions(&self, row: &Row) -> Vec<RowAction> {
        let state = row.cells.get(2).and_then(|c| c.badge.as_deref());
        let resend = RowAction {
            label: "Resend",
            path: format!("/staff/invitations/{}/resend", urlencode(&row.id)),
            danger: false,
        };
        let revoke = RowAction {
            label: "Revoke",
            path: format!("/staff/invitations/{}/revoke", urlencode(&row.id)),
            danger: true,
        };
        match state {
            Some("state-pending") => vec![resend, revoke],
            // Resending renews an expired link.
            Some("state-expired") => vec![resend],
            _ => Vec::new(),
        }
    }

    fn bulk(
        &self,
        conn: &mut DbConn,
        action: &str,
        ids: &[String],
        _actor: &CurrentUser,
        _input: &Input,
    ) -> StaffResult<BulkOutcome> {
        let mut outcome = BulkOutcome::default();
        for id in ids {
            let Ok(i) = find(conn, id) else {
                outcome.skipped.push(format!("No invitation with id {id}."));
                continue;
            };
            match action {
                // The new link is made by the job that sends it, once: the
                // link in hand (an earlier email, what `practika invite`
                // printed) keeps working until the new one has gone out.
                "send" => match i.state(Ts::now()) {
                    State::Pending | State::Expired => {
                        outcome
                            .entries
                            .push(Entry::new("send", "invitations", i.id, i.email.clone()));
                        // Queued with the audit entry, in the action's transaction.
                        mail::queue_invitation(conn, i.id)?;
                        outcome.mails.push(i.id);
                    }
                    State::Accepted | State::Revoked => outcome.skipped.push(format!(
                        "The invitation to {} was accepted or revoked, so it cannot be sent again.",
                        i.email
                    )),
                },
                "revoke" => {
                    if invitations::revoke(conn, i.id)? {
                        outcome
                            .entries
                            .push(Entry::new("revoke", "invitations", i.id, i.email.clone()).change(
                                "revoked_at",
                                serde_json::Value::Null,
                                Ts::now().to_string(),
                            ));
                    } else {
                        outcome.skipped.push(format!(
                            "Only a pending invitation can be revoked; {} is {}.",
                            i.email,
                            i.state(Ts::now()).label()
                        ));
                    }
                }
                other => return Err(StaffError::Refused(format!("Unknown action “{other}”."))),
            }
        }
        Ok(outcome)
    }
}
