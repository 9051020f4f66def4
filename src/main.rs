use std::process::ExitCode;

use clap::Parser;
use practika::{cli, telemetry};

/// mimalloc instead of glibc's malloc: a page's rows are allocated on a
/// database thread and freed on an HTTP worker, which glibc pays for in
/// arena locks and `malloc_consolidate` (12 % of the SQLite library's CPU
/// time in malloc and free).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    telemetry::init();
    let result = actix_web::rt::System::new().block_on(cli::run(args));
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
