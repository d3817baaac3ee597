//! The licence check of the test tooling (testbin/licences.sh, table
//! testbin/licences.tsv): every Go module testbin/ downloads or builds is in
//! the table with an open-source licence. It passes on the real testbin/, and
//! fails, naming the module and the file, on planted problems: an AGPL row,
//! a script naming a module the table lacks (Loki), an empty licence, a
//! duplicate row, a row marked not-to-use in the Go registry list, and a
//! module path it cannot expand. The extraction rule itself is checked on a
//! planted directory with each form it reads.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn real_table() -> PathBuf {
    repo().join("testbin/licences.tsv")
}

fn real_dir() -> PathBuf {
    repo().join("testbin")
}

struct Run {
    ok: bool,
    stdout: String,
    /// stderr lines that are problems (not `licences: note:` lines).
    problems: Vec<String>,
    stderr: String,
}

/// `bash testbin/licences.sh check <table> <dir>`; `partial` is the
/// not-to-use list (None: the check is skipped, STOREOPS_GO_PARTIAL_TSV="").
fn check(table: &Path, dir: &Path, partial: Option<&Path>) -> Run {
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("testbin/licences.sh"))
        .arg("check")
        .arg(table)
        .arg(dir)
        .env(
            "STOREOPS_GO_PARTIAL_TSV",
            partial.map(Path::as_os_str).unwrap_or_default(),
        );
    let out = cmd.output().expect("running bash testbin/licences.sh");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        problems: stderr
            .lines()
            .filter(|l| !l.starts_with("licences: note:"))
            .map(str::to_owned)
            .collect(),
        stderr,
    }
}

/// A copy of the real table with `edit` applied, in `tmp`.
fn planted_table(tmp: &Path, edit: impl FnOnce(String) -> String) -> PathBuf {
    let text = fs::read_to_string(real_table()).unwrap();
    let edited = edit(text.clone());
    assert_ne!(edited, text, "the plant changed nothing");
    let path = tmp.join("licences.tsv");
    fs::write(&path, edited).unwrap();
    path
}

/// The 1-based line of the table that lists `module`.
fn line_of(table: &Path, module: &str) -> usize {
    let text = fs::read_to_string(table).unwrap();
    1 + text
        .lines()
        .position(|l| l.split('\t').next() == Some(module))
        .unwrap_or_else(|| panic!("{module} is not in {}", table.display()))
}

fn rows(table: &Path) -> usize {
    fs::read_to_string(table)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .count()
}

fn assert_fails_with(run: &Run, want: &[String]) {
    assert!(!run.ok, "the check passed:\n{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.is_empty(),
        "a failed check printed a summary: {}",
        run.stdout
    );
    assert_eq!(run.problems, want, "stderr:\n{}", run.stderr);
}

#[test]
fn the_real_testbin_passes() {
    // The workplace's not-to-use list, when it exists (the script's default).
    let mut cmd = Command::new("bash");
    cmd.current_dir(repo())
        .args(["testbin/licences.sh", "check"]);
    let out = cmd.output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "bash testbin/licences.sh check failed:\n{stdout}{stderr}"
    );
    assert_eq!(
        stdout.trim_end(),
        format!("licences: {} modules, all permitted", rows(&real_table())),
        "stderr:\n{stderr}"
    );
    // Loki and Tempo are not built: no script names them, no row lists them.
    let table = fs::read_to_string(real_table()).unwrap();
    for agpl in [
        "github.com/grafana/loki",
        "github.com/grafana/tempo",
        "github.com/grafana/grafana\t",
    ] {
        assert!(!table.contains(agpl), "the table lists {agpl}");
    }
}

#[test]
fn an_agpl_row_for_a_module_the_scripts_use_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let module = "github.com/prometheus/prometheus";
    let table = planted_table(tmp.path(), |t| {
        t.replace(
            &format!("{module}\tApache-2.0\t"),
            &format!("{module}\tAGPL-3.0-only\t"),
        )
    });
    let run = check(&table, &real_dir(), None);
    let line = line_of(&table, module);
    assert_fails_with(
        &run,
        &[format!(
            "licences: {module}: {}:{line}: licence AGPL-3.0-only is forbidden (no AGPL, SSPL or BUSL code is downloaded or built)",
            table.display()
        )],
    );
    // SSPL and BUSL too, and an id outside the allow-list.
    for (licence, why) in [
        ("SSPL-1.0", "is forbidden"),
        ("BUSL-1.1", "is forbidden"),
        ("GPL-3.0-only", "is not in the allow-list"),
        ("NOASSERTION", "is \"NOASSERTION\""),
    ] {
        let table = planted_table(tmp.path(), |t| {
            t.replace(
                &format!("{module}\tApache-2.0\t"),
                &format!("{module}\t{licence}\t"),
            )
        });
        let run = check(&table, &real_dir(), None);
        assert!(!run.ok, "{licence} passed");
        assert_eq!(run.problems.len(), 1, "{licence}:\n{}", run.stderr);
        assert!(
            run.problems[0].starts_with(&format!(
                "licences: {module}: {}:{line}: licence ",
                table.display()
            )) && run.problems[0].contains(why),
            "{licence}: {}",
            run.problems[0]
        );
    }
}

#[test]
fn a_script_naming_loki_that_the_table_lacks_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("testbin");
    fs::create_dir(&dir).unwrap();
    let script = dir.join("loki.sh");
    fs::write(
        &script,
        "#!/usr/bin/env bash\n# Fetches Loki.\n\nGOFLAGS=-mod=mod go mod download -json github.com/grafana/loki/v3@v3.7.8\n",
    )
    .unwrap();
    // Without the not-to-use list: missing from the table.
    let run = check(&real_table(), &dir, None);
    let missing = format!(
        "licences: github.com/grafana/loki/v3: named in {}:4, missing from {}",
        script.display(),
        real_table().display()
    );
    assert_fails_with(&run, std::slice::from_ref(&missing));
    // With it (a planted copy of the row of the registry list): also not-to-use.
    let partial = tmp.path().join("go-partial.tsv");
    fs::write(
        &partial,
        "module\tnewest\tversions\ngithub.com/grafana/loki/v3\tnot-to-use\tnone: it is under the AGPL; use something else\n",
    )
    .unwrap();
    let run = check(&real_table(), &dir, Some(&partial));
    assert_fails_with(
        &run,
        &[
            missing,
            format!(
                "licences: github.com/grafana/loki/v3: named in {}:4: marked not-to-use in {} (none: it is under the AGPL; use something else)",
                script.display(),
                partial.display()
            ),
        ],
    );
}

#[test]
fn an_empty_licence_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let module = "sigs.k8s.io/kind";
    let table = planted_table(tmp.path(), |t| {
        t.replace(&format!("{module}\tApache-2.0\t"), &format!("{module}\t\t"))
    });
    let run = check(&table, &real_dir(), None);
    assert_fails_with(
        &run,
        &[format!(
            "licences: {module}: {}:{}: licence is empty: read it from the module and write its SPDX id",
            table.display(),
            line_of(&table, module)
        )],
    );
}

#[test]
fn a_duplicate_row_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let module = "helm.sh/helm/v4";
    let table = planted_table(tmp.path(), |t| {
        format!("{t}{module}\tApache-2.0\tplanted duplicate\n")
    });
    let first = line_of(&table, module);
    let last = fs::read_to_string(&table).unwrap().lines().count();
    let run = check(&table, &real_dir(), None);
    assert_fails_with(
        &run,
        &[format!(
            "licences: {module}: listed 2 times in {} (lines {first}, {last})",
            table.display()
        )],
    );
}

#[test]
fn a_row_marked_not_to_use_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let module = "github.com/grafana/tempo";
    let table = planted_table(tmp.path(), |t| {
        format!("{t}{module}\tApache-2.0\tplanted\n")
    });
    let partial = tmp.path().join("go-partial.tsv");
    fs::write(
        &partial,
        format!("module\tnewest\tversions\n{module}\tnot-to-use\tnone: it is under the AGPL\n"),
    )
    .unwrap();
    let run = check(&table, &real_dir(), Some(&partial));
    let line = line_of(&table, module);
    assert_fails_with(
        &run,
        &[format!(
            "licences: {module}: {}:{line}: marked not-to-use in {} (none: it is under the AGPL)",
            table.display(),
            partial.display()
        )],
    );
    // The row names a module no script uses: a note, not a problem.
    assert!(run.stderr.contains(&format!(
        "licences: note: {module} ({}:{line}) is named by no file",
        table.display()
    )));
}

/// The extraction rule on each form it reads, against an empty table: the
/// modules reported missing are exactly the ones the files name.
#[test]
fn the_rule_reads_every_form_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("testbin");
    fs::create_dir_all(dir.join("helper")).unwrap();
    fs::create_dir_all(dir.join("node_modules/x")).unwrap();
    let table = tmp.path().join("empty.tsv");
    fs::write(&table, "# module\tlicence\tused by\n").unwrap();
    fs::write(
        dir.join("build.sh"),
        r#"#!/usr/bin/env bash
V=${V:-1.0.0} # example.org/a/version-comment v1.0.0
go install "example.org/b/cmd/tool@v$V"
x=$(go mod download -json example.org/c@$(version_of c))
for m in one two/sub; do printf '\texample.org/d/%s/v3 v%s\n' "$m" "$V"; done
for p in env file; do echo "	example.org/e/${p}provider v$V"; done
printf 'require example.org/f v%s\n' "$V"
CHARTS_MODULE=${CHARTS_MODULE:-example.org/g@v0.0.0-20260101000000-abcdef123456}
sdk_module=example.org/h/go
# Not modules: package paths, ldflags, a module in prose without a version,
# a path with no domain, URLs without a version.
go build -ldflags "-X example.org/i/version.Version=v$V" example.org/j/cmd/$1 storeops/testbin/k
# example.org/l is not used here; see https://example.org/m/n for why
"#,
    )
    .unwrap();
    fs::write(
        dir.join("helper/go.mod"),
        "module storeops/helper\n\ngo 1.26\n\nrequire (\n\texample.org/o v1.2.3\n\texample.org/p v0.1.0 // indirect\n)\n",
    )
    .unwrap();
    fs::write(
        dir.join("manifest.yaml"),
        "receivers:\n  - gomod: example.org/q/receiver v0.160.0\n",
    )
    .unwrap();
    // Not read: other file kinds, node_modules.
    fs::write(dir.join("notes.md"), "example.org/r v1.0.0\n").unwrap();
    fs::write(
        dir.join("helper/main.go"),
        "import _ \"example.org/s v1\"\n",
    )
    .unwrap();
    fs::write(
        dir.join("node_modules/x/x.sh"),
        "go install example.org/t@v1\n",
    )
    .unwrap();

    let run = check(&table, &dir, None);
    assert!(!run.ok);
    let mut missing: Vec<&str> = run
        .problems
        .iter()
        .map(|l| {
            assert!(
                l.ends_with(&format!(", missing from {}", table.display())),
                "{l}"
            );
            l.strip_prefix("licences: ")
                .unwrap()
                .split(':')
                .next()
                .unwrap()
        })
        .collect();
    missing.sort_unstable();
    assert_eq!(
        missing,
        [
            "example.org/a/version-comment",
            "example.org/b/cmd/tool",
            "example.org/c",
            "example.org/d/one/v3",
            "example.org/d/two/sub/v3",
            "example.org/e/envprovider",
            "example.org/e/fileprovider",
            "example.org/f",
            "example.org/g",
            "example.org/h/go",
            "example.org/o",
            "example.org/q/receiver",
        ],
        "stderr:\n{}",
        run.stderr
    );

    // A row covers the packages of its module (go install MODULE/cmd/x@v).
    fs::write(&table, "example.org/b\tMIT\tplanted\n").unwrap();
    let run = check(&table, &dir, None);
    assert!(
        !run.problems.iter().any(|l| l.contains("example.org/b")),
        "{}",
        run.stderr
    );
    assert_eq!(run.problems.len(), 11, "{}", run.stderr);
    fs::write(&table, "# module\tlicence\tused by\n").unwrap();

    // A templated path without a loop to expand it is a problem, not a silence.
    fs::write(
        dir.join("build.sh"),
        "printf 'require example.org/u/%s v1.0.0\\n' \"$1\"\n",
    )
    .unwrap();
    fs::remove_dir_all(dir.join("helper")).unwrap();
    fs::remove_file(dir.join("manifest.yaml")).unwrap();
    let run = check(&table, &dir, None);
    assert_fails_with(
        &run,
        &[format!(
            "licences: example.org/u/%s: named in {}:1 cannot be expanded into module paths (no for loop over its placeholder on that line): name each module literally",
            dir.join("build.sh").display()
        )],
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["list"][..],
        &["check", "/nonexistent/licences.tsv"][..],
    ] {
        let out = Command::new("bash")
            .arg(repo().join("testbin/licences.sh"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
