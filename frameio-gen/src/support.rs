//! Helpers the xtask-emitted types call (open enums, tagged unions, comma lists,
//! timestamps), written once here instead of once per generated type.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use serde::de::value::{BorrowedStrDeserializer, CowStrDeserializer, MapAccessDeserializer};
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
                let tag = map.next_value_seed(Tag)?;
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

/// The tag's value, borrowed from the input where it can be (no allocation for
/// a listing decoded from bytes).
struct Tag;

impl<'de> DeserializeSeed<'de> for Tag {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Tag {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string tag")
    }

    fn visit_borrowed_str<E: de::Error>(self, tag: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(tag))
    }

    fn visit_str<E: de::Error>(self, tag: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(tag.to_string()))
    }
}

/// The rest of an object whose tag member was already read, with that member
/// handed back first so the variant's own tag field is filled.
struct TagFirst<'de, A> {
    tag: Option<Cow<'de, str>>,
    rest: A,
    key: &'static str,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for TagFirst<'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        match self.tag {
            Some(_) => seed.deserialize(BorrowedStrDeserializer::new(self.key)).map(Some),
            None => self.rest.next_key_seed(seed),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match self.tag.take() {
            Some(tag) => seed.deserialize(CowStrDeserializer::new(tag)),
            None => self.rest.next_value_seed(seed),
        }
    }
}

/// Decodes an RFC 3339 timestamp with chrono's strict parser, several times faster
/// than the relaxed `FromStr` the derived decoding uses; a value the strict one
/// refuses gets the relaxed one, so whatever decoded before decodes the same.
pub(crate) fn timestamp<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    deserializer.deserialize_str(TimestampVisitor)
}

/// [`timestamp`] for a member that may be `null`.
pub(crate) fn optional_timestamp<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    deserializer.deserialize_option(OptionalTimestampVisitor)
}

struct TimestampVisitor;

impl Visitor<'_> for TimestampVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 timestamp")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        match DateTime::parse_from_rfc3339(value) {
            Ok(at) => Ok(at.with_timezone(&Utc)),
            Err(_) => value.parse().map_err(E::custom),
        }
    }
}

struct OptionalTimestampVisitor;

impl<'de> Visitor<'de> for OptionalTimestampVisitor {
    type Value = Option<DateTime<Utc>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 timestamp or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        timestamp(deserializer).map(Some)
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

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize, Debug)]
    struct Required {
        #[serde(deserialize_with = "super::timestamp")]
        at: DateTime<Utc>,
    }

    #[derive(Deserialize, Debug)]
    struct Optional {
        #[serde(default, deserialize_with = "super::optional_timestamp")]
        at: Option<DateTime<Utc>>,
    }

    #[derive(Deserialize, Debug)]
    struct Nullable {
        #[serde(deserialize_with = "super::optional_timestamp")]
        at: Option<DateTime<Utc>>,
    }

    #[test]
    fn timestamps_decode_to_what_chronos_own_decoding_gives() {
        let values = [
            "2024-09-25T19:18:29.614189Z",
            "2024-09-25T19:18:29Z",
            "2024-09-25t19:18:29z",
            "2024-09-25T21:18:29.5+02:00",
            "2024-09-25 19:18:29Z",
            "2024-9-25T19:18:29Z",
            "2024-09-25T19:18:29 UTC",
            "2024-09-25T19:18:29+0200",
            "2024-02-30T00:00:00Z",
            "2024-09-25",
            "",
            "not a time",
        ];
        for value in values {
            let chrono = value.parse::<DateTime<Utc>>().ok();
            let ours = serde_json::from_value::<Required>(json!({ "at": value })).ok().map(|r| r.at);
            assert_eq!(ours, chrono, "{value:?}");
        }
        assert!(serde_json::from_value::<Required>(json!({ "at": 5 })).is_err());
    }

    #[test]
    fn optional_timestamps_keep_missing_null_and_present_apart() {
        let at = "2024-09-25T19:18:29Z".parse::<DateTime<Utc>>().unwrap();
        let optional = |v| serde_json::from_value::<Optional>(v).map(|o| o.at);
        assert_eq!(optional(json!({})).unwrap(), None);
        assert_eq!(optional(json!({ "at": null })).unwrap(), None);
        assert_eq!(optional(json!({ "at": "2024-09-25T19:18:29Z" })).unwrap(), Some(at));
        assert!(optional(json!({ "at": "yesterday" })).is_err());
        let nullable = |v| serde_json::from_value::<Nullable>(v).map(|o| o.at);
        assert!(nullable(json!({})).is_err(), "required but nullable: missing is an error");
        assert_eq!(nullable(json!({ "at": null })).unwrap(), None);
        assert_eq!(nullable(json!({ "at": "2024-09-25T19:18:29Z" })).unwrap(), Some(at));
    }

    #[test]
    fn a_tag_first_later_or_escaped_picks_the_same_variant() {
        use crate::v4::types::AssetWithIncludes;
        let file = json!({"id": "f", "name": "a.mov", "type": "file", "created_at": "2024-09-25T19:18:29Z",
            "updated_at": "2024-09-25T19:18:29Z", "file_size": 1, "media_type": null, "parent_id": null,
            "project_id": "p", "status": "created", "view_url": "https://next.frame.io/v"});
        let later: AssetWithIncludes = serde_json::from_value(file.clone()).unwrap();
        assert!(matches!(&later, AssetWithIncludes::File(f) if f.name == "a.mov"), "{later:?}");
        let mut rest = file.as_object().unwrap().clone();
        rest.remove("type");
        let rest = serde_json::Value::Object(rest).to_string();
        let first = format!(r#"{{"type":"file",{}"#, &rest[1..]);
        let escaped = format!(r#"{{"type":"fil\u0065",{}"#, &rest[1..]);
        for text in [first, escaped] {
            let decoded: AssetWithIncludes = serde_json::from_str(&text).unwrap();
            assert_eq!(decoded, later, "{text}");
        }
    }
}
