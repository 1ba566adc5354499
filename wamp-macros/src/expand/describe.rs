//! `Service::describe`: URIs and JSON Schemas of every signature.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{Kind, Method, Return, Service, Source};

fn parameters(m: &Method) -> TokenStream {
    let params = m.params.iter().filter(|p| p.is_caller_supplied()).map(|p| {
        let name = p.ident.to_string();
        let name = name.trim_start_matches("r#");
        let ty = &p.ty;
        let (source, position) = match &p.source {
            Source::Uri { .. } => (quote!(Uri), quote!(::std::option::Option::None)),
            Source::Positional { position } => {
                (quote!(Positional), quote!(::std::option::Option::Some(#position)))
            }
            Source::Keyword { .. } => (quote!(Keyword), quote!(::std::option::Option::None)),
            Source::Kwargs => (quote!(Kwargs), quote!(::std::option::Option::None)),
            Source::Inject(_) => unreachable!("filtered above"),
        };
        let name = match &p.source {
            Source::Keyword { key } => key.clone(),
            _ => name.to_owned(),
        };
        quote! {
            ::wamp::service::ParameterDescription {
                name: ::std::string::String::from(#name),
                source: ::wamp::service::ParameterSource::#source,
                position: #position,
                schema: ::wamp::__private::schema_of::<#ty>(),
            }
        }
    });
    quote!(::std::vec![#(#params),*])
}

fn procedure(m: &Method) -> TokenStream {
    let name = m.ident.to_string();
    let (uri, wire, policy) = (&m.uri.pattern, &m.uri.wire, m.policy().as_str());
    let invoke = match &m.options.invoke {
        Some(i) => quote!(::std::option::Option::Some(::std::string::String::from(#i))),
        None => quote!(::std::option::Option::None),
    };
    let params = parameters(m);
    let (result, errors) = match &m.ret {
        Return::Unit | Return::Result { ok: None, .. } => {
            (quote!(::wamp::__private::schema_of::<()>()), None)
        }
        Return::Plain(t) | Return::Result { ok: Some(t), .. } => {
            (quote!(::wamp::__private::schema_of::<#t>()), None)
        }
    };
    let _: Option<()> = errors;
    let errors = match &m.ret {
        Return::Result { err, .. } => quote!(<#err as ::wamp::__private::WampError>::describe_errors()),
        _ => quote!(::std::vec::Vec::new()),
    };
    quote! {
        ::wamp::service::ProcedureDescription {
            name: ::std::string::String::from(#name),
            uri: ::std::string::String::from(#uri),
            wire_uri: ::std::string::String::from(#wire),
            match_policy: ::std::string::String::from(#policy),
            invoke: #invoke,
            parameters: #params,
            result: #result,
            errors: #errors,
        }
    }
}

fn topic(m: &Method) -> TokenStream {
    let name = m.ident.to_string();
    let (uri, wire, policy) = (&m.uri.pattern, &m.uri.wire, m.policy().as_str());
    let params = parameters(m);
    quote! {
        ::wamp::service::TopicDescription {
            name: ::std::string::String::from(#name),
            uri: ::std::string::String::from(#uri),
            wire_uri: ::std::string::String::from(#wire),
            match_policy: ::std::string::String::from(#policy),
            parameters: #params,
        }
    }
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
        ::wamp::ServiceDescription {
            name: ::std::string::String::from(#name),
            procedures: ::std::vec![#(#procedures),*],
            topics: ::std::vec![#(#topics),*],
        }
    }
}
