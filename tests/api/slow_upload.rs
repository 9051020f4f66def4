//! Uploads that trickle in, over a raw TCP connection (an HTTP client
//! library would not send a body this slowly on purpose): the head of the
//! request and of a real MP4 first, then a few bytes at a time.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::helpers::{TestApp, GOOD_PASSWORD};
use crate::media_fixtures::{sample_bytes, Sample};

const BOUNDARY: &str = "practika-slow-boundary";

/// A logged-in user, as a raw request needs them: the session cookie and
/// the CSRF token for the upload form's action.
pub struct Credentials {
    pub cookie: String,
    pub token: String,
}

pub async fn log_in(app: &TestApp, username: &str) -> Credentials {
    app.create_user(username, GOOD_PASSWORD, "student");
    let client = crate::helpers::new_client();
    let response = app.login_with(&client, username, GOOD_PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303);
    let cookie = response
        .cookies()
        .find(|c| c.name() == practika::startup::SESSION_COOKIE)
        .map(|c| format!("{}={}", c.name(), c.value()))
        .expect("session cookie");
    let token = app
        .page_with(&client, "/videos/new")
        .await
        .attr("#upload-form", "action")
        .and_then(|action| action.split_once("csrf_token=").map(|(_, t)| t.to_owned()))
        .expect("the upload form's token");
    Credentials { cookie, token }
}

pub struct SlowUpload {
    read: tokio::net::tcp::OwnedReadHalf,
    stop: watch::Sender<bool>,
}

impl SlowUpload {
    /// Sends the request head, the form part's head and the first 4 KiB of
    /// a real MP4 (so it passes the first-bytes check), announcing
    /// `announced` bytes; then `step` bytes every `every` until stopped or
    /// the server stops reading.
    pub async fn start(app: &TestApp, who: &Credentials, step: usize, every: Duration) -> SlowUpload {
        let address = app.address.trim_start_matches("http://").to_owned();
        let stream = TcpStream::connect(&address).await.expect("connect");
        let (read, mut write) = stream.into_split();
        let head = format!(
            "POST /videos?csrf_token={token} HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\n\
             Accept: application/json\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
             Content-Length: {length}\r\n\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"slow.mp4\"\r\nContent-Type: video/mp4\r\n\r\n",
            token = who.token,
            cookie = who.cookie,
            length = 50 * 1024 * 1024,
        );
        write.write_all(head.as_bytes()).await.expect("request head");
        write
            .write_all(&sample_bytes(Sample::Small)[..4096])
            .await
            .expect("the first bytes");
        let (stop, mut stopped) = watch::channel(false);
        actix_web::rt::spawn(async move {
            let filler = vec![0u8; step];
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stopped.wait_for(|stop| *stop) => return,
                }
                if write.write_all(&filler).await.is_err() {
                    return; // the server stopped reading
                }
            }
        });
        SlowUpload { read, stop }
    }

    /// The server's answer (status and body), waiting up to `limit`.
    pub async fn response(mut self, limit: Duration) -> (u16, String) {
        let mut raw = Vec::new();
        let read = tokio::time::timeout(limit, async {
            let mut buffer = [0u8; 4096];
            loop {
                match self.read.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => raw.extend_from_slice(&buffer[..n]),
                }
                // A complete response: the head and the announced body.
                let text = String::from_utf8_lossy(&raw);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().to_owned())
                        })
                        .and_then(|v| v.parse::<usize>().ok());
                    if length.is_some_and(|n| body.len() >= n) {
                        break;
                    }
                }
            }
        })
        .await;
        let _ = self.stop.send(true);
        assert!(read.is_ok(), "no answer within {limit:?}");
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }

    /// The client gives up: the connection closes.
    pub fn abandon(self) {
        let _ = self.stop.send(true);
    }
}
