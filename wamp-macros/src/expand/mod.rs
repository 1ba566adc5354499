//! Code generation from the validated model: the `Service` impl (handlers
//! and description), the typed client stub, and typed topic events. Each
//! piece is a small function; the glue they call lives in the runtime.

pub mod client;
pub mod describe;
pub mod error;
pub mod handler;

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use crate::model::{Kind, Method, Service};
use handler::Target;

fn bare(ident: &Ident) -> String {
    ident.to_string().trim_start_matches("r#").to_owned()
}

fn camel(ident: &Ident) -> String {
    bare(ident)
        .split('_')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn event_ident(service: &Ident, m: &Method) -> Ident {
    format_ident!("{}{}Event", bare(service), camel(&m.ident))
}

/// `impl Service`: `describe` and `bindings`, given how `__s` (the shared
/// service) is made from `self`.
fn service_impl(s: &Service, header: TokenStream, shared: TokenStream, target: Target) -> TokenStream {
    let describe = describe::describe(s);
    let each = s.methods.iter().map(|m| handler::binding(m, target));
    quote! {
        #header {
            fn describe() -> ::wamp::ServiceDescription {
                #describe
            }

            fn bindings(self: ::std::sync::Arc<Self>) -> ::wamp::__private::Bindings {
                let __s = #shared;
                let mut __b = ::wamp::__private::Bindings::default();
                #(#each)*
                __b
            }
        }
    }
}

/// One client method (two for a topic) and, for a topic, its event type.
fn stub_method(s: &Service, m: &Method) -> (TokenStream, TokenStream) {
    let vis = &s.vis;
    let args = client::args_of(m);
    let ident = &m.ident;
    match m.kind {
        Kind::Procedure => {
            let ret = client::stub_type(m);
            let body = client::call_body(m, quote!(self.stub));
            let doc = format!(
                "Calls `{}`; await the result, or set per-call options first.",
                m.uri.pattern
            );
            let method = quote! {
                #[doc = #doc]
                #vis fn #ident(&self, #(#args),*) -> #ret {
                    #body
                }
            };
            (method, TokenStream::new())
        }
        Kind::Topic => {
            let publish = format_ident!("publish_{}", bare(ident));
            let subscribe = format_ident!("subscribe_{}", bare(ident));
            let event = event_ident(&s.name, m);
            let pbody = client::publish_body(m, quote!(self.stub));
            let sbody = client::subscribe_body(m, quote!(self.stub), &event);
            let pdoc = format!(
                "Publishes to `{}`; await it, or set publish options first.",
                m.uri.pattern
            );
            let sdoc = format!(
                "Subscribes to `{}`, with events bound to [`{}`].",
                m.uri.pattern, event
            );
            let method = quote! {
                #[doc = #pdoc]
                #vis fn #publish(&self, #(#args),*) -> ::wamp::service::TypedPublish {
                    #pbody
                }
                #[doc = #sdoc]
                #vis async fn #subscribe(&self) -> ::std::result::Result<::wamp::service::TypedSubscription<#event>, ::wamp::Error> {
                    #sbody
                }
            };
            (method, client::event_type(m, vis, &event))
        }
    }
}

/// The `<Name>Client` stub and the typed event structs.
fn client(s: &Service) -> TokenStream {
    let vis = &s.vis;
    let client = format_ident!("{}Client", bare(&s.name));
    let doc = format!(
        "Typed caller stub of the `{}` service: one method per procedure, `publish_*` and `subscribe_*` per topic.",
        s.name
    );
    let (methods, events): (Vec<_>, Vec<_>) = s.methods.iter().map(|m| stub_method(s, m)).unzip();
    quote! {
        #[doc = #doc]
        #[derive(::std::fmt::Debug, ::std::clone::Clone)]
        #vis struct #client {
            stub: ::wamp::service::Stub,
        }

        impl #client {
            /// A stub calling through `session`.
            #vis fn new(session: ::wamp::Session) -> Self {
                #client { stub: ::wamp::service::Stub::new(session) }
            }

            /// The same stub with these options on every call.
            #vis fn with_options(&self, options: ::wamp::service::StubOptions) -> Self {
                #client { stub: self.stub.with_options(options) }
            }

            /// The same stub with a timeout on every call.
            #vis fn with_timeout(self, timeout: ::std::time::Duration) -> Self {
                self.with_options(self.stub.options().clone().timeout(timeout))
            }

            /// The session the stub calls through.
            #vis fn session(&self) -> &::wamp::Session {
                self.stub.session()
            }

            #(#methods)*
        }

        #(#events)*
    }
}

/// Everything generated for an `impl` block (besides the block itself).
pub fn impl_form(s: &Service, self_ty: &syn::Type) -> TokenStream {
    let service = service_impl(
        s,
        quote!(impl ::wamp::Service for #self_ty),
        quote!(self),
        Target::This,
    );
    let client = client(s);
    quote!(#service #client)
}

/// Everything generated for a trait (besides the rewritten trait).
pub fn trait_form(s: &Service, trait_ident: &Ident) -> TokenStream {
    let vis = &s.vis;
    let wrapper = format_ident!("{}Service", bare(trait_ident));
    let service = service_impl(
        s,
        quote!(impl<T: #trait_ident + ::std::marker::Send + ::std::marker::Sync + 'static> ::wamp::Service for #wrapper<T>),
        quote!(::std::sync::Arc::clone(&self.0)),
        Target::This,
    );
    let client = client(s);
    let doc =
        format!("Serves any implementation of [`{trait_ident}`]: `session.attach({wrapper}::new(my_impl))`.");
    quote! {
        #[doc = #doc]
        #vis struct #wrapper<T>(::std::sync::Arc<T>);

        impl<T> #wrapper<T> {
            /// Wraps an implementation.
            #vis fn new(inner: T) -> Self {
                #wrapper(::std::sync::Arc::new(inner))
            }

            /// Wraps a shared implementation.
            #vis fn from_arc(inner: ::std::sync::Arc<T>) -> Self {
                #wrapper(inner)
            }
        }

        impl<T> ::std::clone::Clone for #wrapper<T> {
            fn clone(&self) -> Self {
                #wrapper(::std::sync::Arc::clone(&self.0))
            }
        }

        #service
        #client
    }
}

/// The module generated next to a free-function handler.
pub fn function_form(s: &Service) -> TokenStream {
    let m = &s.methods[0];
    let vis = &s.vis;
    let module = &m.ident;
    let service = service_impl(
        s,
        quote!(impl ::wamp::Service for Handler),
        quote!(self),
        Target::SuperFn,
    );
    let args = client::args_of(m);
    let stub = quote!(::wamp::service::Stub::new(::std::clone::Clone::clone(session)));
    let stubs = match m.kind {
        Kind::Procedure => {
            let ret = client::stub_type(m);
            let body = client::call_body(m, stub);
            let doc = format!("Calls `{}`.", m.uri.pattern);
            quote! {
                #[doc = #doc]
                pub fn call(session: &::wamp::Session, #(#args),*) -> #ret {
                    #body
                }
            }
        }
        Kind::Topic => {
            let event = format_ident!("Event");
            let event_def = client::event_type(m, &syn::parse_quote!(pub), &event);
            let pbody = client::publish_body(m, stub.clone());
            let sbody = client::subscribe_body(m, stub, &event);
            let pdoc = format!("Publishes to `{}`.", m.uri.pattern);
            quote! {
                #event_def

                #[doc = #pdoc]
                pub fn publish(session: &::wamp::Session, #(#args),*) -> ::wamp::service::TypedPublish {
                    #pbody
                }

                /// Subscribes, with typed events.
                pub async fn subscribe(session: &::wamp::Session) -> ::std::result::Result<::wamp::service::TypedSubscription<Event>, ::wamp::Error> {
                    #sbody
                }
            }
        }
    };
    let doc = format!(
        "WAMP glue of `{module}`: attach [`Handler`] to a session to serve it; the stub calls or publishes it."
    );
    quote! {
        #[doc = #doc]
        #[allow(non_snake_case, unused_imports)]
        #vis mod #module {
            use super::*;

            /// The handler as a service: `session.attach(Handler)`.
            #[derive(::std::fmt::Debug, ::std::clone::Clone, ::std::marker::Copy, ::std::default::Default)]
            pub struct Handler;

            #service

            #stubs
        }
    }
}
