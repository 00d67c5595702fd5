//! The C2C asset-create body (090) declares `auto_version_id` (`format: uuid`, "The
//! asset you'd like this to be the next version of"); the C2C asset organization
//! guide, "Version stacking" (`002_ca67f33d460f59c7.txt:554`, char 114582), documents
//! `autoversion_id` instead (fixtures `c2c/assets_create_request_autoversion_*.json`,
//! defect D11). The guide is right: it names the member seven times, in prose and in
//! all three of its examples, and explains what it does ("you must supply an
//! `autoversion_id` to identify what version stack the assets belong to. This value
//! can be anything: a UUID, a filename, etc."), which also contradicts the spec's
//! `uuid` format and its meaning (an existing asset's id, where the guide's value is a
//! key shared by every version). The spec's spelling appears once, in the generated
//! reference, with nothing that uses it. So the member is `autoversion_id`, any string.

use serde_json::json;

use super::Repair;
use super::edit;

pub const REPAIR: Repair = Repair {
    name: "c2c_autoversion_id",
    quirk: "asset-create body declares `auto_version_id` (uuid); the guide documents `autoversion_id` (any string)",
    apply: |doc, origins| {
        let body = edit::request_body(doc, origins, "/v2/devices/assets", "post")?;
        let properties = doc.pointer_mut(&format!("{body}/properties")).and_then(|p| p.as_object_mut());
        if properties.and_then(|p| p.remove("auto_version_id")).is_none() {
            return Err(origins.error(&body, "`auto_version_id` is gone: remove this repair"));
        }
        let member = json!({
            "type": "string",
            "description": "Stacks versions: assets created in the same folder with the same `autoversion_id` form one version stack, newest on top. Any string (a UUID, a file name, …) that never repeats by accident."
        });
        edit::declare(doc, origins, &body, vec![("autoversion_id", member)])
    },
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn renames_the_member_to_the_documented_one() {
        let mut doc = json!({"paths": {"/v2/devices/assets": {"post": {"requestBody": {"content": {"application/json": {"schema":
            {"type": "object", "properties": {"name": {"type": "string"}, "auto_version_id": {"type": "string", "format": "uuid"}}}}}}}}}});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        let properties = &doc["paths"]["/v2/devices/assets"]["post"]["requestBody"]["content"]["application/json"]["schema"]
            ["properties"];
        let names: Vec<_> = properties.as_object().unwrap().keys().cloned().collect();
        assert_eq!(names, ["name", "autoversion_id"]);
        assert!(properties["autoversion_id"].get("format").is_none());
    }
}
