use clap::Parser;
use store_service::config::{Cli, Command};

fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            // One line that names the setting, not a page of usage.
            let first = e.to_string().lines().next().unwrap_or_default().to_string();
            eprintln!("store-service: {}", first.trim_start_matches("error: "));
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("store-service: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Serve(args) => runtime.block_on(store_service::serve::run(*args)),
        Command::Loadgen(args) => runtime.block_on(store_service::loadgen::run(args)),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("store-service: {e:#}");
            std::process::ExitCode::from(e.exit_code())
        }
    }
}
