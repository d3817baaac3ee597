//! Writes the Store CRD to `crds/storeops.dev_stores.yaml`, to another path
//! given as the argument, or to stdout with `-`.

use std::path::PathBuf;

use operator::api::{CRD_PATH, crd_yaml};

fn main() -> anyhow::Result<()> {
    let yaml = crd_yaml()?;
    let path = match std::env::args().nth(1) {
        Some(arg) if arg == "-" => {
            print!("{yaml}");
            return Ok(());
        }
        Some(arg) => PathBuf::from(arg),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(CRD_PATH),
    };
    std::fs::write(&path, yaml).map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
