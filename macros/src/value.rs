//! What a user wrote after `key =` or `key:`, classified, so each option can say precisely
//! what is wrong with it (Elixir users will write `:transient` and bare atoms).

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::ParseStream;
use syn::{Ident, Lit, LitInt, LitStr, Token};

pub(crate) enum Value {
    Str(LitStr),
    Int(LitInt),
    /// `:name`, an Elixir atom.
    Atom(TokenStream, Ident),
    /// A bare identifier.
    Ident(Ident),
    /// Anything else, kept for the error span.
    Other(TokenStream),
    /// Nothing before the next comma.
    Missing,
}

impl Value {
    /// Reads the tokens up to the next top-level comma (not consumed).
    pub(crate) fn parse(input: ParseStream) -> syn::Result<Value> {
        let mut tokens = Vec::new();
        while !input.is_empty() && !input.peek(Token![,]) {
            tokens.push(input.parse::<TokenTree>()?);
        }
        Ok(Value::classify(tokens))
    }

    fn classify(tokens: Vec<TokenTree>) -> Value {
        match tokens.as_slice() {
            [] => Value::Missing,
            [TokenTree::Literal(literal)] => match Lit::new(literal.clone()) {
                Lit::Str(s) => Value::Str(s),
                Lit::Int(n) => Value::Int(n),
                other => Value::Other(other.into_token_stream()),
            },
            [TokenTree::Ident(ident)] => Value::Ident(ident.clone()),
            [TokenTree::Punct(colon), TokenTree::Ident(ident)] if colon.as_char() == ':' => {
                Value::Atom(tokens.iter().cloned().collect(), ident.clone())
            }
            _ => Value::Other(tokens.into_iter().collect()),
        }
    }
}

impl ToTokens for Value {
    fn to_tokens(&self, out: &mut TokenStream) {
        match self {
            Value::Str(s) => s.to_tokens(out),
            Value::Int(n) => n.to_tokens(out),
            Value::Atom(tokens, _) | Value::Other(tokens) => tokens.to_tokens(out),
            Value::Ident(ident) => ident.to_tokens(out),
            Value::Missing => {}
        }
    }
}

/// Consumes everything up to and including the next top-level comma.
pub(crate) fn skip_past_comma(input: ParseStream) -> syn::Result<()> {
    while !input.is_empty() {
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
            break;
        }
        input.parse::<TokenTree>()?;
    }
    Ok(())
}

/// What an error about `value` points at: the value, or its key when it is missing.
pub(crate) fn at(key: &Ident, value: &Value) -> TokenStream {
    match value {
        Value::Missing => key.to_token_stream(),
        _ => value.to_token_stream(),
    }
}
