//! The README shows the seed example as it is: every Rust block of its seed section is
//! copied from `examples/auth_loader.rs`.

fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn readme_rust_blocks_of_the_seed_are_in_the_example() {
    let readme = include_str!("../README.md");
    let example = squash(include_str!("../examples/auth_loader.rs"));
    let seed = readme
        .split("## The seed, module by module")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README has a seed section");
    let blocks: Vec<&str> = seed
        .split("```rust,ignore\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap())
        .collect();
    assert_eq!(blocks.len(), 3, "one Rust block per Elixir module");
    for block in blocks {
        assert!(
            example.contains(&squash(block)),
            "README block not in the example:\n{block}"
        );
    }
}

#[test]
fn readme_starts_with_the_two_commands() {
    let readme = include_str!("../README.md");
    let commands = readme
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let lines: Vec<&str> = commands.lines().collect();
    assert!(lines[0].starts_with("cargo run --example auth_loader"));
    assert!(lines[1].starts_with("cargo test --workspace"));
}
