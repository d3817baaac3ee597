//! The committed CRDs (crds/ and the chart's) are the one the code generates,
//! and so is the Store reference generated from it (docs/reference/store.md).

use std::path::PathBuf;

fn committed(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[test]
fn the_committed_crds_match_the_rust_types() {
    let generated = operator::api::crd_yaml().unwrap();
    for relative in [operator::api::CRD_PATH, operator::api::CHART_CRD_PATH] {
        assert!(
            committed(relative) == generated,
            "{relative} is stale: run `cargo run -p operator --bin crdgen` and commit the result",
        );
    }
}

#[test]
fn the_committed_store_reference_matches_the_crd() {
    let generated = operator::api::reference_markdown().unwrap();
    let relative = operator::api::REFERENCE_PATH;
    // assert! rather than assert_eq!: a diff of two whole documents says less
    // than the command that fixes it.
    assert!(
        committed(relative) == generated,
        "{relative} is stale: run `make crds` (cargo run -p operator --bin crdgen) and commit the result",
    );
}
