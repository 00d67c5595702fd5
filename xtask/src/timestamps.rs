//! Timestamps: `date-time` fields decode with chrono's RFC 3339 parser.
//!
//! typify types them `chrono::DateTime<Utc>`, whose derived decoding goes through
//! chrono's relaxed `FromStr`, a general format interpreter that was a twentieth of
//! a listing's decode time. Each such field of the generated `types` module gets
//! `deserialize_with` pointing at `frameio_gen::support::timestamp` (or
//! `optional_timestamp`), which tries the strict RFC 3339 parser first and falls back
//! to the relaxed one, so every value that decoded before decodes to the same
//! instant. The types, and encoding, are unchanged.

use syn::parse_quote;

const TIMESTAMP: &str = ":: chrono :: DateTime < :: chrono :: offset :: Utc >";
const OPTIONAL: &str = ":: std :: option :: Option < :: chrono :: DateTime < :: chrono :: offset :: Utc > >";

/// Points every timestamp field of `types` at the fast decoders; returns how many.
pub fn apply(file: &mut syn::File) -> usize {
    let types = file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == "types" => m.content.as_mut().map(|(_, items)| items),
        _ => None,
    });
    let mut count = 0;
    for item in types.into_iter().flatten() {
        if let syn::Item::Struct(s) = item {
            for field in s.fields.iter_mut().filter(|f| f.ident.is_some()) {
                count += usize::from(decode_fast(field));
            }
        }
    }
    count
}

/// Adds the attribute to a timestamp field; `false` for any other field.
fn decode_fast(field: &mut syn::Field) -> bool {
    let ty = &field.ty;
    let ty = quote::quote!(#ty).to_string();
    let serde = |a: &syn::Attribute| a.path().is_ident("serde");
    let attrs: String = field.attrs.iter().filter(|a| serde(a)).map(|a| quote::quote!(#a).to_string()).collect();
    if ty == TIMESTAMP {
        field.attrs.push(parse_quote!(#[serde(deserialize_with = "crate::support::timestamp")]));
    } else if ty == OPTIONAL && attrs.contains("deserialize_with") {
        // Required but nullable: `Option::deserialize`, so a missing member stays an error.
        field.attrs.retain(|a| !(serde(a) && quote::quote!(#a).to_string().contains("deserialize_with")));
        field.attrs.push(parse_quote!(#[serde(deserialize_with = "crate::support::optional_timestamp")]));
    } else if ty == OPTIONAL && attrs.contains("default") {
        field.attrs.push(parse_quote!(#[serde(deserialize_with = "crate::support::optional_timestamp")]));
    } else if ty == OPTIONAL {
        // A custom decoder loses serde's "missing Option is None"; `default` restores it.
        field.attrs.push(parse_quote!(#[serde(default, deserialize_with = "crate::support::optional_timestamp")]));
    } else {
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(code: &str) -> (usize, String) {
        let mut file: syn::File = syn::parse_str(code).unwrap();
        let count = apply(&mut file);
        (count, prettyplease::unparse(&file))
    }

    #[test]
    fn every_timestamp_field_decodes_fast_and_keeps_its_optionality() {
        let (count, out) = run(r#"
            pub mod types {
                pub struct File {
                    pub created_at: ::chrono::DateTime<::chrono::offset::Utc>,
                    #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
                    pub deleted_at: ::std::option::Option<::chrono::DateTime<::chrono::offset::Utc>>,
                    #[serde(skip_serializing_if = "::std::option::Option::is_none")]
                    pub uploaded_at: ::std::option::Option<::chrono::DateTime<::chrono::offset::Utc>>,
                    #[serde(deserialize_with = "::std::option::Option::deserialize")]
                    pub completed_at: ::std::option::Option<::chrono::DateTime<::chrono::offset::Utc>>,
                    pub name: ::std::string::String,
                }
            }
        "#);
        assert_eq!(count, 4, "{out}");
        let fast = r#"deserialize_with = "crate::support::timestamp""#;
        let optional = r#"deserialize_with = "crate::support::optional_timestamp""#;
        assert!(out.contains(&format!("#[serde({fast})]\n        pub created_at")), "{out}");
        assert!(out.contains(&format!("#[serde({optional})]\n        pub deleted_at")), "{out}");
        assert!(out.contains(&format!("#[serde(default, {optional})]\n        pub uploaded_at")), "{out}");
        assert!(!out.contains("Option::deserialize"), "required-nullable keeps no second decoder: {out}");
        assert!(out.contains(&format!("#[serde({optional})]\n        pub completed_at")), "{out}");
    }

    #[test]
    fn builders_and_other_modules_are_left_alone() {
        let (count, out) = run(r#"
            pub mod types {
                pub mod builder {
                    pub struct File { created_at: ::chrono::DateTime<::chrono::offset::Utc> }
                }
            }
            pub struct Other { pub at: ::chrono::DateTime<::chrono::offset::Utc> }
        "#);
        assert_eq!(count, 0, "{out}");
        assert!(!out.contains("support::timestamp"), "{out}");
    }
}
