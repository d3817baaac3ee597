//! Writes the Store CRD to `crds/storeops.dev_stores.yaml` and to the chart's
//! `crds/`, with the Store reference generated from it at
//! `docs/reference/store.md`; or only the CRD, to another path given as the
//! argument, or to stdout with `-`.

use std::path::{Path, PathBuf};

use operator::api::{CHART_CRD_PATH, CRD_PATH, REFERENCE_PATH, crd_yaml, reference_markdown};

fn main() -> anyhow::Result<()> {
    let yaml = crd_yaml()?;
    let outputs = match std::env::args().nth(1) {
        Some(arg) if arg == "-" => {
            print!("{yaml}");
            return Ok(());
        }
        Some(arg) => vec![(PathBuf::from(arg), yaml)],
        None => {
            // The default paths are the committed ones, which tests compare
            // with the code: write them all so that they change together.
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
            vec![
                (root.join(CRD_PATH), yaml.clone()),
                (root.join(CHART_CRD_PATH), yaml),
                (root.join(REFERENCE_PATH), reference_markdown()?),
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
    let fail = |e: std::io::Error| anyhow::anyhow!("writing {}: {e}", path.display());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    std::fs::write(path, text).map_err(fail)
}
