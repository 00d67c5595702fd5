//! The published documents define the same schema under many names (37 groups, e.g.
//! `FileType`/`FolderType`/`VersionStackType`/... are one enum; six `...Include`
//! enums are one list), which would generate seven Rust types for one concept.
//! Schemas identical up to their own `title`/`description` (and `required` order)
//! merge into one, named by the shortest published name (alphabetical on a tie;
//! names synthesized by other repairs lose to published ones). Merging repeats
//! until nothing changes, since merging leaves can make their parents identical.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::Repair;
use crate::walk;

pub const REPAIR: Repair = Repair {
    name: "dedupe_identical_schemas",
    quirk: "identical schemas published under different names (37 groups, 129 names)",
    apply: |doc, _| {
        while merge_once(doc) {}
        Ok(())
    },
};

/// Merges every group of identical schemas once; false when there was none.
fn merge_once(doc: &mut Value) -> bool {
    let Some(schemas) = doc.pointer("/components/schemas").and_then(Value::as_object) else {
        return false;
    };
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, schema) in schemas {
        groups.entry(fingerprint(schema)).or_default().push(name.clone());
    }
    let mut renames: BTreeMap<String, String> = BTreeMap::new();
    for mut names in groups.into_values().filter(|g| g.len() > 1) {
        names.sort_by_key(|n| (is_synthesized(&schemas[n]), n.len(), n.clone()));
        let keep = names[0].clone();
        renames.extend(names.into_iter().skip(1).map(|n| (n, keep.clone())));
    }
    if renames.is_empty() {
        return false;
    }
    if let Some(Value::Object(defs)) = doc.pointer_mut("/components/schemas") {
        defs.retain(|n, _| !renames.contains_key(n));
    }
    walk::refs(doc, &mut |r| walk::ref_name(r).and_then(|n| renames.get(n)).map(|n| walk::ref_to(n)));
    true
}

fn is_synthesized(schema: &Value) -> bool {
    schema.get("x-frameio-synthesized").is_some()
}

/// The schema without the keys that do not change the generated type's shape.
fn fingerprint(schema: &Value) -> String {
    let mut s: Map<String, Value> = schema.as_object().cloned().unwrap_or_default();
    for key in ["title", "description", "x-frameio-synthesized"] {
        s.remove(key);
    }
    if let Some(Value::Array(required)) = s.get_mut("required") {
        required.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    }
    canonical(&Value::Object(s))
}

/// JSON text with object keys sorted at every level: key order carries no meaning.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let body: Vec<String> =
                entries.iter().map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), canonical(v))).collect();
            format!("{{{}}}", body.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn merges_identical_schemas_and_their_parents() {
        let mut doc = json!({
            "paths": {"/a": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/FolderWrapper"}}}}}}}},
            "components": {"schemas": {
                "FileType": {"type": "string", "enum": ["file", "folder"], "title": "FileType"},
                "FolderType": {"type": "string", "enum": ["file", "folder"], "title": "FolderType"},
                "FileWrapper": {"type": "object", "properties": {"t": {"$ref": "#/components/schemas/FileType"}}, "required": ["t", "u"]},
                "FolderWrapper": {"type": "object", "properties": {"t": {"$ref": "#/components/schemas/FolderType"}}, "required": ["u", "t"]},
                "Other": {"type": "string", "enum": ["x"]}
            }}
        });
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        let names: Vec<_> = doc["components"]["schemas"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(names, ["FileType", "FileWrapper", "Other"]);
        assert_eq!(
            doc["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/FileWrapper"
        );
    }

    #[test]
    fn key_order_does_not_matter() {
        let mut doc = json!({"components": {"schemas": {
            "A": {"type": "object", "properties": {"x": {"type": "string"}, "y": {"type": "integer"}}},
            "B": {"properties": {"y": {"type": "integer"}, "x": {"type": "string"}}, "type": "object"}
        }}});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        assert_eq!(doc["components"]["schemas"].as_object().unwrap().len(), 1);
    }

    #[test]
    fn published_names_win_over_synthesized_ones() {
        let mut doc = json!({"components": {"schemas": {
            "U1": {"type": "object", "x-frameio-synthesized": true},
            "LongPublishedName": {"type": "object"}
        }}});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        assert!(doc["components"]["schemas"].get("LongPublishedName").is_some());
        assert!(doc["components"]["schemas"].get("U1").is_none());
    }
}
