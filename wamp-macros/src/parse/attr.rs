//! Arguments of `#[wamp::service(...)]`, `#[wamp::procedure(...)]` and
//! `#[wamp::topic(...)]`, and parameter attributes `#[wamp(kwarg)]`.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, ExprLit, Lit, LitStr, Meta, Token};

use crate::ctxt::Ctxt;
use crate::model::{Kind, Options};

/// `#[wamp::service(prefix = "com.myapp", vis = "pub(crate)")]`.
#[derive(Default)]
pub struct ServiceArgs {
    pub prefix: Option<LitStr>,
    pub vis: Option<syn::Visibility>,
}

impl ServiceArgs {
    pub fn parse(cx: &Ctxt, tokens: proc_macro2::TokenStream) -> ServiceArgs {
        let mut out = ServiceArgs::default();
        let metas = match syn::parse::Parser::parse2(Punctuated::<Meta, Token![,]>::parse_terminated, tokens)
        {
            Ok(m) => m,
            Err(e) => {
                cx.push(e);
                return out;
            }
        };
        let mut seen = Seen::default();
        for meta in metas {
            if let Meta::NameValue(nv) = &meta {
                if !seen.first(cx, &nv.path, "#[wamp::service]") {
                    continue;
                }
            }
            match &meta {
                Meta::NameValue(nv) if nv.path.is_ident("prefix") => match lit_str(&nv.value) {
                    Some(s) => out.prefix = Some(s),
                    None => {
                        cx.error_spanned_by(&nv.value, "`prefix` takes a string, like prefix = \"com.myapp\"")
                    }
                },
                Meta::NameValue(nv) if nv.path.is_ident("vis") => match lit_str(&nv.value) {
                    Some(s) => match s.parse::<syn::Visibility>() {
                        Ok(v) => out.vis = Some(v),
                        Err(_) => {
                            cx.error_spanned_by(&s, "`vis` takes a visibility, like vis = \"pub(crate)\"")
                        }
                    },
                    None => cx.error_spanned_by(&nv.value, "`vis` takes a string, like vis = \"pub(crate)\""),
                },
                other => cx.error_spanned_by(
                    other,
                    "unknown #[wamp::service] argument: expected `prefix = \"...\"` or `vis = \"...\"`",
                ),
            }
        }
        out
    }
}

/// Keys met so far in one attribute: a key given twice is an error at its
/// second occurrence, and the second value is ignored.
#[derive(Default)]
struct Seen(Vec<String>);

impl Seen {
    fn first(&mut self, cx: &Ctxt, key: &dyn quote::ToTokens, attr: &str) -> bool {
        let name = quote::ToTokens::to_token_stream(key).to_string();
        if self.0.contains(&name) {
            cx.error_spanned_by(key, format!("`{name}` is given twice in {attr}: keep one"));
            return false;
        }
        self.0.push(name);
        true
    }
}

/// The arguments of a procedure or topic attribute.
pub struct MethodArgs {
    pub uri: LitStr,
    pub match_policy: Option<LitStr>,
    pub options: Options,
}

const INVOKE: [&str; 5] = ["single", "roundrobin", "random", "first", "last"];
const MATCH: [&str; 3] = ["exact", "prefix", "wildcard"];

/// `key = value`, where the key may be a keyword (`match`).
struct KeyValue {
    key: syn::Ident,
    value: Expr,
}

impl Parse for KeyValue {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        use syn::ext::IdentExt;
        let key = syn::Ident::parse_any(input)
            .map_err(|e| syn::Error::new(e.span(), "expected `key = value`, like invoke = \"roundrobin\""))?;
        input.parse::<Token![=]>()?;
        let value: Expr = input.parse()?;
        Ok(KeyValue { key, value })
    }
}

struct RawMethodArgs {
    uri: Option<LitStr>,
    rest: Punctuated<KeyValue, Token![,]>,
}

impl Parse for RawMethodArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.is_empty() {
            return Ok(RawMethodArgs {
                uri: None,
                rest: Punctuated::new(),
            });
        }
        let uri = if input.peek(LitStr) {
            let uri: LitStr = input.parse()?;
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
            Some(uri)
        } else {
            None
        };
        let rest = Punctuated::parse_terminated(input)?;
        Ok(RawMethodArgs { uri, rest })
    }
}

fn lit_str(e: &Expr) -> Option<LitStr> {
    match e {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Some(s.clone()),
        _ => None,
    }
}

impl MethodArgs {
    /// Parses the attribute; `None` when it is unusable (errors recorded).
    pub fn parse(
        cx: &Ctxt,
        kind: Kind,
        attr_span: &dyn quote::ToTokens,
        tokens: proc_macro2::TokenStream,
    ) -> Option<MethodArgs> {
        let what = match kind {
            Kind::Procedure => "procedure",
            Kind::Topic => "topic",
        };
        let raw: RawMethodArgs = match syn::parse2(tokens) {
            Ok(r) => r,
            Err(e) => {
                cx.push(e);
                return None;
            }
        };
        let Some(uri) = raw.uri else {
            cx.error_spanned_by(
                attr_span,
                format!("#[wamp::{what}] needs a URI first, like #[wamp::{what}(\"com.myapp.name\")]"),
            );
            return None;
        };
        let mut out = MethodArgs {
            uri,
            match_policy: None,
            options: Options::default(),
        };
        let mut seen = Seen::default();
        for nv in raw.rest {
            if !seen.first(cx, &nv.key, &format!("#[wamp::{what}]")) {
                continue;
            }
            let key = nv.key.to_string();
            let mut push = |v: String| out.options.pairs.push((key.clone(), v));
            match (kind, key.as_str(), &nv.value) {
                (_, "match", v) => match lit_str(v) {
                    Some(s) if MATCH.contains(&s.value().as_str()) => out.match_policy = Some(s),
                    _ => cx.error_spanned_by(v, "`match` is one of \"exact\", \"prefix\", \"wildcard\""),
                },
                (Kind::Procedure, "invoke", v) => match lit_str(v) {
                    Some(s) if INVOKE.contains(&s.value().as_str()) => push(s.value()),
                    _ => cx.error_spanned_by(
                        v,
                        "`invoke` is one of \"single\", \"roundrobin\", \"random\", \"first\", \"last\"",
                    ),
                },
                (Kind::Procedure, "concurrency", v) => match v {
                    Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) if matches!(i.base10_parse::<u64>(), Ok(n) if n > 0) => {
                        push(i.base10_digits().to_owned())
                    }
                    _ => cx.error_spanned_by(v, "`concurrency` is a positive integer, like concurrency = 4"),
                },
                (Kind::Procedure, "disclose_caller", v) | (Kind::Topic, "get_retained", v) => match v {
                    Expr::Lit(ExprLit { lit: Lit::Bool(b), .. }) => push(b.value.to_string()),
                    _ => cx.error_spanned_by(v, format!("`{key}` is `true` or `false`")),
                },
                _ => cx.error_spanned_by(
                    &nv.key,
                    match kind {
                        Kind::Procedure => "unknown #[wamp::procedure] option: expected `match`, `invoke`, `concurrency` or `disclose_caller`",
                        Kind::Topic => "unknown #[wamp::topic] option: expected `match` or `get_retained`",
                    },
                ),
            }
        }
        Some(out)
    }
}

/// Whether an attribute is `#[wamp::procedure]` / `#[procedure]` (or topic).
pub fn method_kind(attr: &Attribute) -> Option<Kind> {
    let segs: Vec<String> = attr.path().segments.iter().map(|s| s.ident.to_string()).collect();
    let last = match segs.as_slice() {
        [one] => one.as_str(),
        [w, one] if w == "wamp" => one.as_str(),
        _ => return None,
    };
    match last {
        "procedure" => Some(Kind::Procedure),
        "topic" => Some(Kind::Topic),
        _ => None,
    }
}

/// Where a parameter attribute says the value comes from.
pub enum ParamAttr {
    Kwarg(Option<LitStr>),
    Kwargs,
    /// A positional argument, even if its type is named like one the
    /// session injects (`Session`, `EventDetails`, ...).
    Arg,
}

/// Reads and removes `#[wamp(...)]` attributes of a parameter.
pub fn take_param_attr(cx: &Ctxt, attrs: &mut Vec<Attribute>) -> Option<ParamAttr> {
    let mut found = None;
    let mut keep = Vec::new();
    for attr in attrs.drain(..) {
        if !attr.path().is_ident("wamp") {
            keep.push(attr);
            continue;
        }
        let parsed = attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated);
        if found.is_some() && matches!(&parsed, Ok(m) if m.len() == 1) {
            cx.error_spanned_by(
                &attr,
                "a parameter takes one #[wamp(...)] attribute: remove this one",
            );
            continue;
        }
        match parsed {
            Ok(metas) if metas.len() == 1 => match &metas[0] {
                Meta::Path(p) if p.is_ident("arg") => found = Some(ParamAttr::Arg),
                Meta::Path(p) if p.is_ident("kwarg") => found = Some(ParamAttr::Kwarg(None)),
                Meta::Path(p) if p.is_ident("kwargs") => found = Some(ParamAttr::Kwargs),
                Meta::NameValue(nv) if nv.path.is_ident("kwarg") => match lit_str(&nv.value) {
                    Some(s) => found = Some(ParamAttr::Kwarg(Some(s))),
                    None => cx.error_spanned_by(&nv.value, "`kwarg` takes the keyword as a string"),
                },
                other => cx.error_spanned_by(
                    other,
                    "unknown parameter attribute: expected #[wamp(kwarg)], #[wamp(kwarg = \"name\")], #[wamp(kwargs)] or #[wamp(arg)]",
                ),
            },
            Ok(_) => cx.error_spanned_by(
                &attr,
                "expected one of #[wamp(kwarg)], #[wamp(kwarg = \"name\")], #[wamp(kwargs)], #[wamp(arg)]",
            ),
            Err(e) => cx.push(e),
        }
    }
    *attrs = keep;
    found
}
