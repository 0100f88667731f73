//! Capturing and restoring trees.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, SystemTime};

use crate::support::{Node, Scratch, bases, everything, noise, set_mode, snapshot, symlink, write};
use sluice_cache::{CacheError, CaptureRoot, Digest, FileContent};

/// A tree with text and binary files (one big enough to be streamed),
/// modes, links to a file and to a directory, empty files, Unicode names
/// and deep nesting.
fn varied_tree(scratch: &Scratch) -> std::path::PathBuf {
    let root = scratch.path("tree");
    write(&root, "README.md", b"# hello\n");
    write(&root, "src/main.rs", b"fn main() {}\n");
    write(&root, "src/deep/er/and/deeper/leaf.txt", b"leaf\n");
    write(&root, "bin/tool.sh", b"#!/bin/sh\necho hi\n");
    set_mode(&root, "bin/tool.sh", 0o755);
    write(&root, "secret.key", b"k");
    set_mode(&root, "secret.key", 0o600);
    write(&root, "data/small.bin", &noise(1, 70_000));
    write(&root, "data/big.bin", &noise(2, 5 * 1024 * 1024 + 17));
    write(&root, "empty", b"");
    write(&root, "data/also-empty", b"");
    write(
        &root,
        "ünïcødé/日本語 ファイル.txt",
        "こんにちは\n".as_bytes(),
    );
    symlink(&root, "links/to-main", "../src/main.rs");
    symlink(&root, "links/to-src", "../src");
    root
}

#[test]
fn round_trip_of_a_nested_tree_keeps_contents_modes_times_and_links() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let tree = varied_tree(&scratch);
    let capture = cache.capture(&everything(&tree)).unwrap();
    assert_eq!(capture.files, 12);

    let listed = cache.manifest_files(&capture.manifest).unwrap();
    let link = listed.iter().find(|f| f.path == "links/to-src").unwrap();
    assert_eq!(
        link.content,
        FileContent::Symlink {
            target: "../src".into()
        },
        "a link to a directory is kept as a link"
    );
    assert!(
        !listed.iter().any(|f| f.path.starts_with("links/to-src/")),
        "files seen through a linked directory are not captured twice"
    );

    let restored = scratch.path("restored");
    let stats = cache.restore(&capture.manifest, &bases(&restored)).unwrap();
    assert_eq!(stats.files, 12);
    assert_eq!(stats.written, 12);
    assert_eq!(stats.unchanged, 0);
    assert_eq!(snapshot(&restored), snapshot(&tree));
    assert_eq!(
        fs::metadata(restored.join("bin/tool.sh"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o755
    );
}

#[test]
fn restoring_onto_an_unchanged_tree_writes_nothing() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let tree = varied_tree(&scratch);
    let capture = cache.capture(&everything(&tree)).unwrap();

    // Onto the very tree it was captured from.
    let stats = cache.restore(&capture.manifest, &bases(&tree)).unwrap();
    assert_eq!(
        (stats.written, stats.unchanged, stats.bytes_written),
        (0, 12, 0)
    );

    // And twice onto a fresh directory: the second restore is a no-op.
    let restored = scratch.path("restored");
    cache.restore(&capture.manifest, &bases(&restored)).unwrap();
    let again = cache.restore(&capture.manifest, &bases(&restored)).unwrap();
    assert_eq!(
        (again.written, again.unchanged, again.bytes_written),
        (0, 12, 0)
    );
}

#[test]
fn restoring_onto_a_changed_tree_rewrites_only_what_differs() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let tree = varied_tree(&scratch);
    let capture = cache.capture(&everything(&tree)).unwrap();
    let restored = scratch.path("restored");
    cache.restore(&capture.manifest, &bases(&restored)).unwrap();
    let expected = snapshot(&restored);

    let later = SystemTime::now() + Duration::from_secs(3600);
    let touch = |relative: &str| {
        fs::File::options()
            .write(true)
            .open(restored.join(relative))
            .unwrap()
            .set_modified(later)
            .unwrap();
    };
    // Same size, other content, other time: rewritten.
    fs::write(restored.join("src/main.rs"), b"fn main(){1}\n").unwrap();
    touch("src/main.rs");
    // Other size: rewritten.
    fs::write(restored.join("README.md"), b"# hello, longer\n").unwrap();
    // Gone: rewritten.
    fs::remove_file(restored.join("data/small.bin")).unwrap();
    // A link replaced by a file: rewritten as the link.
    fs::remove_file(restored.join("links/to-main")).unwrap();
    write(&restored, "links/to-main", b"not a link");
    // Same content, other time: hashed, left, time set back.
    touch("data/big.bin");
    // Other permissions only: left, permissions set back.
    set_mode(&restored, "secret.key", 0o644);
    // Not in the manifest: left alone.
    write(&restored, "extra.txt", b"mine");

    let stats = cache.restore(&capture.manifest, &bases(&restored)).unwrap();
    assert_eq!(stats.written, 4, "{stats:?}");
    assert_eq!(stats.unchanged, 8, "{stats:?}");
    let mut after = snapshot(&restored);
    assert!(matches!(after.remove("extra.txt"), Some(Node::File { .. })));
    assert_eq!(after, expected);
}

#[test]
fn identical_files_are_stored_once_and_recapture_stores_nothing() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let tree = scratch.path("tree");
    let shared = noise(7, 100_000);
    for n in 0..10 {
        write(&tree, &format!("copy{n}.bin"), &shared);
    }
    write(&tree, "unique.bin", &noise(8, 50_000));

    let first = cache.capture(&everything(&tree)).unwrap();
    assert_eq!(first.files, 11);
    assert_eq!(first.bytes, 1_050_000);
    let manifest_size = cache.get_bytes(&first.manifest).unwrap().len() as u64;
    assert_eq!(first.new_bytes, 150_000 + manifest_size);
    let stats = cache.stats().unwrap();
    assert_eq!(stats.blobs, 3, "two contents and the manifest");
    assert_eq!(stats.bytes, 150_000 + manifest_size);

    let second = cache.capture(&everything(&tree)).unwrap();
    assert_eq!(second.manifest, first.manifest);
    assert_eq!(second.new_bytes, 0);
}

#[test]
fn patterns_select_files_with_excludes_and_whole_directories() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let tree = scratch.path("tree");
    for file in [
        "src/a.rs",
        "src/gen/b.rs",
        "src/c.txt",
        "docs/d.md",
        "top.rs",
    ] {
        write(&tree, file, file.as_bytes());
    }
    let roots = vec![CaptureRoot {
        label: "base".into(),
        dir: tree.clone(),
        patterns: vec!["src".into(), "!src/gen".into(), "*.rs".into()],
    }];
    let capture = cache.capture(&roots).unwrap();
    let paths: Vec<String> = cache
        .manifest_files(&capture.manifest)
        .unwrap()
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(paths, ["src/a.rs", "src/c.txt", "top.rs"]);
}

#[test]
fn several_roots_restore_into_their_own_directories() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let workspace = scratch.path("workspace");
    let home = scratch.path("home");
    write(&workspace, "target/out.o", b"object");
    write(&home, ".cargo/registry/index", b"index");
    let roots = vec![
        CaptureRoot {
            label: "base".into(),
            dir: workspace.clone(),
            patterns: vec!["target".into()],
        },
        CaptureRoot {
            label: "home".into(),
            dir: home.clone(),
            patterns: vec![".cargo/registry".into()],
        },
    ];
    let capture = cache.capture(&roots).unwrap();
    assert_eq!(capture.files, 2);

    let new_workspace = scratch.path("w2");
    let new_home = scratch.path("h2");
    let error = cache
        .restore(&capture.manifest, &bases(&new_workspace))
        .unwrap_err();
    assert!(matches!(error, CacheError::UnknownRoot { ref label, .. } if label == "home"));
    let targets = HashMap::from([
        ("base".to_owned(), new_workspace.clone()),
        ("home".to_owned(), new_home.clone()),
    ]);
    cache.restore(&capture.manifest, &targets).unwrap();
    assert_eq!(
        fs::read(new_workspace.join("target/out.o")).unwrap(),
        b"object"
    );
    assert_eq!(
        fs::read(new_home.join(".cargo/registry/index")).unwrap(),
        b"index"
    );

    let twice = vec![roots[0].clone(), roots[0].clone()];
    assert!(matches!(
        cache.capture(&twice),
        Err(CacheError::DuplicateRootLabel { .. })
    ));
}

#[test]
fn a_corrupt_blob_fails_the_restore_and_is_never_served_again() {
    let scratch = Scratch::new();
    let cache = scratch.loose_cache();
    let tree = scratch.path("tree");
    write(&tree, "good.txt", b"good");
    write(&tree, "bad.txt", b"this one will rot");
    let capture = cache.capture(&everything(&tree)).unwrap();
    let bad = Digest::of(b"this one will rot");
    let blob = scratch.blob_path(&bad);
    let mut bytes = fs::read(&blob).unwrap();
    bytes[3] ^= 0x20;
    fs::write(&blob, &bytes).unwrap();

    let restored = scratch.path("restored");
    let error = cache
        .restore(&capture.manifest, &bases(&restored))
        .unwrap_err();
    assert!(
        matches!(error, CacheError::Corrupt { digest, ref path } if digest == bad && *path == blob),
        "{error}"
    );
    assert!(!blob.exists(), "the corrupt blob is removed");
    assert!(!restored.join("bad.txt").exists(), "nothing half-written");
    let leftovers: Vec<_> = fs::read_dir(&restored)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|name| name.to_string_lossy().starts_with(".sluice-restore-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let again = cache
        .restore(&capture.manifest, &bases(&restored))
        .unwrap_err();
    assert!(matches!(again, CacheError::Missing { digest } if digest == bad));
}

#[test]
fn a_missing_blob_fails_the_restore() {
    let scratch = Scratch::new();
    let cache = scratch.loose_cache();
    let tree = scratch.path("tree");
    write(&tree, "a.txt", b"a");
    let capture = cache.capture(&everything(&tree)).unwrap();
    fs::remove_file(scratch.blob_path(&Digest::of(b"a"))).unwrap();
    let error = cache
        .restore(&capture.manifest, &bases(&scratch.path("out")))
        .unwrap_err();
    assert!(matches!(error, CacheError::Missing { digest } if digest == Digest::of(b"a")));
    let unknown = Digest::of(b"no such manifest");
    assert!(matches!(
        cache.restore(&unknown, &bases(&scratch.path("out"))),
        Err(CacheError::Missing { .. })
    ));
}

#[test]
fn a_blob_that_is_not_a_manifest_cannot_be_restored() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    for garbage in [
        &b"garbage"[..],
        b"{\"format\":\"sluice-manifest\",\"vers",
        b"",
    ] {
        let digest = cache.put_bytes(garbage).unwrap();
        let error = cache
            .restore(&digest, &bases(&scratch.path("out")))
            .unwrap_err();
        assert!(
            matches!(error, CacheError::InvalidManifest { .. }),
            "{error}"
        );
        assert!(cache.manifest_files(&digest).is_err());
    }
}

#[test]
fn a_non_empty_directory_in_the_way_is_a_conflict_an_empty_one_is_replaced() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let tree = scratch.path("tree");
    write(&tree, "a", b"file a");
    write(&tree, "b", b"file b");
    let capture = cache.capture(&everything(&tree)).unwrap();

    let out = scratch.path("out");
    fs::create_dir_all(out.join("a")).unwrap();
    cache.restore(&capture.manifest, &bases(&out)).unwrap();
    assert_eq!(fs::read(out.join("a")).unwrap(), b"file a");

    let out2 = scratch.path("out2");
    write(&out2, "b/keep", b"someone's file");
    let error = cache.restore(&capture.manifest, &bases(&out2)).unwrap_err();
    assert!(
        matches!(error, CacheError::RestoreConflict { .. }),
        "{error}"
    );
    assert!(out2.join("b/keep").exists());
}

#[test]
fn links_in_the_target_are_replaced_not_written_through() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let tree = scratch.path("tree");
    write(&tree, "config", b"from the cache");
    let capture = cache.capture(&everything(&tree)).unwrap();

    let out = scratch.path("out");
    write(&scratch.path("elsewhere"), "victim", b"untouched");
    symlink(
        &out,
        "config",
        scratch.path("elsewhere/victim").to_str().unwrap(),
    );
    let stats = cache.restore(&capture.manifest, &bases(&out)).unwrap();
    assert_eq!(stats.written, 1);
    assert!(
        !fs::symlink_metadata(out.join("config"))
            .unwrap()
            .is_symlink()
    );
    assert_eq!(fs::read(out.join("config")).unwrap(), b"from the cache");
    assert_eq!(
        fs::read(scratch.path("elsewhere/victim")).unwrap(),
        b"untouched"
    );
}

#[test]
fn sockets_and_broken_links_are_left_out() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let tree = scratch.path("tree");
    write(&tree, "real.txt", b"real");
    symlink(&tree, "broken", "does/not/exist");
    let _listener = std::os::unix::net::UnixListener::bind(tree.join("socket")).unwrap();
    let capture = cache.capture(&everything(&tree)).unwrap();
    let paths: Vec<String> = cache
        .manifest_files(&capture.manifest)
        .unwrap()
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(paths, ["real.txt"]);
}
