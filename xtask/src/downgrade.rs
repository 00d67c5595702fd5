//! Downgrade: OpenAPI 3.1 (JSON Schema 2020-12) to the 3.0.3 that progenitor reads.
//!
//! Every construct the published documents use is translated; any other 3.1-only
//! keyword is an error naming the file and pointer, never silently dropped.

use serde_json::{Map, Value, json};

use crate::error::SpecError;
use crate::merge::Origins;
use crate::walk;

/// Schema keywords OpenAPI 3.0.3 understands (and so pass through unchanged).
const KNOWN: &[&str] = &[
    "$ref",
    "type",
    "format",
    "title",
    "description",
    "default",
    "enum",
    "nullable",
    "example",
    "deprecated",
    "readOnly",
    "writeOnly",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "allOf",
    "oneOf",
    "anyOf",
    "not",
    "discriminator",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "externalDocs",
];

/// Rewrites `doc` in place from 3.1 to 3.0.3.
pub fn downgrade(doc: &mut Value, origins: &Origins) -> Result<(), SpecError> {
    doc["openapi"] = json!("3.0.3");
    walk::schemas(doc, &mut |_, s| {
        collapse_null_members(s);
        Ok::<_, SpecError>(())
    })?;
    walk::schemas(doc, &mut |at, s| downgrade_schema(s).map_err(|m| origins.error(at, m)))
}

/// `oneOf: [X, {type: 'null'}]` (3.1's way to say "X or null") becomes X, nullable.
fn collapse_null_members(schema: &mut Map<String, Value>) {
    for key in ["oneOf", "anyOf"] {
        let Some(Value::Array(members)) = schema.get_mut(key) else {
            continue;
        };
        let before = members.len();
        members.retain(|m| m != &json!({"type": "null"}));
        if members.len() == before {
            continue;
        }
        let lone = (members.len() == 1).then(|| members.remove(0));
        schema.insert("nullable".into(), Value::Bool(true));
        if let Some(only) = lone {
            schema.remove(key);
            absorb(schema, only);
        }
    }
}

/// Merges a lone remaining member into its parent; a `$ref` goes under `allOf`,
/// because 3.0 ignores keywords beside a `$ref`.
fn absorb(schema: &mut Map<String, Value>, member: Value) {
    match member {
        Value::Object(m) if m.contains_key("$ref") => {
            schema.insert("allOf".into(), json!([m]));
        }
        Value::Object(m) => {
            for (k, v) in m {
                schema.entry(k).or_insert(v);
            }
        }
        other => {
            schema.insert("allOf".into(), json!([other]));
        }
    }
}

fn downgrade_schema(schema: &mut Map<String, Value>) -> Result<(), String> {
    if let Some(Value::Array(types)) = schema.get("type").cloned() {
        let non_null: Vec<Value> = types.iter().filter(|t| t.as_str() != Some("null")).cloned().collect();
        match non_null.as_slice() {
            [one] => {
                schema.insert("type".into(), one.clone());
                if non_null.len() < types.len() {
                    schema.insert("nullable".into(), Value::Bool(true));
                }
            }
            _ => return Err(format!("type list {types:?} has no 3.0 equivalent")),
        }
    }
    if schema.get("type").and_then(Value::as_str) == Some("null") {
        return Err("a bare `type: null` outside oneOf/anyOf has no 3.0 equivalent".into());
    }
    if let Some(value) = schema.remove("const") {
        schema.insert("enum".into(), json!([value]));
    }
    if let Some(examples) = schema.remove("examples") {
        let first = examples.as_array().and_then(|e| e.first()).cloned();
        if let Some(first) = first {
            schema.entry("example").or_insert(first);
        }
    }
    for (exclusive, inclusive) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        if let Some(bound) = schema.get(exclusive).filter(|v| v.is_number()).cloned() {
            schema.insert(inclusive.into(), bound);
            schema.insert(exclusive.into(), Value::Bool(true));
        }
    }
    if schema.contains_key("$ref") && schema.len() > 1 {
        let reference = schema.remove("$ref").unwrap_or_default();
        schema.insert("allOf".into(), json!([{ "$ref": reference }]));
    }
    if let Some(unknown) = schema.keys().find(|k| !KNOWN.contains(&k.as_str()) && !k.starts_with("x-")) {
        return Err(format!("unknown schema keyword `{unknown}`: teach the downgrade stage what it means in 3.0"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(schema: Value) -> Result<Value, SpecError> {
        let mut doc = json!({"openapi": "3.1.0", "components": {"schemas": {"S": schema}}});
        downgrade(&mut doc, &Origins::default())?;
        assert_eq!(doc["openapi"], "3.0.3");
        Ok(doc["components"]["schemas"]["S"].clone())
    }

    #[test]
    fn type_lists_with_null_become_nullable() {
        assert_eq!(run(json!({"type": ["string", "null"]})).unwrap(), json!({"type": "string", "nullable": true}));
    }

    #[test]
    fn one_of_with_null_becomes_nullable_all_of() {
        let out = run(json!({"oneOf": [{"$ref": "#/components/schemas/A"}, {"type": "null"}]})).unwrap();
        assert_eq!(out, json!({"nullable": true, "allOf": [{"$ref": "#/components/schemas/A"}]}));
    }

    #[test]
    fn ref_siblings_move_under_all_of() {
        let out = run(json!({"properties": {"p": {"$ref": "#/components/schemas/A", "default": "x"}}})).unwrap();
        assert_eq!(out["properties"]["p"], json!({"default": "x", "allOf": [{"$ref": "#/components/schemas/A"}]}));
    }

    #[test]
    fn const_examples_and_numeric_exclusive_bounds() {
        let out = run(json!({"type": "integer", "const": 3, "examples": [3], "exclusiveMinimum": 0})).unwrap();
        assert_eq!(out, json!({"type": "integer", "enum": [3], "example": 3, "exclusiveMinimum": true, "minimum": 0}));
    }

    #[test]
    fn unknown_keywords_are_errors_with_a_pointer() {
        let err = run(json!({"properties": {"p": {"type": "string", "contentMediaType": "text/plain"}}})).unwrap_err();
        assert_eq!(err.pointer, "/components/schemas/S/properties/p");
        assert!(err.message.contains("contentMediaType"), "{err}");
    }

    #[test]
    fn a_type_list_of_two_real_types_is_an_error() {
        assert!(run(json!({"type": ["string", "integer"]})).is_err());
    }
}
