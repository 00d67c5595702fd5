//! Devices with a tokenized upload path send the path's tokens on asset creation, but
//! the C2C asset-create body (090) has no member for them. Evidence: the C2C asset
//! organization guide, "Tokenized upload paths" (`002_ca67f33d460f59c7.txt:554`, char
//! 112608; fixture `c2c/assets_create_request_tokenized_metadata.json`, defect D11),
//! sends `"metadata": {"reel_name": "A001", "clip_number": "C001"}`. Its prose says
//! the keys "must be supplied at the root of the payload"; the example, the only
//! concrete form, nests them in `metadata`, and keys chosen per device could not be
//! typed at the root anyway. Declared as an optional map of strings (the tokens are
//! path segments).

use serde_json::json;

use super::Repair;
use super::edit;

pub const REPAIR: Repair = Repair {
    name: "c2c_tokenized_metadata",
    quirk: "asset-create body has no member for the tokenized-path metadata the guide sends",
    apply: |doc, origins| {
        let body = edit::request_body(doc, origins, "/v2/devices/assets", "post")?;
        let metadata = json!({
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Values of the tokens in the device's custom upload path (its required metadata fields), e.g. `{\"reel_name\": \"A001\"}`."
        });
        edit::declare(doc, origins, &body, vec![("metadata", metadata)])
    },
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn declares_metadata_as_a_map_of_strings() {
        let mut doc = json!({"paths": {"/v2/devices/assets": {"post": {"requestBody": {"content": {"application/json": {"schema":
            {"type": "object", "properties": {"name": {"type": "string"}}}}}}}}}});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        let schema =
            &doc["paths"]["/v2/devices/assets"]["post"]["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(schema["properties"]["metadata"]["additionalProperties"], json!({"type": "string"}));
    }
}
