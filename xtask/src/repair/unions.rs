//! Discriminated `oneOf`s (assets, metadata fields, field definitions, groups,
//! shares) have a `discriminator` without `mapping`, which typify ignores: they come
//! out untagged (`Variant0..N`) and decode to the wrong variant (a `rating` of 4
//! decodes as the `number` variant), with each variant an inline copy of a named type.
//!
//! Each inline member is hoisted into a named component (so identical ones merge with
//! the published type, e.g. `FileWithIncludes`, in `dedupe_identical_schemas`), and the
//! union records its tag values in `x-frameio-tags`, in `oneOf` order, for the
//! generator to emit a tagged enum. A member whose discriminator property is a
//! single-value enum names its own tag. Where the published members all share one
//! multi-value enum, the spec cannot say which tag is which member, so the mapping is
//! stated in [`EXPLICIT_TAGS`]. Evidence: the official Python SDK 4.0.0 (generated
//! from the same definition) types each member with a literal tag
//! (`MetadataField_Date.field_type: Literal["date"]`, ...), and the published members
//! are in the same alphabetical tag order; the member descriptions ("DateValue
//! variant", "SyncGroupWithIncludes variant" for `adobe`) agree.

use serde_json::{Value, json};

use super::Repair;
use crate::error::SpecError;
use crate::merge::Origins;
use crate::walk;

/// The field-definition unions' tags: one per field type, alphabetical as published.
const FIELD_TYPES: &[&str] =
    &["date", "long_text", "number", "rating", "select", "select_multi", "text", "toggle", "user_multi", "user_single"];

/// Tag values, in `oneOf` order, for unions whose members do not name their own tag.
const EXPLICIT_TAGS: &[(&str, &[&str])] = &[
    ("AssetWithIncludes", &["file", "folder", "version_stack"]),
    ("GroupWithIncludes", &["adobe", "frame", "workfront"]),
    (
        "MetadataField",
        &[
            "date",
            "long_text",
            "number",
            "rating",
            "select",
            "select_multi",
            "text",
            "toggle",
            "user_multi",
            "user_single",
            "users",
        ],
    ),
    ("FieldDefinitionWithIncludes", FIELD_TYPES),
    ("FieldDefinition", FIELD_TYPES),
    ("CreateFieldDefinitionParamsData", FIELD_TYPES),
    ("UpdateFieldDefinitionParamsData", FIELD_TYPES),
];

pub const REPAIR: Repair = Repair {
    name: "tagged_unions",
    quirk: "discriminators without `mapping` are ignored by typify: untagged `Variant0..N` that decode to the wrong variant",
    apply,
};

fn apply(doc: &mut Value, origins: &Origins) -> Result<(), SpecError> {
    let names: Vec<String> = doc["components"]["schemas"]
        .as_object()
        .map(|s| s.iter().filter(|(_, v)| v.get("discriminator").is_some()).map(|(k, _)| k.clone()).collect())
        .unwrap_or_default();
    for union in names {
        let at = crate::error::pointer(["components", "schemas", &union]);
        let schema = doc["components"]["schemas"][&union].clone();
        let tags = tags_of(&union, &schema, doc).map_err(|m| origins.error(&at, m))?;
        let mut members = Vec::with_capacity(tags.len());
        for (member, tag) in schema["oneOf"].as_array().into_iter().flatten().zip(&tags) {
            if member.get("$ref").is_some() {
                members.push(member.clone());
                continue;
            }
            let name = format!("{union}{}", crate::name::pascal(tag));
            let mut hoisted = member.clone();
            hoisted["title"] = json!(name);
            hoisted["x-frameio-synthesized"] = json!(true);
            doc["components"]["schemas"][&name] = hoisted;
            members.push(json!({"$ref": walk::ref_to(&name)}));
        }
        let target = &mut doc["components"]["schemas"][&union];
        target["oneOf"] = Value::Array(members);
        target["x-frameio-tags"] = json!(tags);
    }
    Ok(())
}

/// The tag of each member, in order: explicit where stated, else each member's own
/// single-value enum. The two must agree where both exist.
fn tags_of(union: &str, schema: &Value, doc: &Value) -> Result<Vec<String>, String> {
    let property = schema["discriminator"]["propertyName"].as_str().ok_or("discriminator without propertyName")?;
    let members = schema["oneOf"].as_array().ok_or("discriminator without oneOf")?;
    let explicit = EXPLICIT_TAGS.iter().find(|(name, _)| *name == union).map(|(_, tags)| *tags);
    if let Some(tags) = explicit.filter(|t| t.len() != members.len()) {
        return Err(format!("{} members but {} explicit tags", members.len(), tags.len()));
    }
    let mut out = Vec::with_capacity(members.len());
    for (i, member) in members.iter().enumerate() {
        let own = own_tag(member, property, doc);
        let tag = match (own, explicit.map(|t| t[i])) {
            (Some(own), Some(stated)) if own != stated => {
                return Err(format!("member {i} says tag `{own}` but EXPLICIT_TAGS says `{stated}`"));
            }
            (Some(own), _) => own,
            (None, Some(stated)) => stated.to_string(),
            (None, None) => {
                return Err(format!("member {i} does not name its `{property}`; add the union to EXPLICIT_TAGS"));
            }
        };
        out.push(tag);
    }
    Ok(out)
}

fn own_tag(member: &Value, property: &str, doc: &Value) -> Option<String> {
    let resolve = |v: &Value| match v["$ref"].as_str().and_then(walk::ref_name) {
        Some(n) => doc["components"]["schemas"][n].clone(),
        None => v.clone(),
    };
    let member = resolve(member);
    let prop = resolve(&member["properties"][property]);
    let prop = match prop["allOf"].as_array().map(Vec::as_slice) {
        Some([only]) => resolve(only),
        _ => prop,
    };
    match prop["enum"].as_array().map(Vec::as_slice) {
        Some([Value::String(tag)]) => Some(tag.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(tag_schema: Value) -> Value {
        json!({"type": "object", "properties": {"kind": tag_schema, "n": {"type": "integer"}}, "required": ["kind"]})
    }

    #[test]
    fn hoists_members_and_records_their_own_tags() {
        let mut doc = json!({"components": {"schemas": {"U": {
            "oneOf": [member(json!({"type": "string", "enum": ["a_b"]})), member(json!({"type": "string", "enum": ["c"]}))],
            "discriminator": {"propertyName": "kind"}
        }}}});
        apply(&mut doc, &Origins::default()).unwrap();
        let s = &doc["components"]["schemas"];
        assert_eq!(s["U"]["x-frameio-tags"], json!(["a_b", "c"]));
        assert_eq!(s["U"]["oneOf"][0]["$ref"], "#/components/schemas/UAB");
        assert_eq!(s["UAB"]["properties"]["n"]["type"], "integer");
        assert_eq!(s["UC"]["x-frameio-synthesized"], true);
    }

    #[test]
    fn shared_multi_value_tags_need_the_explicit_table() {
        let shared = json!({"$ref": "#/components/schemas/Kind"});
        let mut doc = json!({"components": {"schemas": {
            "Kind": {"type": "string", "enum": ["file", "folder", "version_stack"]},
            "Unlisted": {"oneOf": [member(shared.clone())], "discriminator": {"propertyName": "kind"}}
        }}});
        let err = apply(&mut doc, &Origins::default()).unwrap_err();
        assert!(err.message.contains("EXPLICIT_TAGS"), "{err}");

        let mut doc = json!({"components": {"schemas": {
            "Kind": {"type": "string", "enum": ["file", "folder", "version_stack"]},
            "AssetWithIncludes": {"oneOf": [member(shared.clone()), member(shared.clone()), member(shared)], "discriminator": {"propertyName": "kind"}}
        }}});
        apply(&mut doc, &Origins::default()).unwrap();
        assert_eq!(
            doc["components"]["schemas"]["AssetWithIncludes"]["x-frameio-tags"],
            json!(["file", "folder", "version_stack"])
        );
    }

    #[test]
    fn an_explicit_tag_contradicting_the_member_is_an_error() {
        let mut doc = json!({"components": {"schemas": {"GroupWithIncludes": {
            "oneOf": [member(json!({"enum": ["frame"]})), member(json!({"enum": ["x"]})), member(json!({"enum": ["y"]}))],
            "discriminator": {"propertyName": "kind"}
        }}}});
        let err = apply(&mut doc, &Origins::default()).unwrap_err();
        assert!(err.message.contains("`frame`"), "{err}");
    }
}
