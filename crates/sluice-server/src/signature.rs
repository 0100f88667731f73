//! GitHub's `X-Hub-Signature-256`: HMAC-SHA256 of the body under the
//! webhook secret, hex, prefixed `sha256=`; compared in constant time so
//! that response timing tells an attacker nothing about the right value.

use sha2::{Digest, Sha256};

const BLOCK: usize = 64;

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// Whether `header` (the `X-Hub-Signature-256` value) signs `body`.
pub fn verify(secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(hex) = header.and_then(|h| h.strip_prefix("sha256=")) else {
        return false;
    };
    let Some(given) = decode_hex(hex) else {
        return false;
    };
    constant_time_eq(&hmac_sha256(secret.as_bytes(), body), &given)
}

/// The header value for `body` (what a sender computes).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mac = hmac_sha256(secret.as_bytes(), body);
    format!("sha256={}", hex(&mac))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Compares without stopping at the first difference.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_test_cases() {
        // Test case 2.
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn signatures_verify_only_with_the_secret_and_body() {
        let header = sign("It's a Secret to Everybody", b"Hello, World!");
        // GitHub's documented example.
        assert_eq!(
            header,
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
        assert!(verify(
            "It's a Secret to Everybody",
            b"Hello, World!",
            Some(&header)
        ));
        assert!(!verify("another secret", b"Hello, World!", Some(&header)));
        assert!(!verify(
            "It's a Secret to Everybody",
            b"Hello, World?",
            Some(&header)
        ));
        assert!(!verify(
            "It's a Secret to Everybody",
            b"Hello, World!",
            None
        ));
        assert!(!verify("s", b"x", Some("sha1=abc")));
        assert!(!verify("s", b"x", Some("sha256=zz")));
        assert!(!verify("s", b"x", Some("sha256=abc")));
    }
}
