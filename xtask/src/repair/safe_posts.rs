//! Some `POST`s change nothing, so repeating one after a 429 or a 5xx is as safe as
//! repeating a `GET`; the published documents cannot say so (OpenAPI has no
//! "safe" flag), and the client must not guess from names. This repair marks them
//! with `x-frameio-safe-to-retry: true`, which the operation table turns into
//! `Operation::idempotent`.
//!
//! | operation | evidence |
//! |---|---|
//! | V4 `POST /v4/accounts/{account_id}/search` | "Search across assets, folders, and projects within an account" (its description): a query sent as a body, no resource created or changed |
//! | C2C `POST /v2/devices/heartbeat` | "Heartbeat ping": the device reports it is alive; a repeated ping is indistinguishable from the next scheduled one ("How to: Manage Status and State") |
//!
//! A listed operation missing from the document is an error: the table must not
//! silently go stale when Frame.io renames a path.

use serde_json::Value;

use super::Repair;
use crate::error::SpecError;
use crate::merge::Origins;

/// The extension the operation table reads.
pub const EXTENSION: &str = "x-frameio-safe-to-retry";

pub const REPAIR: Repair = Repair {
    name: "safe_to_retry_posts",
    quirk: "read-only POSTs (search) cannot be marked safe to retry in OpenAPI",
    apply: |doc, origins| mark(doc, origins, &[("post", "/v4/accounts/{account_id}/search")]),
};

pub const C2C_REPAIR: Repair = Repair {
    name: "safe_to_retry_posts",
    quirk: "the heartbeat ping is a POST that is safe to repeat",
    apply: |doc, origins| mark(doc, origins, &[("post", "/v2/devices/heartbeat")]),
};

fn mark(doc: &mut Value, origins: &Origins, operations: &[(&str, &str)]) -> Result<(), SpecError> {
    for (method, path) in operations {
        let pointer = crate::error::pointer(["paths", *path, *method]);
        let op = doc.pointer_mut(&pointer).and_then(Value::as_object_mut).ok_or_else(|| {
            origins.error(
                &pointer,
                format!("`{} {path}` is listed as safe to retry but is not in the spec", method.to_uppercase()),
            )
        })?;
        op.insert(EXTENSION.into(), Value::Bool(true));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn marks_search_and_nothing_else() {
        let mut doc = json!({"paths": {
            "/v4/accounts/{account_id}/search": {"post": {"operationId": "search"}},
            "/v4/accounts/{account_id}/workspaces": {"post": {"operationId": "workspaces_create"}}
        }});
        (REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        assert_eq!(doc["paths"]["/v4/accounts/{account_id}/search"]["post"][EXTENSION], true);
        assert!(doc["paths"]["/v4/accounts/{account_id}/workspaces"]["post"].get(EXTENSION).is_none());
    }

    #[test]
    fn a_listed_operation_that_is_gone_is_an_error() {
        let mut doc = json!({"paths": {}});
        let error = (REPAIR.apply)(&mut doc, &Default::default()).unwrap_err();
        assert!(error.to_string().contains("/v4/accounts/{account_id}/search"), "{error}");
    }
}
