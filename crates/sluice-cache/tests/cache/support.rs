//! Helpers shared by the integration tests: scratch stores, trees to
//! capture, and children of the test binary for cross-process races.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sluice_cache::{Cache, CacheConfig, CaptureRoot, Digest, LocalBackend};

/// A scratch directory with a cache in `cache/` and room for trees.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("scratch directory"),
        }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn config(&self) -> CacheConfig {
        CacheConfig::new(self.path("cache"))
    }

    pub fn cache(&self) -> Cache {
        Cache::open(self.config()).expect("open cache")
    }

    pub fn cache_with(&self, adjust: impl FnOnce(&mut CacheConfig)) -> Cache {
        let mut config = self.config();
        adjust(&mut config);
        Cache::open(config).expect("open cache")
    }

    /// A cache that keeps every blob a file of its own, for tests that
    /// damage or age blob files (packs/ has its own tests).
    pub fn loose_cache(&self) -> Cache {
        self.cache_with(|config| config.pack_small_blobs = false)
    }

    pub fn local(&self) -> LocalBackend {
        LocalBackend::open(&self.path("cache")).expect("open backend")
    }

    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.local().blob_path(digest)
    }
}

/// Writes `contents` at `root/relative`, creating directories.
pub fn write(root: &Path, relative: &str, contents: &[u8]) {
    let path = root.join(relative);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

pub fn set_mode(root: &Path, relative: &str, mode: u32) {
    fs::set_permissions(root.join(relative), fs::Permissions::from_mode(mode)).unwrap();
}

pub fn symlink(root: &Path, relative: &str, target: &str) {
    let path = root.join(relative);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, path).unwrap();
}

/// A root labelled "base" taking everything under `dir`.
pub fn everything(dir: &Path) -> Vec<CaptureRoot> {
    vec![CaptureRoot {
        label: "base".into(),
        dir: dir.to_path_buf(),
        patterns: vec!["**".into()],
    }]
}

pub fn bases(dir: &Path) -> HashMap<String, PathBuf> {
    HashMap::from([("base".to_owned(), dir.to_path_buf())])
}

/// What a tree holds, for comparing trees: per relative path, the kind,
/// content (or link target), permission bits, and modification time.
#[derive(Debug, PartialEq, Eq)]
pub enum Node {
    File {
        contents: Vec<u8>,
        mode: u32,
        mtime: std::time::SystemTime,
    },
    Link(PathBuf),
}

pub fn snapshot(root: &Path) -> BTreeMap<String, Node> {
    let mut nodes = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let metadata = fs::symlink_metadata(&path).unwrap();
            if metadata.file_type().is_symlink() {
                nodes.insert(relative, Node::Link(fs::read_link(&path).unwrap()));
            } else if metadata.is_dir() {
                stack.push(path);
            } else {
                nodes.insert(
                    relative,
                    Node::File {
                        contents: fs::read(&path).unwrap(),
                        mode: metadata.permissions().mode() & 0o777,
                        mtime: metadata.modified().unwrap(),
                    },
                );
            }
        }
    }
    nodes
}

/// Deterministic pseudo-random bytes (xorshift), for binary files.
pub fn noise(seed: u64, length: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// The environment variable that makes a test act as a child of another.
pub const CHILD_ROLE: &str = "SLUICE_CACHE_TEST_CHILD";
/// The scratch directory a child works in.
pub const CHILD_DIR: &str = "SLUICE_CACHE_TEST_DIR";
/// The child's number.
pub const CHILD_NUMBER: &str = "SLUICE_CACHE_TEST_NUMBER";

/// Starts this test binary again, running only `test` (which sees
/// `CHILD_ROLE` and plays its child part).
pub fn spawn_child(test: &str, role: &str, dir: &Path, number: usize) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ROLE, role)
        .env(CHILD_DIR, dir)
        .env(CHILD_NUMBER, number.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the test binary as a child")
}

/// Child side of a start line: says it is ready, then waits for `go`.
pub fn child_wait_for_start(dir: &Path, number: usize) {
    fs::write(dir.join(format!("ready-{number}")), b"").unwrap();
    wait_until(Duration::from_secs(30), || dir.join("go").exists());
}

/// Parent side: waits for `children` to be ready, then starts them all.
pub fn start_children(dir: &Path, children: usize) {
    wait_until(Duration::from_secs(30), || {
        (0..children).all(|n| dir.join(format!("ready-{n}")).exists())
    });
    fs::write(dir.join("go"), b"").unwrap();
}

pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// What a child printed after `RESULT ` on each line (the harness may
/// print its own text before it on the same line).
pub fn child_results(child: Child) -> Vec<String> {
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "child failed: {:?}", output.status);
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            line.find("RESULT ")
                .map(|at| line[at + "RESULT ".len()..].to_owned())
        })
        .collect()
}
