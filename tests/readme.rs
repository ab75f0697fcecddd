//! The README is the crate's front page on crates.io and docs.rs as well as on GitHub. Its
//! Rust blocks are compiled as doc tests (the README is the crate documentation); these
//! tests check what doc tests cannot: that the seed's blocks are the example's own code,
//! that it starts with the two commands a newcomer runs, and that its links work wherever
//! it is shown.

use std::path::Path;

const README: &str = include_str!("../README.md");

fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A block's code as a reader sees it: without the lines rustdoc hides (`# ...`), which
/// only give the doc test what the block leaves out.
fn visible(block: &str) -> String {
    block
        .lines()
        .filter(|line| {
            let line = line.trim_start();
            line != "#" && !line.starts_with("# ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn readme_rust_blocks_of_the_seed_are_in_the_example() {
    let example = squash(include_str!("../examples/auth_loader.rs"));
    let seed = README
        .split("## The seed, module by module")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README has a seed section");
    let blocks: Vec<&str> = seed
        .split("```rust\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap())
        .collect();
    assert_eq!(blocks.len(), 3, "one Rust block per Elixir module");
    for block in blocks {
        let shown = visible(block);
        assert!(
            example.contains(&squash(&shown)),
            "README block not in the example:\n{shown}"
        );
    }
}

#[test]
fn hidden_lines_are_not_shown() {
    assert_eq!(
        visible("a\n# hidden\n  # hidden too\n#\n#[attr]\nb"),
        "a\n#[attr]\nb"
    );
}

#[test]
fn readme_starts_with_the_two_commands() {
    let commands = README
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

/// Every link target in `markdown`: inline links and images `[text](target)`, and
/// reference definitions `[label]: target`. Code blocks and code spans are skipped.
fn links(markdown: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut in_code_block = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_code_block = !in_code_block;
            continue;
        }
        if in_code_block {
            continue;
        }
        let line = without_code_spans(line);
        if let Some(definition) = line.trim_start().strip_prefix('[')
            && let Some((_, target)) = definition.split_once("]: ")
        {
            targets.push(target.trim().to_string());
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').expect("a link target ends with `)`");
            targets.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    targets
}

/// The text of every heading (`## Install`), outside code blocks.
fn headings(markdown: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut in_code_block = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_code_block = !in_code_block;
        } else if !in_code_block
            && let Some((hashes, text)) = line.split_once(' ')
            && !hashes.is_empty()
            && hashes.chars().all(|c| c == '#')
        {
            found.push(text);
        }
    }
    found
}

fn without_code_spans(line: &str) -> String {
    line.split('`').step_by(2).collect::<Vec<_>>().join("")
}

/// GitHub's and rustdoc's anchor for a heading: lower case, spaces become `-`, other
/// punctuation goes.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Where a link into this repository points, as a path in the checkout.
fn repository_path(url: &str) -> Option<&str> {
    let repository = env!("CARGO_PKG_REPOSITORY");
    let url = url.split('#').next().unwrap();
    let blob = url.strip_prefix(repository).and_then(|rest| {
        rest.strip_prefix("/blob/main/")
            .or_else(|| rest.strip_prefix("/tree/main/"))
    });
    let raw = repository
        .strip_prefix("https://github.com/")
        .and_then(|owner_name| {
            url.strip_prefix("https://raw.githubusercontent.com/")?
                .strip_prefix(owner_name)?
                .strip_prefix("/main/")
        });
    blob.or(raw)
}

#[test]
fn readme_links_work_on_github_crates_io_and_docs_rs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let anchors: Vec<String> = headings(README).iter().map(|h| anchor(h)).collect();
    let targets = links(README);
    assert!(targets.len() > 10, "links found: {targets:?}");
    for target in targets {
        if let Some(fragment) = target.strip_prefix('#') {
            assert!(
                anchors.iter().any(|anchor| anchor == fragment),
                "no heading for the link `{target}`"
            );
        } else if let Some(path) = repository_path(&target) {
            assert!(
                root.join(path).exists(),
                "`{target}` points at `{path}`, which is not in the repository"
            );
        } else {
            // A relative link works on GitHub only: crates.io and docs.rs show the README
            // away from the repository's files.
            assert!(
                target.starts_with("https://"),
                "`{target}` is relative; link to {}/blob/main/... instead",
                env!("CARGO_PKG_REPOSITORY")
            );
        }
    }
}

#[test]
fn the_link_reader_finds_every_kind_of_link() {
    let markdown = "See [a](https://a) and ![b](x/b.svg), not `[c](c)`.\n\
                    ```rust\n[d](d)\n```\n[e]: https://e\n";
    assert_eq!(links(markdown), ["https://a", "x/b.svg", "https://e"]);
    assert_eq!(
        headings("# bough\n```rust\n# hidden\n```\n## Install\n#[attr]"),
        ["bough", "Install"]
    );
    assert_eq!(
        anchor(" Your first `supervised` service!"),
        "your-first-supervised-service"
    );
    assert_eq!(
        repository_path("https://github.com/bough-rs/bough/blob/main/docs/semantics.md#x"),
        Some("docs/semantics.md")
    );
    assert_eq!(
        repository_path("https://raw.githubusercontent.com/bough-rs/bough/main/a.svg"),
        Some("a.svg")
    );
    assert_eq!(repository_path("https://github.com/tokio-rs/tokio"), None);
}
