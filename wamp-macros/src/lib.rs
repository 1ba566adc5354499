//! Procedural macros of the `wamp` SDK. Use them through the `wamp` crate:
//! `#[wamp::service]`, `#[wamp::procedure]`, `#[wamp::topic]` and
//! `#[derive(wamp::WampError)]`; the `wamp` crate documents them.

mod check;
mod ctxt;
mod expand;
mod model;
mod parse;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{quote, ToTokens};
use syn::{ImplItem, Item, Meta, TraitItem};

use ctxt::Ctxt;
use model::{Form, Method, Service};
use parse::attr::ServiceArgs;
use parse::method::{self, Receiver};

/// Turns the `#[wamp::procedure]` and `#[wamp::topic]` methods of an `impl`
/// block or a trait into a typed WAMP service. See the `wamp` crate.
#[proc_macro_attribute]
pub fn service(args: TokenStream, input: TokenStream) -> TokenStream {
    let input2: TokenStream2 = input.into();
    match syn::parse2::<Item>(input2.clone()) {
        Ok(Item::Impl(item)) => service_impl(args.into(), item),
        Ok(Item::Trait(item)) => service_trait(args.into(), item),
        _ => {
            let err = syn::Error::new_spanned(
                &input2,
                "#[wamp::service] goes on an `impl` block of a type, or on a trait",
            );
            err.to_compile_error().into()
        }
    }
}

/// The tokens inside the attribute's parentheses; `None` (reported) for
/// `#[wamp::procedure = "..."]`.
fn method_attr_tokens(cx: &Ctxt, attr: &syn::Attribute) -> Option<TokenStream2> {
    match &attr.meta {
        Meta::List(l) => Some(l.tokens.clone()),
        Meta::Path(_) => Some(TokenStream2::new()),
        Meta::NameValue(nv) => {
            cx.error_spanned_by(
                nv,
                "write the URI in parentheses: #[wamp::procedure(\"com.myapp.name\")]",
            );
            None
        }
    }
}

fn service_impl(args: TokenStream2, mut item: syn::ItemImpl) -> TokenStream {
    let cx = Ctxt::default();
    let sargs = ServiceArgs::parse(&cx, args);
    let prefix = sargs.prefix.as_ref().map(|p| p.value());
    if let Some((_, path, _)) = &item.trait_ {
        cx.error_spanned_by(
            path,
            "#[wamp::service] goes on an inherent `impl` block, not a trait impl",
        );
    }
    if !item.generics.params.is_empty() {
        cx.error_spanned_by(&item.generics, "a WAMP service type cannot be generic");
    }
    let name = match item.self_ty.as_ref() {
        syn::Type::Path(tp) => tp.path.segments.last().map(|s| s.ident.clone()),
        _ => None,
    };
    let Some(name) = name else {
        cx.error_spanned_by(&item.self_ty, "#[wamp::service] needs a named type");
        return cx.check().unwrap_err().into();
    };
    let mut methods: Vec<Method> = Vec::new();
    for it in item.items.iter_mut() {
        let ImplItem::Fn(f) = it else { continue };
        let Some((kind, attr)) = method::take_method_attr(&cx, &mut f.attrs) else {
            continue;
        };
        let Some(tokens) = method_attr_tokens(&cx, &attr) else {
            continue;
        };
        if let Some(m) = method::parse(
            &cx,
            kind,
            tokens,
            &attr,
            prefix.as_deref(),
            &mut f.sig,
            Receiver::RefSelf,
        ) {
            methods.push(m);
        }
    }
    let client = format!("{}Client", name.to_string().trim_start_matches("r#"));
    let form = Form::Impl {
        self_ty: item.self_ty.clone(),
    };
    check::methods(&cx, &form, &client, &methods);
    let service = Service {
        form: Form::Impl {
            self_ty: item.self_ty.clone(),
        },
        name,
        vis: sargs.vis.unwrap_or_else(|| syn::parse_quote!(pub)),
        methods,
    };
    let generated = match cx.check() {
        Ok(()) => {
            let Form::Impl { self_ty } = &service.form else {
                unreachable!()
            };
            expand::impl_form(&service, self_ty)
        }
        Err(errors) => errors,
    };
    quote!(#item #generated).into()
}

fn service_trait(args: TokenStream2, mut item: syn::ItemTrait) -> TokenStream {
    let cx = Ctxt::default();
    let sargs = ServiceArgs::parse(&cx, args);
    if let Some(v) = &sargs.vis {
        cx.error_spanned_by(v, "a trait service uses the trait's own visibility; remove `vis`");
    }
    let prefix = sargs.prefix.as_ref().map(|p| p.value());
    if !item.generics.params.is_empty() {
        cx.error_spanned_by(&item.generics, "a WAMP service trait cannot be generic");
    }
    let mut methods: Vec<Method> = Vec::new();
    for it in item.items.iter_mut() {
        let TraitItem::Fn(f) = it else { continue };
        let Some((kind, attr)) = method::take_method_attr(&cx, &mut f.attrs) else {
            continue;
        };
        let Some(tokens) = method_attr_tokens(&cx, &attr) else {
            continue;
        };
        if let Some(m) = method::parse(
            &cx,
            kind,
            tokens,
            &attr,
            prefix.as_deref(),
            &mut f.sig,
            Receiver::RefSelf,
        ) {
            if m.is_async && f.default.is_some() {
                cx.error_spanned_by(&f.sig, "an async handler in a service trait has no default body");
            } else if m.is_async {
                // `async fn` in a trait does not promise `Send`; handlers run on
                // a multi-threaded runtime, so the trait method says so.
                let output = match &f.sig.output {
                    syn::ReturnType::Default => quote!(()),
                    syn::ReturnType::Type(_, ty) => ty.to_token_stream(),
                };
                f.sig.asyncness = None;
                f.sig.output =
                    syn::parse_quote!(-> impl ::std::future::Future<Output = #output> + ::std::marker::Send);
            }
            methods.push(m);
        }
    }
    let client = format!("{}Client", item.ident.to_string().trim_start_matches("r#"));
    check::methods(&cx, &Form::Trait, &client, &methods);
    let wrapper = quote::format_ident!("{}Service", item.ident.to_string().trim_start_matches("r#"));
    // A handler of that name is reported by the checks; adding ours too
    // would add a second error.
    if !methods.iter().any(|m| m.ident == "into_service") {
        item.items.push(syn::parse_quote! {
            /// This implementation as a service to attach: `session.attach(x.into_service())`.
            fn into_service(self) -> #wrapper<Self>
            where
                Self: ::std::marker::Sized,
            {
                #wrapper::new(self)
            }
        });
    }
    let service = Service {
        form: Form::Trait,
        name: item.ident.clone(),
        vis: item.vis.clone(),
        methods,
    };
    let generated = match cx.check() {
        Ok(()) => expand::trait_form(&service, &item.ident),
        Err(errors) => errors,
    };
    quote!(#item #generated).into()
}

fn free_function(kind: model::Kind, args: TokenStream, input: TokenStream) -> TokenStream {
    let what = match kind {
        model::Kind::Procedure => "procedure",
        model::Kind::Topic => "topic",
    };
    let input2: TokenStream2 = input.into();
    let mut f = match syn::parse2::<syn::ItemFn>(input2.clone()) {
        Ok(f) => f,
        Err(_) => {
            let msg = format!(
                "#[wamp::{what}] goes on a function, or on a method of a #[wamp::service] impl block"
            );
            return syn::Error::new_spanned(&input2, msg).to_compile_error().into();
        }
    };
    let cx = Ctxt::default();
    if let Some(syn::FnArg::Receiver(r)) = f.sig.inputs.first() {
        cx.error_spanned_by(
            r,
            format!("#[wamp::{what}] on a method needs #[wamp::service] on its impl block (or trait)"),
        );
        let errors = cx.check().unwrap_err();
        return quote!(#f #errors).into();
    }
    let args: TokenStream2 = args.into();
    let attr_span = args.clone();
    let m = method::parse(&cx, kind, args, &attr_span, None, &mut f.sig, Receiver::None);
    let methods: Vec<Method> = m.into_iter().collect();
    check::methods(&cx, &Form::Function, "", &methods);
    let generated = match (cx.check(), methods.is_empty()) {
        (Ok(()), false) => expand::function_form(&Service {
            form: Form::Function,
            name: f.sig.ident.clone(),
            vis: f.vis.clone(),
            methods,
        }),
        (Ok(()), true) => TokenStream2::new(),
        (Err(errors), _) => errors,
    };
    quote!(#f #generated).into()
}

/// Marks a procedure: on a method of a `#[wamp::service]` block, or on a
/// free function (which then gets a module of the same name with a
/// `Handler` service and a `call` stub). See the `wamp` crate.
#[proc_macro_attribute]
pub fn procedure(args: TokenStream, input: TokenStream) -> TokenStream {
    free_function(model::Kind::Procedure, args, input)
}

/// Marks a topic handler: on a method of a `#[wamp::service]` block, or on
/// a free function. See the `wamp` crate.
#[proc_macro_attribute]
pub fn topic(args: TokenStream, input: TokenStream) -> TokenStream {
    free_function(model::Kind::Topic, args, input)
}

/// Maps an error enum to WAMP error URIs (`#[wamp(uri = "...")]` on each
/// variant), in both directions. See the `wamp` crate.
#[proc_macro_derive(WampError, attributes(wamp))]
pub fn derive_wamp_error(input: TokenStream) -> TokenStream {
    match syn::parse::<syn::DeriveInput>(input) {
        Ok(input) => expand::error::derive(input).into(),
        Err(e) => e.to_compile_error().into(),
    }
}
