//! Token fuzzing of both macros: odd, mutated and random token streams must expand to code
//! or to compile errors, never make a macro panic (a panic is an unreadable "proc macro
//! panicked" for the user).
//!
//! The run is bounded so that `cargo test` stays quick; `BOUGH_FUZZ_CASES=N` runs N cases
//! per macro (CI runs a bigger batch), and `BOUGH_FUZZ_SEED=S` picks another sequence.

use std::env;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::str::FromStr;

use proc_macro2::{Delimiter, Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};

/// Cases per macro when `BOUGH_FUZZ_CASES` is not set.
const DEFAULT_CASES: usize = 1500;

fn tokens(text: &str) -> TokenStream {
    TokenStream::from_str(text).unwrap_or_else(|_| panic!("test input {text:?} lexes"))
}

/// Well-formed and nearly well-formed inputs the mutations start from.
const SERVER_ITEMS: [&str; 8] = [
    "pub struct Loader { url: String }",
    "pub struct Store<T: Clone + Send + Sync + 'static, const N: usize> { items: Vec<T> }",
    "impl GenServer for Loader {
        type Call = Request;
        async fn init(url: String) -> Init<Self> { Init::Ok(Loader { url }) }
        async fn handle_call(&mut self, r: Request, from: ReplyTo<u64>) -> Reply<Self> { Reply::Reply(1) }
        async fn handle_cast(&mut self, m: Msg) -> NoReply<Self> { NoReply::NoReply }
        async fn handle_info(&mut self, m: &'static str) -> NoReply<Self> { NoReply::NoReply }
        async fn handle_continue(&mut self, c: Load) -> NoReply<Self> { NoReply::NoReply }
        async fn terminate(&mut self, reason: &ExitReason) {}
    }",
    "impl Room {
        async fn init(topic: String) -> Init<Self> { Init::Ok(Room { topic }) }
        #[call] pub async fn join(&mut self, user: String) -> Vec<String> { vec![user] }
        #[call(timeout = 1000)] pub fn topic(&self) -> String { self.topic.clone() }
        #[call] async fn later(&mut self, (a, b): (u8, u8), from: TypedReplyTo<u8>) -> NoReply<Self> { NoReply::NoReply }
        #[cast] pub async fn post(&mut self, from: String, text: String) {}
        #[info] async fn tick(&mut self) {}
        async fn handle_continue(&mut self, c: Load) -> NoReply<Self> { NoReply::NoReply }
        pub fn helper() -> u8 { 1 }
    }",
    "impl<T: Clone + Send + Sync + 'static, const N: usize> Ring<T, N> where T: Default {
        async fn init(items: Vec<T>) -> Init<Self> { Init::Ok(Ring { items }) }
        #[cast] async fn push(&mut self, item: T) {}
        #[call] async fn len(&self) -> usize { 0 }
    }",
    "impl GenServer for S { fn init(&self, a: u8, b: u8) {} fn handle_cast(&mut self) {} fn handle_cast(&mut self, x: u8) {} }",
    "impl S { #[call] #[cast] fn f<T>(x: &str, y: impl Tr) -> Self {} #[info(x)] fn g(self, from: ReplyTo<u8>) {} type Call = u8; }",
    "enum E { A }",
];

const SERVER_ARGS: [&str; 5] = [
    "",
    "restart = \"transient\", shutdown = 5000, id = \"loader\", name = \"loader\"",
    "crate = \"my_bough\", shutdown = \"brutal_kill\"",
    "restart: :transient, shutdown = 5s, restrat = \"x\"",
    "name = \"\", crate = \"a b\", shutdown = 99999999999999999999999",
];

const SUPERVISORS: [&str; 5] = [
    "/// docs
     pub MyService { strategy: one_for_one, max_restarts: 3, max_seconds: 5,
         children: [Loader, (Cache, 10) { restart: transient, id: \"cache\", shutdown: brutal_kill }] }
     pub(crate) dynamic Loaders { max_children: 10, extra_arguments: (1, 2) }",
    "pub Service(config: Config) { strategy: rest_for_one, name: \"svc\", crate: \"my_bough\",
         children: [(Worker, config.url.clone()), Jobs] }
     pub dynamic Jobs((a, b): (u8, u8)) { strategy: one_for_one, extra_arguments: a }",
    "pub Bad { strategy: :one_for_al, max_seconds: 5ms, children: [{W, 1}, A, A], restrat: 1 }",
    "pub S(u32) { } pub T(a: u8, b: u8) { max_restarts: 3u32, max_seconds: 0 }",
    "dynamic dynamic S { children: A, strategy = \"one_for_all\" }",
];

/// Odd inputs written by hand: each must expand without panicking.
#[test]
fn odd_inputs_expand_without_panicking() {
    let attribute_args = [
        "",
        "restart",
        "restart =",
        "restart = ",
        "= \"transient\"",
        "restart = \"transient\" restart",
        "restart = \"transient\",,",
        ",",
        "restart: :transient",
        "restart = [1, 2]",
        "shutdown = 99999999999999999999999",
        "shutdown = -1",
        "shutdown = 1.5",
        "shutdown = 5s",
        "shutdown = 5ms",
        "shutdown = 0x10",
        "crate = \"\"",
        "crate = \"a::\"",
        "crate = 5",
        "id = \"\", name = \"\"",
        "r#restart = \"transient\"",
        "123 = 4",
        "restart = \"transient\" = \"x\"",
    ];
    let items = [
        "struct S;",
        "pub struct S<T>(T);",
        "struct S<'a, T: 'a>(&'a T);",
        "enum E { A }",
        "union U { a: u8 }",
        "fn f() {}",
        "impl GenServer for S {}",
        "impl S {}",
        "impl<'a> S<'a> { async fn init(_: ()) -> Init<Self> {} }",
        "impl [u8] { async fn init(_: ()) -> Init<Self> {} }",
        "impl Other for S { fn init() {} }",
        "impl GenServer for S { async fn init() {} async fn handle_call(self) {} }",
        "impl GenServer for S { fn init(&self, a: u8, b: u8) {} fn handle_cast(&mut self) {} }",
        "impl GenServer for S { type Call = u8; type Bogus = u8; fn handle_info(&mut self, x: &'static str) {} }",
        "impl GenServer for S { fn handle_call(&mut self, r: Self::Call, f: ReplyTo) {} }",
        "impl GenServer for S { fn handle_call(&mut self, r: u8, f: ReplyTo<u8, u16>) {} }",
        "impl S { #[call] fn a(&self) {} #[call] fn a_(&self) {} #[cast] fn init(&self) {} }",
        "impl S { #[call(timeout)] fn a(&self) {} #[call(timeout = )] fn b(&self) {} #[call(x = 1, timeout = \"5\")] fn c(&self) {} }",
        "impl S { #[call = 5] fn a(&self) {} #[cast()] fn b(&self, from: TypedReplyTo) {} }",
        "impl S { async fn init(_: ()) -> Init<Self> {} #[call] fn r#type(&mut self, r#fn: u8) -> TypedReplyTo<u8> {} }",
        "impl S { async fn init(_: ()) -> Init<Self> {} #[call] fn __(&self) {} #[cast] fn self_(&self, mut a: u8, a: u8) {} }",
        "struct",
        "",
    ];
    for args in attribute_args {
        for item in items {
            let _ = crate::server::expand(tokens(args), tokens(item));
        }
    }
    let supervisors = [
        "",
        "pub",
        "pub S",
        "pub S { }",
        "pub S () { }",
        "pub S (x) { }",
        "pub S (x: ) { }",
        "pub S (x: u8,,) { }",
        "pub S { strategy }",
        "pub S { strategy: }",
        "pub S { strategy: one_for_one, }",
        "pub S { strategy: one_for_one,, }",
        "pub S { children: [,] }",
        "pub S { children: [()] }",
        "pub S { children: [{}] }",
        "pub S { children: [{A, 1}, {}, {B}] }",
        "pub S { children: [(A)] }",
        "pub S { children: [(A, 1, 2)] }",
        "pub S { children: [A { }] }",
        "pub S { children: [A { restart }] }",
        "pub S { children: [A { restart: }] }",
        "pub S { children: [A {restart: transient} {id: \"x\"}] }",
        "pub S { children: A }",
        "pub S { max_restarts: 99999999999999999999 }",
        "pub S { max_restarts: -3, max_seconds: 1.5 }",
        "pub S { max_seconds: 5s, max_children: 3h, max_restarts: 1e3 }",
        "pub S { extra_arguments: }",
        "pub dynamic { }",
        "dynamic dynamic S { }",
        "pub S { crate: \"not a path\" } pub T { crate: 3 }",
        "#[attr] pub S { name: \"\" } #[attr]",
        "pub S { strategy: one_for_one } garbage",
    ];
    for input in supervisors {
        let _ = crate::supervisor::expand(tokens(input));
    }
}

/// A small, fast, reproducible generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

const WORDS: [&str; 40] = [
    "fn",
    "async",
    "impl",
    "pub",
    "self",
    "Self",
    "mut",
    "for",
    "where",
    "type",
    "struct",
    "dynamic",
    "call",
    "cast",
    "info",
    "init",
    "handle_call",
    "handle_cast",
    "handle_info",
    "terminate",
    "GenServer",
    "ReplyTo",
    "TypedReplyTo",
    "NoReply",
    "Init",
    "strategy",
    "children",
    "restart",
    "shutdown",
    "max_seconds",
    "max_restarts",
    "max_children",
    "name",
    "crate",
    "timeout",
    "one_for_one",
    "transient",
    "brutal_kill",
    "infinity",
    "r#type",
];

const LITERALS: [&str; 14] = [
    "5",
    "0",
    "5s",
    "5ms",
    "2min",
    "3u32",
    "99999999999999999999999",
    "1.5",
    "\"transient\"",
    "\"\"",
    "\"a b\"",
    "'a'",
    "b\"x\"",
    "0x10",
];

const PUNCTS: [char; 16] = [
    ':', '=', ',', '#', '&', '<', '>', '-', ';', '!', '@', '|', '.', '*', '\'', '+',
];

fn random_tree(rng: &mut Rng, depth: usize) -> TokenTree {
    match rng.below(if depth == 0 { 3 } else { 4 }) {
        0 => {
            let word = rng.pick(&WORDS);
            match word.strip_prefix("r#") {
                Some(raw) => TokenTree::Ident(Ident::new_raw(raw, Span::call_site())),
                None => TokenTree::Ident(Ident::new(word, Span::call_site())),
            }
        }
        1 => tokens(rng.pick(&LITERALS))
            .into_iter()
            .next()
            .unwrap_or_else(|| TokenTree::Ident(Ident::new("x", Span::call_site()))),
        2 => {
            let spacing = if rng.below(3) == 0 {
                Spacing::Joint
            } else {
                Spacing::Alone
            };
            TokenTree::Punct(Punct::new(rng.pick(&PUNCTS), spacing))
        }
        _ => {
            let len = rng.below(6);
            let inner = (0..len).map(|_| random_tree(rng, depth - 1)).collect();
            TokenTree::Group(Group::new(random_delimiter(rng), inner))
        }
    }
}

fn random_delimiter(rng: &mut Rng) -> Delimiter {
    rng.pick(&[
        Delimiter::Parenthesis,
        Delimiter::Brace,
        Delimiter::Bracket,
        Delimiter::None,
    ])
}

fn random_stream(rng: &mut Rng) -> TokenStream {
    let len = rng.below(30);
    (0..len).map(|_| random_tree(rng, 3)).collect()
}

/// One to three random edits anywhere in `stream`, groups included.
fn mutate(stream: TokenStream, rng: &mut Rng) -> TokenStream {
    let mut stream = stream;
    for _ in 0..=rng.below(3) {
        stream = edit(stream, rng);
    }
    stream
}

fn edit(stream: TokenStream, rng: &mut Rng) -> TokenStream {
    let mut trees: Vec<TokenTree> = stream.into_iter().collect();
    if trees.is_empty() {
        trees.push(random_tree(rng, 2));
        return trees.into_iter().collect();
    }
    let at = rng.below(trees.len());
    match rng.below(9) {
        0 => {
            trees.remove(at);
        }
        1 => {
            let copy = trees[at].clone();
            trees.insert(at, copy);
        }
        2 if at + 1 < trees.len() => trees.swap(at, at + 1),
        3 => trees[at] = random_tree(rng, 2),
        4 => trees.insert(at, random_tree(rng, 2)),
        5 => trees.truncate(at),
        6 => {
            if let TokenTree::Group(group) = &trees[at] {
                trees[at] = TokenTree::Group(Group::new(random_delimiter(rng), group.stream()));
            }
        }
        _ => {
            // Edit inside a group, so that deep syntax is reached too.
            let groups: Vec<usize> = (0..trees.len())
                .filter(|&i| matches!(trees[i], TokenTree::Group(_)))
                .collect();
            if !groups.is_empty() {
                let i = rng.pick(&groups);
                if let TokenTree::Group(group) = &trees[i] {
                    let inner = edit(group.stream(), rng);
                    trees[i] = TokenTree::Group(Group::new(group.delimiter(), inner));
                }
            }
        }
    }
    trees.into_iter().collect()
}

/// Whether `output` holds a `compile_error!` invocation.
fn has_compile_error(output: &TokenStream) -> bool {
    output.clone().into_iter().any(|tree| match tree {
        TokenTree::Ident(ident) => ident == "compile_error",
        TokenTree::Group(group) => has_compile_error(&group.stream()),
        _ => false,
    })
}

/// What every expansion must be: compile errors, items, or (for an input that is no item
/// at all) the input itself, for rustc to report.
fn check_output(output: &TokenStream, input: &TokenStream) -> Result<(), String> {
    if has_compile_error(output) || syn::parse2::<syn::File>(output.clone()).is_ok() {
        return Ok(());
    }
    if output.to_string() == input.to_string() {
        return Ok(());
    }
    Err(format!(
        "expanded to tokens that are neither items nor errors: {output}"
    ))
}

fn cases() -> usize {
    env::var("BOUGH_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

fn rng(salt: u64) -> Rng {
    let seed = env::var("BOUGH_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_b0b6);
    Rng((seed ^ salt) | 1)
}

/// Runs `expand` on each case; a panic or a malformed expansion is a failure naming the
/// input, so it can be added to the odd inputs above.
fn run(
    name: &str,
    mut next_case: impl FnMut() -> (String, Box<dyn Fn() -> (TokenStream, TokenStream)>),
) {
    let mut failures = Vec::new();
    for _ in 0..cases() {
        let (shown, expand) = next_case();
        match catch_unwind(AssertUnwindSafe(&*expand)) {
            Ok((output, input)) => {
                if let Err(why) = check_output(&output, &input) {
                    failures.push(format!("{shown}\n  {why}"));
                }
            }
            Err(_) => failures.push(format!("{shown}\n  panicked")),
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} of {} inputs failed; the first:\n{}",
        failures.len(),
        cases(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn mutated_and_random_gen_server_inputs_never_panic() {
    let mut rng = rng(1);
    run("#[gen_server]", || {
        let random = rng.below(5) == 0;
        let (args, item) = if random {
            (random_stream(&mut rng), random_stream(&mut rng))
        } else {
            let args = tokens(rng.pick(&SERVER_ARGS));
            let item = tokens(rng.pick(&SERVER_ITEMS));
            match rng.below(3) {
                0 => (mutate(args, &mut rng), item),
                1 => (args, mutate(item, &mut rng)),
                _ => (mutate(args, &mut rng), mutate(item, &mut rng)),
            }
        };
        let shown = format!("#[gen_server({args})] {item}");
        (
            shown,
            Box::new(move || {
                (
                    crate::server::expand(args.clone(), item.clone()),
                    item.clone(),
                )
            }),
        )
    });
}

#[test]
fn mutated_and_random_supervisor_inputs_never_panic() {
    let mut rng = rng(2);
    run("supervisor!", || {
        let input = if rng.below(5) == 0 {
            random_stream(&mut rng)
        } else {
            mutate(tokens(rng.pick(&SUPERVISORS)), &mut rng)
        };
        let shown = format!("supervisor! {{ {input} }}");
        (
            shown,
            Box::new(move || (crate::supervisor::expand(input.clone()), input.clone())),
        )
    });
}

#[test]
fn the_seeds_expand_to_items_or_errors() {
    for item in SERVER_ITEMS {
        for args in SERVER_ARGS {
            let output = crate::server::expand(tokens(args), tokens(item));
            assert_eq!(
                check_output(&output, &tokens(item)),
                Ok(()),
                "{args} {item}"
            );
        }
    }
    for input in SUPERVISORS {
        let output = crate::supervisor::expand(tokens(input));
        assert_eq!(check_output(&output, &tokens(input)), Ok(()), "{input}");
    }
}

#[test]
fn a_malformed_expansion_is_caught() {
    let input = tokens("struct S;");
    assert!(check_output(&tokens("struct S; impl"), &input).is_err());
    assert!(check_output(&tokens("struct S; ::core::compile_error!{\"x\"}"), &input).is_ok());
    assert!(check_output(&tokens("struct"), &tokens("struct")).is_ok());
}
