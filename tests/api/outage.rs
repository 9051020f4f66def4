//! A database that goes away and comes back, on either backend, for the
//! tests of what survives an outage. PostgreSQL: the app under test talks
//! to it through a TCP proxy that, during the outage, cuts every
//! connection and refuses new ones. SQLite: another connection holds the
//! write lock (`BEGIN IMMEDIATE`) for longer than the busy timeout, so
//! every write fails with "database is locked", as it does in production
//! when a long writer or a stuck process holds the file.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::TestApp;

pub struct Outage {
    url: String,
    kind: Kind,
}

enum Kind {
    Postgres {
        down: watch::Sender<bool>,
    },
    Sqlite {
        holder: Option<(std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>)>,
    },
}

impl Outage {
    /// Ready to cut `app`'s database; nothing is cut yet. Connect through
    /// [`Outage::url`].
    pub async fn prepare(app: &TestApp) -> Outage {
        match app.backend() {
            practika::db::Backend::Sqlite => Outage {
                url: app.db.url.clone(),
                kind: Kind::Sqlite { holder: None },
            },
            practika::db::Backend::Postgres => {
                let mut url = url::Url::parse(&app.db.url).expect("PostgreSQL URL");
                let upstream = format!(
                    "{}:{}",
                    url.host_str().unwrap_or("127.0.0.1"),
                    url.port().unwrap_or(5432)
                );
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
                let port = listener.local_addr().expect("addr").port();
                url.set_host(Some("127.0.0.1")).expect("host");
                url.set_port(Some(port)).expect("port");
                let (down, watching) = watch::channel(false);
                actix_web::rt::spawn(proxy(listener, upstream, watching));
                Outage {
                    url: url.to_string(),
                    kind: Kind::Postgres { down },
                }
            }
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database goes away.
    pub fn begin(&mut self) {
        match &mut self.kind {
            Kind::Postgres { down } => {
                let _ = down.send(true);
            }
            Kind::Sqlite { holder } => {
                let url = self.url.clone();
                let (stop, stopped) = std::sync::mpsc::channel::<()>();
                let (locked, is_locked) = std::sync::mpsc::channel::<()>();
                let thread = std::thread::spawn(move || {
                    let mut conn = practika::db::establish(&url).expect("connect");
                    conn.batch_execute("BEGIN IMMEDIATE").expect("take the write lock");
                    let _ = locked.send(());
                    let _ = stopped.recv();
                    conn.batch_execute("COMMIT").expect("release the write lock");
                });
                is_locked.recv().expect("the lock is taken");
                *holder = Some((stop, thread));
            }
        }
    }

    /// Long enough for the app to notice: longer than the pool's connection
    /// timeout (3 s) and SQLite's busy timeout (5 s).
    pub fn long_enough(&self) -> Duration {
        match self.kind {
            Kind::Postgres { .. } => Duration::from_millis(4500),
            Kind::Sqlite { .. } => Duration::from_millis(6500),
        }
    }

    /// The database is back.
    pub fn end(&mut self) {
        match &mut self.kind {
            Kind::Postgres { down } => {
                let _ = down.send(false);
            }
            Kind::Sqlite { holder } => {
                if let Some((stop, thread)) = holder.take() {
                    let _ = stop.send(());
                    thread.join().expect("lock holder");
                }
            }
        }
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        self.end();
    }
}

async fn proxy(listener: TcpListener, upstream: String, down: watch::Receiver<bool>) {
    while let Ok((client, _)) = listener.accept().await {
        if *down.borrow() {
            drop(client); // refused while the database is away
            continue;
        }
        let (upstream, mut down) = (upstream.clone(), down.clone());
        actix_web::rt::spawn(async move {
            let Ok(server) = TcpStream::connect(&upstream).await else {
                return;
            };
            let (mut client, mut server) = (client, server);
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                // The outage cuts every open connection.
                _ = down.wait_for(|down| *down) => {}
            }
        });
    }
}
