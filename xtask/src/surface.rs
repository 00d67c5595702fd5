//! Snapshot tests of the generated client's surface, one snapshot per API group
//! (`v4_files`, `v4_folders`, ..., `c2c_devices`), so a spec or repair change shows
//! up as a small, reviewable diff: each operation's method, path, parameters and
//! response type, and the types first reached from that group (fields and variants
//! only; impls are elided). The committed generated code itself is checked by
//! `cargo xtask regen --check`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use quote::ToTokens;
use serde_json::Value;

use crate::name::{pascal, snake};
use crate::pipeline::{self, Api};
use crate::walk;

struct Op {
    name: String,
    method: String,
    path: String,
    roots: Vec<String>,
}

fn operations(doc: &Value) -> BTreeMap<String, Vec<Op>> {
    let mut doc = doc.clone();
    let mut groups: BTreeMap<String, Vec<Op>> = BTreeMap::new();
    let _ = walk::operations(&mut doc, |o| {
        let tag = o.op["tags"][0].as_str().unwrap_or_default();
        let group = snake(tag.strip_prefix("subpackage_").unwrap_or(tag));
        let mut roots = Vec::new();
        walk::refs(&mut Value::Object(o.op.clone()), &mut |r| {
            roots.extend(walk::ref_name(r).map(str::to_string));
            None
        });
        groups.entry(group).or_default().push(Op {
            name: o.op["operationId"].as_str().unwrap_or_default().to_string(),
            method: o.method.to_uppercase(),
            path: o.path.to_string(),
            roots,
        });
        Ok::<_, ()>(())
    });
    groups.values_mut().for_each(|ops| ops.sort_by(|a, b| a.name.cmp(&b.name)));
    groups
}

/// Schema names reachable from `roots`, in discovery order.
fn reachable(doc: &Value, roots: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut order = Vec::new();
    let mut pending: Vec<String> = roots.iter().rev().cloned().collect();
    while let Some(name) = pending.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        order.push(name.clone());
        let mut schema = doc["components"]["schemas"][&name].clone();
        let mut children = Vec::new();
        walk::refs(&mut schema, &mut |r| {
            children.extend(walk::ref_name(r).map(str::to_string));
            None
        });
        pending.extend(children.into_iter().rev());
    }
    order
}

fn builders(file: &syn::File) -> BTreeMap<String, (Vec<String>, String)> {
    let mut out = BTreeMap::new();
    let Some(items) = module_items(&file.items, "builder") else { return out };
    for item in items {
        match item {
            syn::Item::Struct(s) => {
                let fields = s
                    .fields
                    .iter()
                    .filter(|f| f.ident.as_ref().is_some_and(|i| i != "client"))
                    .map(|f| {
                        format!(
                            "{}: {}",
                            f.ident.as_ref().map(ToString::to_string).unwrap_or_default(),
                            param_type(&f.ty)
                        )
                    })
                    .collect();
                out.entry(s.ident.to_string()).or_insert((Vec::new(), String::new())).0 = fields;
            }
            syn::Item::Impl(i) => {
                let name = i.self_ty.to_token_stream().to_string().replace(" < 'a >", "");
                for entry in &i.items {
                    if let syn::ImplItem::Fn(f) = entry
                        && f.sig.ident == "send"
                        && let syn::ReturnType::Type(_, ty) = &f.sig.output
                    {
                        out.entry(name.clone()).or_insert((Vec::new(), String::new())).1 = tidy(&ty.to_token_stream());
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn module_items<'a>(items: &'a [syn::Item], name: &str) -> Option<&'a [syn::Item]> {
    items.iter().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == name => m.content.as_ref().map(|(_, items)| items.as_slice()),
        _ => None,
    })
}

/// `Result<Option<T>, String>` (a builder field) → `Option<T>`.
fn param_type(ty: &syn::Type) -> String {
    let text = tidy(&ty.to_token_stream());
    text.strip_prefix("Result<").and_then(|t| t.strip_suffix(", String>")).unwrap_or(&text).to_string()
}

fn tidy(tokens: &proc_macro2::TokenStream) -> String {
    tokens
        .to_string()
        .replace(":: std :: string :: ", "")
        .replace(":: std :: option :: ", "")
        .replace(":: std :: vec :: ", "")
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" <", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace(",>", ">")
        .replace("crate::v4::types::", "types::")
        .replace("crate::c2c::types::", "types::")
}

/// The type's definition without docs and derives: what a reviewer needs to see.
fn type_definition(types: &[syn::Item], rust_name: &str) -> Option<String> {
    let item = types.iter().find(|item| match item {
        syn::Item::Struct(s) => s.ident == rust_name,
        syn::Item::Enum(e) => e.ident == rust_name,
        _ => false,
    })?;
    let mut item = item.clone();
    let strip = |attrs: &mut Vec<syn::Attribute>| attrs.retain(|a| a.path().is_ident("serde"));
    match &mut item {
        syn::Item::Struct(s) => {
            strip(&mut s.attrs);
            s.fields.iter_mut().for_each(|f| strip(&mut f.attrs));
        }
        syn::Item::Enum(e) => {
            strip(&mut e.attrs);
            e.variants.iter_mut().for_each(|v| strip(&mut v.attrs));
        }
        _ => {}
    }
    let file = syn::File { shebang: None, attrs: vec![], items: vec![item] };
    Some(prettyplease::unparse(&file))
}

fn render(api: &Api) -> BTreeMap<String, String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let outputs = pipeline::run(root, api).expect("the committed spec generates");
    let find = |suffix: &str| outputs.iter().find(|(p, _)| p.ends_with(suffix)).map(|(_, c)| c.clone()).unwrap();
    let doc: Value = serde_json::from_str(&find(".json")).unwrap();
    let file = syn::parse_file(&find(&format!("/{}.rs", api.name))).unwrap();
    let builders = builders(&file);
    let types = module_items(&file.items, "types").unwrap_or_default();
    let mut claimed = BTreeSet::new();
    let mut snapshots = BTreeMap::new();
    for (group, ops) in operations(&doc) {
        let mut out = String::new();
        let mut group_types = Vec::new();
        for op in &ops {
            let (params, response) = builders.get(&pascal(&op.name)).cloned().unwrap_or_default();
            writeln!(out, "{}: {} {}", op.name, op.method, op.path).unwrap();
            params.iter().for_each(|p| writeln!(out, "    {p}").unwrap());
            writeln!(out, "    -> {response}\n").unwrap();
            group_types.extend(reachable(&doc, &op.roots).into_iter().filter(|t| claimed.insert(t.clone())));
        }
        for name in group_types {
            if let Some(def) = type_definition(types, &pascal(&name)) {
                out.push_str(&def);
                out.push('\n');
            }
        }
        snapshots.insert(format!("{}_{group}", api.name), out);
    }
    snapshots
}

#[test]
fn generated_surface_per_group() {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for api in pipeline::APIS {
            for (name, surface) in render(api) {
                insta::assert_snapshot!(name, surface);
            }
        }
    });
}
