//! Typed caller stubs: one async method per procedure, a publish method
//! and a typed subscribe per topic.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::expand::handler::bind_params;
use crate::model::{Method, Param, Return, Source};

/// The concrete URI: the wire URI, or the pattern with its variables
/// formatted in.
fn uri_expr(m: &Method, params: &[Param]) -> TokenStream {
    if m.uri.vars.is_empty() {
        let wire = &m.uri.wire;
        return quote!(::std::string::String::from(#wire));
    }
    let format = &m.uri.format;
    let vars = m.uri.vars.iter().map(|v| {
        let p = params
            .iter()
            .find(|p| p.ident.to_string().trim_start_matches("r#") == v.name)
            .expect("checked in parsing");
        &p.ident
    });
    quote!(::std::format!(#format, #(#vars),*))
}

fn payload(params: &[Param], target: &Ident) -> TokenStream {
    let mut steps = Vec::new();
    for p in params {
        let id = &p.ident;
        // Spanned at the type: an unserializable type is reported where it is written.
        let span = p.ty.span();
        match &p.source {
            Source::Positional { .. } => steps.push(quote_spanned!(span=> let #target = #target.arg(&#id);)),
            Source::Keyword { key } => {
                steps.push(quote_spanned!(span=> let #target = #target.kwarg(#key, &#id);))
            }
            Source::Kwargs => steps.push(quote_spanned!(span=> let #target = #target.kwargs_from(&#id);)),
            Source::Uri { .. } | Source::Inject(_) => {}
        }
    }
    quote!(#(#steps)*)
}

/// Arguments of a stub method: the caller-supplied parameters.
fn stub_args(m: &Method) -> Vec<TokenStream> {
    m.params
        .iter()
        .filter(|p| p.is_caller_supplied())
        .map(|p| {
            let (id, ty) = (&p.ident, &p.ty);
            quote!(#id: #ty)
        })
        .collect()
}

/// `(ok type, error type)` of a procedure's stub.
pub fn stub_types(m: &Method) -> (TokenStream, TokenStream) {
    match &m.ret {
        Return::Unit => (quote!(()), quote!(::std::convert::Infallible)),
        Return::Plain(t) => (quote!(#t), quote!(::std::convert::Infallible)),
        Return::Result { ok: None, err } => (quote!(()), quote!(#err)),
        Return::Result { ok: Some(t), err } => (quote!(#t), quote!(#err)),
    }
}

/// Body of a stub calling procedure `m` on `session` (with `timeout`).
pub fn call_body(m: &Method, session: TokenStream, timeout: TokenStream) -> TokenStream {
    let uri = uri_expr(m, &m.params);
    let c = format_ident!("__call");
    let steps = payload(&m.params, &c);
    let (ok, err) = stub_types(m);
    quote! {
        let #c = #session.call(#uri);
        #steps
        // Absent optional parameters at the end are not sent: callee defaults apply.
        let #c = #c.trim_trailing_nulls();
        let #c = match #timeout {
            ::std::option::Option::Some(t) => #c.timeout(t),
            ::std::option::Option::None => #c,
        };
        // Only the awaited call (a `CallFuture`, a few words) is kept
        // across the await, not the builder: the stub's future stays small.
        ::wamp::__private::typed_call::<#ok, #err>(::std::future::IntoFuture::into_future(#c)).await
    }
}

/// Body of a stub publishing to topic `m` on `session`.
pub fn publish_body(m: &Method, session: TokenStream) -> TokenStream {
    let uri = uri_expr(m, &m.params);
    let c = format_ident!("__publish");
    let steps = payload(&m.params, &c);
    quote! {
        let #c = #session.publish(#uri);
        #steps
        #c.await.map(|_| ())
    }
}

/// The typed event struct of a topic and its decoder.
pub fn event_type(m: &Method, vis: &syn::Visibility, name: &Ident) -> TokenStream {
    let fields: Vec<&Param> = m.params.iter().filter(|p| p.is_caller_supplied()).collect();
    let decls = fields.iter().map(|p| {
        let (id, ty) = (&p.ident, &p.ty);
        let doc = format!(
            "The `{}` parameter of the event.",
            id.to_string().trim_start_matches("r#")
        );
        quote!(#[doc = #doc] pub #id: #ty)
    });
    let idents = fields.iter().map(|p| &p.ident);
    let owned: Vec<Param> = fields.iter().map(|p| (*p).clone()).collect();
    let bind = bind_params(m, &owned);
    let doc = format!("A typed event of topic `{}`.", m.uri.pattern);
    quote! {
        #[doc = #doc]
        #[derive(::std::fmt::Debug, ::std::clone::Clone)]
        #vis struct #name { #(#decls,)* }

        impl #name {
            /// Binds the event's URI components and payload.
            #vis fn from_event(__ev: ::wamp::Event) -> ::std::result::Result<Self, ::wamp::ApplicationError> {
                let ::wamp::Event { topic: __uri, args: __args, kwargs: __kwargs, .. } = __ev;
                let mut __x = ::wamp::__private::Extractor::new(__uri, __args, __kwargs);
                #bind
                __x.finish()?;
                ::std::result::Result::Ok(#name { #(#idents),* })
            }
        }
    }
}

/// Subscribe body returning a typed subscription of `event` structs.
pub fn subscribe_body(m: &Method, session: TokenStream, event: &Ident) -> TokenStream {
    let wire = &m.uri.wire;
    let policy = match m.policy() {
        crate::parse::uri::Policy::Exact => quote!(),
        crate::parse::uri::Policy::Prefix => {
            quote!(__options.match_policy = ::std::option::Option::Some(::wamp::MatchPolicy::Prefix);)
        }
        crate::parse::uri::Policy::Wildcard => {
            quote!(__options.match_policy = ::std::option::Option::Some(::wamp::MatchPolicy::Wildcard);)
        }
    };
    quote! {
        let mut __options = ::wamp::SubscribeOptions::default();
        #policy
        let __sub = #session.subscribe(#wire, __options).await?;
        ::std::result::Result::Ok(::wamp::service::TypedSubscription::new(__sub, #event::from_event))
    }
}

/// Stub method signatures' arguments (re-exported for the module form).
pub fn args_of(m: &Method) -> Vec<TokenStream> {
    stub_args(m)
}
