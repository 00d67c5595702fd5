//! Decoding policy (README, "Decoding policy"): what the generated types do with a
//! body that does not match the spec.
//!
//! - **Responses are open.** Every object reachable from a success response keeps
//!   the members the spec does not declare, in `#[serde(flatten)] pub extra:
//!   serde_json::Map<String, Value>`, so re-encoding a response loses nothing and a
//!   member Frame.io adds is readable before the spec declares it. Only known fields
//!   are decoded straight from the input; serde buffers just the unknown ones, so a
//!   body without any costs next to nothing (measured in `tests/benches/decode.rs`).
//! - **Requests are closed.** Objects only request bodies reach get no map, and
//!   `#[serde(deny_unknown_fields)]`: a misspelt member in a body decoded from JSON
//!   is an error, not silently dropped or sent. Objects both reach (in V4 `Anchor`,
//!   `UpdateAccountRolesParams`, ...) are open, since responses carry them; the map
//!   stays empty unless a caller fills it.
//! - Error envelopes (reached only from `4XX`/`5XX`) are left as they are: every
//!   documented error example decodes without loss, and `frameio-ext` builds them.
//!
//! A required member the API omits still fails the response: the repairs make such
//! members optional where the docs show them missing (see `repair/`).
//!
//! The policy is applied to the copy of the document progenitor reads, as JSON
//! Schema `additionalProperties: {}` (typify's flattened map) and `false` (typify's
//! `deny_unknown_fields`), not to `openapi/generated/`, which stays the repaired
//! spec: a claim about the API, not about this client.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};
use syn::visit_mut::VisitMut;

use crate::error::SpecError;
use crate::merge::Origins;
use crate::walk;

/// The name typify gives the flattened map of undeclared members.
const EXTRA: &str = "extra";

/// The document progenitor reads: `doc` with the policy applied.
pub fn for_generation(doc: &Value, origins: &Origins) -> Result<Value, SpecError> {
    let responses = reachable(doc, success_responses);
    let requests = reachable(doc, request_bodies);
    let mut out = doc.clone();
    walk::schemas(&mut out, &mut |at, schema| {
        if schema.get("properties").and_then(Value::as_object).is_none_or(Map::is_empty)
            || schema.contains_key("additionalProperties")
        {
            return Ok(());
        }
        let open = match owner(at) {
            Owner::Component(name) if responses.contains(&name) => true,
            Owner::Component(name) if requests.contains(&name) => false,
            Owner::Response(code) if code.starts_with('2') => true,
            Owner::RequestBody => false,
            _ => return Ok(()),
        };
        if open && schema["properties"].get(EXTRA).is_some() {
            return Err(
                origins.error(at, format!("a member named `{EXTRA}` collides with the map of undeclared members"))
            );
        }
        schema.insert("additionalProperties".into(), if open { json!({}) } else { json!(false) });
        Ok(())
    })?;
    Ok(out)
}

/// Where a schema (by pointer) sits in the document.
enum Owner {
    Component(String),
    Response(String),
    RequestBody,
    Other,
}

fn owner(at: &str) -> Owner {
    let segments: Vec<String> = at.split('/').skip(1).map(|s| s.replace("~1", "/").replace("~0", "~")).collect();
    match segments.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["components", "schemas", name, ..] => Owner::Component(name.to_string()),
        ["paths", _, _, "responses", code, ..] => Owner::Response(code.to_string()),
        ["paths", _, _, "requestBody", ..] => Owner::RequestBody,
        _ => Owner::Other,
    }
}

/// The components reachable from what `roots` picks out of each operation.
fn reachable(doc: &Value, roots: fn(&Map<String, Value>) -> Vec<&Value>) -> BTreeSet<String> {
    let mut pending = Vec::new();
    let mut ops = doc.clone();
    let _ = walk::operations(&mut ops, |o| {
        roots(o.op).into_iter().for_each(|root| referenced(root, &mut pending));
        Ok::<_, ()>(())
    });
    let mut seen = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if seen.insert(name.clone()) {
            referenced(&doc["components"]["schemas"][&name], &mut pending);
        }
    }
    seen
}

fn success_responses(op: &Map<String, Value>) -> Vec<&Value> {
    let responses = op.get("responses").and_then(Value::as_object).into_iter().flatten();
    responses.filter(|(code, _)| code.starts_with('2')).map(|(_, r)| r).collect()
}

fn request_bodies(op: &Map<String, Value>) -> Vec<&Value> {
    op.get("requestBody").into_iter().collect()
}

fn referenced(value: &Value, out: &mut Vec<String>) {
    walk::refs(&mut value.clone(), &mut |r| {
        out.extend(walk::ref_name(r).map(str::to_string));
        None
    });
}

/// Finishes what typify generates for the maps: documents the `extra` field, lets a
/// builder start from an empty map rather than demand one (typify's builders require
/// every field without a default), and keeps `Default` on structs whose other fields
/// are all optional, as typify implements it only when every field is.
pub fn finish(file: &mut syn::File) {
    Finish.visit_file_mut(file);
    let types = file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == "types" => m.content.as_mut(),
        _ => None,
    });
    if let Some((_, items)) = types {
        add_defaults(items);
    }
}

struct Finish;

fn serde_attrs(field: &syn::Field) -> String {
    field.attrs.iter().filter(|a| a.path().is_ident("serde")).map(|a| quote::quote!(#a).to_string()).collect()
}

fn is_extra(field: &syn::Field) -> bool {
    field.ident.as_ref().is_some_and(|i| i == EXTRA) && serde_attrs(field).contains("flatten")
}

/// The function a field's `#[serde(default = "…")]` names, if any.
fn default_fn(field: &syn::Field) -> Option<syn::Path> {
    let mut found = None;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("default") && meta.input.peek(syn::Token![=]) {
                found = meta.value()?.parse::<syn::LitStr>()?.parse().ok();
            } else if meta.input.peek(syn::Token![=]) {
                meta.value()?.parse::<syn::Expr>()?;
            }
            Ok(())
        });
    }
    found
}

/// `Default` for each struct with an `extra` map whose other fields all have one, as
/// typify would write it: derived, or an `impl` calling its `defaults::` functions.
fn add_defaults(items: &mut Vec<syn::Item>) {
    let implemented: Vec<String> = items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Impl(i)
                if i.trait_.as_ref().is_some_and(|(_, t, _)| quote::quote!(#t).to_string().ends_with("Default")) =>
            {
                let ty = &i.self_ty;
                Some(quote::quote!(#ty).to_string())
            }
            _ => None,
        })
        .collect();
    let mut out = Vec::with_capacity(items.len());
    for mut item in std::mem::take(items) {
        let default = match &mut item {
            syn::Item::Struct(s) if !implemented.contains(&s.ident.to_string()) => add_default(s),
            _ => None,
        };
        out.push(item);
        out.extend(default);
    }
    *items = out;
}

/// Derives `Default` on `item`, or returns the `impl` it needs.
fn add_default(item: &mut syn::ItemStruct) -> Option<syn::Item> {
    let syn::Fields::Named(fields) = &item.fields else { return None };
    let optional = |f: &syn::Field| {
        let serde = serde_attrs(f);
        serde.contains("default") || serde.contains("skip_serializing_if")
    };
    if !fields.named.iter().any(is_extra) || !fields.named.iter().filter(|f| !is_extra(f)).all(optional) {
        return None;
    }
    if fields.named.iter().all(|f| default_fn(f).is_none()) {
        for attr in item.attrs.iter_mut().filter(|a| a.path().is_ident("derive")) {
            let derives = attr
                .parse_args_with(syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
                .unwrap_or_default();
            let (before, after): (Vec<_>, Vec<_>) = derives.into_iter().partition(|d| !d.is_ident("PartialEq"));
            *attr = syn::parse_quote!(#[derive(#(#before,)* Default #(, #after)*)]);
        }
        return None;
    }
    let inits = fields.named.iter().map(|f| {
        let name = &f.ident;
        match default_fn(f) {
            Some(path) => quote::quote!(#name: #path()),
            None => quote::quote!(#name: Default::default()),
        }
    });
    let ident = &item.ident;
    Some(syn::parse_quote! {
        impl ::std::default::Default for #ident {
            fn default() -> Self {
                Self { #(#inits),* }
            }
        }
    })
}

impl VisitMut for Finish {
    fn visit_field_mut(&mut self, field: &mut syn::Field) {
        if is_extra(field) {
            field.attrs.insert(
                0,
                syn::parse_quote!(#[doc = " Members the API sent that this client's spec does not declare, as sent."]),
            );
        }
    }

    fn visit_field_value_mut(&mut self, value: &mut syn::FieldValue) {
        let is_extra = matches!(&value.member, syn::Member::Named(i) if i == EXTRA);
        if is_extra && quote::quote!(#value).to_string().contains("no value supplied") {
            value.expr = syn::parse_quote!(Ok(Default::default()));
        }
        syn::visit_mut::visit_field_value_mut(self, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        let body = |name: &str| json!({"content": {"application/json": {"schema": {"$ref": walk::ref_to(name)}}}});
        json!({
            "paths": {"/a": {"post": {
                "requestBody": body("Params"),
                "responses": {"201": body("Thing"), "4XX": body("Error")}
            }}},
            "components": {"schemas": {
                "Params": {"type": "object", "properties": {"shared": {"$ref": "#/components/schemas/Shared"}, "inline": {"type": "object", "properties": {"x": {}}}}},
                "Thing": {"type": "object", "properties": {"shared": {"$ref": "#/components/schemas/Shared"}, "tags": {"type": "object", "additionalProperties": {"type": "string"}}}},
                "Shared": {"type": "object", "properties": {"y": {"type": "string"}}},
                "Error": {"type": "object", "properties": {"detail": {"type": "string"}}},
                "Free": {"type": "object"}
            }}
        })
    }

    #[test]
    fn responses_open_requests_closed_errors_untouched() {
        let out = for_generation(&doc(), &Origins::default()).unwrap();
        let s = &out["components"]["schemas"];
        assert_eq!(s["Thing"]["additionalProperties"], json!({}));
        assert_eq!(s["Shared"]["additionalProperties"], json!({}), "reached by a response too");
        assert_eq!(s["Params"]["additionalProperties"], false);
        assert_eq!(s["Params"]["properties"]["inline"]["additionalProperties"], false);
        assert_eq!(s["Thing"]["properties"]["tags"]["additionalProperties"], json!({"type": "string"}), "a map stays");
        assert!(s["Error"].get("additionalProperties").is_none());
        assert!(s["Free"].get("additionalProperties").is_none());
    }

    #[test]
    fn a_member_named_extra_is_an_error() {
        let mut d = doc();
        d["components"]["schemas"]["Thing"]["properties"]["extra"] = json!({"type": "string"});
        let err = for_generation(&d, &Origins::default()).unwrap_err();
        assert_eq!(err.pointer, "/components/schemas/Thing");
    }

    #[test]
    fn extra_maps_are_documented_and_default_to_empty() {
        let file: syn::File = syn::parse_quote! {
            #[derive(Clone, Debug, PartialEq)]
            pub struct Thing {
                #[serde(default = "defaults::thing_y", skip_serializing_if = "::std::option::Option::is_none")]
                pub y: Option<String>,
                #[serde(flatten)]
                pub extra: ::serde_json::Map<::std::string::String, ::serde_json::Value>,
            }
            #[derive(Clone, Debug, PartialEq)]
            pub struct Plain {
                #[serde(default, skip_serializing_if = "::std::vec::Vec::is_empty")]
                pub v: Vec<String>,
                #[serde(flatten)]
                pub extra: ::serde_json::Map<::std::string::String, ::serde_json::Value>,
            }
            #[derive(Clone, Debug, PartialEq)]
            pub struct Required {
                pub y: String,
                #[serde(flatten)]
                pub extra: ::serde_json::Map<::std::string::String, ::serde_json::Value>,
            }
            impl Default for ThingBuilder {
                fn default() -> Self {
                    Self { y: Ok(Default::default()), extra: Err("no value supplied for extra".to_string()) }
                }
            }
        };
        let mut file = syn::File { items: vec![syn::Item::Mod(syn::parse_quote!(pub mod types { #file }))], ..file };
        finish(&mut file);
        let text = quote::quote!(#file).to_string();
        assert!(text.contains("extra : Ok (Default :: default ())"), "{text}");
        assert!(text.contains("Members the API sent"), "{text}");
        let default = "impl :: std :: default :: Default for Thing { fn default () -> Self { Self { y : defaults :: thing_y () , extra : Default :: default () } } }";
        assert!(text.contains(default), "{text}");
        assert!(!text.contains("Default for Required"), "{text}");
        assert_eq!(text.matches("derive (Clone , Debug , Default , PartialEq)").count(), 1, "{text}");
    }
}
