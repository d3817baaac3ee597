//! Lists the docs copy from the code stay equal to it: the Store's printer
//! columns, wherever a page shows what `kubectl get stores` prints; the
//! alerts, wherever a page counts them, and every alert name a page says.
//! (The runbook index is checked by the operator's promtool tests, the
//! condition reasons by its status tests, the reference by `make crds`.)

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

/// A page that counts the alerts ("11 alerts:") has the code's count and
/// names each one; any `Store…` name a page says is an alert's or a
/// condition reason's, so a renamed alert leaves no page behind.
#[test]
fn every_page_names_the_alerts_the_operator_builds() {
    use operator::monitoring::alerts::names;
    use operator::reconcile::status::Reason;
    let count = regex::Regex::new(r"(\d+)\s+alerts:").unwrap();
    let named = regex::Regex::new(r"\bStore[A-Z][A-Za-z0-9]+\b").unwrap();
    let reasons: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
    let mut counted = 0;
    for (path, text) in pages() {
        for c in count.captures_iter(&text) {
            assert_eq!(
                c[1].parse::<usize>().unwrap(),
                names::ALL.len(),
                "{path}: {}",
                &c[0]
            );
            for name in names::ALL {
                assert!(
                    text.contains(&format!("`{name}`")),
                    "{path} counts the alerts but leaves out {name}"
                );
            }
            counted += 1;
        }
        for name in named.find_iter(&text).map(|m| m.as_str()) {
            assert!(
                names::ALL.contains(&name) || reasons.contains(&name),
                "{path}: {name} is neither an alert the operator builds nor a condition reason"
            );
        }
    }
    assert!(counted >= 1, "no page counts the alerts");
}
