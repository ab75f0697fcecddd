//! `supervisor!`: named supervisors as types. Static and dynamic supervisors share the
//! parser and the expansion; they differ in validation.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let mut cx = Ctxt::new();
    let supervisors = parse::parse(input, &mut cx);
    let mut output = TokenStream::new();
    for sup in &supervisors {
        validate::validate(sup, &mut cx);
        // Expanded even when invalid, so that code naming the supervisor does not fail a
        // second time.
        output.extend(expand::supervisor(sup));
    }
    output.extend(cx.into_compile_errors());
    output
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::parse::parse;
    use super::validate::validate;
    use crate::ctxt::Ctxt;

    fn errors(input: proc_macro2::TokenStream) -> Vec<String> {
        let mut cx = Ctxt::new();
        for sup in parse(input, &mut cx) {
            validate(&sup, &mut cx);
        }
        match cx.check() {
            Ok(()) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn a_well_formed_block_has_no_errors() {
        let input = quote! {
            /// docs
            pub MyService { strategy: one_for_one, max_restarts: 3, max_seconds: 5,
                children: [Loader, (Cache, 10) { restart: transient, id: "cache" }, Other { shutdown: brutal_kill }] }
            pub(crate) dynamic Loaders { max_children: 10, extra_arguments: (1, 2) }
            pub partition Parts { child: (Loaders, 1) { shutdown: 100 }, partitions: 4, max_seconds: 2 }
            partition Plain { strategy: one_for_one, child: Loaders }
            partition { strategy: one_for_one, children: [] }
        };
        assert_eq!(errors(input), Vec::<String>::new());
    }

    #[test]
    fn partition_supervisors_take_one_child_and_their_own_options() {
        let errors = errors(quote! {
            pub partition Parts { strategy: rest_for_one, children: [A], max_children: 2, partitions: 0 }
            pub Static { strategy: one_for_one, child: A, partitions: 2 }
            pub partition Listed { child: [A, B], partitons: 2 }
        });
        let expected = [
            "a partition supervisor needs at least one partition",
            "its only strategy is `one_for_one`",
            "`Parts` needs a `child`",
            "a partition supervisor takes no `children`",
            "a partition supervisor takes no `max_children`",
            "`child` is an option of partition supervisors",
            "`partitions` is an option of partition supervisors",
            "`child` takes one child",
            "unknown option `partitons` (did you mean `partitions`?); a partition supervisor takes `child`",
        ];
        for fragment in expected {
            assert!(
                errors.iter().any(|e| e.contains(fragment)),
                "no error says {fragment:?}: {errors:#?}"
            );
        }
        assert_eq!(errors.len(), expected.len(), "{errors:#?}");
    }

    #[test]
    fn every_mistake_of_one_block_is_reported() {
        let input = quote! {
            pub Bad { strategy: one_for_al, max_children: 3, children: [A, A], restrat: 1 }
            pub dynamic AlsoBad { strategy: rest_for_one, children: [] }
        };
        let errors = errors(input);
        assert_eq!(errors.len(), 6, "{errors:#?}");
        assert!(
            errors[0].starts_with("unknown strategy `one_for_al` (did you mean `one_for_all`?)")
        );
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("unknown option `restrat`"))
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("only strategy is `one_for_one`"))
        );
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("duplicate child id `A`"))
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("`max_children` is an option of dynamic supervisors"))
        );
        assert!(errors.iter().any(|e| e.contains("starts with no children")));
    }

    #[test]
    fn elixir_spellings_get_hints() {
        let errors = errors(quote! { pub S { strategy: :one_for_one } });
        assert_eq!(errors, ["write `strategy: one_for_one` without the colon"]);
        let errors = errors_of(quote! { pub S { strategy: "one_for_one" } });
        assert_eq!(errors, ["write `strategy: one_for_one` without quotes"]);
    }

    fn errors_of(input: proc_macro2::TokenStream) -> Vec<String> {
        errors(input)
    }

    #[test]
    fn a_missing_strategy_is_reported_at_the_name() {
        let errors = errors(quote! { pub S { children: [] } });
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("`S` needs a `strategy`"));
    }
}
