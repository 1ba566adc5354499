//! Handlers: the glue that binds a typed method to an INVOCATION or EVENT.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::model::{Inject, Kind, Method, Param, Return, Source};
use crate::parse::uri::{Policy, VarKind};

/// How a handler is reached from the generated code.
#[derive(Clone, Copy)]
pub enum Target {
    /// `__this.method(..)`, with `__this: Arc<_>` cloned into the handler.
    This,
    /// `super::function(..)`.
    SuperFn,
}

/// Statements binding every parameter from `__x` (an `Extractor`),
/// `__details` and `__progress`.
pub fn bind_params(m: &Method, params: &[Param]) -> TokenStream {
    let stmts = params.iter().map(|p| {
        let (id, ty) = (&p.ident, &p.ty);
        let name = id.to_string();
        let name = name.trim_start_matches("r#");
        let expr = match &p.source {
            Source::Uri {
                index,
                kind: VarKind::Int,
            } => quote_spanned!(ty.span()=> __x.uri_int::<#ty>(#index, #name)?),
            Source::Uri {
                index,
                kind: VarKind::Str,
            } => quote_spanned!(ty.span()=> __x.uri_component::<#ty>(#index, #name)?),
            Source::Uri {
                index,
                kind: VarKind::Suffix,
            } => quote_spanned!(ty.span()=> __x.uri_suffix::<#ty>(#index, #name)?),
            Source::Positional { .. } => quote_spanned!(ty.span()=> __x.positional::<#ty>(#name)?),
            Source::Keyword { key } => quote_spanned!(ty.span()=> __x.keyword::<#ty>(#name, #key)?),
            Source::Kwargs => quote_spanned!(ty.span()=> __x.all_kwargs::<#ty>(#name)?),
            Source::Inject(Inject::InvocationDetails | Inject::EventDetails) => {
                quote!(::std::clone::Clone::clone(&__details))
            }
            Source::Inject(Inject::OptionProgressSender) => quote!(::std::clone::Clone::clone(&__progress)),
            Source::Inject(Inject::Session) => quote!(::std::clone::Clone::clone(&__session)),
            Source::Inject(Inject::ProgressSender) => {
                let msg = format!(
                    "{} sends progressive results: call it with receive_progress (progressive results)",
                    m.uri.pattern
                );
                quote!(::std::clone::Clone::clone(&__progress)
                    .ok_or_else(|| ::wamp::ApplicationError::invalid_argument(#msg))?)
            }
        };
        quote!(let #id: #ty = #expr;)
    });
    quote!(#(#stmts)*)
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

/// The `ProcedureBinding`/`TopicBinding` push for one method, inside a
/// function that has `__service: Arc<_>` and `__bindings: Bindings`.
pub fn binding(m: &Method, target: Target) -> TokenStream {
    let wire = &m.uri.wire;
    let bind = bind_params(m, &m.params);
    let call = invoke(m, target);
    let clone_this = match target {
        Target::This => quote!(let __this = ::std::sync::Arc::clone(&__this);),
        Target::SuperFn => quote!(),
    };
    let outer_this = match target {
        Target::This => quote!(let __this = ::std::sync::Arc::clone(&__service);),
        Target::SuperFn => quote!(),
    };
    let policy = match m.policy() {
        Policy::Exact => quote!(),
        Policy::Prefix => {
            quote!(__options.match_policy = ::std::option::Option::Some(::wamp::MatchPolicy::Prefix);)
        }
        Policy::Wildcard => {
            quote!(__options.match_policy = ::std::option::Option::Some(::wamp::MatchPolicy::Wildcard);)
        }
    };
    match m.kind {
        Kind::Procedure => {
            let convert = match &m.ret {
                Return::Unit => quote!({
                    let () = __r;
                    ::std::result::Result::Ok(::wamp::CallResult::new())
                }),
                Return::Plain(t) => {
                    quote_spanned!(t.span()=> ::wamp::__private::IntoCallResult::into_call_result(__r))
                }
                Return::Result { ok: None, .. } => {
                    quote!(::wamp::__private::handler_result(
                        __r.map(|()| ::wamp::CallResult::new())
                    ))
                }
                Return::Result { ok: Some(t), .. } => {
                    quote_spanned!(t.span()=> ::wamp::__private::handler_result(__r))
                }
            };
            let mut opts = Vec::new();
            if let Some(invoke) = &m.options.invoke {
                opts.push(quote!(__options.invoke = ::wamp::InvokePolicy::parse(#invoke);));
            }
            if let Some(n) = m.options.concurrency {
                opts.push(quote!(__options.concurrency = ::std::option::Option::Some(#n);));
            }
            if let Some(b) = m.options.disclose_caller {
                opts.push(quote!(__options.disclose_caller = ::std::option::Option::Some(#b);));
            }
            quote! {{
                #outer_this
                let mut __options = ::wamp::RegisterOptions::default();
                #policy
                #(#opts)*
                __bindings.procedures.push(::wamp::__private::ProcedureBinding {
                    uri: ::std::string::String::from(#wire),
                    options: __options,
                    handler: ::std::sync::Arc::new(move |__inv: ::wamp::Invocation| -> ::wamp::__private::HandlerFuture {
                        #clone_this
                        ::std::boxed::Box::pin(async move {
                            let ::wamp::Invocation { procedure: __uri, details: __details, args: __args, kwargs: __kwargs, progress: __progress, session: __session, .. } = __inv;
                            let _ = (&__details, &__progress, &__session);
                            let mut __x = ::wamp::__private::Extractor::new(__uri, __args, __kwargs);
                            #bind
                            __x.finish()?;
                            let __r = #call;
                            #convert
                        })
                    }),
                });
            }}
        }
        Kind::Topic => {
            let convert = match &m.ret {
                Return::Result { .. } => quote!(::wamp::__private::event_result(__r)),
                _ => quote!({
                    let () = __r;
                    ::std::result::Result::Ok(())
                }),
            };
            quote! {{
                #outer_this
                let mut __options = ::wamp::SubscribeOptions::default();
                #policy
                __bindings.topics.push(::wamp::__private::TopicBinding {
                    uri: ::std::string::String::from(#wire),
                    options: __options,
                    handler: ::std::sync::Arc::new(move |__ev: ::wamp::Event, __session: ::wamp::Session| -> ::wamp::__private::EventFuture {
                        #clone_this
                        ::std::boxed::Box::pin(async move {
                            let ::wamp::Event { topic: __uri, details: __details, args: __args, kwargs: __kwargs, .. } = __ev;
                            let _ = (&__details, &__session);
                            let __progress: ::std::option::Option<()> = ::std::option::Option::None;
                            let _ = &__progress;
                            let mut __x = ::wamp::__private::Extractor::new(__uri, __args, __kwargs);
                            #bind
                            __x.finish()?;
                            let __r = #call;
                            #convert
                        })
                    }),
                });
            }}
        }
    }
}
