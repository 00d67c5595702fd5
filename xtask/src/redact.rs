//! Redact: generated types print no secret in `Debug`.
//!
//! typify derives `Debug` on every type, so a token response, a device's client
//! secret or a pre-signed upload URL would reach any log that formats a value with
//! `{:?}`. Each struct of the generated `types` and `types::builder` modules with a
//! field listed in [`SECRETS`] gets a hand-rolled `Debug` instead: the field prints
//! as `"[redacted]"`, keeping its shape (`None` or `Some("[redacted]")`, one
//! `"[redacted]"` per list item, a builder's `Ok`/`Err`), so a reader still sees
//! whether it is there and how many URLs there are. The map of undeclared members of
//! such a struct prints its keys only: a member Frame.io adds beside a token may be
//! a secret too. A field whose items redact themselves (`upload_urls:
//! Vec<UploadUrl>`, where `UploadUrl.url` is listed) prints as usual, sizes and all.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::quote;

/// A field whose value must not reach `Debug` output.
pub struct Secret {
    pub field: &'static str,
    /// The structs it is a secret in; empty: in every struct.
    pub only_in: &'static [&'static str],
    pub reason: &'static str,
}

/// Every secret-bearing field of the V4 and C2C types, and why.
pub const SECRETS: &[Secret] = &[
    Secret { field: "access_token", only_in: &[], reason: "C2C bearer credential for every device request" },
    Secret {
        field: "refresh_token",
        only_in: &[],
        reason: "C2C: obtains new access tokens (and revokes the pairing) for 14 days",
    },
    Secret {
        field: "client_secret",
        only_in: &[],
        reason: "C2C: the device model's secret, issued by Frame.io support and embedded in the device",
    },
    Secret {
        field: "device_code",
        only_in: &[],
        reason: "C2C: \"should be hidden from the user\"; whoever holds it can poll for the pairing's tokens",
    },
    Secret {
        field: "token",
        only_in: &["RevokeRequest"],
        reason: "C2C revoke: the access or refresh token being revoked",
    },
    Secret {
        field: "secret",
        only_in: &[],
        reason: "V4 webhook and custom-action signing secret (shown once, verifies every delivery)",
    },
    Secret {
        field: "upload_urls",
        only_in: &[],
        reason: "pre-signed S3 PUT URLs (V4 comment attachments, C2C assets and real-time parts): the query string is the credential",
    },
    Secret {
        field: "url",
        only_in: &["UploadUrl", "RenditionMediaLink"],
        reason: "a pre-signed S3 upload URL (V4 local upload) or a signed media URL (thumbnails, scrub sheets, 180p)",
    },
    Secret {
        field: "download_url",
        only_in: &[],
        reason: "V4 media link: a signed CloudFront URL (Signature, Key-Pair-Id) that serves the file to anyone",
    },
    Secret { field: "inline_url", only_in: &[], reason: "V4 media link: a signed CloudFront URL, as `download_url`" },
    Secret {
        field: "avatar_url",
        only_in: &[],
        reason: "V4 user avatar: a signed CloudFront URL in every documented example",
    },
    Secret {
        field: "source_url",
        only_in: &[],
        reason: "V4 remote upload source: typically a pre-signed URL of the caller's own storage",
    },
    Secret {
        field: "upload_url",
        only_in: &[],
        reason: "C2C user/account/team upload target (undocumented): treated as pre-signed, like `upload_urls`",
    },
    Secret { field: "short_url", only_in: &[], reason: "V4 share link: opens the shared assets to whoever has it" },
    Secret { field: "invite_url", only_in: &[], reason: "C2C project invitation link: joins whoever has it" },
];

const EXTRA: &str = "extra";

/// Replaces the derived `Debug` of every struct with a secret field; returns the
/// [`SECRETS`] entries (by field) that matched a field.
pub fn apply(file: &mut syn::File) -> BTreeSet<&'static str> {
    let mut matched = BTreeSet::new();
    for module in ["types", "builder"] {
        let Some(items) = module_items(&mut file.items, module) else { continue };
        let redacting: BTreeSet<String> = items
            .iter()
            .filter_map(|item| match item {
                syn::Item::Struct(s) if fields(s).any(|f| secret(&s.ident, f).is_some()) => Some(s.ident.to_string()),
                _ => None,
            })
            .collect();
        let mut impls = Vec::new();
        for item in items.iter_mut() {
            if let syn::Item::Struct(s) = item
                && redacting.contains(&s.ident.to_string())
            {
                matched.extend(fields(s).filter_map(|f| secret(&s.ident, f)).map(|sec| sec.field));
                remove_debug(s);
                impls.push(debug_impl(s, &redacting));
            }
        }
        for tokens in impls {
            items.push(syn::parse2(tokens).expect("a Debug impl parses"));
        }
    }
    matched
}

/// The items of `types`, or of `types::builder`.
fn module_items<'a>(items: &'a mut [syn::Item], name: &str) -> Option<&'a mut Vec<syn::Item>> {
    let types = items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == "types" => m.content.as_mut().map(|(_, items)| items),
        _ => None,
    })?;
    if name == "types" {
        return Some(types);
    }
    types.iter_mut().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == name => m.content.as_mut().map(|(_, items)| items),
        _ => None,
    })
}

fn fields(s: &syn::ItemStruct) -> impl Iterator<Item = &syn::Field> {
    s.fields.iter().filter(|f| f.ident.is_some())
}

fn secret(owner: &syn::Ident, field: &syn::Field) -> Option<&'static Secret> {
    let name = field.ident.as_ref()?.to_string();
    SECRETS.iter().find(|s| s.field == name && (s.only_in.is_empty() || s.only_in.iter().any(|o| owner == o)))
}

fn remove_debug(s: &mut syn::ItemStruct) {
    for attr in s.attrs.iter_mut().filter(|a| a.path().is_ident("derive")) {
        let derives = attr
            .parse_args_with(syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
            .unwrap_or_default();
        let kept = derives.into_iter().filter(|d| !d.is_ident("Debug"));
        *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
    }
}

fn debug_impl(s: &syn::ItemStruct, redacting: &BTreeSet<String>) -> TokenStream {
    let ident = &s.ident;
    let name = ident.to_string();
    let entries = fields(s).map(|f| {
        let field = f.ident.as_ref().expect("named");
        let label = field.to_string();
        let value = quote!(self.#field);
        let shown = if label == EXTRA {
            let keys = keys(&f.ty, &value);
            quote!(&#keys)
        } else if secret(ident, f).is_some() && !leaf(&f.ty).is_some_and(|l| redacting.contains(&l)) {
            let redacted = redacted(&f.ty, &value);
            quote!(&#redacted)
        } else {
            quote!(&#value)
        };
        quote!(.field(#label, #shown))
    });
    let why = fields(s)
        .filter_map(|f| secret(ident, f))
        .map(|sec| format!(" - `{}`: {}.", sec.field, sec.reason))
        .collect::<Vec<_>>()
        .join("\n");
    let doc = format!(" `Debug` without secrets: these print as `\"[redacted]\"`, keeping only their shape.\n\n{why}");
    quote! {
        #[doc = #doc]
        impl ::std::fmt::Debug for #ident {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(#name) #(#entries)* .finish()
            }
        }
    }
}

/// `Option<T>`, `Vec<T>` or `Result<T, E>`: the wrapper's name and `T`.
fn wrapper(ty: &syn::Type) -> Option<(String, &syn::Type)> {
    let syn::Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    let Some(syn::GenericArgument::Type(inner)) = args.args.first() else { return None };
    let name = last.ident.to_string();
    matches!(name.as_str(), "Option" | "Vec" | "Result").then_some((name, inner))
}

/// The type inside any `Option`/`Vec`/`Result` wrappers, by name.
fn leaf(ty: &syn::Type) -> Option<String> {
    match wrapper(ty) {
        Some((_, inner)) => leaf(inner),
        None => match ty {
            syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        },
    }
}

/// The keys of the map `value` (of type `ty`, maybe in a builder's `Result`).
fn keys(ty: &syn::Type, value: &TokenStream) -> TokenStream {
    match wrapper(ty) {
        Some((_, inner)) => {
            let inner = keys(inner, &quote!(item));
            quote!(#value.as_ref().map(|item| #inner))
        }
        None => quote!(#value.keys().collect::<::std::vec::Vec<_>>()),
    }
}

/// An expression with the shape of `value` (of type `ty`) and none of its content.
fn redacted(ty: &syn::Type, value: &TokenStream) -> TokenStream {
    let Some((kind, inner)) = wrapper(ty) else { return quote!("[redacted]") };
    let (param, inner) = match wrapper(inner) {
        Some(_) => (quote!(item), redacted(inner, &quote!(item))),
        None => (quote!(_), quote!("[redacted]")),
    };
    match kind.as_str() {
        "Vec" => quote!(#value.iter().map(|#param| #inner).collect::<::std::vec::Vec<_>>()),
        _ => quote!(#value.as_ref().map(|#param| #inner)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> syn::File {
        syn::parse_quote! {
            pub mod types {
                #[derive(Clone, Debug, PartialEq)]
                pub struct TokenResponse {
                    pub access_token: String,
                    pub refresh_token: Option<String>,
                    pub token_type: String,
                    pub extra: ::serde_json::Map<String, ::serde_json::Value>,
                }
                #[derive(Clone, Debug)]
                pub struct UploadUrl { pub size: i64, pub url: String }
                #[derive(Clone, Debug)]
                pub struct FileWithUploadUrls { pub name: String, pub upload_urls: Vec<UploadUrl> }
                #[derive(Clone, Debug)]
                pub struct Asset { pub upload_urls: Vec<String> }
                #[derive(Clone, Debug)]
                pub struct Link { pub url: String }
                pub mod builder {
                    #[derive(Clone, Debug)]
                    pub struct TokenBody {
                        client_secret: Result<Option<String>, String>,
                        extra: Result<::serde_json::Map<String, ::serde_json::Value>, String>,
                    }
                }
            }
        }
    }

    fn rendered() -> (String, BTreeSet<&'static str>) {
        let mut file = file();
        let matched = apply(&mut file);
        (quote!(#file).to_string(), matched)
    }

    #[test]
    fn secret_fields_keep_their_shape_not_their_value() {
        let (text, matched) = rendered();
        assert!(text.contains("derive (Clone , PartialEq)] pub struct TokenResponse"), "{text}");
        assert!(text.contains(r#". field ("access_token" , & "[redacted]")"#), "{text}");
        assert!(
            text.contains(
                r#". field ("refresh_token" , & self . refresh_token . as_ref () . map (| _ | "[redacted]"))"#
            ),
            "{text}"
        );
        assert!(text.contains(r#". field ("token_type" , & self . token_type)"#), "{text}");
        assert!(
            text.contains(
                r#". field ("extra" , & self . extra . keys () . collect :: < :: std :: vec :: Vec < _ > > ())"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"self . upload_urls . iter () . map (| _ | "[redacted]")"#), "{text}");
        let nested = r#"self . client_secret . as_ref () . map (| item | item . as_ref () . map (| _ | "[redacted]"))"#;
        assert!(text.contains(nested), "{text}");
        let builder_extra = r#"self . extra . as_ref () . map (| item | item . keys () . collect :: < :: std :: vec :: Vec < _ > > ())"#;
        assert!(text.contains(builder_extra), "{text}");
        assert!(text.contains(r#"impl :: std :: fmt :: Debug for TokenBody"#), "{text}");
        assert!(matched.contains("client_secret") && matched.contains("url"), "{matched:?}");
    }

    #[test]
    fn items_that_redact_themselves_print_as_usual() {
        let (text, _) = rendered();
        assert!(text.contains(r#". field ("upload_urls" , & self . upload_urls) . finish ()"#), "{text}");
        assert!(text.contains(r#". field ("size" , & self . size) . field ("url" , & "[redacted]")"#), "{text}");
    }

    /// Every entry names a field of the committed V4 or C2C client (`regen --check` keeps it current).
    #[test]
    fn every_secret_is_a_field_of_a_generated_type() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let mut matched = BTreeSet::new();
        for api in crate::pipeline::APIS {
            let text =
                std::fs::read_to_string(root.join(format!("frameio-gen/src/generated/{}.rs", api.name))).unwrap();
            matched.extend(apply(&mut syn::parse_file(&text).unwrap()));
        }
        let unused: Vec<_> = SECRETS.iter().map(|s| s.field).filter(|f| !matched.contains(f)).collect();
        assert!(unused.is_empty(), "no generated field matches {unused:?}: remove them from SECRETS");
    }

    #[test]
    fn a_field_listed_for_other_structs_is_left_alone() {
        let (text, _) = rendered();
        assert!(text.contains("# [derive (Clone , Debug)] pub struct Link"), "{text}");
        assert!(!text.contains("Debug for Link"), "{text}");
    }
}
