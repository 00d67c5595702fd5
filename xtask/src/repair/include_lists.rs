//! `include` is typed as one enum value, but the API takes a comma-separated list
//! (`include=creator,project`, getting-started guide). Each `include` parameter
//! becomes a named array component marked `x-frameio-comma-list`, which the
//! generator emits as a list type that serialises to one comma-joined value.

use serde_json::{Value, json};

use super::Repair;
use crate::error::SpecError;
use crate::merge::Origins;
use crate::walk;

pub const REPAIR: Repair = Repair {
    name: "comma_separated_include",
    quirk: "`include` typed as a single value though the API takes a comma-separated list",
    apply,
};

fn apply(doc: &mut Value, origins: &Origins) -> Result<(), SpecError> {
    let schemas = doc.pointer("/components/schemas").cloned().unwrap_or_default();
    let mut lists = Vec::new();
    walk::operations(doc, |o| {
        for (i, p) in o.op.get_mut("parameters").and_then(Value::as_array_mut).into_iter().flatten().enumerate() {
            if p["in"] != "query" || p["name"] != "include" {
                continue;
            }
            // A free-form string `include` (collections) already takes "a,b" as is.
            if p["schema"]["type"] == "string" {
                continue;
            }
            let item = p["schema"]["$ref"].as_str().and_then(walk::ref_name).map(str::to_string);
            let Some(item) = item.filter(|n| schemas[n.as_str()].get("enum").is_some()) else {
                let at = format!("{}/parameters/{i}/schema", o.pointer);
                return Err(origins.error(&at, "expected `include` to be a string or to reference a named enum"));
            };
            let list = format!("{item}List");
            p["schema"] = json!({"$ref": walk::ref_to(&list)});
            lists.push((list, item));
        }
        Ok(())
    })?;
    for (list, item) in lists {
        doc["components"]["schemas"][&list] = json!({
            "type": "array",
            "items": {"$ref": walk::ref_to(&item)},
            "description": "A list of values sent as one comma-separated query value.",
            "x-frameio-comma-list": true,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_points_at_a_comma_list_of_its_enum() {
        let mut doc = json!({
            "paths": {"/f": {"get": {"parameters": [
                {"name": "include", "in": "query", "schema": {"$ref": "#/components/schemas/FileInclude"}}
            ]}}},
            "components": {"schemas": {"FileInclude": {"type": "string", "enum": ["creator", "project"]}}}
        });
        apply(&mut doc, &Origins::default()).unwrap();
        assert_eq!(
            doc["paths"]["/f"]["get"]["parameters"][0]["schema"]["$ref"],
            "#/components/schemas/FileIncludeList"
        );
        let list = &doc["components"]["schemas"]["FileIncludeList"];
        assert_eq!(list["items"]["$ref"], "#/components/schemas/FileInclude");
        assert_eq!(list["x-frameio-comma-list"], true);
    }

    #[test]
    fn free_form_string_include_is_left_alone() {
        let param = json!({"name": "include", "in": "query", "schema": {"type": "string"}});
        let mut doc = json!({"paths": {"/c": {"get": {"parameters": [param.clone()]}}}});
        apply(&mut doc, &Origins::default()).unwrap();
        assert_eq!(doc["paths"]["/c"]["get"]["parameters"][0], param);
    }
}
