//! The OpenTelemetry SDK environment variables the service reads, parsed as
//! the specification says
//! (<https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/>
//! and <https://opentelemetry.io/docs/specs/otel/protocol/exporter/>):
//!
//! - an empty value is the same as an unset one;
//! - enum values (protocol, sampler, compression, exporter) are case-insensitive;
//! - lists are comma-separated, whitespace around items and around `=` trimmed,
//!   values of `key=value` lists percent-decoded;
//! - booleans are `true` when `true` in any case, `false` otherwise (with a
//!   warning for anything but `false`);
//! - a per-signal variable (`OTEL_EXPORTER_OTLP_TRACES_*`) beats the generic one;
//!   a per-signal HTTP endpoint is used as is, the generic one gets
//!   `/v1/traces` or `/v1/logs` appended.
//!
//! A value that cannot be used stops start-up with one line naming the
//! variable. Header values and file contents are never echoed: they may be
//! secrets.

use std::path::Path;
use std::time::Duration;

use clap::Args;
use storeops_contract::{env, resource};

use super::{ConfigError, bad};

/// The service's export timeout when no variable sets one, shorter than the
/// specification's 10 s default: a stuck collector must not hold a batch long.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The standard OpenTelemetry SDK variables. Every field is raw text: an
/// empty value means unset, and [`OtelSettings::from_args`] validates.
#[derive(Debug, Args, Default)]
pub struct OtelArgs {
    #[arg(long, env = env::OTEL_SERVICE_NAME)]
    pub otel_service_name: Option<String>,
    #[arg(long, env = env::OTEL_RESOURCE_ATTRIBUTES)]
    pub otel_resource_attributes: Option<String>,
    #[arg(long, env = env::OTEL_SDK_DISABLED)]
    pub otel_sdk_disabled: Option<String>,
    #[arg(long, env = env::OTEL_TRACES_EXPORTER)]
    pub otel_traces_exporter: Option<String>,
    #[arg(long, env = env::OTEL_LOGS_EXPORTER)]
    pub otel_logs_exporter: Option<String>,
    #[arg(long, env = env::OTEL_TRACES_SAMPLER)]
    pub otel_traces_sampler: Option<String>,
    #[arg(long, env = env::OTEL_TRACES_SAMPLER_ARG)]
    pub otel_traces_sampler_arg: Option<String>,
    /// Unset (with no per-signal endpoint): no export (trace context still flows).
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_ENDPOINT)]
    pub otel_exporter_otlp_endpoint: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)]
    pub otel_exporter_otlp_traces_endpoint: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_LOGS_ENDPOINT)]
    pub otel_exporter_otlp_logs_endpoint: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_PROTOCOL)]
    pub otel_exporter_otlp_protocol: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_TRACES_PROTOCOL)]
    pub otel_exporter_otlp_traces_protocol: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_LOGS_PROTOCOL)]
    pub otel_exporter_otlp_logs_protocol: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_HEADERS, hide_env_values = true)]
    pub otel_exporter_otlp_headers: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_TRACES_HEADERS, hide_env_values = true)]
    pub otel_exporter_otlp_traces_headers: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_LOGS_HEADERS, hide_env_values = true)]
    pub otel_exporter_otlp_logs_headers: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_TIMEOUT)]
    pub otel_exporter_otlp_timeout: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_TRACES_TIMEOUT)]
    pub otel_exporter_otlp_traces_timeout: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_LOGS_TIMEOUT)]
    pub otel_exporter_otlp_logs_timeout: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_COMPRESSION)]
    pub otel_exporter_otlp_compression: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_TRACES_COMPRESSION)]
    pub otel_exporter_otlp_traces_compression: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_LOGS_COMPRESSION)]
    pub otel_exporter_otlp_logs_compression: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_CERTIFICATE)]
    pub otel_exporter_otlp_certificate: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE)]
    pub otel_exporter_otlp_traces_certificate: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE)]
    pub otel_exporter_otlp_logs_certificate: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE)]
    pub otel_exporter_otlp_client_certificate: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE)]
    pub otel_exporter_otlp_traces_client_certificate: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE)]
    pub otel_exporter_otlp_logs_client_certificate: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_CLIENT_KEY, hide_env_values = true)]
    pub otel_exporter_otlp_client_key: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY, hide_env_values = true)]
    pub otel_exporter_otlp_traces_client_key: Option<String>,
    #[arg(long, env = env::OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY, hide_env_values = true)]
    pub otel_exporter_otlp_logs_client_key: Option<String>,
}

/// The OTLP wire protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    Grpc,
    HttpProtobuf,
}

/// A sampler of the OpenTelemetry specification: a root decision, optionally
/// deferring to the parent's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampler {
    pub parent_based: bool,
    pub root: RootSampler,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RootSampler {
    AlwaysOn,
    AlwaysOff,
    /// Fraction of root traces kept, 0 to 1.
    TraceIdRatio(f64),
}

/// PEM files that secure one exporter's connection, read at start-up.
#[derive(Clone, Default, PartialEq)]
pub struct TlsFiles {
    /// CA certificates that verify the collector (`*_CERTIFICATE`); `None`:
    /// the system's roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Client certificate chain and private key for mutual TLS (`*_CLIENT_CERTIFICATE`,
    /// `*_CLIENT_KEY`); set together or not at all.
    pub client: Option<(Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for TlsFiles {
    // The client key is a secret: say whether it is there, never what it is.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsFiles")
            .field("ca", &self.ca_pem.is_some())
            .field("client", &self.client.is_some())
            .finish()
    }
}

/// Where and how one signal is exported over OTLP.
#[derive(Clone, PartialEq)]
pub struct OtlpExport {
    /// The full URL: for HTTP with the signal's path already appended.
    pub endpoint: String,
    pub protocol: OtlpProtocol,
    /// Request headers (gRPC metadata), values percent-decoded.
    pub headers: Vec<(String, String)>,
    /// Deadline of one export request.
    pub timeout: Duration,
    pub gzip: bool,
    pub tls: TlsFiles,
}

impl std::fmt::Debug for OtlpExport {
    // Header values may be credentials: list the names only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("OtlpExport")
            .field("endpoint", &self.endpoint)
            .field("protocol", &self.protocol)
            .field("headers", &names)
            .field("timeout", &self.timeout)
            .field("gzip", &self.gzip)
            .field("tls", &self.tls)
            .finish()
    }
}

/// Validated OpenTelemetry settings.
#[derive(Debug, Clone)]
pub struct OtelSettings {
    pub service_name: String,
    pub resource_attributes: Vec<(String, String)>,
    pub sampler: Sampler,
    /// `None`: spans are made (trace context flows) but not exported.
    pub traces: Option<OtlpExport>,
    /// `None`: log records go to stdout only.
    pub logs: Option<OtlpExport>,
    /// Values the specification says to read leniently, to log once telemetry is up.
    pub warnings: Vec<String>,
}

/// The signals exported over OTLP, with the names of their variables.
#[derive(Clone, Copy)]
struct SignalVars {
    path: &'static str,
    endpoint: &'static str,
    protocol: &'static str,
    headers: &'static str,
    timeout: &'static str,
    compression: &'static str,
    certificate: &'static str,
    client_certificate: &'static str,
    client_key: &'static str,
}

const GENERIC: SignalVars = SignalVars {
    path: "",
    endpoint: env::OTEL_EXPORTER_OTLP_ENDPOINT,
    protocol: env::OTEL_EXPORTER_OTLP_PROTOCOL,
    headers: env::OTEL_EXPORTER_OTLP_HEADERS,
    timeout: env::OTEL_EXPORTER_OTLP_TIMEOUT,
    compression: env::OTEL_EXPORTER_OTLP_COMPRESSION,
    certificate: env::OTEL_EXPORTER_OTLP_CERTIFICATE,
    client_certificate: env::OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE,
    client_key: env::OTEL_EXPORTER_OTLP_CLIENT_KEY,
};

const TRACES: SignalVars = SignalVars {
    path: "v1/traces",
    endpoint: env::OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    protocol: env::OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
    headers: env::OTEL_EXPORTER_OTLP_TRACES_HEADERS,
    timeout: env::OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
    compression: env::OTEL_EXPORTER_OTLP_TRACES_COMPRESSION,
    certificate: env::OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE,
    client_certificate: env::OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE,
    client_key: env::OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY,
};

const LOGS: SignalVars = SignalVars {
    path: "v1/logs",
    endpoint: env::OTEL_EXPORTER_OTLP_LOGS_ENDPOINT,
    protocol: env::OTEL_EXPORTER_OTLP_LOGS_PROTOCOL,
    headers: env::OTEL_EXPORTER_OTLP_LOGS_HEADERS,
    timeout: env::OTEL_EXPORTER_OTLP_LOGS_TIMEOUT,
    compression: env::OTEL_EXPORTER_OTLP_LOGS_COMPRESSION,
    certificate: env::OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE,
    client_certificate: env::OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE,
    client_key: env::OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY,
};

/// One exporter's variables as given (per-signal or generic).
struct Given<'a> {
    endpoint: &'a Option<String>,
    protocol: &'a Option<String>,
    headers: &'a Option<String>,
    timeout: &'a Option<String>,
    compression: &'a Option<String>,
    certificate: &'a Option<String>,
    client_certificate: &'a Option<String>,
    client_key: &'a Option<String>,
}

/// A value that is set, and the variable it came from (for error messages).
type Found<'a> = Option<(&'static str, &'a str)>;

/// The specification's first rule: an empty value is treated as unset.
fn set(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

/// The per-signal value when set, else the generic one.
fn first<'a>(
    own: (&'static str, &'a Option<String>),
    all: (&'static str, &'a Option<String>),
) -> Found<'a> {
    let found = |(name, value): (&'static str, &'a Option<String>)| set(value).map(|v| (name, v));
    found(own).or_else(|| found(all))
}

impl OtelArgs {
    fn generic(&self) -> Given<'_> {
        Given {
            endpoint: &self.otel_exporter_otlp_endpoint,
            protocol: &self.otel_exporter_otlp_protocol,
            headers: &self.otel_exporter_otlp_headers,
            timeout: &self.otel_exporter_otlp_timeout,
            compression: &self.otel_exporter_otlp_compression,
            certificate: &self.otel_exporter_otlp_certificate,
            client_certificate: &self.otel_exporter_otlp_client_certificate,
            client_key: &self.otel_exporter_otlp_client_key,
        }
    }

    fn traces(&self) -> Given<'_> {
        Given {
            endpoint: &self.otel_exporter_otlp_traces_endpoint,
            protocol: &self.otel_exporter_otlp_traces_protocol,
            headers: &self.otel_exporter_otlp_traces_headers,
            timeout: &self.otel_exporter_otlp_traces_timeout,
            compression: &self.otel_exporter_otlp_traces_compression,
            certificate: &self.otel_exporter_otlp_traces_certificate,
            client_certificate: &self.otel_exporter_otlp_traces_client_certificate,
            client_key: &self.otel_exporter_otlp_traces_client_key,
        }
    }

    fn logs(&self) -> Given<'_> {
        Given {
            endpoint: &self.otel_exporter_otlp_logs_endpoint,
            protocol: &self.otel_exporter_otlp_logs_protocol,
            headers: &self.otel_exporter_otlp_logs_headers,
            timeout: &self.otel_exporter_otlp_logs_timeout,
            compression: &self.otel_exporter_otlp_logs_compression,
            certificate: &self.otel_exporter_otlp_logs_certificate,
            client_certificate: &self.otel_exporter_otlp_logs_client_certificate,
            client_key: &self.otel_exporter_otlp_logs_client_key,
        }
    }
}

impl OtelSettings {
    /// Validates every variable; reads the certificate and key files.
    pub fn from_args(a: &OtelArgs) -> Result<Self, ConfigError> {
        let mut warnings = Vec::new();
        let disabled = parse_bool(
            env::OTEL_SDK_DISABLED,
            set(&a.otel_sdk_disabled),
            &mut warnings,
        );
        let traces_on = exporter_on(env::OTEL_TRACES_EXPORTER, set(&a.otel_traces_exporter))?;
        let logs_on = exporter_on(env::OTEL_LOGS_EXPORTER, set(&a.otel_logs_exporter))?;
        // Validated even when export is off: a typo should not wait for the
        // day export is switched on.
        let traces = resolve(&TRACES, &a.traces(), &a.generic())?;
        let logs = resolve(&LOGS, &a.logs(), &a.generic())?;
        Ok(OtelSettings {
            service_name: set(&a.otel_service_name)
                .unwrap_or(resource::STORE_SERVICE_NAME)
                .to_string(),
            resource_attributes: parse_resource_attributes(
                set(&a.otel_resource_attributes).unwrap_or_default(),
            )?,
            sampler: parse_sampler(
                set(&a.otel_traces_sampler).unwrap_or("parentbased_always_on"),
                set(&a.otel_traces_sampler_arg),
            )?,
            traces: traces.filter(|_| traces_on && !disabled),
            logs: logs.filter(|_| logs_on && !disabled),
            warnings,
        })
    }
}

/// One signal's export settings; `None` when no endpoint names a collector.
fn resolve(
    vars: &SignalVars,
    own: &Given<'_>,
    all: &Given<'_>,
) -> Result<Option<OtlpExport>, ConfigError> {
    let g = &GENERIC;
    let protocol = match first((vars.protocol, own.protocol), (g.protocol, all.protocol)) {
        Some((name, value)) => parse_protocol(name, value)?,
        None => OtlpProtocol::HttpProtobuf,
    };
    let endpoint = match (set(own.endpoint), set(all.endpoint)) {
        // The per-signal URL is the full URL, whatever the protocol.
        (Some(url), _) => parse_endpoint(vars.endpoint, url)?,
        // The generic one is a base: HTTP appends the signal's path; gRPC
        // routes by service name, not path.
        (None, Some(url)) => {
            let base = parse_endpoint(g.endpoint, url)?;
            match protocol {
                OtlpProtocol::HttpProtobuf => append_path(&base, vars.path),
                OtlpProtocol::Grpc => base,
            }
        }
        (None, None) => String::new(),
    };
    let headers = match first((vars.headers, own.headers), (g.headers, all.headers)) {
        Some((name, value)) => parse_headers(name, value)?,
        None => Vec::new(),
    };
    let timeout = match first((vars.timeout, own.timeout), (g.timeout, all.timeout)) {
        Some((name, value)) => parse_timeout(name, value)?,
        None => DEFAULT_TIMEOUT,
    };
    let gzip = match first(
        (vars.compression, own.compression),
        (g.compression, all.compression),
    ) {
        Some((name, value)) => parse_compression(name, value)?,
        None => false,
    };
    let tls = tls_files(vars, own, all)?;
    Ok((!endpoint.is_empty()).then_some(OtlpExport {
        endpoint,
        protocol,
        headers,
        timeout,
        gzip,
        tls,
    }))
}

fn tls_files(vars: &SignalVars, own: &Given<'_>, all: &Given<'_>) -> Result<TlsFiles, ConfigError> {
    let g = &GENERIC;
    let ca_pem = first(
        (vars.certificate, own.certificate),
        (g.certificate, all.certificate),
    )
    .map(|(name, path)| read_pem(name, path, PemKind::Certificates))
    .transpose()?;
    let cert = first(
        (vars.client_certificate, own.client_certificate),
        (g.client_certificate, all.client_certificate),
    );
    let key = first(
        (vars.client_key, own.client_key),
        (g.client_key, all.client_key),
    );
    let client = match (cert, key) {
        (Some((cert_var, cert)), Some((key_var, key))) => Some((
            read_pem(cert_var, cert, PemKind::Certificates)?,
            read_pem(key_var, key, PemKind::PrivateKey)?,
        )),
        (None, None) => None,
        // Name the missing partner at the same level (generic or per-signal).
        (Some((cert_var, _)), None) => {
            let key_var = if cert_var == g.client_certificate {
                g.client_key
            } else {
                vars.client_key
            };
            return Err(ConfigError(format!(
                "{cert_var} is set without {key_var}: mutual TLS needs both"
            )));
        }
        (None, Some((key_var, _))) => {
            let cert_var = if key_var == g.client_key {
                g.client_certificate
            } else {
                vars.client_certificate
            };
            return Err(ConfigError(format!(
                "{key_var} is set without {cert_var}: mutual TLS needs both"
            )));
        }
    };
    Ok(TlsFiles { ca_pem, client })
}

/// What a PEM file must hold.
#[derive(Clone, Copy)]
enum PemKind {
    Certificates,
    PrivateKey,
}

/// Reads a PEM file and checks it holds what it should; the message names
/// the variable and the path, never the content.
fn read_pem(var: &str, path: &str, kind: PemKind) -> Result<Vec<u8>, ConfigError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let pem = std::fs::read(Path::new(path)).map_err(|e| bad(var, path, &e.to_string()))?;
    let ok = match kind {
        PemKind::Certificates => {
            let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(&pem).collect();
            certs.is_ok_and(|c| !c.is_empty())
        }
        PemKind::PrivateKey => PrivateKeyDer::from_pem_slice(&pem).is_ok(),
    };
    if !ok {
        let what = match kind {
            PemKind::Certificates => "holds no PEM certificate",
            PemKind::PrivateKey => "holds no PEM private key (PKCS#8, PKCS#1 or SEC1)",
        };
        return Err(bad(var, path, what));
    }
    Ok(pem)
}

/// An `http://` or `https://` URL with a host; the scheme is made lower case.
fn parse_endpoint(var: &str, url: &str) -> Result<String, ConfigError> {
    let url = url.trim();
    let why = "must be an http:// or https:// URL with a host";
    let uri: http::Uri = url.parse().map_err(|_| bad(var, url, why))?;
    let scheme = uri.scheme_str().map(str::to_ascii_lowercase);
    let host_ok = uri.host().is_some_and(|h| !h.is_empty());
    match scheme.as_deref() {
        Some(s @ ("http" | "https")) if host_ok => Ok(format!("{s}{}", &url[s.len()..])),
        _ => Err(bad(var, url, why)),
    }
}

/// `base` with `/PATH` appended to its path, before any query.
fn append_path(base: &str, path: &str) -> String {
    let (url, query) = match base.split_once('?') {
        Some((url, query)) => (url, Some(query)),
        None => (base, None),
    };
    let joined = format!("{}/{path}", url.trim_end_matches('/'));
    match query {
        Some(q) => format!("{joined}?{q}"),
        None => joined,
    }
}

/// `grpc` or `http/protobuf`, in any case.
pub fn parse_protocol(var: &str, value: &str) -> Result<OtlpProtocol, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "grpc" => Ok(OtlpProtocol::Grpc),
        "http/protobuf" => Ok(OtlpProtocol::HttpProtobuf),
        "http/json" => Err(bad(
            var,
            value,
            "http/json is not supported; use grpc or http/protobuf",
        )),
        _ => Err(bad(var, value, "must be grpc or http/protobuf")),
    }
}

/// `gzip` (true) or `none` (false), in any case.
fn parse_compression(var: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "gzip" => Ok(true),
        "none" => Ok(false),
        _ => Err(bad(var, value, "must be gzip or none")),
    }
}

/// A whole, positive number of milliseconds.
fn parse_timeout(var: &str, value: &str) -> Result<Duration, ConfigError> {
    value
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
        .ok_or_else(|| bad(var, value, "must be a whole number of milliseconds above 0"))
}

/// `key=value,key2=value2` headers, values percent-decoded; each must be a
/// valid HTTP header. The message names the variable and the key only.
pub fn parse_headers(var: &str, text: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let refuse = |what: String| ConfigError(format!("{var}: {what}"));
    key_values(text)
        .map(|pair| {
            let (key, value) = pair.map_err(|n| {
                refuse(format!(
                    "item {n} is not key=value (comma-separated, values percent-encoded)"
                ))
            })?;
            let value = percent_decode(value)
                .ok_or_else(|| refuse(format!("the value of {key:?} has bad percent-encoding")))?;
            http::HeaderName::from_bytes(key.as_bytes())
                .map_err(|_| refuse(format!("{key:?} is not a valid header name")))?;
            http::HeaderValue::from_str(&value)
                .map_err(|_| refuse(format!("the value of {key:?} is not a valid header value")))?;
            Ok((key.to_ascii_lowercase(), value))
        })
        .collect()
}

/// Splits a `key=value` list: commas between items, whitespace trimmed,
/// empty items skipped. `Err(n)`: item `n` (from 1) has no `=` or no key.
fn key_values(text: &str) -> impl Iterator<Item = Result<(&str, &str), usize>> {
    text.split(',')
        .map(str::trim)
        .enumerate()
        .filter(|(_, item)| !item.is_empty())
        .map(|(i, item)| {
            item.split_once('=')
                .map(|(k, v)| (k.trim(), v.trim()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or(i + 1)
        })
}

/// Parses `key=value,key2=value2` (values percent-decoded, as the spec says).
pub fn parse_resource_attributes(text: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let var = env::OTEL_RESOURCE_ATTRIBUTES;
    key_values(text)
        .map(|pair| {
            let (k, v) =
                pair.map_err(|n| ConfigError(format!("{var}: item {n} is not key=value")))?;
            let v = percent_decode(v)
                .ok_or_else(|| bad(var, &format!("{k}={v}"), "bad percent-encoding"))?;
            Ok((k.to_string(), v))
        })
        .collect()
}

/// Decodes `%XX` escapes; `None` on a truncated or non-hex escape or on
/// bytes that are not UTF-8 (the specification says to refuse, not guess).
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A boolean of the specification: `true` in any case is true; anything
/// else is false, with a warning unless it is `false`.
fn parse_bool(var: &str, value: Option<&str>, warnings: &mut Vec<String>) -> bool {
    let Some(value) = value.map(str::trim) else {
        return false;
    };
    if value.eq_ignore_ascii_case("true") {
        return true;
    }
    if !value.eq_ignore_ascii_case("false") {
        warnings.push(format!(
            "{var}={value:?} is not true or false; read as false"
        ));
    }
    false
}

/// A comma-separated exporter list: `otlp` (the default) or `none`.
fn exporter_on(var: &str, value: Option<&str>) -> Result<bool, ConfigError> {
    let Some(value) = value else {
        return Ok(true);
    };
    let items: Vec<String> = value
        .split(',')
        .map(|i| i.trim().to_ascii_lowercase())
        .filter(|i| !i.is_empty())
        .collect();
    if let Some(other) = items.iter().find(|i| *i != "otlp" && *i != "none") {
        return Err(bad(var, other, "only otlp and none are supported"));
    }
    let otlp = items.iter().any(|i| i == "otlp");
    if otlp && items.iter().any(|i| i == "none") {
        return Err(bad(var, value, "none cannot be combined with an exporter"));
    }
    Ok(otlp || items.is_empty())
}

/// Parses `OTEL_TRACES_SAMPLER` (any case) and its argument.
pub fn parse_sampler(name: &str, arg: Option<&str>) -> Result<Sampler, ConfigError> {
    let ratio = || -> Result<f64, ConfigError> {
        let raw = arg.map(str::trim).unwrap_or("1.0");
        raw.parse::<f64>()
            .ok()
            .filter(|r| (0.0..=1.0).contains(r))
            .ok_or_else(|| {
                bad(
                    env::OTEL_TRACES_SAMPLER_ARG,
                    raw,
                    "must be a number from 0 to 1",
                )
            })
    };
    let lower = name.trim().to_ascii_lowercase();
    let parent_based = lower.starts_with("parentbased_");
    let root = match lower.trim_start_matches("parentbased_") {
        "always_on" => RootSampler::AlwaysOn,
        "always_off" => RootSampler::AlwaysOff,
        "traceidratio" => RootSampler::TraceIdRatio(ratio()?),
        _ => {
            return Err(bad(
                env::OTEL_TRACES_SAMPLER,
                name,
                "must be always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio",
            ));
        }
    };
    Ok(Sampler { parent_based, root })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(vars: &[(&str, &str)]) -> OtelArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            otel: OtelArgs,
        }
        // Flags stand in for the variables: same fields, no process environment.
        let flags = vars
            .iter()
            .map(|(k, v)| format!("--{}={v}", k.to_ascii_lowercase().replace('_', "-")));
        Cli::try_parse_from(std::iter::once("t".to_string()).chain(flags))
            .unwrap()
            .otel
    }

    fn settings(vars: &[(&str, &str)]) -> Result<OtelSettings, ConfigError> {
        OtelSettings::from_args(&args(vars))
    }

    fn err(vars: &[(&str, &str)]) -> String {
        settings(vars).unwrap_err().0
    }

    #[test]
    fn empty_values_are_unset() {
        let s = settings(&[
            ("OTEL_SERVICE_NAME", ""),
            ("OTEL_RESOURCE_ATTRIBUTES", ""),
            ("OTEL_TRACES_SAMPLER", ""),
            ("OTEL_TRACES_SAMPLER_ARG", ""),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", ""),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ""),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", " "),
            ("OTEL_EXPORTER_OTLP_HEADERS", ""),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", ""),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", ""),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", ""),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", ""),
            ("OTEL_SDK_DISABLED", ""),
            ("OTEL_TRACES_EXPORTER", ""),
        ])
        .unwrap();
        assert_eq!(s.service_name, "store-service");
        assert!(s.resource_attributes.is_empty());
        assert_eq!(
            s.sampler,
            Sampler {
                parent_based: true,
                root: RootSampler::AlwaysOn
            }
        );
        let t = s.traces.unwrap();
        assert_eq!(t.endpoint, "http://c:4318/v1/traces");
        assert_eq!(t.protocol, OtlpProtocol::HttpProtobuf);
        assert_eq!(t.timeout, DEFAULT_TIMEOUT);
        assert!(t.headers.is_empty() && !t.gzip && t.tls == TlsFiles::default());
        assert!(s.warnings.is_empty());
        let none = settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "")]).unwrap();
        assert!(none.traces.is_none() && none.logs.is_none());
    }

    #[test]
    fn enum_values_are_case_insensitive() {
        let s = settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "HTTPS://c:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "GRPC"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "GZip"),
            ("OTEL_TRACES_SAMPLER", "ParentBased_TraceIdRatio"),
            ("OTEL_TRACES_SAMPLER_ARG", " 0.5 "),
            ("OTEL_LOGS_EXPORTER", "OTLP"),
        ])
        .unwrap();
        let t = s.traces.unwrap();
        assert_eq!(t.protocol, OtlpProtocol::Grpc);
        assert_eq!(t.endpoint, "https://c:4317", "gRPC: the generic URL as is");
        assert!(t.gzip);
        assert_eq!(s.sampler.root, RootSampler::TraceIdRatio(0.5));
        assert!(s.sampler.parent_based);
        assert_eq!(
            settings(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "HTTP/PROTOBUF")])
                .map(|_| ())
                .map_err(|e| e.0),
            Ok(())
        );
    }

    #[test]
    fn per_signal_variables_beat_generic_ones_and_their_endpoint_is_used_as_is() {
        let s = settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/base/"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:9000/custom"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "a=1"),
            ("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "b=2"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2000"),
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "750"),
            ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "grpc"),
        ])
        .unwrap();
        let (t, l) = (s.traces.unwrap(), s.logs.unwrap());
        assert_eq!(t.endpoint, "http://t:9000/custom");
        assert_eq!(t.headers, vec![("a".to_string(), "1".to_string())]);
        assert_eq!(t.timeout, Duration::from_millis(750));
        assert_eq!(t.protocol, OtlpProtocol::HttpProtobuf);
        assert_eq!(l.endpoint, "http://c:4318/base/");
        assert_eq!(l.protocol, OtlpProtocol::Grpc);
        assert_eq!(l.headers, vec![("b".to_string(), "2".to_string())]);
        assert_eq!(l.timeout, Duration::from_millis(2000));
        let http_logs = settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/base/")])
            .unwrap()
            .logs
            .unwrap();
        assert_eq!(http_logs.endpoint, "http://c:4318/base/v1/logs");
        let with_query = settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://c:4318/p?tenant=a")])
            .unwrap()
            .traces
            .unwrap();
        assert_eq!(with_query.endpoint, "https://c:4318/p/v1/traces?tenant=a");
        // Only one signal: the other is not exported.
        let only_logs =
            settings(&[("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://l:4318/v1/logs")]).unwrap();
        assert!(only_logs.traces.is_none());
        assert_eq!(only_logs.logs.unwrap().endpoint, "http://l:4318/v1/logs");
    }

    #[test]
    fn lists_are_trimmed_and_values_percent_decoded() {
        let s = settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                " Authorization = Basic%20dXNlcjpwdw%3D%3D , ,x-tenant=a%2Cb",
            ),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                " deployment.environment = prod , team=store%20ops",
            ),
            ("OTEL_TRACES_EXPORTER", " otlp , "),
        ])
        .unwrap();
        assert_eq!(
            s.traces.unwrap().headers,
            vec![
                (
                    "authorization".to_string(),
                    "Basic dXNlcjpwdw==".to_string()
                ),
                ("x-tenant".to_string(), "a,b".to_string()),
            ]
        );
        assert_eq!(
            s.resource_attributes,
            vec![
                ("deployment.environment".to_string(), "prod".to_string()),
                ("team".to_string(), "store ops".to_string()),
            ]
        );
    }

    #[test]
    fn booleans_and_exporter_lists_follow_the_specification() {
        let on = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")];
        let with = |extra: (&'static str, &'static str)| {
            let mut v = on.to_vec();
            v.push(extra);
            settings(&v).unwrap()
        };
        let off = with(("OTEL_SDK_DISABLED", "TRUE"));
        assert!(off.traces.is_none() && off.logs.is_none());
        let kept = with(("OTEL_SDK_DISABLED", "False"));
        assert!(kept.traces.is_some() && kept.warnings.is_empty());
        let lenient = with(("OTEL_SDK_DISABLED", "yes"));
        assert!(lenient.traces.is_some(), "anything but true is false");
        assert!(lenient.warnings[0].contains("OTEL_SDK_DISABLED"));
        let no_logs = with(("OTEL_LOGS_EXPORTER", "none"));
        assert!(no_logs.logs.is_none() && no_logs.traces.is_some());
        let no_traces = with(("OTEL_TRACES_EXPORTER", "None"));
        assert!(no_traces.traces.is_none() && no_traces.logs.is_some());
    }

    #[test]
    fn bad_values_are_refused_naming_their_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon")],
                "OTEL_EXPORTER_OTLP_PROTOCOL",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/json")],
                "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")],
                "OTEL_EXPORTER_OTLP_ENDPOINT",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://c")],
                "OTEL_EXPORTER_OTLP_ENDPOINT",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://")],
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_HEADERS", "novalue")],
                "OTEL_EXPORTER_OTLP_HEADERS",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "a=%zz")],
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_HEADERS", "bad key=1")],
                "OTEL_EXPORTER_OTLP_HEADERS",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_HEADERS", "k=a%0Ab")],
                "OTEL_EXPORTER_OTLP_HEADERS",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_TIMEOUT", "5s")],
                "OTEL_EXPORTER_OTLP_TIMEOUT",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "0")],
                "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")],
                "OTEL_EXPORTER_OTLP_COMPRESSION",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_CERTIFICATE", "/no/such/ca.pem")],
                "OTEL_EXPORTER_OTLP_CERTIFICATE",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "/etc/hostname")],
                "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
            ),
            (
                &[("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/etc/hostname")],
                "OTEL_EXPORTER_OTLP_CLIENT_KEY",
            ),
            (
                &[("OTEL_RESOURCE_ATTRIBUTES", "k8s.pod.name")],
                "OTEL_RESOURCE_ATTRIBUTES",
            ),
            (
                &[("OTEL_RESOURCE_ATTRIBUTES", "a=%E2%28")],
                "OTEL_RESOURCE_ATTRIBUTES",
            ),
            (
                &[("OTEL_TRACES_SAMPLER", "sometimes")],
                "OTEL_TRACES_SAMPLER",
            ),
            (
                &[
                    ("OTEL_TRACES_SAMPLER", "traceidratio"),
                    ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
                ],
                "OTEL_TRACES_SAMPLER_ARG",
            ),
            (
                &[("OTEL_TRACES_EXPORTER", "zipkin")],
                "OTEL_TRACES_EXPORTER",
            ),
            (&[("OTEL_LOGS_EXPORTER", "otlp,none")], "OTEL_LOGS_EXPORTER"),
        ];
        for (vars, named) in cases {
            let e = err(vars);
            assert!(e.contains(named), "{vars:?}: does not name {named}: {e}");
            assert_eq!(e.lines().count(), 1, "{vars:?}: {e}");
        }
        // Header values and key files may be secrets: never echoed.
        let e = err(&[("OTEL_EXPORTER_OTLP_HEADERS", "authorization=hunter2%0A")]);
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn client_certificate_and_key_go_together() {
        let dir = tempfile::tempdir().unwrap();
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let (c, k) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        std::fs::write(&c, cert.cert.pem()).unwrap();
        std::fs::write(&k, cert.signing_key.serialize_pem()).unwrap();
        let (c, k) = (c.display().to_string(), k.display().to_string());
        let e = err(&[("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", &c)]);
        assert!(e.contains("OTEL_EXPORTER_OTLP_CLIENT_KEY"), "{e}");
        let s = settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://c:4318"),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", &c),
            ("OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", &c),
            ("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", &k),
        ])
        .unwrap();
        let (t, l) = (s.traces.unwrap(), s.logs.unwrap());
        assert!(t.tls.ca_pem.is_some() && t.tls.client.is_some());
        assert!(l.tls.ca_pem.is_some() && l.tls.client.is_none());
        assert!(!format!("{t:?}").contains("PRIVATE KEY"));
    }
}
