//! The Dockerfiles' build stages, run as far as this machine allows without
//! a container engine (`make images` builds them for real on kind's tier):
//! the files each one COPYs are copied into an empty
//! directory and cargo must load the workspace from them, offline and
//! `--locked`, and find the package the stage builds. (A member added to the
//! workspace but not to a Dockerfile broke `docker build` once.) And each
//! Dockerfile passes the checks of `docker build --check` (BuildKit's own
//! linter, built from source; base images are not pulled).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The build stages: the text before the last `FROM` (the runtime image's).
fn build_stages(dockerfile: &str) -> String {
    let text = std::fs::read_to_string(root().join(dockerfile)).unwrap();
    let last = text
        .rfind("\nFROM ")
        .unwrap_or_else(|| panic!("{dockerfile}: no FROM"));
    text[..last].to_string()
}

/// The sources the build stages `COPY` from the context (not `--from` a
/// stage) and the packages of their `cargo build -p`.
fn build_stage(dockerfile: &str) -> (Vec<String>, Vec<String>) {
    let stages = build_stages(dockerfile);
    let mut sources = Vec::new();
    for line in stages.lines() {
        if let Some(args) = line.strip_prefix("COPY ") {
            let words: Vec<&str> = args.split_whitespace().collect();
            if words[0].starts_with("--from=") {
                continue;
            }
            assert!(!words[0].starts_with("--"), "{dockerfile}: {line}");
            for source in &words[..words.len() - 1] {
                if !sources.contains(&source.to_string()) {
                    sources.push(source.to_string());
                }
            }
        }
    }
    let build = stages
        .split("cargo build")
        .nth(1)
        .unwrap_or_else(|| panic!("{dockerfile}: no `cargo build`"));
    let words: Vec<&str> = build
        .split("&&")
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let packages: Vec<String> = words
        .windows(2)
        .filter(|w| w[0] == "-p")
        .map(|w| w[1].to_string())
        .collect();
    assert!(!packages.is_empty(), "{dockerfile}: no `cargo build -p`");
    (sources, packages)
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
    let (sources, packages) = build_stage(dockerfile);
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
    for package in packages {
        assert!(
            names.contains(&package.as_str()),
            "{dockerfile}: no package {package} in {names:?}"
        );
    }
}

#[test]
fn the_operator_image_build_stage_loads_the_workspace() {
    check("operator/Dockerfile");
}

#[test]
fn the_store_service_image_build_stage_loads_the_workspace() {
    check("store-service/Dockerfile");
}

/// `make images` compiles the workspace once for both images only while the
/// build stages match instruction for instruction (the layer cache's key).
#[test]
fn both_images_share_their_build_stages() {
    let instructions = |dockerfile: &str| -> Vec<String> {
        build_stages(dockerfile)
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    };
    let (operator, store) = (
        instructions("operator/Dockerfile"),
        instructions("store-service/Dockerfile"),
    );
    assert_eq!(operator, store, "the build stages differ");
    let (_, packages) = build_stage("operator/Dockerfile");
    assert_eq!(packages, ["store-service", "operator"]);
}

/// BuildKit's linter on `dockerfiles`: its findings, one per line.
fn lint(dockerfiles: &[PathBuf]) -> (bool, String) {
    let lint = testenv::programs::DOCKERFILE_LINT
        .path()
        .unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(lint).args(dockerfiles).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "dockerfile-lint failed: {stderr}"
    );
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_dockerfiles_pass_buildkits_checks() {
    let files = [
        root().join("operator/Dockerfile"),
        root().join("store-service/Dockerfile"),
        root().join("e2e/postgres/Dockerfile"),
    ];
    let (clean, findings) = lint(&files);
    assert!(clean, "docker build --check would report:\n{findings}");
    // The same linter finds what a careless edit brings in.
    let dir = tempfile::tempdir().unwrap();
    let careless = dir.path().join("Dockerfile");
    let text = std::fs::read_to_string(&files[1]).unwrap();
    std::fs::write(
        &careless,
        text.replace("AS build", "as Build")
            .replace(r#"CMD ["serve"]"#, "CMD serve"),
    )
    .unwrap();
    let (clean, findings) = lint(&[careless]);
    assert!(!clean);
    for rule in ["StageNameCasing", "FromAsCasing", "JSONArgsRecommended"] {
        assert!(findings.contains(rule), "{rule} not reported:\n{findings}");
    }
}
