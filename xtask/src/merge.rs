//! Merge: the documents of one API, each with its own `components`, into one document.
//!
//! Frame.io publishes one document per endpoint. Components that several documents
//! define must be identical; a conflict is an error naming both files, because
//! silently picking one would change the types of the other endpoints.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::error::{SpecError, pointer};
use crate::load::Document;

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const KNOWN_TOP_LEVEL: [&str; 6] = ["openapi", "info", "servers", "paths", "components", "tags"];

/// The merged document and, for error messages, which file each part came from.
#[derive(Debug, Clone)]
pub struct Merged {
    pub doc: Value,
    pub origins: Origins,
}

/// Maps JSON-pointer prefixes of the merged document to the published file they came from.
#[derive(Debug, Clone, Default)]
pub struct Origins(BTreeMap<String, String>);

impl Origins {
    pub fn insert(&mut self, prefix: String, file: &str) {
        self.0.entry(prefix).or_insert_with(|| file.to_string());
    }

    /// The file that defined the longest prefix of `ptr`.
    pub fn file_for(&self, ptr: &str) -> String {
        self.0
            .iter()
            .filter(|(prefix, _)| ptr == prefix.as_str() || ptr.starts_with(&format!("{prefix}/")))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, file)| file.clone())
            .unwrap_or_else(|| "(merged document)".to_string())
    }

    /// A located error for a pointer into the merged document.
    pub fn error(&self, ptr: &str, message: impl Into<String>) -> SpecError {
        SpecError::new(self.file_for(ptr), ptr, message)
    }
}

/// Merges `docs` (all of one API) into one OpenAPI document.
pub fn merge(docs: &[Document]) -> Result<Merged, SpecError> {
    let first = docs.first().ok_or_else(|| SpecError::new("openapi", "", "no documents to merge"))?;
    let mut paths = Map::new();
    let mut components: Map<String, Value> = Map::new();
    let mut origins = Origins::default();
    let mut op_servers: Vec<(String, Value)> = Vec::new();

    for doc in docs {
        let Value::Object(top) = &doc.value else {
            return Err(SpecError::new(&doc.file, "", "document is not a mapping"));
        };
        if let Some(key) = top.keys().find(|k| !KNOWN_TOP_LEVEL.contains(&k.as_str())) {
            return Err(SpecError::new(&doc.file, pointer([key]), format!("unsupported top-level key `{key}`")));
        }
        for (path, item) in top.get("paths").and_then(Value::as_object).into_iter().flatten() {
            let Value::Object(item) = item else {
                return Err(SpecError::new(&doc.file, pointer(["paths", path]), "path item is not a mapping"));
            };
            let merged_item = paths.entry(path.clone()).or_insert_with(|| json!({}));
            for (method, op) in item {
                let ptr = pointer(["paths", path, method]);
                if !METHODS.contains(&method.as_str()) {
                    return Err(SpecError::new(&doc.file, ptr, format!("unsupported path-item key `{method}`")));
                }
                if merged_item.get(method).is_some() {
                    return Err(SpecError::new(
                        &doc.file,
                        &ptr,
                        format!(
                            "duplicate operation {} {path}: also defined in {}",
                            method.to_uppercase(),
                            origins.file_for(&ptr)
                        ),
                    ));
                }
                let mut op = op.clone();
                if let Some(servers) = op.as_object_mut().and_then(|o| o.remove("servers")) {
                    op_servers.push((doc.file.clone(), servers));
                }
                merged_item[method] = op;
                origins.insert(ptr, &doc.file);
            }
        }
        for (section, defs) in top.get("components").and_then(Value::as_object).into_iter().flatten() {
            let Value::Object(defs) = defs else {
                return Err(SpecError::new(&doc.file, pointer(["components", section]), "not a mapping"));
            };
            let merged_section = components.entry(section.clone()).or_insert_with(|| json!({}));
            for (name, def) in defs {
                let ptr = pointer(["components", section, name]);
                match merged_section.get(name) {
                    Some(existing) if existing != def => {
                        return Err(SpecError::new(
                            &doc.file,
                            &ptr,
                            format!(
                                "`{name}` is defined differently in {} (same pointer); rename one or add an explicit merge rule",
                                origins.file_for(&ptr)
                            ),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        merged_section[name] = def.clone();
                        origins.insert(ptr, &doc.file);
                    }
                }
            }
        }
    }

    let mut out = Map::new();
    out.insert("openapi".into(), first.value["openapi"].clone());
    out.insert("info".into(), first.value.get("info").cloned().unwrap_or_else(|| json!({})));
    if let Some(servers) = hoist_servers(first, &op_servers)? {
        out.insert("servers".into(), servers);
    }
    out.insert("paths".into(), Value::Object(paths));
    out.insert("components".into(), Value::Object(components));
    let doc = Value::Object(out);
    check_refs(&doc, &doc, "", &origins)?;
    Ok(Merged { doc, origins })
}

/// Every `$ref` must be local and resolve: a dangling one would otherwise surface
/// as a generator panic far from its cause.
fn check_refs(doc: &Value, value: &Value, at: &str, origins: &Origins) -> Result<(), SpecError> {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_at = format!("{at}/{}", crate::error::escape(key));
                match (key.as_str(), child) {
                    ("$ref", Value::String(target)) => {
                        let resolved = target.strip_prefix('#').and_then(|ptr| doc.pointer(ptr));
                        if resolved.is_none() {
                            return Err(origins.error(&child_at, format!("`$ref: {target}` does not resolve")));
                        }
                    }
                    _ => check_refs(doc, child, &child_at, origins)?,
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                check_refs(doc, child, &format!("{at}/{i}"), origins)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Every published operation repeats the same `servers`; one top-level list says it once.
fn hoist_servers(first: &Document, op_servers: &[(String, Value)]) -> Result<Option<Value>, SpecError> {
    let top = first.value.get("servers").cloned();
    let Some((file, servers)) = op_servers.first() else {
        return Ok(top);
    };
    if let Some((other, _)) = op_servers.iter().find(|(_, s)| s != servers) {
        return Err(SpecError::new(other, "", format!("operation-level servers differ from those in {file}")));
    }
    Ok(Some(servers.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::parse;

    fn doc(file: &str, yaml: &str) -> Document {
        parse(file, yaml).unwrap()
    }

    const A: &str = "openapi: 3.1.0\ninfo: {title: v4, version: 1.0.0}\npaths:\n  /a:\n    get:\n      operationId: show\n      servers: [{url: 'https://api.frame.io'}]\ncomponents:\n  schemas:\n    Id: {type: string}\n";

    #[test]
    fn merges_paths_and_components_and_hoists_servers() {
        let b = "openapi: 3.1.0\npaths:\n  /a:\n    post:\n      operationId: create\n      servers: [{url: 'https://api.frame.io'}]\ncomponents:\n  schemas:\n    Id: {type: string}\n    Name: {type: string}\n";
        let m = merge(&[doc("a.yaml", A), doc("b.yaml", b)]).unwrap();
        assert_eq!(m.doc["paths"]["/a"].as_object().unwrap().len(), 2);
        assert_eq!(m.doc["components"]["schemas"].as_object().unwrap().len(), 2);
        assert_eq!(m.doc["servers"][0]["url"], "https://api.frame.io");
        assert!(m.doc["paths"]["/a"]["get"].get("servers").is_none());
        assert_eq!(m.origins.file_for("/paths/~1a/post/responses"), "b.yaml");
    }

    #[test]
    fn duplicate_operation_names_both_files() {
        let err = merge(&[doc("a.yaml", A), doc("b.yaml", A)]).unwrap_err();
        assert_eq!(err.file, "b.yaml");
        assert_eq!(err.pointer, "/paths/~1a/get");
        assert!(err.message.contains("a.yaml"), "{err}");
    }

    #[test]
    fn conflicting_component_names_both_files_and_the_pointer() {
        let b = "openapi: 3.1.0\npaths: {}\ncomponents:\n  schemas:\n    Id: {type: integer}\n";
        let err = merge(&[doc("a.yaml", A), doc("b.yaml", b)]).unwrap_err();
        assert_eq!((err.file.as_str(), err.pointer.as_str()), ("b.yaml", "/components/schemas/Id"));
        assert!(err.message.contains("a.yaml"), "{err}");
    }

    #[test]
    fn a_dangling_ref_names_the_file_and_pointer() {
        let b = "openapi: 3.1.0\npaths:\n  /b:\n    get:\n      responses:\n        '200':\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Missing'}\n";
        let err = merge(&[doc("a.yaml", A), doc("b.yaml", b)]).unwrap_err();
        assert_eq!(err.file, "b.yaml");
        assert_eq!(err.pointer, "/paths/~1b/get/responses/200/content/application~1json/schema/$ref");
        assert!(err.message.contains("Missing"), "{err}");
    }

    #[test]
    fn unknown_top_level_keys_are_errors() {
        let err = merge(&[doc("w.yaml", "openapi: 3.1.0\nwebhooks: {}\n")]).unwrap_err();
        assert_eq!(err.pointer, "/webhooks");
    }
}
