//! `cluster-local` takes its command line by clap: `--help` says every flag
//! and exits 0; an unknown flag exits 2 naming it, before anything starts.

use std::process::Command;

const CLUSTER_LOCAL: &str = env!("CARGO_BIN_EXE_cluster-local");

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(CLUSTER_LOCAL).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_lists_every_flag() {
    let (code, stdout, stderr) = run(&["--help"]);
    assert_eq!(code, 0, "--help: {stderr}");
    for flag in ["--operator", "<DIR>"] {
        assert!(stdout.contains(flag), "--help has no {flag}: {stdout}");
    }
}

#[test]
fn an_unknown_flag_exits_2_naming_it() {
    let (code, _, stderr) = run(&["--no-such-flag"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--no-such-flag"), "{stderr}");
}
