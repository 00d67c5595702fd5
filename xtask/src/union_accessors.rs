//! Accessors on tagged unions for the members every variant has: a listing of
//! `AssetWithIncludes` can be read as `item.id()` and `item.name()` without a
//! `match` over files, folders and version stacks.
//!
//! A member gets an accessor when every variant's schema declares it as a
//! string (required or not); the accessor returns `Option<&str>`, `None` when
//! the variant has no value, and for a variant this client does not know
//! (`Unknown`) it reads the member from the kept fields.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::rust_types::{type_ident, variant_ident};
use crate::walk;

/// The members accessors are made for, when every variant has them.
const MEMBERS: &[&str] = &["id", "name", "parent_id", "project_id"];

/// One `impl` of accessors per tagged union of the document that has any.
pub fn emit(doc: &Value) -> Vec<TokenStream> {
    let Some(schemas) = doc.pointer("/components/schemas").and_then(Value::as_object) else {
        return Vec::new();
    };
    schemas
        .iter()
        .filter(|(_, schema)| schema.get("x-frameio-tags").is_some())
        .filter_map(|(name, schema)| accessors(name, schema, schemas))
        .collect()
}

fn accessors(name: &str, schema: &Value, schemas: &serde_json::Map<String, Value>) -> Option<TokenStream> {
    let tags: Vec<&str> = schema["x-frameio-tags"].as_array()?.iter().filter_map(Value::as_str).collect();
    let members: Vec<&Value> = schema["oneOf"]
        .as_array()?
        .iter()
        .map(|m| m["$ref"].as_str().and_then(walk::ref_name).and_then(|n| schemas.get(n)))
        .collect::<Option<_>>()?;
    let ident = type_ident(name);
    let variants: Vec<_> = tags.iter().map(|t| variant_ident(t)).collect();
    let methods: Vec<TokenStream> = MEMBERS
        .iter()
        .filter_map(|member| {
            let required: Vec<bool> = members.iter().map(|m| string_member(m, member)).collect::<Option<_>>()?;
            let field = format_ident!("{member}");
            let reads = required.iter().map(|required| match required {
                true => quote!(Some(value.#field.as_str())),
                false => quote!(value.#field.as_deref()),
            });
            let doc = format!(" The `{member}` of whichever variant this is.");
            Some(quote! {
                #[doc = #doc]
                pub fn #field(&self) -> ::std::option::Option<&str> {
                    match self {
                        #( Self::#variants(value) => #reads, )*
                        Self::Unknown(fields) => fields.get(#member).and_then(|v| v.as_str()),
                    }
                }
            })
        })
        .collect();
    (!methods.is_empty()).then(|| quote! { impl #ident { #(#methods)* } })
}

/// Whether `schema` declares `member` as a string: `Some(required)`, or
/// `None` when it does not (or as another type).
fn string_member(schema: &Value, member: &str) -> Option<bool> {
    let property = &schema["properties"][member];
    let is_string = property["type"] == "string" && property.get("enum").is_none() && property.get("format").is_none();
    if !is_string {
        return None;
    }
    let listed = schema["required"].as_array().is_some_and(|r| r.iter().any(|n| n == member));
    Some(listed && property["nullable"] != true)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn members_every_variant_has_get_accessors() {
        let doc = json!({"components": {"schemas": {
            "Asset": {"oneOf": [{"$ref": "#/components/schemas/File"}, {"$ref": "#/components/schemas/Folder"}],
                      "x-frameio-tags": ["file", "folder"], "discriminator": {"propertyName": "type"}},
            "File": {"properties": {"id": {"type": "string"}, "name": {"type": "string"}, "size": {"type": "integer"}},
                     "required": ["id", "name"]},
            "Folder": {"properties": {"id": {"type": "string"}, "name": {"type": "string", "nullable": true}},
                       "required": ["id", "name"]}
        }}});
        let code = emit(&doc).into_iter().map(|t| t.to_string()).collect::<String>();
        assert!(code.contains("pub fn id"), "{code}");
        assert!(code.contains("Self :: File (value) => Some (value . id . as_str ())"), "{code}");
        assert!(code.contains("Self :: Folder (value) => value . name . as_deref ()"), "nullable: {code}");
        assert!(code.contains("fields . get (\"name\")"), "unknown variants read their kept fields: {code}");
        assert!(!code.contains("fn size") && !code.contains("fn parent_id"), "not in every variant: {code}");
    }
}
