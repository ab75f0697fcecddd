//! Option slots that are set at most once, with the span of the key that set them.

use proc_macro2::Span;

use crate::ctxt::Ctxt;

/// One option of a macro: `None` until the user writes it; a second write is an error at
/// the second key.
pub(crate) struct Attr<T> {
    name: &'static str,
    value: Option<(Span, T)>,
}

impl<T> Attr<T> {
    pub(crate) fn new(name: &'static str) -> Attr<T> {
        Attr { name, value: None }
    }

    pub(crate) fn set(&mut self, cx: &mut Ctxt, key: &syn::Ident, value: T) {
        if self.value.is_some() {
            cx.error(
                key,
                format!("duplicate `{}`: it is already set above", self.name),
            );
        } else {
            self.value = Some((key.span(), value));
        }
    }

    pub(crate) fn get(&self) -> Option<&T> {
        self.value.as_ref().map(|(_, value)| value)
    }

    /// The span of the key that set it.
    pub(crate) fn span(&self) -> Option<Span> {
        self.value.as_ref().map(|(span, _)| *span)
    }
}
