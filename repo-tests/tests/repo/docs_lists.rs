//! Lists the docs copy from the code stay equal to it: the Store's printer
//! columns, wherever a page shows what `kubectl get stores` prints. (The
//! runbook index and the alert list are checked by the operator's promtool
//! tests, the condition reasons by its status tests, the reference by
//! `make crds`.)

use kube::CustomResourceExt;

/// Every Markdown page of the repository's docs, with its path.
fn pages() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut dirs = vec![root.join("docs")];
    let mut pages = vec![
        root.join("README.md"),
        root.join("charts/storeops/README.md"),
    ];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    pages
        .into_iter()
        .filter(|p| p.exists())
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_page_shows_the_printer_columns_kubectl_prints() {
    let crd = operator::api::Store::crd();
    let columns: Vec<String> = crd.spec.versions[0]
        .additional_printer_columns
        .iter()
        .flatten()
        .map(|c| c.name.to_uppercase())
        .collect();
    let expected = columns.join(", ");
    // A run of capitalised column names that holds the first one.
    let run = regex::Regex::new(r"[A-Z][A-Z-]*(?:, [A-Z][A-Z-]*)+").unwrap();
    let mut seen = 0;
    for (path, text) in pages() {
        for found in run.find_iter(&text).map(|m| m.as_str()) {
            if !found.contains(columns[0].as_str()) {
                continue;
            }
            let shown = found.strip_prefix("NAME, ").unwrap_or(found);
            assert_eq!(
                shown, expected,
                "{path}: the columns of `kubectl get stores`"
            );
            seen += 1;
        }
    }
    assert!(seen >= 3, "the columns are shown on {seen} pages' lines");
}
