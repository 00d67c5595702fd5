//! `FrameOrAdobeId` (every path id) is a plain `type: string` schema, which typify
//! turns into a newtype without `From<&str>`: `.account_id("...")` would not compile.
//! A component that is just an unconstrained string says nothing a `String` does
//! not, so references to it are inlined (its description kept).

use serde_json::{Map, Value};

use super::Repair;
use crate::walk;

pub const REPAIR: Repair = Repair {
    name: "inline_string_aliases",
    quirk: "plain-string components such as `FrameOrAdobeId` become newtypes that `&str` cannot convert into",
    apply: |doc, _| {
        let Some(schemas) = doc.pointer("/components/schemas").and_then(Value::as_object).cloned() else {
            return Ok(());
        };
        let aliases: Map<String, Value> = schemas.into_iter().filter(|(_, s)| is_plain_string(s)).collect();
        walk::schemas(doc, &mut |_, s| {
            let target = s.get("$ref").and_then(Value::as_str).and_then(walk::ref_name).and_then(|n| aliases.get(n));
            if let Some(Value::Object(alias)) = target.cloned() {
                s.remove("$ref");
                for (k, v) in alias {
                    if k != "title" {
                        s.entry(k).or_insert(v);
                    }
                }
            }
            Ok(())
        })?;
        if let Some(Value::Object(defs)) = doc.pointer_mut("/components/schemas") {
            defs.retain(|name, _| !aliases.contains_key(name));
        }
        Ok(())
    },
};

fn is_plain_string(s: &Value) -> bool {
    let Some(obj) = s.as_object() else {
        return false;
    };
    s["type"] == "string" && obj.keys().all(|k| matches!(k.as_str(), "type" | "description" | "title"))
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
    }
}
