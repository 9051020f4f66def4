//! `/healthz`: the process answers (no dependencies). `/readyz`: the
//! database answers and every migration is applied — load balancers send
//! traffic only to ready nodes.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::db::{self, migrations};
use crate::startup::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", crate::web::get().to(healthz))
        .route("/readyz", crate::web::get().to(readyz));
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
