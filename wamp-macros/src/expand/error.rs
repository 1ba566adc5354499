//! `#[derive(WampError)]`: each enum variant maps to an error URI, tuple
//! fields to positional arguments and named fields to keyword arguments, in
//! both directions, with JSON Schemas of the payloads.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Fields, LitStr};

use crate::ctxt::Ctxt;

fn variant_uri(cx: &Ctxt, attrs: &[syn::Attribute], span: &dyn quote::ToTokens) -> Option<LitStr> {
    let mut uri = None;
    let mut written = false;
    for attr in attrs.iter().filter(|a| a.path().is_ident("wamp")) {
        let res = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("uri") {
                let s: LitStr = meta.value()?.parse()?;
                written = true;
                if uri.is_some() {
                    return Err(meta.error("`uri` is given twice: keep one"));
                }
                // The rule a callee's error URI is checked with on the wire.
                if let Err(e) = wamp_uri::validate(&s.value(), wamp_uri::UriRule::Loose, false) {
                    return Err(syn::Error::new(
                        s.span(),
                        format!("invalid error URI {:?}: {}", e.uri, e.reason),
                    ));
                }
                uri = Some(s);
                Ok(())
            } else {
                Err(meta.error("expected `uri = \"...\"`"))
            }
        });
        if let Err(e) = res {
            written = true;
            cx.push(e);
        }
    }
    if uri.is_none() && !written {
        cx.error_spanned_by(span, "each variant needs #[wamp(uri = \"com.myapp.error.name\")]");
    }
    uri
}

pub fn derive(input: DeriveInput) -> TokenStream {
    let cx = Ctxt::default();
    let ident = &input.ident;
    let Data::Enum(data) = &input.data else {
        cx.error_spanned_by(
            &input.ident,
            "derive(WampError) is for enums: one variant per error URI, each with #[wamp(uri = \"...\")]",
        );
        return cx.check().unwrap_err();
    };
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(
            &input.generics,
            "derive(WampError) does not support generic types",
        );
    }
    let mut to_arms = Vec::new();
    let mut from_arms = Vec::new();
    let mut describe = Vec::new();
    let mut uris: Vec<(String, &syn::Ident)> = Vec::new();
    for v in &data.variants {
        let Some(uri) = variant_uri(&cx, &v.attrs, &v.ident) else {
            continue;
        };
        // One URI, one variant: otherwise a received error could not be mapped back.
        match uris.iter().find(|(u, _)| *u == uri.value()) {
            Some((_, first)) => cx.error_spanned_by(
                &uri,
                format!(
                    "variant `{first}` already maps to {:?}: each variant needs its own error URI",
                    uri.value()
                ),
            ),
            None => uris.push((uri.value(), &v.ident)),
        }
        let vname = &v.ident;
        let vstr = vname.to_string();
        match &v.fields {
            Fields::Unit => {
                to_arms.push(quote!(Self::#vname => ::wamp::ApplicationError::new(#uri),));
                from_arms.push(quote!(#uri => ::std::option::Option::Some(Self::#vname),));
                describe.push(quote!(::wamp::service::ErrorDescription {
                    uri: ::std::string::String::from(#uri),
                    variant: ::std::string::String::from(#vstr),
                    args: ::std::option::Option::None,
                    kwargs: ::std::option::Option::None,
                }));
            }
            Fields::Unnamed(f) => {
                let binds: Vec<_> = (0..f.unnamed.len()).map(|i| format_ident!("__f{i}")).collect();
                let tys: Vec<_> = f.unnamed.iter().map(|f| &f.ty).collect();
                let idx: Vec<usize> = (0..binds.len()).collect();
                let count = binds.len();
                to_arms.push(quote! {
                    Self::#vname(#(#binds),*) => {
                        let mut __e = ::wamp::ApplicationError::new(#uri);
                        #(__e.args.push(::wamp::__private::wamp_proto::to_value(#binds).unwrap_or_default());)*
                        __e
                    }
                });
                from_arms.push(quote! {
                    #uri => ::std::option::Option::Some(Self::#vname(#(
                        ::wamp::__private::wamp_proto::from_value::<#tys>(
                            __e.args.get(#idx).cloned().unwrap_or_default()
                        ).ok()?
                    ),*)),
                });
                describe.push(quote!(::wamp::service::ErrorDescription {
                    uri: ::std::string::String::from(#uri),
                    variant: ::std::string::String::from(#vstr),
                    args: ::std::option::Option::Some(::wamp::__private::serde_json::json!({
                        "type": "array",
                        "prefixItems": [#(::wamp::__private::schema_of::<#tys>()),*],
                        "minItems": #count,
                    })),
                    kwargs: ::std::option::Option::None,
                }));
            }
            Fields::Named(f) => {
                let names: Vec<_> = f.named.iter().map(|f| f.ident.clone().expect("named")).collect();
                let keys: Vec<String> = names
                    .iter()
                    .map(|n| n.to_string().trim_start_matches("r#").to_owned())
                    .collect();
                let tys: Vec<_> = f.named.iter().map(|f| &f.ty).collect();
                to_arms.push(quote! {
                    Self::#vname { #(#names),* } => {
                        let mut __e = ::wamp::ApplicationError::new(#uri);
                        #(__e.kwargs.insert(::std::string::String::from(#keys),
                            ::wamp::__private::wamp_proto::to_value(#names).unwrap_or_default());)*
                        __e
                    }
                });
                from_arms.push(quote! {
                    #uri => ::std::option::Option::Some(Self::#vname { #(
                        #names: ::wamp::__private::wamp_proto::from_value::<#tys>(
                            __e.kwargs.get(#keys).cloned().unwrap_or_default()
                        ).ok()?
                    ),* }),
                });
                describe.push(quote!(::wamp::service::ErrorDescription {
                    uri: ::std::string::String::from(#uri),
                    variant: ::std::string::String::from(#vstr),
                    args: ::std::option::Option::None,
                    kwargs: ::std::option::Option::Some(::wamp::__private::serde_json::json!({
                        "type": "object",
                        "properties": { #(#keys: ::wamp::__private::schema_of::<#tys>()),* },
                    })),
                }));
            }
        }
    }
    if let Err(e) = cx.check() {
        return e;
    }
    quote! {
        impl ::wamp::WampError for #ident {
            fn to_application_error(&self) -> ::wamp::ApplicationError {
                match self { #(#to_arms)* }
            }

            fn from_application_error(__e: &::wamp::ApplicationError) -> ::std::option::Option<Self> {
                match __e.error.as_str() {
                    #(#from_arms)*
                    _ => ::std::option::Option::None,
                }
            }

            fn describe_errors() -> ::std::vec::Vec<::wamp::service::ErrorDescription> {
                ::std::vec![#(#describe),*]
            }
        }

        impl ::std::convert::From<#ident> for ::wamp::ApplicationError {
            fn from(e: #ident) -> Self {
                <#ident as ::wamp::WampError>::to_application_error(&e)
            }
        }
    }
}
