//! OTLP exporters built from validated settings ([`OtlpExport`]).
//!
//! ```text
//! grpc           tonic channel ── ClientTlsConfig (CA file or system roots, client identity)
//! http/protobuf  HyperClient ─── hyper-rustls connector (same trust, ring provider)
//! ```
//!
//! Every setting is passed explicitly, so the exporter crate's own reading of
//! the environment (which is laxer than ours) never decides anything; it still
//! merges `OTEL_EXPORTER_OTLP_*HEADERS` in, which yields the same headers.

use std::sync::Arc;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use opentelemetry_http::hyper::HyperClient;
use opentelemetry_otlp::{
    Compression, LogExporter, Protocol, SpanExporter, WithExportConfig, WithHttpConfig,
    WithTonicConfig,
};
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Certificate, ClientTlsConfig, Identity};

use crate::config::{OtlpExport, OtlpProtocol, TlsFiles};

/// Why an exporter could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ExporterError {
    #[error("cannot build the OTLP exporter for {endpoint}: {source}")]
    Build {
        endpoint: String,
        source: opentelemetry_otlp::ExporterBuildError,
    },
    #[error("cannot set up TLS for {endpoint}: {reason}")]
    Tls { endpoint: String, reason: String },
}

/// The span exporter `x` describes.
pub fn span_exporter(x: &OtlpExport) -> Result<SpanExporter, ExporterError> {
    let built = match x.protocol {
        OtlpProtocol::Grpc => tonic_settings(SpanExporter::builder().with_tonic(), x)?.build(),
        OtlpProtocol::HttpProtobuf => {
            http_settings(SpanExporter::builder().with_http(), x)?.build()
        }
    };
    built.map_err(|source| build_error(x, source))
}

/// The log exporter `x` describes.
pub fn log_exporter(x: &OtlpExport) -> Result<LogExporter, ExporterError> {
    let built = match x.protocol {
        OtlpProtocol::Grpc => tonic_settings(LogExporter::builder().with_tonic(), x)?.build(),
        OtlpProtocol::HttpProtobuf => http_settings(LogExporter::builder().with_http(), x)?.build(),
    };
    built.map_err(|source| build_error(x, source))
}

fn build_error(x: &OtlpExport, source: opentelemetry_otlp::ExporterBuildError) -> ExporterError {
    ExporterError::Build {
        endpoint: x.endpoint.clone(),
        source,
    }
}

fn tls_error(x: &OtlpExport, reason: impl std::fmt::Display) -> ExporterError {
    ExporterError::Tls {
        endpoint: x.endpoint.clone(),
        reason: reason.to_string(),
    }
}

fn is_https(x: &OtlpExport) -> bool {
    x.endpoint.starts_with("https://")
}

fn tonic_settings<B: WithExportConfig + WithTonicConfig>(
    builder: B,
    x: &OtlpExport,
) -> Result<B, ExporterError> {
    let mut metadata = MetadataMap::new();
    for (key, value) in &x.headers {
        // Validated at start-up as HTTP headers, which is what metadata is.
        let key = MetadataKey::from_bytes(key.as_bytes()).map_err(|e| tls_error(x, e))?;
        let value = MetadataValue::try_from(value.as_str()).map_err(|e| tls_error(x, e))?;
        metadata.append(key, value);
    }
    let mut b = builder
        .with_endpoint(x.endpoint.clone())
        .with_protocol(Protocol::Grpc)
        .with_timeout(x.timeout)
        .with_metadata(metadata);
    if x.gzip {
        b = b.with_compression(Compression::Gzip);
    }
    if is_https(x) {
        b = b.with_tls_config(tonic_tls(&x.tls));
    }
    Ok(b)
}

/// Trust the CA file when given, else the system's roots.
fn tonic_tls(tls: &TlsFiles) -> ClientTlsConfig {
    let config = match &tls.ca_pem {
        Some(pem) => ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)),
        None => ClientTlsConfig::new().with_native_roots(),
    };
    match &tls.client {
        Some((cert, key)) => config.identity(Identity::from_pem(cert, key)),
        None => config,
    }
}

fn http_settings<B: WithExportConfig + WithHttpConfig>(
    builder: B,
    x: &OtlpExport,
) -> Result<B, ExporterError> {
    let connector = https_connector(x)?;
    // The crate percent-decodes header values once more: re-encode the one
    // character that would change.
    let headers = x
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.replace('%', "%25")))
        .collect();
    let mut b = builder
        .with_endpoint(x.endpoint.clone())
        // Explicit, so that the crate does not consult OTEL_EXPORTER_OTLP_PROTOCOL
        // itself (a generic `grpc` would make it refuse a per-signal http/protobuf).
        .with_protocol(Protocol::HttpBinary)
        .with_timeout(x.timeout)
        .with_http_client(HyperClient::new(connector, x.timeout, None))
        .with_headers(headers);
    if x.gzip {
        b = b.with_compression(Compression::Gzip);
    }
    Ok(b)
}

/// An HTTP(S) connector: rustls with the ring provider, trusting the CA file
/// when given, else the system's roots.
fn https_connector(x: &OtlpExport) -> Result<HttpsConnector<HttpConnector>, ExporterError> {
    let roots = root_store(&x.tls).map_err(|e| tls_error(x, e))?;
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| tls_error(x, e))?
    .with_root_certificates(roots);
    let config = match &x.tls.client {
        Some((cert, key)) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert)
                .collect::<Result<_, _>>()
                .map_err(|e| tls_error(x, e))?;
            let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| tls_error(x, e))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| tls_error(x, e))?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .build())
}

fn root_store(tls: &TlsFiles) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    match &tls.ca_pem {
        Some(pem) => {
            for cert in CertificateDer::pem_slice_iter(pem) {
                roots
                    .add(cert.map_err(|e| e.to_string())?)
                    .map_err(|e| e.to_string())?;
            }
        }
        None => {
            // Unreadable system certificates are skipped, as curl does.
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
        }
    }
    Ok(roots)
}
