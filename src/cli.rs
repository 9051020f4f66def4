//! The command line: `practika [serve|worker|migrate|createsuperuser|check]`.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use crate::accounts::forms::NewAdminForm;
use crate::accounts::{queries, setup};
use crate::config::{SecretSource, Settings};
use crate::db::{self, migrations, Pool};
use crate::jobs;
use crate::startup::Application;
use tokio::sync::watch;

#[derive(Parser, Debug)]
#[command(
    name = "practika",
    version,
    about = "Practika: video practice for coaches and students."
)]
#[command(long_about = "Practika: video practice for coaches and students.\n\n\
    Configuration comes from environment variables (see README.md); with none set, Practika \
    runs on an SQLite database in ./data and listens on http://127.0.0.1:8000.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Apply migrations, then serve HTTP with one background worker (the default).
    Serve,
    /// Run background workers only (video processing, clips, emails): as
    /// many processes, on as many machines, as you like, sharing the
    /// database and the media folder. Emails (invitations, replies, password
    /// resets) are sent by these workers too.
    Worker {
        /// How many jobs this process runs at the same time.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
        concurrency: u16,
    },
    /// Apply pending database migrations (adopting a Django-made database) and exit.
    Migrate,
    /// Create an admin account (superuser) from the terminal.
    Createsuperuser {
        /// Read PRACTIKA_SUPERUSER_USERNAME, PRACTIKA_SUPERUSER_EMAIL and
        /// PRACTIKA_SUPERUSER_PASSWORD instead of prompting.
        #[arg(long)]
        noinput: bool,
    },
    /// Invite someone by email (prints the invitation link as well).
    Invite {
        /// The address to invite.
        email: String,
        /// The role the account gets.
        #[arg(long, default_value = "student", value_parser = ["student", "coach", "admin"])]
        role: String,
    },
    /// Check configuration, database, migrations and ffmpeg; exit 1 on a problem.
    Check,
    /// Fill an empty database (the configured DATABASE_URL) with realistic
    /// demo data: people, exercises and a year of practice threads whose
    /// videos play. Every account's password is "practika-demo".
    SeedDemo {
        /// People (the first three are demo-admin, demo-coach, demo-student).
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(3..=1_000_000))]
        users: u32,
        /// Exercises, each with its demonstration video.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
        exercises: u32,
        /// Comments in all, replies included.
        #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u32).range(0..=10_000_000))]
        comments: u32,
        /// The same seed gives the same rows (timestamps end today).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Add the demo rows even though the database has rows already.
        #[arg(long)]
        force: bool,
    },
    /// Media storage tools.
    Media {
        #[command(subcommand)]
        action: MediaCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum MediaCommand {
    /// Copy the local media folder (<data dir>/media) into S3-compatible
    /// object storage, verifying every object by its SHA-256. Resumable:
    /// run it again and it skips what is there. The endpoint and
    /// credentials come from the AWS_* variables. Then set
    /// PRACTIKA_MEDIA_URL to the same URL on every node.
    CopyTo {
        /// s3://bucket/prefix
        url: String,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let settings = Settings::from_env()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await.map(|()| ExitCode::SUCCESS),
        Command::Worker { concurrency } => worker(settings, concurrency.into()).await.map(|()| ExitCode::SUCCESS),
        Command::Migrate => migrate(&settings).await.map(|()| ExitCode::SUCCESS),
        Command::Createsuperuser { noinput } => createsuperuser(&settings, noinput).await.map(|()| ExitCode::SUCCESS),
        Command::Invite { email, role } => invite(settings, &email, &role).await,
        Command::Check => check(&settings).await,
        Command::SeedDemo {
            users,
            exercises,
            comments,
            seed,
            force,
        } => {
            let options = crate::demo::Options {
                users,
                exercises,
                comments,
                seed,
                force,
            };
            seed_demo(&settings, options).await.map(|()| ExitCode::SUCCESS)
        }
        Command::Media {
            action: MediaCommand::CopyTo { url },
        } => copy_media_to(&settings, &url).await,
    }
}

async fn copy_media_to(settings: &Settings, url: &str) -> anyhow::Result<ExitCode> {
    if settings.media_s3.is_some() {
        anyhow::bail!(
            "PRACTIKA_MEDIA_URL is set already: media are in a bucket. `media copy-to` copies the local folder \
             ({}); unset PRACTIKA_MEDIA_URL to run it.",
            settings.media_dir().display()
        );
    }
    let target = Settings::from_lookup(|name| {
        if name == "PRACTIKA_MEDIA_URL" {
            Some(url.to_owned())
        } else {
            std::env::var(name).ok().filter(|v| !v.trim().is_empty())
        }
    })?;
    let s3 = target.media_s3.context("the URL names no bucket")?;
    let remote = crate::media::remote::Remote::new(&s3)?;
    let root = settings.media_dir();
    println!("Copying {} to {} ...", root.display(), remote.describe());
    let started = std::time::Instant::now();
    let copied = tokio::task::spawn_blocking(move || {
        crate::media::copy::copy_all(&root, &remote, |done, total, relative, uploaded| {
            if uploaded || done == total || done % 500 == 0 {
                println!(
                    "  [{done}/{total}] {relative}{}",
                    if uploaded { "" } else { " (there already)" }
                );
            }
        })
    })
    .await?
    .context("copying the media (run the command again to resume)")?;
    println!(
        "Done in {:.1} s: {} files uploaded and verified ({:.1} MiB), {} there already.",
        started.elapsed().as_secs_f64(),
        copied.uploaded,
        copied.bytes as f64 / 1024.0 / 1024.0,
        copied.skipped
    );
    println!(
        "Every stored file is in the bucket. Switch over: set PRACTIKA_MEDIA_URL={url} (and the same AWS_* \
         variables) on every node and worker, and restart them. Files uploaded meanwhile: stop the nodes, run \
         this again (it copies only what is new), then start them with the new setting."
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `f` with a connection on a blocking thread.
async fn with_conn<T: Send + 'static>(
    settings: &Settings,
    f: impl FnOnce(&mut db::DbConn) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let url = settings.database_url.clone();
    let redacted = settings.database_url_redacted();
    tokio::task::spawn_blocking(move || {
        let mut conn = db::establish(&url).with_context(|| format!("connecting to {redacted}"))?;
        f(&mut conn)
    })
    .await?
}

async fn apply_migrations(settings: &Settings) -> anyhow::Result<Vec<String>> {
    settings.ensure_dirs()?;
    with_conn(settings, migrations::run).await
}

async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let applied = apply_migrations(settings).await?;
    if applied.is_empty() {
        println!("The database is up to date.");
    }
    for name in applied {
        println!("Applied {name}");
    }
    Ok(())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let applied = apply_migrations(&settings).await?;
    if !applied.is_empty() {
        tracing::info!(count = applied.len(), "applied migrations");
    }
    let admin_exists = with_conn(&settings, |c| Ok(queries::superuser_exists(c)?)).await?;
    let pool = Pool::new(&settings.database_url);
    let public_url = settings.public_url.clone();
    tracing::info!(
        database = settings.backend().name(),
        url = %settings.database_url_redacted(),
        "starting Practika"
    );
    let stop = shutdown_signal();
    let in_process = crate::startup::worker(pool.clone(), &settings, jobs::worker::worker_name(0));
    let worker_stop = stop.clone();
    let worker_task = actix_web::rt::spawn(async move { in_process.run(worker_stop).await });
    let app = Application::build(settings, pool)?;
    tracing::info!(
        http_workers = app.http_workers(),
        job_workers = 1,
        "serving HTTP on {} with {} HTTP worker thread(s), and one background job worker (videos, clips, emails) in this process",
        app.local_addr(),
        app.http_workers()
    );
    println!("Practika is listening on {public_url}");
    if !admin_exists {
        if let Some(path) = app.setup_path() {
            println!();
            println!("No admin exists yet. Create the first one here (the link works once):");
            println!("    {public_url}{path}");
            println!("or run `practika createsuperuser` in a terminal.");
            println!();
        }
    }
    let served = app.run_until_stopped().await;
    // The server stops on SIGINT/SIGTERM; so does the worker (it saw the
    // same signal), finishing or releasing its job.
    let _ = stop_sender().send(true);
    if let Err(error) = worker_task.await {
        tracing::error!(%error, "the background worker ended abnormally");
    }
    served?;
    tracing::info!("stopped");
    Ok(())
}

async fn invite(settings: Settings, email: &str, role: &str) -> anyhow::Result<ExitCode> {
    use crate::accounts::forms::email_problem;
    use crate::accounts::invitations::{self, Role};
    use crate::accounts::mail;

    let email = email.trim().to_lowercase();
    if let Some(problem) = email_problem(&email) {
        bail!("{problem}");
    }
    let role = Role::parse(role).context("the role must be student, coach or admin")?;
    apply_migrations(&settings).await?;
    let pool = Pool::new(&settings.database_url);
    let state = crate::startup::AppState::new(settings, pool)?;
    let (pool, address) = (state.pool.clone(), email.clone());
    let (invitation, raw) = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(|e| anyhow::anyhow!("{e}"))?;
        invitations::create(&mut conn, &address, role, None).map_err(|e| anyhow::anyhow!("{e}"))
    })
    .await??;
    let (link, outcome) = mail::send_invitation(
        &state.pool,
        &state.mailer,
        &state.settings.public_url,
        &invitation,
        &raw,
        mail::Link::Stored,
    )
    .await;
    println!("Invited {email} as {}.", role.as_str());
    println!("Invitation link (works once, until {}):", invitation.expires_at);
    println!("    {link}");
    println!(
        "Resending the invitation (from /staff/invitations) emails a new link and this one stops working \
         once that email has gone out."
    );
    match outcome {
        Ok(()) => {
            println!("The email was sent ({}).", state.mailer.describe());
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("The email could not be sent: {error}");
            eprintln!("The invitation is kept: give the person the link above, or resend it from /staff/invitations.");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn seed_demo(settings: &Settings, options: crate::demo::Options) -> anyhow::Result<()> {
    apply_migrations(settings).await?;
    let storage = crate::media::Storage::from_settings(settings)?;
    let ffmpeg = settings.ffmpeg.clone();
    let started = std::time::Instant::now();
    let files = tokio::task::spawn_blocking(move || crate::media::demo::ensure(&storage, &ffmpeg))
        .await?
        .context("making the demo videos")?;
    // The year of demo data ends at the start of today (UTC), so one seed
    // gives the same rows all day.
    let now = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or_else(chrono::Utc::now);
    let summary = with_conn(settings, move |c| crate::demo::seed(c, &options, &files, now)).await?;
    println!(
        "Seeded {} users ({} publishing), {} exercises, {} videos, {} clips, {} comments ({} replies) and {} jobs \
         in {:.1} s ({:.1} s with the media files).",
        summary.users,
        summary.coaches,
        summary.exercises,
        summary.videos,
        summary.clips,
        summary.comments,
        summary.replies,
        summary.jobs,
        summary.seconds,
        started.elapsed().as_secs_f64()
    );
    println!(
        "Log in as {} (staff), {} or {}, password {:?}.",
        summary.admin,
        summary.coach,
        summary.student,
        crate::demo::PASSWORD
    );
    if let Some((id, count)) = summary.busy_exercise {
        println!("exercise with {count} comments: /exercises/{id}");
    }
    if let Some(id) = summary.sample_video {
        println!("video: /videos/{id}");
    }
    Ok(())
}

/// One shutdown flag for the process, set by SIGINT or SIGTERM.
fn stop_sender() -> &'static watch::Sender<bool> {
    static STOP: std::sync::OnceLock<watch::Sender<bool>> = std::sync::OnceLock::new();
    STOP.get_or_init(|| watch::channel(false).0)
}

/// A receiver of the shutdown flag; the first call starts listening for
/// the signals.
fn shutdown_signal() -> watch::Receiver<bool> {
    static LISTENING: std::sync::Once = std::sync::Once::new();
    LISTENING.call_once(|| {
        actix_web::rt::spawn(async {
            let interrupt = tokio::signal::ctrl_c();
            #[cfg(unix)]
            let terminate = async {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut signal) => {
                        signal.recv().await;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot listen for SIGTERM");
                        std::future::pending::<()>().await
                    }
                }
            };
            #[cfg(not(unix))]
            let terminate = std::future::pending::<()>();
            tokio::select! {
                _ = interrupt => {}
                _ = terminate => {}
            }
            tracing::info!("shutdown requested");
            let _ = stop_sender().send(true);
        });
    });
    stop_sender().subscribe()
}

async fn worker(settings: Settings, concurrency: usize) -> anyhow::Result<()> {
    settings.ensure_dirs()?;
    let pending = with_conn(&settings, migrations::pending).await?;
    if !pending.is_empty() {
        bail!(
            "the database has {} migration(s) not applied yet ({}): run `practika migrate` \
             (or start `practika serve`) first",
            pending.len(),
            pending.join(", ")
        );
    }
    let tools = crate::media::Tools::from_settings(&settings);
    if !tools.available().await {
        tracing::warn!(
            "ffmpeg/ffprobe not found: video jobs will fail until it is installed ({})",
            crate::media::tools::INSTALL_HINT
        );
    }
    let pool = Pool::new(&settings.database_url);
    let stop = shutdown_signal();
    println!(
        "Practika worker: {concurrency} at a time on {} ({}). Ctrl-C stops it after the running jobs.",
        settings.database_url_redacted(),
        settings.backend().name()
    );
    let tasks: Vec<_> = (0..concurrency)
        .map(|index| {
            let worker = crate::startup::worker(pool.clone(), &settings, jobs::worker::worker_name(index));
            let stop = stop.clone();
            actix_web::rt::spawn(async move { worker.run(stop).await })
        })
        .collect();
    for task in tasks {
        if let Err(error) = task.await {
            tracing::error!(%error, "a worker ended abnormally");
        }
    }
    Ok(())
}

fn prompt(label: &str) -> anyhow::Result<String> {
    print!("{label}: ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}

async fn createsuperuser(settings: &Settings, noinput: bool) -> anyhow::Result<()> {
    apply_migrations(settings).await?;
    let form = if noinput {
        let var = |name: &str| std::env::var(name).with_context(|| format!("--noinput needs {name} to be set"));
        let password = var("PRACTIKA_SUPERUSER_PASSWORD")?;
        NewAdminForm {
            username: var("PRACTIKA_SUPERUSER_USERNAME")?,
            email: var("PRACTIKA_SUPERUSER_EMAIL")?,
            password_confirm: password.clone(),
            password,
        }
    } else {
        if !std::io::stdin().is_terminal() {
            bail!("no terminal to prompt on: use `createsuperuser --noinput` with the PRACTIKA_SUPERUSER_* variables");
        }
        let username = prompt("Username")?;
        let email = prompt("Email address")?;
        let password = rpassword::prompt_password("Password: ")?;
        let password_confirm = rpassword::prompt_password("Password (again): ")?;
        NewAdminForm {
            username,
            email,
            password,
            password_confirm,
        }
    };
    let admin = match form.parse() {
        Ok(admin) => admin,
        Err(errors) => {
            for (field, message) in &errors.0 {
                eprintln!("{field}: {message}");
            }
            bail!("no account was created");
        }
    };
    let hash = setup::hash_password(admin.password.clone()).await?;
    let username = admin.username.clone();
    with_conn(settings, move |c| {
        setup::create_admin(c, &admin, hash, false).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(())
    })
    .await?;
    println!("Admin {username} created. Log in at /login.");
    Ok(())
}

async fn check(settings: &Settings) -> anyhow::Result<ExitCode> {
    let mut problems = 0;
    println!("Configuration");
    println!(
        "  database        {} ({})",
        settings.database_url_redacted(),
        settings.backend().name()
    );
    println!("  listen          {}", settings.bind);
    println!("  public URL      {}", settings.public_url);
    println!("  data folder     {}", settings.data_dir.display());
    println!(
        "  secret key      {}",
        match settings.secret_source {
            SecretSource::Environment => "from PRACTIKA_SECRET_KEY",
            SecretSource::File => "from the data folder (set PRACTIKA_SECRET_KEY in production)",
            SecretSource::Generated => "generated into the data folder (set PRACTIKA_SECRET_KEY in production)",
        }
    );
    println!(
        "  email           {}",
        if settings.smtp_url.is_some() {
            "SMTP (PRACTIKA_SMTP_URL)"
        } else {
            "written to the outbox folder"
        }
    );
    println!("  upload limit    {} MiB", settings.max_upload_bytes / 1024 / 1024);
    match crate::media::Storage::from_settings(settings) {
        Ok(storage) => match storage.remote().cloned() {
            None => println!("  media           {}", storage.describe()),
            Some(remote) => {
                // A name nothing is stored under: asking for it shows the
                // bucket answers and the credentials are accepted.
                let probe = tokio::task::spawn_blocking(move || remote.size(".practika-check")).await;
                match probe {
                    Ok(Ok(_)) => println!("  media           {} (reachable)", storage.describe()),
                    Ok(Err(error)) => {
                        println!("  PROBLEM: media in {} cannot be reached: {error}", storage.describe());
                        problems += 1;
                    }
                    Err(error) => {
                        println!("  PROBLEM: media check stopped: {error}");
                        problems += 1;
                    }
                }
            }
        },
        Err(error) => {
            println!("  PROBLEM: {error:#}");
            problems += 1;
        }
    }
    if let Err(error) = settings.ensure_dirs() {
        println!("  PROBLEM: {error:#}");
        problems += 1;
    }

    println!("Database");
    let state = with_conn(settings, |c| {
        let version = server_version(c)?;
        let pending = migrations::pending(c)?;
        Ok((version, pending))
    })
    .await;
    match state {
        Ok((version, pending)) => {
            println!("  server          {version}");
            if pending.is_empty() {
                println!("  migrations      all applied");
            } else {
                println!(
                    "  migrations      {} pending: {} (run `practika migrate`)",
                    pending.len(),
                    pending.join(", ")
                );
            }
        }
        Err(error) => {
            println!("  PROBLEM: cannot reach the database: {error:#}");
            problems += 1;
        }
    }

    println!("Media tools");
    for (tool, program) in [("ffmpeg", &settings.ffmpeg), ("ffprobe", &settings.ffprobe)] {
        match tool_version(program).await {
            Some(version) => println!("  {tool:<15} {version}"),
            None => {
                println!("  {tool:<15} NOT FOUND ({program}): videos play from the original upload only, with no posters, renditions or clips. Install it: apt-get install ffmpeg");
                problems += 1;
            }
        }
    }
    println!("  media folder    {}", settings.media_dir().display());
    println!("Background jobs");
    match with_conn(settings, |c| Ok(jobs::queue::counts(c)?)).await {
        Ok(counts) if counts.is_empty() => println!("  queue           empty"),
        Ok(counts) => {
            let line: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
            println!("  queue           {}", line.join(", "));
            if counts.iter().any(|(s, n)| s == "failed" && *n > 0) {
                println!("  (failed jobs stay in jobs_job with their last_error)");
            }
        }
        Err(error) => println!("  queue           unknown: {error:#}"),
    }
    if problems == 0 {
        println!("\nEverything looks right.");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("\n{problems} problem(s) found.");
        Ok(ExitCode::FAILURE)
    }
}

fn server_version(conn: &mut db::DbConn) -> anyhow::Result<String> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let query = match conn {
        db::DbConn::Pg(_) => "SELECT version() AS v",
        db::DbConn::Sqlite(_) => "SELECT 'SQLite ' || sqlite_version() AS v",
    };
    let version: Version = diesel::sql_query(query).get_result(conn)?;
    Ok(version.v)
}

/// The first line of `tool -version`, or `None` if it does not run.
pub async fn tool_version(tool: &str) -> Option<String> {
    crate::media::tools::version(tool).await
}
