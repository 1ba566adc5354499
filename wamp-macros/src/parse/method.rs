//! A handler method (or free function) with a `#[wamp::procedure]` or
//! `#[wamp::topic]` attribute, parsed into a [`Method`].

use syn::spanned::Spanned;
use syn::{Attribute, FnArg, GenericArgument, Pat, PathArguments, ReturnType, Signature, Type};

use super::attr::{method_kind, take_param_attr, MethodArgs, ParamAttr};
use super::uri::{self, Policy, UriPattern};
use crate::ctxt::Ctxt;
use crate::model::{Inject, Kind, Method, Param, Return, Source};

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

fn inject_kind(ty: &Type) -> Option<Inject> {
    let seg = last_segment(ty)?;
    match seg.ident.to_string().as_str() {
        "InvocationDetails" => Some(Inject::InvocationDetails),
        "EventDetails" => Some(Inject::EventDetails),
        "ProgressSender" => Some(Inject::ProgressSender),
        "Session" => Some(Inject::Session),
        "Option" => {
            let inner = last_segment(single_generic(seg)?)?;
            (inner.ident == "ProgressSender").then_some(Inject::OptionProgressSender)
        }
        _ => None,
    }
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(t) if t.elems.is_empty())
}

fn parse_return(ret: &ReturnType) -> Return {
    let ty = match ret {
        ReturnType::Default => return Return::Unit,
        ReturnType::Type(_, ty) => ty.as_ref(),
    };
    if is_unit(ty) {
        return Return::Unit;
    }
    if let Some(seg) = last_segment(ty) {
        if seg.ident == "Result" {
            if let PathArguments::AngleBracketed(a) = &seg.arguments {
                if let (2, Some(GenericArgument::Type(ok)), Some(GenericArgument::Type(err))) =
                    (a.args.len(), a.args.first(), a.args.last())
                {
                    return Return::Result {
                        ok: (!is_unit(ok)).then(|| Box::new(ok.clone())),
                        err: Box::new(err.clone()),
                    };
                }
            }
        }
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
            let policy = match m.value().as_str() {
                "prefix" => Policy::Prefix,
                "wildcard" => Policy::Wildcard,
                _ => Policy::Exact,
            };
            if full.contains('<') {
                cx.error_spanned_by(
                    m,
                    "`match` is implied by pattern variables: remove it, or write a plain wire URI",
                );
                return None;
            }
            if let Err(e) = plain_uri(&full, policy) {
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
        None => match uri::parse(&full) {
            Ok(p) => p,
            Err(e) => {
                cx.error_spanned_by(&args.uri, format!("invalid URI pattern {full:?}: {e}"));
                return None;
            }
        },
    };

    if let Some(asyncness) = &sig.asyncness {
        let _ = asyncness;
    }
    if !sig.generics.params.is_empty() {
        cx.error_spanned_by(&sig.generics, "WAMP handlers cannot be generic");
    }

    let mut params = Vec::new();
    let mut position = 0;
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
                let source = match (var, attr, inject_kind(&ty)) {
                    (Some(v), None, _) => Source::Uri {
                        index: v.index,
                        kind: v.kind,
                    },
                    (Some(_), Some(_), _) => {
                        cx.error_spanned_by(
                            &ident,
                            format!("`{name}` is bound from the URI; it cannot also be a keyword argument"),
                        );
                        continue;
                    }
                    (None, Some(ParamAttr::Kwarg(key)), _) => Source::Keyword {
                        key: key
                            .map(|k| k.value())
                            .unwrap_or_else(|| name.trim_start_matches("r#").to_owned()),
                    },
                    (None, Some(ParamAttr::Kwargs), _) => Source::Kwargs,
                    (None, None, Some(inject)) => {
                        let fits = match kind {
                            Kind::Procedure => inject != Inject::EventDetails,
                            Kind::Topic => matches!(inject, Inject::EventDetails | Inject::Session),
                        };
                        if !fits {
                            cx.error_spanned_by(
                                &pt.ty,
                                match kind {
                                    Kind::Procedure => "a procedure gets `InvocationDetails` or a `ProgressSender`, not `EventDetails`",
                                    Kind::Topic => "a topic handler gets `EventDetails` or the `Session`; `InvocationDetails` and `ProgressSender` are for procedures",
                                },
                            );
                            continue;
                        }
                        Source::Inject(inject)
                    }
                    (None, None, None) => {
                        position += 1;
                        Source::Positional {
                            position: position - 1,
                        }
                    }
                };
                params.push(Param { ident, ty, source });
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
        ret: parse_return(&sig.output),
        span: sig.span(),
    })
}

/// Checks a URI written with an explicit `match`: empty components only for patterns.
fn plain_uri(uri: &str, policy: Policy) -> Result<(), String> {
    if uri.is_empty() {
        return Err("the URI is empty".into());
    }
    for c in uri.split('.') {
        if c.is_empty() && policy == Policy::Exact {
            return Err(format!(
                "invalid URI {uri:?}: empty component (allowed only with match = \"prefix\" or \"wildcard\")"
            ));
        }
        if c.chars().any(|ch| ch.is_whitespace() || ch == '#') {
            return Err(format!(
                "invalid URI {uri:?}: component {c:?} contains whitespace or '#'"
            ));
        }
    }
    Ok(())
}
