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

/// `crdgen`'s command line: `--help` helps (it once wrote a file named
/// `--help`), paths are relative to the working directory, and outside a
/// checkout it says what it needs instead of writing anywhere.
#[test]
fn crdgen_has_a_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let crdgen = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_crdgen"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let help = crdgen(&["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("--root") && text.contains("--out"), "{text}");
    let stdout = crdgen(&["--out", "-"]);
    assert!(String::from_utf8_lossy(&stdout.stdout).contains("kind: CustomResourceDefinition"));
    let nowhere = crdgen(&[]);
    assert!(!nowhere.status.success());
    let err = String::from_utf8_lossy(&nowhere.stderr);
    assert!(err.contains("no crds/ directory"), "{err}");
    crdgen(&["--out", "store.yaml"]);
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["store.yaml"], "crdgen wrote elsewhere than asked");
}
