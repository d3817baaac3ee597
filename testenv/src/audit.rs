//! The API server's audit log, read back: who wrote what. The control plane's
//! policy records every write at metadata level, and the reads of the
//! operator's namespace's ServiceAccounts (so a refused read shows too).

use std::path::Path;

use serde_json::Value;

use crate::Error;

/// One request seen by the API server (a write, or a read of the operator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// The authenticated user, e.g. `system:serviceaccount:ns:name`.
    pub user: String,
    /// create, update, patch, delete, deletecollection.
    pub verb: String,
    /// The resource (plural), e.g. `deployments`, with `/subresource` if any.
    pub resource: String,
    /// The object's namespace, empty for cluster objects.
    pub namespace: String,
    /// The object's name, empty for collections.
    pub name: String,
    /// The HTTP status code of the answer.
    pub code: i64,
}

/// Verbs that change something.
pub const WRITE_VERBS: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

/// Every write in the audit log at `path`, oldest first.
pub fn writes(path: &Path) -> Result<Vec<Write>, Error> {
    Ok(requests(path)?
        .into_iter()
        .filter(|r| WRITE_VERBS.contains(&r.verb.as_str()))
        .collect())
}

/// Every request in the audit log at `path`, oldest first.
pub fn requests(path: &Path) -> Result<Vec<Write>, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|event| event["stage"] == "ResponseComplete")
        .map(|event| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            let object = &event["objectRef"];
            let mut resource = s(&object["resource"]);
            if let Some(sub) = object["subresource"].as_str() {
                resource = format!("{resource}/{sub}");
            }
            Write {
                user: s(&event["user"]["username"]),
                verb: s(&event["verb"]),
                resource,
                namespace: s(&object["namespace"]),
                name: s(&object["name"]),
                code: event["responseStatus"]["code"].as_i64().unwrap_or(0),
            }
        })
        .collect())
}
