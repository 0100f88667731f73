//! Tests of `walk_matches` against real directory trees in a scratch
//! directory.

use std::fs;
use std::path::{Path, PathBuf};

use sluice_glob::{WalkError, WalkOptions, walk_matches, walk_matches_with};

/// A directory tree under the system temporary directory, removed on drop.
struct Scratch {
    root: PathBuf,
}

impl Scratch {
    fn new(name: &str, files: &[&str]) -> Scratch {
        let root =
            std::env::temp_dir().join(format!("sluice-glob-walk-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        for file in files {
            let path = root.join(file);
            if file.ends_with('/') {
                fs::create_dir_all(&path).unwrap();
            } else {
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(&path, file).unwrap();
            }
        }
        Scratch { root }
    }

    /// Walks and returns the results relative to the root, as text.
    fn walk(&self, patterns: &[&str]) -> Vec<String> {
        self.walk_with(patterns, &WalkOptions::default())
    }

    fn walk_with(&self, patterns: &[&str], options: &WalkOptions) -> Vec<String> {
        let patterns: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        walk_matches_with(&self.root, &patterns, options)
            .unwrap()
            .iter()
            .map(|path| relative(&self.root, path))
            .collect()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or_else(|_| panic!("{} is not under {}", path.display(), root.display()))
        .to_string_lossy()
        .into_owned()
}

const TREE: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    "README.md",
    ".github/workflows/ci.yml",
    ".git/config",
    ".git/objects/ab/cdef",
    "src/main.rs",
    "src/lib.rs",
    "src/nested/deep/mod.rs",
    "node_modules/left-pad/index.js",
    "node_modules/left-pad/package.json",
    "package.json",
    "target/debug/build.rs",
    "empty-dir/",
    "docs/guide.md",
    "docs/img/logo.png",
];

#[test]
fn returns_sorted_files_and_never_directories_or_git() {
    let tree = Scratch::new("all", TREE);
    assert_eq!(
        tree.walk(&["**"]),
        [
            ".github/workflows/ci.yml",
            "Cargo.lock",
            "Cargo.toml",
            "README.md",
            "docs/guide.md",
            "docs/img/logo.png",
            "node_modules/left-pad/index.js",
            "node_modules/left-pad/package.json",
            "package.json",
            "src/lib.rs",
            "src/main.rs",
            "src/nested/deep/mod.rs",
            "target/debug/build.rs",
        ]
    );
}

#[test]
fn table_of_pattern_lists() {
    let tree = Scratch::new("table", TREE);
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["src/**"],
            &["src/lib.rs", "src/main.rs", "src/nested/deep/mod.rs"],
        ),
        (&["src/*.rs"], &["src/lib.rs", "src/main.rs"]),
        (
            &["**/*.rs", "!target/**"],
            &["src/lib.rs", "src/main.rs", "src/nested/deep/mod.rs"],
        ),
        (
            &["**/package.json"],
            &["node_modules/left-pad/package.json", "package.json"],
        ),
        (&["**/package.json", "!node_modules"], &["package.json"]),
        (&["Cargo.*"], &["Cargo.lock", "Cargo.toml"]),
        // hashFiles('docs'): implicit descendants.
        (&["docs"], &["docs/guide.md", "docs/img/logo.png"]),
        (&["docs/"], &["docs/guide.md", "docs/img/logo.png"]),
        (&["./docs/*.md"], &["docs/guide.md"]),
        // Directories alone are never returned.
        (&["empty-dir"], &[]),
        (&["src/nested/*"], &["src/nested/deep/mod.rs"]),
        // `.git` is skipped even when asked for.
        (&[".git/**"], &[]),
        (&["**/config"], &[]),
        (&[".github/**/*.yml"], &[".github/workflows/ci.yml"]),
        (&["does-not-exist/**"], &[]),
        (&[], &[]),
        (&["!src"], &[]),
        (&["# only a comment", ""], &[]),
    ];
    for (patterns, expected) in cases {
        assert_eq!(&tree.walk(patterns), expected, "patterns {patterns:?}");
    }
}

#[test]
fn absolute_patterns_inside_the_root_are_accepted() {
    let tree = Scratch::new("absolute", TREE);
    let root = tree.root.to_str().unwrap().to_owned();
    let patterns = [format!("{root}/src/*.rs"), format!("!{root}/src/lib.rs")];
    let found: Vec<String> = walk_matches(&tree.root, &patterns)
        .unwrap()
        .iter()
        .map(|path| relative(&tree.root, path))
        .collect();
    assert_eq!(found, ["src/main.rs"]);
    let outside = walk_matches(&tree.root, &["/etc/passwd".to_owned()]).unwrap_err();
    assert!(matches!(outside, WalkError::Pattern(_)), "{outside}");
}

#[test]
fn unicode_names() {
    let tree = Scratch::new(
        "unicode",
        &["caf\u{e9}/men\u{fc}.txt", "\u{1f600}.md", "plain.md"],
    );
    assert_eq!(tree.walk(&["caf\u{e9}/*"]), ["caf\u{e9}/men\u{fc}.txt"]);
    assert_eq!(tree.walk(&["?.md"]), ["\u{1f600}.md"]);
}

#[test]
fn invalid_patterns_and_missing_roots_are_errors() {
    let tree = Scratch::new("errors", &["a"]);
    let error = walk_matches(&tree.root, &["src/[".to_owned()]).unwrap_err();
    assert!(matches!(error, WalkError::Pattern(_)), "{error}");
    let missing = tree.root.join("missing");
    let error = walk_matches(&missing, &["**".to_owned()]).unwrap_err();
    assert!(matches!(error, WalkError::Io { .. }), "{error}");
    assert!(error.to_string().contains("missing"), "{error}");
}

#[cfg(unix)]
#[test]
fn symbolic_links() {
    use std::os::unix::fs::symlink;

    let tree = Scratch::new("symlinks", &["real/file.txt", "real/sub/deep.txt"]);
    let root = &tree.root;
    // A link back up the tree: following it forever would never end.
    symlink(root, root.join("real/sub/loop")).unwrap();
    symlink("..", root.join("real/up")).unwrap();
    // A second route to the same directory, a link to a file, a broken link.
    symlink(root.join("real"), root.join("alias")).unwrap();
    symlink(root.join("real/file.txt"), root.join("file-link.txt")).unwrap();
    symlink(root.join("nowhere"), root.join("broken.txt")).unwrap();

    assert_eq!(
        tree.walk(&["**"]),
        [
            "alias/file.txt",
            "alias/sub/deep.txt",
            "file-link.txt",
            "real/file.txt",
            "real/sub/deep.txt",
        ]
    );
    let no_follow = WalkOptions {
        follow_symlinks: false,
    };
    assert_eq!(
        tree.walk_with(&["**"], &no_follow),
        ["file-link.txt", "real/file.txt", "real/sub/deep.txt"]
    );
}
