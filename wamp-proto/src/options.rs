//! Typed `Options` and `Details` dictionaries of WAMP messages.
//!
//! Each struct names the keys of the Basic and Advanced profiles that this
//! crate acts on; every other key is kept in `extra`, so a router or client
//! passes on what it does not understand. A known key with a value of the
//! wrong type is a decode error naming the key.

use serde::de::{self, Error as _};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::uri::MatchPolicy;
use crate::value::{Dict, Value};

/// A known option or detail key carried a value of the wrong type.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("option {key:?} must be {expected}, got {got}")]
pub struct OptionError {
    /// The key.
    pub key: &'static str,
    /// The expected type.
    pub expected: &'static str,
    /// The kind of value received.
    pub got: &'static str,
}

/// A type that can be the value of a typed option.
pub trait OptionValue: Sized {
    /// The type's name in error messages.
    const EXPECTED: &'static str;
    /// Converts from the wire value, `None` if the type is wrong.
    fn from_value(v: Value) -> Option<Self>;
    /// Converts to the wire value.
    fn to_value(&self) -> Value;
}

impl OptionValue for bool {
    const EXPECTED: &'static str = "a boolean";
    fn from_value(v: Value) -> Option<Self> {
        v.as_bool()
    }
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}

impl OptionValue for u64 {
    const EXPECTED: &'static str = "a non-negative integer";
    fn from_value(v: Value) -> Option<Self> {
        match v {
            // Some peers send integral floats (JavaScript numbers).
            Value::Float(f) if f >= 0.0 && f.fract() == 0.0 && f < 9.0e15 => Some(f as u64),
            v => v.as_u64(),
        }
    }
    fn to_value(&self) -> Value {
        Value::UInt(*self)
    }
}

impl OptionValue for String {
    const EXPECTED: &'static str = "a string";
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    fn to_value(&self) -> Value {
        Value::Str(self.clone())
    }
}

impl OptionValue for Dict {
    const EXPECTED: &'static str = "a dictionary";
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Dict(d) => Some(d),
            _ => None,
        }
    }
    fn to_value(&self) -> Value {
        Value::Dict(self.clone())
    }
}

impl OptionValue for Value {
    const EXPECTED: &'static str = "any value";
    fn from_value(v: Value) -> Option<Self> {
        Some(v)
    }
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl<T: OptionValue> OptionValue for Vec<T> {
    const EXPECTED: &'static str = "a list";
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::List(l) => l.into_iter().map(T::from_value).collect(),
            _ => None,
        }
    }
    fn to_value(&self) -> Value {
        Value::List(self.iter().map(T::to_value).collect())
    }
}

impl OptionValue for MatchPolicy {
    const EXPECTED: &'static str = "one of \"exact\", \"prefix\", \"wildcard\"";
    fn from_value(v: Value) -> Option<Self> {
        v.as_str().and_then(MatchPolicy::parse)
    }
    fn to_value(&self) -> Value {
        Value::Str(self.as_str().to_owned())
    }
}

macro_rules! wire_enum {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $variant:ident = $wire:literal),* $(,)? } default $default:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub enum $name {
            $($(#[$vm])* $variant,)*
        }
        impl $name {
            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire,)* }
            }
            /// Parses a wire name.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some($name::$variant),)* _ => None }
            }
        }
        impl OptionValue for $name {
            const EXPECTED: &'static str = concat!("one of" $(, " \"", $wire, "\"")*);
            fn from_value(v: Value) -> Option<Self> {
                v.as_str().and_then($name::parse)
            }
            fn to_value(&self) -> Value {
                Value::Str(self.as_str().to_owned())
            }
        }
        const _: () = { let _ = $name::$default; };
    };
}

wire_enum! {
    /// How a shared registration picks its callee (`invoke` option).
    pub enum InvokePolicy {
        /// Only one callee may register the procedure.
        #[default]
        Single = "single",
        /// Callees in turn.
        RoundRobin = "roundrobin",
        /// A callee at random.
        Random = "random",
        /// The callee that registered first.
        First = "first",
        /// The callee that registered last.
        Last = "last",
    } default Single
}

wire_enum! {
    /// How a call is canceled (`mode` of CANCEL and INTERRUPT).
    pub enum CancelMode {
        /// The caller gets an error at once; the callee is not told.
        Skip = "skip",
        /// The callee is interrupted; the caller gets its answer.
        Kill = "kill",
        /// The callee is interrupted; the caller gets an error at once.
        #[default]
        KillNoWait = "killnowait",
    } default KillNoWait
}

fn take<T: OptionValue>(d: &mut Dict, key: &'static str) -> Result<Option<T>, OptionError> {
    typed(d.remove(key), key)
}

/// A known key's value as its type: absent or `null` is `None`, a value of
/// another type an error naming the key. The one copy of the rule, for
/// [`from_dict`](HelloDetails::from_dict) and the decoders.
fn typed<T: OptionValue>(v: Option<Value>, key: &'static str) -> Result<Option<T>, OptionError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let got = v.kind();
            T::from_value(v).map(Some).ok_or(OptionError {
                key,
                expected: T::EXPECTED,
                got,
            })
        }
    }
}

/// A dictionary key read by an options decoder: the index of a known key
/// (matched where it lies in the input, nothing allocated), or another key,
/// kept. Accepted as a `String` key would be: text, or bytes that are UTF-8.
struct OptionKey(&'static [&'static str]);

impl<'de> de::DeserializeSeed<'de> for OptionKey {
    type Value = Result<usize, String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_string(self)
    }
}

impl<'de> de::Visitor<'de> for OptionKey {
    type Value = Result<usize, String>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().position(|k| *k == v).ok_or_else(|| v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(self.0.iter().position(|k| *k == v).ok_or(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        match std::str::from_utf8(v) {
            Ok(s) => self.visit_str(s),
            Err(_) => Err(E::invalid_value(de::Unexpected::Bytes(v), &self)),
        }
    }
}

macro_rules! options {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty = $key:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct $name {
            $($(#[$fm])* pub $field: Option<$ty>,)*
            /// Keys this crate does not act on, kept as received.
            pub extra: Dict,
        }

        impl $name {
            /// Reads the typed keys out of a dictionary; the rest go to `extra`.
            pub fn from_dict(mut d: Dict) -> Result<Self, OptionError> {
                Ok(Self { $($field: take::<$ty>(&mut d, $key)?,)* extra: d })
            }

            /// The dictionary as sent on the wire.
            pub fn to_dict(&self) -> Dict {
                let mut d = self.extra.clone();
                $(if let Some(v) = &self.$field { d.insert($key.to_owned(), v.to_value()); })*
                d
            }

            fn len(&self) -> usize {
                0 $(+ self.$field.is_some() as usize)* + self.extra.len()
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(self.len()))?;
                $(if let Some(v) = &self.$field { map.serialize_entry($key, &v.to_value())?; })*
                for (k, v) in &self.extra {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }

        /// Read in one pass: known keys are matched as they come, without
        /// building a dictionary first; decoded as [`from_dict`](Self::from_dict)
        /// would decode the same dictionary (the last of repeated keys wins).
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("a map")
                    }
                    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                        const KEYS: &[&str] = &[$($key),*];
                        let mut known: [Option<Value>; KEYS.len()] = Default::default();
                        let mut extra = Dict::new();
                        while let Some(key) = map.next_key_seed(OptionKey(KEYS))? {
                            match key {
                                Ok(i) => known[i] = Some(map.next_value()?),
                                Err(other) => {
                                    extra.insert(other, map.next_value()?);
                                }
                            }
                        }
                        let mut known = known.into_iter();
                        Ok($name {
                            $($field: typed::<$ty>(known.next().flatten(), $key).map_err(A::Error::custom)?,)*
                            extra,
                        })
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
}

options! {
    /// HELLO.Details: what a client announces when joining.
    pub struct HelloDetails {
        /// The roles the client plays, with their features.
        roles: Dict = "roles",
        /// Authentication methods the client offers, in order of preference.
        authmethods: Vec<String> = "authmethods",
        /// The identity the client wants to authenticate as.
        authid: String = "authid",
        /// The role the client asks for.
        authrole: String = "authrole",
        /// Extra data for the authentication method.
        authextra: Dict = "authextra",
        /// The client's software name and version.
        agent: String = "agent",
    }
}

options! {
    /// WELCOME.Details: what the router tells a client that has joined.
    pub struct WelcomeDetails {
        /// The roles the router plays, with their features.
        roles: Dict = "roles",
        /// The realm joined.
        realm: String = "realm",
        /// The authenticated identity.
        authid: String = "authid",
        /// The role granted.
        authrole: String = "authrole",
        /// The authentication method used.
        authmethod: String = "authmethod",
        /// Who authenticated the session (e.g. "static", "dynamic").
        authprovider: String = "authprovider",
        /// Extra data of the authentication.
        authextra: Dict = "authextra",
        /// The router's software name and version.
        agent: String = "agent",
    }
}

options! {
    /// ABORT.Details and GOODBYE.Details.
    pub struct CloseDetails {
        /// A human-readable explanation.
        message: String = "message",
    }
}

options! {
    /// PUBLISH.Options.
    pub struct PublishOptions {
        /// Ask the broker for a PUBLISHED acknowledgement.
        acknowledge: bool = "acknowledge",
        /// Whether the publisher is excluded from receiving the event (default true).
        exclude_me: bool = "exclude_me",
        /// Session IDs that must not receive the event.
        exclude: Vec<u64> = "exclude",
        /// Authids that must not receive the event.
        exclude_authid: Vec<String> = "exclude_authid",
        /// Authroles that must not receive the event.
        exclude_authrole: Vec<String> = "exclude_authrole",
        /// Only these session IDs may receive the event.
        eligible: Vec<u64> = "eligible",
        /// Only these authids may receive the event.
        eligible_authid: Vec<String> = "eligible_authid",
        /// Only these authroles may receive the event.
        eligible_authrole: Vec<String> = "eligible_authrole",
        /// Ask the broker to disclose the publisher to subscribers.
        disclose_me: bool = "disclose_me",
        /// Ask the broker to retain the event for later subscribers.
        retain: bool = "retain",
    }
}

options! {
    /// SUBSCRIBE.Options.
    pub struct SubscribeOptions {
        /// How the topic is matched (default exact).
        match_policy: MatchPolicy = "match",
        /// Ask for the retained event, if any.
        get_retained: bool = "get_retained",
    }
}

options! {
    /// EVENT.Details.
    pub struct EventDetails {
        /// The publisher's session ID, when disclosed.
        publisher: u64 = "publisher",
        /// The publisher's authid, when disclosed.
        publisher_authid: String = "publisher_authid",
        /// The publisher's authrole, when disclosed.
        publisher_authrole: String = "publisher_authrole",
        /// The concrete topic, for pattern-based subscriptions.
        topic: String = "topic",
        /// Whether this is a retained event.
        retained: bool = "retained",
    }
}

options! {
    /// CALL.Options.
    pub struct CallOptions {
        /// Timeout in milliseconds, enforced by the router (0 = none).
        timeout: u64 = "timeout",
        /// The caller accepts progressive results.
        receive_progress: bool = "receive_progress",
        /// Ask the dealer to disclose the caller to the callee.
        disclose_me: bool = "disclose_me",
        /// A chunk of a progressive call invocation; more follow (the
        /// last CALL of the request has none).
        progress: bool = "progress",
    }
}

options! {
    /// CANCEL.Options.
    pub struct CancelOptions {
        /// How to cancel.
        mode: CancelMode = "mode",
    }
}

options! {
    /// RESULT.Details.
    pub struct ResultDetails {
        /// This is a progressive result; more follow.
        progress: bool = "progress",
    }
}

options! {
    /// REGISTER.Options.
    pub struct RegisterOptions {
        /// How the procedure URI is matched (default exact).
        match_policy: MatchPolicy = "match",
        /// How a shared registration picks a callee (default single).
        invoke: InvokePolicy = "invoke",
        /// Ask the dealer to always disclose callers.
        disclose_caller: bool = "disclose_caller",
        /// Maximum concurrent invocations this callee accepts (advisory).
        concurrency: u64 = "concurrency",
    }
}

options! {
    /// INVOCATION.Details.
    pub struct InvocationDetails {
        /// The caller's session ID, when disclosed.
        caller: u64 = "caller",
        /// The caller's authid, when disclosed.
        caller_authid: String = "caller_authid",
        /// The caller's authrole, when disclosed.
        caller_authrole: String = "caller_authrole",
        /// The concrete procedure called, for pattern-based registrations.
        procedure: String = "procedure",
        /// The caller accepts progressive results.
        receive_progress: bool = "receive_progress",
        /// The call's timeout in milliseconds, if any.
        timeout: u64 = "timeout",
        /// A chunk of a progressive call invocation; more follow.
        progress: bool = "progress",
    }
}

options! {
    /// INTERRUPT.Options.
    pub struct InterruptOptions {
        /// The cancel mode that led to the interrupt.
        mode: CancelMode = "mode",
        /// Why the invocation was interrupted (e.g. `wamp.error.canceled`, `wamp.error.timeout`).
        reason: String = "reason",
    }
}

options! {
    /// YIELD.Options.
    pub struct YieldOptions {
        /// This is a progressive result; more follow.
        progress: bool = "progress",
    }
}

options! {
    /// UNREGISTERED.Details and UNSUBSCRIBED.Details (router-initiated revocation).
    pub struct RevokeDetails {
        /// The revoked registration ID.
        registration: u64 = "registration",
        /// The revoked subscription ID.
        subscription: u64 = "subscription",
        /// Why it was revoked.
        reason: String = "reason",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_survive_a_round_trip() {
        let mut d = Dict::new();
        d.insert("timeout".into(), Value::UInt(500));
        d.insert("x_custom".into(), Value::Str("kept".into()));
        let o = CallOptions::from_dict(d.clone()).unwrap();
        assert_eq!(o.timeout, Some(500));
        assert_eq!(o.extra["x_custom"], Value::Str("kept".into()));
        assert_eq!(o.to_dict(), d);
    }

    #[test]
    fn wrong_type_names_the_key() {
        let mut d = Dict::new();
        d.insert("match".into(), Value::Str("fuzzy".into()));
        let e = RegisterOptions::from_dict(d).unwrap_err();
        assert_eq!(e.key, "match");
        assert!(e.to_string().contains("\"prefix\""), "{e}");
    }

    #[test]
    fn null_means_absent() {
        let mut d = Dict::new();
        d.insert("acknowledge".into(), Value::Null);
        assert_eq!(PublishOptions::from_dict(d).unwrap(), PublishOptions::default());
    }

    /// What the one-pass decoder makes of `json`, against `from_dict` on
    /// the dictionary it holds: the same options, or the same error.
    fn same_as_from_dict<T>(json: &str)
    where
        T: for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
        T: FromDictForTest,
    {
        let direct = serde_json::from_str::<T>(json).map_err(|e| e.to_string());
        let via_dict = serde_json::from_str::<Dict>(json)
            .map_err(|e| e.to_string())
            .and_then(|d| T::from_dict_for_test(d).map_err(|e| e.to_string()));
        match (&direct, &via_dict) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{json}"),
            // serde_json adds the error's position; the message is the same.
            (Err(a), Err(b)) => assert!(a.starts_with(b.as_str()), "{json}: {a} vs {b}"),
            _ => panic!("{json}: {direct:?} vs {via_dict:?}"),
        }
        // MessagePack too, where keys may come as bytes.
        let value: Value = serde_json::from_str(json).unwrap_or(Value::Null);
        if let Ok(bytes) = rmp_serde::to_vec(&value) {
            let direct = rmp_serde::from_slice::<T>(&bytes).map_err(|e| e.to_string());
            let via_dict = rmp_serde::from_slice::<Dict>(&bytes)
                .map_err(|e| e.to_string())
                .and_then(|d| T::from_dict_for_test(d).map_err(|e| e.to_string()));
            assert_eq!(direct, via_dict, "{json} as MessagePack");
        }
    }

    trait FromDictForTest: Sized {
        fn from_dict_for_test(d: Dict) -> Result<Self, OptionError>;
    }
    impl FromDictForTest for CallOptions {
        fn from_dict_for_test(d: Dict) -> Result<Self, OptionError> {
            Self::from_dict(d)
        }
    }
    impl FromDictForTest for EventDetails {
        fn from_dict_for_test(d: Dict) -> Result<Self, OptionError> {
            Self::from_dict(d)
        }
    }
    impl FromDictForTest for RegisterOptions {
        fn from_dict_for_test(d: Dict) -> Result<Self, OptionError> {
            Self::from_dict(d)
        }
    }

    #[test]
    fn one_pass_decoding_is_from_dict() {
        for json in [
            r#"{}"#,
            r#"{"timeout": 500, "x_custom": "kept", "receive_progress": true}"#,
            r#"{"timeout": null}"#,
            r#"{"timeout": 5.0}"#,
            r#"{"timeout": -1}"#,
            r#"{"timeout": "soon"}"#,
            r#"{"timeout": 1, "timeout": 2}"#,
            r#"{"timeout": "bad", "timeout": 2}"#,
            r#"{"timeout": 2, "timeout": "bad"}"#,
            r#"{"x": 1, "x": {"nested": [1, 2]}}"#,
            r#"{"timeout": 7}"#,
            r#"{"publisher": 12, "topic": "com.a.b", "retained": true, "other": null}"#,
            r#"{"match": "prefix", "invoke": "roundrobin"}"#,
            r#"{"match": "fuzzy"}"#,
            r#"{"invoke": 3, "match": "fuzzy"}"#,
            r#"[]"#,
            r#""opts""#,
            r#"null"#,
            r#"{"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"#,
        ] {
            same_as_from_dict::<CallOptions>(json);
            same_as_from_dict::<EventDetails>(json);
            same_as_from_dict::<RegisterOptions>(json);
        }
    }

    #[test]
    fn keys_as_utf8_bytes_are_keys() {
        // MessagePack peers may send keys as binary; UTF-8 ones are read as text.
        // {bin "timeout": 9, bin "x_other": 1}: a map of two (0x82), each
        // key a bin 8 (0xc4, length), each value a positive fixint.
        let mut buf = vec![0x82, 0xc4, 7];
        buf.extend_from_slice(b"timeout");
        buf.extend_from_slice(&[0x09, 0xc4, 7]);
        buf.extend_from_slice(b"x_other");
        buf.push(0x01);
        let o: CallOptions = rmp_serde::from_slice(&buf).unwrap();
        assert_eq!(o.timeout, Some(9));
        assert_eq!(o.extra["x_other"], Value::UInt(1));
        let bad = [0x81, 0xc4, 2, 0xff, 0xfe, 0x01]; // a key of bytes that are not UTF-8
        assert!(rmp_serde::from_slice::<CallOptions>(&bad).is_err());
        assert!(rmp_serde::from_slice::<Dict>(&bad).is_err());
    }
}
