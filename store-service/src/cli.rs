//! The command line: `store-service serve` and `store-service loadgen`, each
//! subcommand's flags defined beside what it runs ([`crate::config`],
//! [`crate::loadgen`]). Only `main` reads it, so neither depends on the other.

use clap::{Parser, Subcommand};

use crate::config::ServeArgs;
use crate::loadgen::LoadgenArgs;

/// The program's arguments.
#[derive(Debug, Parser)]
#[command(
    name = "store-service",
    version,
    about = "The product service of one store"
)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// What to run.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the store's HTTP API.
    Serve(Box<ServeArgs>),
    /// Generate weighted load against a running store-service.
    Loadgen(LoadgenArgs),
}
