//! The validated model of a service: what codegen works from. Codegen never
//! looks at the user's tokens again, only at this.

use proc_macro2::Span;
use syn::{Ident, Type, Visibility};

use wamp_uri::pattern::{UriPattern, VarKind};
use wamp_uri::MatchPolicy;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Procedure,
    Topic,
}

/// What a handler parameter is bound from.
#[derive(Debug, Clone)]
pub enum Source {
    Uri {
        index: usize,
        kind: VarKind,
    },
    Positional,
    Keyword {
        key: String,
    },
    Kwargs,
    /// Given by the session (`FromInvocation`/`FromEvent` decide what may be).
    Inject,
    /// The input stream, `Streaming<item>`: the items of the call's later
    /// chunks (progressive call invocations).
    Input {
        item: Box<Type>,
    },
}

#[derive(Debug, Clone)]
pub struct Param {
    pub ident: Ident,
    pub ty: Type,
    pub source: Source,
}

impl Param {
    /// Whether the caller supplies it (stubs take it as an argument).
    pub fn is_caller_supplied(&self) -> bool {
        !matches!(self.source, Source::Inject)
    }
}

#[derive(Debug, Clone)]
pub enum Return {
    /// `()` or no return type.
    Unit,
    /// `T`.
    Plain(Box<Type>),
    /// `Result<T, E>`; `ok` is `None` for `Result<(), E>`.
    Result { ok: Option<Box<Type>>, err: Box<Type> },
    /// `impl Stream<Item = T>` or `impl Stream<Item = Result<T, E>>`.
    Stream { item: Box<Type>, err: Option<Box<Type>> },
    /// `Progressive<T, F>` or `Progressive<T, F, E>`.
    Progressive {
        item: Box<Type>,
        fin: Box<Type>,
        err: Option<Box<Type>>,
    },
}

impl Return {
    /// Whether results stream (the stub returns a `CallStream`).
    pub fn is_stream(&self) -> bool {
        matches!(self, Return::Stream { .. } | Return::Progressive { .. })
    }
}

/// Register/subscribe options written in the attribute, as checked
/// `(key, value)` pairs, in the order written (the match policy implied by
/// a pattern is added by the expansion).
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub pairs: Vec<(String, String)>,
}

impl Options {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct Method {
    pub kind: Kind,
    pub ident: Ident,
    pub is_async: bool,
    pub uri: UriPattern,
    pub options: Options,
    pub params: Vec<Param>,
    pub ret: Return,
    pub span: Span,
}

impl Method {
    pub fn policy(&self) -> MatchPolicy {
        self.uri.policy
    }
}

/// Where the methods live.
#[derive(Debug, Clone)]
pub enum Form {
    /// `impl Catalog { ... }`: handlers are the inherent methods.
    Impl { self_ty: Box<Type> },
    /// `trait Catalog { ... }`: a shared definition; servers implement the trait.
    Trait,
    /// A free function.
    Function,
}

#[derive(Debug, Clone)]
pub struct Service {
    pub form: Form,
    /// The name users see (type or trait name, or function name).
    pub name: Ident,
    /// Visibility of generated items.
    pub vis: Visibility,
    pub methods: Vec<Method>,
}
