//! `POST /v2/auth/token` (094) answers 200 with `Authentication_authDeviceToken_Response_200`,
//! published as `{type: object, properties: {}}`, "Empty response body": the token it
//! exists for has no field. Evidence: the C2C authentication guide, Step 2,
//! "Successful authorization produces" (`002_ca67f33d460f59c7.txt:548`, char 34455;
//! fixture `c2c/auth_token_200.json`, defect D04):
//! `{"access_token": "[access_token]", "expires_in": 28800, "refresh_token": "[refresh_token]", "token_type": "bearer"}`,
//! and it explains each member. `access_token` and `token_type` are required, as
//! OAuth 2.0 (RFC 6749 §5.1) requires them of every token response; `expires_in`
//! ("RECOMMENDED") and `refresh_token` (only with the `offline` scope) are optional.

use serde_json::json;

use super::Repair;
use super::edit;

pub const REPAIR: Repair = Repair {
    name: "c2c_token_response",
    quirk: "the C2C token response is published as an empty object (\"Empty response body\")",
    apply: |doc, origins| {
        let at = edit::component("Authentication_authDeviceToken_Response_200");
        let members = vec![
            (
                "access_token",
                json!({"type": "string", "description": "The credential for every later request (`Authorization: Bearer …`)."}),
            ),
            (
                "expires_in",
                json!({"type": "integer", "description": "Seconds the access token is valid for; refresh it before then."}),
            ),
            (
                "refresh_token",
                json!({"type": "string", "description": "Refreshes (or revokes) the authorization; issued with the `offline` scope."}),
            ),
            ("token_type", json!({"type": "string", "description": "Always `bearer`."})),
        ];
        edit::declare(doc, origins, &at, members)?;
        let s = edit::schema(doc, origins, &at)?;
        s.insert("required".into(), json!(["access_token", "token_type"]));
        s.insert("description".into(), json!("An OAuth 2.0 token response."));
        Ok(())
    },
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn declares_the_token() {
        let mut doc = json!({"components": {"schemas": {"Authentication_authDeviceToken_Response_200":
            {"type": "object", "properties": {}, "description": "Empty response body"}}}});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        let s = &doc["components"]["schemas"]["Authentication_authDeviceToken_Response_200"];
        let names: Vec<_> = s["properties"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(names, ["access_token", "expires_in", "refresh_token", "token_type"]);
        assert_eq!(s["required"], json!(["access_token", "token_type"]));
    }
}
