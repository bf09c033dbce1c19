//! Every error code of `invitations::error::ALL_CODES` is the code argument
//! of some `.problem(status, "code")` assertion in the black-box tests. The
//! test sources are tokenized (comments skipped, strings read as literals),
//! so a code that only appears in a comment, a request body or an unrelated
//! string does not count.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Str(String),
    Punct(char),
    /// Numbers, char literals and lifetimes: only their place matters.
    Other,
}

/// Rust source → tokens, enough to find calls and their literal arguments.
fn tokenize(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && {
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            chars.get(i + 1 + hashes) == Some(&'"')
        } {
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            let start = i + 2 + hashes;
            let mut end = start;
            while end < chars.len()
                && !(chars[end] == '"'
                    && chars[end + 1..].iter().take_while(|&&h| h == '#').count() >= hashes)
            {
                end += 1;
            }
            tokens.push(Token::Str(chars[start..end].iter().collect()));
            i = end + 1 + hashes;
        } else if c == '"' {
            let mut text = String::new();
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if let Some(&ch) = chars.get(i) {
                    text.push(ch);
                }
                i += 1;
            }
            tokens.push(Token::Str(text));
            i += 1;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\'') or a lifetime ('a).
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
            }
            tokens.push(Token::Other);
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if c.is_ascii_digit() {
                tokens.push(Token::Other);
            } else {
                tokens.push(Token::Ident(word));
            }
        } else {
            tokens.push(Token::Punct(c));
            i += 1;
        }
    }
    tokens
}

/// The top-level, comma-separated arguments of the call whose `(` is at `open`.
fn arguments(tokens: &[Token], open: usize) -> Vec<Vec<Token>> {
    let mut args = vec![Vec::new()];
    let mut depth = 0usize;
    for token in &tokens[open + 1..] {
        match token {
            Token::Punct('(' | '[' | '{') => depth += 1,
            Token::Punct(')' | ']' | '}') if depth == 0 => break,
            Token::Punct(')' | ']' | '}') => depth -= 1,
            Token::Punct(',') if depth == 0 => {
                args.push(Vec::new());
                continue;
            }
            _ => {}
        }
        args.last_mut().expect("an argument").push(token.clone());
    }
    args.retain(|a| !a.is_empty()); // a trailing comma
    args
}

/// The codes of every `.problem(status, "code")` call in `source`.
fn asserted_codes(source: &str) -> Vec<String> {
    let tokens = tokenize(source);
    let mut codes = Vec::new();
    for i in 0..tokens.len().saturating_sub(2) {
        if tokens[i] == Token::Punct('.')
            && tokens[i + 1] == Token::Ident("problem".into())
            && tokens[i + 2] == Token::Punct('(')
            && let [_, code] = arguments(&tokens, i + 2).as_slice()
            && let [Token::Str(code)] = code.as_slice()
        {
            codes.push(code.clone());
        }
    }
    codes
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a tests directory") {
        let path = entry.expect("an entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        // The harness defines the assertions; it does not make them.
        if name == "helpers" || name == "helpers.rs" {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, into);
        } else if name.ends_with(".rs") {
            into.push(path);
        }
    }
}

#[test]
fn the_assertion_parser_reads_only_problem_calls_and_their_code_argument() {
    let source = r##"
        // reply.problem(404, "in_a_comment");
        /* reply.problem(404, "in_a_block_comment"); */
        let body = json!({"code": "in_a_body"});
        let s = r#"reply.problem(409, "in_a_raw_string")"#;
        let c = '"'; let l: &'static str = "x";
        reply.problem(422, "one_line");
        app.post(&path, &token, body)
            .await
            .problem(
                409,
                "over_lines",
            );
        reply.problem(code_of(x), "computed_status")["detail"].clone();
        reply.problem(409, &format!("{}", "not_a_literal"));
    "##;
    assert_eq!(
        asserted_codes(source),
        ["one_line", "over_lines", "computed_status"]
    );
}

#[test]
fn every_error_code_is_asserted_by_some_test() {
    let mut files = Vec::new();
    rust_files(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api")),
        &mut files,
    );
    let asserted: BTreeSet<String> = files
        .iter()
        .flat_map(|p| asserted_codes(&std::fs::read_to_string(p).expect("a test source")))
        .collect();
    let missing: Vec<&str> = invitations::error::ALL_CODES
        .iter()
        .copied()
        .filter(|code| !asserted.contains(*code))
        .collect();
    assert!(
        missing.is_empty(),
        "no test asserts .problem(_, \"CODE\") for: {missing:?}"
    );
    let unknown: Vec<&String> = asserted
        .iter()
        .filter(|code| !invitations::error::ALL_CODES.contains(&code.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "tests assert codes the service does not have: {unknown:?}"
    );
}
