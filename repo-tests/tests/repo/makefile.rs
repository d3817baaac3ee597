//! The kind path of the Makefile, as far as a machine without a container
//! engine can check it: every target the README names dry-runs (`make -n`),
//! `make up` runs the whole path in order on files that exist, a missing tool
//! stops a target before it changes anything, naming the tool, while kind,
//! helm and kubectl are got where missing (hack/tools.sh: built from source,
//! linked, said in one line; the user's own left alone), and kind-config.yaml
//! is decoded by kind's own strict loader (the real kind, built from source;
//! it stops at the missing docker daemon, after the config). The kind tier
//! (testbin/kind-e2e.sh) runs `make up` itself with none of the four on PATH.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use testenv::operator::repo_root;
use testenv::programs;

/// Every target of the user's path (issue 6) and of the tests.
const TARGETS: [&str; 14] = [
    "up", "down", "images", "stack", "deploy", "demo", "grafana", "urls", "e2e", "test", "bench",
    "crds", "lint", "cluster",
];

fn make(args: &[&str], path: Option<&Path>) -> Output {
    make_with(args, path, &[])
}

/// `make` with these environment variables set too.
fn make_with(args: &[&str], path: Option<&Path>, env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new("make");
    cmd.envs(env.iter().copied());
    // cargo test sets CARGO (its own path), which the Makefile would take as its cargo.
    cmd.current_dir(repo_root())
        .env_remove("CARGO")
        .args(["--no-print-directory"])
        .args(args);
    if let Some(path) = path {
        cmd.env("PATH", path);
    }
    cmd.output().expect("running make")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_target_of_the_users_path_dry_runs() {
    for target in TARGETS {
        let out = make(&["-n", target], None);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "make -n {target}:\n{stdout}{stderr}");
        assert!(!stdout.trim().is_empty(), "make -n {target} does nothing");
    }
}

#[test]
fn make_up_runs_the_whole_path_in_order_on_files_that_exist() {
    // A laptop's path: registries answer (the air-gapped one is below).
    let out = make(&["-n", "up", "STOREOPS_AIRGAP=false"], None);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    let steps = [
        "kind create cluster --name storeops --config kind-config.yaml",
        "apply -f manifests/namespaces.yaml",
        "docker build -f operator/Dockerfile",
        "docker build -f store-service/Dockerfile",
        "kind load docker-image --name storeops",
        "upgrade --install kube-prometheus-stack",
        "upgrade --install loki",
        "upgrade --install tempo",
        "apply -f charts/stack/otel-collector.yaml",
        "apply --server-side --force-conflicts -f crds/storeops.dev_stores.yaml",
        "upgrade --install storeops charts/storeops --namespace storeops-system --skip-crds",
        "apply -n shop -f manifests/stores/",
        "apply -n shop -f manifests/loadgen.yaml",
        "wait -n shop --for=condition=Ready stores --all",
        "bash hack/urls.sh urls kind-storeops false",
    ];
    assert_in_order(&stdout, &steps);
    // Every file a command reads is in the repository.
    let files = regex::Regex::new(r"(?:-f|--config) ([\w./-]+)").unwrap();
    for cap in files.captures_iter(&stdout) {
        let path = repo_root().join(&cap[1]);
        assert!(path.exists(), "make up reads {}, which is missing", &cap[1]);
    }
    // The images deployed are the ones built and loaded into the node.
    let built = |image: &str| {
        let tag = regex::Regex::new(&format!(r"-t ({image}:\S+)")).unwrap();
        tag.captures(&stdout)
            .unwrap_or_else(|| panic!("{image} is not built:\n{stdout}"))[1]
            .to_string()
    };
    let (operator, store) = (built("storeops/operator"), built("storeops/store-service"));
    let load = stdout
        .lines()
        .find(|l| l.contains("kind load docker-image"))
        .unwrap();
    assert!(load.contains(&operator) && load.contains(&store), "{load}");
    let (repository, tag) = operator.split_once(':').unwrap();
    for set in [
        format!("image.repository={repository} --set image.tag={tag}"),
        format!("storeImage={store}"),
    ] {
        assert!(
            stdout.contains(&set),
            "make deploy does not set {set}:\n{stdout}"
        );
    }
}

/// Where no registry answers, `make up` makes every image here and runs the
/// same steps on a node image and kind config of its own; the stack comes
/// from local chart sources and images built here, with the air-gap overlay
/// last, and without the AGPL parts (Grafana, Loki, Tempo), said so.
#[test]
fn make_up_without_a_registry_builds_its_images_and_the_stacks() {
    let out = make(&["-n", "up", "STOREOPS_AIRGAP=true"], None);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    let steps = [
        "bash hack/airgap/node-image.sh",
        "bash hack/airgap/kind-config.sh kind-config.yaml >target/kind-config.airgap.json",
        "bash hack/airgap/sysctls.sh save",
        "kind create cluster --name storeops --config target/kind-config.airgap.json",
        "bash hack/airgap/base-images.sh",
        "DOCKER_BUILDKIT=0 docker build -f operator/Dockerfile -t storeops/operator:",
        "--build-arg BUILD_IMAGE=storeops/rust-build:bookworm --build-arg RUNTIME_IMAGE=storeops/runtime-base:bookworm",
        "DOCKER_BUILDKIT=0 docker build -f store-service/Dockerfile",
        "kind load docker-image --name storeops",
        "bash hack/airgap/stack-images.sh",
        "upgrade --install kube-prometheus-stack \"$(bash testbin/charts.sh)/kube-prometheus-stack\"",
        "-f charts/stack/kube-prometheus-stack.yaml",
        "-f charts/stack/airgap/kube-prometheus-stack.yaml",
        "bash hack/airgap/collector.sh storeops/otelcol:",
        "apply --server-side --force-conflicts -f crds/storeops.dev_stores.yaml",
        "upgrade --install storeops charts/storeops --namespace storeops-system --skip-crds",
        "wait -n shop --for=condition=Ready stores --all",
        "bash hack/urls.sh urls kind-storeops true",
    ];
    assert_in_order(&stdout, &steps);
    for absent in [
        "--repo",
        "upgrade --install loki",
        "upgrade --install tempo",
        "localhost:3000",
        "--config kind-config.yaml",
    ] {
        assert!(!stdout.contains(absent), "`{absent}` in:\n{stdout}");
    }
    let down = make(&["-n", "down", "STOREOPS_AIRGAP=true"], None);
    let (stdout, _) = text(&down);
    let delete = stdout.find("kind delete cluster --name storeops").unwrap();
    let restore = stdout
        .find("bash hack/airgap/sysctls.sh restore")
        .unwrap_or_else(|| panic!("make down leaves the kubelet's sysctls:\n{stdout}"));
    assert!(delete < restore, "{stdout}");
}

/// Each of `steps` is in `stdout`, after the one before it.
fn assert_in_order(stdout: &str, steps: &[&str]) {
    let mut from = 0;
    for step in steps {
        let at = stdout[from..]
            .find(step)
            .unwrap_or_else(|| panic!("`{step}` is not in make up after byte {from}:\n{stdout}"));
        from += at + step.len();
    }
}

/// A directory holding only what the Makefile needs to start: make, bash, sed.
fn bare_path() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for tool in ["make", "bash", "sed"] {
        let found = which(tool).unwrap_or_else(|| panic!("{tool} is not on PATH"));
        std::os::unix::fs::symlink(found, dir.path().join(tool)).unwrap();
    }
    dir
}

/// A directory with a link to every program on PATH but `without`: a
/// machine that lacks only those (testbin/kind-e2e.sh makes the same).
fn path_without(without: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for d in std::env::split_paths(&std::env::var_os("PATH").unwrap()) {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let link = dir.path().join(&name);
            if without.iter().any(|w| name == *w) || link.exists() || !entry.path().is_file() {
                continue;
            }
            std::os::unix::fs::symlink(entry.path(), link).unwrap();
        }
    }
    dir
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// `make <target>` on a PATH of make, bash and sed alone (with `env`) fails
/// before any command of the target is even printed, saying each of `said`.
fn stops_saying(target: &str, env: &[(&str, &Path)], said: &[String]) {
    let bare = bare_path();
    let out = make_with(&[target], Some(bare.path()), env);
    let (stdout, stderr) = text(&out);
    assert!(
        !out.status.success(),
        "make {target} went on without its tools:\n{stdout}{stderr}"
    );
    for line in said {
        assert!(
            stderr.contains(line),
            "make {target} does not say `{line}`:\n{stderr}"
        );
    }
    assert!(stdout.trim().is_empty(), "make {target} ran:\n{stdout}");
}

#[test]
fn a_missing_tool_stops_each_target_before_it_changes_anything() {
    let cases: [(&str, &[&str]); 8] = [
        ("up", &["base64"]),
        ("test", &["cargo", "go"]),
        ("e2e", &["cargo"]),
        ("bench", &["cargo", "go"]),
        ("crds", &["cargo"]),
        ("lint", &["cargo"]),
        ("grafana", &["base64"]),
        ("urls", &["base64"]),
    ];
    for (target, tools) in cases {
        let said: Vec<String> = tools
            .iter()
            .map(|tool| format!("make {target}: {tool} is required but not on PATH"))
            .collect();
        stops_saying(target, &[], &said);
    }
}

/// Without Go, kind, helm and kubectl cannot be built: each target that
/// needs them stops before it changes anything, naming each and Go; where no
/// Docker engine answers it tries to start one, and says so.
#[test]
fn a_target_that_cannot_get_its_tools_stops_naming_each() {
    // No engine can answer there (CI's would): nothing is linked or started.
    let nowhere = Path::new("unix:///nonexistent/docker.sock");
    let bin = tempfile::tempdir().unwrap();
    // An empty testbin cache: tools built there earlier (the kind tier's
    // prebuild, beside this test in CI) would be linked without Go.
    let cache = tempfile::tempdir().unwrap();
    let env = [
        ("DOCKER_HOST", nowhere),
        ("STOREOPS_TOOLS_BIN", bin.path()),
        ("STOREOPS_TOOLS_LOGS", bin.path()),
        ("STOREOPS_TESTBIN_DIR", cache.path()),
    ];
    let cases: [(&str, &[&str]); 6] = [
        ("down", &["kind"]),
        ("cluster", &["docker", "kind", "kubectl"]),
        ("images", &["docker", "kind"]),
        ("stack", &["helm", "kubectl"]),
        ("deploy", &["helm", "kubectl"]),
        ("demo", &["kubectl"]),
    ];
    for (target, tools) in cases {
        let said: Vec<String> = tools
            .iter()
            .map(|&tool| match tool {
                "docker" => format!("make {target}: no Docker engine answers"),
                _ => format!("make {target}: {tool} is not on PATH, and building it needs Go"),
            })
            .collect();
        stops_saying(target, &env, &said);
    }
}

/// hack/tools.sh on a machine that lacks kind and helm: it builds each from
/// source (the testbin cache: seconds once built), says so in one line each
/// (the build's output goes to a log), links it, and the link runs; once
/// linked, or where the user has their own, it says nothing and links
/// nothing.
#[test]
fn kind_and_helm_are_got_where_missing_and_the_users_own_are_left_alone() {
    let path = path_without(&["docker", "kind", "helm", "kubectl"]);
    let bin = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let tools = |path_var: std::ffi::OsString| {
        let out = Command::new("bash")
            .arg(repo_root().join("hack/tools.sh"))
            .args(["up", "kind", "helm"])
            .env("PATH", path_var)
            .env("STOREOPS_TOOLS_BIN", bin.path())
            .env("STOREOPS_TOOLS_LOGS", logs.path())
            .output()
            .unwrap();
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "hack/tools.sh:\n{stdout}{stderr}");
        stderr
    };
    let got = tools(path.path().as_os_str().to_owned());
    for (tool, what, version) in [("kind", "kind", "kind v0.33.0"), ("helm", "Helm 4", "v4.")] {
        let said: Vec<_> = got
            .lines()
            .filter(|l| {
                l.starts_with(&format!(
                    "make up: {tool} is not on PATH: {what} from source"
                ))
            })
            .collect();
        assert_eq!(said.len(), 1, "{tool}:\n{got}");
        let link = bin.path().join(tool);
        let out = Command::new(&link).arg("version").output().unwrap();
        let printed = String::from_utf8_lossy(&out.stdout);
        assert!(
            printed.contains(version),
            "{} version: {printed}",
            link.display()
        );
    }
    // Linked, and that directory last on PATH (as the Makefile puts it).
    let linked = std::env::join_paths([path.path(), bin.path()]).unwrap();
    assert_eq!(tools(linked), "", "a second run said something");

    // The user's own kind and helm come first: nothing said, nothing linked.
    let own = tempfile::tempdir().unwrap();
    for tool in ["kind", "helm"] {
        let program = std::fs::read_link(bin.path().join(tool)).unwrap();
        std::os::unix::fs::symlink(program, own.path().join(tool)).unwrap();
        std::fs::remove_file(bin.path().join(tool)).unwrap();
    }
    let users = std::env::join_paths([own.path(), path.path()]).unwrap();
    assert_eq!(tools(users), "", "the user's own were not used");
    assert!(std::fs::read_dir(bin.path()).unwrap().next().is_none());
}

fn kind_create(config: &Path) -> String {
    let kind = programs::KIND.path().unwrap_or_else(|e| panic!("{e}"));
    // A docker daemon that cannot exist: on a machine with one, nothing is created.
    let out = Command::new(kind)
        .args([
            "create",
            "cluster",
            "--name",
            "storeops-config-check",
            "--config",
        ])
        .arg(config)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    assert!(!out.status.success(), "kind created a cluster?");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn kind_decodes_kind_config_with_its_own_strict_loader() {
    let good = kind_create(&repo_root().join("kind-config.yaml"));
    assert!(
        !good.contains("decode config") && !good.contains("invalid"),
        "kind refused kind-config.yaml:\n{good}"
    );
    // It got past the config to the container engine, which is absent here.
    assert!(
        good.contains("docker") || good.contains("podman") || good.contains("provider"),
        "{good}"
    );

    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("kind-config.yaml");
    let text = std::fs::read_to_string(repo_root().join("kind-config.yaml")).unwrap();
    std::fs::write(
        &broken,
        text.replace("extraPortMappings", "extraPortMapings"),
    )
    .unwrap();
    let refused = kind_create(&broken);
    assert!(
        refused.contains("unable to decode config") && refused.contains("extraPortMapings"),
        "the misspelled field passed:\n{refused}"
    );
}
