//! The C2C OAuth endpoints (093 device code, 094 token, 095 revoke) and the project
//! connect/disconnect endpoints (100, 101) declare no error response at all, so the
//! client cannot read the error that drives the device flow. Evidence: the C2C
//! authentication guide, Step 2 (`002_ca67f33d460f59c7.txt:548`, char 33818 and
//! 34302): polling "typically returns" `{"error": "authorization_pending"}`, then
//! `{"error": "expired_token"}`; the C2C errors guide, "Simple Error Schema"
//! (`002_ca67f33d460f59c7.txt:554`, char 53799), shows `HTTP/2 400`
//! `{"error":"invalid_client"}` from `/v2/auth/device/code` and says every C2C error is
//! either that simple shape or the detailed one (fixtures `c2c/auth_*_400_*.json`,
//! defect D13). Both shapes are the C2C `Error` built by `one_c2c_error_envelope`, so
//! every operation without error responses gets the same `4XX`/`5XX` ones.

use serde_json::{Value, json};

use super::Repair;
use crate::walk;

pub const REPAIR: Repair = Repair {
    name: "c2c_errors_everywhere",
    quirk: "C2C OAuth and connect endpoints declare no error response; the guides show `{\"error\": ...}` bodies",
    apply: |doc, origins| {
        let mut added = 0;
        walk::operations(doc, |o| {
            let Some(responses) = o.op.get_mut("responses").and_then(Value::as_object_mut) else { return Ok(()) };
            if responses.keys().all(|code| code.starts_with('2')) {
                for range in ["4XX", "5XX"] {
                    responses.insert(
                        range.into(),
                        json!({"description": "Error", "content": {"application/json": {"schema": {"$ref": walk::ref_to("Error")}}}}),
                    );
                }
                added += 1;
            }
            Ok(())
        })?;
        match added {
            0 => Err(origins.error("/paths", "every operation declares its errors now: remove this repair")),
            _ => Ok(()),
        }
    },
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn operations_without_errors_get_the_envelope() {
        let error = json!({"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
        let mut doc = json!({"paths": {
            "/token": {"post": {"responses": {"200": {"description": "OK"}}}},
            "/me": {"get": {"responses": {"200": {"description": "OK"}, "4XX": {"description": "Mine"}}}}
        }});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        assert_eq!(doc["paths"]["/token"]["post"]["responses"]["4XX"], error);
        assert_eq!(doc["paths"]["/token"]["post"]["responses"]["5XX"], error);
        assert_eq!(doc["paths"]["/me"]["get"]["responses"]["4XX"]["description"], "Mine");
        assert!(doc["paths"]["/me"]["get"]["responses"].get("5XX").is_none());
    }
}
