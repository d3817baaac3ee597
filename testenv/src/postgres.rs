//! A throwaway PostgreSQL server on loopback: Debian's `postgresql` package
//! (`make deps`), a fresh cluster in a temporary directory, trust
//! authentication on 127.0.0.1 only.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::Error;
use crate::wait::free_port;

/// A running server, stopped (immediately: nothing in it is kept) when dropped.
pub struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    _dir: tempfile::TempDir,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Postgres {
    /// `initdb` and `pg_ctl start` in a new temporary directory, as the
    /// `postgres` user when the test runs as root (PostgreSQL refuses root).
    /// Fails naming the missing package, or with the server's own log.
    pub fn start() -> Result<Postgres, Error> {
        let bin = server_bin()?;
        let dir = tempfile::Builder::new()
            .prefix("storeops-pg")
            .tempdir()
            .map_err(|e| Error::io("creating a directory for PostgreSQL", e))?;
        let data = dir.path().join("data");
        if running_as_root() {
            // The postgres user owns the cluster; everyone may reach the socket.
            run(
                Command::new("chown")
                    .arg("-R")
                    .arg("postgres")
                    .arg(dir.path()),
                "chown",
            )?;
            run(Command::new("chmod").arg("755").arg(dir.path()), "chmod")?;
        }
        run(
            as_postgres(&bin.join("initdb")).arg("-D").arg(&data).args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]),
            "initdb",
        )?;
        let port = free_port()?;
        let log = dir.path().join("postgres.log");
        let started = run(
            as_postgres(&bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "30", "start", "-o"])
                .arg(format!(
                    "-h 127.0.0.1 -p {port} -k {} -c fsync=on -c max_connections=100",
                    dir.path().display()
                ))
                // The server must not hold our pipe open: output() would wait on it.
                .stdout(Stdio::null()),
            "pg_ctl start",
        );
        if let Err(e) = started {
            return Err(Error::Start {
                name: "postgres".into(),
                reason: format!("{e}; its log:\n{}", crate::process::tail(&log, 20)),
            });
        }
        Ok(Postgres {
            bin,
            data,
            _dir: dir,
            port,
        })
    }

    /// Creates the empty database `name`; its URL
    /// (`postgres://postgres@127.0.0.1:PORT/NAME`).
    pub fn database(&self, name: &str) -> Result<String, Error> {
        run(
            Command::new(self.bin.join("psql"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
                .args(["-U", "postgres", "-c", &format!("CREATE DATABASE {name}")]),
            "psql CREATE DATABASE",
        )?;
        Ok(format!(
            "postgres://postgres@127.0.0.1:{}/{name}",
            self.port
        ))
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` with `initdb` in it.
fn server_bin() -> Result<PathBuf, Error> {
    std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|d| d.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).max())
        .filter(|bin| bin.join("initdb").exists())
        .ok_or(Error::MissingProgram {
            program: "postgres",
            why: "no /usr/lib/postgresql/<version>/bin/initdb".into(),
            fix: "install Debian's PostgreSQL server: `make deps` (apt-get install postgresql)"
                .into(),
        })
}

/// Whether this process runs as root (`/proc/self` belongs to its user).
fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// `program` as the `postgres` user when we are root.
fn as_postgres(program: &Path) -> Command {
    if running_as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// Runs a command to completion; its stderr in the error when it fails.
fn run(command: &mut Command, what: &str) -> Result<Output, Error> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::io(format!("running {what}"), e))?;
    if !out.status.success() {
        return Err(Error::Start {
            name: what.into(),
            reason: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    Ok(out)
}
