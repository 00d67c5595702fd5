//! progenitor sends `api-version: <info.version>` on every request, and the audit-log
//! operation also declares its own required `api-version` header (`enum: ['4.0']`),
//! which would send two values. The documented value moves to
//! `x-frameio-api-version` on the operation; the generated operation table carries
//! it and the client hook sends exactly that value, once, and only where documented.

use serde_json::Value;

use super::Repair;
use crate::walk;

pub const REPAIR: Repair = Repair {
    name: "documented_api_version_header",
    quirk: "the audit-log operation's own required `api-version: 4.0` header beside progenitor's automatic one",
    apply: |doc, origins| {
        let schemas = doc.pointer("/components/schemas").cloned().unwrap_or_default();
        walk::operations(doc, |o| {
            let Some(Value::Array(params)) = o.op.get_mut("parameters") else {
                return Ok(());
            };
            let Some(i) = params.iter().position(|p| p["in"] == "header" && p["name"] == "api-version") else {
                return Ok(());
            };
            let param = params.remove(i);
            let schema = resolve(&param["schema"], &schemas);
            let value = match schema["enum"].as_array().map(Vec::as_slice) {
                Some([Value::String(v)]) => v.clone(),
                _ => {
                    let at = format!("{}/parameters/{i}", o.pointer);
                    return Err(origins.error(&at, "an `api-version` header must have exactly one documented value"));
                }
            };
            o.op.insert("x-frameio-api-version".into(), Value::String(value));
            Ok(())
        })
    },
};

fn resolve<'a>(schema: &'a Value, schemas: &'a Value) -> &'a Value {
    match schema["$ref"].as_str().and_then(walk::ref_name) {
        Some(name) => &schemas[name],
        None => schema,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn moves_the_documented_value_to_the_operation() {
        let mut doc = json!({
            "paths": {"/a": {"get": {"parameters": [
                {"name": "api-version", "in": "header", "schema": {"$ref": "#/components/schemas/V"}}
            ]}}},
            "components": {"schemas": {"V": {"type": "string", "enum": ["4.0"]}}}
        });
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        let op = &doc["paths"]["/a"]["get"];
        assert_eq!(op["parameters"], json!([]));
        assert_eq!(op["x-frameio-api-version"], "4.0");
    }

    #[test]
    fn an_open_ended_api_version_is_an_error() {
        let mut doc = json!({"paths": {"/a": {"get": {"parameters": [
            {"name": "api-version", "in": "header", "schema": {"type": "string"}}
        ]}}}});
        assert!((super::REPAIR.apply)(&mut doc, &Default::default()).is_err());
    }
}
