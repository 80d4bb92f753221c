//! Glob-style pattern matching with Redis's rules (`*`, `?`, `[a-z]`, `[^x]`, `\` escapes), used
//! by KEYS, SCAN MATCH, CONFIG GET and CLIENT/COMMAND filters.

/// True when `text` matches `pattern`. `nocase` folds ASCII case.
///
/// Runs in O(pattern x text) time whatever the number of `*`: on a mismatch it backtracks only
/// to the most recent star (a later star can always absorb what an earlier one would have).
pub fn matches(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
    let (mut p, mut s) = (0, 0);
    // Pattern position just after the last `*`, and the text position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while s < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            p += 1;
            star = Some((p, s));
            continue;
        }
        if p < pattern.len() {
            let (ok, len) = match_one(&pattern[p..], text[s], nocase);
            if ok {
                p += len;
                s += 1;
                continue;
            }
        }
        match star {
            Some((sp, ss)) => {
                p = sp;
                s = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// Matches the single-character element at the start of `p` (literal, `?`, `\x` or a `[...]`
/// class) against `c`: whether it matched and how many pattern bytes the element spans.
fn match_one(p: &[u8], c: u8, nocase: bool) -> (bool, usize) {
    match p[0] {
        b'?' => (true, 1),
        b'\\' if p.len() >= 2 => (eq(p[1], c, nocase), 2),
        b'[' => {
            let mut i = 1;
            let not = p.get(i) == Some(&b'^');
            if not {
                i += 1;
            }
            let mut matched = false;
            loop {
                match p.get(i) {
                    // Unterminated class: Redis treats the end of the pattern as its end.
                    None => break,
                    Some(b']') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') if i + 1 < p.len() => {
                        matched |= p[i + 1] == c;
                        i += 2;
                    }
                    Some(&lo) if i + 2 < p.len() && p[i + 1] == b'-' => {
                        let hi = p[i + 2];
                        let (lo, hi) = if lo > hi { (hi, lo) } else { (lo, hi) };
                        let in_range = |x: u8| x >= lo && x <= hi;
                        matched |= in_range(c)
                            || (nocase
                                && (in_range(c.to_ascii_lowercase())
                                    || in_range(c.to_ascii_uppercase())));
                        i += 3;
                    }
                    Some(&x) => {
                        matched |= eq(x, c, nocase);
                        i += 1;
                    }
                }
            }
            (matched != not, i)
        }
        x => (eq(x, c, nocase), 1),
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs() {
        assert!(matches(b"*", b"anything", false));
        assert!(matches(b"h?llo", b"hello", false));
        assert!(matches(b"h*llo", b"heeeello", false));
        assert!(matches(b"h[ae]llo", b"hallo", false));
        assert!(!matches(b"h[^e]llo", b"hello", false));
        assert!(matches(b"h[a-b]llo", b"hbllo", false));
        assert!(matches(b"h\\*llo", b"h*llo", false));
        assert!(!matches(b"h\\*llo", b"hallo", false));
        assert!(matches(b"FOO*", b"foobar", true));
        assert!(!matches(b"foo", b"foobar", false));
        assert!(matches(b"*bar", b"foobar", false));
        assert!(!matches(
            b"a*b*c*d*e*f*g*h*i*j*k*l*m*n*x",
            &[b'a'; 4000],
            false
        ));
        assert!(matches(b"*a*", b"bab", false));
        assert!(matches(b"a**", b"a", false));
        assert!(!matches(b"[abc", b"d", false));
    }
}
