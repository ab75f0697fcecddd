//! Collects every error of one macro invocation, so a user sees them all in one build.

use std::fmt::Display;

use proc_macro2::TokenStream;
use quote::ToTokens;

#[must_use = "errors must be turned into compile errors"]
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: Vec<syn::Error>,
}

impl Ctxt {
    pub(crate) fn new() -> Ctxt {
        Ctxt::default()
    }

    /// An error pointing at `tokens`.
    pub(crate) fn error(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.errors.push(syn::Error::new_spanned(tokens, message));
    }

    /// An error from syn's parser, or built elsewhere.
    pub(crate) fn push(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// How many errors so far: compare before and after a step to see if it failed.
    pub(crate) fn len(&self) -> usize {
        self.errors.len()
    }

    /// All errors as one, or `Ok` when there were none.
    pub(crate) fn check(self) -> syn::Result<()> {
        let mut errors = self.errors.into_iter();
        let Some(mut first) = errors.next() else {
            return Ok(());
        };
        for error in errors {
            first.combine(error);
        }
        Err(first)
    }

    /// The errors as `compile_error!` invocations (nothing when there were none).
    pub(crate) fn into_compile_errors(self) -> TokenStream {
        match self.check() {
            Ok(()) => TokenStream::new(),
            Err(error) => error.into_compile_error(),
        }
    }
}
