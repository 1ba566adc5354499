//! Error collection: every mistake found while parsing is recorded with its
//! span, and all of them are reported together, so one build shows them all.

use std::cell::RefCell;

use proc_macro2::TokenStream;
use quote::ToTokens;

/// Dropping a `Ctxt` whose errors were never taken with [`check`](Ctxt::check)
/// is a bug in the macros (errors would be lost): it panics, as serde's does.
#[derive(Default)]
pub struct Ctxt {
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    /// Records an error at the span of `tokens`.
    pub fn error_spanned_by<T: ToTokens, M: std::fmt::Display>(&self, tokens: T, msg: M) {
        self.push(syn::Error::new_spanned(tokens, msg));
    }

    /// Records an error.
    pub fn push(&self, e: syn::Error) {
        self.errors.borrow_mut().get_or_insert_with(Vec::new).push(e);
    }

    /// All errors as one, or `Ok` if there were none.
    pub fn check(self) -> Result<(), TokenStream> {
        let errors = self.errors.borrow_mut().take().unwrap_or_default();
        std::mem::forget(self);
        if errors.is_empty() {
            return Ok(());
        }
        Err(errors.into_iter().map(|e| e.to_compile_error()).collect())
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().as_ref().is_some_and(|e| !e.is_empty()) {
            panic!("wamp-macros: errors were collected and never reported (Ctxt::check not called)");
        }
    }
}
