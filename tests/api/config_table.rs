//! The README's configuration table and `invitations::config::VARIABLES` list
//! the same variables with the same defaults (no database needed).

use std::collections::BTreeMap;

/// `name → default` from the table under `## Configuration` in README.md: a
/// default in backticks is a literal value; anything else (`*(unset)*`, or
/// prose such as "the provider's public API") means no literal default.
fn readme_table() -> BTreeMap<String, Option<String>> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let section = readme
        .split("\n## Configuration\n")
        .nth(1)
        .expect("a ## Configuration section")
        .split("\n## ")
        .next()
        .unwrap_or_default();
    let mut rows = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        let Some(name) = cells
            .first()
            .and_then(|c| c.strip_prefix('`'))
            .and_then(|c| c.strip_suffix('`'))
        else {
            continue; // the header and the |---| line
        };
        let default = cells
            .get(1)
            .and_then(|c| c.strip_prefix('`'))
            .and_then(|c| c.strip_suffix('`'))
            .map(str::to_owned);
        let previous = rows.insert(name.to_owned(), default);
        assert!(previous.is_none(), "{name} is listed twice in the README");
    }
    rows
}

#[test]
fn the_readme_configuration_table_lists_exactly_the_variables_and_defaults_of_config() {
    let readme = readme_table();
    assert!(
        readme.len() > 10,
        "the README table was not found or not parsed: {readme:?}"
    );
    let mut code = BTreeMap::new();
    for (name, default, _) in invitations::config::VARIABLES {
        let previous = code.insert((*name).to_owned(), default.map(str::to_owned));
        assert!(previous.is_none(), "{name} is listed twice in VARIABLES");
    }
    let only_readme: Vec<_> = readme.keys().filter(|k| !code.contains_key(*k)).collect();
    let only_code: Vec<_> = code.keys().filter(|k| !readme.contains_key(*k)).collect();
    assert!(
        only_readme.is_empty() && only_code.is_empty(),
        "only in the README: {only_readme:?}; only in config::VARIABLES: {only_code:?}"
    );
    assert_eq!(readme, code, "the defaults differ");
}

#[test]
fn every_variable_the_source_reads_is_in_the_table() {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut read = std::collections::BTreeSet::new();
    let mut stack = vec![std::path::PathBuf::from(src)];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // Every string literal that is a whole INVITATIONS_* name.
        for (at, _) in text.match_indices("\"INVITATIONS_") {
            let rest = &text[at + 1..];
            let end = rest
                .find(|c: char| !(c.is_ascii_uppercase() || c == '_'))
                .unwrap_or(rest.len());
            if rest[end..].starts_with('"') {
                read.insert(rest[..end].to_owned());
            }
        }
    }
    let listed: std::collections::BTreeSet<String> = invitations::config::VARIABLES
        .iter()
        .map(|(name, _, _)| (*name).to_owned())
        .collect();
    let missing: Vec<_> = read.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "read by src/ but not in config::VARIABLES: {missing:?}"
    );
    for name in ["DATABASE_URL", "RUST_LOG"] {
        assert!(listed.contains(name), "{name} is not in config::VARIABLES");
    }
}
