//! `ProjectDeviceChannel.actor_id` (096, 088) is `{type: string, format: uuid}`, not
//! nullable, but a channel that no user acts through has `"actor_id": null`. Evidence:
//! the C2C channels guide, "Connecting a Channel" (`002_ca67f33d460f59c7.txt:554`,
//! char 76070) and "Listing Channels" (char 74356): every channel shown has
//! `"actor_id": null` (fixtures `c2c/channels_connect_200.json`,
//! `c2c/devices_me_200_channels_abridged.json`, defect D07).

use serde_json::Value;

use super::Repair;
use super::edit;

pub const REPAIR: Repair = Repair {
    name: "c2c_nullable_actor_id",
    quirk: "channel `actor_id` is `null` in every example but not nullable in the spec",
    apply: |doc, origins| {
        let at = format!("{}/properties/actor_id", edit::component("ProjectDeviceChannel"));
        let actor = edit::schema(doc, origins, &at)?;
        if actor.get("nullable") == Some(&Value::Bool(true)) {
            return Err(origins.error(&at, "`actor_id` is nullable now: remove this repair"));
        }
        actor.insert("nullable".into(), Value::Bool(true));
        Ok(())
    },
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn makes_actor_id_nullable() {
        let mut doc = json!({"components": {"schemas": {"ProjectDeviceChannel": {"properties": {"actor_id": {"type": "string"}}}}}});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        assert_eq!(doc["components"]["schemas"]["ProjectDeviceChannel"]["properties"]["actor_id"]["nullable"], true);
    }
}
