//! Rust types the generator emits itself, where typify's output is wrong for this
//! API: open enums, tagged unions and comma-separated lists. progenitor is told to
//! use these in place of its own (`with_replacement`), so every reference to the
//! schema anywhere in the client uses them.
//!
//! - **Open enums** (every named string enum): the API adds statuses, event types and
//!   include values over time; typify's closed enums would fail a whole response on
//!   one new value. Unknown values decode to `Unknown(String)` and re-encode unchanged.
//! - **Tagged unions** (`x-frameio-tags`, from the `tagged_unions` repair): decode on
//!   the discriminator into the named variant type; an unknown tag is kept as
//!   `Unknown(Map)` rather than failing the response. Variants are boxed: a file
//!   with its includes is 2 KiB, and a listing would otherwise copy every item
//!   through each `Vec` growth and stream poll.
//! - **Comma lists** (`x-frameio-comma-list`): `include=creator,project`.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use crate::error::SpecError;
use crate::merge::Origins;
use crate::walk;

/// A type emitted here, and the schema it replaces.
pub struct Emitted {
    pub rust_name: String,
    pub impls: Vec<progenitor::TypeImpl>,
    pub code: TokenStream,
}

/// Every replacement type for the document's components.
pub fn emit(doc: &Value, origins: &Origins) -> Result<Vec<Emitted>, SpecError> {
    let Some(schemas) = doc.pointer("/components/schemas").and_then(Value::as_object) else {
        return Ok(vec![]);
    };
    let mut out = Vec::new();
    for (name, schema) in schemas {
        let at = crate::error::pointer(["components", "schemas", name]);
        let fail = |m: String| origins.error(&at, m);
        if schema.get("x-frameio-tags").is_some() {
            out.push(union(name, schema).map_err(fail)?);
        } else if schema.get("x-frameio-comma-list").is_some() {
            out.push(comma_list(name, schema).map_err(fail)?);
        } else if schema["type"] == "string" && schema.get("enum").is_some() {
            out.push(open_enum(name, schema).map_err(fail)?);
        }
    }
    Ok(out)
}

fn doc_attr(schema: &Value) -> TokenStream {
    let text = schema["description"].as_str().or(schema["title"].as_str()).unwrap_or_default().replace("<br/>", "\n");
    let lines = text.lines().map(|l| format!(" {}", l.trim_end()));
    quote! { #( #[doc = #lines] )* }
}

pub(crate) fn type_ident(name: &str) -> Ident {
    format_ident!("{}", crate::name::pascal(name))
}

fn open_enum(name: &str, schema: &Value) -> Result<Emitted, String> {
    let ident = type_ident(name);
    let values: Vec<&str> = schema["enum"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| v.as_str().ok_or_else(|| format!("non-string enum value {v}")))
        .collect::<Result<_, _>>()?;
    let variants: Vec<Ident> = values.iter().map(|v| variant_ident(v)).collect();
    for (i, v) in variants.iter().enumerate() {
        if variants[..i].contains(v) || v == "Unknown" {
            return Err(format!("enum values map to the same Rust variant `{v}`"));
        }
    }
    let docs = doc_attr(schema);
    let value_docs = values.iter().map(|v| format!(" `{v}`"));
    let code = quote! {
        #docs
        ///
        /// Values this client does not know yet decode to `Unknown` and re-encode unchanged.
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum #ident {
            #( #[doc = #value_docs] #variants, )*
            /// A value this version of the client does not know.
            Unknown(::std::string::String),
        }
        impl #ident {
            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#variants => #values, )*
                    Self::Unknown(value) => value.as_str(),
                }
            }
        }
        impl ::std::convert::From<&str> for #ident {
            fn from(value: &str) -> Self {
                match value {
                    #( #values => Self::#variants, )*
                    other => Self::Unknown(other.to_string()),
                }
            }
        }
        impl ::std::convert::From<::std::string::String> for #ident {
            fn from(value: ::std::string::String) -> Self {
                Self::from(value.as_str())
            }
        }
        impl ::std::str::FromStr for #ident {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }
        impl ::std::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl ::serde::Serialize for #ident {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for #ident {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                deserializer.deserialize_str(crate::support::OpenEnumVisitor::<Self>::new())
            }
        }
    };
    Ok(Emitted {
        rust_name: ident.to_string(),
        impls: vec![progenitor::TypeImpl::FromStr, progenitor::TypeImpl::Display],
        code,
    })
}

/// `media_links.original` → `MediaLinksOriginal`; `-created_at` → `CreatedAtDesc`.
pub(crate) fn variant_ident(value: &str) -> Ident {
    let (base, suffix) = match value.strip_prefix('-') {
        Some(rest) => (rest, "Desc"),
        None => (value, ""),
    };
    let mut name = crate::name::pascal(base) + suffix;
    if name.is_empty() {
        name = "Empty".into();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'V');
    }
    Ident::new(&name, Span::call_site())
}

fn union(name: &str, schema: &Value) -> Result<Emitted, String> {
    let ident = type_ident(name);
    let tag = schema["discriminator"]["propertyName"].as_str().ok_or("union without discriminator")?;
    let tags: Vec<&str> = schema["x-frameio-tags"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let members: Vec<Ident> = schema["oneOf"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| m["$ref"].as_str().and_then(walk::ref_name).map(type_ident).ok_or("union member is not a $ref"))
        .collect::<Result<_, _>>()?;
    if members.len() != tags.len() {
        return Err("union members and tags differ in number".into());
    }
    let variants: Vec<Ident> = tags.iter().map(|t| variant_ident(t)).collect();
    // Members shared by several tags (e.g. `text` and `long_text`) get no `From`: it would be ambiguous.
    let (from_members, from_variants): (Vec<&Ident>, Vec<&Ident>) =
        members.iter().zip(&variants).filter(|(m, _)| members.iter().filter(|other| other == m).count() == 1).unzip();
    let docs = doc_attr(schema);
    let tag_docs = tags.iter().map(|t| format!(" `{tag}: \"{t}\"`"));
    let code = quote! {
        #docs
        ///
        /// Decoded on its `#tag` field; a tag this client does not know yet is kept as `Unknown`.
        #[derive(Clone, Debug, PartialEq)]
        pub enum #ident {
            #( #[doc = #tag_docs] #variants(::std::boxed::Box<#members>), )*
            /// A variant this version of the client does not know, kept as sent.
            Unknown(::serde_json::Map<::std::string::String, ::serde_json::Value>),
        }
        impl #ident {
            /// The discriminator value of this variant.
            pub fn tag(&self) -> &str {
                match self {
                    #( Self::#variants(_) => #tags, )*
                    Self::Unknown(fields) => fields.get(#tag).and_then(|t| t.as_str()).unwrap_or_default(),
                }
            }
        }
        #( impl ::std::convert::From<#from_members> for #ident {
            fn from(value: #from_members) -> Self {
                Self::#from_variants(::std::boxed::Box::new(value))
            }
        } )*
        impl ::serde::Serialize for #ident {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                match self {
                    #( Self::#variants(value) => value.serialize(serializer), )*
                    Self::Unknown(fields) => fields.serialize(serializer),
                }
            }
        }
        impl crate::support::TaggedUnion for #ident {
            const TAG: &'static str = #tag;
            fn decode_variant<'de, D: ::serde::Deserializer<'de>>(
                tag: ::std::option::Option<&str>,
                object: D,
            ) -> ::std::result::Result<Self, D::Error> {
                match tag {
                    #( Some(#tags) => <::std::boxed::Box<#members> as ::serde::Deserialize>::deserialize(object).map(Self::#variants), )*
                    _ => ::serde::Deserialize::deserialize(object).map(Self::Unknown),
                }
            }
        }
        impl<'de> ::serde::Deserialize<'de> for #ident {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                crate::support::deserialize_tagged(deserializer)
            }
        }
    };
    Ok(Emitted { rust_name: ident.to_string(), impls: vec![], code })
}

fn comma_list(name: &str, schema: &Value) -> Result<Emitted, String> {
    let ident = type_ident(name);
    let item =
        schema["items"]["$ref"].as_str().and_then(walk::ref_name).map(type_ident).ok_or("list items are not a $ref")?;
    let code = quote! {
        /// One or more values, sent as a single comma-separated query value.
        #[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
        pub struct #ident(pub ::std::vec::Vec<#item>);
        impl ::std::convert::From<#item> for #ident {
            fn from(value: #item) -> Self {
                Self(vec![value])
            }
        }
        impl ::std::convert::From<::std::vec::Vec<#item>> for #ident {
            fn from(values: ::std::vec::Vec<#item>) -> Self {
                Self(values)
            }
        }
        impl<const N: usize> ::std::convert::From<[#item; N]> for #ident {
            fn from(values: [#item; N]) -> Self {
                Self(values.into())
            }
        }
        impl ::std::iter::FromIterator<#item> for #ident {
            fn from_iter<I: ::std::iter::IntoIterator<Item = #item>>(values: I) -> Self {
                Self(values.into_iter().collect())
            }
        }
        impl ::std::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                crate::support::write_comma_separated(f, self.0.iter().map(#item::as_str))
            }
        }
        impl ::serde::Serialize for #ident {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
    };
    Ok(Emitted {
        rust_name: ident.to_string(),
        impls: vec![progenitor::TypeImpl::Display, progenitor::TypeImpl::Default],
        code,
    })
}
