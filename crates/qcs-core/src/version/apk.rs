//! Alpine package versions in apk-tools' order
//! (`digit{.digit}...{letter}{_suffix{number}}...{~hash}{-r number}`).
//!
//! Written by hand: the only crate found (`apk-version`) wraps apk's C code through FFI and
//! returns no order for invalid strings, so it is neither safe Rust nor total. This is a port of
//! `apk_version_compare` from apk-tools 2.14/3 (`src/version.c`):
//!
//! - the string is read as tokens: the first number, `.number`s, one lower-case letter, `_suffix`
//!   with an optional number, `~` commit hash, `-rN` revision;
//! - equal token kinds compare by value: numbers numerically, except that a `.number` with a
//!   leading zero on either side compares as a string (Gentoo's rule, `1.01` < `1.1`), suffixes
//!   `_alpha` < `_beta` < `_pre` < `_rc` < (none) < `_cvs` < `_svn` < `_git` < `_hg` < `_p`;
//! - at the first difference in kind, a pre-release suffix (`_alpha` … `_rc`) is older than
//!   anything, otherwise the version whose token is "later in the grammar" is older: `1.0` <
//!   `1.0a` < `1.0.1`, `1.0-r1` < `1.0_p1`, `1.0_rc1` < `1.0` < `1.0-r1`.
//!
//! apk stops at the first invalid token and calls two versions equal when both become invalid
//! at the same point. Here the rest of the strings, from the invalid token on, is then compared by
//! the [generic ordering](super#generic-ordering) so that different garbage is not "equal";
//! everything before the invalid token keeps apk's order.

use std::cmp::Ordering;

/// Compares two apk versions.
pub(super) fn compare(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (Tokens::new(a), Tokens::new(b));
    loop {
        let (tx, ty) = (x.next_token(), y.next_token());
        let ordering = token_cmp(&tx, &ty);
        if ordering != Ordering::Equal || tx.is_terminal() {
            return ordering;
        }
    }
}

/// Token kinds, in apk's grammar order (the order matters: see [`Token::class`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
    Invalid,
}

/// Suffix values in apk's order; `None` (no suffix) is the pivot between pre- and post-release.
const SUFFIXES: [&str; 9] = ["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"];
/// Index in [`SUFFIXES`] of the first post-release suffix.
const FIRST_POST_SUFFIX: usize = 4;

#[derive(Debug)]
struct Token<'a> {
    kind: Kind,
    /// The token's text: digits, the letter, the suffix name, the hash; for `Invalid`, the rest
    /// of the string from the invalid token on.
    value: &'a str,
    /// For `Suffix`: the index in [`SUFFIXES`].
    suffix: usize,
}

impl Token<'_> {
    fn is_terminal(&self) -> bool {
        matches!(self.kind, Kind::End | Kind::Invalid)
    }

    fn is_pre_release(&self) -> bool {
        self.kind == Kind::Suffix && self.suffix < FIRST_POST_SUFFIX
    }

    /// The rank used when two versions first differ in token kind: pre-release suffixes are
    /// the oldest, then the later a kind comes in the grammar, the older.
    fn class(&self) -> u8 {
        if self.is_pre_release() {
            return 0;
        }
        match self.kind {
            Kind::Invalid => 1,
            Kind::End => 2,
            Kind::RevisionNo => 3,
            Kind::CommitHash => 4,
            Kind::SuffixNo => 5,
            Kind::Suffix => 6,
            Kind::Letter => 7,
            Kind::Digit => 8,
            Kind::InitialDigit => 9,
        }
    }
}

/// Orders two tokens found at the same position.
fn token_cmp(x: &Token<'_>, y: &Token<'_>) -> Ordering {
    if x.kind != y.kind {
        return x.class().cmp(&y.class());
    }
    match x.kind {
        Kind::Digit if x.value.starts_with('0') || y.value.starts_with('0') => x.value.cmp(y.value),
        Kind::Digit | Kind::InitialDigit | Kind::SuffixNo | Kind::RevisionNo => {
            super::cmp_decimal(x.value, y.value)
        }
        Kind::Suffix => x.suffix.cmp(&y.suffix),
        Kind::Letter | Kind::CommitHash => x.value.cmp(y.value),
        Kind::End => Ordering::Equal,
        Kind::Invalid => super::generic(x.value, y.value),
    }
}

/// apk's tokenizer over one version string.
struct Tokens<'a> {
    rest: &'a str,
    /// The kind of the last token read; `None` before the first.
    last: Option<Kind>,
}

impl<'a> Tokens<'a> {
    fn new(s: &'a str) -> Self {
        Self {
            rest: s,
            last: None,
        }
    }

    /// Reads the next token; after `End` or `Invalid` it keeps returning that token.
    fn next_token(&mut self) -> Token<'a> {
        let token = match self.last {
            None => {
                let digits = self.take_while(|c| c.is_ascii_digit());
                if digits.is_empty() {
                    self.invalid(self.rest)
                } else {
                    token(Kind::InitialDigit, digits)
                }
            }
            Some(Kind::End) => token(Kind::End, ""),
            Some(Kind::Invalid) => self.invalid(self.rest),
            Some(last) => self.after(last),
        };
        self.last = Some(token.kind);
        token
    }

    /// Reads the token that follows one of kind `last` (neither `End` nor `Invalid`).
    fn after(&mut self, last: Kind) -> Token<'a> {
        let start = self.rest;
        let Some(first) = start.bytes().next() else {
            return token(Kind::End, "");
        };
        match first {
            b'a'..=b'z' if last <= Kind::Digit => {
                let (letter, rest) = start.split_at(1);
                self.rest = rest;
                token(Kind::Letter, letter)
            }
            b'.' if last <= Kind::Digit => {
                self.rest = &start[1..];
                self.digits(Kind::Digit, start)
            }
            b'0'..=b'9' if last == Kind::Suffix => self.digits(Kind::SuffixNo, start),
            b'_' if last <= Kind::SuffixNo => {
                self.rest = &start[1..];
                let name = self.take_while(|c| c.is_ascii_lowercase());
                match SUFFIXES.iter().position(|s| *s == name) {
                    Some(suffix) => Token {
                        kind: Kind::Suffix,
                        value: name,
                        suffix,
                    },
                    None => self.invalid(start),
                }
            }
            b'~' if last < Kind::CommitHash => {
                self.rest = &start[1..];
                let hash = self.take_while(|c| c.is_ascii_hexdigit());
                if hash.is_empty() {
                    self.invalid(start)
                } else {
                    token(Kind::CommitHash, hash)
                }
            }
            b'-' if last < Kind::RevisionNo && start.starts_with("-r") => {
                self.rest = &start[2..];
                self.digits(Kind::RevisionNo, start)
            }
            _ => self.invalid(start),
        }
    }

    /// Reads a number token of `kind`; `Invalid` (from `start`) when there are no digits.
    fn digits(&mut self, kind: Kind, start: &'a str) -> Token<'a> {
        let digits = self.take_while(|c| c.is_ascii_digit());
        if digits.is_empty() {
            self.invalid(start)
        } else {
            token(kind, digits)
        }
    }

    /// An `Invalid` token carrying the rest of the string from `start`.
    fn invalid(&mut self, start: &'a str) -> Token<'a> {
        self.rest = start;
        token(Kind::Invalid, start)
    }

    /// Takes the longest prefix of ASCII bytes matching `pred` (never splits a UTF-8 sequence).
    fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a str {
        let end = self
            .rest
            .bytes()
            .position(|c| !pred(c))
            .unwrap_or(self.rest.len());
        let (taken, rest) = self.rest.split_at(end);
        self.rest = rest;
        taken
    }
}

fn token(kind: Kind, value: &str) -> Token<'_> {
    Token {
        kind,
        value,
        suffix: 0,
    }
}
