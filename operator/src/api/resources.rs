//! `spec.resources`: cpu and memory of the store-service container.
//!
//! Its own type rather than Kubernetes' `ResourceRequirements`, whose
//! quantities are free strings in a CRD schema: here a bad quantity or a
//! request above its limit is refused at admission, naming the field, instead
//! of failing later when the Deployment is applied.

use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// CEL (on `spec.resources`): the amount at `kind.resource` (`limits.cpu`),
/// if set, is a positive quantity.
pub fn positive_quantity_rule(kind: &str, resource: &str) -> String {
    let v = format!("string(self.{kind}.{resource})");
    format!(
        "!has(self.{kind}) || !has(self.{kind}.{resource}) || \
         (isQuantity({v}) && quantity({v}).isGreaterThan(quantity('0')))"
    )
}
/// Message of [`positive_quantity_rule`] for cpu.
pub const MSG_CPU: &str = "must be a positive quantity such as 500m or 1";
/// Message of [`positive_quantity_rule`] for memory.
pub const MSG_MEMORY: &str = "must be a positive quantity such as 256Mi or 1Gi";

/// The rule that `spec.resources.<kind>.<resource>` is a positive quantity,
/// its message starting with the field.
pub fn quantity_rule(kind: &str, resource: &str) -> kube::core::Rule {
    let message = if resource == "cpu" {
        MSG_CPU
    } else {
        MSG_MEMORY
    };
    kube::core::Rule::new(positive_quantity_rule(kind, resource))
        .message(format!("spec.resources.{kind}.{resource} {message}").as_str())
        .field_path(format!(".{kind}.{resource}"))
        .reason(kube::core::Reason::FieldValueInvalid)
}

/// CEL: a request never exceeds the limit of the same resource. Guarded by
/// `isQuantity` so a malformed value reports its own rule, not an error here.
pub fn request_within_limit_rule() -> String {
    let within = |r: &str| {
        let (req, lim) = (
            format!("string(self.requests.{r})"),
            format!("string(self.limits.{r})"),
        );
        format!(
            "(!has(self.requests.{r}) || !has(self.limits.{r}) || !isQuantity({req}) || \
             !isQuantity({lim}) || quantity({req}).compareTo(quantity({lim})) <= 0)"
        )
    };
    format!(
        "!has(self.requests) || !has(self.limits) || ({} && {})",
        within("cpu"),
        within("memory")
    )
}
/// Message of [`request_within_limit_rule`].
pub const MSG_REQUEST_WITHIN_LIMIT: &str =
    "spec.resources: a request (requests.cpu, requests.memory) must not exceed its limit";

/// Compute resources of the store-service container. Unset: requests cpu
/// 50m, memory 64Mi; limits cpu 500m, memory 256Mi. Set: exactly what is
/// given (an amount left out is not requested or not limited).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(
    validation = quantity_rule("requests", "cpu"),
    validation = quantity_rule("requests", "memory"),
    validation = quantity_rule("limits", "cpu"),
    validation = quantity_rule("limits", "memory"),
    validation = Rule::new(request_within_limit_rule())
        .message(MSG_REQUEST_WITHIN_LIMIT)
        .reason(Reason::FieldValueInvalid)
)]
pub struct Resources {
    /// Amounts the scheduler reserves for the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<Amounts>,
    /// Amounts the container may not exceed (memory: it is killed; cpu: throttled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Amounts>,
}

/// cpu and memory amounts.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Amounts {
    /// CPU, in cores or millicores: `500m`, `1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Quantity>,
    /// Memory, in bytes with a suffix: `256Mi`, `1Gi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Quantity>,
}

impl Amounts {
    /// The amounts given, as a Kubernetes resource list.
    fn to_list(&self) -> std::collections::BTreeMap<String, Quantity> {
        [("cpu", &self.cpu), ("memory", &self.memory)]
            .into_iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v)))
            .collect()
    }
}

impl Resources {
    /// The container's `resources`.
    pub fn to_requirements(&self) -> ResourceRequirements {
        ResourceRequirements {
            requests: self.requests.as_ref().map(Amounts::to_list),
            limits: self.limits.as_ref().map(Amounts::to_list),
            ..ResourceRequirements::default()
        }
    }
}

/// The value of a Kubernetes quantity (`500m` = 0.5, `1Ki` = 1024, `1e3` =
/// 1000, `100n`), in its base unit (cores, bytes), or None when the API
/// server would refuse it (`resource.ParseQuantity`). Parsed by
/// kube_quantity, less the shapes it takes and the server refuses (see
/// [`refused_by_the_server`]). f64 is exact enough to compare requests with
/// limits. Beyond kube_quantity's decimal (about 7.9e28) it is None, though
/// the server takes such values.
pub fn quantity_value(s: &str) -> Option<f64> {
    if refused_by_the_server(s) {
        return None;
    }
    // kube_quantity reads the exa suffixes as an exponent without digits and
    // refuses them (`1E`, `1Ei`): read them as peta, scaled in f64, where
    // a decimal product could overflow.
    let (s, factor) = match (s.strip_suffix("Ei"), s.strip_suffix('E')) {
        (Some(number), _) => (format!("{number}Pi"), 1024.0),
        (None, Some(number)) => (format!("{number}P"), 1000.0),
        (None, None) => (s.to_string(), 1.0),
    };
    let quantity = kube_quantity::ParsedQuantity::try_from(s).ok()?;
    Some(quantity.to_bytes_f64()? * factor)
}

/// Shapes kube_quantity parses but `resource.ParseQuantity` refuses: its
/// float parser takes a second sign (`--1` as 1), and an exponent before a
/// suffix (`1e3Mi`), where the server allows one or the other.
fn refused_by_the_server(s: &str) -> bool {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let number = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    unsigned.starts_with(['+', '-']) || (number.len() < s.len() && number.contains(['e', 'E']))
}

#[cfg(test)]
mod tests {
    use super::quantity_value;

    #[test]
    fn quantities_are_read_as_kubernetes_reads_them() {
        assert_eq!(quantity_value("500m"), Some(0.5));
        assert_eq!(quantity_value("1"), Some(1.0));
        assert_eq!(quantity_value("0.5"), Some(0.5));
        assert_eq!(quantity_value("64Mi"), Some(67108864.0));
        assert_eq!(quantity_value("1G"), Some(1e9));
        assert_eq!(quantity_value("1e3"), Some(1000.0));
        let nano = quantity_value("250n").unwrap();
        assert!((nano - 250e-9).abs() < 1e-18, "{nano}");
        assert_eq!(quantity_value("2E"), Some(2e18));
        assert_eq!(quantity_value("1Ei"), Some(1152921504606846976.0));
        // The API server reads a suffix without digits as zero.
        assert_eq!(quantity_value("Mi"), Some(0.0));
        for bad in [
            "", "lots", "1x", "1.2.3", "1e", "--1", "+-1", "1e3Mi", "1 Gi",
        ] {
            assert_eq!(quantity_value(bad), None, "{bad}");
        }
    }
}
