//! `drills` and `scale-bench` take their command lines by clap: `--help`
//! says every flag and exits 0; an unknown flag, a missing one or a program
//! path that is no file exits 2 naming it, before anything starts.

use std::process::Command;

fn run(program: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(program).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const PROGRAMS: [(&str, &[&str]); 2] = [
    (
        env!("CARGO_BIN_EXE_drills"),
        &["--operator", "--store-service", "--otelcol", "--only"],
    ),
    (
        env!("CARGO_BIN_EXE_scale-bench"),
        &["--operator", "--stores", "--quiet-seconds", "--kill-at"],
    ),
];

#[test]
fn help_lists_every_flag() {
    for (program, flags) in PROGRAMS {
        let (code, stdout, stderr) = run(program, &["--help"]);
        assert_eq!(code, 0, "{program} --help: {stderr}");
        for flag in flags {
            assert!(
                stdout.contains(flag),
                "{program} --help has no {flag}: {stdout}"
            );
        }
    }
}

#[test]
fn bad_command_lines_exit_2_naming_the_problem() {
    for (program, _) in PROGRAMS {
        let (code, _, stderr) = run(program, &["--no-such-flag"]);
        assert_eq!(code, 2, "{program}: {stderr}");
        assert!(stderr.contains("--no-such-flag"), "{program}: {stderr}");
    }
    let drills = PROGRAMS[0].0;
    let (code, _, stderr) = run(drills, &["--operator", "/nonexistent/operator"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("/nonexistent/operator is not a file"),
        "{stderr}"
    );
    let (code, _, stderr) = run(
        drills,
        &[
            "--operator",
            drills,
            "--store-service",
            drills,
            "--otelcol",
            drills,
            "--only",
            "everything",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("everything"), "{stderr}");
    let bench = PROGRAMS[1].0;
    let (code, _, stderr) = run(bench, &["--operator", bench, "--stores", "10,many"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("many"), "{stderr}");
    let (code, _, stderr) = run(bench, &["--operator", bench, "--quiet-seconds", "0"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("quiet-seconds"), "{stderr}");
}
