//! The job queue on both backends: claims under concurrency, leases,
//! backoff, release, and workers that die or stop in the middle of a job.

use std::collections::HashSet;
use std::time::Duration;

use practika::db::Ts;
use practika::jobs::queue::{self, AfterFailure};
use practika::jobs::worker::Outcome;
use practika::startup::worker as new_worker;
use practika::videos::jobs as kinds;

use crate::helpers::spawn_app;
use crate::media_fixtures::{eventually, sample_bytes, Sample};

const NOOP: &str = "test_noop";

#[actix_web::test]
async fn concurrent_workers_claim_each_job_exactly_once() {
    let app = spawn_app().await;
    for n in 0..30 {
        queue::enqueue(&mut app.conn(), NOOP, serde_json::json!({ "n": n })).expect("enqueue");
    }
    let threads: Vec<_> = (0..4)
        .map(|w| {
            let pool = app.pool.clone();
            std::thread::spawn(move || {
                let name = format!("racer-{w}");
                let mut mine = Vec::new();
                loop {
                    let mut conn = pool.get().expect("connection");
                    match queue::claim(&mut conn, &name, Duration::from_secs(60)).expect("claim") {
                        Some(job) => {
                            assert_eq!(job.locked_by.as_deref(), Some(name.as_str()));
                            assert!(queue::complete(&mut conn, job.id, &name).expect("complete"));
                            mine.push(job.id);
                        }
                        None => return mine,
                    }
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for thread in threads {
        all.extend(thread.join().expect("worker thread"));
    }
    let unique: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), 30, "every job ran once: {all:?}");
    assert_eq!(unique.len(), 30);
    let counts = queue::counts(&mut app.conn()).expect("counts");
    assert_eq!(counts, vec![("done".to_owned(), 30)]);
}

#[actix_web::test]
async fn a_job_whose_lease_ran_out_is_claimed_again() {
    let app = spawn_app().await;
    let id = queue::enqueue(&mut app.conn(), NOOP, serde_json::json!({})).expect("enqueue");
    let lease = Duration::from_millis(400);
    let job = queue::claim(&mut app.conn(), "worker-a", lease)
        .expect("claim")
        .expect("job");
    assert_eq!((job.id, job.attempts, job.status.as_str()), (id, 1, "running"));
    assert!(
        queue::claim(&mut app.conn(), "worker-b", lease)
            .expect("claim")
            .is_none(),
        "held"
    );
    // Worker A renews while it lives...
    assert!(queue::heartbeat(&mut app.conn(), id, "worker-a", lease).expect("beat"));
    // ...and dies: its lease runs out.
    actix_web::rt::time::sleep(lease + Duration::from_millis(100)).await;
    let job = queue::claim(&mut app.conn(), "worker-b", lease)
        .expect("claim")
        .expect("taken over");
    assert_eq!(
        (job.id, job.attempts, job.locked_by.as_deref()),
        (id, 2, Some("worker-b"))
    );
    // A, come back to life, can no longer touch it.
    assert!(!queue::complete(&mut app.conn(), id, "worker-a").expect("complete"));
    assert!(!queue::heartbeat(&mut app.conn(), id, "worker-a", lease).expect("beat"));
    assert!(queue::complete(&mut app.conn(), id, "worker-b").expect("complete"));
    let job = queue::find(&mut app.conn(), id).expect("find").expect("job");
    assert_eq!(job.status, "done");
    assert!(job.locked_by.is_none() && job.locked_until.is_none());
}

#[actix_web::test]
async fn failures_back_off_then_fail_for_good_and_stay_visible() {
    let app = spawn_app().await;
    let id = queue::enqueue_with(&mut app.conn(), NOOP, serde_json::json!({}), 3, Ts::now()).expect("enqueue");
    let lease = Duration::from_secs(60);
    let mut waits = Vec::new();
    for attempt in 1..=3 {
        let job = queue::claim(&mut app.conn(), "w", lease).expect("claim").expect("due");
        assert_eq!(job.attempts, attempt);
        let before = Ts::now();
        let after = queue::fail(&mut app.conn(), &job, "w", &format!("boom {attempt}"), false).expect("fail");
        match after {
            AfterFailure::Retry(at) => {
                waits.push((at.0 - before.0).num_seconds());
                assert!(
                    queue::claim(&mut app.conn(), "w", lease).expect("claim").is_none(),
                    "not due yet"
                );
                app.make_jobs_due();
            }
            AfterFailure::Failed => assert_eq!(attempt, 3),
            AfterFailure::NotHeld => panic!("the worker held the job"),
        }
    }
    assert_eq!(waits.len(), 2);
    assert!(
        (29..=30).contains(&waits[0]) && (59..=60).contains(&waits[1]),
        "{waits:?}"
    );
    let job = queue::find(&mut app.conn(), id).expect("find").expect("kept");
    assert_eq!(job.status, "failed");
    assert_eq!(job.last_error.as_deref(), Some("boom 3"));
    assert!(
        queue::claim(&mut app.conn(), "w", lease).expect("claim").is_none(),
        "never again"
    );

    // A permanent error does not wait for the attempts to run out.
    let id = queue::enqueue(&mut app.conn(), NOOP, serde_json::json!({})).expect("enqueue");
    let job = queue::claim(&mut app.conn(), "w", lease).expect("claim").expect("job");
    assert_eq!(
        queue::fail(&mut app.conn(), &job, "w", "hopeless", true).expect("fail"),
        AfterFailure::Failed
    );
    assert_eq!(
        queue::find(&mut app.conn(), id).expect("find").expect("job").attempts,
        1
    );
}

#[actix_web::test]
async fn unknown_jobs_and_abandoned_last_attempts_end_as_failed() {
    let app = spawn_app().await;
    queue::enqueue(&mut app.conn(), "no_such_kind", serde_json::json!({})).expect("enqueue");
    let report = app.worker().run_once().await.expect("worker").expect("job");
    assert!(matches!(report.outcome, Outcome::Failed(ref m) if m.contains("unknown job kind")));

    // A worker died during the only attempt: nobody may claim the job, and
    // the next worker to look marks it failed.
    let id = queue::enqueue_with(&mut app.conn(), NOOP, serde_json::json!({}), 1, Ts::now()).expect("enqueue");
    queue::claim(&mut app.conn(), "doomed", Duration::from_millis(200)).expect("claim");
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert!(app.worker().run_once().await.expect("worker").is_none());
    let job = queue::find(&mut app.conn(), id).expect("find").expect("job");
    assert_eq!(job.status, "failed");
    assert!(job.last_error.is_some_and(|e| e.contains("lease ran out")));
}

#[actix_web::test]
async fn a_worker_killed_mid_job_is_replaced_and_one_set_of_outputs_remains() {
    let app = spawn_app().await;
    let (_, client) = app.user_client("victim_vic", "student").await;
    let id = app.upload_ok(&client, sample_bytes(Sample::Hd), "survivor.mp4").await;
    let lease = Duration::from_millis(800);

    // Worker A claims the job, starts writing a rendition, and is killed.
    let job = queue::claim(&mut app.conn(), "worker-a", lease)
        .expect("claim")
        .expect("job");
    assert_eq!(job.kind, kinds::PROCESS_VIDEO);
    let dir = app.media_dir().join(format!("renditions/{}", id.0.simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join(".720p.mp4.deadbeef.part"), b"half a rendition").expect("partial");

    // Until the lease runs out nobody else takes it.
    let b = new_worker(app.pool.clone(), &app.settings, "worker-b").with_lease(lease);
    assert!(b.run_once().await.expect("worker").is_none());
    actix_web::rt::time::sleep(lease + Duration::from_millis(100)).await;
    let report = b.run_once().await.expect("worker").expect("the job again");
    assert_eq!((report.job_id, report.outcome), (job.id, Outcome::Done));

    let job = queue::find(&mut app.conn(), job.id).expect("find").expect("job");
    assert_eq!((job.status.as_str(), job.attempts), ("done", 2));
    assert_eq!(app.asset(id).processing_status, "ready");
    let simple = id.0.simple();
    let mut expected = vec![
        format!("originals/{simple}.mp4"),
        format!("posters/{simple}.jpg"),
        format!("renditions/{simple}/360p.mp4"),
        format!("renditions/{simple}/720p.mp4"),
    ];
    expected.sort();
    assert_eq!(app.media_files(), expected, "exactly one set of outputs");
    // A, if it was only slow, finds its result is not wanted.
    assert_eq!(
        queue::fail(&mut app.conn(), &job, "worker-a", "late", false).expect("fail"),
        AfterFailure::NotHeld
    );
}

#[actix_web::test]
async fn a_stopping_worker_gives_its_job_back_and_leaves_no_partial_files() {
    let app = spawn_app().await;
    let (_, client) = app.user_client("patient_pia", "student").await;
    let id = app.upload_ok(&client, sample_bytes(Sample::Long), "long.mp4").await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = new_worker(app.pool.clone(), &app.settings, "stopping-worker")
        .with_poll_interval(Duration::from_millis(50))
        .with_shutdown_grace(Duration::ZERO);
    let running = actix_web::rt::spawn(async move { worker.run(stopped).await });
    eventually(20, "the job to start", || {
        app.jobs_of(kinds::PROCESS_VIDEO)[0].status == "running" && app.asset(id).processing_status == "processing"
    })
    .await;
    // Let ffmpeg get going.
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    stop.send(true).expect("stop");
    actix_web::rt::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the worker stops promptly")
        .expect("worker task");

    let job = &app.jobs_of(kinds::PROCESS_VIDEO)[0];
    assert_eq!(
        (job.status.as_str(), job.attempts),
        ("queued", 0),
        "released, attempt not counted"
    );
    assert!(job.locked_by.is_none());
    assert_eq!(app.asset(id).processing_status, "pending");
    let partial: Vec<String> = app.media_files().into_iter().filter(|f| f.ends_with(".part")).collect();
    assert!(partial.is_empty(), "{partial:?}");

    // The next worker does the whole job (and the digest jobs of the
    // periods that the stopped worker's chore queued).
    let digests = app.jobs_of(practika::digest::send::SEND_DIGESTS).len();
    assert_eq!(app.run_jobs().await, 1 + digests);
    assert_eq!(app.asset(id).processing_status, "ready");
}

/// A job that finishes while the database is away: its outcome is kept and
/// recorded (with backoff) once the database is back; it does not stay
/// `running` to run again after its lease. On both backends (see
/// `outage.rs` for how each one goes away).
#[actix_web::test]
async fn a_job_that_finishes_during_a_database_outage_is_recorded_once_it_is_back() {
    let app = crate::helpers::spawn_app().await;
    app.create_user("outage_olga", crate::helpers::GOOD_PASSWORD, "student");
    let mut outage = crate::outage::Outage::prepare(&app).await;
    let worker = new_worker(practika::db::Pool::new(outage.url()), &app.settings, "outage-worker");
    let id = queue::enqueue(
        &mut app.conn(),
        practika::accounts::mail::SEND_PASSWORD_RESET,
        serde_json::json!({ "email": "outage_olga@example.com" }),
    )
    .expect("enqueue");

    // The job has read what it needs and is in the middle of sending...
    app.mail.hold();
    let run = actix_web::rt::spawn(async move { worker.run_once().await });
    app.mail.wait_for(1).await;
    // ...when the database goes away; the send then finishes.
    outage.begin();
    app.mail.release();
    actix_web::rt::time::sleep(outage.long_enough()).await;
    outage.end();

    let report = run
        .await
        .expect("the worker task")
        .expect("the worker kept the outcome instead of failing")
        .expect("a job ran");
    assert_eq!((report.job_id, &report.outcome), (id, &Outcome::Done));
    let job = queue::find(&mut app.conn(), id).expect("query").expect("job");
    assert_eq!(
        (job.status.as_str(), job.attempts),
        ("done", 1),
        "recorded, not left to run again"
    );
    assert_eq!(app.mail.received().len(), 1, "the email went out once");
}
