//! Writes the Store CRD to `crds/storeops.dev_stores.yaml` and to the chart's
//! `crds/`, to another path given as the argument, or to stdout with `-`.

use std::path::PathBuf;

use operator::api::{CHART_CRD_PATH, CRD_PATH, crd_yaml};

fn main() -> anyhow::Result<()> {
    let yaml = crd_yaml()?;
    let paths = match std::env::args().nth(1) {
        Some(arg) if arg == "-" => {
            print!("{yaml}");
            return Ok(());
        }
        Some(arg) => vec![PathBuf::from(arg)],
        None => {
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
            vec![root.join(CRD_PATH), root.join(CHART_CRD_PATH)]
        }
    };
    for path in paths {
        std::fs::write(&path, &yaml)
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
