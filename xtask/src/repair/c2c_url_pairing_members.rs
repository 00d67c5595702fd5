//! `POST /v2/auth/device/code` (093) requires `verification_uri` in its 200 response
//! (`Authentication_deviceRequestCode_Response_200`), but only URL pairing (the
//! request header `x-client-platypus-enabled: true`) returns it. Evidence: the C2C
//! authentication guide, "Understanding the API Response"
//! (`002_ca67f33d460f59c7.txt:548`): the "Traditional Pairing Response" (char 31214)
//! is `{"device_code", "expires_in", "interval", "name", "user_code"}`, the "URL
//! Pairing Response" (char 31372) adds `verification_uri` and
//! `verification_uri_complete` (fixtures `c2c/auth_device_code_200_*.json`, defect D09).

use super::Repair;
use super::edit;

pub const REPAIR: Repair = Repair {
    name: "c2c_optional_verification_uri",
    quirk: "the device-code response requires `verification_uri`, which only URL pairing returns",
    apply: |doc, origins| {
        edit::unrequire(
            doc,
            origins,
            &edit::component("Authentication_deviceRequestCode_Response_200"),
            &["verification_uri"],
        )
    },
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn verification_uri_is_optional() {
        let mut doc = json!({"components": {"schemas": {"Authentication_deviceRequestCode_Response_200":
            {"required": ["device_code", "verification_uri"]}}}});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        assert_eq!(
            doc["components"]["schemas"]["Authentication_deviceRequestCode_Response_200"]["required"],
            json!(["device_code"])
        );
    }
}
