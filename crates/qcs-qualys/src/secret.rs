//! Secrets (passwords, client secrets, tokens, proxy credentials) live in [`SecretString`],
//! whose `Debug` prints `[REDACTED]` and which has no `Display`: a secret reaches a request only
//! through an explicit [`ExposeSecret::expose_secret`].

pub use secrecy::{ExposeSecret, SecretString};

/// Makes a [`SecretString`] from text.
pub fn secret(text: impl Into<String>) -> SecretString {
    SecretString::from(text.into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_never_shows_the_secret() {
        let s = super::secret("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
