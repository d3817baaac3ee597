//! The committed CRDs (crds/ and the chart's) are the one the code generates.

use std::path::PathBuf;

#[test]
fn the_committed_crds_match_the_rust_types() {
    let generated = operator::api::crd_yaml().unwrap();
    for relative in [operator::api::CRD_PATH, operator::api::CHART_CRD_PATH] {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(relative);
        let committed = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        assert!(
            committed == generated,
            "{relative} is stale: run `cargo run -p operator --bin crdgen` and commit the result",
        );
    }
}
