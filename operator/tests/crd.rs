//! The committed CRD is the one the code generates.

use std::path::PathBuf;

#[test]
fn the_committed_crd_matches_the_rust_types() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(operator::api::CRD_PATH);
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let generated = operator::api::crd_yaml().unwrap();
    assert!(
        committed == generated,
        "{} is stale: run `cargo run -p operator --bin crdgen` and commit the result",
        operator::api::CRD_PATH
    );
}
