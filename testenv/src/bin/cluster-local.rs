//! `cluster-local DIR [--operator BINARY]` (`--help`): starts the local control plane
//! with its files in DIR, writes DIR/kubeconfig (admin) once it can run Pods,
//! and runs until SIGTERM or Ctrl-C, then stops every program.
//!
//! With `--operator`, it also installs the Store CRD and the chart's RBAC and
//! runs that operator binary under the chart's ServiceAccount, as
//! `make e2e-local` needs; DIR/operator.kubeconfig is what the operator uses.

use std::path::PathBuf;

use testenv::{ControlPlane, Options, operator};

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cluster-local: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The local control plane with its files in DIR, until SIGTERM or Ctrl-C.
#[derive(clap::Parser)]
#[command(name = "cluster-local")]
struct Args {
    /// Where its files, logs and DIR/kubeconfig (written once ready) go.
    dir: PathBuf,
    /// Also run this operator binary under the chart's ServiceAccount.
    #[arg(long)]
    operator: Option<PathBuf>,
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let Args {
        dir,
        operator: operator_binary,
    } = <Args as clap::Parser>::parse();
    let dir = std::path::absolute(dir)?;
    let kubeconfig = dir.join("kubeconfig");
    let _ = std::fs::remove_file(&kubeconfig);
    let plane = ControlPlane::start_with(Options {
        nodes: 1,
        dir: Some(dir.clone()),
    })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let _operator = match operator_binary {
        Some(binary) => Some(runtime.block_on(async {
            let client = plane.client().await?;
            let operator_kubeconfig = operator::install(&plane, &client).await?;
            operator::Operator::start(&binary, &operator_kubeconfig, &dir, "operator-local", &[])
        })?),
        None => None,
    };
    // Written last: its existence tells the Makefile the cluster is ready.
    std::fs::copy(plane.kubeconfig(), &kubeconfig)?;
    println!(
        "cluster-local: ready; export KUBECONFIG={}",
        kubeconfig.display()
    );
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        Ok::<(), std::io::Error>(())
    })?;
    let _ = std::fs::remove_file(&kubeconfig);
    println!("cluster-local: stopping");
    Ok(())
}
