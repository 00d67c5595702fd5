//! Pagination: every cursor-paginated list operation (an `after` query parameter and
//! a `data` + `links` response) gets generated impls of `frameio-gen`'s
//! `pagination::{ListRequest, ListPage}`, so one generic stream in `frameio-ext`
//! serves all of them.
//!
//! The `ListRequest` impls go inside progenitor's `builder` module: they must read
//! the builder's private `page_size` to tell whether the caller set one.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::error::SpecError;
use crate::name::pascal;
use crate::walk;

/// One cursor-paginated list operation.
pub struct Listing {
    /// The operation's name (its builder method), e.g. `files_list`.
    pub operation: String,
    /// The page schema's Rust name, e.g. `FileAssetsWithIncludesResponse`.
    pub page: String,
    /// The item schema's Rust name, e.g. `AssetWithIncludes`.
    pub item: String,
    /// Whether the page has a `total_count` member.
    pub counted: bool,
}

/// Every cursor-paginated list operation of `doc`.
pub fn listings(doc: &Value) -> Result<Vec<Listing>, SpecError> {
    let schemas = doc.pointer("/components/schemas").cloned().unwrap_or_default();
    let mut listings = Vec::new();
    let mut doc = doc.clone();
    walk::operations(&mut doc, |o| {
        if !is_paginated(o.op, &schemas) {
            return Ok(());
        }
        let page_schema = o.op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .and_then(walk::ref_name)
            .ok_or_else(|| SpecError::new("(merged document)", &o.pointer, "list response is not a named schema"))?
            .to_string();
        let item = &schemas[&page_schema]["properties"]["data"]["items"]["$ref"];
        let item = item
            .as_str()
            .and_then(walk::ref_name)
            .ok_or_else(|| SpecError::new("(merged document)", &o.pointer, "list items are not a named schema"))?;
        listings.push(Listing {
            operation: o.op["operationId"].as_str().unwrap_or_default().to_string(),
            page: pascal(&page_schema),
            item: pascal(item),
            counted: schemas[&page_schema]["properties"].get("total_count").is_some(),
        });
        Ok(())
    })?;
    Ok(listings)
}

/// Adds the pagination impls to the generated file's `builder` and `types` modules.
pub fn insert(file: &mut syn::File, doc: &Value) -> Result<(), SpecError> {
    let mut requests = Vec::new();
    let mut pages = Vec::new();
    let mut seen_pages = BTreeSet::new();
    for listing in listings(doc)? {
        let builder = format_ident!("{}", pascal(&listing.operation));
        let page = format_ident!("{}", listing.page);
        requests.push(list_request(&builder, &page));
        if seen_pages.insert(listing.page.clone()) {
            pages.push(list_page(&page, &format_ident!("{}", listing.item), listing.counted));
        }
    }
    extend_module(file, "builder", requests)?;
    extend_module(file, "types", pages)
}

fn list_request(builder: &syn::Ident, page: &syn::Ident) -> TokenStream {
    quote! {
        impl<'a> crate::pagination::ListRequest<'a> for #builder<'a> {
            type Page = super::types::#page;
            type ErrorBody = super::types::Error;
            fn page_size_is_set(&self) -> bool {
                matches!(self.page_size, Ok(Some(_)))
            }
            fn with_page_size(self, size: i64) -> Self {
                self.page_size(size)
            }
            fn with_cursor(self, cursor: String) -> Self {
                self.after(cursor)
            }
            fn cursor(&self) -> Option<&str> {
                self.after.as_ref().ok().and_then(|after| after.as_deref())
            }
            fn send_page(self) -> crate::pagination::PageFuture<'a, Self::Page, Self::ErrorBody> {
                Box::pin(self.send())
            }
        }
    }
}

/// A page without a declared `total_count` (recently deleted assets, share activity) reports none.
fn list_page(page: &syn::Ident, item: &syn::Ident, counted: bool) -> TokenStream {
    let total_count = if counted { quote!(self.total_count) } else { quote!(None) };
    quote! {
        impl crate::pagination::ListPage for #page {
            type Item = #item;
            fn into_parts(self) -> crate::pagination::PageParts<#item> {
                crate::pagination::PageParts { items: self.data, next: self.links.next, total_count: #total_count }
            }
        }
    }
}

fn extend_module(file: &mut syn::File, name: &str, items: Vec<TokenStream>) -> Result<(), SpecError> {
    let module = file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == name => m.content.as_mut(),
        _ => None,
    });
    let Some((_, content)) = module else {
        return Err(SpecError::new("(generated code)", "", format!("progenitor emitted no `{name}` module")));
    };
    for tokens in items {
        let parsed: syn::File = syn::parse2(tokens)
            .map_err(|e| SpecError::new("(generated code)", "", format!("pagination impl does not parse: {e}")))?;
        content.extend(parsed.items);
    }
    Ok(())
}

/// A cursor-paginated list: an `after` query parameter and a `data` + `links` response.
pub fn is_paginated(op: &serde_json::Map<String, Value>, schemas: &Value) -> bool {
    let has_after = op
        .get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query" && p["name"] == "after"));
    let body = &op["responses"]["200"]["content"]["application/json"]["schema"];
    let body = match body["$ref"].as_str().and_then(walk::ref_name) {
        Some(name) => &schemas[name],
        None => body,
    };
    has_after && body["properties"]["data"]["type"] == "array" && body["properties"].get("links").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_without_total_count_reports_none() {
        let (page, item) = (format_ident!("Page"), format_ident!("Item"));
        let counted = list_page(&page, &item, true).to_string();
        assert!(counted.contains("total_count : self . total_count"), "{counted}");
        let uncounted = list_page(&page, &item, false).to_string();
        assert!(uncounted.contains("total_count : None"), "{uncounted}");
    }
}
