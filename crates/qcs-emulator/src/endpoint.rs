//! Endpoint keys: the names fault rules and request counts use for each route.
//!
//! | key | request |
//! |---|---|
//! | `auth` | `POST /auth` |
//! | `auth/oidc`, `auth/oauth` | `POST /auth/oidc`, `POST /auth/oauth` |
//! | `images` | `GET /csapi/v1.{2,3}/images` |
//! | `images/{id}` | `GET /csapi/v1.{2,3}/images/{sha or id}` |
//! | `images/list` | `GET /csapi/v1.{2,3}/images/list` (bulk list) |
//! | `images/{id}/vuln` | `GET /csapi/v1.{2,3}/images/{sha or id}/vuln` |
//! | `images/{id}/vuln/count` | `GET /csapi/v1.{2,3}/images/{sha or id}/vuln/count` |
//! | `images/{id}/software` | `GET /csapi/v1.{2,3}/images/{sha or id}/software` |
//! | `csapi/other` | any other `/csapi/...` path |
//! | `docker/...` | the Docker Engine API stand-in, e.g. `docker/containers/json`, `docker/images/tag` |
//! | `control` | `/_emulator/...` (never faulted, not logged) |
//! | `other` | anything else |

/// The endpoint key of a request on the CS API listener.
pub fn classify(path: &str) -> &'static str {
    if path == "/_emulator" || path.starts_with("/_emulator/") {
        return "control";
    }
    match path {
        "/auth" => return "auth",
        "/auth/oidc" => return "auth/oidc",
        "/auth/oauth" => return "auth/oauth",
        _ => {}
    }
    if let Some(rest) = path.strip_prefix("/csapi/") {
        let mut parts = rest.trim_end_matches('/').split('/');
        let version = parts.next().unwrap_or_default();
        if version == "v1.2" || version == "v1.3" {
            match (parts.next(), parts.next(), parts.next()) {
                (Some("images"), None, None) => return "images",
                (Some("images"), Some("list"), None) => return "images/list",
                (Some("images"), Some(_), None) => return "images/{id}",
                (Some("images"), Some(_), Some("vuln")) if parts.clone().next().is_none() => {
                    return "images/{id}/vuln";
                }
                (Some("images"), Some(_), Some("software")) if parts.clone().next().is_none() => {
                    return "images/{id}/software";
                }
                (Some("images"), Some(_), Some("vuln"))
                    if parts.next() == Some("count") && parts.next().is_none() =>
                {
                    return "images/{id}/vuln/count";
                }
                _ => {}
            }
        }
        return "csapi/other";
    }
    "other"
}

/// The endpoint key of a request on the Docker Engine API stand-in.
pub fn classify_docker(path: &str) -> &'static str {
    // Strip an API version prefix such as /v1.41.
    let p = match path.strip_prefix("/v1.") {
        Some(rest) => rest.find('/').map_or("", |i| &rest[i..]),
        None => path,
    };
    let parts: Vec<&str> = p.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["_ping"] => "docker/_ping",
        ["version"] => "docker/version",
        ["info"] => "docker/info",
        ["containers", "json"] => "docker/containers/json",
        ["containers", _, "json"] => "docker/containers/{id}/json",
        ["images", "json"] => "docker/images/json",
        ["images", .., "tag"] => "docker/images/tag",
        ["images", .., "json"] => "docker/images/{name}/json",
        ["images", _, ..] => "docker/images/{name}",
        _ => "docker/other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(classify("/auth"), "auth");
        assert_eq!(classify("/auth/oauth"), "auth/oauth");
        assert_eq!(classify("/csapi/v1.3/images"), "images");
        assert_eq!(classify("/csapi/v1.2/images/abc"), "images/{id}");
        assert_eq!(
            classify("/csapi/v1.3/images/abc/vuln/count"),
            "images/{id}/vuln/count"
        );
        assert_eq!(
            classify("/csapi/v1.3/images/abc/software"),
            "images/{id}/software"
        );
        assert_eq!(classify("/csapi/v1.3/images/abc/vuln"), "images/{id}/vuln");
        assert_eq!(classify("/csapi/v1.2/images/list"), "images/list");
        assert_eq!(classify("/csapi/v1.3/images/abc/other"), "csapi/other");
        assert_eq!(classify("/csapi/v9/images"), "csapi/other");
        assert_eq!(classify("/_emulator/advance"), "control");
        assert_eq!(classify("/"), "other");
        assert_eq!(
            classify_docker("/v1.41/containers/json"),
            "docker/containers/json"
        );
        assert_eq!(
            classify_docker("/containers/abc/json"),
            "docker/containers/{id}/json"
        );
        assert_eq!(
            classify_docker("/v1.43/images/acme/app:1.0/tag"),
            "docker/images/tag"
        );
        assert_eq!(
            classify_docker("/images/acme/app:1.0/json"),
            "docker/images/{name}/json"
        );
        assert_eq!(
            classify_docker("/images/qualys_scan_target:abc"),
            "docker/images/{name}"
        );
        assert_eq!(classify_docker("/_ping"), "docker/_ping");
    }

    proptest::proptest! {
        #[test]
        fn any_path_gets_a_key(path in "/\\PC{0,80}") {
            let _ = classify(&path);
            let _ = classify_docker(&path);
        }
    }
}
