//! The dynamic value model of WAMP payloads.
//!
//! WAMP application payloads (`Arguments`, `ArgumentsKw`) and the
//! `Options`/`Details` dictionaries are arbitrary trees of the types every WAMP
//! serializer can carry. [`Value`] is that tree. Binary values survive JSON
//! through the spec's convention: a string starting with a NUL character
//! followed by the Base64 encoding of the bytes.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::repr::{self, SerializerSet, MAX_DEPTH};

/// A WAMP dictionary: string keys, ordered for deterministic encoding.
pub type Dict = BTreeMap<String, Value>;

/// A WAMP list.
pub type List = Vec<Value>;

/// Any value that can travel in a WAMP message.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `null` / `nil`.
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer (non-negative integers are kept in [`Value::UInt`]).
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A floating-point number.
    Float(f64),
    /// A UTF-8 string.
    Str(String),
    /// A byte string (MessagePack `bin`, JSON `"\0" + base64`).
    Bytes(Vec<u8>),
    /// An ordered list.
    List(List),
    /// A dictionary with string keys.
    Dict(Dict),
}

impl Value {
    /// About how many bytes the value takes in memory (see
    /// [`Message::approx_size`](crate::Message::approx_size)).
    pub fn approx_size(&self) -> usize {
        const SLOT: usize = std::mem::size_of::<Value>();
        match self {
            Value::Str(s) => SLOT + s.len(),
            Value::Bytes(b) => SLOT + b.len(),
            Value::List(l) => SLOT + l.iter().map(Value::approx_size).sum::<usize>(),
            Value::Dict(d) => SLOT + dict_size(d),
            _ => SLOT,
        }
    }

    /// The value as a string slice, if it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an unsigned integer, if it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::UInt(u) => Some(u),
            Value::Int(i) if i >= 0 => Some(i as u64),
            _ => None,
        }
    }

    /// The value as a signed integer, if it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i),
            Value::UInt(u) => i64::try_from(u).ok(),
            _ => None,
        }
    }

    /// The value as a float; integers are converted.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Float(f) => Some(f),
            Value::Int(i) => Some(i as f64),
            Value::UInt(u) => Some(u as f64),
            _ => None,
        }
    }

    /// The value as a boolean, if it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The value as a list, if it is one.
    pub fn as_list(&self) -> Option<&List> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The value as a dictionary, if it is one.
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Value::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// Whether the value is `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A short name of the value's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::UInt(_) => "integer",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
        }
    }
}

macro_rules! value_from {
    ($($t:ty => $variant:ident as $as:ty),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from(v: $t) -> Self { Value::$variant(v as $as) }
        })*
    };
}
value_from!(
    u8 => UInt as u64, u16 => UInt as u64, u32 => UInt as u64, u64 => UInt as u64, usize => UInt as u64,
    i8 => Int as i64, i16 => Int as i64, i32 => Int as i64, i64 => Int as i64, isize => Int as i64,
    f32 => Float as f64, f64 => Float as f64,
);

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}
impl From<List> for Value {
    fn from(v: List) -> Self {
        Value::List(v)
    }
}
impl From<Dict> for Value {
    fn from(v: Dict) -> Self {
        Value::Dict(v)
    }
}
impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    Value::UInt(u)
                } else if let Some(i) = n.as_i64() {
                    Value::Int(i)
                } else {
                    Value::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            serde_json::Value::String(s) => Value::Str(s),
            serde_json::Value::Array(a) => Value::List(a.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(o) => {
                Value::Dict(o.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
            }
        }
    }
}

/// Builds a [`Value`] from JSON-like syntax, through `serde_json::json!`.
///
/// ```
/// let v = wamp_proto::value!({"real": 1, "imag": [2, 3]});
/// assert_eq!(v.as_dict().unwrap()["real"].as_u64(), Some(1));
/// ```
#[macro_export]
macro_rules! value {
    ($($json:tt)+) => {
        $crate::Value::from($crate::__serde_json::json!($($json)+))
    };
}

/// Binary as the spec carries it in JSON: a string of a NUL character and
/// the bytes in Base64.
pub(crate) fn to_json_binary(b: &[u8]) -> String {
    let mut out = String::with_capacity(1 + b.len().div_ceil(3) * 4);
    out.push('\0');
    base64::engine::general_purpose::STANDARD.encode_string(b, &mut out);
    out
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::UInt(u) => s.serialize_u64(*u),
            Value::Float(f) => s.serialize_f64(*f),
            Value::Str(v) => s.serialize_str(v),
            Value::Bytes(b) => {
                if s.is_human_readable() {
                    s.serialize_str(&to_json_binary(b))
                } else {
                    s.serialize_bytes(b)
                }
            }
            Value::List(l) => {
                let mut seq = s.serialize_seq(Some(l.len()))?;
                for v in l {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Value::Dict(d) => {
                let mut map = s.serialize_map(Some(d.len()))?;
                for (k, v) in d {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

struct ValueVisitor {
    human_readable: bool,
    /// The level of nesting a list or dictionary here would have (1 for
    /// the value itself); deeper than [`MAX_DEPTH`] is refused, the same
    /// way in every serializer (see [`crate::repr`]).
    level: usize,
}

impl ValueVisitor {
    fn child(&self) -> ValueSeed {
        ValueSeed {
            human_readable: self.human_readable,
            level: self.level + 1,
        }
    }

    fn enter<E: de::Error>(&self) -> Result<(), E> {
        enter(self.level)
    }
}

/// A list or dictionary at `level` (1 for a message's value itself): refused
/// deeper than [`MAX_DEPTH`], the same way in every serializer (see
/// [`crate::repr`]). The one copy of the rule, for both value visitors.
fn enter<E: de::Error>(level: usize) -> Result<(), E> {
    if level > MAX_DEPTH {
        return Err(E::custom(format_args!(
            "lists and dictionaries nested more than {MAX_DEPTH} deep in a value"
        )));
    }
    Ok(())
}

/// The bytes of a JSON binary string (the spec's convention: NUL, then
/// Base64), if `v` is one; an error if it starts with NUL and is no Base64.
fn json_binary<E: de::Error>(v: &str) -> Option<Result<Vec<u8>, E>> {
    let b64 = v.strip_prefix('\0')?;
    Some(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| E::custom(format!("invalid base64 in binary string: {e}"))),
    )
}

/// A string decoded into a value (`human_readable`: from JSON, where the
/// spec's binary convention applies); an error for a binary string that
/// is not Base64.
pub(crate) fn str_value<E: de::Error>(human_readable: bool, v: &str) -> Result<Value, E> {
    if human_readable {
        if let Some(bytes) = json_binary(v) {
            return bytes.map(Value::Bytes);
        }
    }
    Ok(Value::Str(v.to_owned()))
}

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a WAMP value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(if v >= 0 {
            Value::UInt(v as u64)
        } else {
            Value::Int(v)
        })
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::UInt(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        str_value(self.human_readable, v)
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        if self.human_readable && v.starts_with('\0') {
            return self.visit_str(&v);
        }
        Ok(Value::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Bytes(v.to_vec()))
    }
    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bytes(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.enter()?;
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(v) = seq.next_element_seed(self.child())? {
            out.push(v);
        }
        Ok(Value::List(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.enter()?;
        let mut out = Dict::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(self.child())?;
            out.insert(k, v);
        }
        Ok(Value::Dict(out))
    }
}

#[derive(Clone, Copy)]
struct ValueSeed {
    human_readable: bool,
    level: usize,
}

impl<'de> de::DeserializeSeed<'de> for ValueSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor {
            human_readable: self.human_readable,
            level: self.level,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        let human_readable = d.is_human_readable();
        d.deserialize_any(ValueVisitor {
            human_readable,
            level: 1,
        })
    }
}

/// What decoding a value in checking mode yields: nothing is built, but
/// the value is accepted or refused exactly as [`Value`]'s decoder would
/// (the same visitor methods, depth rule and binary convention), and the
/// serializers that can carry it are worked out as
/// [`repr::value_serializers`](crate::repr::value_serializers) would on
/// the decoded value.
pub(crate) struct Reach(pub SerializerSet);

impl<'de> Deserialize<'de> for Reach {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Reach, D::Error> {
        let seed = ReachSeed {
            human_readable: d.is_human_readable(),
            level: 1,
        };
        de::DeserializeSeed::deserialize(seed, d)
    }
}

/// The serializers that can carry a string as [`Reach`] decodes it
/// (`human_readable`: from JSON, where the spec's binary convention
/// applies); an error for a binary string that is not Base64.
pub(crate) fn str_reach<E: de::Error>(human_readable: bool, v: &str) -> Result<SerializerSet, E> {
    if human_readable {
        if let Some(bytes) = json_binary::<E>(v) {
            return bytes.map(|_| SerializerSet::ALL);
        }
    }
    Ok(repr::str_serializers(v))
}

#[derive(Clone, Copy)]
struct ReachSeed {
    human_readable: bool,
    level: usize,
}

impl<'de> de::DeserializeSeed<'de> for ReachSeed {
    type Value = Reach;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Reach, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ReachSeed {
    type Value = Reach;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a WAMP value")
    }
    fn visit_unit<E>(self) -> Result<Reach, E> {
        Ok(Reach(SerializerSet::ALL))
    }
    fn visit_none<E>(self) -> Result<Reach, E> {
        Ok(Reach(SerializerSet::ALL))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Reach, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Reach, E> {
        Ok(Reach(SerializerSet::ALL))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Reach, E> {
        Ok(Reach(SerializerSet::ALL))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Reach, E> {
        Ok(Reach(SerializerSet::ALL))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Reach, E> {
        Ok(Reach(repr::value_serializers(&Value::Float(v))))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Reach, E> {
        str_reach(self.human_readable, v).map(Reach)
    }
    fn visit_bytes<E>(self, _: &[u8]) -> Result<Reach, E> {
        Ok(Reach(SerializerSet::ALL))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Reach, A::Error> {
        enter(self.level)?;
        let child = ReachSeed {
            level: self.level + 1,
            ..self
        };
        let mut set = SerializerSet::ALL;
        while let Some(Reach(r)) = seq.next_element_seed(child)? {
            set = set.intersection(r);
        }
        Ok(Reach(set))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Reach, A::Error> {
        enter(self.level)?;
        let child = ReachSeed {
            level: self.level + 1,
            ..self
        };
        let mut set = SerializerSet::ALL;
        while map.next_key::<Key>()?.is_some() {
            set = set.intersection(map.next_value_seed(child)?.0);
        }
        Ok(Reach(set))
    }
}

/// A dictionary key, accepted as a `String` key would be (text, or bytes
/// that are UTF-8), without keeping it.
pub(crate) struct Key;

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E>(self, _: &str) -> Result<Key, E> {
                Ok(Key)
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Key, E> {
                std::str::from_utf8(v)
                    .map(|_| Key)
                    .map_err(|_| E::invalid_value(de::Unexpected::Bytes(v), &self))
            }
        }
        d.deserialize_string(V)
    }
}

/// Converts any serializable Rust value into a [`Value`].
///
/// Fails only for types that serde cannot represent as WAMP data, such as maps
/// with non-string keys.
pub fn to_value<T: Serialize + ?Sized>(v: &T) -> Result<Value, ValueError> {
    v.serialize(crate::value_ser::ValueSerializer)
}

/// Converts a [`Value`] into any deserializable Rust type.
pub fn from_value<T: de::DeserializeOwned>(v: Value) -> Result<T, ValueError> {
    T::deserialize(v)
}

/// A conversion between a Rust type and a [`Value`] failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

impl serde::ser::Error for ValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ValueError(msg.to_string())
    }
}
impl de::Error for ValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ValueError(msg.to_string())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match serde_json::to_string(self) {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "{self:?}"),
        }
    }
}

/// About how many bytes a dictionary's entries take in memory.
pub(crate) fn dict_size(d: &Dict) -> usize {
    d.iter()
        .map(|(k, v)| std::mem::size_of::<String>() + k.len() + v.approx_size())
        .sum()
}
