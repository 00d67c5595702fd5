//! Every C2C object carries its kind in `_type`, and the spec declares it on each
//! (`ProjectDevice`, `ProjectDeviceChannel`, `ProjectDeviceAuthorization`, its
//! `creator`), except on `Project` (088). Evidence: the C2C connection info guide,
//! "Retrieving Connection Information" (`002_ca67f33d460f59c7.txt:554`, char 13449;
//! fixture `c2c/devices_me_200_abridged.json`, defect D14), shows the device's
//! project as `{"_type": "project", "id": "…", "name": "Testbed"}`. Declared optional.

use serde_json::json;

use super::Repair;
use super::edit;

pub const REPAIR: Repair = Repair {
    name: "c2c_project_type",
    quirk: "C2C `Project` lacks the `_type` member every other C2C object declares",
    apply: |doc, origins| {
        let member = json!({"type": "string", "description": "The kind of object: `project`."});
        edit::declare(doc, origins, &edit::component("Project"), vec![("_type", member)])
    },
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn declares_type() {
        let mut doc = json!({"components": {"schemas": {"Project": {"type": "object", "properties": {"id": {"type": "string"}}}}}});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        assert_eq!(doc["components"]["schemas"]["Project"]["properties"]["_type"]["type"], "string");
    }
}
