//! Starting, using and stopping one control plane.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;

use crate::certs::Credentials;
use crate::process::Process;
use crate::wait::{free_port, listening};
use crate::{Error, programs};

/// What to start.
#[derive(Debug, Clone)]
pub struct Options {
    /// Fake nodes kwok keeps Ready (0: Pods stay Pending).
    pub nodes: usize,
    /// Where the files go; `None`: a temporary directory removed on drop.
    pub dir: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            nodes: 1,
            dir: None,
        }
    }
}

/// A running control plane; dropping it stops every program.
pub struct ControlPlane {
    /// Programs in start order; stopped in reverse.
    processes: Vec<Process>,
    dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    server: String,
    ca: String,
}

/// The service-account issuer, as in a real cluster.
const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
const STARTUP: Duration = Duration::from_secs(90);

impl ControlPlane {
    /// Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
    /// kwok with one fake node, and waits until the node is Ready.
    pub fn start() -> Result<Self, Error> {
        Self::start_with(Options::default())
    }

    /// Starts a control plane as `options` say. Blocking; runs its own thread,
    /// so it may be called from inside an async test.
    pub fn start_with(options: Options) -> Result<Self, Error> {
        // Ports are found free, then bound by the programs: another process
        // may take one in between (seen in CI: kube-apiserver "bind: address
        // already in use"). Such a start is retried with new ports.
        let mut attempt = 1;
        loop {
            match Self::start_once(options.clone()) {
                Err(e) if attempt < 3 && e.to_string().contains("address already in use") => {
                    eprintln!(
                        "testenv: a port was taken before its program bound it; starting again ({e})"
                    );
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    fn start_once(options: Options) -> Result<Self, Error> {
        std::thread::scope(|s| {
            s.spawn(|| Self::start_blocking(options))
                .join()
                .unwrap_or_else(|_| {
                    Err(Error::Start {
                        name: "control plane".into(),
                        reason: "startup thread panicked".into(),
                    })
                })
        })
    }

    fn start_blocking(options: Options) -> Result<Self, Error> {
        let paths = [
            programs::ETCD.path()?,
            programs::KUBE_APISERVER.path()?,
            programs::KUBE_CONTROLLER_MANAGER.path()?,
            programs::KUBE_SCHEDULER.path()?,
            programs::KWOK.path()?,
        ];
        let (temp, dir) = match options.dir {
            Some(dir) => (None, dir),
            None => {
                let t = tempfile::Builder::new()
                    .prefix("storeops-testenv-")
                    .tempdir()
                    .map_err(|e| Error::io("creating a temporary directory", e))?;
                let d = t.path().to_path_buf();
                (Some(t), d)
            }
        };
        // A fresh cluster every time: new credentials would not match old state.
        let _ = std::fs::remove_dir_all(dir.join("etcd"));
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let credentials = Credentials::generate()?;
        let files = Files::write(&dir, &credentials)?;
        let etcd_port = free_port()?;
        let api_port = free_port()?;
        let server = format!("https://127.0.0.1:{api_port}");
        let mut plane = ControlPlane {
            processes: Vec::new(),
            dir: dir.clone(),
            _temp: temp,
            server: server.clone(),
            ca: credentials.ca.cert.clone(),
        };
        write_kubeconfig(
            &plane.kubeconfig(),
            &server,
            &credentials.ca.cert,
            User::Certificate(&credentials.admin),
        )?;

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("creating a runtime", e))?;
        plane.spawn("etcd", &paths[0], etcd_args(&dir, etcd_port)?)?;
        plane.wait("etcd", || listening(etcd_port))?;
        plane.spawn(
            "kube-apiserver",
            &paths[1],
            apiserver_args(&dir, &files, etcd_port, api_port),
        )?;
        runtime.block_on(plane.wait_ready())?;
        let kubeconfig = plane.kubeconfig().display().to_string();
        plane.spawn(
            "kube-controller-manager",
            &paths[2],
            vec![
                format!("--kubeconfig={kubeconfig}"),
                "--leader-elect=false".into(),
                "--secure-port=0".into(),
                format!(
                    "--service-account-private-key-file={}",
                    files.sa_key.display()
                ),
                format!("--root-ca-file={}", files.ca.display()),
                // Dynamic hostPath volumes, so Stores' PVCs bind as on kind.
                "--enable-hostpath-provisioner=true".into(),
                "--controllers=*".into(),
            ],
        )?;
        plane.spawn(
            "kube-scheduler",
            &paths[3],
            vec![
                format!("--kubeconfig={kubeconfig}"),
                "--leader-elect=false".into(),
                "--secure-port=0".into(),
            ],
        )?;
        let kwok_config = paths[4].with_file_name("kwok.yaml");
        plane.spawn(
            "kwok",
            &paths[4],
            vec![
                format!("--kubeconfig={kubeconfig}"),
                format!("--config={}", kwok_config.display()),
                "--manage-all-nodes=true".into(),
                "--node-lease-duration-seconds=40".into(),
                "--cidr=10.244.0.0/16".into(),
                "--node-ip=127.0.0.1".into(),
                format!("--server-address=127.0.0.1:{}", free_port()?),
            ],
        )?;
        runtime.block_on(plane.prepare(options.nodes))?;
        Ok(plane)
    }

    /// The admin kubeconfig (client certificate in `system:masters`).
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.join("admin.kubeconfig")
    }

    /// The directory of the credentials and logs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The API server's URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The API server's audit log: one JSON line per write (see [`crate::audit`]).
    pub fn audit_log(&self) -> PathBuf {
        self.dir.join("audit.log")
    }

    /// A client with admin rights. Make one per async runtime (per test).
    pub async fn client(&self) -> Result<kube::Client, Error> {
        client_from(&self.kubeconfig()).await
    }

    /// Writes a kubeconfig that authenticates with `token` (e.g. a
    /// ServiceAccount's, from a TokenRequest) and returns its path.
    pub fn token_kubeconfig(&self, name: &str, token: &str) -> Result<PathBuf, Error> {
        let path = self.dir.join(format!("{name}.kubeconfig"));
        write_kubeconfig(&path, &self.server, &self.ca, User::Token(token))?;
        Ok(path)
    }

    /// Kills `name` (kill -9, as a crash) and starts it again with the same
    /// arguments and data; for kube-apiserver, waits until it is ready.
    /// Restarting "etcd" restarts kube-apiserver after it, as a node reboot would.
    pub async fn crash_and_restart(&mut self, name: &str) -> Result<(), Error> {
        let position = |plane: &Self, name: &str| {
            plane
                .processes
                .iter()
                .position(|p| p.name() == name)
                .ok_or_else(|| Error::Start {
                    name: name.into(),
                    reason: "no such program in this control plane".into(),
                })
        };
        let names: &[&str] = if name == "etcd" {
            &["kube-apiserver", "etcd"]
        } else {
            &[name]
        };
        for n in names {
            let i = position(self, n)?;
            self.processes[i].kill();
        }
        for n in names.iter().rev() {
            let i = position(self, n)?;
            self.processes[i].restart()?;
        }
        if names.contains(&"kube-apiserver") {
            self.wait_ready().await?;
        }
        Ok(())
    }

    fn spawn(&mut self, name: &str, program: &Path, args: Vec<String>) -> Result<(), Error> {
        let log = self.dir.join(format!("{name}.log"));
        self.processes
            .push(Process::start(name, program, &args, &log)?);
        Ok(())
    }

    fn check_running(&mut self) -> Result<(), Error> {
        self.processes
            .iter_mut()
            .try_for_each(Process::check_running)
    }

    fn wait(&mut self, what: &str, mut ready: impl FnMut() -> bool) -> Result<(), Error> {
        let start = Instant::now();
        while !ready() {
            self.check_running()?;
            if start.elapsed() > STARTUP {
                return Err(timeout(what, "no answer"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    async fn wait_ready(&mut self) -> Result<(), Error> {
        let start = Instant::now();
        loop {
            self.check_running()?;
            let last = match self.readyz().await {
                Ok(()) => return Ok(()),
                Err(e) => e.to_string(),
            };
            if start.elapsed() > STARTUP {
                return Err(timeout("kube-apiserver /readyz", &last));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn readyz(&self) -> Result<(), Error> {
        let client = self.client().await?;
        let request = http_get("/readyz")?;
        client
            .request_text(request)
            .await
            .map_err(|e| Error::kube("GET /readyz", e))?;
        Ok(())
    }

    /// Fake nodes, a default StorageClass, and a wait until the nodes are Ready.
    async fn prepare(&mut self, nodes: usize) -> Result<(), Error> {
        let client = self.client().await?;
        crate::manifests::apply(&client, STORAGE_CLASS, "testenv").await?;
        let api: Api<Node> = Api::all(client.clone());
        for i in 0..nodes {
            let node: Node = serde_json::from_value(fake_node(i)).expect("valid Node");
            api.create(&PostParams::default(), &node)
                .await
                .map_err(|e| Error::kube(format!("creating node kwok-node-{i}"), e))?;
        }
        let start = Instant::now();
        loop {
            self.check_running()?;
            let list = api
                .list(&Default::default())
                .await
                .map_err(|e| Error::kube("listing nodes", e))?;
            let ready = list.items.iter().filter(|n| node_ready(n)).count();
            if ready >= nodes {
                return Ok(());
            }
            if start.elapsed() > STARTUP {
                return Err(timeout("fake nodes", &format!("{ready} of {nodes} Ready")));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        while let Some(mut p) = self.processes.pop() {
            p.stop(Duration::from_secs(5));
        }
    }
}

/// A client from a kubeconfig file.
pub async fn client_from(path: &Path) -> Result<kube::Client, Error> {
    let kubeconfig = Kubeconfig::read_from(path).map_err(|e| Error::Manifest {
        what: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| Error::Manifest {
            what: path.display().to_string(),
            reason: e.to_string(),
        })?;
    kube::Client::try_from(config).map_err(|e| Error::kube("building a client", e))
}

fn http_get(path: &str) -> Result<http::Request<Vec<u8>>, Error> {
    http::Request::get(path)
        .body(Vec::new())
        .map_err(|e| Error::Manifest {
            what: path.into(),
            reason: e.to_string(),
        })
}

fn node_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn fake_node(i: usize) -> serde_json::Value {
    let name = format!("kwok-node-{i}");
    let resources = json!({"cpu": "32", "memory": "256Gi", "pods": "250"});
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {"type": "kwok", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux"},
            "annotations": {"node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake"}
        },
        "status": {"allocatable": resources, "capacity": resources}
    })
}

fn timeout(what: &str, last: &str) -> Error {
    Error::Timeout {
        what: what.into(),
        seconds: STARTUP.as_secs(),
        last: last.into(),
    }
}

/// Credential and policy files on disk.
struct Files {
    ca: PathBuf,
    apiserver_cert: PathBuf,
    apiserver_key: PathBuf,
    sa_key: PathBuf,
    sa_public_key: PathBuf,
    audit_policy: PathBuf,
}

/// The default StorageClass: hostPath volumes provisioned by the controller
/// manager (`--enable-hostpath-provisioner`), so PVCs bind as on kind.
const STORAGE_CLASS: &str = "apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: \"true\"
provisioner: kubernetes.io/host-path
reclaimPolicy: Delete
";

/// Writes become audit events (metadata only: who, what, which object);
/// reads are left out, they would drown the writes, except those of the
/// operator's namespace's ServiceAccounts, so a read its RBAC refuses shows.
const AUDIT_POLICY: &str = "apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  userGroups: [\"system:serviceaccounts:storeops-system\"]
- level: None
  verbs: [get, list, watch]
- level: Metadata
";

impl Files {
    fn write(dir: &Path, c: &Credentials) -> Result<Self, Error> {
        let files = Files {
            ca: dir.join("ca.crt"),
            apiserver_cert: dir.join("apiserver.crt"),
            apiserver_key: dir.join("apiserver.key"),
            sa_key: dir.join("sa.key"),
            sa_public_key: dir.join("sa.pub"),
            audit_policy: dir.join("audit-policy.yaml"),
        };
        for (path, text) in [
            (&files.ca, &c.ca.cert),
            (&files.apiserver_cert, &c.apiserver.cert),
            (&files.apiserver_key, &c.apiserver.key),
            (&files.sa_key, &c.service_account_key),
            (&files.sa_public_key, &c.service_account_public_key),
            (&files.audit_policy, &AUDIT_POLICY.to_string()),
        ] {
            std::fs::write(path, text)
                .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        }
        Ok(files)
    }
}

fn etcd_args(dir: &Path, port: u16) -> Result<Vec<String>, Error> {
    let peer = free_port()?;
    Ok(vec![
        "--name=testenv".into(),
        format!("--data-dir={}", dir.join("etcd").display()),
        "--unsafe-no-fsync".into(),
        "--log-level=warn".into(),
        format!("--listen-client-urls=http://127.0.0.1:{port}"),
        format!("--advertise-client-urls=http://127.0.0.1:{port}"),
        format!("--listen-peer-urls=http://127.0.0.1:{peer}"),
        format!("--initial-advertise-peer-urls=http://127.0.0.1:{peer}"),
        format!("--initial-cluster=testenv=http://127.0.0.1:{peer}"),
    ])
}

fn apiserver_args(dir: &Path, f: &Files, etcd: u16, port: u16) -> Vec<String> {
    let p = |p: &PathBuf| p.display().to_string();
    vec![
        format!("--etcd-servers=http://127.0.0.1:{etcd}"),
        "--bind-address=127.0.0.1".into(),
        "--advertise-address=127.0.0.1".into(),
        format!("--secure-port={port}"),
        format!("--tls-cert-file={}", p(&f.apiserver_cert)),
        format!("--tls-private-key-file={}", p(&f.apiserver_key)),
        format!("--client-ca-file={}", p(&f.ca)),
        "--authorization-mode=Node,RBAC".into(),
        // As kind and most clusters: Pod Security admission, not this flag, says no.
        "--allow-privileged=true".into(),
        format!("--service-account-key-file={}", p(&f.sa_public_key)),
        format!("--service-account-signing-key-file={}", p(&f.sa_key)),
        format!("--service-account-issuer={ISSUER}"),
        "--service-cluster-ip-range=10.96.0.0/16".into(),
        // The `kubernetes` Endpoints cannot hold a loopback address.
        "--endpoint-reconciler-type=none".into(),
        format!("--audit-policy-file={}", p(&f.audit_policy)),
        format!("--audit-log-path={}", dir.join("audit.log").display()),
        "--audit-log-format=json".into(),
        "--audit-log-mode=blocking".into(),
        // Never rotated (MB; the default 100 rotates mid-run at 1000 Stores
        // and the log read back loses what came before).
        "--audit-log-maxsize=1000000".into(),
    ]
}

enum User<'a> {
    Certificate(&'a crate::certs::Pem),
    Token(&'a str),
}

fn write_kubeconfig(path: &Path, server: &str, ca: &str, user: User<'_>) -> Result<(), Error> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let user = match user {
        User::Certificate(pem) => json!({
            "client-certificate-data": b64(&pem.cert),
            "client-key-data": b64(&pem.key),
        }),
        User::Token(token) => json!({ "token": token }),
    };
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "storeops-local", "cluster": {
            "server": server,
            "certificate-authority-data": b64(ca),
        }}],
        "users": [{"name": "user", "user": user}],
        "contexts": [{"name": "storeops-local", "context": {"cluster": "storeops-local", "user": "user"}}],
        "current-context": "storeops-local",
    });
    let text = serde_yaml_ng::to_string(&config).map_err(|e| Error::Manifest {
        what: path.display().to_string(),
        reason: e.to_string(),
    })?;
    std::fs::write(path, text).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}
