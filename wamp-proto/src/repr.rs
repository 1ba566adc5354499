//! What each serializer can carry: the one place that decides whether a
//! [`Value`] survives a trip through JSON, MessagePack or CBOR unchanged.
//!
//! A value decoded from one serializer and encoded in another must decode
//! back to the same value, or the receiver sees something else than the
//! sender sent (or cannot decode the frame at all). The rules:
//!
//! - **Every serializer**: lists and dictionaries nest at most
//!   [`MAX_DEPTH`] levels in each value of a message (an element of
//!   `args`, a value of `kwargs` or of a details dictionary; `[[1]]` is 2
//!   levels). Every decoder refuses deeper values, counted the same way,
//!   so a value one decoder accepted is never too deep for another.
//!   Dictionary keys are strings: [`Value`] has no other kind of key, and
//!   the decoders refuse a map with any other key.
//! - **JSON** (`wamp.2.json`): binary values travel as a string made of a
//!   NUL character and the Base64 of the bytes (the spec's convention), so
//!   a *text* string starting with NUL cannot travel: it would arrive as
//!   binary, or not decode at all. Floats must be finite: JSON has no NaN
//!   or infinity (they would arrive as `null`). Dictionary keys are never
//!   read as binary, so any key is fine.
//! - **MessagePack** and **CBOR**: binary values are native, every string
//!   and every float travels as is.
//!
//! The router uses this where it transcodes (sender and receiver use
//! different serializers), and the client refuses to send what its own
//! serializer cannot carry, with a [`ReprError`] naming the value's
//! position (`args[0]`, `kwargs.name[2]`).
//!
//! ```
//! use wamp_proto::repr::{self, SerializerSet};
//! use wamp_proto::{Serializer, Value};
//!
//! let args = vec![Value::Str("\0hello".into())];
//! let reach = repr::payload_serializers(&args, &Default::default());
//! assert!(!reach.contains(Serializer::Json));
//! assert!(reach.contains(Serializer::MsgPack));
//! let e = repr::check_payload(Serializer::Json, &args, &Default::default()).unwrap_err();
//! assert_eq!(e.position, "args[0]");
//! ```

use std::fmt;

use crate::serializer::Serializer;
use crate::value::{Dict, List, Value};

/// How many levels of lists and dictionaries a value in a message may hold
/// (a scalar has none, `[]` and `{}` one, `[[1]]` two). Every decoder
/// refuses a deeper value, and every encoder check too.
pub const MAX_DEPTH: usize = 100;

/// A set of serializers: those that can carry a given value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SerializerSet(u8);

impl SerializerSet {
    /// No serializer.
    pub const EMPTY: SerializerSet = SerializerSet(0);
    /// Every serializer.
    pub const ALL: SerializerSet = SerializerSet(0b111);

    fn bit(s: Serializer) -> u8 {
        1 << s.index()
    }

    /// Whether `s` is in the set.
    pub fn contains(self, s: Serializer) -> bool {
        self.0 & Self::bit(s) != 0
    }

    /// The set without `s`.
    #[must_use]
    pub fn without(self, s: Serializer) -> SerializerSet {
        SerializerSet(self.0 & !Self::bit(s))
    }

    /// The serializers in both sets.
    #[must_use]
    pub fn intersection(self, other: SerializerSet) -> SerializerSet {
        SerializerSet(self.0 & other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The serializers in the set, in the order of [`Serializer::ALL`].
    pub fn iter(self) -> impl Iterator<Item = Serializer> {
        Serializer::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl fmt::Debug for SerializerSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// Why a value cannot travel in a serializer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Unrepresentable {
    /// A text string starting with NUL: JSON would read it as binary.
    NulPrefixedString,
    /// A NaN or an infinity: JSON has no such number.
    NonFiniteFloat(f64),
    /// Lists and dictionaries nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl fmt::Display for Unrepresentable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unrepresentable::NulPrefixedString => {
                f.write_str("a text string starting with NUL (JSON reads that as binary)")
            }
            Unrepresentable::NonFiniteFloat(x) => write!(f, "the float {x} (JSON has no such number)"),
            Unrepresentable::TooDeep => write!(f, "lists and dictionaries nested more than {MAX_DEPTH} deep"),
        }
    }
}

/// A value that a serializer cannot carry, and where it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{position}: {reason} cannot travel in {serializer}")]
#[non_exhaustive]
pub struct ReprError {
    /// Where the value is: `args[0]`, `kwargs.name[2]`, `details.x`, `topic`.
    pub position: String,
    /// The serializer that cannot carry it.
    pub serializer: Serializer,
    /// What is wrong with it.
    pub reason: Unrepresentable,
}

/// The serializers that can carry a string that travels as a string (a
/// payload value, or a URI the router forwards).
pub fn str_serializers(s: &str) -> SerializerSet {
    if s.starts_with('\0') {
        SerializerSet::ALL.without(Serializer::Json)
    } else {
        SerializerSet::ALL
    }
}

/// The serializers that can carry `v`, in one walk.
pub fn value_serializers(v: &Value) -> SerializerSet {
    reach(v, 1, SerializerSet::ALL)
}

/// The serializers that can carry a payload (or any list and dictionary of
/// a message), in one walk.
pub fn payload_serializers(args: &List, kwargs: &Dict) -> SerializerSet {
    let mut set = SerializerSet::ALL;
    for v in args.iter().chain(kwargs.values()) {
        set = reach(v, 1, set);
        if set.is_empty() {
            break;
        }
    }
    set
}

/// The rules, in one place: whether `v` itself (not what it holds), found
/// at `level` (the level its own list or dictionary would have), limits
/// the serializers that carry it, to which ones, and why. Both walks below
/// apply it: the one that narrows a set and the one that names a position.
fn own_limit(v: &Value, level: usize) -> Option<(SerializerSet, Unrepresentable)> {
    let not_json = SerializerSet::ALL.without(Serializer::Json);
    match v {
        Value::Str(s) => {
            let carry = str_serializers(s);
            (carry != SerializerSet::ALL).then_some((carry, Unrepresentable::NulPrefixedString))
        }
        Value::Float(x) if !x.is_finite() => Some((not_json, Unrepresentable::NonFiniteFloat(*x))),
        Value::List(_) | Value::Dict(_) if level > MAX_DEPTH => {
            Some((SerializerSet::EMPTY, Unrepresentable::TooDeep))
        }
        _ => None,
    }
}

/// Narrows `set` to the serializers that carry `v`, found at `level`.
/// Stops descending once nothing is left, and never deeper than
/// [`MAX_DEPTH`] + 1.
fn reach(v: &Value, level: usize, set: SerializerSet) -> SerializerSet {
    if let Some((carry, _)) = own_limit(v, level) {
        // A string or a float holds nothing; a container this deep is
        // refused by every serializer, whatever it holds.
        return set.intersection(carry);
    }
    match v {
        Value::List(l) => l
            .iter()
            .try_fold(set, |s, v| narrow(v, level, s))
            .unwrap_or_else(|s| s),
        Value::Dict(d) => d
            .values()
            .try_fold(set, |s, v| narrow(v, level, s))
            .unwrap_or_else(|s| s),
        _ => set,
    }
}

/// One child of a container at `level`; `Err` stops the fold when nothing
/// is left.
fn narrow(v: &Value, level: usize, set: SerializerSet) -> Result<SerializerSet, SerializerSet> {
    let set = reach(v, level + 1, set);
    if set.is_empty() {
        Err(set)
    } else {
        Ok(set)
    }
}

/// Checks that `serializer` can carry a payload; the error names the first
/// value it cannot, by position.
pub fn check_payload(serializer: Serializer, args: &List, kwargs: &Dict) -> Result<(), ReprError> {
    check_parts(serializer, "args", args, "kwargs", kwargs)
}

/// Like [`check_payload`], with the names to give the list and the
/// dictionary in positions (`"args"` and `"kwargs"`, or for example
/// `"result args"`).
pub fn check_parts(
    serializer: Serializer,
    list_name: &str,
    args: &List,
    dict_name: &str,
    kwargs: &Dict,
) -> Result<(), ReprError> {
    // The walk that names positions builds their text as it goes; a
    // payload that passes (nearly every one) takes the walk that does not.
    if payload_serializers(args, kwargs).contains(serializer) {
        return Ok(());
    }
    let mut path = Path::new(list_name);
    for (i, v) in args.iter().enumerate() {
        path.index(i);
        check_at(serializer, v, 1, &mut path)?;
        path.pop();
    }
    let mut path = Path::new(dict_name);
    check_dict(serializer, kwargs, 1, &mut path)
}

/// Checks that `serializer` can carry one value; `position` names it in
/// the error.
pub fn check_value(serializer: Serializer, position: &str, v: &Value) -> Result<(), ReprError> {
    if reach(v, 1, SerializerSet::ALL).contains(serializer) {
        return Ok(());
    }
    check_at(serializer, v, 1, &mut Path::new(position))
}

/// Checks that `serializer` can carry a string that travels as a string.
pub fn check_str(serializer: Serializer, position: &str, s: &str) -> Result<(), ReprError> {
    if str_serializers(s).contains(serializer) {
        Ok(())
    } else {
        Err(ReprError {
            position: position.to_owned(),
            serializer,
            reason: Unrepresentable::NulPrefixedString,
        })
    }
}

fn check_dict(serializer: Serializer, d: &Dict, level: usize, path: &mut Path) -> Result<(), ReprError> {
    for (k, v) in d {
        path.key(k);
        check_at(serializer, v, level, path)?;
        path.pop();
    }
    Ok(())
}

fn check_at(serializer: Serializer, v: &Value, level: usize, path: &mut Path) -> Result<(), ReprError> {
    if let Some((carry, reason)) = own_limit(v, level) {
        if !carry.contains(serializer) {
            return Err(ReprError {
                position: path.text.clone(),
                serializer,
                reason,
            });
        }
    }
    match v {
        Value::List(l) => {
            for (i, v) in l.iter().enumerate() {
                path.index(i);
                check_at(serializer, v, level + 1, path)?;
                path.pop();
            }
            Ok(())
        }
        Value::Dict(d) => check_dict(serializer, d, level + 1, path),
        _ => Ok(()),
    }
}

/// A position being walked, as text, with the lengths to pop back to.
struct Path {
    text: String,
    marks: Vec<usize>,
}

impl Path {
    fn new(root: &str) -> Path {
        Path {
            text: root.to_owned(),
            marks: Vec::new(),
        }
    }

    fn index(&mut self, i: usize) {
        self.marks.push(self.text.len());
        use fmt::Write;
        let _ = write!(self.text, "[{i}]");
    }

    /// `.name` for plain keys, `["a key"]` (escaped) for the rest.
    fn key(&mut self, k: &str) {
        self.marks.push(self.text.len());
        let plain = !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        use fmt::Write;
        let _ = if plain {
            write!(self.text, ".{k}")
        } else {
            write!(self.text, "[{k:?}]")
        };
    }

    fn pop(&mut self) {
        if let Some(len) = self.marks.pop() {
            self.text.truncate(len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value;

    fn nested(depth: usize) -> Value {
        let mut v = Value::UInt(1);
        for _ in 0..depth {
            v = Value::List(vec![v]);
        }
        v
    }

    fn dict(v: Value) -> Dict {
        match v {
            Value::Dict(d) => d,
            _ => unreachable!(),
        }
    }

    #[test]
    fn plain_values_travel_everywhere() {
        let args = vec![
            value!({"a": [1, -2, 1.5, null, true, "x"]}),
            Value::Bytes(vec![0, 1]),
        ];
        let kwargs = dict(value!({"k": "\u{1}not NUL", "\u{0}key": 1}));
        assert_eq!(payload_serializers(&args, &kwargs), SerializerSet::ALL);
        for s in Serializer::ALL {
            assert_eq!(check_payload(s, &args, &kwargs), Ok(()));
        }
    }

    #[test]
    fn nul_prefixed_text_is_not_json() {
        let args = vec![Value::UInt(1), Value::Str("\0hello".into())];
        let set = payload_serializers(&args, &Dict::new());
        assert_eq!(set, SerializerSet::ALL.without(Serializer::Json));
        let e = check_payload(Serializer::Json, &args, &Dict::new()).unwrap_err();
        assert_eq!(e.position, "args[1]");
        assert_eq!(e.reason, Unrepresentable::NulPrefixedString);
        assert!(
            e.to_string()
                .starts_with("args[1]: a text string starting with NUL"),
            "{e}"
        );
        assert_eq!(check_payload(Serializer::Cbor, &args, &Dict::new()), Ok(()));
        // NUL elsewhere in a string is plain text.
        assert_eq!(value_serializers(&Value::Str("a\0".into())), SerializerSet::ALL);
    }

    #[test]
    fn positions_name_keys_and_indexes() {
        let kwargs = dict(value!({"name": [1, 2, "\u{0}x"], "ok": 1}));
        let e = check_payload(Serializer::Json, &vec![], &kwargs).unwrap_err();
        assert_eq!(e.position, "kwargs.name[2]");
        let kwargs = dict(value!({"a key": {"b.c": "\u{0}"}}));
        let e = check_payload(Serializer::Json, &vec![], &kwargs).unwrap_err();
        assert_eq!(e.position, r#"kwargs["a key"]["b.c"]"#);
        let e = check_parts(
            Serializer::Json,
            "result args",
            &vec![Value::Float(f64::NAN)],
            "k",
            &Dict::new(),
        )
        .unwrap_err();
        assert_eq!(e.position, "result args[0]");
    }

    #[test]
    fn non_finite_floats_are_not_json() {
        for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let v = Value::List(vec![Value::Float(x)]);
            assert_eq!(
                value_serializers(&v),
                SerializerSet::ALL.without(Serializer::Json)
            );
            let e = check_value(Serializer::Json, "args[0]", &v).unwrap_err();
            assert_eq!(e.position, "args[0][0]");
            assert!(matches!(e.reason, Unrepresentable::NonFiniteFloat(_)));
        }
        assert_eq!(value_serializers(&Value::Float(-0.0)), SerializerSet::ALL);
    }

    #[test]
    fn one_depth_limit_for_every_serializer() {
        assert_eq!(value_serializers(&nested(MAX_DEPTH)), SerializerSet::ALL);
        assert_eq!(value_serializers(&nested(MAX_DEPTH + 1)), SerializerSet::EMPTY);
        for s in Serializer::ALL {
            assert_eq!(check_value(s, "v", &nested(MAX_DEPTH)), Ok(()));
            let e = check_value(s, "v", &nested(MAX_DEPTH + 1)).unwrap_err();
            assert_eq!(e.reason, Unrepresentable::TooDeep);
            assert_eq!(e.position, format!("v{}", "[0]".repeat(MAX_DEPTH)));
        }
        // Empty containers count as a level too.
        let mut v = Value::Dict(Dict::new());
        for _ in 1..=MAX_DEPTH {
            v = Value::List(vec![v]);
        }
        assert_eq!(value_serializers(&v), SerializerSet::EMPTY);
    }

    #[test]
    fn uris_travel_as_strings() {
        assert_eq!(str_serializers("com.a"), SerializerSet::ALL);
        assert!(!str_serializers("\0com").contains(Serializer::Json));
        assert!(check_str(Serializer::Json, "topic", "\0com").is_err());
        assert!(check_str(Serializer::MsgPack, "topic", "\0com").is_ok());
    }
}
