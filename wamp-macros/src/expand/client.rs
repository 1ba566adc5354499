//! Typed caller stubs: one method per procedure (returning a `TypedCall`
//! or a `CallStream`), `publish_*` and `subscribe_*` per topic, each a
//! chain of runtime calls.

use proc_macro2::{Ident, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::expand::handler::{bind_params, option_table, reads_payload};
use crate::model::{Kind, Method, Param, Return, Source};

/// The concrete URI: the wire URI, or the pattern with its variables
/// formatted in.
fn uri_expr(m: &Method) -> TokenStream {
    if m.uri.vars.is_empty() {
        let wire = &m.uri.wire;
        return quote!(#wire);
    }
    let format = &m.uri.format;
    let vars = m.uri.vars.iter().map(|v| {
        let p = m
            .params
            .iter()
            .find(|p| p.ident.to_string().trim_start_matches("r#") == v.name)
            .expect("checked in parsing");
        &p.ident
    });
    quote!(::std::format!(#format, #(#vars),*))
}

/// `.arg(..)`, `.kwarg(..)`, `.kwargs(..)` for each caller-supplied payload parameter.
fn payload(params: &[Param]) -> TokenStream {
    let steps = params.iter().filter_map(|p| {
        let (id, ty) = (&p.ident, &p.ty);
        let encode = quote_spanned!(ty.span()=> <#ty as ::wamp::__private::Wire>::encode(&#id));
        match &p.source {
            Source::Positional => Some(quote!(.arg(#encode))),
            Source::Keyword { key } => Some(quote!(.kwarg(#key, #encode))),
            Source::Kwargs => Some(quote!(.kwargs(#encode))),
            Source::Input { item } => {
                let encode = quote_spanned!(item.span()=> <#item as ::wamp::__private::Wire>::encode);
                Some(quote!(.input(#id, #encode)))
            }
            Source::Uri { .. } | Source::Inject => None,
        }
    });
    quote!(#(#steps)*)
}

/// Arguments of a stub method: the caller-supplied parameters.
pub fn args_of(m: &Method) -> Vec<TokenStream> {
    m.params
        .iter()
        .filter(|p| p.is_caller_supplied())
        .map(|p| {
            let (id, ty) = (&p.ident, &p.ty);
            match &p.source {
                Source::Input { item } => quote!(
                    #id: impl ::wamp::service::Stream<Item = #item> + ::std::marker::Send + 'static
                ),
                _ => quote!(#id: #ty),
            }
        })
        .collect()
}

fn infallible() -> TokenStream {
    quote!(::std::convert::Infallible)
}

/// The return type of a procedure's stub.
pub fn stub_type(m: &Method) -> TokenStream {
    let err = |e: &Option<Box<syn::Type>>| e.as_ref().map(|e| quote!(#e)).unwrap_or_else(infallible);
    match &m.ret {
        Return::Unit => {
            let e = infallible();
            quote!(::wamp::service::TypedCall<(), #e>)
        }
        Return::Plain(t) => {
            let e = infallible();
            quote!(::wamp::service::TypedCall<#t, #e>)
        }
        Return::Result { ok, err } => {
            let ok = ok.as_ref().map(|t| quote!(#t)).unwrap_or_else(|| quote!(()));
            quote!(::wamp::service::TypedCall<#ok, #err>)
        }
        Return::Stream { item, err: e } => {
            let e = err(e);
            quote!(::wamp::service::CallStream<#item, (), #e>)
        }
        Return::Progressive { item, fin, err: e } => {
            let e = err(e);
            quote!(::wamp::service::CallStream<#item, #fin, #e>)
        }
    }
}

/// The body of a procedure's stub, calling through `stub` (a `Stub`).
pub fn call_body(m: &Method, stub: TokenStream) -> TokenStream {
    let uri = uri_expr(m);
    let steps = payload(&m.params);
    let how = match &m.ret {
        Return::Stream { .. } => quote!(items),
        Return::Progressive { .. } => quote!(stream),
        _ => quote!(call),
    };
    quote!(#stub.#how(#uri)#steps)
}

/// The body of a topic's publish stub.
pub fn publish_body(m: &Method, stub: TokenStream) -> TokenStream {
    let uri = uri_expr(m);
    let steps = payload(&m.params);
    quote!(#stub.publish(#uri)#steps)
}

/// The body of a topic's subscribe stub, with events bound to `event`.
pub fn subscribe_body(m: &Method, stub: TokenStream, event: &Ident) -> TokenStream {
    let wire = &m.uri.wire;
    let table = option_table(m);
    quote!(#stub.subscribe(#wire, #table, #event::bind).await)
}

/// The typed event struct of a topic and its binding.
pub fn event_type(m: &Method, vis: &syn::Visibility, name: &Ident) -> TokenStream {
    let fields: Vec<Param> = m
        .params
        .iter()
        .filter(|p| p.is_caller_supplied())
        .cloned()
        .collect();
    let decls = fields.iter().map(|p| {
        let (id, ty) = (&p.ident, &p.ty);
        let doc = format!("The `{}` parameter.", id.to_string().trim_start_matches("r#"));
        quote!(#[doc = #doc] pub #id: #ty)
    });
    let idents = fields.iter().map(|p| &p.ident);
    let bind = bind_params(Kind::Topic, &fields);
    let x = if reads_payload(&fields) {
        quote!(mut __x)
    } else {
        quote!(__x)
    };
    let doc = format!("A typed event of topic `{}`.", m.uri.pattern);
    quote! {
        #[doc = #doc]
        #[derive(::std::fmt::Debug, ::std::clone::Clone)]
        #vis struct #name { #(#decls,)* }

        impl #name {
            /// Binds an event's URI components and payload.
            #vis fn bind(#x: ::wamp::__private::Extractor) -> ::std::result::Result<Self, ::wamp::ApplicationError> {
                #bind
                __x.finish()?;
                ::std::result::Result::Ok(#name { #(#idents),* })
            }
        }
    }
}
