//! Logging: `RUST_LOG` filters (default `info`, with actix's server
//! internals at `warn`), one line per event, to stderr; colours only when
//! stderr is a terminal, so log files and collectors get plain text.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// actix-server's own start-up lines ("starting 2 workers") read as if
/// they were Practika's background workers; `serve` logs its own line that
/// names the HTTP workers and the job worker apart.
const DEFAULT_FILTER: &str = "info,actix_server=warn";

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}
