//! Resumable uploads (tus 1.0): creation, resume after a cut connection,
//! the protocol's refusals, termination, expiry, quotas and ownership.

use std::time::Duration;

use diesel::prelude::*;
use practika::db::{Id, Ts};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::helpers::TestApp;
use crate::media_fixtures::{eventually, header, sample_bytes, sha256_hex, Sample};
use crate::slow_upload::{log_in, Credentials};

const TUS: &str = "1.0.0";

/// A logged-in user speaking tus over reqwest, with the session's CSRF
/// token in the header (as tus-js-client sends it).
struct Tus<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    token: String,
}

impl<'a> Tus<'a> {
    async fn new(app: &'a TestApp, username: &str) -> (Tus<'a>, i32) {
        let (id, client) = app.user_client(username, "student").await;
        let token = app.csrf_token_with(&client).await;
        (Tus { app, client, token }, id)
    }

    async fn create(&self, length: u64, filename: &str) -> reqwest::Response {
        use base64::Engine;
        let name = base64::engine::general_purpose::STANDARD.encode(filename);
        self.client
            .post(self.app.url("/uploads"))
            .header("Tus-Resumable", TUS)
            .header("X-CSRF-Token", &self.token)
            .header("Upload-Length", length.to_string())
            .header("Upload-Metadata", format!("filename {name},filetype dmlkZW8vbXA0"))
            .send()
            .await
            .expect("POST /uploads")
    }

    /// Creates an upload and returns its path (`/uploads/<id>`).
    async fn created(&self, length: u64) -> String {
        let response = self.create(length, "attempt.mp4").await;
        assert_eq!(
            response.status().as_u16(),
            201,
            "{}",
            response.text().await.unwrap_or_default()
        );
        assert_eq!(header(&response, "tus-resumable"), TUS);
        assert!(!header(&response, "upload-expires").is_empty(), "expiration extension");
        header(&response, "location")
    }

    async fn head(&self, path: &str) -> reqwest::Response {
        self.client
            .head(self.app.url(path))
            .header("Tus-Resumable", TUS)
            .send()
            .await
            .expect("HEAD")
    }

    async fn offset(&self, path: &str) -> u64 {
        let response = self.head(path).await;
        assert_eq!(response.status().as_u16(), 200);
        header(&response, "upload-offset").parse().expect("Upload-Offset")
    }

    async fn delete(&self, path: &str) -> reqwest::Response {
        self.client
            .delete(self.app.url(path))
            .header("Tus-Resumable", TUS)
            .header("X-CSRF-Token", &self.token)
            .send()
            .await
            .expect("DELETE")
    }

    async fn patch(&self, path: &str, offset: u64, bytes: Vec<u8>) -> reqwest::Response {
        self.patch_checked(path, offset, bytes, None).await
    }

    /// A PATCH with `Upload-Checksum` set to `checksum`, if given.
    async fn patch_checked(
        &self,
        path: &str,
        offset: u64,
        bytes: Vec<u8>,
        checksum: Option<String>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .patch(self.app.url(path))
            .header("Tus-Resumable", TUS)
            .header("X-CSRF-Token", &self.token)
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", "application/offset+octet-stream");
        if let Some(checksum) = checksum {
            request = request.header("Upload-Checksum", checksum);
        }
        request.body(bytes).send().await.expect("PATCH")
    }
}

/// `Upload-Checksum`'s value for `bytes` with `algorithm`.
fn checksum(algorithm: &str, bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = match algorithm {
        "sha1" => sha1::Sha1::digest(bytes).to_vec(),
        _ => sha2::Sha256::digest(bytes).to_vec(),
    };
    format!(
        "{algorithm} {}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The row of an upload, by its path.
fn upload_id(path: &str) -> Id {
    path.trim_start_matches("/uploads/").parse().expect("upload id")
}

/// Sends a PATCH that announces all of `rest` but sends only `sent` bytes
/// of it, then drops the connection (a laptop lid closing).
async fn cut_patch(app: &TestApp, who: &Credentials, path: &str, offset: u64, rest: &[u8], sent: usize) {
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).await.expect("connect");
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\nX-CSRF-Token: {token}\r\n\
         Tus-Resumable: 1.0.0\r\nUpload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\n\
         Content-Length: {length}\r\n\r\n",
        cookie = who.cookie,
        token = who.token,
        length = rest.len(),
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(&rest[..sent]).await.expect("first half");
    stream.flush().await.expect("flush");
    // Give the server the bytes before the connection goes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(stream);
}

/// Cut half-way, resumed from the offset the server reports: the video is
/// stored with the checksum of the whole file, processed as usual, and
/// nothing is left in the upload folder.
#[actix_web::test]
async fn an_upload_cut_half_way_resumes_and_ends_with_the_right_checksum() {
    let app = crate::helpers::spawn_app().await;
    let who = log_in(&app, "resumer").await;
    let client = crate::helpers::new_client();
    let response = app.login_with(&client, "resumer", crate::helpers::GOOD_PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303);
    let tus = Tus {
        app: &app,
        token: app.csrf_token_with(&client).await,
        client,
    };
    let bytes = sample_bytes(Sample::Small);
    let path = tus.created(bytes.len() as u64).await;

    let half = bytes.len() / 2;
    cut_patch(&app, &who, &path, 0, &bytes, half).await;
    // The bytes that arrived before the cut are kept (synced, recorded).
    let mut offset = 0;
    eventually(10, "the server records the bytes before the cut", || {
        let row = practika::videos::queries::find_resumable(&mut app.conn(), upload_id(&path))
            .expect("query")
            .expect("row");
        offset = row.upload_offset as u64;
        offset == half as u64
    })
    .await;
    assert_eq!(tus.offset(&path).await, half as u64, "HEAD says where to resume");

    let response = tus.patch(&path, offset, bytes[offset as usize..].to_vec()).await;
    assert_eq!(
        response.status().as_u16(),
        204,
        "{}",
        response.text().await.unwrap_or_default()
    );
    assert_eq!(header(&response, "upload-offset"), bytes.len().to_string());
    let video: Id = header(&response, "practika-video").parse().expect("the video's id");
    let asset = app.asset(video);
    assert_eq!(asset.checksum_sha256.as_deref(), Some(sha256_hex(&bytes).as_str()));
    assert_eq!(asset.size_bytes, Some(bytes.len() as i64));
    assert_eq!(asset.orig_filename, "attempt.mp4", "the file name is only a name");
    assert_eq!(app.run_jobs().await, 1, "the processing job, as for the form's uploads");
    assert_eq!(app.asset(video).processing_status, "ready");
    assert!(app.upload_tmp_files().is_empty(), "{:?}", app.upload_tmp_files());

    // The result, for a client that reloaded after the last byte.
    let result: serde_json::Value = tus
        .client
        .get(app.url(&path))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    assert_eq!(result["location"], format!("/videos/{video}"));
}

/// A crash (kill -9) can leave bytes on disk past the recorded offset: the
/// resume cuts them off, so the file and the row agree.
#[actix_web::test]
async fn bytes_past_the_recorded_offset_are_cut_off_at_resume() {
    let app = crate::helpers::spawn_app().await;
    let (tus, _) = Tus::new(&app, "crashy").await;
    let bytes = sample_bytes(Sample::Small);
    let path = tus.created(bytes.len() as u64).await;
    let first = 5000.min(bytes.len() / 2);
    assert_eq!(
        tus.patch(&path, 0, bytes[..first].to_vec()).await.status().as_u16(),
        204
    );
    // What a process killed between writing and recording leaves: garbage
    // after the recorded bytes.
    let file = practika::videos::tus::part_path(&practika::videos::tus::tus_dir(&app.settings), upload_id(&path));
    let mut on_disk = std::fs::read(&file).expect("the partial file");
    on_disk.extend_from_slice(&[0xAB; 3000]);
    std::fs::write(&file, &on_disk).expect("write garbage");
    assert_eq!(tus.offset(&path).await, first as u64);
    let response = tus.patch(&path, first as u64, bytes[first..].to_vec()).await;
    assert_eq!(
        response.status().as_u16(),
        204,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let video: Id = header(&response, "practika-video").parse().expect("video");
    assert_eq!(
        app.asset(video).checksum_sha256.as_deref(),
        Some(sha256_hex(&bytes).as_str()),
        "the garbage is gone, the hash is of the real bytes"
    );
}

/// The protocol's refusals: a wrong offset is 409 (and says the right one),
/// a wrong version 412 (with Tus-Version), the wrong body type 415, over the
/// size limit 413; none of them changes the upload.
#[actix_web::test]
async fn wrong_offsets_versions_and_sizes_get_the_protocol_status_codes() {
    let app = crate::helpers::spawn_app_with(&[("PRACTIKA_MAX_UPLOAD_MB", "1")]).await;
    let (tus, _) = Tus::new(&app, "careless").await;
    let options = tus
        .client
        .request(reqwest::Method::OPTIONS, app.url("/uploads"))
        .send()
        .await
        .expect("OPTIONS");
    assert_eq!(options.status().as_u16(), 204);
    assert_eq!(header(&options, "tus-version"), TUS);
    assert_eq!(
        header(&options, "tus-extension"),
        "creation,termination,expiration,checksum"
    );
    assert_eq!(header(&options, "tus-checksum-algorithm"), "sha1,sha256");
    assert_eq!(header(&options, "tus-max-size"), (1024 * 1024).to_string());

    let bytes = sample_bytes(Sample::Small);
    let path = tus.created(bytes.len() as u64).await;
    let wrong = tus.patch(&path, 10, bytes[10..20].to_vec()).await;
    assert_eq!(wrong.status().as_u16(), 409);
    assert_eq!(header(&wrong, "upload-offset"), "0");

    let old = tus
        .client
        .patch(app.url(&path))
        .header("Tus-Resumable", "0.2.2")
        .header("X-CSRF-Token", &tus.token)
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes[..10].to_vec())
        .send()
        .await
        .expect("PATCH");
    assert_eq!(old.status().as_u16(), 412);
    assert_eq!(header(&old, "tus-version"), TUS);

    let typed = tus
        .client
        .patch(app.url(&path))
        .header("Tus-Resumable", TUS)
        .header("X-CSRF-Token", &tus.token)
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/octet-stream")
        .body(bytes[..10].to_vec())
        .send()
        .await
        .expect("PATCH");
    assert_eq!(typed.status().as_u16(), 415);

    let too_much = tus.patch(&path, 0, vec![0; bytes.len() + 1]).await;
    assert_eq!(too_much.status().as_u16(), 413, "past the declared length");
    assert_eq!(tus.offset(&path).await, 0, "nothing of the refused requests was kept");

    let big = tus.create(2 * 1024 * 1024, "big.mp4").await;
    assert_eq!(big.status().as_u16(), 413, "over Tus-Max-Size, before a byte is sent");

    let no_token = tus
        .client
        .post(app.url("/uploads"))
        .header("Tus-Resumable", TUS)
        .header("Upload-Length", "100")
        .send()
        .await
        .expect("POST");
    assert_eq!(no_token.status().as_u16(), 403, "the CSRF token is required");

    // Not a video: refused from its first bytes, the upload and its bytes gone.
    let path = tus.created(8192).await;
    let refused = tus.patch(&path, 0, vec![b'x'; 8192]).await;
    assert_eq!(refused.status().as_u16(), 422);
    assert_eq!(tus.head(&path).await.status().as_u16(), 404);
    assert!(app.upload_tmp_files().is_empty(), "{:?}", app.upload_tmp_files());
}

/// The checksum extension: bytes whose `Upload-Checksum` matches are kept;
/// a mismatch is a 460 and none of that request's bytes stays (not in the
/// row, not on disk, not in the hash); an algorithm the server does not
/// compute, or a malformed value, is a 400. The video ends with the
/// SHA-256 of the real bytes.
#[actix_web::test]
async fn bytes_are_kept_only_when_they_match_their_checksum() {
    let app = crate::helpers::spawn_app().await;
    let (tus, _) = Tus::new(&app, "checker").await;
    let bytes = sample_bytes(Sample::Small);
    let path = tus.created(bytes.len() as u64).await;
    let file = practika::videos::tus::part_path(&practika::videos::tus::tus_dir(&app.settings), upload_id(&path));
    let half = bytes.len() / 2;

    let first = tus
        .patch_checked(&path, 0, bytes[..half].to_vec(), Some(checksum("sha1", &bytes[..half])))
        .await;
    assert_eq!(
        first.status().as_u16(),
        204,
        "{}",
        first.text().await.unwrap_or_default()
    );
    assert_eq!(header(&first, "upload-offset"), half.to_string());

    // The right length, the wrong bytes (one flipped on the way).
    let mut damaged = bytes[half..].to_vec();
    damaged[100] ^= 0xFF;
    let mismatch = tus
        .patch_checked(&path, half as u64, damaged, Some(checksum("sha1", &bytes[half..])))
        .await;
    assert_eq!(mismatch.status().as_u16(), 460);
    let body: serde_json::Value = mismatch.json().await.expect("JSON");
    assert!(
        body["errors"][0]
            .as_str()
            .unwrap_or_default()
            .contains("Upload-Checksum"),
        "{body}"
    );
    assert_eq!(tus.offset(&path).await, half as u64, "the offset did not move");
    assert_eq!(
        std::fs::metadata(&file).expect("the partial file").len(),
        half as u64,
        "the mismatched bytes are not on disk"
    );

    for (value, what) in [
        (
            format!("md5 {}", "AAAAAAAAAAAAAAAAAAAAAA=="),
            "an algorithm not supported",
        ),
        ("sha1".to_owned(), "no digest"),
        ("sha1 !!not-base64!!".to_owned(), "a digest that is not base64"),
    ] {
        let refused = tus
            .patch_checked(&path, half as u64, bytes[half..].to_vec(), Some(value))
            .await;
        assert_eq!(refused.status().as_u16(), 400, "{what}");
        let body: serde_json::Value = refused.json().await.expect("JSON");
        assert!(
            body["errors"][0]
                .as_str()
                .unwrap_or_default()
                .contains("Upload-Checksum"),
            "{what}: {body}"
        );
        assert_eq!(tus.offset(&path).await, half as u64, "{what} changes nothing");
    }

    let rest = tus
        .patch_checked(
            &path,
            half as u64,
            bytes[half..].to_vec(),
            Some(checksum("sha256", &bytes[half..])),
        )
        .await;
    assert_eq!(rest.status().as_u16(), 204, "{}", rest.text().await.unwrap_or_default());
    let video: Id = header(&rest, "practika-video").parse().expect("the video's id");
    assert_eq!(
        app.asset(video).checksum_sha256.as_deref(),
        Some(sha256_hex(&bytes).as_str()),
        "the hash is of the real bytes, not of the mismatched ones"
    );
    assert!(app.upload_tmp_files().is_empty(), "{:?}", app.upload_tmp_files());
}

/// With a checksum, the type check waits for the bytes to be verified: a
/// head damaged on the way is a 460 (send again) and the upload lives on,
/// while a file that really is not a video, sent with its true digest, is
/// refused and removed.
#[actix_web::test]
async fn a_damaged_first_chunk_is_sent_again_not_refused_as_not_a_video() {
    let app = crate::helpers::spawn_app().await;
    let (tus, _) = Tus::new(&app, "damaged").await;
    let bytes = sample_bytes(Sample::Small);
    let path = tus.created(bytes.len() as u64).await;
    let mut damaged = bytes.clone();
    damaged[4..8].copy_from_slice(b"junk"); // the MP4's "ftyp" box name
    let mismatch = tus
        .patch_checked(&path, 0, damaged, Some(checksum("sha256", &bytes)))
        .await;
    assert_eq!(
        mismatch.status().as_u16(),
        460,
        "{}",
        mismatch.text().await.unwrap_or_default()
    );
    assert_eq!(tus.offset(&path).await, 0, "the upload is still there, at 0");
    let sent_again = tus
        .patch_checked(&path, 0, bytes.clone(), Some(checksum("sha256", &bytes)))
        .await;
    assert_eq!(
        sent_again.status().as_u16(),
        204,
        "{}",
        sent_again.text().await.unwrap_or_default()
    );
    let video: Id = header(&sent_again, "practika-video").parse().expect("the video's id");
    assert_eq!(
        app.asset(video).checksum_sha256.as_deref(),
        Some(sha256_hex(&bytes).as_str())
    );

    let html = b"<!doctype html><html><body>not a video at all, padded to be long enough</body></html>".repeat(60);
    let other = tus.created(html.len() as u64).await;
    let refused = tus
        .patch_checked(&other, 0, html.clone(), Some(checksum("sha256", &html)))
        .await;
    assert_eq!(refused.status().as_u16(), 422);
    let body: serde_json::Value = refused.json().await.expect("JSON");
    assert!(
        body["errors"][0].as_str().is_some_and(|e| e.contains("not a video")),
        "{body}"
    );
    assert_eq!(tus.head(&other).await.status().as_u16(), 404, "the upload is removed");
}

/// Someone else's upload is a 404 for every method, as is an unknown one.
#[actix_web::test]
async fn someone_elses_upload_is_not_found() {
    let app = crate::helpers::spawn_app().await;
    let (owner, _) = Tus::new(&app, "owner").await;
    let (other, _) = Tus::new(&app, "other").await;
    let bytes = sample_bytes(Sample::Small);
    let path = owner.created(bytes.len() as u64).await;
    assert_eq!(other.head(&path).await.status().as_u16(), 404);
    assert_eq!(other.patch(&path, 0, bytes.clone()).await.status().as_u16(), 404);
    assert_eq!(other.delete(&path).await.status().as_u16(), 404);
    assert_eq!(
        other
            .client
            .get(app.url(&path))
            .send()
            .await
            .expect("GET")
            .status()
            .as_u16(),
        404
    );
    assert_eq!(owner.offset(&path).await, 0, "still there for its owner");
    let unknown = format!("/uploads/{}", Id::new());
    assert_eq!(owner.head(&unknown).await.status().as_u16(), 404);
    assert_eq!(owner.head("/uploads/not-an-id").await.status().as_u16(), 404);
}

/// Termination removes the row and the bytes.
#[actix_web::test]
async fn a_cancelled_upload_leaves_nothing() {
    let app = crate::helpers::spawn_app().await;
    let (tus, _) = Tus::new(&app, "canceller").await;
    let bytes = sample_bytes(Sample::Small);
    let path = tus.created(bytes.len() as u64).await;
    assert_eq!(tus.patch(&path, 0, bytes[..4096].to_vec()).await.status().as_u16(), 204);
    assert!(!app.upload_tmp_files().is_empty());
    assert_eq!(tus.delete(&path).await.status().as_u16(), 204);
    assert_eq!(tus.head(&path).await.status().as_u16(), 404);
    assert!(app.upload_tmp_files().is_empty(), "{:?}", app.upload_tmp_files());
    assert_eq!(app.count("videos_upload"), 0);
}

/// An upload past its expiry answers 410, and the worker's housekeeping
/// removes it with its bytes.
#[actix_web::test]
async fn an_expired_upload_is_gone_and_removed_by_the_job() {
    let app = crate::helpers::spawn_app().await;
    let (tus, _) = Tus::new(&app, "forgetful").await;
    let bytes = sample_bytes(Sample::Small);
    let path = tus.created(bytes.len() as u64).await;
    let kept = tus.created(bytes.len() as u64).await;
    assert_eq!(tus.patch(&path, 0, bytes[..4096].to_vec()).await.status().as_u16(), 204);
    use practika::db::schema::videos_upload;
    diesel::update(videos_upload::table.find(upload_id(&path)))
        .set(videos_upload::expires_at.eq(Ts(Ts::now().0 - chrono::Duration::hours(1))))
        .execute(&mut *app.conn())
        .expect("expire it");
    assert_eq!(tus.head(&path).await.status().as_u16(), 410);
    assert_eq!(
        tus.patch(&path, 4096, bytes[4096..].to_vec()).await.status().as_u16(),
        410
    );

    app.worker().housekeeping().await;
    assert_eq!(tus.head(&path).await.status().as_u16(), 404);
    assert!(app.upload_tmp_files().is_empty(), "{:?}", app.upload_tmp_files());
    assert_eq!(tus.offset(&kept).await, 0, "an upload still in time stays");
}

/// Over the quota: refused at creation from Upload-Length, before a byte is
/// sent, counting stored videos and uploads in progress; a user's own
/// quota wins over the default.
#[actix_web::test]
async fn an_upload_over_the_quota_is_refused_at_creation() {
    let app = crate::helpers::spawn_app_with(&[("PRACTIKA_STORAGE_QUOTA_MB", "1")]).await;
    let (tus, user_id) = Tus::new(&app, "hoarder").await;
    let half = 600 * 1024;
    let first = tus.create(half, "a.mp4").await;
    assert_eq!(first.status().as_u16(), 201);
    let second = tus.create(half, "b.mp4").await;
    assert_eq!(second.status().as_u16(), 413, "the first upload's bytes are promised");
    let body: serde_json::Value = second.json().await.expect("JSON");
    let message = body["errors"][0].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("storage quota"), "{message}");
    assert_eq!(app.count("videos_upload"), 1, "nothing was created");

    use practika::db::schema::accounts_profile;
    diesel::update(accounts_profile::table.filter(accounts_profile::user_id.eq(user_id)))
        .set(accounts_profile::storage_quota_mb.eq(Some(2i64)))
        .execute(&mut *app.conn())
        .expect("own quota");
    assert_eq!(
        tus.create(half, "b.mp4").await.status().as_u16(),
        201,
        "their own quota applies"
    );
}

/// The plain form (no JavaScript) keeps the quota too: an announced body
/// that does not fit is refused before it is read; the page says why.
#[actix_web::test]
async fn the_plain_form_refuses_an_upload_over_the_quota() {
    let app = crate::helpers::spawn_app_with(&[("PRACTIKA_STORAGE_QUOTA_MB", "1")]).await;
    let (_, client) = app.user_client("formfiller", "student").await;
    let mut bytes = sample_bytes(Sample::Small);
    bytes.resize(3 * 1024 * 1024, 0);
    let response = app.upload_with(&client, bytes, "big.mp4").await;
    assert_eq!(response.status().as_u16(), 413);
    let html = scraper::Html::parse_document(&response.text().await.expect("body"));
    let errors: String = html
        .select(&scraper::Selector::parse("#upload-errors li").expect("selector"))
        .flat_map(|e| e.text())
        .collect();
    assert!(errors.contains("storage quota"), "{errors}");
    assert_eq!(app.count("core_videoasset"), 0);
    assert!(app.upload_tmp_files().is_empty());
}

/// Staff give one user a quota of their own on the user's page, audited;
/// the videos page shows the user what is used of it.
#[actix_web::test]
async fn staff_set_a_users_quota_and_the_videos_page_shows_it() {
    let app = crate::helpers::spawn_app().await;
    let (student, client) = app.user_client("quoted", "student").await;
    let page = app.page_with(&client, "/videos").await;
    assert!(page.select_text(".storage-meter").concat().contains("used"));
    assert!(!page.has("meter#storage-used"), "no quota: no meter");

    app.create_staff("keeper", crate::helpers::GOOD_PASSWORD);
    let response = app.login("keeper", crate::helpers::GOOD_PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303);
    let form = app.page(&format!("/staff/users/{student}")).await;
    assert_eq!(form.attr("#f-storage_quota_mb", "value").as_deref(), Some(""));
    let fields = |quota: &'static str| {
        [
            ("email", "quoted@example.com"),
            ("role", "student"),
            ("is_active__shown", "1"),
            ("is_active", "on"),
            ("storage_quota_mb", quota),
        ]
    };
    let bad = app.post_form(&format!("/staff/users/{student}"), &fields("lots")).await;
    assert_eq!(bad.status().as_u16(), 422);
    let saved = app.post_form(&format!("/staff/users/{student}"), &fields("50")).await;
    assert_eq!(
        saved.status().as_u16(),
        303,
        "{}",
        saved.text().await.unwrap_or_default()
    );
    use practika::db::schema::staff_auditentry;
    let changes: Vec<practika::db::Json> = staff_auditentry::table
        .filter(staff_auditentry::object_type.eq("users"))
        .select(staff_auditentry::changes)
        .load(&mut *app.conn())
        .expect("audit");
    assert!(
        changes.iter().any(|c| c.0.to_string().contains("storage_quota_mb")),
        "{changes:?}"
    );
    let page = app.page_with(&client, "/videos").await;
    assert!(page.has("meter#storage-used"));
    assert!(
        page.select_text("label[for=storage-used]")
            .concat()
            .contains("of 50 MiB"),
        "{:?}",
        page.select_text(".storage-meter")
    );
}

/// The site's default quota, set by staff on /staff/settings (audited),
/// applies to everyone without a quota of their own.
#[actix_web::test]
async fn staff_set_the_default_quota_on_the_settings_page() {
    let app = crate::helpers::spawn_app().await;
    let (tus, _) = Tus::new(&app, "everyone").await;
    assert_eq!(
        tus.create(3 * 1024 * 1024, "a.mp4").await.status().as_u16(),
        201,
        "no quota yet"
    );
    app.create_staff("setter", crate::helpers::GOOD_PASSWORD);
    assert_eq!(
        app.login("setter", crate::helpers::GOOD_PASSWORD)
            .await
            .status()
            .as_u16(),
        303
    );
    let page = app.page("/staff/settings").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.attr("#default_storage_quota_mb", "value").as_deref(), Some(""));
    let bad = app
        .post_form("/staff/settings", &[("default_storage_quota_mb", "-3")])
        .await;
    assert_eq!(bad.status().as_u16(), 422);
    let saved = app
        .post_form("/staff/settings", &[("default_storage_quota_mb", "4")])
        .await;
    assert_eq!(saved.status().as_u16(), 303);
    assert_eq!(
        app.page("/staff/settings")
            .await
            .attr("#default_storage_quota_mb", "value")
            .as_deref(),
        Some("4")
    );
    assert_eq!(app.count("staff_auditentry"), 1, "the change is audited");
    let over = tus.create(2 * 1024 * 1024, "b.mp4").await;
    assert_eq!(over.status().as_u16(), 413, "3 MiB promised + 2 MiB is over 4 MiB");
}

/// A slow PATCH records its progress every 2 s as it goes (syncs beside
/// the writes) and still ends, in the same request, as the exact file.
#[actix_web::test]
async fn a_slow_patch_records_progress_and_ends_as_the_exact_file() {
    let app = crate::helpers::spawn_app().await;
    let who = log_in(&app, "slowpoke").await;
    let client = crate::helpers::new_client();
    app.login_with(&client, "slowpoke", crate::helpers::GOOD_PASSWORD).await;
    let tus = Tus {
        app: &app,
        token: app.csrf_token_with(&client).await,
        client,
    };
    let mut bytes = sample_bytes(Sample::Small);
    let size = 3 * 1024 * 1024 + 12345;
    let padding = size - bytes.len();
    bytes.extend_from_slice(&u32::try_from(padding).expect("small").to_be_bytes());
    bytes.extend_from_slice(b"free");
    // Not zeros: bytes out of place would change the checksum.
    bytes.extend((0..padding - 8).map(|n| (n % 251) as u8));
    let path = tus.created(bytes.len() as u64).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).await.expect("connect");
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\nX-CSRF-Token: {token}\r\n\
         Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n\
         Content-Length: {length}\r\n\r\n",
        cookie = who.cookie,
        token = who.token,
        length = bytes.len(),
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    let mut recorded_during = 0;
    for piece in bytes.chunks(100 * 1024) {
        stream.write_all(piece).await.expect("a piece");
        tokio::time::sleep(Duration::from_millis(150)).await;
        let row = practika::videos::queries::find_resumable(&mut app.conn(), upload_id(&path))
            .expect("query")
            .expect("row");
        if row.upload_offset < bytes.len() as i64 {
            recorded_during = recorded_during.max(row.upload_offset);
        }
    }
    use tokio::io::AsyncReadExt;
    let mut answer = vec![0u8; 4096];
    let n = stream.read(&mut answer).await.expect("the answer");
    let answer = String::from_utf8_lossy(&answer[..n]).to_string();
    assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
    assert!(
        recorded_during >= 1024 * 1024,
        "progress recorded during the PATCH: {recorded_during}"
    );
    let video: Id = answer
        .lines()
        .find_map(|l| l.strip_prefix("practika-video: "))
        .expect("the video header")
        .trim()
        .parse()
        .expect("the video's id");
    app.assert_stored_as(video, &bytes);
}
