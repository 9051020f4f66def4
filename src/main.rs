use std::process::ExitCode;

use clap::Parser;
use practika::{cli, telemetry};

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
