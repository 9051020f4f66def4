//! Every log line a request or a job causes names it: the `request` span
//! (with the request id) and the `job` span (with the job's id and kind)
//! reach the blocking threads where queries run.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use crate::helpers::{spawn_app, GOOD_PASSWORD};

/// What the test subscriber wrote: the SQL debug lines of every test in
/// this binary, and the request and job lines (the spans' own modules must
/// be enabled for the spans to be recorded).
fn captured() -> &'static Arc<Mutex<Vec<u8>>> {
    static LINES: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LINES.get_or_init(|| {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "practika::sql=debug,practika::web::request=info,practika::jobs::worker=info",
            ))
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of the test binary");
        lines
    })
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn lines_containing(needle: &str) -> Vec<String> {
    let buffer = captured().lock().expect("log buffer");
    String::from_utf8_lossy(&buffer)
        .lines()
        .filter(|l| l.contains(needle))
        .map(str::to_owned)
        .collect()
}

#[actix_web::test]
async fn queries_log_inside_their_request_and_job() {
    captured();
    let app = spawn_app().await;
    app.create_user("student", GOOD_PASSWORD, "student");
    assert_eq!(app.login("student", GOOD_PASSWORD).await.status().as_u16(), 303);
    let response = app.get("/exercises").await;
    assert_eq!(response.status().as_u16(), 200);
    let id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("a request id")
        .to_owned();
    let lines = lines_containing(&format!("request{{id={id}}}"));
    // The session lookup (middleware) and the page's queries (handler), each
    // on a blocking thread, all carry the id.
    assert!(lines.len() >= 4, "{lines:#?}");
    assert!(
        lines.iter().filter(|l| l.contains("statement")).count() >= 4,
        "{lines:#?}"
    );
    assert!(lines.iter().any(|l| l.contains("accounts_session")), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("exercises_exercise")), "{lines:#?}");
    assert!(
        lines.iter().all(|l| !l.contains("binds")),
        "bound values stay out of the log"
    );

    // A job: whatever it does in the database is logged inside its span.
    let job = practika::jobs::queue::enqueue(&mut app.conn(), "cut_clip", serde_json::json!({})).expect("job");
    let worker = practika::startup::worker(app.pool.clone(), &app.settings, "spans");
    worker.run_once().await.expect("worker").expect("the job");
    let lines = lines_containing(&format!("job{{id={job} kind=cut_clip}}"));
    assert!(!lines.is_empty(), "no line names the job");
    assert!(lines.iter().any(|l| l.contains("jobs_job")), "{lines:#?}");
}
