//! `POST /v2/auth/revoke` (095) declares a 200 JSON body (`{type: object, properties:
//! {}}`), but the C2C token management guide says "The system returns headers without
//! a payload. Success is indicated by a `200` status code: HTTP/2 200 ..."
//! (`002_ca67f33d460f59c7.txt:554`, char 9458). Decoding the empty body as JSON would
//! fail every successful revocation, so the 200 has no content.

use serde_json::Value;

use super::Repair;
use crate::error::pointer;

pub const REPAIR: Repair = Repair {
    name: "c2c_revoke_has_no_body",
    quirk: "token revocation declares a JSON body; the guide says it returns none",
    apply: |doc, origins| {
        let at = pointer(["paths", "/v2/auth/revoke", "post", "responses", "200"]);
        let removed = doc.pointer_mut(&at).and_then(Value::as_object_mut).and_then(|r| r.remove("content"));
        match removed {
            Some(_) => Ok(()),
            None => Err(origins.error(&at, "the revoke response has no body now: remove this repair")),
        }
    },
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn the_revoke_response_has_no_body() {
        let mut doc = json!({"paths": {"/v2/auth/revoke": {"post": {"responses": {"200": {"description": "",
            "content": {"application/json": {"schema": {"type": "object"}}}}}}}}});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        assert_eq!(doc["paths"]["/v2/auth/revoke"]["post"]["responses"]["200"], json!({"description": ""}));
    }
}
