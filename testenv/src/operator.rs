//! The storeops operator as a local process under its chart's RBAC: the chart
//! installed by the real helm, and the operator given a token of the chart's
//! ServiceAccount (from a TokenRequest, as a pod would get). So every test
//! that runs it proves the chart installs and grants enough, and nothing lets
//! the operator use more. (The chart's own pods run on kwok's fake node: they
//! are admitted and scheduled, but the operator that works is this process.)

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{Api, PostParams};

use crate::process::Process;
use crate::{ControlPlane, Error, manifests, programs};

/// The release namespace the chart is installed in.
pub const NAMESPACE: &str = "storeops-system";
/// The chart's ServiceAccount (`storeops.name`).
pub const SERVICE_ACCOUNT: &str = "storeops-operator";
/// The username the API server sees for the operator.
pub const USER: &str = "system:serviceaccount:storeops-system:storeops-operator";

/// The repository root (for `crds/` and `charts/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A release of the chart: its name, namespace and `--set` values.
#[derive(Debug, Clone, Copy)]
pub struct Release<'a> {
    /// The release name; objects are named `<name>-operator`.
    pub name: &'a str,
    /// The release namespace (created under Pod Security `restricted`).
    pub namespace: &'a str,
    /// `--set` values, e.g. `watchNamespaces={shop-a}`.
    pub set: &'a [&'a str],
}

/// The release every test installs: `storeops` in [`NAMESPACE`].
pub const DEFAULT_RELEASE: Release<'static> = Release {
    name: "storeops",
    namespace: NAMESPACE,
    set: &[],
};

impl Release<'_> {
    /// The chart's ServiceAccount and the Lease name of this release.
    pub fn fullname(&self) -> String {
        format!("{}-operator", self.name)
    }
}

/// Installs the chart for real: the release namespace (Pod Security
/// `restricted`), then `helm install` after a server-side dry run, so the API
/// server admits every rendered object (CRDs from `crds/`, RBAC, the
/// Deployment under restricted Pod Security). Returns a kubeconfig holding a
/// token of the chart's ServiceAccount, for the operator process.
pub async fn install(plane: &ControlPlane, client: &Client) -> Result<PathBuf, Error> {
    install_release(plane, client, DEFAULT_RELEASE).await
}

/// [`install`] of any release (a second one beside the first, say).
pub async fn install_release(
    plane: &ControlPlane,
    client: &Client,
    release: Release<'_>,
) -> Result<PathBuf, Error> {
    let namespace = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {}\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n",
        release.namespace
    );
    manifests::apply(client, &namespace, "storeops-testenv").await?;
    helm_release(plane, release, &["install", "--dry-run=server"])?;
    helm_release(plane, release, &["install"])?;
    wait_established(client, "stores.storeops.dev").await?;
    let token = service_account_token(client, release.namespace, &release.fullname()).await?;
    // operator.kubeconfig for the default release, as scripts expect.
    let file = if release.name == DEFAULT_RELEASE.name {
        "operator".to_string()
    } else {
        format!("operator-{}", release.name)
    };
    plane.token_kubeconfig(&file, &token)
}

/// `helm <verb> storeops charts/storeops` in the release namespace against
/// the control plane; the output, or an error with helm's.
pub fn helm(plane: &ControlPlane, verb: &[&str]) -> Result<String, Error> {
    helm_release(plane, DEFAULT_RELEASE, verb)
}

/// [`helm`] for any release.
pub fn helm_release(
    plane: &ControlPlane,
    release: Release<'_>,
    verb: &[&str],
) -> Result<String, Error> {
    let mut args: Vec<String> = verb.iter().map(|s| s.to_string()).collect();
    args.extend([
        release.name.into(),
        repo_root().join("charts/storeops").display().to_string(),
        "--namespace".into(),
        release.namespace.into(),
        "--kubeconfig".into(),
        plane.kubeconfig().display().to_string(),
    ]);
    for set in release.set {
        args.extend(["--set".into(), set.to_string()]);
    }
    run_helm(&args)
}

/// Runs the testbin helm; its stdout, or an error with its stderr.
pub fn run_helm(args: &[String]) -> Result<String, Error> {
    let helm = programs::HELM.path()?;
    let output = Command::new(&helm)
        .args(args)
        .output()
        .map_err(|e| Error::io(format!("running {}", helm.display()), e))?;
    if !output.status.success() {
        return Err(Error::Manifest {
            what: format!("helm {}", args.join(" ")),
            reason: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Waits until a CRD is Established (its API is served).
pub async fn wait_established(client: &Client, name: &str) -> Result<(), Error> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let start = Instant::now();
    loop {
        let crd = api
            .get(name)
            .await
            .map_err(|e| Error::kube(format!("reading CRD {name}"), e))?;
        let established = crd.status.and_then(|s| s.conditions).is_some_and(|c| {
            c.iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        });
        if established {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(30) {
            return Err(Error::Timeout {
                what: format!("CRD {name} Established"),
                seconds: 30,
                last: "not established".into(),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn service_account_token(
    client: &Client,
    namespace: &str,
    service_account: &str,
) -> Result<String, Error> {
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: vec![],
            expiration_seconds: Some(24 * 3600),
            ..Default::default()
        },
        ..Default::default()
    };
    let answer = api
        .create_token_request(service_account, &PostParams::default(), &request)
        .await
        .map_err(|e| Error::kube(format!("requesting a token of {service_account}"), e))?;
    Ok(answer.status.map(|s| s.token).unwrap_or_default())
}

/// A running operator process.
pub struct Operator {
    process: Process,
    /// Its /metrics, /healthz, /readyz address.
    pub listen: std::net::SocketAddr,
    /// Its identity in the Lease.
    pub identity: String,
}

impl Operator {
    /// Starts `binary run` with `kubeconfig`, its log in `dir/<identity>.log`,
    /// as the default release's operator.
    pub fn start(
        binary: &Path,
        kubeconfig: &Path,
        dir: &Path,
        identity: &str,
        extra: &[&str],
    ) -> Result<Self, Error> {
        Self::start_for(binary, kubeconfig, dir, identity, DEFAULT_RELEASE, extra)
    }

    /// [`Operator::start`] as the operator of `release` (its Lease, in its namespace).
    pub fn start_for(
        binary: &Path,
        kubeconfig: &Path,
        dir: &Path,
        identity: &str,
        release: Release<'_>,
        extra: &[&str],
    ) -> Result<Self, Error> {
        let port = crate::wait::free_port()?;
        let listen: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
        let mut args: Vec<String> = vec![
            "run".into(),
            format!("--kubeconfig={}", kubeconfig.display()),
            format!("--listen={listen}"),
            format!("--lease-namespace={}", release.namespace),
            format!("--lease-name={}", release.fullname()),
            format!("--identity={identity}"),
            "--image=storeops/store-service:test".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let log = dir.join(format!("{identity}.log"));
        let process = Process::start(identity, binary, &args, &log)?;
        Ok(Operator {
            process,
            listen,
            identity: identity.into(),
        })
    }

    /// Its process id (for /proc figures such as peak memory).
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The operator's log file.
    pub fn log(&self) -> PathBuf {
        self.process.log().to_path_buf()
    }

    /// Graceful stop (SIGTERM: the Lease is released).
    pub fn stop(&mut self) {
        self.process.stop(Duration::from_secs(10));
    }

    /// SIGKILL, as a crash.
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// Fails with the log's tail if the process exited.
    pub fn check_running(&mut self) -> Result<(), Error> {
        self.process.check_running()
    }
}
