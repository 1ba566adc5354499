//! URI rules of the WAMP specification ("URIs", "Relaxed/Loose URIs"): the
//! workspace's one URI grammar, `wamp-uri`, which the `wamp` macros use too.
//! And [`Uri`], a URI as a session hands it to an application: shared, so
//! that giving each event its topic copies nothing.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

pub use wamp_uri::{
    is_router_namespace, validate, validate_pattern, wildcard_matches, InvalidUri, MatchPolicy, UriRule,
};

/// A URI received from the router: an event's topic, an invocation's
/// procedure. Cloning it shares the text (a reference count), so a session
/// hands the same topic to every event of a subscription without copying
/// or allocating it, and without freeing it on another thread.
///
/// It reads as a `&str` (it dereferences to one, and compares with `str`,
/// `&str` and `String` either way round), prints as its text and
/// serializes as a string.
///
/// ```
/// use wamp_proto::uri::Uri;
///
/// let topic = Uri::from("com.myapp.topic1");
/// let shared = topic.clone(); // no copy of the text
/// assert_eq!(shared, "com.myapp.topic1");
/// assert!(topic.starts_with("com.myapp."));
/// assert_eq!(topic.split('.').last(), Some("topic1"));
/// let owned: String = topic.into();
/// assert_eq!(owned, "com.myapp.topic1");
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uri(Arc<str>);

impl Uri {
    /// The URI's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Uri {
    /// The empty URI.
    fn default() -> Self {
        Uri(Arc::from(""))
    }
}

impl Deref for Uri {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Uri {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Uri {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl From<&str> for Uri {
    fn from(s: &str) -> Self {
        Uri(Arc::from(s))
    }
}

impl From<String> for Uri {
    fn from(s: String) -> Self {
        Uri(Arc::from(s))
    }
}

impl From<&String> for Uri {
    fn from(s: &String) -> Self {
        Uri(Arc::from(s.as_str()))
    }
}

impl From<Arc<str>> for Uri {
    fn from(s: Arc<str>) -> Self {
        Uri(s)
    }
}

impl From<Uri> for String {
    fn from(u: Uri) -> Self {
        String::from(&*u.0)
    }
}

impl From<Uri> for Arc<str> {
    fn from(u: Uri) -> Self {
        u.0
    }
}

/// `Uri == "text"` and `"text" == Uri`, for each way of holding text.
macro_rules! eq_text {
    ($($t:ty),*) => {$(
        impl PartialEq<$t> for Uri {
            fn eq(&self, other: &$t) -> bool {
                *self.0 == **other
            }
        }
        impl PartialEq<Uri> for $t {
            fn eq(&self, other: &Uri) -> bool {
                **self == *other.0
            }
        }
    )*};
}
eq_text!(&str, String);

impl PartialEq<str> for Uri {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<Uri> for str {
    fn eq(&self, other: &Uri) -> bool {
        *self == *other.0
    }
}

impl serde::Serialize for Uri {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Uri {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Uri::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_uri_compares_reads_and_serializes_as_its_text() {
        let u = Uri::from("com.myapp.topic1");
        let same = Uri::from(String::from("com.myapp.topic1"));
        assert_eq!(u, same);
        assert_eq!(u, "com.myapp.topic1");
        assert_eq!("com.myapp.topic1", u);
        assert_eq!(u, String::from("com.myapp.topic1"));
        assert_eq!(String::from("com.myapp.topic1"), u);
        assert!(u == *"com.myapp.topic1");
        assert!(*"com.myapp.topic1" == u);
        assert_ne!(u, "com.myapp.topic2");
        assert_eq!(u.as_str(), "com.myapp.topic1");
        assert_eq!(u.to_string(), "com.myapp.topic1");
        assert_eq!(format!("{u:?}"), "\"com.myapp.topic1\"");
        assert_eq!(serde_json::to_string(&u).unwrap(), "\"com.myapp.topic1\"");
        assert_eq!(serde_json::from_str::<Uri>("\"com.myapp.topic1\"").unwrap(), u);
        assert_eq!(String::from(u.clone()), "com.myapp.topic1");
        assert!(Uri::default().is_empty());
        // A clone shares the text rather than copying it.
        assert!(std::ptr::eq(u.as_str(), u.clone().as_str()));
        let mut set = std::collections::HashSet::new();
        set.insert(u.clone());
        assert!(set.contains("com.myapp.topic1"));
    }

    proptest! {
        #[test]
        fn strict_implies_loose(uri in "[a-z0-9_]{1,5}(\\.[a-z0-9_]{1,5}){0,4}") {
            prop_assert!(validate(&uri, UriRule::Strict, false).is_ok());
            prop_assert!(validate(&uri, UriRule::Loose, false).is_ok());
        }

        #[test]
        fn a_uri_matches_itself_under_every_policy(uri in "[a-z]{1,4}(\\.[a-z]{1,4}){0,4}") {
            for p in [MatchPolicy::Exact, MatchPolicy::Prefix, MatchPolicy::Wildcard] {
                prop_assert!(p.matches(&uri, &uri));
            }
        }

        #[test]
        fn validate_never_panics(s in "\\PC{0,40}") {
            let _ = validate(&s, UriRule::Loose, true);
            let _ = validate(&s, UriRule::Strict, false);
        }
    }
}
