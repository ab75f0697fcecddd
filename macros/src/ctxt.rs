//! Collects every error of one macro invocation, so a user sees them all in one build.

use std::fmt::Display;
use std::thread;

use proc_macro2::TokenStream;
use quote::ToTokens;

/// The errors found so far. It must be consumed with [`check`](Ctxt::check) or
/// [`into_compile_errors`](Ctxt::into_compile_errors): dropping it unchecked is a bug in
/// this crate (errors would be lost silently), so it panics, and the token fuzzing tests
/// catch it.
#[must_use = "errors must be turned into compile errors"]
pub(crate) struct Ctxt {
    errors: Vec<syn::Error>,
    checked: bool,
}

impl Ctxt {
    pub(crate) fn new() -> Ctxt {
        Ctxt {
            errors: Vec::new(),
            checked: false,
        }
    }

    /// An error pointing at `tokens`.
    pub(crate) fn error(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// An error from syn's parser, or built elsewhere.
    pub(crate) fn push(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    /// How many errors so far: compare before and after a step to see if it failed.
    pub(crate) fn len(&self) -> usize {
        self.errors.len()
    }

    /// All errors as one, or `Ok` when there were none.
    pub(crate) fn check(mut self) -> syn::Result<()> {
        self.checked = true;
        let mut errors = std::mem::take(&mut self.errors).into_iter();
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

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !self.checked && !thread::panicking() {
            panic!("forgot to check for errors");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ctxt;

    #[test]
    fn checked_errors_come_out_combined_in_order() {
        let mut cx = Ctxt::new();
        cx.error(quote::quote!(a), "first");
        cx.error(quote::quote!(b), "second");
        assert_eq!(cx.len(), 2);
        let messages: Vec<String> = cx
            .check()
            .unwrap_err()
            .into_iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(messages, ["first", "second"]);
        assert!(Ctxt::new().check().is_ok());
    }

    #[test]
    #[should_panic(expected = "forgot to check for errors")]
    fn an_unchecked_context_panics_when_dropped() {
        let mut cx = Ctxt::new();
        cx.error(quote::quote!(a), "lost");
    }
}
