//! Code generation from the validated model: the `Service` impl (handlers
//! and description), the typed client stub, and typed topic events.

pub mod client;
pub mod describe;
pub mod error;
pub mod handler;

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use crate::model::{Kind, Method, Service};
use handler::Target;

fn camel(ident: &Ident) -> String {
    ident
        .to_string()
        .trim_start_matches("r#")
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
    format_ident!(
        "{}{}Event",
        service.to_string().trim_start_matches("r#"),
        camel(&m.ident)
    )
}

/// The bindings of all methods, given `__service` in scope.
fn bindings(s: &Service, target: Target) -> TokenStream {
    let each = s.methods.iter().map(|m| handler::binding(m, target));
    quote! {
        let mut __bindings = ::wamp::__private::Bindings::default();
        #(#each)*
        __bindings
    }
}

/// The `<Name>Client` stub and the typed event structs.
fn client(s: &Service) -> TokenStream {
    let vis = &s.vis;
    let client = format_ident!("{}Client", s.name.to_string().trim_start_matches("r#"));
    let doc = format!(
        "Typed caller stub of the `{}` service: one method per procedure, `publish_*` and `subscribe_*` per topic.",
        s.name
    );
    let mut methods = Vec::new();
    let mut events = Vec::new();
    for m in &s.methods {
        let args = client::args_of(m);
        let ident = &m.ident;
        match m.kind {
            Kind::Procedure => {
                let (ok, err) = client::stub_types(m);
                let body = client::call_body(m, quote!(self.session), quote!(self.timeout));
                let doc = format!("Calls `{}`.", m.uri.pattern);
                methods.push(quote! {
                    #[doc = #doc]
                    #vis async fn #ident(&self, #(#args),*) -> ::std::result::Result<#ok, ::wamp::CallError<#err>> {
                        #body
                    }
                });
            }
            Kind::Topic => {
                let publish = format_ident!("publish_{}", ident.to_string().trim_start_matches("r#"));
                let subscribe = format_ident!("subscribe_{}", ident.to_string().trim_start_matches("r#"));
                let event = event_ident(&s.name, m);
                let pbody = client::publish_body(m, quote!(self.session));
                let sbody = client::subscribe_body(m, quote!(self.session), &event);
                let pdoc = format!("Publishes to `{}`.", m.uri.pattern);
                let sdoc = format!(
                    "Subscribes to `{}`, with events bound to [`{}`].",
                    m.uri.pattern, event
                );
                events.push(client::event_type(m, vis, &event));
                methods.push(quote! {
                    #[doc = #pdoc]
                    #vis async fn #publish(&self, #(#args),*) -> ::std::result::Result<(), ::wamp::Error> {
                        #pbody
                    }
                    #[doc = #sdoc]
                    #vis async fn #subscribe(&self) -> ::std::result::Result<::wamp::service::TypedSubscription<#event>, ::wamp::Error> {
                        #sbody
                    }
                });
            }
        }
    }
    quote! {
        #[doc = #doc]
        #[derive(::std::fmt::Debug, ::std::clone::Clone)]
        #vis struct #client {
            session: ::wamp::Session,
            timeout: ::std::option::Option<::std::time::Duration>,
        }

        impl #client {
            /// A stub calling through `session`.
            #vis fn new(session: ::wamp::Session) -> Self {
                #client { session, timeout: ::std::option::Option::None }
            }

            /// The same stub with a timeout on every call.
            #vis fn with_timeout(mut self, timeout: ::std::time::Duration) -> Self {
                self.timeout = ::std::option::Option::Some(timeout);
                self
            }

            /// The session the stub calls through.
            #vis fn session(&self) -> &::wamp::Session {
                &self.session
            }

            #(#methods)*
        }

        #(#events)*
    }
}

/// Everything generated for an `impl` block (besides the block itself).
pub fn impl_form(s: &Service, self_ty: &syn::Type) -> TokenStream {
    let describe = describe::describe(s);
    let bindings = bindings(s, Target::This);
    let client = client(s);
    quote! {
        impl ::wamp::Service for #self_ty {
            fn describe() -> ::wamp::ServiceDescription {
                #describe
            }

            fn bindings(self: ::std::sync::Arc<Self>) -> ::wamp::__private::Bindings {
                let __service = self;
                #bindings
            }
        }

        #client
    }
}

/// Everything generated for a trait (besides the rewritten trait).
pub fn trait_form(s: &Service, trait_ident: &Ident) -> TokenStream {
    let vis = &s.vis;
    let wrapper = format_ident!("{}Service", trait_ident.to_string().trim_start_matches("r#"));
    let describe = describe::describe(s);
    let bindings = bindings(s, Target::This);
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

        impl<T: #trait_ident + ::std::marker::Send + ::std::marker::Sync + 'static> ::wamp::Service for #wrapper<T> {
            fn describe() -> ::wamp::ServiceDescription {
                #describe
            }

            fn bindings(self: ::std::sync::Arc<Self>) -> ::wamp::__private::Bindings {
                let __service = ::std::sync::Arc::clone(&self.0);
                #bindings
            }
        }

        #client
    }
}

/// The module generated next to a free-function handler.
pub fn function_form(s: &Service) -> TokenStream {
    let m = &s.methods[0];
    let vis = &s.vis;
    let module = &m.ident;
    let describe = describe::describe(s);
    let bindings = bindings(s, Target::SuperFn);
    let args = client::args_of(m);
    let stubs = match m.kind {
        Kind::Procedure => {
            let (ok, err) = client::stub_types(m);
            let body = client::call_body(
                m,
                quote!(session),
                quote!(::std::option::Option::<::std::time::Duration>::None),
            );
            let doc = format!("Calls `{}`.", m.uri.pattern);
            quote! {
                #[doc = #doc]
                pub async fn call(session: &::wamp::Session, #(#args),*) -> ::std::result::Result<#ok, ::wamp::CallError<#err>> {
                    #body
                }
            }
        }
        Kind::Topic => {
            let event = format_ident!("Event");
            let event_def = client::event_type(m, &syn::parse_quote!(pub), &event);
            let pbody = client::publish_body(m, quote!(session));
            let sbody = client::subscribe_body(m, quote!(session), &event);
            let pdoc = format!("Publishes to `{}`.", m.uri.pattern);
            quote! {
                #event_def

                #[doc = #pdoc]
                pub async fn publish(session: &::wamp::Session, #(#args),*) -> ::std::result::Result<(), ::wamp::Error> {
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

            impl ::wamp::Service for Handler {
                fn describe() -> ::wamp::ServiceDescription {
                    #describe
                }

                fn bindings(self: ::std::sync::Arc<Self>) -> ::wamp::__private::Bindings {
                    let _ = self;
                    #bindings
                }
            }

            #stubs
        }
    }
}
