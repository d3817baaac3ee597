//! The modules of each Rust crate use each other one way (issue 17): no
//! import cycle, so each module can be read, tested and moved after the ones
//! it uses. A module's graph is read from its source: every `crate::`,
//! `super::` and `self::` path outside comments and `#[cfg(test)]` code,
//! resolved to the deepest module it names (a parent's `pub mod` lines are
//! not uses).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// Every module of the crate whose source root is `src`, with its source
/// (binaries under `src/bin` are crates of their own and left out).
fn modules(src: &Path) -> BTreeMap<Module, (String, bool)> {
    let mut found = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path != src.join("bin") {
                    dirs.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).unwrap().with_extension("");
            let mut module: Module = relative
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            let is_dir_module = matches!(
                module.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            );
            if is_dir_module {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            found.insert(module, (text, is_dir_module));
        }
    }
    found
}

/// The source without comments and without what follows `#[cfg(test)]`.
fn code(text: &str) -> String {
    let before_tests = text.split("#[cfg(test)]").next().unwrap_or_default();
    let comment = regex::Regex::new(r"//[^\n]*").unwrap();
    comment.replace_all(before_tests, "").into_owned()
}

/// Edges `from -> to` between distinct modules.
fn uses(modules: &BTreeMap<Module, (String, bool)>) -> BTreeSet<(Module, Module)> {
    let path =
        regex::Regex::new(r"\b(crate|super|self)((?:::(?:super|[a-z_][a-z0-9_]*))+)").unwrap();
    let group = regex::Regex::new(r"use (crate|super)::\{([^}]*)\}").unwrap();
    let word = regex::Regex::new(r"\b[a-z_][a-z0-9_]*\b").unwrap();
    let mut edges = BTreeSet::new();
    for (module, (text, _)) in modules {
        let code = code(text);
        let mut add = |target: Module| {
            if &target != module && modules.contains_key(&target) {
                edges.insert((module.clone(), target));
            }
        };
        for m in path.captures_iter(&code) {
            let mut at: Module = match &m[1] {
                "crate" => vec![],
                _ => module.clone(),
            };
            for part in m[2].trim_start_matches("::").split("::") {
                if part == "super" {
                    at.pop();
                    continue;
                }
                let mut next = at.clone();
                next.push(part.to_string());
                if !modules.contains_key(&next) {
                    break;
                }
                at = next;
            }
            add(at);
        }
        for m in group.captures_iter(&code) {
            let mut base: Module = if &m[1] == "crate" {
                vec![]
            } else {
                module.clone()
            };
            if &m[1] == "super" {
                base.pop();
            }
            for name in word.find_iter(&m[2]) {
                let mut target = base.clone();
                target.push(name.as_str().to_string());
                add(target);
            }
        }
    }
    edges
}

/// The cycles (strongly connected components of more than one module).
fn cycles(edges: &BTreeSet<(Module, Module)>) -> Vec<BTreeSet<Module>> {
    let reaches = |from: &Module| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(m) = todo.pop() {
            for (a, b) in edges {
                if *a == m && seen.insert(b.clone()) {
                    todo.push(b.clone());
                }
            }
        }
        seen
    };
    let all: BTreeSet<Module> = edges.iter().map(|(a, _)| a.clone()).collect();
    let mut found: Vec<BTreeSet<Module>> = Vec::new();
    for m in &all {
        let from_m = reaches(m);
        if !from_m.contains(m) || found.iter().any(|c| c.contains(m)) {
            continue;
        }
        let component = from_m
            .into_iter()
            .filter(|other| reaches(other).contains(m))
            .collect();
        found.push(component);
    }
    found
}

fn show(edges: &BTreeSet<(Module, Module)>, cycle: &BTreeSet<Module>) -> String {
    let name = |m: &Module| {
        if m.is_empty() {
            "crate".to_string()
        } else {
            m.join("::")
        }
    };
    edges
        .iter()
        .filter(|(a, b)| cycle.contains(a) && cycle.contains(b))
        .map(|(a, b)| format!("{} -> {}", name(a), name(b)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn assert_acyclic(crate_dir: &str) {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(crate_dir)
        .join("src");
    let modules = modules(&src);
    assert!(
        !modules.is_empty(),
        "no modules read under {}",
        src.display()
    );
    let edges = uses(&modules);
    let cycles = cycles(&edges);
    let shown: Vec<String> = cycles.iter().map(|c| show(&edges, c)).collect();
    assert!(
        cycles.is_empty(),
        "{crate_dir}: import cycles: {}",
        shown.join(" | ")
    );
}

#[test]
fn the_operators_modules_use_each_other_one_way() {
    assert_acyclic("operator");
}

#[test]
fn the_store_services_modules_use_each_other_one_way() {
    assert_acyclic("store-service");
}

#[test]
fn the_contract_and_test_crates_modules_use_each_other_one_way() {
    for crate_dir in ["contract", "logs", "testenv", "e2e", "tools"] {
        assert_acyclic(crate_dir);
    }
}

/// The reader finds a planted cycle: the test above can fail.
#[test]
fn a_planted_cycle_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::write(src.join("lib.rs"), "pub mod a;\npub mod b;\npub mod c;\n").unwrap();
    std::fs::write(src.join("a.rs"), "use crate::b::B;\n// use crate::c;\n").unwrap();
    std::fs::write(src.join("b.rs"), "use super::{a, c};\n").unwrap();
    std::fs::write(
        src.join("c.rs"),
        "pub fn f() {}\n#[cfg(test)]\nmod tests { use crate::a; }\n",
    )
    .unwrap();
    let edges = uses(&modules(src));
    let cycles = cycles(&edges);
    assert_eq!(cycles.len(), 1, "{edges:?}");
    assert_eq!(show(&edges, &cycles[0]), "a -> b, b -> a");
}

/// Every module file of the operator and the store-service is placed in the
/// module map of docs/operator.md ("Where things live"): by its file name
/// or by a folder it is in, so a newcomer finds any behaviour from there.
#[test]
fn the_module_map_places_every_module() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let doc = std::fs::read_to_string(root.join("docs/operator.md")).unwrap();
    let map = doc
        .split("## Where things live")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("docs/operator.md has a \"Where things live\" section");
    let mut missing = Vec::new();
    for crate_dir in ["operator", "store-service"] {
        let src = root.join(crate_dir).join("src");
        let mut dirs = vec![src.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if name == "lib.rs" || name.ends_with("_tests.rs") {
                    continue;
                }
                let relative = path.strip_prefix(&src).unwrap();
                let folders = relative
                    .ancestors()
                    .skip(1)
                    .filter(|a| !a.as_os_str().is_empty())
                    .map(|a| format!("{}/", a.display()));
                let placed = map.contains(&name)
                    || folders.into_iter().any(|f| map.contains(&format!("`{f}")));
                if !placed {
                    missing.push(format!("{crate_dir}/src/{}", relative.display()));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not in the module map of docs/operator.md: {missing:?}"
    );
}
