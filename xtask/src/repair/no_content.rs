//! 22 `204 No Content` responses declare a JSON body. The server sends none, so a
//! client that decodes one fails every successful delete. A 204 has no content.

use serde_json::Value;

use super::Repair;
use crate::walk;

pub const REPAIR: Repair = Repair {
    name: "no_content_has_no_body",
    quirk: "`204` responses that declare a JSON body",
    apply: |doc, _| {
        walk::operations(doc, |o| {
            if let Some(r) = o.op.get_mut("responses").and_then(|r| r.get_mut("204")).and_then(Value::as_object_mut) {
                r.remove("content");
            }
            Ok(())
        })
    },
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn removes_the_body_of_204_only() {
        let body = json!({"application/json": {"schema": {"type": "object"}}});
        let mut doc = json!({"paths": {"/a": {"delete": {"responses": {
            "204": {"description": "No content", "content": body.clone()},
            "200": {"description": "OK", "content": body.clone()}
        }}}}});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        let r = &doc["paths"]["/a"]["delete"]["responses"];
        assert_eq!(r["204"], json!({"description": "No content"}));
        assert_eq!(r["200"]["content"], body);
    }
}
