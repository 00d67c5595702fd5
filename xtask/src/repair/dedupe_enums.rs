//! `FieldValueCommonFieldType` lists `users` twice; typify panics on a duplicate
//! enum value. The duplicate adds nothing, so only the first occurrence is kept.

use serde_json::Value;

use super::Repair;
use crate::walk;

pub const REPAIR: Repair = Repair {
    name: "dedupe_enum_values",
    quirk: "duplicate enum values (`users` twice in `FieldValueCommonFieldType`) make typify panic",
    apply: |doc, _| {
        walk::schemas(doc, &mut |_, s| {
            if let Some(Value::Array(values)) = s.get_mut("enum") {
                let mut seen = Vec::with_capacity(values.len());
                values.retain(|v| {
                    let fresh = !seen.contains(v);
                    seen.push(v.clone());
                    fresh
                });
            }
            Ok(())
        })
    },
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn keeps_the_first_of_each_value() {
        let mut doc =
            json!({"components": {"schemas": {"T": {"type": "string", "enum": ["a", "users", "b", "users"]}}}});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        assert_eq!(doc["components"]["schemas"]["T"]["enum"], json!(["a", "users", "b"]));
    }
}
