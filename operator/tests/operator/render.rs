//! `operator render` on the sample Stores of `manifests/stores/`.

use std::path::PathBuf;

use kube::CustomResourceExt;
use operator::api::Store;
use operator::config::OperatorConfig;
use operator::reconcile::kinds::{self, *};
use serde::Deserialize;

fn sample(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../manifests/stores")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn documents(yaml: &str) -> Vec<serde_json::Value> {
    serde_yaml_ng::Deserializer::from_str(yaml)
        .map(|d| serde_json::Value::deserialize(d).unwrap())
        .collect()
}

fn render(name: &str) -> Vec<serde_json::Value> {
    let out =
        operator::render::render(&sample(name), name, &OperatorConfig::default(), "shop").unwrap();
    documents(&out)
}

/// The managed-kinds rows of the rendered objects, in the table's order (the
/// build's own order is tested with the build); panics on a kind the table
/// does not hold.
fn kinds(objects: &[serde_json::Value]) -> Vec<&'static ManagedKind> {
    kinds::in_table_order(objects.iter().map(|o| {
        let (version, kind) = (o["apiVersion"].as_str(), o["kind"].as_str());
        kinds::of(version.unwrap(), kind.unwrap())
            .unwrap_or_else(|| panic!("{kind:?} is not in the managed-kinds table"))
    }))
}

/// The rendered object of a kind and name.
fn find<'a>(
    objects: &'a [serde_json::Value],
    kind: &ManagedKind,
    name: &str,
) -> &'a serde_json::Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind.kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {} {name}", kind.kind))
}

#[test]
fn alpha_renders_every_object_of_an_inline_catalog_store() {
    let objects = render("alpha.yaml");
    assert_eq!(
        kinds(&objects),
        [
            &SERVICE_ACCOUNT,
            &SECRET,
            &CONFIG_MAP,
            &CONFIG_MAP,
            &PERSISTENT_VOLUME_CLAIM,
            &DEPLOYMENT,
            &SERVICE,
            &SERVICE_MONITOR,
        ]
    );
    for o in &objects {
        assert_eq!(
            o["metadata"]["labels"]["storeops.dev/store-id"],
            "alpha_store"
        );
        assert_eq!(o["metadata"]["namespace"], "shop");
    }
    let catalog = find(&objects, &CONFIG_MAP, "store-alpha-catalog")["data"]["catalog.json"]
        .as_str()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Vec<serde_json::Value>>(catalog)
            .unwrap()
            .len(),
        5
    );
}

#[test]
fn beta_reads_its_catalog_from_the_users_config_map() {
    let objects = render("beta.yaml");
    assert_eq!(
        kinds(&objects),
        [
            &SERVICE_ACCOUNT,
            &SECRET,
            &CONFIG_MAP,
            &PERSISTENT_VOLUME_CLAIM,
            &DEPLOYMENT,
            &SERVICE,
            &SERVICE_MONITOR,
        ]
    );
    let pod = &find(&objects, &DEPLOYMENT, "store-beta")["spec"]["template"]["spec"];
    let volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "catalog");
    assert_eq!(volume.unwrap()["configMap"]["name"], "beta-products");
    assert_eq!(
        find(&objects, &PERSISTENT_VOLUME_CLAIM, "store-beta-data")["spec"]["resources"]["requests"]
            ["storage"],
        "2Gi"
    );
}

/// The samples pass the CRD's CEL rules, as `kubectl apply` would need.
#[test]
fn the_samples_pass_admission() {
    let crd = serde_json::to_value(Store::crd()).unwrap();
    let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    for name in ["alpha.yaml", "beta.yaml"] {
        for doc in documents(&sample(name))
            .into_iter()
            .filter(|d| d["kind"] == "Store")
        {
            let verdict = kube_cel::Validator::new().validate(schema, &doc, None);
            assert!(verdict.is_ok(), "{name}: {verdict:?}");
            let store: Store = serde_json::from_value(doc).unwrap();
            operator::api::validation::validate(&store).unwrap();
        }
    }
}
