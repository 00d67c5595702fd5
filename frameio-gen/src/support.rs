//! Helpers the xtask-emitted types call (open enums, tagged unions, comma lists),
//! written once here instead of once per generated type.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
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

/// An object kept as raw JSON text, with its discriminator value pulled out.
///
/// Raw text rather than a `serde_json::Value` tree: a page of 100 tagged items
/// decodes about three times faster (see `benches/pagination.rs` in frameio-ext),
/// since scanning for the tag and then decoding the chosen variant straight from
/// the text allocates nothing per field.
pub(crate) struct TaggedFields {
    pub(crate) tag: Option<String>,
    raw: Box<RawValue>,
}

/// Reads an object and its `tag` field, for a tagged union to pick its variant.
pub(crate) fn tagged_fields<'de, D: Deserializer<'de>>(deserializer: D, tag: &str) -> Result<TaggedFields, D::Error> {
    let raw = Box::<RawValue>::deserialize(deserializer)?;
    let mut scan = serde_json::Deserializer::from_str(raw.get());
    let tag = TagSeed(tag).deserialize(&mut scan).map_err(de::Error::custom)?;
    Ok(TaggedFields { tag, raw })
}

impl TaggedFields {
    /// Decodes the fields as the variant the tag named.
    pub(crate) fn decode<T: DeserializeOwned, E: de::Error>(self) -> Result<T, E> {
        serde_json::from_str(self.raw.get()).map_err(|e| E::custom(without_position(&e)))
    }

    /// The fields as sent, for a tag this client does not know.
    pub(crate) fn into_map<E: de::Error>(self) -> Result<Map<String, Value>, E> {
        serde_json::from_str(self.raw.get()).map_err(|e| E::custom(without_position(&e)))
    }
}

/// The inner error's message without its position, which is relative to the
/// item's own text: the outer decoder adds the position in the whole document.
fn without_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message,
    }
}

/// Finds one top-level string field of an object, skipping everything else.
struct TagSeed<'t>(&'t str);

impl<'de> DeserializeSeed<'de> for TagSeed<'_> {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TagSeed<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with a `{}` field", self.0)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut tag = None;
        while let Some(is_tag) = map.next_key_seed(KeyIs(self.0))? {
            if is_tag {
                tag = map.next_value::<Option<String>>()?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(tag)
    }
}

/// Compares an object key with a name without allocating it.
struct KeyIs<'t>(&'t str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
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
