//! Parsing: attributes, URI patterns and method signatures into the
//! validated [`model`](crate::model). Errors are collected in a
//! [`Ctxt`](crate::ctxt::Ctxt), one per mistake, each at its span.

pub mod attr;
pub mod method;
