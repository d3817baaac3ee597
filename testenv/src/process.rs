//! Child processes that cannot outlive the test that started them.
//!
//! Every program is started through `setpriv --pdeathsig KILL` by one
//! long-lived supervisor thread: the kernel kills the child when the thread
//! that forked it dies, so the thread must live as long as the process. Then
//! a test binary that panics, exits or is killed leaves nothing running.
//! Output goes to a log file per program, named in every error.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::Error;

type SpawnRequest = (Command, Sender<std::io::Result<Child>>);

/// The supervisor: spawns on request, never returns.
fn supervisor() -> &'static Mutex<Sender<SpawnRequest>> {
    static SUPERVISOR: OnceLock<Mutex<Sender<SpawnRequest>>> = OnceLock::new();
    SUPERVISOR.get_or_init(|| {
        let (tx, rx) = channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("testenv-supervisor".into())
            .spawn(move || {
                for (mut command, reply) in rx {
                    let _ = reply.send(command.spawn());
                }
                // Every sender is gone only at process exit; stay alive until then.
                loop {
                    std::thread::park();
                }
            })
            .expect("spawning the testenv supervisor thread");
        Mutex::new(tx)
    })
}

/// A running program, killed when dropped.
pub struct Process {
    name: String,
    child: Child,
    log: PathBuf,
    program: PathBuf,
    args: Vec<String>,
}

impl Process {
    /// Starts `program args...`, output to `log`.
    pub fn start(name: &str, program: &Path, args: &[String], log: &Path) -> Result<Self, Error> {
        let out =
            File::create(log).map_err(|e| Error::io(format!("creating {}", log.display()), e))?;
        let child = spawn(name, program, args, out)?;
        Ok(Process {
            name: name.into(),
            child,
            log: log.to_path_buf(),
            program: program.to_path_buf(),
            args: args.to_vec(),
        })
    }

    /// Starts it again with the same program and arguments, its output
    /// appended to the same log (after a [`Process::kill`] or [`Process::stop`]).
    pub fn restart(&mut self) -> Result<(), Error> {
        self.stop(Duration::from_secs(10));
        let out = File::options()
            .append(true)
            .open(&self.log)
            .map_err(|e| Error::io(format!("opening {}", self.log.display()), e))?;
        self.child = spawn(&self.name, &self.program, &self.args, out)?;
        Ok(())
    }

    /// The program's name, as given to [`Process::start`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its log file.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails with the end of the log when the process has exited.
    pub fn check_running(&mut self) -> Result<(), Error> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(Error::Exited {
                name: self.name.clone(),
                status: status.to_string(),
                log: self.log.clone(),
                tail: tail(&self.log, 20),
            }),
            Err(e) => Err(Error::io(format!("waiting for {}", self.name), e)),
        }
    }

    /// SIGTERM, then SIGKILL after `grace`.
    pub fn stop(&mut self, grace: Duration) {
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        // std's Child can only SIGKILL; a graceful stop needs SIGTERM.
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGKILL now, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(5));
    }
}

/// Runs `program args...` under `setpriv --pdeathsig KILL` (so it dies with
/// the test), its stdout and stderr into `out`, from the supervisor thread.
fn spawn(name: &str, program: &Path, args: &[String], out: File) -> Result<Child, Error> {
    let err = out
        .try_clone()
        .map_err(|e| Error::io(format!("opening the log of {name}"), e))?;
    let mut command = Command::new("setpriv");
    command
        .arg("--pdeathsig")
        .arg("KILL")
        .arg("--")
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    let (tx, rx) = channel();
    supervisor()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((command, tx))
        .map_err(|_| Error::Start {
            name: name.into(),
            reason: "the supervisor thread is gone".into(),
        })?;
    let child = rx
        .recv()
        .map_err(|_| Error::Start {
            name: name.into(),
            reason: "the supervisor thread is gone".into(),
        })?
        .map_err(|e| Error::Start {
            name: name.into(),
            reason: format!(
                "setpriv {}: {e} (setpriv is in util-linux)",
                program.display()
            ),
        })?;
    Ok(child)
}

/// The last `lines` lines of a log file, for error messages.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
