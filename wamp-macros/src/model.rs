//! The validated model of a service: what codegen works from. Codegen never
//! looks at the user's tokens again, only at this.

use proc_macro2::Span;
use syn::{Ident, Type, Visibility};

use crate::parse::uri::{Policy, UriPattern, VarKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Procedure,
    Topic,
}

/// What a handler parameter is bound from.
#[derive(Debug, Clone)]
pub enum Source {
    Uri { index: usize, kind: VarKind },
    Positional { position: usize },
    Keyword { key: String },
    Kwargs,
    Inject(Inject),
}

/// Values injected by type rather than taken from the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inject {
    InvocationDetails,
    EventDetails,
    ProgressSender,
    OptionProgressSender,
    Session,
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
        !matches!(self.source, Source::Inject(_))
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
}

/// Register/subscribe options written in the attribute.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub invoke: Option<String>,
    pub concurrency: Option<u64>,
    pub disclose_caller: Option<bool>,
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
    pub fn policy(&self) -> Policy {
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
