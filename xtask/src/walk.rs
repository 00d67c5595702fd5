//! Walk: visit every operation and every schema object of a document.
//!
//! Repairs and the downgrade need the same traversal; it lives here once.

use serde_json::{Map, Value};

use crate::error::pointer;

/// An operation in the document: its pointer, path, method and object.
pub struct Operation<'a> {
    pub pointer: String,
    pub path: &'a str,
    pub method: &'a str,
    pub op: &'a mut Map<String, Value>,
}

/// Calls `f` for every operation, in document order.
pub fn operations<E>(doc: &mut Value, mut f: impl FnMut(Operation<'_>) -> Result<(), E>) -> Result<(), E> {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            let Some(op) = op.as_object_mut() else {
                continue;
            };
            f(Operation { pointer: pointer(["paths", path, method]), path, method, op })?;
        }
    }
    Ok(())
}

/// Calls `f` for every schema object (post-order: children first), with its pointer.
pub fn schemas<E>(
    doc: &mut Value,
    f: &mut impl FnMut(&str, &mut Map<String, Value>) -> Result<(), E>,
) -> Result<(), E> {
    if let Some(defs) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for (name, schema) in defs.iter_mut() {
            schema_tree(&pointer(["components", "schemas", name]), schema, f)?;
        }
    }
    operations(doc, |o| {
        for (i, p) in o.op.get_mut("parameters").and_then(Value::as_array_mut).into_iter().flatten().enumerate() {
            if let Some(s) = p.get_mut("schema") {
                schema_tree(&format!("{}/parameters/{i}/schema", o.pointer), s, f)?;
            }
        }
        if let Some(content) = o.op.get_mut("requestBody").and_then(|b| b.get_mut("content")) {
            media_schemas(&format!("{}/requestBody/content", o.pointer), content, f)?;
        }
        for (code, r) in o.op.get_mut("responses").and_then(Value::as_object_mut).into_iter().flatten() {
            if let Some(content) = r.get_mut("content") {
                media_schemas(&format!("{}/responses/{code}/content", o.pointer), content, f)?;
            }
        }
        Ok(())
    })
}

fn media_schemas<E>(
    at: &str,
    content: &mut Value,
    f: &mut impl FnMut(&str, &mut Map<String, Value>) -> Result<(), E>,
) -> Result<(), E> {
    for (media, m) in content.as_object_mut().into_iter().flatten() {
        if let Some(s) = m.get_mut("schema") {
            schema_tree(&format!("{at}/{}/schema", crate::error::escape(media)), s, f)?;
        }
    }
    Ok(())
}

/// Keywords whose value is one subschema, or a map / list of subschemas.
const ONE: [&str; 3] = ["items", "additionalProperties", "not"];
const MAP: [&str; 1] = ["properties"];
const LIST: [&str; 3] = ["allOf", "oneOf", "anyOf"];

fn schema_tree<E>(
    at: &str,
    schema: &mut Value,
    f: &mut impl FnMut(&str, &mut Map<String, Value>) -> Result<(), E>,
) -> Result<(), E> {
    let Some(obj) = schema.as_object_mut() else {
        return Ok(());
    };
    for key in ONE {
        if let Some(child) = obj.get_mut(key) {
            schema_tree(&format!("{at}/{key}"), child, f)?;
        }
    }
    for key in MAP {
        for (name, child) in obj.get_mut(key).and_then(Value::as_object_mut).into_iter().flatten() {
            schema_tree(&format!("{at}/{key}/{}", crate::error::escape(name)), child, f)?;
        }
    }
    for key in LIST {
        for (i, child) in obj.get_mut(key).and_then(Value::as_array_mut).into_iter().flatten().enumerate() {
            schema_tree(&format!("{at}/{key}/{i}"), child, f)?;
        }
    }
    f(at, obj)
}

/// Rewrites every `$ref` string in the document with `f` (None leaves it).
pub fn refs(value: &mut Value, f: &mut impl FnMut(&str) -> Option<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                match v {
                    Value::String(s) if k == "$ref" => {
                        if let Some(new) = f(s) {
                            *s = new;
                        }
                    }
                    _ => refs(v, f),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| refs(v, f)),
        _ => {}
    }
}

/// The component name a local schema `$ref` points at.
pub fn ref_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/components/schemas/")
}

/// The `$ref` string for a component schema.
pub fn ref_to(name: &str) -> String {
    format!("#/components/schemas/{name}")
}
