//! The device's connection information (`/v2/devices/me`) types `status` as
//! `ProjectDeviceStatus`, `enum: ['offline', 'online']`, while the connection
//! guide, "Retrieving Connection Information" (`002_ca67f33d460f59c7.txt:554`, char
//! 14123), lists a third value: "`paused` - Device has been temporarily disabled in
//! the Frame.io C2C Connections panel". The value is added, so a paused device
//! decodes as `ProjectDeviceStatus::Paused` rather than `Unknown("paused")`.

use serde_json::{Value, json};

use super::Repair;
use super::edit;

pub const REPAIR: Repair = Repair {
    name: "c2c_device_status_paused",
    quirk: "device `status` enum lacks `paused`, which the connection guide documents",
    apply: |doc, origins| {
        let at = edit::component("ProjectDeviceStatus");
        let status = edit::schema(doc, origins, &at)?;
        let values = status.get_mut("enum").and_then(Value::as_array_mut);
        let Some(values) = values.filter(|v| !v.contains(&json!("paused"))) else {
            return Err(origins.error(&at, "no enum, or it has `paused` already: remove this repair"));
        };
        values.push(json!("paused"));
        Ok(())
    },
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn paused_is_a_status() {
        let mut doc = json!({"components": {"schemas": {"ProjectDeviceStatus": {"type": "string", "enum": ["offline", "online"]}}}});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        assert_eq!(doc["components"]["schemas"]["ProjectDeviceStatus"]["enum"], json!(["offline", "online", "paused"]));
        assert!((super::REPAIR.apply)(&mut doc, &Default::default()).is_err(), "once the spec has it, the repair goes");
    }
}
