//! Child processes that cannot outlive the test that started them.
//!
//! Every program is started through `setpriv --pdeathsig KILL` by one
//! long-lived supervisor thread: the kernel kills the child when the thread
//! that forked it dies, so the thread must live as long as the process. Then
//! a test binary that panics, exits or is killed leaves nothing running.
//! Output goes to a log file per program (appended to, so a restart keeps
//! what came before), named in every error.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
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
    launch: Launch,
}

/// What starts a program: kept so that [`Process::restart`] starts the same.
#[derive(Clone)]
struct Launch {
    program: PathBuf,
    args: Vec<String>,
    /// `Some`: exactly this environment; `None`: the test's own.
    env: Option<Vec<(String, String)>>,
}

impl Process {
    /// Starts `program args...` with the caller's environment, output to `log`.
    pub fn start(name: &str, program: &Path, args: &[String], log: &Path) -> Result<Self, Error> {
        Process::launch(name, launch(program, args, None), log)
    }

    /// Starts `program args...` with exactly `env` as its environment
    /// (nothing inherited: a program configured by variables sees only
    /// these), output to `log`.
    pub fn start_with_env(
        name: &str,
        program: &Path,
        args: &[String],
        env: &[(String, String)],
        log: &Path,
    ) -> Result<Self, Error> {
        Process::launch(name, launch(program, args, Some(env.to_vec())), log)
    }

    fn launch(name: &str, launch: Launch, log: &Path) -> Result<Self, Error> {
        let child = spawn(name, &launch, open_log(log)?)?;
        Ok(Process {
            name: name.into(),
            child,
            log: log.to_path_buf(),
            launch,
        })
    }

    /// Starts it again with the same program, arguments and environment, its
    /// output appended to the same log (after a [`Process::kill`] or
    /// [`Process::stop`]; a running one is stopped first).
    pub fn restart(&mut self) -> Result<(), Error> {
        self.stop(Duration::from_secs(10));
        self.child = spawn(&self.name, &self.launch, open_log(&self.log)?)?;
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

    /// SIGTERM, then its exit status once it exits. After `within` it is
    /// killed and the error is [`Error::Timeout`]: a program that ignores
    /// SIGTERM is a finding, not a hang.
    pub fn terminate(&mut self, within: Duration) -> Result<ExitStatus, Error> {
        let waited = |e| Error::io(format!("waiting for {}", self.name), e);
        if let Some(status) = self.child.try_wait().map_err(waited)? {
            return Ok(status);
        }
        // Gone between the check and the signal: the wait below reaps it.
        let _ = sigterm(self.child.id());
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().map_err(waited)? {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
        Err(Error::Timeout {
            what: format!("{} exiting on SIGTERM", self.name),
            seconds: within.as_secs(),
            last: "still running: killed".into(),
        })
    }

    /// SIGTERM, then SIGKILL after `grace`.
    pub fn stop(&mut self, grace: Duration) {
        let _ = self.terminate(grace);
    }

    /// Polls `ready` every 100 ms until it holds; how long that took. Fails
    /// as soon as the process exits ([`Error::Exited`], with its log) or
    /// after `limit` ([`Error::Timeout`] naming `what`).
    pub fn wait_ready(
        &mut self,
        what: &str,
        limit: Duration,
        mut ready: impl FnMut() -> bool,
    ) -> Result<Duration, Error> {
        let start = Instant::now();
        while !ready() {
            self.check_running()?;
            if start.elapsed() > limit {
                return Err(Error::Timeout {
                    what: format!("{} {what}", self.name),
                    seconds: limit.as_secs(),
                    last: format!("see its log {}", self.log.display()),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(start.elapsed())
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

fn launch(program: &Path, args: &[String], env: Option<Vec<(String, String)>>) -> Launch {
    Launch {
        program: program.to_path_buf(),
        args: args.to_vec(),
        env,
    }
}

/// The log file, created or appended to.
fn open_log(log: &Path) -> Result<File, Error> {
    File::options()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| Error::io(format!("opening {}", log.display()), e))
}

/// `setpriv` by the test's own `PATH`: a cleared environment has none.
fn setpriv() -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("setpriv"))
        .find(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from("setpriv"))
}

/// Runs the program under `setpriv --pdeathsig KILL` (so it dies with the
/// test), its stdout and stderr into `out`, from the supervisor thread.
fn spawn(name: &str, launch: &Launch, out: File) -> Result<Child, Error> {
    let program = &launch.program;
    let err = out
        .try_clone()
        .map_err(|e| Error::io(format!("opening the log of {name}"), e))?;
    let mut command = Command::new(setpriv());
    command
        .arg("--pdeathsig")
        .arg("KILL")
        .arg("--")
        .arg(program)
        .args(&launch.args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    if let Some(env) = &launch.env {
        command.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
    }
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

/// Sends SIGTERM to process `pid` (std's `Child` can only SIGKILL; a
/// graceful stop needs SIGTERM). Errors: no such process, or not ours.
pub fn sigterm(pid: u32) -> Result<(), Error> {
    let pid = i32::try_from(pid).map_err(|_| {
        Error::io(
            "SIGTERM",
            std::io::Error::other(format!("pid {pid} out of range")),
        )
    })?;
    kill(Pid::from_raw(pid), Signal::SIGTERM)
        .map_err(|e| Error::io(format!("SIGTERM to pid {pid}"), std::io::Error::from(e)))
}

/// The last `lines` lines of a log file, for error messages.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
