//! Static files, compiled into the binary so that it runs from any folder.
//! Their URLs carry a content hash, so browsers may keep them for a year.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use crate::error::AppError;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "css/app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../static/css/app.css"),
    },
    Asset {
        name: "img/favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../static/img/favicon.svg"),
    },
    Asset {
        name: "js/videos.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/js/videos.js"),
    },
    Asset {
        name: "js/player.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/js/player.js"),
    },
    Asset {
        name: "js/exercise.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/js/exercise.js"),
    },
    Asset {
        name: "js/choices.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/js/choices.js"),
    },
    Asset {
        name: "js/replies.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/js/replies.js"),
    },
    Asset {
        name: "js/attach.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/js/attach.js"),
    },
    Asset {
        name: "js/edit.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/js/edit.js"),
    },
    Asset {
        name: "js/compare.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/js/compare.js"),
    },
    Asset {
        name: "js/once.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/js/once.js"),
    },
    Asset {
        name: "js/timezone.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/js/timezone.js"),
    },
    Asset {
        name: "js/video.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/js/video.js"),
    },
    Asset {
        name: "js/studio.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/js/studio.js"),
    },
    Asset {
        name: "js/voiceover.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/js/voiceover.js"),
    },
    Asset {
        name: "js/uploader.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/js/uploader.js"),
    },
    Asset {
        name: "js/dropzone.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/js/dropzone.js"),
    },
    Asset {
        name: "js/recorder.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/js/recorder.js"),
    },
    // tus-js-client, vendored from npm (static/vendor/tus-js-client/README.md).
    Asset {
        name: "vendor/tus-js-client/tus.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/vendor/tus-js-client/tus.min.js"),
    },
    Asset {
        name: "js/practice.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/js/practice.js"),
    },
    Asset {
        name: "js/staff.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/js/staff.js"),
    },
];

fn versions() -> &'static Vec<(&'static str, String)> {
    static VERSIONS: OnceLock<Vec<(&'static str, String)>> = OnceLock::new();
    VERSIONS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| (asset.name, hex::encode(&Sha256::digest(asset.body)[..6])))
            .collect()
    })
}

/// The URL of a static file, with its version.
pub fn url(name: &str) -> String {
    match versions().iter().find(|(n, _)| *n == name) {
        Some((_, version)) => format!("/static/{name}?v={version}"),
        None => format!("/static/{name}"),
    }
}

/// A versioned URL (`?v=<hash>`, from [`url`]) is kept for a year. An
/// unversioned one — how ES modules import each other (`./player.js`) —
/// is revalidated on every use against its ETag (a 304 costs no body), so a
/// new release is never shadowed by a cached module.
pub async fn serve(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let name = path.into_inner();
    let (asset, version) = ASSETS
        .iter()
        .zip(versions())
        .find(|(asset, _)| asset.name == name)
        .ok_or(AppError::NotFound)?;
    let etag = format!("\"{}\"", version.1);
    if req.query_string().starts_with("v=") {
        return Ok(HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .body(asset.body));
    }
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::ETAG, etag));
    if fresh {
        return Ok(response.finish());
    }
    Ok(response.content_type(asset.content_type).body(asset.body))
}

/// Browsers ask for /favicon.ico whatever the page says.
async fn favicon() -> HttpResponse {
    HttpResponse::MovedPermanently()
        .insert_header((header::LOCATION, url("img/favicon.svg")))
        .finish()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/favicon.ico", super::get().to(favicon));
    cfg.route("/static/{path:.*}", super::get().to(serve));
}
