use askama::Template;

use crate::accounts::forms::{FieldErrors, InviteForm};
use crate::accounts::invitations::{Invitation, Role, State};
use crate::db::Ts;
use crate::web::page::PageCtx;

/// One row of the invitations table.
pub struct InvitationRow {
    pub invitation: Invitation,
    pub state: State,
    pub invited_by: Option<String>,
    pub accepted_by: Option<String>,
}

impl InvitationRow {
    pub fn can_resend(&self) -> bool {
        matches!(self.state, State::Pending | State::Expired)
    }

    pub fn can_revoke(&self) -> bool {
        self.state == State::Pending
    }

    pub fn when(ts: &Option<Ts>) -> String {
        ts.map(|t| t.to_string()).unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "staff/invitations.html")]
pub struct InvitationsPage {
    pub ctx: PageCtx,
    pub rows: Vec<InvitationRow>,
    pub form: InviteForm,
    pub errors: FieldErrors,
    pub roles: [Role; 3],
}
