//! `FrameOrAdobeId` (every path id) is a plain `type: string` schema, which typify
//! turns into a newtype without `From<&str>`: `.account_id("...")` would not compile.
//! Likewise `RequestPageSize` (`type: integer, default: 50`) becomes a newtype that
//! only `i64` converts into, so `.page_size(100)` would not compile. A component
//! that is just a scalar (no `enum`, no `pattern`) says nothing its Rust scalar does
//! not, so references to it are inlined (description and default kept).

use serde_json::{Map, Value};

use super::Repair;
use crate::walk;

pub const REPAIR: Repair = Repair {
    name: "inline_scalar_aliases",
    quirk: "plain scalar components (`FrameOrAdobeId`, `RequestPageSize`) become newtypes that `&str` / integer literals cannot convert into",
    apply: |doc, _| {
        let Some(schemas) = doc.pointer("/components/schemas").and_then(Value::as_object).cloned() else {
            return Ok(());
        };
        let aliases: Map<String, Value> = schemas.into_iter().filter(|(_, s)| is_plain_scalar(s)).collect();
        walk::schemas(doc, &mut |_, s| {
            let target = s.get("$ref").and_then(Value::as_str).and_then(walk::ref_name).and_then(|n| aliases.get(n));
            if let Some(Value::Object(alias)) = target.cloned() {
                s.remove("$ref");
                absorb(s, alias);
            }
            // `{allOf: [<inlined alias>], default: ..}` (a `$ref` that had siblings) is just the alias.
            if let Some(Value::Array(members)) = s.get("allOf")
                && let [Value::Object(only)] = members.as_slice()
                && !only.contains_key("$ref")
            {
                let only = only.clone();
                s.remove("allOf");
                absorb(s, only);
            }
            Ok(())
        })?;
        if let Some(Value::Object(defs)) = doc.pointer_mut("/components/schemas") {
            defs.retain(|name, _| !aliases.contains_key(name));
        }
        Ok(())
    },
};

fn absorb(schema: &mut Map<String, Value>, alias: Map<String, Value>) {
    for (k, v) in alias {
        if k != "title" {
            schema.entry(k).or_insert(v);
        }
    }
}

fn is_plain_scalar(s: &Value) -> bool {
    let scalar = matches!(s["type"].as_str(), Some("string" | "integer" | "number" | "boolean"));
    scalar && s.get("enum").is_none() && s.get("pattern").is_none()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn inlines_plain_strings_and_keeps_constrained_ones() {
        let mut doc = json!({
            "paths": {"/a/{id}": {"get": {"parameters": [{"name": "id", "in": "path", "schema": {"$ref": "#/components/schemas/Id"}}]}}},
            "components": {"schemas": {
                "Id": {"type": "string", "title": "Id", "description": "An id"},
                "Kind": {"type": "string", "enum": ["a"]},
                "Size": {"type": "integer", "default": 50, "title": "Size"},
                "K": {"type": "object", "properties": {"kind": {"$ref": "#/components/schemas/Kind"}}}
            }}
        });
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        assert_eq!(
            doc["paths"]["/a/{id}"]["get"]["parameters"][0]["schema"],
            json!({"type": "string", "description": "An id"})
        );
        assert!(doc["components"]["schemas"].get("Id").is_none());
        assert_eq!(doc["components"]["schemas"]["K"]["properties"]["kind"]["$ref"], "#/components/schemas/Kind");
        assert!(doc["components"]["schemas"].get("Size").is_none());
    }

    #[test]
    fn a_ref_with_siblings_collapses_to_the_scalar() {
        let mut doc = json!({
            "paths": {"/a": {"get": {"parameters": [{"name": "n", "in": "query", "schema": {"allOf": [{"$ref": "#/components/schemas/Size"}], "default": 10}}]}}},
            "components": {"schemas": {"Size": {"type": "integer", "default": 50}}}
        });
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        assert_eq!(doc["paths"]["/a"]["get"]["parameters"][0]["schema"], json!({"default": 10, "type": "integer"}));
    }
}
