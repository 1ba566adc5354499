//! A number as Python sees it: integers stay integers, anything else is a
//! float. Autobahn's example procedures (`a + b`, `x * x`) work on both, and
//! answer an integer for integers; this type lets the Rust backends do the
//! same, so a frontend cannot tell them apart.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// An integer or a float, with Python's arithmetic: integer results stay
/// integers (falling back to a float where an `i64` would overflow, where
/// Python would use a big integer).
#[derive(Clone, Copy, PartialEq)]
pub enum Number {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
}

impl Number {
    /// The value as a float.
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    /// Whether the value is zero (`0` or `0.0`).
    pub fn is_zero(self) -> bool {
        self.as_f64() == 0.0
    }

    fn combine(self, other: Number, int: fn(i64, i64) -> Option<i64>, float: fn(f64, f64) -> f64) -> Number {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => match int(a, b) {
                Some(r) => Number::Int(r),
                None => Number::Float(float(a as f64, b as f64)),
            },
            (a, b) => Number::Float(float(a.as_f64(), b.as_f64())),
        }
    }
}

impl std::ops::Add for Number {
    type Output = Number;
    fn add(self, other: Number) -> Number {
        self.combine(other, i64::checked_add, |a, b| a + b)
    }
}

impl std::ops::Sub for Number {
    type Output = Number;
    fn sub(self, other: Number) -> Number {
        self.combine(other, i64::checked_sub, |a, b| a - b)
    }
}

impl std::ops::Mul for Number {
    type Output = Number;
    fn mul(self, other: Number) -> Number {
        self.combine(other, i64::checked_mul, |a, b| a * b)
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a.partial_cmp(b),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }
}

impl From<i64> for Number {
    fn from(i: i64) -> Number {
        Number::Int(i)
    }
}

impl From<f64> for Number {
    fn from(f: f64) -> Number {
        Number::Float(f)
    }
}

/// Python's `str()`: `14`, `2.0`, `1.4142135623730951`.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            // `{:?}` keeps the `.0` of whole floats, as Python does.
            Number::Float(x) => write!(f, "{x:?}"),
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Number::Int(i) => s.serialize_i64(*i),
            Number::Float(f) => s.serialize_f64(*f),
        }
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Number, D::Error> {
        struct NumberVisitor;
        impl Visitor<'_> for NumberVisitor {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(i64::try_from(v).map_or(Number::Float(v as f64), Number::Int))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
                Ok(Number::Float(v))
            }
        }
        d.deserialize_any(NumberVisitor)
    }
}

impl schemars::JsonSchema for Number {
    fn schema_name() -> Cow<'static, str> {
        "Number".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An integer or a float; integer arithmetic stays integer.",
            "type": "number"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Number;

    #[test]
    fn arithmetic_is_pythonic() {
        assert_eq!(Number::Int(2) + Number::Int(3), Number::Int(5));
        assert_eq!(Number::Int(2) * Number::Float(1.5), Number::Float(3.0));
        assert_eq!(
            Number::Int(i64::MAX) + Number::Int(1),
            Number::Float(i64::MAX as f64 + 1.0)
        );
        assert!(Number::Int(3) < Number::Float(3.5));
        assert_eq!(Number::Float(6.0).to_string(), "6.0");
        assert_eq!(Number::Int(14).to_string(), "14");
    }

    #[test]
    fn wire_round_trip() {
        let v = wamp::proto::to_value(&Number::Int(-4)).unwrap();
        assert_eq!(wamp::proto::from_value::<Number>(v).unwrap(), Number::Int(-4));
        let v = wamp::proto::to_value(&Number::Float(0.5)).unwrap();
        assert_eq!(wamp::proto::from_value::<Number>(v).unwrap(), Number::Float(0.5));
    }
}
