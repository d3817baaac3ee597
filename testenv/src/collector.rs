//! An OpenTelemetry Collector on loopback (the caller's binary; tests take
//! [`crate::programs::OTELCOL`], built from source): OTLP in on free ports,
//! and whatever the config exports; the test's own configs export to files,
//! read back with [`crate::otlp`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::Error;
use crate::otlp::{self, Signal};
use crate::process::Process;
use crate::wait::{free_port, listening};

/// PEM files that make the OTLP receivers serve TLS.
#[derive(Debug, Clone)]
pub struct ReceiverTls {
    /// The server certificate.
    pub cert_file: PathBuf,
    /// Its key.
    pub key_file: PathBuf,
    /// When set, clients must present a certificate this CA signed (mTLS).
    pub client_ca_file: Option<PathBuf>,
}

/// A running collector, stopped when dropped.
pub struct Collector {
    process: Process,
    /// The OTLP/gRPC receiver's port.
    pub grpc_port: u16,
    /// The OTLP/HTTP receiver's port.
    pub http_port: u16,
    scheme: &'static str,
    dir: PathBuf,
}

impl Collector {
    /// Every span and log record it receives goes to
    /// [`Collector::traces_file`] and [`Collector::logs_file`] in `dir`.
    pub fn to_files(
        program: &Path,
        dir: &Path,
        tls: Option<&ReceiverTls>,
    ) -> Result<Collector, Error> {
        let config = json!({
            "receivers": {"otlp": {"protocols": {"grpc": {}, "http": {}}}},
            "exporters": {
                "file/traces": {"path": Collector::traces_file(dir), "flush_interval": "100ms"},
                "file/logs": {"path": Collector::logs_file(dir), "flush_interval": "100ms"},
            },
            "service": {"pipelines": {
                "traces": {"receivers": ["otlp"], "exporters": ["file/traces"]},
                "logs": {"receivers": ["otlp"], "exporters": ["file/logs"]},
            }},
        });
        Collector::start(program, dir, config, tls)
    }

    /// Runs `program` with `config` (the collector's YAML as JSON) from `dir`: its OTLP
    /// receiver is put on two free loopback ports (with `tls` if given) and
    /// its own metrics are turned off; the exporters are the caller's.
    /// Waits until both receivers listen.
    pub fn start(
        program: &Path,
        dir: &Path,
        mut config: Value,
        tls: Option<&ReceiverTls>,
    ) -> Result<Collector, Error> {
        let port = free_port;
        let (grpc_port, http_port) = (port()?, port()?);
        let protocols = &mut config["receivers"]["otlp"]["protocols"];
        for (protocol, port) in [("grpc", grpc_port), ("http", http_port)] {
            protocols[protocol]["endpoint"] = json!(format!("127.0.0.1:{port}"));
            if let Some(tls) = tls {
                let mut settings = json!({"cert_file": tls.cert_file, "key_file": tls.key_file});
                if let Some(ca) = &tls.client_ca_file {
                    settings["client_ca_file"] = json!(ca);
                }
                protocols[protocol]["tls"] = settings;
            }
        }
        config["service"]["telemetry"] = json!({"metrics": {"level": "none"}});
        let file = dir.join("otelcol.yaml");
        let yaml = serde_yaml_ng::to_string(&config).map_err(|e| Error::Manifest {
            what: file.display().to_string(),
            reason: e.to_string(),
        })?;
        std::fs::write(&file, yaml)
            .map_err(|e| Error::io(format!("writing {}", file.display()), e))?;
        let args = [format!("--config={}", file.display())];
        let mut process = Process::start("otelcol", program, &args, &dir.join("otelcol.log"))?;
        process.wait_ready("receivers listening", Duration::from_secs(30), || {
            listening(grpc_port) && listening(http_port)
        })?;
        Ok(Collector {
            process,
            grpc_port,
            http_port,
            scheme: if tls.is_some() { "https" } else { "http" },
            dir: dir.to_path_buf(),
        })
    }

    /// Where [`Collector::to_files`] writes traces in `dir`.
    pub fn traces_file(dir: &Path) -> PathBuf {
        dir.join("traces.jsonl")
    }

    /// Where [`Collector::to_files`] writes log records in `dir`.
    pub fn logs_file(dir: &Path) -> PathBuf {
        dir.join("logs.jsonl")
    }

    /// The receiver's URL: `http(s)://127.0.0.1:PORT`, gRPC's or HTTP's.
    pub fn endpoint(&self, grpc: bool) -> String {
        let port = if grpc { self.grpc_port } else { self.http_port };
        format!("{}://127.0.0.1:{port}", self.scheme)
    }

    /// `(resource, span)` of every span exported to the traces file so far.
    pub fn spans(&self) -> Vec<(Value, Value)> {
        otlp::items(&Collector::traces_file(&self.dir), Signal::Traces)
    }

    /// `(resource, record)` of every log record exported to the logs file so far.
    pub fn log_records(&self) -> Vec<(Value, Value)> {
        otlp::items(&Collector::logs_file(&self.dir), Signal::Logs)
    }

    /// What the collector wrote about itself (start-up, TLS handshakes).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.process.log()).unwrap_or_default()
    }
}
