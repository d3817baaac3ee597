//! Where the control plane's programs are. They are built from source by
//! `testbin/k8s.sh` (`make testbin`), which the Makefile passes to the tests
//! as environment variables; a missing one fails with the command to run.

use std::path::PathBuf;

use crate::Error;

/// A program of the control plane: its environment variable and how to build it.
#[derive(Debug, Clone, Copy)]
pub struct Program {
    /// Short name, as in the logs.
    pub name: &'static str,
    /// The variable holding its path.
    pub variable: &'static str,
    /// The command that builds it and prints its path.
    pub build: &'static str,
}

/// etcd.
pub const ETCD: Program = Program {
    name: "etcd",
    variable: "ETCD_BIN",
    build: "bash testbin/k8s.sh etcd",
};
/// kube-apiserver.
pub const KUBE_APISERVER: Program = Program {
    name: "kube-apiserver",
    variable: "KUBE_APISERVER_BIN",
    build: "bash testbin/k8s.sh kube-apiserver",
};
/// kube-controller-manager.
pub const KUBE_CONTROLLER_MANAGER: Program = Program {
    name: "kube-controller-manager",
    variable: "KUBE_CONTROLLER_MANAGER_BIN",
    build: "bash testbin/k8s.sh kube-controller-manager",
};
/// kube-scheduler.
pub const KUBE_SCHEDULER: Program = Program {
    name: "kube-scheduler",
    variable: "KUBE_SCHEDULER_BIN",
    build: "bash testbin/k8s.sh kube-scheduler",
};
/// kwok, with its stages in `kwok.yaml` next to the binary.
pub const KWOK: Program = Program {
    name: "kwok",
    variable: "KWOK_BIN",
    build: "bash testbin/k8s.sh kwok",
};
/// The directory of the monitoring.coreos.com CRDs (ServiceMonitor, PrometheusRule).
pub const MONITORING_CRDS: Program = Program {
    name: "monitoring CRDs",
    variable: "MONITORING_CRDS_DIR",
    build: "bash testbin/k8s.sh monitoring-crds",
};
/// The OpenTelemetry Collector (`bash testbin/install.sh otelcol`).
pub const OTELCOL: Program = Program {
    name: "otelcol",
    variable: "OTELCOL_BIN",
    build: "bash testbin/install.sh otelcol",
};
/// Prometheus, the server (`bash testbin/backends.sh prometheus`).
pub const PROMETHEUS: Program = Program {
    name: "prometheus",
    variable: "PROMETHEUS_BIN",
    build: "bash testbin/backends.sh prometheus",
};
/// promtool, Prometheus's rule checker and unit tester.
pub const PROMTOOL: Program = Program {
    name: "promtool",
    variable: "PROMTOOL_BIN",
    build: "bash testbin/backends.sh promtool",
};
/// Alertmanager (`bash testbin/backends.sh alertmanager`; its API, no UI).
pub const ALERTMANAGER: Program = Program {
    name: "alertmanager",
    variable: "ALERTMANAGER_BIN",
    build: "bash testbin/backends.sh alertmanager",
};
/// helm.
pub const HELM: Program = Program {
    name: "helm",
    variable: "HELM_BIN",
    build: "bash testbin/k8s.sh helm",
};
/// kind (only its config loader runs: there is no container engine).
pub const KIND: Program = Program {
    name: "kind",
    variable: "KIND_BIN",
    build: "bash testbin/k8s.sh kind",
};
/// BuildKit's Dockerfile linter, the checks of `docker build --check`.
pub const DOCKERFILE_LINT: Program = Program {
    name: "dockerfile-lint",
    variable: "DOCKERFILE_LINT",
    build: "bash testbin/dockerfile-lint/build.sh",
};
/// The observability stack's Helm charts at the pinned versions, assembled
/// for an offline `helm template` (kube-prometheus-stack, loki, tempo).
pub const STACK_CHARTS: Program = Program {
    name: "stack charts",
    variable: "STACK_CHARTS_DIR",
    build: "bash testbin/charts.sh",
};
/// Grafana's dashboard schema as a validator (`testbin/grafana-schema/`).
pub const GRAFANA_DASHBOARD_VALIDATE: Program = Program {
    name: "grafana-dashboard-validate",
    variable: "GRAFANA_DASHBOARD_VALIDATE",
    build: "bash testbin/grafana-schema/build.sh",
};

impl Program {
    /// The path the environment names, checked to exist.
    pub fn path(&self) -> Result<PathBuf, Error> {
        let missing = |why: String| Error::MissingProgram {
            program: self.name,
            why,
            fix: format!(
                "run `make testbin` (or `{}` and export {}=<the printed path>)",
                self.build, self.variable
            ),
        };
        let value = std::env::var_os(self.variable)
            .ok_or_else(|| missing(format!("{} is not set", self.variable)))?;
        let path = PathBuf::from(value);
        if !path.exists() {
            return Err(missing(format!(
                "{}={} does not exist",
                self.variable,
                path.display()
            )));
        }
        Ok(path)
    }
}
