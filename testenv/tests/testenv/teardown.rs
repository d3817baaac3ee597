//! No program outlives its control plane: not when it is dropped, not when the
//! process that owns it is killed with SIGKILL (no destructor runs then; the
//! kernel's parent-death signal does the work).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use testenv::wait::wait_until;

/// Pids of processes whose command line mentions `needle`.
fn processes_mentioning(needle: &Path) -> Vec<String> {
    let out = Command::new("pgrep")
        .arg("-f")
        .arg(needle)
        .output()
        .expect("pgrep (procps)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_killed_owner_leaves_no_program_running() {
    let dir = tempfile::tempdir().unwrap();
    let mut owner = Command::new(env!("CARGO_BIN_EXE_cluster-local"))
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("cluster-local ready", Duration::from_secs(120), || {
        if let Ok(Some(status)) = owner.try_wait() {
            panic!(
                "cluster-local exited {status}; logs in {}",
                dir.path().display()
            );
        }
        dir.path().join("kubeconfig").exists()
    });
    // etcd, kube-apiserver, controller-manager, scheduler, kwok all name the dir.
    let running = processes_mentioning(dir.path());
    assert!(running.len() >= 5, "expected 5 programs, found {running:?}");

    owner.kill().unwrap(); // SIGKILL: no Drop, no signal handler
    owner.wait().unwrap();
    wait_until("every program gone", Duration::from_secs(10), || {
        processes_mentioning(dir.path()).is_empty()
    });
}

#[test]
fn a_dropped_control_plane_stops_every_program() {
    let plane = testenv::ControlPlane::start().unwrap_or_else(|e| panic!("{e}"));
    let dir = plane.dir().to_path_buf();
    assert!(processes_mentioning(&dir).len() >= 5);
    drop(plane);
    wait_until("every program gone", Duration::from_secs(10), || {
        processes_mentioning(&dir).is_empty()
    });
}
