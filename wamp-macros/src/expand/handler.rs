//! Handlers: each method becomes one `Bindings::procedure`/`topic` call
//! whose closure binds the parameters and calls the method; sharing the
//! service, boxing, options and result mapping are the runtime's
//! (`wamp::__private`).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use wamp_uri::pattern::VarKind;
use wamp_uri::MatchPolicy;

use crate::model::{Kind, Method, Param, Return, Source};

/// How a handler is reached from the generated code.
#[derive(Clone, Copy)]
pub enum Target {
    /// `__this.method(..)`, `__this` being the shared service.
    This,
    /// `super::function(..)`.
    SuperFn,
}

/// Whether binding `params` takes from the `Extractor` (so `__x` must be `mut`).
pub fn reads_payload(params: &[Param]) -> bool {
    params.iter().any(|p| {
        matches!(
            p.source,
            Source::Positional | Source::Keyword { .. } | Source::Kwargs | Source::Input { .. }
        )
    })
}

/// `let name = ...?;` for every parameter, from the `Extractor` `__x`.
pub fn bind_params(kind: Kind, params: &[Param]) -> TokenStream {
    let stmts = params.iter().map(|p| {
        let (id, ty) = (&p.ident, &p.ty);
        let name = id.to_string();
        let name = name.trim_start_matches("r#");
        // Spanned at the type: a type that does not fit is reported where it is written.
        let expr = match &p.source {
            Source::Uri { index, kind } => {
                let f = match kind {
                    VarKind::Int => quote_spanned!(ty.span()=> uri_int),
                    VarKind::Str => quote_spanned!(ty.span()=> uri_component),
                    VarKind::Suffix => quote_spanned!(ty.span()=> uri_suffix),
                };
                quote_spanned!(ty.span()=> __x.#f::<#ty>(#index, #name))
            }
            Source::Positional => {
                quote_spanned!(ty.span()=> <#ty as ::wamp::__private::Wire>::positional(&mut __x, #name))
            }
            Source::Keyword { key } => {
                quote_spanned!(ty.span()=> <#ty as ::wamp::__private::Wire>::keyword(&mut __x, #name, #key))
            }
            Source::Kwargs => {
                quote_spanned!(ty.span()=> <#ty as ::wamp::__private::Wire>::kwargs(&mut __x, #name))
            }
            // Spanned at the item type: an item type that cannot travel is
            // reported there.
            Source::Input { item } => {
                quote_spanned!(item.span()=> __x.input(#name, <#item as ::wamp::__private::Wire>::decode))
            }
            Source::Inject => match kind {
                Kind::Procedure => quote_spanned!(ty.span()=> __x.inject::<#ty>()),
                Kind::Topic => quote_spanned!(ty.span()=> __x.inject_event::<#ty>()),
            },
        };
        quote!(let #id = #expr?;)
    });
    quote!(#(#stmts)*)
}

/// The register/subscribe option table: the attribute's options and the
/// match policy the URI implies.
pub fn option_table(m: &Method) -> TokenStream {
    let mut pairs: Vec<(String, String)> = Vec::new();
    if m.policy() != MatchPolicy::Exact {
        pairs.push(("match".into(), m.policy().as_str().into()));
    }
    pairs.extend(m.options.pairs.iter().cloned());
    let each = pairs.iter().map(|(k, v)| quote!((#k, #v)));
    quote!(&[#(#each),*])
}

fn invoke(m: &Method, target: Target) -> TokenStream {
    let ident = &m.ident;
    let args = m.params.iter().map(|p| &p.ident);
    let call = match target {
        Target::This => quote!(__this.#ident(#(#args),*)),
        Target::SuperFn => quote!(super::#ident(#(#args),*)),
    };
    if m.is_async {
        quote!(#call.await)
    } else {
        call
    }
}

/// What the handler's return value becomes: one runtime function per shape.
fn tail(m: &Method, call: TokenStream) -> TokenStream {
    match (&m.kind, &m.ret) {
        (Kind::Topic, Return::Result { .. }) => quote!(::wamp::__private::event_result(#call)),
        (Kind::Topic, _) => quote!(::wamp::__private::event_ok(#call)),
        (_, Return::Unit) => quote!(::wamp::__private::ok(#call)),
        // Spanned at the result type: a type that cannot be a result is
        // reported there.
        (_, Return::Plain(t)) => {
            quote_spanned!(t.span()=> <#t as ::wamp::service::IntoCallResult>::into_call_result(#call))
        }
        (_, Return::Result { ok: Some(t), .. }) => {
            quote_spanned!(t.span()=> ::wamp::__private::result(#call))
        }
        (_, Return::Result { ok: None, .. }) => quote!(::wamp::__private::result(#call)),
        // Items are encoded by `Wire::encode`, named at the item type.
        (_, Return::Stream { item, err }) => {
            let f = if err.is_some() {
                quote!(try_stream)
            } else {
                quote!(stream)
            };
            let enc = quote_spanned!(item.span()=> <#item as ::wamp::__private::Wire>::encode);
            quote!(::wamp::__private::#f(#call, __bound, #enc).await)
        }
        (_, Return::Progressive { item, .. }) => {
            let enc = quote_spanned!(item.span()=> <#item as ::wamp::__private::Wire>::encode);
            quote!(::wamp::__private::progressive(#call, __bound, #enc).await)
        }
    }
}

/// The `__b.procedure(..)`/`__b.topic(..)` statement of one method, given
/// `__s` (the shared service) and `__b` (the `Bindings`).
pub fn binding(m: &Method, target: Target) -> TokenStream {
    let wire = &m.uri.wire;
    let bind = bind_params(m.kind, &m.params);
    let call = tail(m, invoke(m, target));
    let table = option_table(m);
    let this = match target {
        Target::This => quote!(__this),
        Target::SuperFn => quote!(_),
    };
    let x = if reads_payload(&m.params) {
        quote!(mut __x)
    } else {
        quote!(__x)
    };
    let finish = if m.ret.is_stream() {
        quote!(let __bound = __x.finish()?;)
    } else {
        quote!(__x.finish()?;)
    };
    let add = match m.kind {
        Kind::Procedure => quote!(procedure),
        Kind::Topic => quote!(topic),
    };
    quote! {
        __b.#add(&__s, #wire, #table, |#this, #x| async move {
            #bind
            #finish
            #call
        });
    }
}
