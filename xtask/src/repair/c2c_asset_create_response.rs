//! `POST /v2/devices/assets` (090) answers 200 with `oneOf [Asset, RealtimeAssetResponse]`,
//! where `Asset` is `oneOf [Asset0]` and `Asset0` is an object with one property named
//! `''` and no `required`: it matches every object, so the real-time response
//! `{id, name}` matches both members, and the standard response's members (`_type`,
//! `id`, `upload_urls`) are declared nowhere (defect D05). Evidence, all in
//! `002_ca67f33d460f59c7.txt:554`: the basic uploads guide ("with some fields
//! omitted", char 22957) `{"_type": "file", "id": "9a28…", "upload_urls": ["https://…/parts/[part_01_path]", …]}`;
//! the advanced uploads guide's four-part example (char 91810, only `upload_urls`);
//! the real-time uploads guide ("The response for real-time assets is simplified",
//! char 29862) `{"id": "{asset_id}", "name": "C2C_TEST_CLIP.mp4"}` (fixtures
//! `c2c/assets_create_200_*.json`).
//!
//! Both answers are one asset with more or fewer members, and nothing on the wire
//! tells them apart, so the response is one object: `id` (required, as the published
//! `RealtimeAssetResponse` requires it and every whole example has it) and `name`
//! with their published schemas, plus the optional `_type` and `upload_urls` the
//! standard answer shows.

use serde_json::json;

use super::Repair;
use super::edit;

pub const REPAIR: Repair = Repair {
    name: "c2c_asset_create_response",
    quirk: "the C2C asset-create 200 is `oneOf` a catch-all `Asset` (one property named `''`) and `RealtimeAssetResponse`",
    apply: |doc, origins| {
        let at = edit::component("Devices_deviceAssetCreate_Response_200");
        let members = doc.pointer(&format!("{at}/oneOf")).cloned().unwrap_or_default();
        let expected =
            json!([{"$ref": "#/components/schemas/Asset"}, {"$ref": "#/components/schemas/RealtimeAssetResponse"}]);
        if members != expected {
            return Err(origins.error(&at, "no longer `oneOf [Asset, RealtimeAssetResponse]`: remove this repair"));
        }
        let realtime = edit::schema(doc, origins, &edit::component("RealtimeAssetResponse"))?;
        let (id, name) = (realtime["properties"]["id"].clone(), realtime["properties"]["name"].clone());
        let schema = edit::schema(doc, origins, &at)?;
        schema.remove("oneOf");
        schema.insert("type".into(), json!("object"));
        schema.insert(
            "description".into(),
            json!("The created asset: `id` and `name` for a real-time upload; for a standard upload, the asset with the `upload_urls` to send its parts to."),
        );
        schema.insert(
            "properties".into(),
            json!({
                "_type": {"type": "string", "description": "The kind of asset, e.g. `file`."},
                "id": id,
                "name": name,
                "upload_urls": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Where to upload the file's parts, one URL per part, in order (standard uploads only)."
                }
            }),
        );
        schema.insert("required".into(), json!(["id"]));
        Ok(())
    },
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn one_object_with_the_members_of_both_answers() {
        let mut doc = json!({"components": {"schemas": {
            "Asset": {"oneOf": [{"$ref": "#/components/schemas/Asset0"}]},
            "RealtimeAssetResponse": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}},
            "Devices_deviceAssetCreate_Response_200": {"oneOf": [
                {"$ref": "#/components/schemas/Asset"}, {"$ref": "#/components/schemas/RealtimeAssetResponse"}
            ]}
        }}});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        let s = &doc["components"]["schemas"]["Devices_deviceAssetCreate_Response_200"];
        assert!(s.get("oneOf").is_none());
        let names: Vec<_> = s["properties"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(names, ["_type", "id", "name", "upload_urls"]);
        assert_eq!(s["required"], json!(["id"]));
    }
}
