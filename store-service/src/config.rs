//! Command line and environment: every setting is a flag and a variable.
//! Raw values are validated into [`ServeConfig`]; a bad one stops start-up with
//! one line that names it.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use storeops_contract::env;
use tracing_subscriber::filter::LevelFilter;

pub mod database_url;
pub mod otel;

pub use otel::{
    OtelArgs, OtelSettings, OtlpExport, OtlpProtocol, RootSampler, Sampler, TlsFiles,
    parse_resource_attributes, parse_sampler,
};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Store identifier: lowercase letters, digits, '-' and '_', at most 63 characters.
    #[arg(long, env = env::STORE_ID)]
    pub store_id: Option<String>,
    /// Listen port.
    #[arg(long, env = env::PORT, default_value = "8080")]
    pub port: String,
    /// Listen address.
    #[arg(long, env = "LISTEN_ADDRESS", default_value = "0.0.0.0")]
    pub listen_address: String,
    /// sqlite://PATH (WAL) or postgres://USER:PASSWORD@HOST/DB.
    #[arg(long, env = env::DATABASE_URL, default_value = "sqlite://store.db", hide_env_values = true)]
    pub database_url: String,
    /// JSON or YAML list of products that seeds an empty database.
    #[arg(long, env = env::CATALOG_FILE)]
    pub catalog_file: Option<PathBuf>,
    /// File holding the admin bearer token.
    #[arg(long, env = env::ADMIN_TOKEN_FILE)]
    pub admin_token_file: Option<PathBuf>,
    /// Admin bearer token (prefer --admin-token-file).
    #[arg(long, env = env::ADMIN_TOKEN, hide_env_values = true)]
    pub admin_token: Option<String>,
    /// ISO 4217 currency of prices.
    #[arg(long, env = env::CURRENCY, default_value = "USD")]
    pub currency: String,
    /// error, warn, info, debug or trace.
    #[arg(long, env = env::LOG_LEVEL, default_value = "info")]
    pub log_level: String,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value = "16384")]
    pub max_body_bytes: String,
    /// Seconds to drain requests and flush telemetry on SIGTERM.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECONDS", default_value = "10")]
    pub shutdown_timeout_seconds: String,
    #[command(flatten)]
    pub otel: OtelArgs,
}

/// Validated settings of `serve`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub store_id: String,
    pub listen: std::net::SocketAddr,
    pub database_url: String,
    pub catalog_file: Option<PathBuf>,
    pub admin_token: Option<String>,
    pub currency: String,
    pub max_body_bytes: usize,
    pub shutdown_timeout: Duration,
    pub telemetry: TelemetryConfig,
}

/// Validated telemetry settings.
#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    pub store_id: String,
    pub service_name: String,
    /// From `OTEL_RESOURCE_ATTRIBUTES`, in order, values decoded.
    pub resource_attributes: Vec<(String, String)>,
    pub sampler: Sampler,
    /// `None`: spans are made (trace context flows) but not exported.
    pub traces: Option<OtlpExport>,
    /// `None`: log records go to stdout only.
    pub logs: Option<OtlpExport>,
    pub log_level: LevelFilter,
    /// Leniently read values (the specification's booleans), logged at start.
    pub warnings: Vec<String>,
}

/// A setting that cannot be used; the message names it.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

fn bad(setting: &str, value: &str, why: &str) -> ConfigError {
    ConfigError(format!("{setting}={value:?}: {why}"))
}

impl ServeConfig {
    /// Validates raw arguments; reads the admin token file.
    pub fn from_args(a: ServeArgs) -> Result<Self, ConfigError> {
        let store_id = a
            .store_id
            .ok_or_else(|| ConfigError(format!("{} (--store-id) is required", env::STORE_ID)))?;
        validate_store_id(&store_id).map_err(|why| bad(env::STORE_ID, &store_id, why))?;
        let port: u16 = a
            .port
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad(env::PORT, &a.port, "must be a port number from 1 to 65535"))?;
        let ip: IpAddr = a
            .listen_address
            .parse()
            .map_err(|_| bad("LISTEN_ADDRESS", &a.listen_address, "must be an IP address"))?;
        database_url::validate(&a.database_url)?;
        if let Some(path) = &a.catalog_file
            && !path.is_file()
        {
            return Err(bad(
                env::CATALOG_FILE,
                &path.display().to_string(),
                "no such file",
            ));
        }
        let admin_token = read_admin_token(a.admin_token_file.as_deref(), a.admin_token)?;
        let currency = a.currency.clone();
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(bad(
                env::CURRENCY,
                &currency,
                "must be an ISO 4217 code such as USD",
            ));
        }
        let max_body_bytes = a
            .max_body_bytes
            .parse()
            .ok()
            .filter(|n| (64..=10 * 1024 * 1024).contains(n))
            .ok_or_else(|| {
                bad(
                    "MAX_BODY_BYTES",
                    &a.max_body_bytes,
                    "must be from 64 to 10485760",
                )
            })?;
        let shutdown_timeout = a
            .shutdown_timeout_seconds
            .parse::<u64>()
            .ok()
            .filter(|s| (1..=300).contains(s))
            .map(Duration::from_secs)
            .ok_or_else(|| {
                bad(
                    "SHUTDOWN_TIMEOUT_SECONDS",
                    &a.shutdown_timeout_seconds,
                    "must be from 1 to 300",
                )
            })?;
        let log_level = a.log_level.parse::<LevelFilter>().map_err(|_| {
            bad(
                env::LOG_LEVEL,
                &a.log_level,
                "must be error, warn, info, debug or trace",
            )
        })?;
        let telemetry = TelemetryConfig::from_args(&store_id, &a.otel, log_level)?;
        Ok(ServeConfig {
            listen: (ip, port).into(),
            store_id,
            database_url: a.database_url,
            catalog_file: a.catalog_file,
            admin_token,
            currency,
            max_body_bytes,
            shutdown_timeout,
            telemetry,
        })
    }
}

impl TelemetryConfig {
    fn from_args(
        store_id: &str,
        o: &OtelArgs,
        log_level: LevelFilter,
    ) -> Result<Self, ConfigError> {
        let o = OtelSettings::from_args(o)?;
        Ok(TelemetryConfig {
            store_id: store_id.to_string(),
            service_name: o.service_name,
            resource_attributes: o.resource_attributes,
            sampler: o.sampler,
            traces: o.traces,
            logs: o.logs,
            log_level,
            warnings: o.warnings,
        })
    }
}

/// The rule of the Store CRD's `storeId`: it becomes a label value.
pub fn validate_store_id(id: &str) -> Result<(), &'static str> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let ends_ok = id.starts_with(ok_char) && id.ends_with(ok_char);
    if id.is_empty()
        || id.len() > 63
        || !ends_ok
        || !id.chars().all(|c| ok_char(c) || c == '-' || c == '_')
    {
        return Err(
            "must be 1-63 lowercase letters, digits, '-' or '_', starting and ending with a letter or digit",
        );
    }
    Ok(())
}

fn read_admin_token(
    file: Option<&std::path::Path>,
    inline: Option<String>,
) -> Result<Option<String>, ConfigError> {
    let token = match file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| {
                    bad(
                        env::ADMIN_TOKEN_FILE,
                        &path.display().to_string(),
                        &e.to_string(),
                    )
                })?
                .trim()
                .to_string(),
        ),
        None => inline,
    };
    match token {
        Some(t) if t.len() < 16 => Err(ConfigError(format!(
            "the admin token ({} or {}) must be at least 16 characters",
            env::ADMIN_TOKEN_FILE,
            env::ADMIN_TOKEN
        ))),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_ids_follow_the_crd_rule() {
        for ok in ["alpha", "alpha_store", "a-1", "7"] {
            assert!(validate_store_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Alpha", "-a", "a_", "a.b", &"a".repeat(64)] {
            assert!(validate_store_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resource_attributes_are_parsed_and_decoded() {
        let attrs = parse_resource_attributes("store.id=alpha, k8s.pod.name=p%2D1,").unwrap();
        assert_eq!(
            attrs,
            vec![
                ("store.id".into(), "alpha".into()),
                ("k8s.pod.name".into(), "p-1".into())
            ]
        );
        assert!(
            parse_resource_attributes("novalue")
                .unwrap_err()
                .0
                .contains("OTEL_RESOURCE_ATTRIBUTES")
        );
    }

    #[test]
    fn samplers_are_parsed_with_their_ratio() {
        assert_eq!(
            parse_sampler("parentbased_traceidratio", Some("0.25")).unwrap(),
            Sampler {
                parent_based: true,
                root: RootSampler::TraceIdRatio(0.25)
            }
        );
        assert!(
            parse_sampler("traceidratio", Some("2"))
                .unwrap_err()
                .0
                .contains("OTEL_TRACES_SAMPLER_ARG")
        );
        assert!(
            parse_sampler("sometimes", None)
                .unwrap_err()
                .0
                .contains("OTEL_TRACES_SAMPLER")
        );
    }
}
