//! The Service: the store's in-cluster address, and what the ServiceMonitor
//! selects.

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::reconcile::identity::Identity;
use crate::reconcile::resolve::ResolvedStore;

/// Name of the HTTP port, on the container and the Service.
pub const HTTP_PORT_NAME: &str = "http";
/// Port of the Service.
pub const SERVICE_PORT: i32 = 80;

/// A ClusterIP Service, port 80 to the pods' `http` port.
pub fn service(store: &ResolvedStore) -> Service {
    Service {
        metadata: store.id.object_meta(&store.id.object_name),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(store.id.selector_labels()),
            ports: Some(vec![ServicePort {
                name: Some(HTTP_PORT_NAME.into()),
                port: SERVICE_PORT,
                target_port: Some(IntOrString::String(HTTP_PORT_NAME.into())),
                protocol: Some("TCP".into()),
                app_protocol: Some("http".into()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

/// The in-cluster URL of the store's API, for `status.serviceUrl`.
pub fn service_url(id: &Identity) -> String {
    format!(
        "http://{}.{}.svc:{SERVICE_PORT}",
        id.object_name, id.namespace
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Store;

    #[test]
    fn port_80_reaches_the_named_http_port_of_the_store_pods() {
        let store = Store::test().resolved();
        let spec = service(&store).spec.unwrap();
        assert_eq!(spec.type_.as_deref(), Some("ClusterIP"));
        assert_eq!(spec.selector, Some(store.id.selector_labels()));
        let port = &spec.ports.unwrap()[0];
        assert_eq!((port.name.as_deref(), port.port), (Some("http"), 80));
        assert_eq!(port.target_port, Some(IntOrString::String("http".into())));
    }

    #[test]
    fn the_url_is_the_cluster_dns_name() {
        assert_eq!(
            service_url(&Identity::of(&Store::test())),
            "http://store-alpha.shop.svc:80"
        );
    }
}
