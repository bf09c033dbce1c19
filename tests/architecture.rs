//! The layering rules of ARCHITECTURE.md, checked on the source: no import
//! cycles between files, no module importing a layer above its own, a
//! `domain` free of I/O and of the web framework, and no hidden channel
//! (thread- or task-local) carrying request state.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module's layer: a module may import its own module's files
/// and any module of a lower layer, never one of a higher layer.
const LAYERS: &[(&str, u8)] = &[
    ("domain", 0),
    ("clock", 1),
    ("config", 1),
    ("error", 1),
    ("metrics", 1),
    ("contract", 2),
    ("telemetry", 2),
    ("macros", 2),
    ("outbound", 2),
    ("db", 3),
    ("auth", 4),
    ("mail", 4),
    ("services", 5),
    ("jobs", 6),
    ("http", 6),
    ("startup", 7),
    ("cli", 8),
];

/// Crates `domain` may not use: the web framework, the database, the network.
const NOT_IN_DOMAIN: &[&str] = &["actix_web", "diesel", "reqwest", "tokio", "r2d2", "lettre"];

/// The only thread-locals, and why they carry no request state.
const ALLOWED_THREAD_LOCALS: &[&str] = &[
    // SQLite's process-wide writer queue: whether this thread holds it.
    "db/mod.rs",
    // Argon2's scratch memory, reused by the thread that computes.
    "domain/password.rs",
];

struct Source {
    module: String,
    /// Relative to `src/`.
    file: String,
    text: String,
}

fn sources() -> Vec<Source> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(&root).expect("under src");
            let mut parts: Vec<String> = relative
                .with_extension("")
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if matches!(
                parts.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                parts.pop();
            }
            let text = std::fs::read_to_string(&path).expect("read source");
            // Unit tests may reach anywhere.
            let text = match text.find("#[cfg(test)]\nmod tests") {
                Some(at) => text[..at].to_owned(),
                None => text,
            };
            Source {
                module: parts.join("::"),
                file: relative.to_string_lossy().into_owned(),
                text,
            }
        })
        .collect()
}

/// The longest known module that `path` (`a::b::c`) starts with.
fn resolve(known: &BTreeSet<String>, path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split("::").collect();
    (1..=segments.len())
        .rev()
        .map(|n| segments[..n].join("::"))
        .find(|candidate| known.contains(candidate))
}

/// Every `crate::…` path in `text`, with `use crate::a::{b, c::d}` groups
/// expanded one level (enough for this codebase's imports).
fn crate_paths(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let base = rest[..end].trim_end_matches(':').to_owned();
        if rest[end..].starts_with('{') && rest[..end].ends_with("::") {
            let close = rest[end..].find('}').map_or(rest.len(), |c| end + c);
            for item in rest[end + 1..close].split(',') {
                let item = item.trim().split(" as ").next().unwrap_or("").trim();
                let item = item.trim_start_matches('{');
                if item == "self" || item.is_empty() {
                    paths.push(base.clone());
                } else {
                    paths.push(format!("{base}::{item}"));
                }
            }
        }
        paths.push(base);
    }
    paths
}

fn import_graph(sources: &[Source]) -> BTreeMap<String, BTreeSet<String>> {
    let known: BTreeSet<String> = sources.iter().map(|s| s.module.clone()).collect();
    sources
        .iter()
        .map(|source| {
            let mut targets: BTreeSet<String> = crate_paths(&source.text)
                .iter()
                .filter_map(|path| resolve(&known, path))
                .collect();
            let parent = source.module.rsplit_once("::").map_or("", |(p, _)| p);
            let mut rest = source.text.as_str();
            while let Some(at) = rest.find("super::") {
                rest = &rest[at + "super::".len()..];
                let end = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .unwrap_or(rest.len());
                let path = if parent.is_empty() {
                    rest[..end].to_owned()
                } else {
                    format!("{parent}::{}", &rest[..end])
                };
                targets.extend(resolve(&known, path.trim_end_matches(':')));
            }
            targets.remove(&source.module);
            targets.remove("");
            (source.module.clone(), targets)
        })
        .collect()
}

fn layer_of(module: &str) -> Option<u8> {
    let top = module.split("::").next().unwrap_or("");
    LAYERS
        .iter()
        .find(|(name, _)| *name == top)
        .map(|(_, l)| *l)
}

#[test]
fn every_module_has_a_layer() {
    let missing: Vec<String> = sources()
        .into_iter()
        .map(|s| s.module)
        .filter(|m| !m.is_empty() && m != "main" && layer_of(m).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a layer in tests/architecture.rs (and ARCHITECTURE.md): {missing:?}"
    );
}

#[test]
fn no_module_imports_a_layer_above_its_own() {
    let graph = import_graph(&sources());
    let mut violations = Vec::new();
    for (from, targets) in &graph {
        let Some(own) = layer_of(from) else { continue };
        for to in targets {
            let same_module = from.split("::").next() == to.split("::").next();
            if let Some(theirs) = layer_of(to)
                && !same_module
                && theirs >= own
            {
                violations.push(format!(
                    "{from} (layer {own}) imports {to} (layer {theirs})"
                ));
            }
        }
    }
    assert!(violations.is_empty(), "{violations:#?}");
}

#[test]
fn no_import_cycles_between_files() {
    let graph = import_graph(&sources());
    // Depth-first search; a back edge is a cycle.
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
        cycles: &mut Vec<String>,
    ) {
        marks.insert(node.to_owned(), Mark::Open);
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next.as_str()) {
                Some(Mark::Open) => {
                    let from = stack.iter().position(|n| n == next).unwrap_or(0);
                    cycles.push(format!("{} -> {next}", stack[from..].join(" -> ")));
                }
                Some(Mark::Done) => {}
                None => visit(next, graph, marks, stack, cycles),
            }
        }
        stack.pop();
        marks.insert(node.to_owned(), Mark::Done);
    }
    let (mut marks, mut cycles) = (BTreeMap::new(), Vec::new());
    for node in graph.keys() {
        if !marks.contains_key(node) {
            visit(node, &graph, &mut marks, &mut Vec::new(), &mut cycles);
        }
    }
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
}

#[test]
fn the_domain_does_no_io_and_knows_no_framework() {
    let offenders: Vec<String> = sources()
        .into_iter()
        .filter(|s| s.module.starts_with("domain"))
        .flat_map(|s| {
            NOT_IN_DOMAIN
                .iter()
                .filter(|name| s.text.contains(&format!("{name}::")))
                .map(|name| format!("{} uses {name}", s.file))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(offenders.is_empty(), "{offenders:#?}");
}

#[test]
fn no_thread_or_task_local_carries_request_state() {
    let found: Vec<String> = sources()
        .into_iter()
        .filter(|s| s.text.contains("thread_local!") || s.text.contains("task_local!"))
        .map(|s| s.file)
        .filter(|path| !ALLOWED_THREAD_LOCALS.contains(&path.as_str()))
        .collect();
    assert!(
        found.is_empty(),
        "thread- or task-locals outside the allowed list: {found:?}"
    );
}

#[test]
fn the_checks_see_imports() {
    // The parser itself: a group import and a nested path are both found.
    let paths = crate_paths(
        "use crate::db::{self, outbox::OutboxRow};\nlet x = crate::error::AppError::NotFound;",
    );
    assert!(paths.contains(&"db".to_owned()));
    assert!(paths.contains(&"db::outbox::OutboxRow".to_owned()));
    assert!(paths.contains(&"error::AppError::NotFound".to_owned()));
}

#[test]
fn the_error_type_knows_no_framework() {
    // `AppError` and its codes are the core's; their HTTP rendering is `http::problem`'s.
    let error = sources()
        .into_iter()
        .find(|s| s.module == "error")
        .expect("src/error.rs");
    assert!(
        !error.text.contains("actix_web"),
        "src/error.rs uses actix_web"
    );
}
