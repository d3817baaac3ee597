//! A Prometheus server on loopback (the caller's binary; tests take
//! [`crate::programs::PROMETHEUS`], built from source), with exemplar storage and the OTLP
//! receiver on, as the stack's Prometheus runs.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::Error;
use crate::process::Process;
use crate::wait::http_status;

/// A running Prometheus, stopped when dropped.
pub struct Prometheus {
    process: Process,
    /// Its HTTP port on 127.0.0.1.
    pub port: u16,
}

impl Prometheus {
    /// Starts `program` (Prometheus) from `dir` (config, TSDB, log) with `config` (the
    /// `prometheus.yml` as JSON: scrape configs, rule files) on `port` (from
    /// [`crate::wait::free_port`]; a caller picks it first when another
    /// program must know it, as a collector exporting OTLP to it does).
    /// Waits until `/-/ready` answers 200: rules loaded, TSDB open.
    pub fn start(
        program: &Path,
        dir: &Path,
        config: &Value,
        port: u16,
    ) -> Result<Prometheus, Error> {
        let file = dir.join("prometheus.yaml");
        let yaml = serde_yaml_ng::to_string(config).map_err(|e| Error::Manifest {
            what: file.display().to_string(),
            reason: e.to_string(),
        })?;
        std::fs::write(&file, yaml)
            .map_err(|e| Error::io(format!("writing {}", file.display()), e))?;
        let args = vec![
            format!("--config.file={}", file.display()),
            format!("--storage.tsdb.path={}", dir.join("tsdb").display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--enable-feature=exemplar-storage".into(),
            "--web.enable-otlp-receiver".into(),
        ];
        let mut process =
            Process::start("prometheus", program, &args, &dir.join("prometheus.log"))?;
        process.wait_ready("ready", Duration::from_secs(60), || {
            http_status(port, "/-/ready") == Some(200)
        })?;
        Ok(Prometheus { process, port })
    }

    /// Its base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Fails with the end of its log when it has exited.
    pub fn check_running(&mut self) -> Result<(), Error> {
        self.process.check_running()
    }
}

/// The `trace_id` label of every exemplar in an answer of
/// `/api/v1/query_exemplars` (`{"data": [{"exemplars": [{"labels": ...}]}]}`),
/// in the order given; empty when the answer has none.
pub fn exemplar_trace_ids(answer: &Value) -> Vec<String> {
    answer["data"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|series| series["exemplars"].as_array().into_iter().flatten())
        .filter_map(|e| e["labels"]["trace_id"].as_str().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn exemplar_trace_ids_reads_every_series() {
        let answer = json!({"status": "success", "data": [
            {"seriesLabels": {}, "exemplars": [{"labels": {"trace_id": "a"}}, {"labels": {}}]},
            {"seriesLabels": {}, "exemplars": [{"labels": {"trace_id": "b"}}]},
        ]});
        assert_eq!(super::exemplar_trace_ids(&answer), ["a", "b"]);
        assert!(super::exemplar_trace_ids(&json!({"data": []})).is_empty());
    }
}
