//! `/healthz`: the process answers (no dependencies: no session, no
//! database). `/readyz`: the database answers and every migration is
//! applied — load balancers send traffic only to ready nodes. Both always
//! answer JSON, whatever the request carries.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::db::{self, migrations};
use crate::startup::AppState;

const HEALTHZ: &str = "/healthz";
const READYZ: &str = "/readyz";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(HEALTHZ, crate::web::get().to(healthz))
        .route(READYZ, crate::web::get().to(readyz));
}

/// The health endpoints skip the session and the user lookup
/// (`web::auth::authenticate`): they always answer their own JSON.
pub fn is_health_path(path: &str) -> bool {
    path == HEALTHZ || path == READYZ
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let checked = db::run(&state.pool, |c| {
        migrations::pending(c).map_err(crate::error::AppError::Unexpected)
    })
    .await;
    match checked {
        Ok(pending) if pending.is_empty() => HttpResponse::Ok().json(json!({"status": "ready", "database": "ok"})),
        Ok(pending) => HttpResponse::ServiceUnavailable()
            .json(json!({"status": "not ready", "database": "ok", "pending_migrations": pending})),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(json!({"status": "not ready", "database": "unreachable"}))
        }
    }
}
