//! A bare actix-web + diesel + askama server for the pages `bench/run.sh`
//! measures Practika on: the library (COUNT, then an OFFSET page, then the
//! page's comment counts grouped), the exercise page (the exercise, the
//! thread's count, a page of comments, their replies), a video page and the
//! login form. The straightforward queries a careful programmer writes, on
//! the same database, with no framework of Practika's around them (and no
//! session lookup: what Practika spends on authentication shows in the ratio).
//!
//! `DATABASE_URL=postgres://… | sqlite://path BIND=127.0.0.1:8100 practika-bench-bare`

use std::collections::HashMap;

use actix_web::{get, web, App, HttpResponse, HttpServer};
use askama::Template;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool};
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

const PAGE_SIZE: i64 = 20;

#[derive(diesel::MultiConnection)]
enum Conn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug)]
struct Pragmas;

impl diesel::r2d2::CustomizeConnection<Conn, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, conn: &mut Conn) -> Result<(), diesel::r2d2::Error> {
        if let Conn::Sqlite(c) = conn {
            c.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

struct State {
    pool: Pool<ConnectionManager<Conn>>,
    pg: bool,
}

/// The SQL of each backend: uuids and times read as text on both.
impl State {
    /// `$n` on PostgreSQL, `?` on SQLite.
    fn params(&self, from: usize, count: usize) -> String {
        (from..from + count)
            .map(|i| if self.pg { format!("${i}") } else { "?".to_owned() })
            .collect::<Vec<_>>()
            .join(", ")
    }
    /// A uuid from a URL as the backend stores it (SQLite: 32 hex digits).
    fn key(&self, id: &str) -> String {
        if self.pg {
            id.to_owned()
        } else {
            id.replace('-', "").to_lowercase()
        }
    }
    fn uuid(&self) -> &'static str {
        if self.pg {
            "::uuid"
        } else {
            ""
        }
    }
    fn text(&self, column: &str) -> String {
        if self.pg {
            format!("{column}::text")
        } else {
            column.to_owned()
        }
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct CardRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    description: Option<String>,
    #[diesel(sql_type = Text)]
    created_at: String,
    #[diesel(sql_type = Text)]
    first_name: String,
    #[diesel(sql_type = Text)]
    last_name: String,
    #[diesel(sql_type = Text)]
    video_id: String,
    #[diesel(sql_type = Nullable<Integer>)]
    duration_sec: Option<i32>,
}

#[derive(QueryableByName)]
struct Grouped {
    #[diesel(sql_type = Text)]
    exercise_id: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct CommentRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Nullable<Text>)]
    text: Option<String>,
    #[diesel(sql_type = Text)]
    created_at: String,
    #[diesel(sql_type = Nullable<Text>)]
    parent_id: Option<String>,
    #[diesel(sql_type = Text)]
    video_id: String,
    #[diesel(sql_type = Text)]
    first_name: String,
    #[diesel(sql_type = Text)]
    last_name: String,
}

#[derive(QueryableByName)]
struct VideoRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    orig_filename: String,
    #[diesel(sql_type = Nullable<Text>)]
    title: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    duration_sec: Option<i32>,
    #[diesel(sql_type = Text)]
    created_at: String,
    #[diesel(sql_type = Nullable<Text>)]
    first_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    last_name: Option<String>,
}

struct Card {
    row: CardRow,
    comments: i64,
}

#[derive(Template)]
#[template(path = "library.html")]
struct Library {
    cards: Vec<Card>,
    page: i64,
    pages: i64,
    total: i64,
}

struct Thread {
    comment: CommentRow,
    replies: Vec<CommentRow>,
}

#[derive(Template)]
#[template(path = "exercise.html")]
struct Exercise {
    exercise: CardRow,
    total: i64,
    threads: Vec<Thread>,
}

#[derive(Template)]
#[template(path = "video.html")]
struct Video {
    video: VideoRow,
}

#[derive(Template)]
#[template(path = "login.html")]
struct Login;

type Failure = actix_web::Error;

fn fail(e: impl std::fmt::Display) -> Failure {
    actix_web::error::ErrorInternalServerError(e.to_string())
}

fn html(page: impl Template) -> Result<HttpResponse, Failure> {
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page.render().map_err(fail)?))
}

async fn blocking<T: Send + 'static>(
    state: web::Data<State>,
    f: impl FnOnce(&State, &mut Conn) -> QueryResult<Option<T>> + Send + 'static,
) -> Result<T, Failure> {
    let found = web::block(move || {
        let mut conn = state.pool.get().map_err(|e| e.to_string())?;
        f(&state, &mut conn).map_err(|e| e.to_string())
    })
    .await
    .map_err(fail)?
    .map_err(fail)?;
    found.ok_or_else(|| actix_web::error::ErrorNotFound("not found"))
}

#[derive(serde::Deserialize)]
struct PageQuery {
    page: Option<i64>,
}

const CARD_COLUMNS: &str = "e.name, e.description, u.first_name, u.last_name, v.duration_sec";

#[get("/exercises")]
async fn library(state: web::Data<State>, query: web::Query<PageQuery>) -> Result<HttpResponse, Failure> {
    let page = query.page.unwrap_or(1).max(1);
    let page = blocking(state, move |s, c| {
        let total = diesel::sql_query("SELECT count(*) AS n FROM exercises_exercise")
            .get_result::<Count>(c)?
            .n;
        let sql = format!(
            "SELECT {} AS id, {CARD_COLUMNS}, {} AS created_at, {} AS video_id \
             FROM exercises_exercise e JOIN auth_user u ON u.id = e.created_by_id \
             JOIN core_videoasset v ON v.id = e.video_asset_id \
             ORDER BY e.created_at DESC, e.id DESC LIMIT {PAGE_SIZE} OFFSET {}",
            s.text("e.id"),
            s.text("e.created_at"),
            s.text("v.id"),
            s.params(1, 1)
        );
        let rows: Vec<CardRow> = diesel::sql_query(sql)
            .bind::<BigInt, _>((page - 1) * PAGE_SIZE)
            .load(c)?;
        let mut counts: HashMap<String, i64> = HashMap::new();
        if !rows.is_empty() {
            let sql = format!(
                "SELECT {} AS exercise_id, count(*) AS n FROM comments_videocomment \
                 WHERE exercise_id IN ({}) GROUP BY exercise_id",
                s.text("exercise_id"),
                (1..=rows.len())
                    .map(|i| format!("{}{}", s.params(i, 1), s.uuid()))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut grouped = diesel::sql_query(sql).into_boxed::<MultiBackend>();
            for row in &rows {
                grouped = grouped.bind::<Text, _>(row.id.clone());
            }
            for g in grouped.load::<Grouped>(c)? {
                counts.insert(g.exercise_id, g.n);
            }
        }
        let cards = rows
            .into_iter()
            .map(|row| Card {
                comments: counts.get(&row.id).copied().unwrap_or(0),
                row,
            })
            .collect();
        Ok(Some(Library {
            cards,
            page,
            pages: (total + PAGE_SIZE - 1) / PAGE_SIZE,
            total,
        }))
    })
    .await?;
    html(page)
}

#[get("/exercises/{id}")]
async fn exercise(state: web::Data<State>, id: web::Path<String>) -> Result<HttpResponse, Failure> {
    let id = id.into_inner();
    let page = blocking(state, move |s, c| {
        let sql = format!(
            "SELECT {} AS id, {CARD_COLUMNS}, {} AS created_at, {} AS video_id \
             FROM exercises_exercise e JOIN auth_user u ON u.id = e.created_by_id \
             JOIN core_videoasset v ON v.id = e.video_asset_id WHERE e.id = {}{}",
            s.text("e.id"),
            s.text("e.created_at"),
            s.text("v.id"),
            s.params(1, 1),
            s.uuid()
        );
        let id = s.key(&id);
        let Some(exercise) = diesel::sql_query(sql)
            .bind::<Text, _>(id.clone())
            .get_result::<CardRow>(c)
            .optional()?
        else {
            return Ok(None);
        };
        let total = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM comments_videocomment WHERE exercise_id = {}{} AND parent_id IS NULL",
            s.params(1, 1),
            s.uuid()
        ))
        .bind::<Text, _>(id.clone())
        .get_result::<Count>(c)?
        .n;
        let columns = format!(
            "{} AS id, c.text, {} AS created_at, {} AS parent_id, {} AS video_id, u.first_name, u.last_name",
            s.text("c.id"),
            s.text("c.created_at"),
            s.text("c.parent_id"),
            s.text("c.video_asset_id")
        );
        let top: Vec<CommentRow> = diesel::sql_query(format!(
            "SELECT {columns} FROM comments_videocomment c JOIN auth_user u ON u.id = c.author_id \
             WHERE c.exercise_id = {}{} AND c.parent_id IS NULL \
             ORDER BY c.created_at DESC, c.id DESC LIMIT {PAGE_SIZE}",
            s.params(1, 1),
            s.uuid()
        ))
        .bind::<Text, _>(id)
        .load(c)?;
        let mut replies: Vec<CommentRow> = Vec::new();
        if !top.is_empty() {
            let sql = format!(
                "SELECT {columns} FROM comments_videocomment c JOIN auth_user u ON u.id = c.author_id \
                 WHERE c.parent_id IN ({}) ORDER BY c.created_at, c.id",
                (1..=top.len())
                    .map(|i| format!("{}{}", s.params(i, 1), s.uuid()))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut query = diesel::sql_query(sql).into_boxed::<MultiBackend>();
            for comment in &top {
                query = query.bind::<Text, _>(comment.id.clone());
            }
            replies = query.load(c)?;
        }
        let mut by_parent: HashMap<String, Vec<CommentRow>> = HashMap::new();
        for reply in replies {
            by_parent.entry(reply.parent_id.clone().unwrap_or_default()).or_default().push(reply);
        }
        let threads = top
            .into_iter()
            .map(|comment| Thread {
                replies: by_parent.remove(&comment.id).unwrap_or_default(),
                comment,
            })
            .collect();
        Ok(Some(Exercise {
            exercise,
            total,
            threads,
        }))
    })
    .await?;
    html(page)
}

#[get("/videos/{id}")]
async fn video(state: web::Data<State>, id: web::Path<String>) -> Result<HttpResponse, Failure> {
    let id = id.into_inner();
    let page = blocking(state, move |s, c| {
        let sql = format!(
            "SELECT {} AS id, v.orig_filename, v.title, v.duration_sec, {} AS created_at, u.first_name, u.last_name \
             FROM core_videoasset v LEFT JOIN auth_user u ON u.id = v.uploaded_by_id WHERE v.id = {}{}",
            s.text("v.id"),
            s.text("v.created_at"),
            s.params(1, 1),
            s.uuid()
        );
        Ok(diesel::sql_query(sql)
            .bind::<Text, _>(s.key(&id))
            .get_result::<VideoRow>(c)
            .optional()?
            .map(|video| Video { video }))
    })
    .await?;
    html(page)
}

#[get("/login")]
async fn login() -> Result<HttpResponse, Failure> {
    html(Login)
}

fn main() -> std::io::Result<()> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://data/practika.db".to_owned());
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8100".to_owned());
    let pg = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let path = if pg {
        url.clone()
    } else {
        url.trim_start_matches("sqlite://").to_owned()
    };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
    let pool = Pool::builder()
        .max_size((cores * 2).max(4))
        .connection_customizer(Box::new(Pragmas))
        .build(ConnectionManager::<Conn>::new(path))
        .map_err(std::io::Error::other)?;
    let state = web::Data::new(State { pool, pg });
    println!("bare server on http://{bind} ({})", if pg { "PostgreSQL" } else { "SQLite" });
    actix_web::rt::System::new().block_on(
        HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .service(library)
                .service(exercise)
                .service(video)
                .service(login)
        })
        .bind(&bind)?
        .run(),
    )
}
