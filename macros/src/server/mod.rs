//! `#[gen_server]`: on the server struct (its child spec), on its `impl GenServer` block
//! (the callbacks form) or on its `impl` block with request handlers (the typed form).
//!
//! Each goes parse → validate → expand: [`options`] and [`parse`] build the model,
//! [`validate`] collects every error, [`expand`] and [`typed`] generate the code, even
//! when there were errors, so that code naming the server does not fail a second time.

mod expand;
mod options;
mod parse;
mod typed;
mod validate;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{GenericParam, Item, ItemImpl, ItemStruct};

use crate::ctxt::Ctxt;
use options::Place;

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let item = match syn::parse2::<Item>(input.clone()) {
        Ok(item) => item,
        // Not an item at all: let rustc report the syntax error on the user's tokens.
        Err(_) => return input,
    };
    let mut cx = Ctxt::new();
    let output = match item {
        Item::Struct(item) => server_struct(args, &item, &mut cx),
        Item::Impl(block) => impl_block(args, &block, &mut cx),
        Item::Enum(item) => {
            cx.error(
                item.enum_token,
                "#[gen_server] goes on a struct: a server's state is one value; \
                 wrap the enum in a struct, such as `struct Machine { state: State }`",
            );
            item.into_token_stream()
        }
        Item::Union(item) => {
            cx.error(
                item.union_token,
                "#[gen_server] goes on a struct, not on a union",
            );
            item.into_token_stream()
        }
        other => {
            cx.error(
                &other,
                "#[gen_server] goes on the server struct, on its `impl GenServer` block, or on \
                 its `impl` block of `#[call]`, `#[cast]` and `#[info]` handlers",
            );
            other.into_token_stream()
        }
    };
    let errors = cx.into_compile_errors();
    quote!(#output #errors)
}

fn server_struct(args: TokenStream, item: &ItemStruct, cx: &mut Ctxt) -> TokenStream {
    let options = options::parse(args, Place::Struct, cx);
    let mut borrows = false;
    for param in &item.generics.params {
        if let GenericParam::Lifetime(lifetime) = param {
            borrows = true;
            cx.error(
                lifetime,
                format!(
                    "a GenServer cannot borrow: remove `{}`; a process outlives any borrow, so \
                     own the data or share it with `Arc`",
                    lifetime.lifetime
                ),
            );
        }
    }
    if borrows {
        // Its impls could not hold either; the struct alone avoids errors about them.
        return item.into_token_stream();
    }
    // Options that failed validation were not stored: the impls use the defaults for them.
    expand::server_struct(item, &options)
}

fn impl_block(args: TokenStream, item: &ItemImpl, cx: &mut Ctxt) -> TokenStream {
    if let Some((path, _)) = &item.trait_
        && path.segments.last().is_none_or(|s| s.ident != "GenServer")
    {
        cx.error(
            path,
            "#[gen_server] goes on `impl GenServer for ...` or on the server's own `impl` \
             block, not on an impl of another trait",
        );
        return item.into_token_stream();
    }
    let place = match item.trait_ {
        Some(_) => Place::Callbacks,
        None => Place::Typed,
    };
    let options = options::parse(args, place, cx);
    let block = parse::parse(item, cx);
    let verdict = validate::validate(&block, cx);
    match block.form {
        parse::Form::Callbacks => expand::callbacks(&block, &verdict, &options.krate()),
        parse::Form::Typed => typed::typed(&block, &verdict, &options),
    }
}
