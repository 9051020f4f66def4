//! Page structs of the accounts area, one per template.

use askama::Template;

use super::forms::{ChangePasswordForm, FieldErrors, LoginForm, NewAdminForm};
use crate::web::auth::CurrentUser;
use crate::web::page::PageCtx;

#[derive(Template)]
#[template(path = "accounts/login.html")]
pub struct LoginPage {
    pub ctx: PageCtx,
    pub form: LoginForm,
    pub next: String,
    pub error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "accounts/logout.html")]
pub struct LogoutPage {
    pub ctx: PageCtx,
}

#[derive(Template)]
#[template(path = "accounts/setup.html")]
pub struct SetupPage {
    pub ctx: PageCtx,
    pub form: NewAdminForm,
    pub errors: FieldErrors,
    pub token: String,
}

#[derive(Template)]
#[template(path = "accounts/setup_closed.html")]
pub struct SetupClosedPage {
    pub ctx: PageCtx,
}

#[derive(Template)]
#[template(path = "accounts/account.html")]
pub struct AccountPage {
    pub ctx: PageCtx,
    pub user: CurrentUser,
}

#[derive(Template)]
#[template(path = "accounts/password.html")]
pub struct PasswordPage {
    pub ctx: PageCtx,
    pub form: ChangePasswordForm,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub ctx: PageCtx,
    pub user: Option<CurrentUser>,
}
