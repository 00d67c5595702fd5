//! After the envelopes collapse and duplicates merge, many published components are
//! referenced by nothing (`NotFound`, `Conflict`, ...). Unreferenced schemas would
//! still be generated as dead types, so they are dropped.

use std::collections::BTreeSet;

use serde_json::Value;

use super::Repair;
use crate::walk;

pub const REPAIR: Repair = Repair {
    name: "drop_unreferenced_schemas",
    quirk: "components that no operation reaches once duplicates and error envelopes are merged",
    apply: |doc, _| {
        let schemas = doc.pointer("/components/schemas").cloned().unwrap_or_default();
        let mut roots = doc.clone();
        if let Some(components) = roots.get_mut("components").and_then(Value::as_object_mut) {
            components.remove("schemas");
        }
        let mut reachable = BTreeSet::new();
        let mut pending = referenced(&mut roots);
        while let Some(name) = pending.pop() {
            if reachable.insert(name.clone()) {
                pending.extend(referenced(&mut schemas[&name].clone()));
            }
        }
        if let Some(Value::Object(defs)) = doc.pointer_mut("/components/schemas") {
            defs.retain(|n, _| reachable.contains(n));
        }
        Ok(())
    },
};

fn referenced(value: &mut Value) -> Vec<String> {
    let mut out = Vec::new();
    walk::refs(value, &mut |r| {
        out.extend(walk::ref_name(r).map(str::to_string));
        None
    });
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn keeps_what_operations_reach_transitively() {
        let mut doc = json!({
            "paths": {"/a": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}}}},
            "components": {"schemas": {
                "A": {"properties": {"b": {"$ref": "#/components/schemas/B"}}},
                "B": {"type": "string"},
                "Orphan": {"properties": {"b": {"$ref": "#/components/schemas/B"}}}
            }}
        });
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        let names: Vec<_> = doc["components"]["schemas"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(names, ["A", "B"]);
    }
}
