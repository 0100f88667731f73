//! Secret masking.

use std::borrow::Cow;

use sluice_exec::mask::{MASK, Masker, PieceMasker};

fn masker(secrets: &[&str]) -> Masker {
    let mut masker = Masker::new();
    for secret in secrets {
        masker.add(secret);
    }
    masker
}

#[test]
fn masks_every_occurrence() {
    let m = masker(&["s3cret"]);
    for (text, expected) in [
        ("s3cret", "***"),
        ("a s3cret b", "a *** b"),
        ("s3crets3cret", "***"),
        ("s3cret s3cret", "*** ***"),
        ("S3CRET", "S3CRET"),
        ("s3cre", "s3cre"),
        ("", ""),
    ] {
        assert_eq!(m.mask(text), expected, "{text:?}");
    }
    assert_eq!(MASK, "***");
}

#[test]
fn unmasked_text_is_borrowed() {
    let m = masker(&["s3cret"]);
    assert!(matches!(
        m.mask("nothing here"),
        Cow::Borrowed("nothing here")
    ));
    assert!(matches!(Masker::new().mask("s3cret"), Cow::Borrowed(_)));
    assert!(matches!(m.mask("s3cret"), Cow::Owned(_)));
}

#[test]
fn empty_and_blank_values_are_ignored() {
    let mut m = Masker::new();
    for blank in ["", " ", "   ", "\t", "\n", "\r\n", " \n \r "] {
        assert!(!m.add(blank), "{blank:?}");
    }
    assert!(m.is_empty());
    assert_eq!(m.len(), 0);
    assert_eq!(m.mask("a b\tc"), "a b\tc");
}

#[test]
fn repeated_values_add_nothing() {
    let mut m = Masker::new();
    assert!(m.add("s3cret"));
    let patterns = m.len();
    assert!(!m.add("s3cret"));
    assert_eq!(m.len(), patterns);
}

#[test]
fn one_character_secrets_are_masked_like_on_github() {
    let m = masker(&["x"]);
    assert_eq!(m.mask("axbxc"), "a***b***c");
    assert_eq!(m.mask("xx"), "***");
    let m = masker(&["\u{e9}"]);
    assert_eq!(m.mask("caf\u{e9} \u{e9}t\u{e9}"), "caf*** ***t***");
}

#[test]
fn overlapping_secrets_never_leak() {
    for (secrets, text, expected) in [
        (&["abc", "bcd"][..], "abcd", "***"),
        (&["bcd", "abc"][..], "xabcdx", "x***x"),
        (&["secret", "secretvalue"][..], "mysecretvalue!", "my***!"),
        (&["secretvalue", "secret"][..], "mysecretvalue!", "my***!"),
        (&["value", "secretvalue"][..], "mysecretvalue!", "my***!"),
        (&["cre", "secret"][..], "a secret a cre", "a *** a ***"),
        (&["aa"][..], "aaa", "***"),
        (&["aa"][..], "aaaaa b aa", "*** b ***"),
        (&["aba"][..], "ababa", "***"),
        (&["abc", "def"][..], "abcdef", "***"),
        (&["abc", "def"][..], "abc-def", "***-***"),
        (&["ab", "bc", "cd"][..], "abcd", "***"),
        (&["pass"][..], "passpass", "***"),
    ] {
        assert_eq!(
            masker(secrets).mask(text),
            expected,
            "{secrets:?} in {text:?}"
        );
    }
}

#[test]
fn multi_line_secrets_are_masked_line_by_line() {
    let m = masker(&["part-one\npart-two\r\npart-three"]);
    // The runner masks each output line on its own: the lines of the
    // secret are registered too.
    for (line, expected) in [
        ("prefix part-one", "prefix ***"),
        ("part-two suffix", "*** suffix"),
        ("part-three", "***"),
        ("part-one\npart-two\r\npart-three", "***"),
        ("part", "part"),
    ] {
        assert_eq!(m.mask(line), expected, "{line:?}");
    }
    // GitHub's own example: `abc%0Ddef%0Aghi%0D%0Ajkl`.
    let m = masker(&["abc\rdef\nghi\r\njkl"]);
    for part in ["abc", "def", "ghi", "jkl"] {
        assert_eq!(m.mask(part), "***");
    }
    assert_eq!(m.mask("abc\rdef\nghi\r\njkl"), "***");
}

#[test]
fn lines_are_also_registered_trimmed_but_blank_lines_are_not() {
    let m = masker(&["  indented  \n \n\tother"]);
    assert_eq!(m.mask("x indented y"), "x *** y");
    assert_eq!(m.mask("other"), "***");
    assert_eq!(m.mask("a b  c"), "a b  c");
    let m = masker(&[" padded "]);
    assert_eq!(m.mask("[padded]"), "[***]");
    assert_eq!(m.mask("[ padded ]"), "[***]");
}

#[test]
fn githubs_default_encodings() {
    // GitHub's HostContextL0.DefaultSecretMaskers.
    let m = masker(&[
        "Password123!",
        "Pass\"word\"123!",
        "Pass word 123!",
        "Pass<word>123!",
        "Pass'word'123!",
        "\"Password123!!\"",
        "\"short\"",
    ]);
    let base64 = |text: &str| base64_encode(text.as_bytes());
    for (text, expected) in [
        ("123Password123!123".to_string(), "123***123"),
        ("password123".to_string(), "password123"),
        ("123Pass\\\"word\\\"123!123".to_string(), "123***123"),
        ("123Pass%20word%20123%21123".to_string(), "123***123"),
        ("123Pass&lt;word&gt;123!123".to_string(), "123***123"),
        ("123Pass''word''123!123".to_string(), "123***123"),
        (base64(":Password123!"), "OlBh***"),
        (base64("a:Password123!"), "YTpQ***"),
        (base64("ab:Password123!"), "YWI6***"),
        (base64("abc:Password123!"), "YWJjOlBh***"),
        (base64("abcd:Password123!"), "YWJjZDpQ***"),
        (base64("abcde:Password123!"), "YWJjZGU6***"),
        ("123Password123!!123".to_string(), "123***123"),
        ("123short123".to_string(), "123short123"),
        ("123\"short\"123".to_string(), "123***123"),
    ] {
        assert_eq!(m.mask(&text), expected, "{text:?}");
    }
}

#[test]
fn base64_without_padding_and_url_safe() {
    // "??>" encodes to "Pz8+", which has a URL-safe form "Pz8-".
    let m = masker(&["??>??>??>"]);
    assert_eq!(m.mask("Pz8+Pz8+Pz8+"), "***");
    assert_eq!(m.mask("Pz8-Pz8-Pz8-"), "***");
    // Unpadded Base64 of a secret whose length is not a multiple of 3.
    let m = masker(&["hunter22"]);
    assert_eq!(base64_encode(b"hunter22"), "aHVudGVyMjI=");
    assert_eq!(m.mask("token=aHVudGVyMjI"), "token=***");
    assert_eq!(m.mask("token=aHVudGVyMjI="), "token=***");
}

#[test]
fn json_and_escaped_forms() {
    // GitHub's SecretMaskerTests_Encoder_JsonStringEscape.
    let secret = "carriage-return\r_newline\n_tab\t_backslash\\_double-quote\"";
    let m = masker(&[secret]);
    assert_eq!(m.mask(secret), "***");
    assert_eq!(
        m.mask("carriage-return\\r_newline\\n_tab\\t_backslash\\\\_double-quote\\\""),
        "***"
    );
    let m = masker(&["ctl\u{1}char"]);
    assert_eq!(m.mask("{\"v\":\"ctl\\u0001char\"}"), "{\"v\":\"***\"}");
    let m = masker(&["it's"]);
    assert_eq!(m.mask("'it''s'"), "'***'");
}

#[test]
fn powershell_ampersand_parts() {
    let m = masker(&["secretpart1&secretpart2&secretpart3"]);
    assert_eq!(m.mask("secretpart1&secretpart2&"), "***");
    assert_eq!(
        m.mask("At line:1 char:1 secretpart3"),
        "At line:1 char:1 ***"
    );
    let m = masker(&["secretpart1&+secretpart2&secretpart3"]);
    assert_eq!(m.mask("secretpart1&+"), "***");
    assert_eq!(m.mask("s ecretpart2&secretpart3"), "s ***");
    // Short parts are not registered.
    let m = masker(&["ab&cd"]);
    assert_eq!(m.mask("ab& cd"), "ab& cd");
    // `&+` at the very end does not trip anything up.
    let m = masker(&["abcdef&+"]);
    assert_eq!(m.mask("abcdef&+"), "***");
}

#[test]
fn unicode_secrets_and_text() {
    let m = masker(&["p\u{e4}ssw\u{f6}rd", "\u{1f511}key"]);
    for (text, expected) in [
        ("x p\u{e4}ssw\u{f6}rd y", "x *** y"),
        (
            "\u{1f600}p\u{e4}ssw\u{f6}rd\u{1f600}",
            "\u{1f600}***\u{1f600}",
        ),
        ("\u{1f511}key\u{1f511}", "***\u{1f511}"),
        ("p%C3%A4ssw%C3%B6rd", "***"),
        ("\u{1f511}", "\u{1f511}"),
    ] {
        assert_eq!(m.mask(text), expected, "{text:?}");
    }
}

#[test]
fn has_secret() {
    let m = masker(&["s3cret"]);
    assert!(m.has_secret("a s3cret"));
    assert!(!m.has_secret("a secret"));
    assert!(!Masker::new().has_secret("anything"));
}

#[test]
fn many_secrets() {
    let secrets: Vec<String> = (0..500)
        .map(|i| format!("tok{i:04}x{}", i * 7919))
        .collect();
    let mut m = Masker::new();
    for secret in &secrets {
        m.add(secret);
    }
    for (i, secret) in secrets.iter().enumerate() {
        let line = format!(
            "{i}: [{secret}] and [{}]",
            secrets[(i * 31) % secrets.len()]
        );
        assert_eq!(m.mask(&line), format!("{i}: [***] and [***]"));
    }
    assert_eq!(m.mask("tok0001 is not a secret"), "tok0001 is not a secret");
}

#[test]
fn debug_does_not_show_secrets() {
    let m = masker(&["hunter2-s3cret"]);
    let debug = format!("{m:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.starts_with("Masker"));
}

#[test]
fn clones_are_independent_and_shareable() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<Masker>();
    let a = masker(&["first"]);
    let mut b = a.clone();
    b.add("second");
    assert_eq!(a.mask("first second"), "*** second");
    assert_eq!(b.mask("first second"), "*** ***");
    let shared = std::sync::Arc::new(std::sync::RwLock::new(a));
    let reader = {
        let shared = shared.clone();
        std::thread::spawn(move || {
            let masker = shared.read().unwrap_or_else(|e| e.into_inner());
            masker.mask("first").into_owned()
        })
    };
    shared
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .add("later");
    assert_eq!(reader.join().ok().as_deref(), Some("***"));
    assert_eq!(
        shared
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .mask("later"),
        "***"
    );
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Feeds `text` in pieces of `size` bytes, as a step's long line arrives,
/// and returns what is shown, piece by piece.
fn shown_in_pieces(masker: &Masker, text: &str, size: usize) -> Vec<String> {
    let mut pieces = PieceMasker::default();
    let mut shown = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut cut = size.min(rest.len());
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let piece = &rest[..cut];
        rest = &rest[cut..];
        shown.push(pieces.push(masker, piece, rest.is_empty()));
    }
    shown
}

#[test]
fn a_secret_split_between_pieces_of_a_long_line_is_never_shown_in_halves() {
    // Secrets are made of letters other than `x`; the filler is `x`. Shown
    // text may then hold only `x` and `*`: any other letter is a piece of
    // a secret that escaped.
    let secrets = ["abcdefgh", "cdefghijkl", "mnop", "q", "rsrsrs"];
    let m = masker(&secrets);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |bound: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % bound as u64) as usize
    };
    for _ in 0..400 {
        let mut text = String::new();
        while text.len() < 200 {
            if next(3) == 0 {
                text.push_str(secrets[next(secrets.len())]);
            } else {
                text.push_str(&"x".repeat(next(12)));
            }
        }
        let size = 1 + next(16);
        let shown = shown_in_pieces(&m, &text, size);
        for piece in &shown {
            assert!(
                piece.chars().all(|c| c == 'x' || c == '*'),
                "piece {piece:?} of {text:?} in pieces of {size} leaks a secret"
            );
        }
        let joined: String = shown.concat();
        assert_eq!(
            joined.chars().filter(|c| *c == 'x').count(),
            m.mask(&text).chars().filter(|c| *c == 'x').count(),
            "no filler is lost or masked by mistake in {text:?}"
        );
    }
}
