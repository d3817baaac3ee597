use clap::{CommandFactory, Parser};
use store_service::cli::{Cli, Command};

/// The variables clap reads whose value is not UTF-8: clap's own message
/// does not say which.
fn non_utf8_variables() -> Vec<String> {
    let cli = Cli::command();
    let args = cli
        .get_arguments()
        .chain(cli.get_subcommands().flat_map(|c| c.get_arguments()));
    let mut names: Vec<String> = args
        .filter_map(|a| a.get_env())
        .filter(|name| std::env::var_os(name).is_some_and(|v| v.to_str().is_none()))
        .map(|name| name.to_string_lossy().into_owned())
        .collect();
    names.dedup();
    names
}

fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e)
            if e.kind() == clap::error::ErrorKind::InvalidUtf8
                && !non_utf8_variables().is_empty() =>
        {
            eprintln!(
                "store-service: {} must be valid UTF-8",
                non_utf8_variables().join(", ")
            );
            return std::process::ExitCode::from(2);
        }
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
