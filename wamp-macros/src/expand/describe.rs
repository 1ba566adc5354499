//! `Service::describe`: URIs and JSON Schemas of every signature, built by
//! runtime constructors from a few literals and schema calls.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::model::{Kind, Method, Return, Service, Source};

fn parameters(m: &Method) -> TokenStream {
    let params = m.params.iter().filter(|p| p.is_caller_supplied()).map(|p| {
        let ty = &p.ty;
        let name = match &p.source {
            Source::Keyword { key } => key.clone(),
            _ => p.ident.to_string().trim_start_matches("r#").to_owned(),
        };
        let wire = quote_spanned!(ty.span()=> <#ty as ::wamp::__private::Wire>::schema());
        let (source, schema) = match &p.source {
            Source::Uri { .. } => (quote!(Uri), quote!(::wamp::__private::schema_of::<#ty>())),
            Source::Positional => (quote!(Positional), wire),
            Source::Keyword { .. } => (quote!(Keyword), wire),
            Source::Kwargs => (quote!(Kwargs), wire),
            Source::Input { item } => (
                quote!(Input),
                quote_spanned!(item.span()=> <#item as ::wamp::__private::Wire>::schema()),
            ),
            Source::Inject => unreachable!("filtered above"),
        };
        quote!(::wamp::__private::param(#name, ::wamp::service::ParameterSource::#source, #schema))
    });
    quote!([#(#params),*])
}

fn schema(t: &syn::Type) -> TokenStream {
    quote!(::wamp::__private::schema_of::<#t>())
}

fn procedure(m: &Method) -> TokenStream {
    let name = m.ident.to_string();
    let (uri, wire, policy) = (&m.uri.pattern, &m.uri.wire, m.policy().as_str());
    let invoke = m.options.get("invoke").unwrap_or("");
    let params = parameters(m);
    let unit = quote!(::wamp::__private::schema_of::<()>());
    let none = quote!(::std::option::Option::None);
    let (result, progress) = match &m.ret {
        Return::Unit | Return::Result { ok: None, .. } => (unit, none),
        Return::Plain(t) | Return::Result { ok: Some(t), .. } => (schema(t), none),
        Return::Stream { item, .. } => {
            let i = quote_spanned!(item.span()=> <#item as ::wamp::__private::Wire>::schema());
            (unit, quote!(::std::option::Option::Some(#i)))
        }
        Return::Progressive { item, fin, .. } => {
            let i = quote_spanned!(item.span()=> <#item as ::wamp::__private::Wire>::schema());
            (schema(fin), quote!(::std::option::Option::Some(#i)))
        }
    };
    let errors = match &m.ret {
        Return::Result { err, .. }
        | Return::Stream { err: Some(err), .. }
        | Return::Progressive { err: Some(err), .. } => {
            quote!(<#err as ::wamp::__private::WampError>::describe_errors())
        }
        _ => quote!(::std::vec::Vec::new()),
    };
    quote! {
        ::wamp::__private::procedure_description(#name, #uri, #wire, #policy, #invoke, #params, #result, #progress, #errors)
    }
}

fn topic(m: &Method) -> TokenStream {
    let name = m.ident.to_string();
    let (uri, wire, policy) = (&m.uri.pattern, &m.uri.wire, m.policy().as_str());
    let params = parameters(m);
    quote!(::wamp::__private::topic_description(#name, #uri, #wire, #policy, #params))
}

/// The body of `fn describe() -> ServiceDescription`.
pub fn describe(s: &Service) -> TokenStream {
    let name = s.name.to_string();
    let procedures = s
        .methods
        .iter()
        .filter(|m| m.kind == Kind::Procedure)
        .map(procedure);
    let topics = s.methods.iter().filter(|m| m.kind == Kind::Topic).map(topic);
    quote! {
        ::wamp::__private::service_description(#name, [#(#procedures),*], [#(#topics),*])
    }
}
