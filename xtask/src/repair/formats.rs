//! Formats the generator would misread:
//! - `format: datetime` (10 uses) is a typo of `date-time`; left alone it decodes as a
//!   plain string on some fields and a timestamp on others.
//! - `format: uuid` is dropped: ids are opaque strings. The `FrameOrAdobeId` schema
//!   itself says accounts, projects, folders and files may carry Adobe ids
//!   (`adobe:...`), which a `Uuid` field would reject, failing the whole response.

use serde_json::Value;

use super::Repair;
use crate::walk;

pub const REPAIR: Repair = Repair {
    name: "normalize_formats",
    quirk: "`format: datetime` typos, and `format: uuid` on ids that may be Adobe ids",
    apply: |doc, _| {
        walk::schemas(doc, &mut |_, s| {
            match s.get("format").and_then(Value::as_str) {
                Some("datetime") => {
                    s.insert("format".into(), Value::String("date-time".into()));
                }
                Some("uuid") => {
                    s.remove("format");
                }
                _ => {}
            }
            Ok(())
        })
    },
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn fixes_datetime_and_drops_uuid() {
        let mut doc = json!({"components": {"schemas": {"T": {"properties": {
            "at": {"type": "string", "format": "datetime"},
            "id": {"type": "string", "format": "uuid"},
            "day": {"type": "string", "format": "date"}
        }}}}});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        let p = &doc["components"]["schemas"]["T"]["properties"];
        assert_eq!(p["at"], json!({"type": "string", "format": "date-time"}));
        assert_eq!(p["id"], json!({"type": "string"}));
        assert_eq!(p["day"]["format"], "date");
    }
}
