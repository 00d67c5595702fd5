//! Helpers the xtask-emitted types call (open enums, tagged unions, comma lists),
//! written once here instead of once per generated type.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde_json::{Map, Value};

/// Decodes a string into an open enum without allocating for known values.
pub(crate) struct OpenEnumVisitor<T>(PhantomData<T>);

impl<T> OpenEnumVisitor<T> {
    pub(crate) fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T: for<'a> From<&'a str>> Visitor<'_> for OpenEnumVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<T, E> {
        Ok(T::from(value))
    }
}

/// An object read whole, with its discriminator value pulled out.
pub(crate) struct TaggedFields {
    pub(crate) tag: Option<String>,
    fields: Map<String, Value>,
}

/// Reads an object and its `tag` field, for a tagged union to pick its variant.
pub(crate) fn tagged_fields<'de, D: Deserializer<'de>>(deserializer: D, tag: &str) -> Result<TaggedFields, D::Error> {
    let fields = Map::<String, Value>::deserialize(deserializer)?;
    let tag = fields.get(tag).and_then(Value::as_str).map(str::to_string);
    Ok(TaggedFields { tag, fields })
}

impl TaggedFields {
    /// Decodes the fields as the variant the tag named.
    pub(crate) fn decode<T: DeserializeOwned, E: de::Error>(self) -> Result<T, E> {
        T::deserialize(Value::Object(self.fields)).map_err(E::custom)
    }

    pub(crate) fn into_map(self) -> Map<String, Value> {
        self.fields
    }
}

/// Writes `a,b,c`.
pub(crate) fn write_comma_separated<'a>(
    f: &mut fmt::Formatter<'_>,
    values: impl Iterator<Item = &'a str>,
) -> fmt::Result {
    for (i, value) in values.enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        f.write_str(value)?;
    }
    Ok(())
}
