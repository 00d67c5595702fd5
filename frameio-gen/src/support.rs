//! Helpers the xtask-emitted types call (open enums, tagged unions, comma lists),
//! written once here instead of once per generated type.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{BorrowedStrDeserializer, MapAccessDeserializer, StringDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
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

/// A union that picks its variant from one string field (its tag).
pub(crate) trait TaggedUnion: Sized {
    /// The tag field's name, e.g. `type`.
    const TAG: &'static str;

    /// Decodes the object (which still contains its tag) as the variant `tag`
    /// names, or keeps it whole for a tag this client does not know.
    fn decode_variant<'de, D: Deserializer<'de>>(tag: Option<&str>, object: D) -> Result<Self, D::Error>;
}

/// Decodes a tagged union in one pass when the tag is the object's first member
/// (as Frame.io sends it): the tag is read, then the rest of the object streams
/// straight into the variant's type, with the tag handed back to it first. An
/// object whose tag comes later is read into a map first (a slower, rarer path).
pub(crate) fn deserialize_tagged<'de, T: TaggedUnion, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_map(TaggedVisitor(PhantomData))
}

struct TaggedVisitor<T>(PhantomData<T>);

impl<'de, T: TaggedUnion> Visitor<'de> for TaggedVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with a `{}` field", T::TAG)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        match map.next_key_seed(FirstKey(T::TAG))? {
            Some(None) => {
                let tag: String = map.next_value()?;
                let rest = TagFirst { tag: Some(tag.clone()), rest: map, key: T::TAG };
                T::decode_variant(Some(&tag), MapAccessDeserializer::new(rest))
            }
            Some(Some(first)) => {
                let mut fields = Map::new();
                fields.insert(first, map.next_value()?);
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    fields.insert(key, value);
                }
                let tag = fields.get(T::TAG).and_then(Value::as_str).map(str::to_string);
                T::decode_variant(tag.as_deref(), Value::Object(fields)).map_err(de::Error::custom)
            }
            None => T::decode_variant(None, Value::Object(Map::new())).map_err(de::Error::custom),
        }
    }
}

/// The first key: `None` when it is the tag (nothing allocated), else the key.
struct FirstKey(&'static str);

impl<'de> DeserializeSeed<'de> for FirstKey {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for FirstKey {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok((key != self.0).then(|| key.to_string()))
    }
}

/// The rest of an object whose tag member was already read, with that member
/// handed back first so the variant's own tag field is filled.
struct TagFirst<A> {
    tag: Option<String>,
    rest: A,
    key: &'static str,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for TagFirst<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        match self.tag {
            Some(_) => seed.deserialize(BorrowedStrDeserializer::new(self.key)).map(Some),
            None => self.rest.next_key_seed(seed),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match self.tag.take() {
            Some(tag) => seed.deserialize(StringDeserializer::new(tag)),
            None => self.rest.next_value_seed(seed),
        }
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
