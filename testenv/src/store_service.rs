//! The store-service as a program on loopback: `serve` with SQLite in a
//! directory of the caller's, configured through flags or through the
//! environment (both are the product's interface), killed with the test.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::Error;
use crate::process::Process;
use crate::wait::http_status;

/// How long a store-service may take to answer `/readyz` 200.
pub const READY_WITHIN: Duration = Duration::from_secs(20);

/// How the settings reach the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `--database-url=...`: the program also inherits the caller's environment.
    Flags,
    /// `DATABASE_URL=...`: the program's whole environment, nothing inherited.
    Environment,
}

/// A running `store-service serve`, stopped when dropped.
pub struct StoreService {
    process: Process,
    /// Its HTTP port on 127.0.0.1 (the `PORT` setting).
    pub port: u16,
    /// How long it took from start to `/readyz` 200.
    pub ready_after: Duration,
}

/// The settings every test store-service needs, named as the environment
/// variables: `STORE_ID`, `PORT`, `LISTEN_ADDRESS` (loopback),
/// `DATABASE_URL` (SQLite at `dir/store.db`), `CATALOG_FILE`
/// (`dir/catalog.yaml`, which the caller writes) and `ADMIN_TOKEN`.
pub fn settings(store_id: &str, dir: &Path, port: u16, admin_token: &str) -> Vec<(String, String)> {
    [
        ("STORE_ID", store_id.to_string()),
        ("PORT", port.to_string()),
        ("LISTEN_ADDRESS", "127.0.0.1".to_string()),
        (
            "DATABASE_URL",
            format!("sqlite://{}/store.db", dir.display()),
        ),
        (
            "CATALOG_FILE",
            dir.join("catalog.yaml").display().to_string(),
        ),
        ("ADMIN_TOKEN", admin_token.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// A variable's name as its flag: `DATABASE_URL` → `--database-url`.
pub fn flag(variable: &str) -> String {
    format!("--{}", variable.to_lowercase().replace('_', "-"))
}

/// The workspace's `store-service` binary, beside the running test's
/// directory (`target/<profile>/deps/<test>` → `target/<profile>/store-service`).
pub fn workspace_binary() -> Result<PathBuf, Error> {
    let exe = std::env::current_exe().map_err(|e| Error::io("finding the test binary", e))?;
    let bin = exe
        .ancestors()
        .nth(2)
        .map(|profile| profile.join("store-service"))
        .filter(|bin| bin.exists());
    bin.ok_or_else(|| Error::MissingProgram {
        program: "store-service",
        why: format!("no store-service two directories above {}", exe.display()),
        fix: "run `cargo build -p store-service` (make test builds it)".into(),
    })
}

impl StoreService {
    /// Starts `binary serve` with `settings` (as [`settings`] names them;
    /// later entries win; `PORT` must be among them), its output appended
    /// to `dir/store-service.log`, and waits for `/readyz` 200. Fails with
    /// [`Error::Exited`] (and its log) when it exits first.
    pub fn start(
        binary: &Path,
        dir: &Path,
        settings: &[(String, String)],
        via: Via,
    ) -> Result<StoreService, Error> {
        let port = settings
            .iter()
            .rev()
            .find(|(k, _)| k == "PORT")
            .and_then(|(_, v)| v.parse().ok())
            .ok_or_else(|| Error::Start {
                name: "store-service".into(),
                reason: "no PORT among its settings".into(),
            })?;
        let log = dir.join("store-service.log");
        let serve = vec!["serve".to_string()];
        let mut process = match via {
            Via::Flags => {
                let mut args = serve;
                args.extend(settings.iter().map(|(k, v)| format!("{}={v}", flag(k))));
                Process::start("store-service", binary, &args, &log)?
            }
            Via::Environment => {
                Process::start_with_env("store-service", binary, &serve, settings, &log)?
            }
        };
        let ready_after = process.wait_ready("/readyz 200", READY_WITHIN, || {
            http_status(port, "/readyz") == Some(200)
        })?;
        Ok(StoreService {
            process,
            port,
            ready_after,
        })
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The process: to kill, restart, terminate or stop it.
    pub fn process(&mut self) -> &mut Process {
        &mut self.process
    }

    /// Restarts it after a kill or stop (same settings, same port) and
    /// waits for `/readyz` 200 again.
    pub fn restart(&mut self) -> Result<Duration, Error> {
        self.process.restart()?;
        let port = self.port;
        self.process.wait_ready("/readyz 200", READY_WITHIN, || {
            http_status(port, "/readyz") == Some(200)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_become_kebab_case_flags() {
        assert_eq!(flag("DATABASE_URL"), "--database-url");
        assert_eq!(
            flag("OTEL_EXPORTER_OTLP_ENDPOINT"),
            "--otel-exporter-otlp-endpoint"
        );
        let s = settings("alpha_store", Path::new("/d"), 8080, "t");
        assert!(s.contains(&("DATABASE_URL".into(), "sqlite:///d/store.db".into())));
        assert!(s.contains(&("PORT".into(), "8080".into())));
    }
}
