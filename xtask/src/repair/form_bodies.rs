//! The C2C OAuth endpoints (device code, token, revoke) publish `multipart/form-data`
//! bodies, which progenitor cannot generate. The C2C guide ("Error Handling":
//! "The API generally accepts ... `application/x-www-form-urlencoded` (all
//! endpoints)") documents the urlencoded form too, and its own JavaScript sample
//! sends `URLSearchParams`, so the bodies are declared urlencoded.

use serde_json::Value;

use super::Repair;
use crate::walk;

pub const REPAIR: Repair = Repair {
    name: "form_urlencoded_bodies",
    quirk: "`multipart/form-data` request bodies that progenitor cannot generate",
    apply: |doc, _| {
        walk::operations(doc, |o| {
            let content = o.op.get_mut("requestBody").and_then(|b| b.get_mut("content")).and_then(Value::as_object_mut);
            if let Some(content) = content
                && let Some(media) = content.remove("multipart/form-data")
            {
                content.insert("application/x-www-form-urlencoded".into(), media);
            }
            Ok(())
        })
    },
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn multipart_becomes_urlencoded_with_the_same_schema() {
        let schema = json!({"type": "object", "properties": {"client_id": {"type": "string"}}});
        let mut doc = json!({"paths": {"/t": {"post": {"requestBody": {"content": {"multipart/form-data": {"schema": schema.clone()}}}}}}});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        assert_eq!(
            doc["paths"]["/t"]["post"]["requestBody"]["content"],
            json!({"application/x-www-form-urlencoded": {"schema": schema}})
        );
    }
}
