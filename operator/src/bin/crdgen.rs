//! `crdgen`: writes the Store CRD to `crds/storeops.dev_stores.yaml` and to
//! the chart's `crds/`, with the Store reference generated from it at
//! `docs/reference/store.md`, under the repository root (the working
//! directory, or `--root`); or only the CRD, to `--out PATH`, or to stdout
//! with `--out -`. `crdgen --help` says so.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Parser;
use operator::api::{CHART_CRD_PATH, CRD_PATH, REFERENCE_PATH, crd_yaml, reference_markdown};

/// Generate the Store CRD and its reference from the Rust types.
#[derive(Debug, Parser)]
#[command(name = "crdgen", version)]
struct Args {
    /// The repository root the three committed files are written under.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Write only the CRD, to this file (`-`: stdout), instead of the three
    /// committed files.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let yaml = crd_yaml()?;
    let outputs = match args.out {
        Some(out) if out.as_os_str() == "-" => {
            print!("{yaml}");
            return Ok(());
        }
        Some(out) => vec![(out, yaml)],
        None => {
            // The committed paths, which tests compare with the code: written
            // together so that they change together.
            if !args.root.join("crds").is_dir() {
                bail!(
                    "{} has no crds/ directory: run crdgen from the repository root, or pass --root",
                    args.root.display()
                );
            }
            vec![
                (args.root.join(CRD_PATH), yaml.clone()),
                (args.root.join(CHART_CRD_PATH), yaml),
                (args.root.join(REFERENCE_PATH), reference_markdown()?),
            ]
        }
    };
    for (path, text) in outputs {
        write(&path, &text)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
