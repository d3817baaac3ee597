//! The Dockerfiles' build stages, run as far as this machine allows without
//! a container engine: the files each one COPYs are copied into an empty
//! directory and cargo must load the workspace from them, offline and
//! `--locked`, and find the package the stage builds. (A member added to the
//! workspace but not to a Dockerfile broke `docker build` once.)

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The sources of the first stage's `COPY` lines and the package of its
/// `cargo build -p`.
fn build_stage(dockerfile: &str) -> (Vec<String>, String) {
    let text = std::fs::read_to_string(root().join(dockerfile)).unwrap();
    // The text of the first stage: from the first FROM to the second.
    let stage = text.split("\nFROM ").nth(1).unwrap();
    let mut sources = Vec::new();
    for line in stage.lines() {
        if let Some(args) = line.strip_prefix("COPY ") {
            let words: Vec<&str> = args.split_whitespace().collect();
            assert!(!words[0].starts_with("--"), "{dockerfile}: {line}");
            sources.extend(words[..words.len() - 1].iter().map(|s| s.to_string()));
        }
    }
    let package = stage
        .split_whitespace()
        .skip_while(|w| *w != "-p")
        .nth(1)
        .unwrap_or_else(|| panic!("{dockerfile}: no `cargo build -p`"))
        .to_string();
    (sources, package)
}

fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            copy(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        std::fs::copy(from, to).unwrap();
    }
}

fn check(dockerfile: &str) {
    let (sources, package) = build_stage(dockerfile);
    let dir = tempfile::tempdir().unwrap();
    for source in &sources {
        copy(&root().join(source), &dir.path().join(source));
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--locked",
            "--offline",
            "--format-version",
            "1",
            "--no-deps",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{dockerfile}: cargo cannot load the workspace from what it COPYs ({sources:?}):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(
        names.contains(&package.as_str()),
        "{dockerfile}: no package {package} in {names:?}"
    );
}

#[test]
fn the_operator_image_build_stage_loads_the_workspace() {
    check("operator/Dockerfile");
}

#[test]
fn the_store_service_image_build_stage_loads_the_workspace() {
    check("store-service/Dockerfile");
}
