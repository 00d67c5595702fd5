//! The audit-log and field-definition lists take an object-valued `filters` query
//! parameter; OpenAPI's default `style: form, explode: true` would spread its
//! fields as bare `event_type=...`, and progenitor reaches `unreachable!` on it.
//! The official Python SDK 4.0.0 (generated from the same API definition) sends them
//! bracketed, `filters[event_type]=...` (its `core/query_encoder.py` flattens objects
//! into `key[subkey]`), so each field becomes its own optional query parameter with
//! that exact wire name. (The reference's curl samples show `filters=%7B%7D`, an
//! empty object its sample generator serialised as JSON; no sample sends a field.)

use serde_json::{Value, json};

use super::Repair;
use crate::error::SpecError;
use crate::merge::Origins;
use crate::walk;

pub const REPAIR: Repair = Repair {
    name: "flatten_object_query_parameters",
    quirk: "object-valued `filters` query parameters make progenitor reach `unreachable!`",
    apply,
};

fn apply(doc: &mut Value, origins: &Origins) -> Result<(), SpecError> {
    let schemas = doc.pointer("/components/schemas").cloned().unwrap_or_default();
    walk::operations(doc, |o| {
        let Some(Value::Array(params)) = o.op.get_mut("parameters") else {
            return Ok(());
        };
        let mut flattened = Vec::with_capacity(params.len());
        for (i, p) in params.drain(..).enumerate() {
            let schema = match p["schema"]["$ref"].as_str().and_then(walk::ref_name) {
                Some(name) => schemas[name].clone(),
                None => p["schema"].clone(),
            };
            if p["in"] != "query" || schema["type"] != "object" {
                flattened.push(p);
                continue;
            }
            let Some(fields) = schema["properties"].as_object() else {
                let at = format!("{}/parameters/{i}", o.pointer);
                return Err(origins.error(&at, "object query parameter without properties"));
            };
            let name = p["name"].as_str().unwrap_or_default();
            for (field, field_schema) in fields {
                let mut field_schema = field_schema.clone();
                let description = field_schema.as_object_mut().and_then(|s| s.remove("description"));
                flattened.push(json!({
                    "name": format!("{name}[{field}]"),
                    "in": "query",
                    "required": false,
                    "description": description.unwrap_or_default(),
                    "schema": field_schema,
                }));
            }
        }
        *params = flattened;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_field_becomes_a_bracketed_parameter() {
        let mut doc = json!({
            "paths": {"/logs": {"get": {"parameters": [
                {"name": "filters", "in": "query", "schema": {"$ref": "#/components/schemas/Filters"}},
                {"name": "after", "in": "query", "schema": {"type": "string"}}
            ]}}},
            "components": {"schemas": {"Filters": {"type": "object", "properties": {
                "event_type": {"$ref": "#/components/schemas/EventType"},
                "from_date": {"type": "string", "format": "date", "description": "Start"}
            }}}}
        });
        apply(&mut doc, &Origins::default()).unwrap();
        let params = doc["paths"]["/logs"]["get"]["parameters"].as_array().unwrap();
        let names: Vec<_> = params.iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["filters[event_type]", "filters[from_date]", "after"]);
        assert_eq!(params[0]["schema"]["$ref"], "#/components/schemas/EventType");
        assert_eq!(params[1]["description"], "Start");
        assert_eq!(params[1]["required"], false);
    }
}
