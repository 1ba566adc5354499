//! A handler method (or free function) with a `#[wamp::procedure]` or
//! `#[wamp::topic]` attribute, parsed into a [`Method`].

use syn::spanned::Spanned;
use syn::{Attribute, FnArg, GenericArgument, Pat, PathArguments, ReturnType, Signature, Type};

use wamp_uri::pattern::{self, UriPattern};
use wamp_uri::{MatchPolicy, UriRule};

use super::attr::{method_kind, take_param_attr, MethodArgs, ParamAttr};
use crate::ctxt::Ctxt;
use crate::model::{Kind, Method, Param, Return, Source};

/// Whether the handler takes `&self` (methods) or no receiver (free functions).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Receiver {
    RefSelf,
    None,
}

/// Joins a service prefix and a method URI: `com.myapp` + `add2` is
/// `com.myapp.add2`; a prefix ending in `.` is used as is.
fn join_prefix(prefix: Option<&str>, uri: &str) -> String {
    match prefix {
        None | Some("") => uri.to_owned(),
        Some(p) if p.ends_with('.') => format!("{p}{uri}"),
        Some(p) => format!("{p}.{uri}"),
    }
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(tp) if tp.qself.is_none() => tp.path.segments.last(),
        _ => None,
    }
}

fn single_generic(seg: &syn::PathSegment) -> Option<&Type> {
    match &seg.arguments {
        PathArguments::AngleBracketed(a) if a.args.len() == 1 => match &a.args[0] {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

/// The names of the types the session injects. A stub's signature is
/// decided here, from the tokens; whether the type really is injectable is
/// decided by the compiler, by the `FromInvocation`/`FromEvent` traits,
/// which report a type that is not (`#[wamp(arg)]` makes such a parameter
/// an argument). Paths into other modules (`crate::model::Session`) are
/// arguments without asking.
const INJECTED: [&str; 5] = [
    "InvocationDetails",
    "EventDetails",
    "ProgressSender",
    "Publication",
    "Session",
];

fn is_injected(ty: &Type) -> bool {
    let Type::Path(tp) = ty else { return false };
    if tp.qself.is_some() {
        return false;
    }
    let segs: Vec<String> = tp.path.segments.iter().map(|s| s.ident.to_string()).collect();
    let ours = match segs.as_slice() {
        [_] => true,
        [first, ..] => first == "wamp",
        [] => false,
    };
    let Some(seg) = tp.path.segments.last() else {
        return false;
    };
    match seg.ident.to_string().as_str() {
        // `Option<ProgressSender>`: progress only when the caller asked.
        "Option" => single_generic(seg)
            .is_some_and(|t| is_injected(t) && last_segment(t).is_some_and(|s| s.ident == "ProgressSender")),
        name => ours && INJECTED.contains(&name),
    }
}

/// A path naming one of the runtime's types: a bare name (imported) or a
/// path from `wamp`; its last segment.
fn our_type(ty: &Type) -> Option<&syn::PathSegment> {
    let Type::Path(tp) = ty else { return None };
    if tp.qself.is_some() {
        return None;
    }
    let segs = &tp.path.segments;
    let ours = segs.len() == 1 || segs.first().is_some_and(|s| s.ident == "wamp");
    segs.last().filter(|_| ours)
}

/// An input-stream parameter's type: `Streaming<T>` as `Some(Ok(T))`; a
/// misshapen one (no item type; the untyped `InputStream`) as
/// `Some(Err(..))`; anything else `None`.
fn input_item(ty: &Type) -> Option<Result<&Type, &'static str>> {
    let seg = our_type(ty)?;
    if seg.ident == "InputStream" && seg.arguments.is_none() {
        return Some(Err(
            "`InputStream` is the untyped input of handlers registered with `Session::register`: \
             a typed procedure takes its input stream as `wamp::service::Streaming<T>`, T the type of each item",
        ));
    }
    if seg.ident != "Streaming" {
        return None;
    }
    Some(
        single_generic(seg)
            .ok_or("write the item type: `Streaming<T>`, T the type of each item the caller streams in"),
    )
}

/// The source of a parameter `input_item` recognized; a misshapen one is
/// reported and bound as an argument (nothing is generated anyway).
fn input_source(cx: &Ctxt, ty: &Type) -> Source {
    match input_item(ty) {
        Some(Ok(item)) => Source::Input {
            item: Box::new(item.clone()),
        },
        Some(Err(msg)) => {
            cx.error_spanned_by(ty, msg);
            Source::Positional
        }
        None => Source::Positional,
    }
}

/// Gives a bare `Streaming` (reported by `input_source`) an item type, so
/// that the compiler does not report the same mistake a second time.
fn quiet_missing_item(ty: &mut Type) {
    if let Type::Path(tp) = ty {
        if let Some(seg) = tp.path.segments.last_mut() {
            if seg.ident == "Streaming" && seg.arguments.is_none() {
                seg.arguments = PathArguments::AngleBracketed(syn::parse_quote!(<()>));
            }
        }
    }
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(t) if t.elems.is_empty())
}

/// `Result<T, E>` as `(T, E)`.
fn result_parts(ty: &Type) -> Option<(&Type, &Type)> {
    let seg = last_segment(ty)?;
    if seg.ident != "Result" {
        return None;
    }
    match &seg.arguments {
        PathArguments::AngleBracketed(a) => match (a.args.len(), a.args.first(), a.args.last()) {
            (2, Some(GenericArgument::Type(ok)), Some(GenericArgument::Type(err))) => Some((ok, err)),
            _ => None,
        },
        _ => None,
    }
}

/// `impl Stream<Item = X>`: `Some(Ok(X))`; an `impl Stream` without an
/// item type: `Some(Err(..))`; anything else: `None`.
fn stream_item(ty: &Type) -> Option<Result<&Type, &'static str>> {
    let Type::ImplTrait(it) = ty else { return None };
    let stream = it.bounds.iter().find_map(|b| match b {
        syn::TypeParamBound::Trait(t) => t.path.segments.last().filter(|s| s.ident == "Stream"),
        _ => None,
    });
    let Some(seg) = stream else {
        return Some(Err(
            "a procedure returning `impl Trait` returns `impl Stream<Item = T>` (streaming results); \
             return a concrete type otherwise",
        ));
    };
    let item = match &seg.arguments {
        PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
            GenericArgument::AssocType(at) if at.ident == "Item" => Some(&at.ty),
            _ => None,
        }),
        _ => None,
    };
    Some(item.ok_or("write the item type: `impl Stream<Item = T>` or `impl Stream<Item = Result<T, E>>`"))
}

fn parse_return(cx: &Ctxt, kind: Kind, ret: &ReturnType) -> Return {
    let ty = match ret {
        ReturnType::Default => return Return::Unit,
        ReturnType::Type(_, ty) => ty.as_ref(),
    };
    if is_unit(ty) {
        return Return::Unit;
    }
    let streaming = |what: &str| {
        if kind == Kind::Topic {
            cx.error_spanned_by(
                ty,
                format!("a topic handler cannot return {what}: events have no result"),
            );
        }
    };
    if let Some(item) = stream_item(ty) {
        streaming("a stream");
        return match item {
            Ok(item) => match result_parts(item) {
                Some((ok, err)) => Return::Stream {
                    item: Box::new(ok.clone()),
                    err: Some(Box::new(err.clone())),
                },
                None => Return::Stream {
                    item: Box::new(item.clone()),
                    err: None,
                },
            },
            Err(msg) => {
                cx.error_spanned_by(ty, msg);
                Return::Unit
            }
        };
    }
    if let Some(seg) = last_segment(ty).filter(|s| s.ident == "Progressive") {
        streaming("a `Progressive`");
        let tys: Vec<&Type> = match &seg.arguments {
            PathArguments::AngleBracketed(a) => a
                .args
                .iter()
                .filter_map(|g| match g {
                    GenericArgument::Type(t) => Some(t),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        return match tys.as_slice() {
            [item, fin] | [item, fin, _] if result_parts(fin).is_some() => {
                cx.error_spanned_by(
                    fin,
                    "the final value of a `Progressive` is not a `Result`: write the error type third, \
                     `Progressive<T, F, E>`, and build it with `Progressive::try_new`",
                );
                let _ = item;
                Return::Unit
            }
            [item, fin] => Return::Progressive {
                item: Box::new((*item).clone()),
                fin: Box::new((*fin).clone()),
                err: None,
            },
            [item, fin, err] => Return::Progressive {
                item: Box::new((*item).clone()),
                fin: Box::new((*fin).clone()),
                err: Some(Box::new((*err).clone())),
            },
            _ => {
                cx.error_spanned_by(
                    seg,
                    "`Progressive` takes the item type and the final type (and an error type): `Progressive<T, F>`",
                );
                Return::Unit
            }
        };
    }
    if let Some((ok, err)) = result_parts(ty) {
        if stream_item(ok).is_some() || last_segment(ok).is_some_and(|s| s.ident == "Progressive") {
            cx.error_spanned_by(
                ok,
                "a stream cannot be inside a `Result`: return `impl Stream<Item = Result<T, E>>`, \
                 or a `Progressive<T, F, E>` built with `Progressive::try_new`",
            );
            return Return::Unit;
        }
        return Return::Result {
            ok: (!is_unit(ok)).then(|| Box::new(ok.clone())),
            err: Box::new(err.clone()),
        };
    }
    Return::Plain(Box::new(ty.clone()))
}

/// Takes the `#[wamp::procedure]`/`#[wamp::topic]` attribute out of `attrs`.
pub fn take_method_attr(cx: &Ctxt, attrs: &mut Vec<Attribute>) -> Option<(Kind, Attribute)> {
    let mut found: Option<(Kind, Attribute)> = None;
    let mut keep = Vec::new();
    for attr in attrs.drain(..) {
        match method_kind(&attr) {
            Some(kind) => {
                if found.is_some() {
                    cx.error_spanned_by(&attr, "a method can be one procedure or one topic, not several");
                } else {
                    found = Some((kind, attr));
                }
            }
            None => keep.push(attr),
        }
    }
    *attrs = keep;
    found
}

/// Parses one handler; `None` if it is unusable (errors recorded).
pub fn parse(
    cx: &Ctxt,
    kind: Kind,
    attr_tokens: proc_macro2::TokenStream,
    attr_span: &dyn quote::ToTokens,
    prefix: Option<&str>,
    sig: &mut Signature,
    receiver: Receiver,
) -> Option<Method> {
    let args = MethodArgs::parse(cx, kind, attr_span, attr_tokens)?;
    let full = join_prefix(prefix, &args.uri.value());
    let uri = match &args.match_policy {
        Some(m) => {
            let policy = MatchPolicy::parse(&m.value()).unwrap_or_default();
            if full.contains('<') {
                cx.error_spanned_by(
                    m,
                    "`match` is implied by pattern variables: remove it, or write a plain wire URI",
                );
                return None;
            }
            if let Err(e) = wamp_uri::validate_pattern(&full, policy, UriRule::Loose) {
                cx.error_spanned_by(&args.uri, e);
                return None;
            }
            UriPattern {
                pattern: full.clone(),
                wire: full.clone(),
                policy,
                vars: Vec::new(),
                format: full.replace('{', "{{").replace('}', "}}"),
            }
        }
        None => match pattern::parse(&full) {
            Ok(p) => p,
            Err(e) => {
                cx.error_spanned_by(&args.uri, format!("invalid URI pattern {full:?}: {e}"));
                return None;
            }
        },
    };

    if !sig.generics.params.is_empty() {
        cx.error_spanned_by(&sig.generics, "WAMP handlers cannot be generic");
    }

    let mut params = Vec::new();
    let mut saw_receiver = false;
    for (i, input) in sig.inputs.iter_mut().enumerate() {
        match input {
            FnArg::Receiver(r) => {
                saw_receiver = true;
                if receiver == Receiver::None {
                    cx.error_spanned_by(&*r, "a free function handler has no `self`");
                } else if r.reference.is_none() || r.mutability.is_some() {
                    cx.error_spanned_by(
                        &*r,
                        "WAMP handlers take `&self`: a service is shared by concurrent invocations (use interior mutability for state)",
                    );
                }
            }
            FnArg::Typed(pt) => {
                if i == 0 && receiver == Receiver::RefSelf {
                    cx.error_spanned_by(&*pt, "a service method takes `&self` first");
                }
                let attr = take_param_attr(cx, &mut pt.attrs);
                let Pat::Ident(pi) = pt.pat.as_ref() else {
                    cx.error_spanned_by(
                        &pt.pat,
                        "use a plain parameter name here: it names the argument on the wire",
                    );
                    continue;
                };
                let ident = pi.ident.clone();
                let name = ident.to_string();
                let ty = (*pt.ty).clone();
                let var = uri.vars.iter().find(|v| v.name == name.trim_start_matches("r#"));
                let misshapen_input =
                    var.is_none() && attr.is_none() && matches!(input_item(&ty), Some(Err(_)));
                let source = match (var, attr) {
                    (Some(v), None) => Source::Uri {
                        index: v.index,
                        kind: v.kind,
                    },
                    (Some(v), Some(_)) => {
                        cx.error_spanned_by(
                            &ident,
                            format!("`{name}` is bound from the URI; remove its #[wamp(...)] attribute"),
                        );
                        Source::Uri {
                            index: v.index,
                            kind: v.kind,
                        }
                    }
                    (None, Some(ParamAttr::Kwarg(key))) => Source::Keyword {
                        key: key
                            .map(|k| k.value())
                            .unwrap_or_else(|| name.trim_start_matches("r#").to_owned()),
                    },
                    (None, Some(ParamAttr::Kwargs)) => Source::Kwargs,
                    (None, None) if input_item(&ty).is_some() => input_source(cx, &ty),
                    (None, None) if is_injected(&ty) => Source::Inject,
                    (None, None | Some(ParamAttr::Arg)) => Source::Positional,
                };
                params.push(Param { ident, ty, source });
                if misshapen_input {
                    quiet_missing_item(&mut pt.ty);
                }
            }
        }
    }
    if receiver == Receiver::RefSelf && !saw_receiver {
        cx.error_spanned_by(
            &sig.ident,
            "a service method takes `&self` first (associated functions cannot be handlers)",
        );
    }
    for v in &uri.vars {
        if !params
            .iter()
            .any(|p| p.ident.to_string().trim_start_matches("r#") == v.name)
        {
            cx.error_spanned_by(
                &args.uri,
                format!(
                    "pattern variable `{}` has no parameter named `{}`",
                    v.name, v.name
                ),
            );
        }
    }
    Some(Method {
        kind,
        ident: sig.ident.clone(),
        is_async: sig.asyncness.is_some(),
        uri,
        options: args.options,
        params,
        ret: parse_return(cx, kind, &sig.output),
        span: sig.span(),
    })
}
