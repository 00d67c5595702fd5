//! Checked edits of one schema, for the repairs that fix one published schema from
//! the docs' evidence. Each edit fails when the defect it fixes is no longer there,
//! so a spec that Frame.io has fixed retires its repair instead of being edited twice.

use serde_json::{Map, Value};

use crate::error::{SpecError, pointer};
use crate::merge::Origins;

/// The pointer of a component schema.
pub fn component(name: &str) -> String {
    pointer(["components", "schemas", name])
}

/// The pointer of the one request body schema of `method path`, whatever its media type.
pub fn request_body(doc: &Value, origins: &Origins, path: &str, method: &str) -> Result<String, SpecError> {
    let at = pointer(["paths", path, method, "requestBody", "content"]);
    match doc.pointer(&at).and_then(Value::as_object).map(|c| c.keys().collect::<Vec<_>>()).as_deref() {
        Some([media]) => Ok(format!("{at}/{}/schema", crate::error::escape(media))),
        _ => Err(origins.error(&at, "the request body this repair fixes is gone or has several media types")),
    }
}

/// The object schema at `at`.
pub fn schema<'a>(doc: &'a mut Value, origins: &Origins, at: &str) -> Result<&'a mut Map<String, Value>, SpecError> {
    doc.pointer_mut(at)
        .and_then(Value::as_object_mut)
        .ok_or_else(|| origins.error(at, "the schema this repair fixes is gone"))
}

/// Removes `members` from the schema's `required` list.
pub fn unrequire(doc: &mut Value, origins: &Origins, at: &str, members: &[&str]) -> Result<(), SpecError> {
    let s = schema(doc, origins, at)?;
    let required = s.get_mut("required").and_then(Value::as_array_mut);
    let Some(required) = required.filter(|r| members.iter().all(|m| r.iter().any(|v| v == m))) else {
        return Err(origins.error(at, format!("{members:?} are no longer all required: remove this repair")));
    };
    required.retain(|v| !members.iter().any(|m| v == m));
    if required.is_empty() {
        s.remove("required");
    }
    Ok(())
}

/// Adds `members` (name, schema) to the schema's `properties`.
pub fn declare(doc: &mut Value, origins: &Origins, at: &str, members: Vec<(&str, Value)>) -> Result<(), SpecError> {
    let s = schema(doc, origins, at)?;
    let properties = s.entry("properties").or_insert_with(|| Value::Object(Map::new()));
    let Some(properties) = properties.as_object_mut() else {
        return Err(origins.error(at, "`properties` is not an object"));
    };
    for (name, member) in members {
        if properties.contains_key(name) {
            return Err(origins.error(at, format!("`{name}` is declared now: remove it from this repair")));
        }
        properties.insert(name.to_string(), member);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn edits_fail_once_the_defect_is_gone() {
        let mut doc = json!({"components": {"schemas": {"S": {"properties": {"a": {}}, "required": ["a"]}}}});
        let at = component("S");
        unrequire(&mut doc, &Origins::default(), &at, &["a"]).unwrap();
        assert_eq!(doc["components"]["schemas"]["S"], json!({"properties": {"a": {}}}));
        assert!(unrequire(&mut doc, &Origins::default(), &at, &["a"]).is_err());
        assert!(declare(&mut doc, &Origins::default(), &at, vec![("a", json!({}))]).is_err());
        assert!(schema(&mut doc, &Origins::default(), &component("Gone")).is_err());
    }

    #[test]
    fn finds_the_request_body_whatever_its_media_type() {
        let doc = json!({"paths": {"/t": {"post": {"requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {}}}}}}}});
        let at = request_body(&doc, &Origins::default(), "/t", "post").unwrap();
        assert_eq!(at, "/paths/~1t/post/requestBody/content/application~1x-www-form-urlencoded/schema");
    }
}
