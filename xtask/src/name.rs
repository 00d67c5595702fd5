//! Name: unique, readable operation names from tag + operationId.
//!
//! The published ids collide (`index` ×13, `show` ×12, ...). The official SDKs group
//! operations by tag (`client.files.show`), so the Rust name is `files_show`,
//! `version_stacks_copy`, `metadata_fields_metadata_field_definitions_create`: one
//! guess from the Python or TypeScript SDK finds the Rust method. The published id is
//! kept as `x-frameio-operation-id`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::SpecError;
use crate::merge::Origins;
use crate::walk;

/// Renames every operation to `<tag>_<operationId>` in snake case.
pub fn name_operations(doc: &mut Value, origins: &Origins) -> Result<(), SpecError> {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    walk::operations(doc, |o| {
        let tag = match o.op.get("tags").and_then(Value::as_array).map(Vec::as_slice) {
            Some([Value::String(tag)]) => tag.clone(),
            _ => {
                return Err(origins.error(&format!("{}/tags", o.pointer), "expected exactly one tag"));
            }
        };
        let Some(id) = o.op.get("operationId").and_then(Value::as_str).map(str::to_string) else {
            return Err(origins.error(&o.pointer, "missing operationId"));
        };
        let name = operation_name(&tag, &id);
        if let Some(other) = seen.insert(name.clone(), o.pointer.clone()) {
            return Err(origins.error(&o.pointer, format!("operation name `{name}` is also produced by {other}")));
        }
        o.op.insert("x-frameio-operation-id".into(), Value::String(id));
        o.op.insert("operationId".into(), Value::String(name));
        Ok(())
    })
}

/// `subpackage_versionStacks` + `copy` → `version_stacks_copy`.
pub fn operation_name(tag: &str, operation_id: &str) -> String {
    let group = tag.strip_prefix("subpackage_").unwrap_or(tag);
    format!("{}_{}", snake(group), snake(operation_id))
}

/// snake_case from camelCase, kebab-case or spaces.
pub fn snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c == '-' || c == ' ' || c == '_' {
            if !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
        } else {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        }
    }
    out
}

/// PascalCase for Rust type and variant names: `select_multi` → `SelectMulti`.
pub fn pascal(s: &str) -> String {
    s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|w| w[..1].to_uppercase() + &w[1..]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_follow_the_sdk_grouping() {
        assert_eq!(operation_name("subpackage_files", "show"), "files_show");
        assert_eq!(operation_name("subpackage_versionStacks", "copy"), "version_stacks_copy");
        assert_eq!(operation_name("subpackage_files", "create-local-upload"), "files_create_local_upload");
        assert_eq!(
            operation_name("subpackage_metadataFields", "metadata-field-definitions-create"),
            "metadata_fields_metadata_field_definitions_create"
        );
        assert_eq!(operation_name("subpackage_accounts", "auditlog-index"), "accounts_auditlog_index");
    }

    #[test]
    fn rewrites_ids_and_keeps_the_published_one() {
        let mut doc = json!({"paths": {"/a": {"get": {"operationId": "show", "tags": ["subpackage_files"]}}}});
        name_operations(&mut doc, &Origins::default()).unwrap();
        assert_eq!(doc["paths"]["/a"]["get"]["operationId"], "files_show");
        assert_eq!(doc["paths"]["/a"]["get"]["x-frameio-operation-id"], "show");
    }

    #[test]
    fn a_collision_is_an_error_naming_both_operations() {
        let mut doc = json!({"paths": {
            "/a": {"get": {"operationId": "show", "tags": ["subpackage_files"]}},
            "/b": {"get": {"operationId": "show", "tags": ["subpackage_files"]}}
        }});
        let err = name_operations(&mut doc, &Origins::default()).unwrap_err();
        assert_eq!(err.pointer, "/paths/~1b/get");
        assert!(err.message.contains("/paths/~1a/get"), "{err}");
    }

    #[test]
    fn an_operation_without_one_tag_is_an_error() {
        let mut doc = json!({"paths": {"/a": {"get": {"operationId": "show", "tags": []}}}});
        assert_eq!(name_operations(&mut doc, &Origins::default()).unwrap_err().pointer, "/paths/~1a/get/tags");
    }
}
