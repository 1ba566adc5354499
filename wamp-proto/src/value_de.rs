//! Deserialization of Rust data out of the dynamic [`Value`] tree.
//!
//! [`Value`] itself is the [`serde::Deserializer`]: it is consumed, so strings,
//! byte strings and containers move into the target type without copying.
//! Dictionary keys are always strings on the wire; the key deserializer parses
//! them back into integers or booleans when the target type asks for one, so
//! that `HashMap<u32, _>` survives a round trip through [`Value`].

use std::collections::btree_map;
use std::vec;

use serde::de::{
    self, DeserializeSeed, EnumAccess, Error as _, IntoDeserializer, MapAccess, SeqAccess, Unexpected,
    VariantAccess, Visitor,
};

use crate::value::{Dict, Value, ValueError};

/// Describes a value for serde's "invalid type" errors.
fn unexpected(v: &Value) -> Unexpected<'_> {
    match v {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Int(i) => Unexpected::Signed(*i),
        Value::UInt(u) => Unexpected::Unsigned(*u),
        Value::Float(f) => Unexpected::Float(*f),
        Value::Str(s) => Unexpected::Str(s),
        Value::Bytes(b) => Unexpected::Bytes(b),
        Value::List(_) => Unexpected::Seq,
        Value::Dict(_) => Unexpected::Map,
    }
}

/// Runs `visitor` over a list, then insists that it consumed every element,
/// so that e.g. a 3-element list does not silently fill a 2-tuple.
fn visit_list<'de, V: Visitor<'de>>(list: Vec<Value>, visitor: V) -> Result<V::Value, ValueError> {
    let len = list.len();
    let mut seq = SeqDeserializer {
        iter: list.into_iter(),
    };
    let out = visitor.visit_seq(&mut seq)?;
    if seq.iter.len() == 0 {
        Ok(out)
    } else {
        Err(ValueError::invalid_length(len, &"fewer elements in list"))
    }
}

/// Like [`visit_list`], for dictionaries.
fn visit_dict<'de, V: Visitor<'de>>(dict: Dict, visitor: V) -> Result<V::Value, ValueError> {
    let len = dict.len();
    let mut map = MapDeserializer {
        iter: dict.into_iter(),
        value: None,
    };
    let out = visitor.visit_map(&mut map)?;
    if map.iter.len() == 0 {
        Ok(out)
    } else {
        Err(ValueError::invalid_length(len, &"fewer elements in dict"))
    }
}

/// Offers a byte string as a sequence of `u8`, so that a plain `Vec<u8>` field
/// accepts the bytes a MessagePack peer sent as `bin` (or a JSON peer as the
/// `"\0"` + Base64 convention).
fn visit_bytes_as_seq<'de, V: Visitor<'de>>(bytes: Vec<u8>, visitor: V) -> Result<V::Value, ValueError> {
    let len = bytes.len();
    let mut seq = BytesSeqDeserializer {
        iter: bytes.into_iter(),
    };
    let out = visitor.visit_seq(&mut seq)?;
    if seq.iter.len() == 0 {
        Ok(out)
    } else {
        Err(ValueError::invalid_length(len, &"fewer elements in byte string"))
    }
}

/// Deserializing consumes the value, so `from_value` moves its contents.
impl<'de> de::Deserializer<'de> for Value {
    type Error = ValueError;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Int(i) => visitor.visit_i64(i),
            Value::UInt(u) => visitor.visit_u64(u),
            Value::Float(f) => visitor.visit_f64(f),
            Value::Str(s) => visitor.visit_string(s),
            Value::Bytes(b) => visitor.visit_byte_buf(b),
            Value::List(l) => visit_list(l, visitor),
            Value::Dict(d) => visit_dict(d, visitor),
        }
    }

    // Integers are accepted where a float is wanted because JSON peers often
    // drop the fractional part (`2` rather than `2.0`), and not every visitor
    // converts integers itself.
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_f64(visitor)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Int(i) => visitor.visit_f64(i as f64),
            Value::UInt(u) => visitor.visit_f64(u as f64),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Null => visitor.visit_unit(),
            other => Err(ValueError::invalid_type(unexpected(&other), &visitor)),
        }
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_newtype_struct(self)
    }

    // Byte-oriented types (e.g. `serde_bytes::ByteBuf`) also take text and
    // lists of small integers, since that is how bytes look after passing
    // through a peer that has no binary type.
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_byte_buf(visitor)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Bytes(b) => visitor.visit_byte_buf(b),
            Value::Str(s) => visitor.visit_byte_buf(s.into_bytes()),
            Value::List(l) => {
                let bytes = l
                    .iter()
                    .map(|v| {
                        v.as_u64()
                            .and_then(|u| u8::try_from(u).ok())
                            .ok_or_else(|| ValueError::invalid_value(unexpected(v), &"a byte (0..=255)"))
                    })
                    .collect::<Result<Vec<u8>, _>>()?;
                visitor.visit_byte_buf(bytes)
            }
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Bytes(b) => visit_bytes_as_seq(b, visitor),
            other => other.deserialize_any(visitor),
        }
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self {
            Value::Str(variant) => visitor.visit_enum(EnumDeserializer {
                variant,
                content: None,
            }),
            Value::Dict(d) if d.len() == 1 => {
                let (variant, content) = d.into_iter().next().expect("dict has one entry");
                visitor.visit_enum(EnumDeserializer {
                    variant,
                    content: Some(content),
                })
            }
            Value::Dict(_) => Err(ValueError::invalid_value(
                Unexpected::Map,
                &"a dict with exactly one key (the enum variant)",
            )),
            other => Err(ValueError::invalid_type(
                unexpected(&other),
                &"a string or a single-key dict (an enum variant)",
            )),
        }
    }

    // Dropping is all it takes; no need to walk the tree with a visitor.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        drop(self);
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 char str string
        tuple_struct map struct identifier
    }
}

/// Lets a [`Value`] stand in wherever serde wants something convertible into
/// a deserializer (e.g. `serde::de::value::MapDeserializer` entries).
impl<'de> IntoDeserializer<'de, ValueError> for Value {
    type Deserializer = Value;

    fn into_deserializer(self) -> Value {
        self
    }
}

/// Hands out the elements of a [`Value::List`].
struct SeqDeserializer {
    iter: vec::IntoIter<Value>,
}

impl<'de> SeqAccess<'de> for SeqDeserializer {
    type Error = ValueError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ValueError> {
        self.iter.next().map(|v| seed.deserialize(v)).transpose()
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// Hands out the bytes of a [`Value::Bytes`] as `u8` elements.
struct BytesSeqDeserializer {
    iter: vec::IntoIter<u8>,
}

impl<'de> SeqAccess<'de> for BytesSeqDeserializer {
    type Error = ValueError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ValueError> {
        self.iter
            .next()
            .map(|b| seed.deserialize(b.into_deserializer()))
            .transpose()
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// Hands out the entries of a [`Value::Dict`].
struct MapDeserializer {
    iter: btree_map::IntoIter<String, Value>,
    /// Value of the entry whose key was just handed out.
    value: Option<Value>,
}

impl<'de> MapAccess<'de> for MapDeserializer {
    type Error = ValueError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, ValueError> {
        match self.iter.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(KeyDeserializer(key)).map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, ValueError> {
        match self.value.take() {
            Some(value) => seed.deserialize(value),
            None => Err(ValueError::custom("dict value requested before its key")),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// A dictionary key. Keys are always strings, but the serializer writes
/// integer and boolean keys in text form, so they are parsed back here when
/// the target type asks for a number or a boolean.
struct KeyDeserializer(String);

impl KeyDeserializer {
    /// Parses the key as an integer and lets the visitor range-check it, so
    /// `"300"` into `u8` reports an out-of-range integer rather than a string.
    fn visit_integer<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        let key = self.0.as_str();
        if let Ok(u) = key.parse::<u64>() {
            visitor.visit_u64(u)
        } else if let Ok(i) = key.parse::<i64>() {
            visitor.visit_i64(i)
        } else if let Ok(u) = key.parse::<u128>() {
            visitor.visit_u128(u)
        } else if let Ok(i) = key.parse::<i128>() {
            visitor.visit_i128(i)
        } else {
            visitor.visit_string(self.0)
        }
    }
}

macro_rules! integer_keys {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
            self.visit_integer(visitor)
        })*
    };
}

impl<'de> de::Deserializer<'de> for KeyDeserializer {
    type Error = ValueError;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_string(self.0)
    }

    integer_keys! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.0.as_str() {
            "true" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
            _ => visitor.visit_string(self.0),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_newtype_struct(self)
    }

    // A key can only name a unit variant; the serializer writes enum keys
    // that way too.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_enum(self.0.into_deserializer())
    }

    serde::forward_to_deserialize_any! {
        f32 f64 char str string bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// An externally tagged enum: the variant name and, unless it came from a
/// bare string, its content.
struct EnumDeserializer {
    variant: String,
    content: Option<Value>,
}

impl<'de> EnumAccess<'de> for EnumDeserializer {
    type Error = ValueError;
    type Variant = VariantDeserializer;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, VariantDeserializer), ValueError> {
        let variant = seed.deserialize(KeyDeserializer(self.variant))?;
        Ok((
            variant,
            VariantDeserializer {
                content: self.content,
            },
        ))
    }
}

/// The content of an enum variant, checked against the variant's kind.
struct VariantDeserializer {
    content: Option<Value>,
}

impl<'de> VariantAccess<'de> for VariantDeserializer {
    type Error = ValueError;

    fn unit_variant(self) -> Result<(), ValueError> {
        match self.content {
            None | Some(Value::Null) => Ok(()),
            Some(other) => Err(ValueError::invalid_type(unexpected(&other), &"unit variant")),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, ValueError> {
        match self.content {
            Some(value) => seed.deserialize(value),
            None => Err(ValueError::invalid_type(
                Unexpected::UnitVariant,
                &"newtype variant",
            )),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, ValueError> {
        match self.content {
            Some(Value::List(l)) => visit_list(l, visitor),
            Some(other) => Err(ValueError::invalid_type(unexpected(&other), &"tuple variant")),
            None => Err(ValueError::invalid_type(
                Unexpected::UnitVariant,
                &"tuple variant",
            )),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self.content {
            Some(Value::Dict(d)) => visit_dict(d, visitor),
            Some(Value::List(l)) => visit_list(l, visitor),
            Some(other) => Err(ValueError::invalid_type(unexpected(&other), &"struct variant")),
            None => Err(ValueError::invalid_type(
                Unexpected::UnitVariant,
                &"struct variant",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};
    use std::fmt;

    use serde::de::IntoDeserializer;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::value::{from_value, to_value, Dict, Value};

    fn s(v: &str) -> Value {
        Value::Str(v.to_owned())
    }

    fn dict<const N: usize>(entries: [(&str, Value); N]) -> Value {
        Value::Dict(entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    /// Converts to a `Value`, checks the expected shape, and converts back.
    fn round_trip<T>(v: &T, expected: Value)
    where
        T: Serialize + serde::de::DeserializeOwned + PartialEq + fmt::Debug,
    {
        let value = to_value(v).unwrap();
        assert_eq!(value, expected);
        let back: T = from_value(value).unwrap();
        assert_eq!(&back, v);
    }

    fn err<T: serde::de::DeserializeOwned + fmt::Debug>(v: Value) -> String {
        from_value::<T>(v).unwrap_err().0
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Inner {
        name: String,
        weight: f64,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Outer {
        id: u64,
        delta: i32,
        flag: bool,
        tags: Vec<String>,
        inner: Inner,
        maybe: Option<u8>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Shape {
        Empty,
        Circle(f64),
        Rect(u32, u32),
        Poly { sides: u8, closed: bool },
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Meters(u32);

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Marker;

    #[derive(Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    enum Color {
        Red,
        Green,
    }

    #[test]
    fn struct_round_trip() {
        let v = Outer {
            id: 7,
            delta: -3,
            flag: true,
            tags: vec!["a".into(), "b".into()],
            inner: Inner {
                name: "x".into(),
                weight: 1.5,
            },
            maybe: None,
        };
        round_trip(
            &v,
            dict([
                ("id", Value::UInt(7)),
                ("delta", Value::Int(-3)),
                ("flag", Value::Bool(true)),
                ("tags", Value::List(vec![s("a"), s("b")])),
                ("inner", dict([("name", s("x")), ("weight", Value::Float(1.5))])),
                ("maybe", Value::Null),
            ]),
        );
    }

    #[test]
    fn enum_variants_round_trip() {
        round_trip(&Shape::Empty, s("Empty"));
        round_trip(&Shape::Circle(2.5), dict([("Circle", Value::Float(2.5))]));
        round_trip(
            &Shape::Rect(3, 4),
            dict([("Rect", Value::List(vec![Value::UInt(3), Value::UInt(4)]))]),
        );
        round_trip(
            &Shape::Poly {
                sides: 5,
                closed: false,
            },
            dict([(
                "Poly",
                dict([("sides", Value::UInt(5)), ("closed", Value::Bool(false))]),
            )]),
        );
    }

    #[test]
    fn enum_lenient_and_errors() {
        // A unit variant may carry an explicit null, as some peers write it.
        assert_eq!(
            from_value::<Shape>(dict([("Empty", Value::Null)])).unwrap(),
            Shape::Empty
        );
        let e = err::<Shape>(dict([("Circle", Value::Float(1.0)), ("Empty", Value::Null)]));
        assert!(e.contains("exactly one key"), "{e}");
        let e = err::<Shape>(Value::UInt(1));
        assert!(e.contains("invalid type: integer `1`"), "{e}");
        let e = err::<Shape>(s("Hexagon"));
        assert!(e.contains("unknown variant `Hexagon`"), "{e}");
        let e = err::<Shape>(s("Circle"));
        assert!(e.contains("expected newtype variant"), "{e}");
        let e = err::<Shape>(dict([("Rect", Value::UInt(1))]));
        assert!(e.contains("expected tuple variant"), "{e}");
        let e = err::<Shape>(dict([("Empty", Value::UInt(1))]));
        assert!(e.contains("expected unit variant"), "{e}");
        let e = err::<Shape>(dict([("Poly", s("x"))]));
        assert!(e.contains("expected struct variant"), "{e}");
    }

    #[test]
    fn unit_newtype_and_char() {
        round_trip(&(), Value::Null);
        round_trip(&Marker, Value::Null);
        round_trip(&Meters(12), Value::UInt(12));
        round_trip(&'é', s("é"));
        let e = err::<()>(Value::UInt(0));
        assert!(e.contains("invalid type: integer `0`"), "{e}");
    }

    #[test]
    fn options() {
        round_trip(&Some(5u8), Value::UInt(5));
        round_trip(&None::<u8>, Value::Null);
        round_trip(&Some(Some("x".to_owned())), s("x"));
        // A missing `Option` field is `None`, not an error.
        let v = dict([
            ("id", Value::UInt(1)),
            ("delta", Value::Int(-1)),
            ("flag", Value::Bool(false)),
            ("tags", Value::List(vec![])),
            ("inner", dict([("name", s("n")), ("weight", Value::UInt(2))])),
        ]);
        let o: Outer = from_value(v).unwrap();
        assert_eq!(o.maybe, None);
        assert_eq!(o.inner.weight, 2.0);
    }

    #[test]
    fn tuples() {
        round_trip(
            &(1u8, "two".to_owned(), false),
            Value::List(vec![Value::UInt(1), s("two"), Value::Bool(false)]),
        );
        let e = err::<(u8, u8)>(Value::List(vec![Value::UInt(1)]));
        assert!(e.contains("invalid length 1"), "{e}");
        let e = err::<(u8, u8)>(Value::List(vec![Value::UInt(1); 3]));
        assert!(e.contains("invalid length 3"), "{e}");
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Pair(i8, i8);
        round_trip(&Pair(-1, 1), Value::List(vec![Value::Int(-1), Value::UInt(1)]));
    }

    #[test]
    fn string_keyed_maps() {
        let m: HashMap<String, i32> = [("a".to_owned(), 1), ("b".to_owned(), -2)].into();
        round_trip(&m, dict([("a", Value::UInt(1)), ("b", Value::Int(-2))]));
        let d: Dict = [("k".to_owned(), Value::Bool(true))].into();
        round_trip(&d, dict([("k", Value::Bool(true))]));
    }

    #[test]
    fn non_string_keys() {
        let m: HashMap<u32, String> = [(1, "one".to_owned()), (20, "twenty".to_owned())].into();
        round_trip(&m, dict([("1", s("one")), ("20", s("twenty"))]));
        let m: BTreeMap<i64, bool> = [(-5, true), (5, false)].into();
        round_trip(&m, dict([("-5", Value::Bool(true)), ("5", Value::Bool(false))]));
        let m: BTreeMap<bool, u8> = [(true, 1), (false, 0)].into();
        round_trip(&m, dict([("false", Value::UInt(0)), ("true", Value::UInt(1))]));
        let m: BTreeMap<char, u8> = [('x', 1)].into();
        round_trip(&m, dict([("x", Value::UInt(1))]));
        let m: BTreeMap<Color, u8> = [(Color::Red, 1), (Color::Green, 2)].into();
        round_trip(&m, dict([("Green", Value::UInt(2)), ("Red", Value::UInt(1))]));
        let m: BTreeMap<u128, u8> = [(u128::MAX, 1)].into();
        round_trip(&m, dict([(u128::MAX.to_string().as_str(), Value::UInt(1))]));

        let e = err::<HashMap<u8, u8>>(dict([("300", Value::UInt(1))]));
        assert!(e.contains("invalid value: integer `300`, expected u8"), "{e}");
        let e = err::<HashMap<u32, u8>>(dict([("abc", Value::UInt(1))]));
        assert!(e.contains("invalid type: string \"abc\", expected u32"), "{e}");
        let e = err::<HashMap<u32, u8>>(dict([("-1", Value::UInt(1))]));
        assert!(e.contains("invalid value: integer `-1`, expected u32"), "{e}");
        let e = err::<HashMap<Color, u8>>(dict([("Blue", Value::UInt(1))]));
        assert!(e.contains("unknown variant `Blue`"), "{e}");
    }

    #[test]
    fn unsupported_keys_are_rejected() {
        let m: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        let e = to_value(&m).unwrap_err().0;
        assert!(e.starts_with("map keys must be strings"), "{e}");
        assert!(e.contains("a tuple"), "{e}");
        let m: BTreeMap<Vec<u8>, u8> = [(vec![1], 3)].into();
        assert!(to_value(&m).unwrap_err().0.contains("a sequence"));
        let m: BTreeMap<Option<u8>, u8> = [(Some(1), 3)].into();
        assert!(to_value(&m).unwrap_err().0.contains("an option"));
        struct FloatKey;
        impl Serialize for FloatKey {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry(&1.5f64, &1u8)?;
                m.end()
            }
        }
        assert!(to_value(&FloatKey).unwrap_err().0.contains("a float"));
    }

    #[test]
    fn byte_vectors() {
        // Without serde_bytes a Vec<u8> is just a list of integers ...
        let bytes = vec![0u8, 1, 255];
        round_trip(
            &bytes,
            Value::List(vec![Value::UInt(0), Value::UInt(1), Value::UInt(255)]),
        );
        // ... but it also accepts a real byte string from the wire.
        let v: Vec<u8> = from_value(Value::Bytes(vec![9, 8])).unwrap();
        assert_eq!(v, [9, 8]);
        let v: [u8; 2] = from_value(Value::Bytes(vec![9, 8])).unwrap();
        assert_eq!(v, [9, 8]);
        let e = err::<[u8; 2]>(Value::Bytes(vec![1, 2, 3]));
        assert!(e.contains("invalid length 3"), "{e}");
        let e = err::<Vec<u8>>(Value::List(vec![Value::UInt(256)]));
        assert!(e.contains("expected u8"), "{e}");
    }

    /// Stands in for `serde_bytes::ByteBuf`, which asks for `byte_buf`.
    #[derive(Debug, PartialEq)]
    struct Buf(Vec<u8>);

    impl Serialize for Buf {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(&self.0)
        }
    }

    impl<'de> Deserialize<'de> for Buf {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl serde::de::Visitor<'_> for V {
                type Value = Buf;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Buf, E> {
                    Ok(Buf(v))
                }
                fn visit_bytes<E>(self, v: &[u8]) -> Result<Buf, E> {
                    Ok(Buf(v.to_vec()))
                }
            }
            d.deserialize_byte_buf(V)
        }
    }

    #[test]
    fn byte_strings() {
        round_trip(&Buf(vec![1, 2, 3]), Value::Bytes(vec![1, 2, 3]));
        assert_eq!(from_value::<Buf>(s("hi")).unwrap(), Buf(b"hi".to_vec()));
        assert_eq!(
            from_value::<Buf>(Value::List(vec![Value::UInt(7), Value::Int(8)])).unwrap(),
            Buf(vec![7, 8])
        );
        let e = err::<Buf>(Value::List(vec![Value::UInt(1), Value::UInt(256)]));
        assert!(e.contains("invalid value: integer `256`, expected a byte"), "{e}");
        let e = err::<Buf>(Value::List(vec![Value::Int(-1)]));
        assert!(e.contains("integer `-1`"), "{e}");
        let e = err::<Buf>(Value::Bool(true));
        assert!(e.contains("invalid type: boolean `true`, expected bytes"), "{e}");
    }

    #[test]
    fn nested() {
        type Deep = Vec<HashMap<String, Vec<Option<Shape>>>>;
        let v: Deep = vec![
            [("a".to_owned(), vec![Some(Shape::Rect(1, 2)), None])].into(),
            HashMap::new(),
        ];
        let value = to_value(&v).unwrap();
        assert_eq!(
            value,
            Value::List(vec![
                dict([(
                    "a",
                    Value::List(vec![
                        dict([("Rect", Value::List(vec![Value::UInt(1), Value::UInt(2)]))]),
                        Value::Null,
                    ])
                )]),
                Value::Dict(Dict::new()),
            ])
        );
        assert_eq!(from_value::<Deep>(value).unwrap(), v);
    }

    #[test]
    fn integer_ranges() {
        let e = err::<u8>(Value::UInt(300));
        assert_eq!(e, "invalid value: integer `300`, expected u8");
        let e = err::<i8>(Value::Int(-200));
        assert_eq!(e, "invalid value: integer `-200`, expected i8");
        let e = err::<u32>(Value::Int(-1));
        assert_eq!(e, "invalid value: integer `-1`, expected u32");
        let e = err::<i64>(Value::UInt(u64::MAX));
        assert!(e.contains("expected i64"), "{e}");
        assert_eq!(from_value::<i64>(Value::UInt(5)).unwrap(), 5);
        assert_eq!(from_value::<u64>(Value::Int(5)).unwrap(), 5);
        assert_eq!(from_value::<i128>(Value::Int(-5)).unwrap(), -5);
        assert_eq!(from_value::<u128>(Value::UInt(5)).unwrap(), 5);
        let e = err::<u32>(Value::Float(1.0));
        assert!(
            e.contains("invalid type: floating point `1.0`, expected u32"),
            "{e}"
        );
    }

    #[test]
    fn floats_accept_integers() {
        assert_eq!(from_value::<f64>(Value::UInt(2)).unwrap(), 2.0);
        assert_eq!(from_value::<f64>(Value::Int(-3)).unwrap(), -3.0);
        assert_eq!(from_value::<f32>(Value::UInt(4)).unwrap(), 4.0);
        assert_eq!(from_value::<f64>(Value::Float(0.25)).unwrap(), 0.25);
        let e = err::<f64>(s("2"));
        assert_eq!(e, "invalid type: string \"2\", expected f64");
        round_trip(&1.5f32, Value::Float(1.5));
    }

    #[test]
    fn type_mismatch_messages() {
        assert_eq!(err::<u32>(s("x")), "invalid type: string \"x\", expected u32");
        let e = err::<String>(Value::UInt(1));
        assert_eq!(e, "invalid type: integer `1`, expected a string");
        let e = err::<Vec<u8>>(dict([]));
        assert!(e.contains("invalid type: map, expected a sequence"), "{e}");
        let e = err::<Inner>(Value::Null);
        assert!(
            e.contains("invalid type: unit value, expected struct Inner"),
            "{e}"
        );
    }

    #[test]
    fn struct_field_errors() {
        let e = err::<Inner>(dict([("name", s("n"))]));
        assert_eq!(e, "missing field `weight`");
        let e = err::<Inner>(dict([("name", Value::UInt(1)), ("weight", Value::UInt(1))]));
        assert!(e.contains("invalid type: integer `1`, expected a string"), "{e}");
        // Unknown fields, however deep, are skipped.
        let v: Inner = from_value(dict([
            ("name", s("n")),
            ("weight", Value::Float(0.5)),
            ("extra", Value::List(vec![dict([("x", Value::Null)])])),
        ]))
        .unwrap();
        assert_eq!(v.name, "n");
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Strict {
            a: u8,
        }
        let e = err::<Strict>(dict([("a", Value::UInt(1)), ("b", Value::UInt(1))]));
        assert!(e.contains("unknown field `b`"), "{e}");
        // Structs may also be given positionally, as serde_json allows.
        let v: Inner = from_value(Value::List(vec![s("p"), Value::Float(1.0)])).unwrap();
        assert_eq!(v.name, "p");
    }

    #[test]
    fn integer_normalization() {
        assert_eq!(to_value(&-5i32).unwrap(), Value::Int(-5));
        assert_eq!(to_value(&5i32).unwrap(), Value::UInt(5));
        assert_eq!(to_value(&0i8).unwrap(), Value::UInt(0));
        assert_eq!(to_value(&i64::MIN).unwrap(), Value::Int(i64::MIN));
        assert_eq!(to_value(&u64::MAX).unwrap(), Value::UInt(u64::MAX));
        assert_eq!(to_value(&-5i128).unwrap(), Value::Int(-5));
        assert_eq!(to_value(&(u64::MAX as i128)).unwrap(), Value::UInt(u64::MAX));
        assert_eq!(to_value(&(u64::MAX as u128)).unwrap(), Value::UInt(u64::MAX));
        let e = to_value(&(1u128 << 64)).unwrap_err().0;
        assert!(e.contains("out of range"), "{e}");
        assert!(to_value(&i128::MIN).is_err());
        assert!(to_value(&(u64::MAX as i128 + 1)).is_err());
    }

    #[test]
    fn serde_attributes() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type", rename_all = "lowercase")]
        enum Tagged {
            Ping { seq: u32 },
            Pong,
        }
        round_trip(
            &Tagged::Ping { seq: 3 },
            dict([("type", s("ping")), ("seq", Value::UInt(3))]),
        );
        round_trip(&Tagged::Pong, dict([("type", s("pong"))]));

        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        #[serde(untagged)]
        enum Either {
            Num(i64),
            // Before `Text`, which would accept these bytes as UTF-8.
            Raw(Buf),
            Text(String),
        }
        round_trip(&Either::Num(-4), Value::Int(-4));
        round_trip(&Either::Text("t".into()), s("t"));
        round_trip(&Either::Raw(Buf(vec![1])), Value::Bytes(vec![1]));

        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Flat {
            a: u8,
            #[serde(flatten)]
            rest: BTreeMap<String, Value>,
        }
        let f = Flat {
            a: 1,
            rest: [("z".to_owned(), Value::Bytes(vec![2]))].into(),
        };
        round_trip(&f, dict([("a", Value::UInt(1)), ("z", Value::Bytes(vec![2]))]));
    }

    #[test]
    fn value_round_trips_unchanged() {
        let v = dict([
            ("n", Value::Null),
            ("i", Value::Int(-1)),
            ("u", Value::UInt(1)),
            ("f", Value::Float(0.5)),
            ("s", s("\0not base64")),
            ("b", Value::Bytes(vec![0, 1])),
            ("l", Value::List(vec![Value::Bool(true)])),
        ]);
        assert_eq!(to_value(&v).unwrap(), v);
        assert_eq!(from_value::<Value>(v.clone()).unwrap(), v);
    }

    #[test]
    fn agrees_with_serde_json() {
        let o = Outer {
            id: 1,
            delta: -9,
            flag: false,
            tags: vec!["t".into()],
            inner: Inner {
                name: "i".into(),
                weight: 3.25,
            },
            maybe: Some(4),
        };
        let via_value = serde_json::to_value(to_value(&o).unwrap()).unwrap();
        assert_eq!(via_value, serde_json::to_value(&o).unwrap());
        // JSON text `2` (no fraction) still fills an f64 field.
        let parsed: Value = serde_json::from_str(r#"{"name": "j", "weight": 2}"#).unwrap();
        let inner: Inner = from_value(parsed).unwrap();
        assert_eq!(inner.weight, 2.0);
        let shapes = serde_json::json!(["Empty", {"Circle": 1}, {"Rect": [1, 2]}]);
        let shapes: Vec<Shape> = from_value(Value::from(shapes)).unwrap();
        assert_eq!(shapes[1], Shape::Circle(1.0));
    }

    #[test]
    fn not_human_readable() {
        struct Probe;
        impl Serialize for Probe {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let hr = s.is_human_readable();
                s.serialize_bool(hr)
            }
        }
        assert_eq!(to_value(&Probe).unwrap(), Value::Bool(false));
        assert!(!Value::Null.is_human_readable());
    }

    #[test]
    fn into_deserializer() {
        let d = Value::UInt(5).into_deserializer();
        assert_eq!(u32::deserialize(d).unwrap(), 5);
        let m = serde::de::value::MapDeserializer::<_, crate::value::ValueError>::new(
            [("x", Value::UInt(1))].into_iter(),
        );
        let got: BTreeMap<String, u8> = BTreeMap::deserialize(m).unwrap();
        assert_eq!(got["x"], 1);
    }
}
