//! The core's modules depend on each other one way only, in the layers `src/lib.rs` lists and
//! docs/architecture.md draws: a module may use modules of its own layer or of the layers before
//! it, never of a later one; and no two modules outside the turn layer depend on each other, at
//! the top level or among the files of one directory.
//!
//! It reads the `crate::`, `super::` and `self::` paths of every source file (comments and
//! string literals dropped): simple on purpose, and strict enough to catch a back edge the day
//! it is written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, first to last, as in `src/lib.rs`.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "model",
        &[
            "activity",
            "address",
            "channel",
            "dead_letter",
            "error",
            "format",
            "later",
            "locale",
            "message",
            "outcome",
            "recognize",
            "storage",
            "text",
            "turn_lock",
            "wire_value",
        ],
    ),
    ("events and middleware", &["event", "middleware"]),
    ("dialog stack data", &["stack", "state"]),
    ("delivery", &["delivery"]),
    ("turns", &["bot", "console", "dialog", "prompt", "session", "testing"]),
    ("proactive", &["proactive"]),
];

/// The layer in which modules may use each other both ways.
const CYCLES_ALLOWED: &str = "turns";

struct Source {
    /// `recognize::time_parser`, `bot`, `lib`.
    module: Vec<String>,
    /// Whether the file is a `mod.rs` or `lib.rs` (its `super` is its parent's parent).
    is_dir_root: bool,
    code: String,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without comments, string and char literals (so that doc examples and messages
/// do not count as dependencies).
fn code_only(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if rest.starts_with("/*") {
            i += 2;
            while i < bytes.len() && !text[i..].starts_with("*/") {
                i += 1;
            }
            i += 2;
        } else if rest.starts_with("r#\"") || rest.starts_with("r\"") {
            let hashes = rest[1..].bytes().take_while(|b| *b == b'#').count();
            let close = format!("\"{}", "#".repeat(hashes));
            i += 2 + hashes;
            match text[i..].find(&close) {
                Some(end) => i += end + close.len(),
                None => i = bytes.len(),
            }
            out.push_str("\"\"");
        } else if bytes[i] == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                if bytes[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if bytes[i] == b'\'' && rest.len() >= 3 && (rest.as_bytes()[2] == b'\'' || rest.starts_with("'\\")) {
            // A char literal ('x' or '\n'), not a lifetime.
            let end = rest[1..].find('\'').map(|p| p + 2).unwrap_or(1);
            i += end;
            out.push_str("' '");
        } else {
            let ch = rest.chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn sources(src: &Path) -> Vec<Source> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(src).unwrap().with_extension("");
            let mut module: Vec<String> =
                relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            let is_dir_root = matches!(module.last().map(String::as_str), Some("mod" | "lib"));
            if module.last().is_some_and(|m| m == "mod") {
                module.pop();
            }
            let code = code_only(&std::fs::read_to_string(&path).unwrap());
            Source { module, is_dir_root, code }
        })
        .collect()
}

/// Every path a file names, expanded from `use` trees: `crate::a::b`, `super::c`, `self::d`.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    // `use` statements, with their braces.
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before_ok = at == 0 || !rest.as_bytes()[at - 1].is_ascii_alphanumeric() && rest.as_bytes()[at - 1] != b'_';
        rest = &rest[at + 4..];
        if !before_ok {
            continue;
        }
        let Some(end) = rest.find(';') else { break };
        let tree: String = rest[..end].chars().filter(|c| !c.is_whitespace()).collect();
        expand(&[], &tree, &mut found);
        rest = &rest[end..];
    }
    // Paths in expressions and types: `crate::x::y`, `super::x`.
    for root in ["crate::", "super::"] {
        let mut rest = code;
        while let Some(at) = rest.find(root) {
            let before = rest[..at].chars().last();
            rest = &rest[at..];
            let len = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                found.push(rest[..len].split("::").filter(|s| !s.is_empty()).map(str::to_owned).collect());
            }
            rest = &rest[len.max(1)..];
        }
    }
    found.retain(|p: &Vec<String>| matches!(p.first().map(String::as_str), Some("crate" | "super" | "self")));
    found
}

fn expand(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
    let tree = tree.strip_prefix("pub(crate)").or_else(|| tree.strip_prefix("pub")).unwrap_or(tree);
    let tree = tree.trim_start_matches("::");
    match tree.find('{') {
        None => {
            let mut path = prefix.to_vec();
            path.extend(tree.split("::").filter(|s| !s.is_empty()).map(str::to_owned));
            out.push(path);
        }
        Some(open) => {
            let mut path = prefix.to_vec();
            path.extend(tree[..open].split("::").filter(|s| !s.is_empty()).map(str::to_owned));
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand(&path, &inner[start..i], out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            if start < inner.len() {
                expand(&path, &inner[start..], out);
            }
        }
    }
}

/// The module a path leads to, as deep as the known modules go.
fn target(from: &Source, path: &[String], modules: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    let mut base: Vec<String> = match path.first()?.as_str() {
        "crate" => Vec::new(),
        "self" => from.module.clone(),
        "super" => {
            let mut m = from.module.clone();
            let _ = from.is_dir_root;
            m.pop();
            m
        }
        _ => return None,
    };
    let mut rest = &path[1..];
    while rest.first().is_some_and(|s| s == "super") {
        base.pop();
        rest = &rest[1..];
    }
    for segment in rest {
        let mut next = base.clone();
        next.push(segment.clone());
        if modules.contains(&next) {
            base = next;
        } else {
            break;
        }
    }
    Some(base)
}

/// A module's path, `["recognize", "time_parser"]`.
type Module = Vec<String>;

/// Edges between modules: (from, to), deepest known modules; and every module.
fn edges(src: &Path) -> (Vec<(Module, Module)>, BTreeSet<Module>) {
    let sources = sources(src);
    let mut modules: BTreeSet<Vec<String>> = sources.iter().map(|s| s.module.clone()).collect();
    modules.insert(Vec::new());
    let mut edges = Vec::new();
    for source in &sources {
        for path in paths(&source.code) {
            if let Some(to) = target(source, &path, &modules)
                && to != source.module
            {
                edges.push((source.module.clone(), to));
            }
        }
    }
    (edges, modules)
}

/// Root re-exports (`crate::Bot`) point at `lib`; resolve them to the module they come from.
fn root_names(lib: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    let mut found = Vec::new();
    for line in code_only(lib).lines() {
        if let Some(tree) = line.trim().strip_prefix("pub use ") {
            expand(&[], tree.trim_end_matches(';'), &mut found);
        }
    }
    for path in found {
        if path.len() >= 2 {
            names.insert(path.last().unwrap().clone(), path[0].clone());
        }
    }
    names
}

fn find_cycle(nodes: &BTreeSet<String>, edges: &BTreeSet<(String, String)>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeSet<(String, String)>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_owned(), 1);
        stack.push(node.to_owned());
        for (_, to) in edges.iter().filter(|(from, _)| from == node) {
            match state.get(to.as_str()).copied().unwrap_or(0) {
                1 => {
                    let start = stack.iter().position(|n| n == to).unwrap();
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(to.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(cycle) = visit(to, edges, state, stack) {
                        return Some(cycle);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in nodes {
        if state.get(node).copied().unwrap_or(0) == 0
            && let Some(cycle) = visit(node, edges, &mut state, &mut Vec::new())
        {
            return Some(cycle);
        }
    }
    None
}

/// Sibling modules of one directory (or the crate's top level) that form a cycle.
fn sibling_cycles(
    edges: &[(Module, Module)],
    modules: &BTreeSet<Module>,
    skip_top: &BTreeSet<String>,
) -> Vec<Vec<String>> {
    let parents: BTreeSet<Vec<String>> =
        modules.iter().filter(|m| !m.is_empty()).map(|m| m[..m.len() - 1].to_vec()).collect();
    let mut cycles = Vec::new();
    for parent in parents {
        let depth = parent.len();
        let children: BTreeSet<String> = modules
            .iter()
            .filter(|m| m.len() == depth + 1 && m[..depth] == parent[..])
            .map(|m| m[depth].clone())
            .filter(|name| !(depth == 0 && skip_top.contains(name)))
            .collect();
        let local: BTreeSet<(String, String)> = edges
            .iter()
            .filter(|(from, to)| {
                from.len() > depth && to.len() > depth && from[..depth] == parent[..] && to[..depth] == parent[..]
            })
            .map(|(from, to)| (from[depth].clone(), to[depth].clone()))
            .filter(|(from, to)| from != to && children.contains(from) && children.contains(to))
            .collect();
        if let Some(cycle) = find_cycle(&children, &local) {
            let mut named = parent.clone();
            named.push(cycle.join(" -> "));
            cycles.push(named);
        }
    }
    cycles
}

fn crate_src(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name).join("src")
}

#[test]
fn every_dependency_points_to_the_same_or_an_earlier_layer() {
    let src = crate_src("botwright");
    let (edges, modules) = edges(&src);
    let layer_of: BTreeMap<&str, usize> =
        LAYERS.iter().enumerate().flat_map(|(i, (_, mods))| mods.iter().map(move |m| (*m, i))).collect();
    let top: BTreeSet<&str> = modules.iter().filter(|m| m.len() == 1).map(|m| m[0].as_str()).collect();
    let unplaced: Vec<_> = top.iter().filter(|m| **m != "lib" && !layer_of.contains_key(*m)).collect();
    assert!(unplaced.is_empty(), "modules without a layer (add them to LAYERS and lib.rs): {unplaced:?}");
    let names = root_names(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut back = BTreeSet::new();
    for (from, to) in &edges {
        let (Some(from_top), Some(&from_layer)) = (from.first(), from.first().and_then(|m| layer_of.get(m.as_str())))
        else {
            continue;
        };
        let to_top = match to.first() {
            Some(t) => t.clone(),
            // `crate::Bot`: a root re-export; the paths named it, find which.
            None => continue,
        };
        if let Some(&to_layer) = layer_of.get(to_top.as_str())
            && to_layer > from_layer
        {
            back.insert(format!("{from_top} ({}) -> {to_top} ({})", LAYERS[from_layer].0, LAYERS[to_layer].0));
        }
    }
    // Root re-exports used through `crate::Name`.
    for source in sources(&src) {
        let Some(from_top) = source.module.first() else { continue };
        let Some(&from_layer) = layer_of.get(from_top.as_str()) else { continue };
        for path in paths(&source.code) {
            if path.len() == 2
                && path[0] == "crate"
                && let Some(module) = names.get(&path[1])
                && let Some(&to_layer) = layer_of.get(module.as_str())
                && to_layer > from_layer
            {
                back.insert(format!("{from_top} -> crate::{} (from {module})", path[1]));
            }
        }
    }
    assert!(
        back.is_empty(),
        "dependencies pointing to a later layer:\n{}",
        back.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn no_module_cycles_outside_the_turn_layer() {
    let src = crate_src("botwright");
    let (edges, modules) = edges(&src);
    let turn_layer: BTreeSet<String> = LAYERS
        .iter()
        .filter(|(name, _)| *name == CYCLES_ALLOWED)
        .flat_map(|(_, mods)| mods.iter().map(|m| m.to_string()))
        .collect();
    let cycles = sibling_cycles(&edges, &modules, &turn_layer);
    assert!(cycles.is_empty(), "import cycles: {cycles:?}");
}

#[test]
fn the_bot_framework_crate_has_no_module_cycles() {
    let (edges, modules) = edges(&crate_src("botwright-botframework"));
    let cycles = sibling_cycles(&edges, &modules, &BTreeSet::new());
    assert!(cycles.is_empty(), "import cycles: {cycles:?}");
}

/// The checker itself finds what it must: a back edge through a `use` tree, and a cycle.
#[test]
fn the_checker_sees_use_trees_and_cycles() {
    let found = paths(&code_only(
        "use crate::{a::B, c::{d::E, F}};\nfn f() { super::g::h(); let s = \"crate::x\"; } // crate::y",
    ));
    assert!(found.contains(&vec!["crate".into(), "a".into(), "B".into()]));
    assert!(found.contains(&vec!["crate".into(), "c".into(), "d".into(), "E".into()]));
    assert!(found.contains(&vec!["super".into(), "g".into(), "h".into()]));
    assert!(!found.iter().any(|p| p.contains(&"x".to_owned())), "{found:?}");
    let nodes: BTreeSet<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let edges: BTreeSet<(String, String)> =
        [("a", "b"), ("b", "c"), ("c", "a")].iter().map(|(x, y)| (x.to_string(), y.to_string())).collect();
    assert!(find_cycle(&nodes, &edges).is_some());
    let acyclic: BTreeSet<(String, String)> =
        [("a", "b"), ("b", "c")].iter().map(|(x, y)| (x.to_string(), y.to_string())).collect();
    assert!(find_cycle(&nodes, &acyclic).is_none());
}
