//! Checks that look at more than one method (or attribute) at a time:
//! they run on the model, after parsing, before any code is generated.

use crate::ctxt::Ctxt;
use crate::model::{Form, Kind, Method, Return, Source};

/// Methods every generated client has; a handler of that name would clash.
const CLIENT_METHODS: [&str; 4] = ["new", "with_options", "with_timeout", "session"];

fn bare(ident: &syn::Ident) -> String {
    ident.to_string().trim_start_matches("r#").to_owned()
}

/// The names a method gives to stub methods: a procedure its own, a topic
/// `publish_<name>` and `subscribe_<name>`.
fn stub_names(m: &Method) -> Vec<String> {
    match m.kind {
        Kind::Procedure => vec![bare(&m.ident)],
        Kind::Topic => vec![
            format!("publish_{}", bare(&m.ident)),
            format!("subscribe_{}", bare(&m.ident)),
        ],
    }
}

/// All checks across the methods of one service.
pub fn methods(cx: &Ctxt, form: &Form, client: &str, methods: &[Method]) {
    topics_return_nothing(cx, methods);
    input_streams(cx, methods);
    distinct_uris(cx, methods);
    if !matches!(form, Form::Function) {
        stub_collisions(cx, client, methods);
    }
    if matches!(form, Form::Trait) {
        if let Some(m) = methods.iter().find(|m| m.ident == "into_service") {
            cx.error_spanned_by(
                &m.ident,
                "`into_service` is the method #[wamp::service] adds to the trait: rename this handler (its URI stays as written)",
            );
        }
    }
}

fn topics_return_nothing(cx: &Ctxt, methods: &[Method]) {
    for m in methods.iter().filter(|m| m.kind == Kind::Topic) {
        if let Return::Plain(t) | Return::Result { ok: Some(t), .. } = &m.ret {
            cx.error_spanned_by(
                t,
                "a topic handler returns `()` or `Result<(), E>`: events have no result",
            );
        }
    }
}

/// A procedure takes at most one input stream (a call has one); a topic
/// handler none (an event is one message).
fn input_streams(cx: &Ctxt, methods: &[Method]) {
    for m in methods {
        let inputs = m
            .params
            .iter()
            .filter(|p| matches!(p.source, Source::Input { .. }));
        for (i, p) in inputs.enumerate() {
            if m.kind == Kind::Topic {
                cx.error_spanned_by(
                    &p.ty,
                    "a topic handler cannot take an input stream: an event is one message; \
                     make it a procedure, or take the items as an argument (`Vec<T>`)",
                );
            } else if i > 0 {
                cx.error_spanned_by(
                    &p.ty,
                    "a procedure takes at most one input stream: a call streams one input; \
                     stream one item type that carries both (a struct or an enum)",
                );
            }
        }
    }
}

fn distinct_uris(cx: &Ctxt, methods: &[Method]) {
    for (i, m) in methods.iter().enumerate() {
        if methods[..i]
            .iter()
            .any(|o| o.kind == m.kind && o.uri.wire == m.uri.wire && o.policy() == m.policy())
        {
            cx.push(syn::Error::new(
                m.span,
                format!(
                    "another handler of this service already uses {:?} ({})",
                    m.uri.wire,
                    m.policy().as_str()
                ),
            ));
        }
    }
}

fn stub_collisions(cx: &Ctxt, client: &str, methods: &[Method]) {
    let mut taken: Vec<(String, &Method)> = Vec::new();
    for m in methods {
        for name in stub_names(m) {
            if CLIENT_METHODS.contains(&name.as_str()) {
                cx.error_spanned_by(
                    &m.ident,
                    format!(
                        "`{name}` is a method of the generated `{client}`: rename this handler (its URI stays as written)"
                    ),
                );
            } else if let Some((_, other)) = taken.iter().find(|(n, _)| *n == name) {
                let what = |m: &Method| match m.kind {
                    Kind::Procedure => format!("procedure `{}`", bare(&m.ident)),
                    Kind::Topic => format!("topic `{}`", bare(&m.ident)),
                };
                cx.error_spanned_by(
                    &m.ident,
                    format!(
                        "`{client}::{name}` would be the stub of both {} and {}: rename one of them",
                        what(other),
                        what(m)
                    ),
                );
            } else {
                taken.push((name, m));
            }
        }
    }
}
