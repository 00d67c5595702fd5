//! `POST /v2/auth/token` (094) requires `client_secret`, but the device polls for its
//! token without one. Evidence: the C2C authentication guide, "Step 2: Polling for User
//! Authorization" (`002_ca67f33d460f59c7.txt:548`, char 33282; fixture
//! `c2c/auth_token_request_form_device_code_poll.json`, defect D12) sends only
//! `client_id`, `device_code` and `grant_type`, and its "Payload Parameters" list
//! (char 33635) names exactly those three. That is the OAuth 2.0 device grant (RFC
//! 8628 §3.4), where a public client authenticates by `client_id` alone. The API
//! reference's example does send the secret, so it stays declared, optional.

use super::Repair;
use super::edit;

pub const REPAIR: Repair = Repair {
    name: "c2c_token_poll_without_secret",
    quirk: "the token request requires `client_secret`; the guide's device-code poll sends none",
    apply: |doc, origins| {
        let body = edit::request_body(doc, origins, "/v2/auth/token", "post")?;
        edit::unrequire(doc, origins, &body, &["client_secret"])
    },
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn client_secret_is_optional() {
        let mut doc = json!({"paths": {"/v2/auth/token": {"post": {"requestBody": {"content": {"application/x-www-form-urlencoded": {"schema":
            {"type": "object", "required": ["client_id", "client_secret", "grant_type"]}}}}}}}});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        let schema = &doc["paths"]["/v2/auth/token"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
            ["schema"];
        assert_eq!(schema["required"], json!(["client_id", "grant_type"]));
    }
}
